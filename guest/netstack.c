/* SPDX-License-Identifier: MIT */
/* The guest SDK's minimal IPv4/UDP/ARP/ICMP stack (see <pv/guest/netstack.h>). */
#include <pv/guest/netstack.h>
#include <pv/guest/sdk.h>

unsigned short pv_net_csum(const void *p, unsigned int len, unsigned int sum)
{
	const unsigned char *b = p;
	unsigned long long s = sum;

	for (; len >= 2; b += 2, len -= 2)
		s += (unsigned int)b[0] << 8 | b[1];
	if (len)
		s += (unsigned int)b[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (unsigned short)s;
}

static void put16(unsigned char *p, unsigned int v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, unsigned int v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static unsigned int get16(const unsigned char *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static unsigned int get32(const unsigned char *p)
{
	return get16(p) << 16 | get16(p + 2);
}

/* The UDP pseudo-header sum for these headers. */
static unsigned int pseudo(const unsigned char *ip, unsigned int udp_len)
{
	return pv_net_csum(ip + 12, 8, 17 + udp_len);
}

void pv_net_udp_header(void *frame, const unsigned char src_mac[6], const unsigned char dst_mac[6],
		       unsigned int src_ip, unsigned int dst_ip, unsigned short sport, unsigned short dport,
		       unsigned int payload_len, int csum_mode)
{
	unsigned char *f = frame, *ip = f + PV_ETH_HLEN, *udp = ip + 20;
	unsigned int ulen = 8 + payload_len, tot = 20 + ulen;

	memcpy(f, dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, tot > 0xffff ? 0xffff : tot);
	put16(ip + 4, 0);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 17;
	put16(ip + 10, 0);
	put32(ip + 12, src_ip);
	put32(ip + 16, dst_ip);
	put16(ip + 10, (unsigned short)~pv_net_csum(ip, 20, 0));
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, ulen > 0xffff ? 0xffff : ulen);
	put16(udp + 6, 0);
	if (csum_mode == PV_UDP_CSUM_PARTIAL) {
		put16(udp + 6, pseudo(ip, ulen));
	} else if (csum_mode == PV_UDP_CSUM_FULL) {
		unsigned short c = (unsigned short)~pv_net_csum(udp, ulen, pseudo(ip, ulen));

		put16(udp + 6, c ? c : 0xffff);
	}
}

int pv_net_udp_parse(const void *frame, unsigned int len, int csum_ok, struct pv_udp_info *out)
{
	const unsigned char *f = frame, *ip = f + PV_ETH_HLEN, *udp = ip + 20;
	unsigned int tot, ulen;

	if (len < PV_UDP_HLEN || get16(f + 12) != 0x0800 || ip[0] != 0x45 || ip[9] != 17)
		return -1;
	tot = get16(ip + 2);
	ulen = get16(udp + 4);
	if (tot < 28 || tot > len - PV_ETH_HLEN || ulen < 8 || ulen > tot - 20)
		return -1;
	if (pv_net_csum(ip, 20, 0) != 0xffff)
		return -1;
	if (!csum_ok && get16(udp + 6) && pv_net_csum(udp, ulen, pseudo(ip, ulen)) != 0xffff)
		return -1;
	memcpy(out->dst_mac, f, 6);
	memcpy(out->src_mac, f + 6, 6);
	out->src_ip = get32(ip + 12);
	out->dst_ip = get32(ip + 16);
	out->sport = (unsigned short)get16(udp);
	out->dport = (unsigned short)get16(udp + 2);
	out->payload = udp + 8;
	out->payload_len = ulen - 8;
	return 0;
}

void pv_net_udp_reverse(void *frame)
{
	unsigned char *f = frame, *ip = f + PV_ETH_HLEN, *udp = ip + 20, t[6];

	memcpy(t, f, 6);
	memcpy(f, f + 6, 6);
	memcpy(f + 6, t, 6);
	memcpy(t, ip + 12, 4);
	memcpy(ip + 12, ip + 16, 4);
	memcpy(ip + 16, t, 4);
	memcpy(t, udp, 2);
	memcpy(udp, udp + 2, 2);
	memcpy(udp + 2, t, 2);
}

/* Is the Ethernet destination of f mac or broadcast? */
static int for_us(const unsigned char *f, const unsigned char mac[6])
{
	static const unsigned char bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	return !memcmp(f, mac, 6) || !memcmp(f, bcast, 6);
}

static unsigned int arp_answer(const unsigned char *f, unsigned int len, const unsigned char mac[6], unsigned int ip,
			       unsigned char *o, unsigned int out_size)
{
	static const unsigned char req[8] = { 0, 1, 8, 0, 6, 4, 0, 1 }; /* Ethernet, IPv4, 6, 4, request */
	const unsigned char *a = f + PV_ETH_HLEN;

	if (len < PV_ARP_LEN || out_size < PV_ARP_LEN || memcmp(a, req, 8) || get32(a + 24) != ip)
		return 0;
	memcpy(o, f + 6, 6);
	memcpy(o + 6, mac, 6);
	put16(o + 12, 0x0806);
	memcpy(o + 14, req, 7);
	o[21] = 2; /* reply */
	memcpy(o + 22, mac, 6);
	put32(o + 28, ip);
	memcpy(o + 32, a + 8, 10); /* the requester's MAC and address */
	return PV_ARP_LEN;
}

static unsigned int icmp_answer(const unsigned char *f, unsigned int len, const unsigned char mac[6], unsigned int ip,
				unsigned char *o, unsigned int out_size)
{
	const unsigned char *ip4 = f + PV_ETH_HLEN, *icmp;
	unsigned char *oip = o + PV_ETH_HLEN, *oicmp = oip + 20;
	unsigned int ihl, tot, ilen;

	if (len < PV_ETH_HLEN + 20 || ip4[0] >> 4 != 4)
		return 0;
	ihl = (ip4[0] & 15u) * 4;
	tot = get16(ip4 + 2);
	if (ihl < 20 || tot > len - PV_ETH_HLEN || tot < ihl + 8)
		return 0;
	if ((get16(ip4 + 6) & 0x3fff) || ip4[9] != 1 || get32(ip4 + 16) != ip) /* MF or an offset: a fragment */
		return 0;
	if (pv_net_csum(ip4, ihl, 0) != 0xffff)
		return 0;
	icmp = ip4 + ihl;
	ilen = tot - ihl;
	if (icmp[0] != 8 || icmp[1] != 0 || pv_net_csum(icmp, ilen, 0) != 0xffff)
		return 0;
	if (ilen > out_size || out_size - ilen < PV_ETH_HLEN + 20)
		return 0;
	memcpy(o, f + 6, 6);
	memcpy(o + 6, mac, 6);
	put16(o + 12, 0x0800);
	oip[0] = 0x45;
	oip[1] = ip4[1];
	put16(oip + 2, 20 + ilen);
	memcpy(oip + 4, ip4 + 4, 2); /* the request's identification */
	put16(oip + 6, 0);
	oip[8] = 64;
	oip[9] = 1;
	put16(oip + 10, 0);
	put32(oip + 12, ip);
	memcpy(oip + 16, ip4 + 12, 4);
	put16(oip + 10, (unsigned short)~pv_net_csum(oip, 20, 0));
	memcpy(oicmp, icmp, ilen);
	oicmp[0] = 0; /* echo reply */
	put16(oicmp + 2, 0);
	put16(oicmp + 2, (unsigned short)~pv_net_csum(oicmp, ilen, 0));
	return PV_ETH_HLEN + 20 + ilen;
}

unsigned int pv_net_answer(const void *frame, unsigned int len, const unsigned char mac[6], unsigned int ip,
			   void *out, unsigned int out_size)
{
	const unsigned char *f = frame;

	if (len < PV_ETH_HLEN || !for_us(f, mac))
		return 0;
	switch (get16(f + 12)) {
	case 0x0806:
		return arp_answer(f, len, mac, ip, out, out_size);
	case 0x0800:
		return icmp_answer(f, len, mac, ip, out, out_size);
	}
	return 0;
}
