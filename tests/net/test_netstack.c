/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pv_net_answer, the guest SDK's ARP and ping answers, on the host: the SDK
 * file builds with the host's flags.  Crafted frames: a good ARP request
 * and ICMP echo requests (with data, with IP options, with Ethernet
 * padding) get their exact answers; bad checksums, bad or truncated IHL and
 * total lengths, fragments and frames for someone else get 0.  Each frame
 * ends where a guard page begins, so a read past its length faults.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <pv/guest/netstack.h>

#define IP_ME 0x0a000002u
#define IP_PEER 0x0a000001u

static const unsigned char me[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
static const unsigned char peer[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
static const unsigned char bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static unsigned char *guard_area;
static long page;

static void setup(void)
{
	page = sysconf(_SC_PAGESIZE);
	guard_area = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(guard_area, MAP_FAILED);
	cr_assert_eq(mprotect(guard_area + page, (size_t)page, PROT_NONE), 0);
}

static void teardown(void)
{
	munmap(guard_area, (size_t)page * 2);
}

/* A copy of the len bytes at f that ends at the guard page. */
static const unsigned char *guarded(const unsigned char *f, unsigned int len)
{
	unsigned char *p = guard_area + page - len;

	memcpy(p, f, len);
	return p;
}

static unsigned int answer(const unsigned char *f, unsigned int len, unsigned char *out, unsigned int out_size)
{
	return pv_net_answer(guarded(f, len), len, me, IP_ME, out, out_size);
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

/* The Internet checksum of len bytes, written independently of the SDK's. */
static unsigned int sum16(const unsigned char *p, unsigned int len)
{
	uint32_t s = 0;

	for (unsigned int i = 0; i < len; i++)
		s += i & 1 ? p[i] : (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

static void eth(unsigned char *f, const unsigned char *dst, unsigned int type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, peer, 6);
	put16(f + 12, type);
}

static unsigned int arp_request(unsigned char *f, unsigned int target)
{
	static const unsigned char head[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };

	memset(f, 0, 42);
	eth(f, bcast, 0x0806);
	memcpy(f + 14, head, 8);
	memcpy(f + 22, peer, 6);
	put32(f + 28, IP_PEER);
	put32(f + 38, target);
	return 42;
}

/* An echo request to IP_ME with opt_len bytes of IP options and plen bytes
 * of data: the frame's length. */
static unsigned int echo_request(unsigned char *f, unsigned int opt_len, unsigned int plen)
{
	unsigned int ihl = 20 + opt_len, tot = ihl + 8 + plen;
	unsigned char *ip = f + 14, *icmp = ip + ihl;

	memset(f, 0, 14 + tot);
	eth(f, me, 0x0800);
	ip[0] = (unsigned char)(0x40 | ihl / 4);
	put16(ip + 2, tot);
	put16(ip + 4, 0x1234);
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 1;
	put32(ip + 12, IP_PEER);
	put32(ip + 16, IP_ME);
	for (unsigned int i = 0; i < opt_len; i++)
		ip[20 + i] = 1; /* NOP */
	put16(ip + 10, ~sum16(ip, ihl) & 0xffff);
	icmp[0] = 8;
	put16(icmp + 4, 0xbeef);
	put16(icmp + 6, 7);
	for (unsigned int i = 0; i < plen; i++)
		icmp[8 + i] = (unsigned char)(i * 29 + 3);
	put16(icmp + 2, ~sum16(icmp, 8 + plen) & 0xffff);
	return 14 + tot;
}

/* Recompute both checksums of an echo request after an edit. */
static void fix_sums(unsigned char *f)
{
	unsigned char *ip = f + 14;
	unsigned int ihl = (ip[0] & 15u) * 4, tot = get16(ip + 2);

	put16(ip + 10, 0);
	put16(ip + 10, ~sum16(ip, ihl) & 0xffff);
	put16(ip + ihl + 2, 0);
	put16(ip + ihl + 2, ~sum16(ip + ihl, tot - ihl) & 0xffff);
}

/* out must be the echo reply to the request req (plen bytes of data). */
static void check_reply(const unsigned char *req, const unsigned char *out, unsigned int n, unsigned int plen)
{
	const unsigned char *rip = req + 14, *ricmp = rip + (rip[0] & 15u) * 4, *ip = out + 14, *icmp = ip + 20;

	cr_assert_eq(n, 14 + 20 + 8 + plen);
	cr_assert_eq(memcmp(out, peer, 6), 0, "to the sender's MAC");
	cr_assert_eq(memcmp(out + 6, me, 6), 0, "from ours");
	cr_assert_eq(get16(out + 12), 0x0800);
	cr_assert_eq(ip[0], 0x45, "a 20-byte header: %#x", ip[0]);
	cr_assert_eq(get16(ip + 2), 20 + 8 + plen);
	cr_assert_eq(get16(ip + 6) & 0x3fff, 0, "not a fragment");
	cr_assert_gt(ip[8], 0, "a TTL");
	cr_assert_eq(ip[9], 1);
	cr_assert_eq(sum16(ip, 20), 0xffff, "IPv4 header checksum");
	cr_assert_eq(memcmp(ip + 12, rip + 16, 4), 0, "from the address pinged");
	cr_assert_eq(memcmp(ip + 16, rip + 12, 4), 0, "to the sender");
	cr_assert_eq(icmp[0], 0, "an echo reply");
	cr_assert_eq(icmp[1], 0);
	cr_assert_eq(sum16(icmp, 8 + plen), 0xffff, "ICMP checksum");
	cr_assert_eq(memcmp(icmp + 4, ricmp + 4, 4 + plen), 0, "same id, sequence and data");
}

TestSuite(netstack, .init = setup, .fini = teardown);

Test(netstack, arp_request_for_us_gets_reply)
{
	unsigned char f[64], out[64];
	unsigned int n = answer(f, arp_request(f, IP_ME), out, sizeof(out));

	cr_assert_eq(n, PV_ARP_LEN);
	cr_assert_eq(memcmp(out, peer, 6), 0);
	cr_assert_eq(memcmp(out + 6, me, 6), 0);
	cr_assert_eq(get16(out + 12), 0x0806);
	cr_assert_eq(memcmp(out + 14, f + 14, 6), 0, "htype, ptype, hlen, plen");
	cr_assert_eq(get16(out + 20), 2, "a reply");
	cr_assert_eq(memcmp(out + 22, me, 6), 0, "sender hardware address: ours");
	cr_assert_eq(memcmp(out + 28, f + 38, 4), 0, "sender address: the one asked for");
	cr_assert_eq(memcmp(out + 32, peer, 6), 0, "target: the requester");
	cr_assert_eq(memcmp(out + 38, f + 28, 4), 0);
}

Test(netstack, arp_not_ours_or_malformed_gets_nothing)
{
	unsigned char f[64], out[64];

	memset(out, 0x5a, sizeof(out));
	cr_assert_eq(answer(f, arp_request(f, IP_PEER), out, sizeof(out)), 0, "for another address");
	cr_assert_eq(answer(f, arp_request(f, IP_ME) - 1, out, sizeof(out)), 0, "one byte short");
	cr_assert_eq(answer(f, arp_request(f, IP_ME), out, PV_ARP_LEN - 1), 0, "no room for the answer");
	arp_request(f, IP_ME);
	f[21] = 2;
	cr_assert_eq(answer(f, 42, out, sizeof(out)), 0, "a reply is not answered");
	arp_request(f, IP_ME);
	f[18] = 8; /* hlen 8 */
	cr_assert_eq(answer(f, 42, out, sizeof(out)), 0, "not Ethernet/IPv4");
	arp_request(f, IP_ME);
	memcpy(f, peer, 6);
	cr_assert_eq(answer(f, 42, out, sizeof(out)), 0, "to another MAC");
	for (unsigned int i = 0; i < sizeof(out); i++)
		cr_assert_eq(out[i], 0x5a, "out written without an answer");
}

Test(netstack, echo_request_gets_reply_with_same_data)
{
	static unsigned char f[2048], out[2048];
	unsigned int plens[] = { 0, 1, 56, 57, 1472 }, len;

	for (unsigned int i = 0; i < sizeof(plens) / sizeof(plens[0]); i++) {
		unsigned int n;

		len = echo_request(f, 0, plens[i]);
		n = answer(f, len, out, sizeof(out));

		check_reply(f, out, n, plens[i]);
		cr_assert_eq(answer(f, len, out, n), n, "exactly room enough");
		cr_assert_eq(answer(f, len, out, n - 1), 0, "one byte short of room");
	}
	/* a broadcast Ethernet destination is answered too */
	len = echo_request(f, 0, 56);
	memcpy(f, bcast, 6);
	check_reply(f, out, answer(f, len, out, sizeof(out)), 56);
}

Test(netstack, echo_request_with_options_and_padding)
{
	unsigned char f[256], out[256];
	unsigned int len = echo_request(f, 8, 10);

	check_reply(f, out, answer(f, len, out, sizeof(out)), 10);
	len = echo_request(f, 0, 4); /* 46 bytes: an Ethernet minimum frame pads it to 60 */
	memset(f + len, 0xee, 60 - len);
	check_reply(f, out, answer(f, 60, out, sizeof(out)), 4);
}

Test(netstack, bad_checksums_get_nothing)
{
	unsigned char f[256], out[256];
	unsigned int len;

	len = echo_request(f, 0, 56);
	f[14 + 10] ^= 1;
	cr_assert_eq(answer(f, len, out, sizeof(out)), 0, "bad IPv4 header checksum");
	len = echo_request(f, 0, 56);
	f[14 + 20 + 2] ^= 0x80;
	cr_assert_eq(answer(f, len, out, sizeof(out)), 0, "bad ICMP checksum");
	len = echo_request(f, 0, 56);
	f[len - 1] ^= 0x40;
	cr_assert_eq(answer(f, len, out, sizeof(out)), 0, "data changed after the checksum");
}

Test(netstack, bad_lengths_get_nothing)
{
	unsigned char f[256], out[256];
	unsigned int len, good = echo_request(f, 0, 56);

	/* Every truncation of a good request (the frame ends at the guard page). */
	for (unsigned int l = 0; l < good; l++)
		cr_assert_eq(answer(f, l, out, sizeof(out)), 0, "truncated to %u bytes", l);
	len = echo_request(f, 0, 56);
	f[14] = 0x44; /* IHL 4 */
	fix_sums(f);
	cr_assert_eq(answer(f, len, out, sizeof(out)), 0, "IHL below 5");
	len = echo_request(f, 0, 8);
	f[14] = 0x4f; /* IHL 15: 60 bytes, more than the 36 of the total length */
	put16(f + 14 + 10, 0);
	cr_assert_eq(answer(f, len, out, sizeof(out)), 0, "IHL past the total length");
	cr_assert_eq(answer(f, 14 + 20, out, sizeof(out)), 0, "IHL past the frame");
	len = echo_request(f, 0, 56);
	put16(f + 16, get16(f + 16) + 1);
	fix_sums(f);
	cr_assert_eq(answer(f, len, out, sizeof(out)), 0, "total length past the frame");
	len = echo_request(f, 0, 0);
	put16(f + 16, 27);
	put16(f + 14 + 10, 0);
	put16(f + 14 + 10, ~sum16(f + 14, 20) & 0xffff);
	cr_assert_eq(answer(f, len, out, sizeof(out)), 0, "total length without a whole ICMP echo header");
	len = echo_request(f, 0, 56);
	f[14] = 0x65; /* version 6 */
	fix_sums(f);
	cr_assert_eq(answer(f, len, out, sizeof(out)), 0, "not IPv4");
}

Test(netstack, other_icmp_and_other_hosts_get_nothing)
{
	unsigned char f[256], out[256];
	unsigned int len;

	len = echo_request(f, 0, 16);
	f[14 + 20] = 0; /* an echo reply */
	fix_sums(f);
	cr_assert_eq(answer(f, len, out, sizeof(out)), 0, "echo reply");
	len = echo_request(f, 0, 16);
	f[14 + 20 + 1] = 1;
	fix_sums(f);
	cr_assert_eq(answer(f, len, out, sizeof(out)), 0, "code 1");
	len = echo_request(f, 0, 16);
	put32(f + 14 + 16, 0x0a000003u);
	fix_sums(f);
	cr_assert_eq(answer(f, len, out, sizeof(out)), 0, "to another address");
	len = echo_request(f, 0, 16);
	put16(f + 14 + 6, 0x2000); /* more fragments */
	fix_sums(f);
	cr_assert_eq(answer(f, len, out, sizeof(out)), 0, "first fragment");
	len = echo_request(f, 0, 16);
	put16(f + 14 + 6, 0x0010);
	fix_sums(f);
	cr_assert_eq(answer(f, len, out, sizeof(out)), 0, "later fragment");
	len = echo_request(f, 0, 16);
	f[14 + 9] = 17;
	fix_sums(f);
	cr_assert_eq(answer(f, len, out, sizeof(out)), 0, "UDP");
	len = echo_request(f, 0, 16);
	memcpy(f, peer, 6);
	cr_assert_eq(answer(f, len, out, sizeof(out)), 0, "to another MAC");
	len = echo_request(f, 0, 16);
	put16(f + 12, 0x86dd);
	cr_assert_eq(answer(f, len, out, sizeof(out)), 0, "another ethertype");
}
