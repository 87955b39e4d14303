/* SPDX-License-Identifier: MIT */
/* The guest SDK's minimal IPv4/UDP stack (see <pv/guest/netstack.h>). */
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
