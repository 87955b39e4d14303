/* SPDX-License-Identifier: MIT */
/*
 * Guest SDK: a minimal network stack for examples and tests: IPv4/UDP
 * frames over Ethernet with no ARP (peers' MAC addresses are given), and
 * the Internet checksum.  Addresses and ports are host-order numbers.
 */
#ifndef PV_NETSTACK_H
#define PV_NETSTACK_H

#define PV_ETH_HLEN 14u
#define PV_UDP_HLEN 42u  /* Ethernet + IPv4 (no options) + UDP */

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

#endif
