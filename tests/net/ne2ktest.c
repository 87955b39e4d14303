/* SPDX-License-Identifier: MIT */
/*
 * ne2ktest: the nettest protocol (tests/net/nettest.c) through the emulated
 * NE2000, so every pair of doors can talk: "send COUNT SEED" says HELLO
 * until READY, then sends COUNT datagrams of random sizes up to 1472 bytes
 * (full UDP checksums); "recv COUNT SEED" answers HELLO and checks COUNT
 * datagrams (sequence, length, content, UDP checksum); "echo" answers UDP
 * to port 7 (on a TAP) until "quit", and ARP and ping for 10.0.0.2
 * (pv_net_answer) meanwhile: "echo ok n=N ping=P".
 */
#include <pv/guest/ne2k.h>
#include <pv/guest/netstack.h>
#include <pv/guest/sdk.h>

static struct pv_ne2k_nic nic;
static unsigned char rx[1536], tx[1536];
static unsigned int seed;
static unsigned long long rng;
static const unsigned char bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static int answering; /* echo: answer ARP and ping for 10.0.0.2 */
static unsigned int pings;

static unsigned int rnd(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned int)(rng >> 33);
}

static unsigned char pat(unsigned int seq, unsigned int i)
{
	return (unsigned char)(seq * 31u + i * 7u + seed + (i >> 8));
}

static int fail(const char *what, long v)
{
	pv_printf("ne2ktest: FAIL %s (%ld)\n", what, v);
	return 1;
}

static long ctl(const unsigned char *dst, unsigned short dport)
{
	pv_net_udp_header(tx, nic.mac, dst, 0x0a000001u, 0x0a000002u, 1000, dport, 4, PV_UDP_CSUM_NONE);
	memcpy(tx + PV_UDP_HLEN, "ctl!", 4);
	return pv_ne2k_nic_send(&nic, tx, PV_UDP_HLEN + 4);
}

/* The next UDP datagram, waiting up to `ms` milliseconds of guest time
 * (answering ARP and ping on the way when `answering`).  A time, not a
 * count of polls: a poll's cost varies a hundredfold between KVM and a
 * loaded emulator, and the peer VM may start seconds later. */
static long next_udp(struct pv_udp_info *u, unsigned long long ms)
{
	unsigned long long t0 = pv_rdtsc(), budget = pv_tsc_ticks(ms * 1000000ull);

	while (pv_rdtsc() - t0 < budget) {
		long n = pv_ne2k_nic_recv(&nic, rx, sizeof(rx));
		unsigned int alen;

		if (n < 0)
			return n;
		if (n > 0 && answering && (alen = pv_net_answer(rx, (unsigned int)n, nic.mac, 0x0a000002u, tx, sizeof(tx)))) {
			if (pv_ne2k_nic_send(&nic, tx, alen))
				return -1;
			pings += alen > PV_ARP_LEN;
			continue;
		}
		if (n > 0 && !pv_net_udp_parse(rx, (unsigned int)n, 0, u))
			return n;
		if (n == 0)
			pv_yield();
	}
	return 0;
}

static int do_recv(unsigned int count)
{
	unsigned int frames = 0, next = 0;
	unsigned long long bytes = 0;
	unsigned char peer[6];
	int have_peer = 0;

	while (frames < count) {
		struct pv_udp_info u;
		long n = next_udp(&u, 60000);
		unsigned int seq, plen;

		if (n <= 0)
			return fail("receive", n);
		if (u.dport == 1) {
			memcpy(peer, u.src_mac, 6);
			have_peer = 1;
			if (ctl(u.src_mac, 3))
				return fail("READY", 0);
			continue;
		}
		if (u.dport == 4)
			break; /* END: the sender is done */
		if (u.dport != 2 || u.payload_len < 8)
			continue;
		seq = *(const unsigned int *)u.payload;
		plen = *(const unsigned int *)(u.payload + 4);
		if (seq < next || seq >= count)
			return fail("sequence", (long)seq - (long)next);
		next = seq + 1; /* an NE2000 drops what its ring cannot hold */
		if (plen != u.payload_len)
			return fail("payload length", plen);
		for (unsigned int i = 8; i < plen; i++)
			if (u.payload[i] != pat(seq, i))
				return fail("content at byte", i);
		frames++;
		bytes += (unsigned long long)n;
		if (next == count)
			break;
	}
	/* DONE: the sender repeats END until it hears this */
	for (int i = 0; have_peer && i < 3; i++)
		if (ctl(peer, 5))
			return fail("DONE", i);
	pv_printf("recv ok frames=%u bytes=%llu gso=0 lost=%u\n", frames, bytes, count - frames);
	return 0;
}

static int do_send(unsigned int count)
{
	unsigned char peer[6];
	struct pv_udp_info u;

	for (int tries = 0;; tries++) {
		if (tries > 3000) /* a minute */
			return fail("no READY", tries);
		if (ctl(bcast, 1))
			return fail("HELLO", tries);
		if (next_udp(&u, 20) > 0 && u.dport == 3) {
			memcpy(peer, u.src_mac, 6);
			break;
		}
	}
	for (unsigned int seq = 0; seq < count; seq++) {
		unsigned int plen = 8 + rnd() % (1472 - 8 + 1);
		unsigned char *p = tx + PV_UDP_HLEN;

		*(unsigned int *)p = seq;
		*(unsigned int *)(p + 4) = plen;
		for (unsigned int i = 8; i < plen; i++)
			p[i] = pat(seq, i);
		pv_net_udp_header(tx, nic.mac, peer, 0x0a000001u, 0x0a000002u, 1000, 2, plen, PV_UDP_CSUM_FULL);
		if (pv_ne2k_nic_send(&nic, tx, PV_UDP_HLEN + plen))
			return fail("send", seq);
		/* no flow control on an NE2000: let the receiver keep up */
		for (int i = 0; i < 20; i++)
			pv_yield();
	}
	/* END, until the receiver says DONE: a receiver whose ring was full
	 * drops ENDs as well.  (A receiver that has all the frames says DONE
	 * unasked, and may be gone.) */
	for (int tries = 0; tries < 2000; tries++) { /* ~20 s */
		if (ctl(peer, 4))
			return fail("END", tries);
		if (next_udp(&u, 10) > 0 && u.dport == 5)
			break;
	}
	pv_printf("send ok frames=%u\n", count);
	return 0;
}

/* Answer UDP datagrams to port 7 with the same data until "quit" (and ARP
 * and ping meanwhile). */
static int do_echo(void)
{
	answering = 1;
	for (unsigned int n = 0;; n++) {
		struct pv_udp_info u;
		long len = next_udp(&u, 120000);

		if (len <= 0)
			return fail("echo: nothing came, after", n);
		if (u.dport != 7)
			continue;
		memcpy(tx, rx, (unsigned long)len);
		pv_net_udp_reverse(tx);
		if (pv_ne2k_nic_send(&nic, tx, (unsigned int)len))
			return fail("echo send", n);
		if (u.payload_len >= 4 && !memcmp(u.payload, "quit", 4)) {
			pv_printf("echo ok n=%u ping=%u\n", n + 1, pings);
			return 0;
		}
	}
}

int pv_main(const struct pv_boot_info *bi)
{
	const char *s = pv_cmdline(), *e;
	unsigned int count;
	int send = !strncmp(s, "send", 4);

	(void)bi;
	s += 4;
	while (*s == ' ')
		s++;
	count = (unsigned int)pv_strtoull(s, &e);
	while (*e == ' ')
		e++;
	seed = (unsigned int)pv_strtoull(e, &e);
	rng = seed;
	if (pv_ne2k_nic_init(&nic, 0))
		return fail("no NE2000", 0);
	if (!strncmp(pv_cmdline(), "echo", 4))
		return do_echo();
	return send ? do_send(count) : do_recv(count);
}
