/* SPDX-License-Identifier: MIT */
/*
 * Guest SDK: a minimal network stack for examples and tests: IPv4/UDP
 * frames over Ethernet (peers' MAC addresses are given: the stack sends no
 * ARP request), the answers a host expects of a neighbour (ARP replies and
 * ICMP echo replies, for ping), and the Internet checksum.  Addresses and
 * ports are host-order numbers.
 */
#ifndef PV_NETSTACK_H
#define PV_NETSTACK_H

#define PV_ETH_HLEN 14u
#define PV_UDP_HLEN 42u  /* Ethernet + IPv4 (no options) + UDP */
#define PV_ARP_LEN 42u   /* Ethernet + ARP for IPv4 over Ethernet */

#define PV_UDP_CSUM_NONE    0 /* checksum field 0 (allowed for IPv4) */
#define PV_UDP_CSUM_FULL    1 /* computed over the payload already in place */
#define PV_UDP_CSUM_PARTIAL 2 /* pseudo-header sum only: for PVNET_HDR_F_NEEDS_CSUM
			       * with csum_start 34, csum_offset 6 */

struct pv_udp_info {
	unsigned char src_mac[6], dst_mac[6];
	unsigned int src_ip, dst_ip;
	unsigned short sport, dport;
	const unsigned char *payload;
	unsigned int payload_len;
};

/* Ones'-complement sum of len bytes at p added to sum, folded (not
 * complemented). */
unsigned short pv_net_csum(const void *p, unsigned int len, unsigned int sum);

/* Write the PV_UDP_HLEN bytes of headers of a UDP datagram with
 * payload_len bytes (at frame + PV_UDP_HLEN) into frame. */
void pv_net_udp_header(void *frame, const unsigned char src_mac[6], const unsigned char dst_mac[6],
		       unsigned int src_ip, unsigned int dst_ip, unsigned short sport, unsigned short dport,
		       unsigned int payload_len, int csum_mode);

/* Parse a frame of len bytes as IPv4/UDP: 0 and *out, or -1 (not UDP,
 * truncated, a bad IP header checksum, or a bad UDP checksum unless
 * csum_ok says the device verified it). */
int pv_net_udp_parse(const void *frame, unsigned int len, int csum_ok, struct pv_udp_info *out);

/* Turn a parsed datagram around in place (swap MACs, addresses, ports);
 * the checksums stay valid. */
void pv_net_udp_reverse(void *frame);

/*
 * Answer a frame a host sends to a neighbour: the frame (len bytes, as
 * received: untrusted) is read only within len; its Ethernet destination
 * must be mac or broadcast.  When it is
 *  - an ARP request (Ethernet/IPv4) whose target address is ip: an ARP
 *    reply saying ip is at mac, PV_ARP_LEN bytes, to the requester;
 *  - an ICMP echo request to ip (IPv4 of version 4, IHL at least 5 and
 *    within the total length, total length within the frame, not a
 *    fragment, a good header checksum, ICMP type 8 code 0 with a good
 *    checksum): an echo reply from ip with the same identifier, sequence
 *    number and data, a 20-byte IPv4 header (the request's options are not
 *    copied), both checksums computed, to the sender's MAC and address;
 * the answer is written to out (out_size bytes, not overlapping frame) and
 * its length returned.  Anything else, including a malformed frame or an
 * answer longer than out_size, gets 0 and out is left as it was (bytes
 * past len in the frame, such as Ethernet padding, are ignored).
 */
unsigned int pv_net_answer(const void *frame, unsigned int len, const unsigned char mac[6], unsigned int ip,
			   void *out, unsigned int out_size);

#endif
