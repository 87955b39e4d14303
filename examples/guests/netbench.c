/* SPDX-License-Identifier: MIT */
/*
 * netbench: UDP bulk between two VMs through the monitor's switch, for
 * pvbench --device net.  Command line "ROLE COUNT PEER WORKLOAD", ROLE send
 * or recv, PEER the other VM's domain id, WORKLOAD udp (1472-byte payloads,
 * 1514-byte frames) or gso (64000-byte UDP GSO frames, gso_size 1472).
 * The sender says HELLO until the receiver answers, then sends COUNT
 * datagrams with sequence numbers and END.  The receiver writes 1 to the
 * marker port (0x6f0) at the first datagram and 0 at END, checks the
 * sequence and the first and last payload bytes of each datagram, and
 * prints "frames=N bytes=B lost=L bad=X".  "echo" (on a TAP) answers ARP and
 * ping for 10.0.0.2 and UDP to port 7 until "quit", for the round-trip row.
 */
#include <pv/guest/gnttab.h>
#include <pv/guest/ne2k.h>
#include <pv/guest/netfront.h>
#include <pv/guest/netstack.h>
#include <pv/guest/sdk.h>

#define MARKER 0x6f0
#define ENTRIES 256u
#define NBUF 48u
#define BUF 65552u
#define GSO_PAYLOAD 64000u
#define FEATURES (PVNET_F_CSUM | PVNET_F_GUEST_CSUM | PVNET_F_HOST_USO | PVNET_F_GUEST_USO)

static unsigned char pool[(2 * NBUF * BUF + 4095) / 4096 * 4096] __attribute__((aligned(4096)));
static unsigned char txr[128 * 1024] __attribute__((aligned(4096)));
static unsigned char rxr[128 * 1024] __attribute__((aligned(4096)));
static struct pvnet_front f;
static unsigned char peer[6] = { 0x52, 0x54, 0, 0, 0, 0 };

/* Buffers: NBUF of 64 KiB for GSO, nbuf of 2 KiB for MTU-sized frames. */
static unsigned int nbuf = NBUF, bufsz = BUF;

static unsigned char *rxbuf(unsigned int i) { return pool + (unsigned long)i * bufsz; }
static unsigned char *txbuf(unsigned int i) { return pool + (unsigned long)(nbuf + i) * bufsz; }

static void marker(unsigned int v)
{
	__asm__ __volatile__("outl %0, %1" : : "a"(v), "d"((unsigned short)MARKER) : "memory");
}

static unsigned char pat(unsigned int i)
{
	return (unsigned char)(i * 7u + 3u);
}

/* Does s end with word? */
static int strstr_end(const char *s, const char *word)
{
	unsigned long a = strlen(s), b = strlen(word);

	return a >= b && !strcmp(s + a - b, word);
}

static const char *skip(const char *s)
{
	while (*s == ' ')
		s++;
	return s;
}

static unsigned int ctl(unsigned int b, const unsigned char *dst, unsigned short dport)
{
	pv_net_udp_header(txbuf(b), f.cfg.mac, dst, 0x0a000001u, 0x0a000002u, 9, dport, 4, PV_UDP_CSUM_NONE);
	return PV_UDP_HLEN + 4;
}

static unsigned char busy[NBUF * 8];

/* Reap tx responses (in any order: a frame may wait for its receiver);
 * counts drops. */
static unsigned int reap(unsigned int *dropped)
{
	struct pvnet_tx_rsp rsp;
	unsigned int n = 0;

	while (pvnet_front_tx_done(&f, &rsp)) {
		if (rsp.status != PVNET_S_OK)
			(*dropped)++;
		if (rsp.id < sizeof(busy))
			busy[rsp.id] = 0;
		n++;
	}
	return n;
}

static void post_all(void)
{
	for (unsigned int i = 0; i < nbuf; i++)
		pvnet_front_post(&f, rxbuf(i), bufsz > PVNET_FRAME_MAX ? PVNET_FRAME_MAX : bufsz, i);
	pvnet_front_kick(&f);
}

static int do_send(unsigned int count, int gso)
{
	static const unsigned char bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	unsigned int plen = gso ? GSO_PAYLOAD : f.cfg.mtu - 28u, len = PV_UDP_HLEN + plen, dropped = 0, sent = 0;
	struct pvnet_hdr h = { PVNET_HDR_F_NEEDS_CSUM, PVNET_GSO_UDP_L4, PV_UDP_HLEN, 1472, 34, 6, 0 };
	struct pvnet_rx_rsp rr;
	unsigned int b = 1, inflight;

	post_all();
	for (int tries = 0;; tries++) { /* HELLO until the receiver answers */
		if (tries > 2000) {
			pv_printf("netbench: no answer\n");
			return 1;
		}
		pvnet_front_send(&f, 0, txbuf(0), ctl(0, bcast, 1), 0);
		pvnet_front_kick(&f);
		pvnet_front_wait(&f, 5000000ull);
		reap(&dropped);
		if (pvnet_front_rx(&f, &rr))
			break;
	}
	while (f.tx_inflight)
		if (!reap(&dropped))
			pvnet_front_wait(&f, 0);
	dropped = 0;
	/* The payload is written once per buffer; each datagram gets its
	 * sequence number. */
	for (unsigned int i = 1; i < nbuf; i++) {
		unsigned char *p = txbuf(i);

		for (unsigned int k = 8; k < plen; k++)
			p[PV_UDP_HLEN + k] = pat(k);
		pv_net_udp_header(p, f.cfg.mac, peer, 0x0a000001u, 0x0a000002u, 9, 2, plen,
				  gso ? PV_UDP_CSUM_PARTIAL : PV_UDP_CSUM_NONE);
	}
	while (sent < count) {
		unsigned int batch = 0;

		while (sent < count && f.tx_inflight < nbuf - 1 && batch < 32) {
			unsigned char *p;

			while (busy[b])
				b = b + 1 == nbuf ? 1 : b + 1;
			p = txbuf(b);

			*(unsigned int *)(p + PV_UDP_HLEN) = sent;
			*(unsigned int *)(p + PV_UDP_HLEN + 4) = plen;
			if (pvnet_front_send(&f, gso ? &h : 0, p, len, b))
				break;
			busy[b] = 1;
			sent++;
			batch++;
			b = b + 1 == nbuf ? 1 : b + 1;
		}
		pvnet_front_kick(&f);
		inflight = f.tx_inflight;
		reap(&dropped);
		if (f.tx_inflight >= nbuf - 1 && f.tx_inflight == inflight)
			pvnet_front_wait(&f, 0);
	}
	while (f.tx_inflight)
		if (!reap(&dropped))
			pvnet_front_wait(&f, 0);
	for (int i = 0; i < 20; i++) { /* END, a few times: it may be dropped too */
		pvnet_front_send(&f, 0, txbuf(0), ctl(0, peer, 4), 0);
		pvnet_front_kick(&f);
		while (f.tx_inflight)
			if (!reap(&dropped))
				pvnet_front_wait(&f, 0);
		pvnet_front_wait(&f, 1000000ull);
	}
	pv_printf("sent=%u dropped=%u\n", sent, dropped);
	return 0;
}

/* "echo": on a TAP, answer ARP and ping for 10.0.0.2 (pv_net_answer) and
 * UDP to port 7 with the same data, until a datagram that starts with
 * "quit". */
static int do_echo(void)
{
	unsigned int n = 0, dropped = 0, alen;

	post_all();
	for (;;) {
		struct pvnet_rx_rsp rsp;
		struct pv_udp_info u;
		unsigned char *p, *t = txbuf(0);
		struct pvnet_hdr h;

		if (!pvnet_front_rx(&f, &rsp)) {
			if (pvnet_front_wait(&f, 0) == PV_ETIMEDOUT) {
				pv_printf("netbench: echo timed out\n");
				return 1;
			}
			continue;
		}
		p = rxbuf((unsigned int)rsp.id);
		if (rsp.status == PVNET_S_OK && (alen = pv_net_answer(p, rsp.len, f.cfg.mac, 0x0a000002u, t, bufsz)) != 0) {
			pvnet_front_send(&f, 0, t, alen, 0); /* ARP or ping for 10.0.0.2: we are */
			pvnet_front_kick(&f);
		} else if (rsp.status == PVNET_S_OK &&
			   !pv_net_udp_parse(p, rsp.len, rsp.hdr.flags & (PVNET_HDR_F_NEEDS_CSUM | PVNET_HDR_F_DATA_VALID), &u) &&
			   u.dport == 7) {
			int quit = u.payload_len >= 4 && !memcmp(u.payload, "quit", 4);

			h = rsp.hdr;
			h.flags &= PVNET_HDR_F_NEEDS_CSUM;
			h.num_buffers = 0;
			memcpy(t, p, rsp.len);
			pv_net_udp_reverse(t);
			pvnet_front_send(&f, &h, t, rsp.len, 0);
			pvnet_front_kick(&f);
			n++;
			if (quit)
				break;
		}
		pvnet_front_post(&f, p, bufsz > PVNET_FRAME_MAX ? PVNET_FRAME_MAX : bufsz, rsp.id);
		pvnet_front_kick(&f);
		while (f.tx_inflight)
			if (!reap(&dropped))
				pvnet_front_wait(&f, 0);
	}
	while (f.tx_inflight)
		if (!reap(&dropped))
			pvnet_front_wait(&f, 0);
	pv_printf("echoed=%u\n", n);
	return 0;
}

static int do_recv(unsigned int count)
{
	unsigned long long bytes = 0;
	unsigned int frames = 0, lost = 0, bad = 0, next = 0, dropped = 0, unposted = 0;
	int started = 0;

	(void)count;
	post_all();
	for (;;) {
		struct pvnet_rx_rsp rsp;
		struct pv_udp_info u;
		unsigned char *p;

		if (!pvnet_front_rx(&f, &rsp)) {
			if (unposted) {
				pvnet_front_kick(&f);
				unposted = 0;
			}
			if (pvnet_front_wait(&f, 0) == PV_ETIMEDOUT) {
				pv_printf("netbench: receive timed out\n");
				return 1;
			}
			continue;
		}
		p = rxbuf((unsigned int)rsp.id);
		if (rsp.status == PVNET_S_OK &&
		    !pv_net_udp_parse(p, rsp.len, 1, &u)) { /* checksums: the device's business */
			if (u.dport == 1 && !started) {
				pvnet_front_send(&f, 0, txbuf(0), ctl(0, u.src_mac, 3), 0);
			} else if (u.dport == 4 && started) {
				marker(0);
				pvnet_front_post(&f, p, bufsz > PVNET_FRAME_MAX ? PVNET_FRAME_MAX : bufsz, rsp.id);
				break;
			} else if (u.dport == 2) {
				unsigned int seq = *(const unsigned int *)u.payload;

				if (!started) {
					marker(1);
					started = 1;
				}
				if (seq > next)
					lost += seq - next;
				next = seq + 1;
				if (u.payload[8] != pat(8) || u.payload[u.payload_len - 1] != pat(u.payload_len - 1))
					bad++;
				frames++;
				bytes += rsp.len;
			}
		}
		reap(&dropped);
		pvnet_front_post(&f, p, bufsz > PVNET_FRAME_MAX ? PVNET_FRAME_MAX : bufsz, rsp.id);
		if (++unposted >= 16) {
			pvnet_front_kick(&f);
			unposted = 0;
		}
	}
	pv_printf("frames=%u bytes=%llu lost=%u bad=%u\n", frames, bytes, lost, bad);
	return 0;
}

/* ---- the NE2000 door ---- */

#define NE_WINDOW 8u
#define NE_ACK 4u

static struct pv_ne2k_nic nic;
static unsigned char nbuf_rx[1536], nbuf_tx[1536];

static long ne_ctl(const unsigned char *dst, unsigned short dport)
{
	pv_net_udp_header(nbuf_tx, nic.mac, dst, 0x0a000001u, 0x0a000002u, 9, dport, 4, PV_UDP_CSUM_NONE);
	return pv_ne2k_nic_send(&nic, nbuf_tx, PV_UDP_HLEN + 4);
}

static long ne_next(struct pv_udp_info *u, long spins)
{
	for (long i = 0; i < spins; i++) {
		long n = pv_ne2k_nic_recv(&nic, nbuf_rx, sizeof(nbuf_rx));

		if (n > 0 && !pv_net_udp_parse(nbuf_rx, (unsigned int)n, 1, u))
			return n;
		if (n < 0)
			return n;
	}
	return 0;
}

static int ne_send(unsigned int count)
{
	static const unsigned char bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	unsigned int plen = 1472;
	struct pv_udp_info u;

	for (int tries = 0;; tries++) {
		if (tries > 20000) {
			pv_printf("netbench: no answer\n");
			return 1;
		}
		ne_ctl(bcast, 1);
		if (ne_next(&u, 200) > 0 && u.dport == 3) {
			memcpy(peer, u.src_mac, 6);
			break;
		}
	}
	for (unsigned int k = 8; k < plen; k++)
		nbuf_tx[PV_UDP_HLEN + k] = pat(k);
	pv_net_udp_header(nbuf_tx, nic.mac, peer, 0x0a000001u, 0x0a000002u, 9, 2, plen, PV_UDP_CSUM_NONE);
	for (unsigned int seq = 0, acked = 0; seq < count; seq++) {
		/* a window of NE_WINDOW frames: the receiver acknowledges every
		 * NE_ACK (an NE2000 has no flow control of its own) */
		for (long spins = 0; seq - acked >= NE_WINDOW && spins < 2000000; spins++) {
			long n = pv_ne2k_nic_recv(&nic, nbuf_rx, sizeof(nbuf_rx));

			if (n > 0 && !pv_net_udp_parse(nbuf_rx, (unsigned int)n, 1, &u) && u.dport == 5 &&
			    u.payload_len >= 4 && *(const unsigned int *)u.payload > acked)
				acked = *(const unsigned int *)u.payload;
		}
		if (seq - acked >= NE_WINDOW)
			acked = seq; /* an acknowledgement was lost: go on */
		*(unsigned int *)(nbuf_tx + PV_UDP_HLEN) = seq;
		*(unsigned int *)(nbuf_tx + PV_UDP_HLEN + 4) = plen;
		pv_ne2k_nic_send(&nic, nbuf_tx, PV_UDP_HLEN + plen);
	}
	for (int i = 0; i < 20; i++) {
		ne_ctl(peer, 4);
		for (int k = 0; k < 100; k++)
			pv_yield();
	}
	pv_printf("sent=%u dropped=0\n", count);
	return 0;
}

static int ne_recv(void)
{
	unsigned int frames = 0, lost = 0, bad = 0, next = 0;
	unsigned long long bytes = 0;
	int started = 0;

	for (;;) {
		struct pv_udp_info u;
		long n = ne_next(&u, 100000000);

		if (n <= 0) {
			pv_printf("netbench: receive failed: %ld\n", n);
			return 1;
		}
		if (u.dport == 1 && !started) {
			ne_ctl(u.src_mac, 3);
		} else if (u.dport == 4 && started) {
			marker(0);
			break;
		} else if (u.dport == 2) {
			unsigned int seq = *(const unsigned int *)u.payload;

			if (!started) {
				marker(1);
				started = 1;
			}
			if (seq > next)
				lost += seq - next;
			next = seq + 1;
			if (u.payload[8] != pat(8) || u.payload[u.payload_len - 1] != pat(u.payload_len - 1))
				bad++;
			frames++;
			bytes += (unsigned long long)n;
			if (frames % NE_ACK == 0) { /* acknowledge up to next */
				pv_net_udp_header(nbuf_tx, nic.mac, u.src_mac, 0x0a000001u, 0x0a000002u, 9, 5, 4,
						  PV_UDP_CSUM_NONE);
				*(unsigned int *)(nbuf_tx + PV_UDP_HLEN) = next;
				pv_ne2k_nic_send(&nic, nbuf_tx, PV_UDP_HLEN + 4);
			}
		}
	}
	pv_printf("frames=%u bytes=%llu lost=%u bad=%u\n", frames, bytes, lost, bad);
	return 0;
}

int pv_main(const struct pv_boot_info *bi)
{
	const char *s = pv_cmdline(), *e;
	unsigned int count, dom;
	int send = !strncmp(s, "send", 4), gso;
	struct pvnet_config cfg;
	long r;

	(void)bi;
	count = (unsigned int)pv_strtoull(skip(s + 4), &e);
	dom = (unsigned int)pv_strtoull(skip(e), &e);
	gso = !strncmp(skip(e), "gso", 3);
	if (strstr_end(e, "ne2k")) {
		if (pv_ne2k_nic_init(&nic, 0)) {
			pv_printf("netbench: no NE2000\n");
			return 1;
		}
		return send ? ne_send(count) : ne_recv();
	}
	if (!gso) {
		nbuf = 240;
		bufsz = 2048;
	}
	peer[4] = (unsigned char)dom;
	peer[5] = (unsigned char)(dom >> 8);
	r = pvnet_front_config(&cfg);
	if (!r)
		r = pvnet_front_init(&f, txr, rxr, sizeof(txr), ENTRIES, FEATURES & cfg.features, pool, sizeof(pool));
	if (r) {
		pv_printf("netbench: connect failed: %ld\n", r);
		return 1;
	}
	f.poll_ns = 2000000;
	if (!strncmp(s, "echo", 4))
		return do_echo();
	return send ? do_send(count, gso) : do_recv(count);
}
