/* SPDX-License-Identifier: MIT */
/*
 * nettest: the guest of tests/net.  Command line "ROLE COUNT SEED FEATURES
 * [OPTS]", FEATURES a number (PVNET_F_* to accept, masked by what the device
 * offers), ROLE one of
 *   recv    post buffers; answer the sender's HELLO with READY; take COUNT
 *           data datagrams, checking sequence, length, content and offload
 *           metadata; print "recv ok frames=N bytes=B gso=G".
 *   send    say HELLO (broadcast) until READY comes; send COUNT datagrams
 *           of random sizes up to the MTU, every fourth one a GSO frame up
 *           to 64000 bytes when USO was accepted; every response must be OK.
 *   sink    post no buffer until the host's go port (0x6f4) reads 1, then
 *           take COUNT frames and print how many came from each domain.
 *   echo    (TAP) answer UDP datagrams to port 7 with the same data and
 *           metadata, until "quit" or COUNT of them, and ARP and ping for
 *           10.0.0.2 (pv_net_answer); print "echo ok n=N csum=C gso=G
 *           ping=P", P the echo requests answered.
 * OPTS: "hostile" (send: bad descriptors first, each with its expected
 * status), "queues=N" (connect N queues; send round-robin over them),
 * "badbuf" (recv: post one buffer with a bad grant first), "lossy" (send:
 * frames dropped at the receiver are counted, not fatal; END at the end),
 * "to=DOM" (send: straight to that domain, lossy, after the go port says so),
 * "disconnect" (send: first post buffers and send an END, then DISCONNECT,
 * which must let every grant end: "disconnect=0", and connect again:
 * "reconnected=0", before the HELLO).
 */
#include <pv/guest/gnttab.h>
#include <pv/guest/io.h>
#include <pv/guest/netfront.h>
#include <pv/guest/netstack.h>
#include <pv/guest/sdk.h>

#define ENTRIES 64u
#define NQ_MAX 4u
#define RXBUF 65552u
#define NRX 24u
#define TXBUF 65536u
#define NTX 24u
#define GSO_MAX 64000u
#define IP_A 0x0a000001u
#define IP_B 0x0a000002u

#define POOL_LEN ((NRX * RXBUF + NTX * TXBUF + 8191) / 4096 * 4096)
static unsigned char pool[POOL_LEN] __attribute__((aligned(4096)));
static unsigned char txr[NQ_MAX][32768] __attribute__((aligned(4096)));
static unsigned char rxr[NQ_MAX][32768] __attribute__((aligned(4096)));
static struct pvnet_front fs[NQ_MAX];
static unsigned int nq = 1, seed;
static unsigned long long rng;

static unsigned int rnd(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned int)(rng >> 33);
}

static unsigned char *rxbuf(unsigned int i) { return pool + (unsigned long)i * RXBUF; }
static unsigned char *txbuf(unsigned int i) { return pool + NRX * RXBUF + (unsigned long)i * TXBUF; }

static unsigned char pat(unsigned int seq, unsigned int i)
{
	return (unsigned char)(seq * 31u + i * 7u + seed + (i >> 8));
}

static int fail(const char *what, long v)
{
	pv_printf("nettest: FAIL %s (%ld)\n", what, v);
	return 1;
}

/* Post every free rx buffer of queue q's share again. */
static void post_all(struct pvnet_front *f, unsigned int q)
{
	for (unsigned int i = q; i < NRX; i += nq)
		pvnet_front_post(f, rxbuf(i), PVNET_FRAME_MAX, i);
	pvnet_front_kick(f);
}

/* Wait for the next received frame on any queue: its buffer in *buf. */
static long recv_one(struct pvnet_rx_rsp *rsp, unsigned char **buf, unsigned int *q, int max_tries)
{
	for (int tries = 0; tries < max_tries; tries++) {
		for (unsigned int i = 0; i < nq; i++) {
			if (pvnet_front_rx(&fs[i], rsp)) {
				*buf = rxbuf((unsigned int)rsp->id);
				*q = i;
				return 0;
			}
		}
		pvnet_front_wait(&fs[0], nq > 1 ? 1000000ull : 5000000ull);
	}
	return PV_ETIMEDOUT;
}

static void repost(unsigned int q, unsigned long long id)
{
	pvnet_front_post(&fs[q], rxbuf((unsigned int)id), PVNET_FRAME_MAX, id);
	pvnet_front_kick(&fs[q]);
}

/* Send one frame of len bytes in tx buffer b and wait for its response. */
static long send_wait(struct pvnet_front *f, const struct pvnet_hdr *h, unsigned int b, unsigned int len)
{
	struct pvnet_tx_rsp rsp;
	long r = pvnet_front_send(f, h, txbuf(b), len, b);

	if (r)
		return r;
	pvnet_front_kick(f);
	while (!pvnet_front_tx_done(f, &rsp))
		if (pvnet_front_wait(f, 0) == PV_ETIMEDOUT)
			return PV_ETIMEDOUT;
	return rsp.status;
}

/* Wait until the host's go port (0x6f4) reads nonzero. */
static void go_wait(void)
{
	while (!pv_inl(0x6f4))
		pv_yield();
}

static unsigned int control_frame(unsigned int b, const unsigned char *dst, unsigned short dport)
{
	pv_net_udp_header(txbuf(b), fs[0].cfg.mac, dst, IP_A, IP_B, 1000, dport, 4, PV_UDP_CSUM_NONE);
	memcpy(txbuf(b) + PV_UDP_HLEN, "ctl!", 4);
	return PV_UDP_HLEN + 4;
}

static const unsigned char bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static int do_recv(unsigned int count, int badbuf)
{
	unsigned long long bytes = 0, gso = 0;
	unsigned int frames = 0, next[NQ_MAX], len;
	unsigned char peer[6];
	int have_peer = 0;

	if (badbuf) { /* the monitor returns it unused, as invalid */
		struct pvnet_rx_req *r = pv_ring_get_slot(&fs[0].rxreq);

		*r = (struct pvnet_rx_req){ 9999, 999, 0, 2048, 0 };
		fs[0].rx_posted++;
	}
	for (unsigned int q = 0; q < nq; q++) {
		next[q] = q; /* the sender's queue i reaches our queue i: in order per queue */
		post_all(&fs[q], q);
	}
	while (frames < count) {
		struct pvnet_rx_rsp rsp;
		struct pv_udp_info u;
		unsigned char *buf;
		unsigned int q;

		if (recv_one(&rsp, &buf, &q, 2000))
			return fail("receive timed out at frame", frames);
		if (rsp.id == 9999) {
			if (rsp.status != PVNET_S_INVALID || rsp.len)
				return fail("bad buffer came back as", rsp.status);
			pv_printf("nettest: bad buffer returned invalid\n");
			continue;
		}
		if (rsp.status != PVNET_S_OK || rsp.id >= NRX)
			return fail("rx status", rsp.status);
		if (pv_net_udp_parse(buf, rsp.len, rsp.hdr.flags & (PVNET_HDR_F_NEEDS_CSUM | PVNET_HDR_F_DATA_VALID), &u))
			return fail("unparsable frame of length", rsp.len);
		if (u.dport == 1) { /* HELLO: answer READY */
			memcpy(peer, u.src_mac, 6);
			have_peer = 1;
			len = control_frame(0, u.src_mac, 3);
			repost(q, rsp.id);
			if (send_wait(&fs[0], 0, 0, len) != PVNET_S_OK)
				return fail("READY", 0);
			continue;
		}
		if (u.dport == 4) { /* END of a sender that may lose frames: ignore */
			repost(q, rsp.id);
			continue;
		}
		if (u.dport != 2 || u.payload_len < 8)
			return fail("unexpected port", u.dport);
		{
			unsigned int seq = *(const unsigned int *)u.payload, plen = *(const unsigned int *)(u.payload + 4);

			if (seq != next[q])
				return fail("sequence", (long)seq - (long)next[q]);
			if (plen != u.payload_len)
				return fail("payload length", plen);
			for (unsigned int i = 8; i < plen; i++)
				if (u.payload[i] != pat(seq, i))
					return fail("content at byte", i);
			if (plen > fs[0].cfg.mtu - 28u) {
				if (rsp.hdr.gso_type != PVNET_GSO_UDP_L4 || rsp.hdr.gso_size != 1472 ||
				    rsp.hdr.hdr_len != PV_UDP_HLEN || rsp.hdr.csum_start != 34 || rsp.hdr.csum_offset != 6)
					return fail("GSO metadata lost, gso_type", rsp.hdr.gso_type);
				gso++;
			}
			next[q] += nq;
			frames++;
			bytes += rsp.len;
		}
		repost(q, rsp.id);
	}
	/* DONE: a lossy sender repeats END until it hears this */
	for (int i = 0; have_peer && i < 3; i++)
		send_wait(&fs[0], 0, 0, control_frame(0, peer, 5));
	pv_printf("recv ok frames=%u bytes=%llu gso=%llu\n", frames, bytes, gso);
	return 0;
}

struct bad {
	const char *what;
	int status;
	unsigned int nr_segs, total, gref, off, len;
	struct pvnet_hdr h;
};

static int hostile(void)
{
	unsigned int g = fs[0].pool_gref, off = NRX * RXBUF, mtu = fs[0].cfg.mtu;
	const struct bad cases[] = {
		{ "no segments", PVNET_S_INVALID, 0, 60, g, off, 60, { 0 } },
		{ "too many segments", PVNET_S_INVALID, 18, 60, g, off, 60, { 0 } },
		{ "length mismatch", PVNET_S_INVALID, 1, 61, g, off, 60, { 0 } },
		{ "runt", PVNET_S_INVALID, 1, 10, g, off, 10, { 0 } },
		{ "ungranted", PVNET_S_INVALID, 1, 60, 200, 0, 60, { 0 } },
		{ "past the grant", PVNET_S_INVALID, 1, 60, g, (unsigned int)sizeof(pool) - 30, 60, { 0 } },
		{ "over the MTU", PVNET_S_INVALID, 1, mtu + 19, g, off, mtu + 19, { 0 } },
		{ "too big", PVNET_S_INVALID, 1, PVNET_FRAME_MAX + 1, g, off, PVNET_FRAME_MAX + 1, { 0 } },
		{ "unknown gso", PVNET_S_INVALID, 1, 2000, g, off, 2000, { 1, 7, 42, 1000, 34, 6, 0 } },
		{ "csum past end", PVNET_S_INVALID, 1, 60, g, off, 60, { 1, 0, 0, 0, 58, 6, 0 } },
		{ "gso without csum", PVNET_S_INVALID, 1, 2000, g, off, 2000, { 0, 5, 42, 1000, 0, 0, 0 } },
		{ "tso4 not accepted", PVNET_S_UNSUPP, 1, 2000, g, off, 2000, { 1, 1, 54, 1000, 34, 16, 0 } },
		{ "data_valid on tx", PVNET_S_INVALID, 1, 60, g, off, 60, { 2, 0, 0, 0, 0, 0, 0 } },
	};

	control_frame(0, bcast, 9);
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad *c = &cases[i];
		struct pvnet_tx_req *r = pv_ring_get_slot(&fs[0].txreq);
		struct pvnet_tx_rsp rsp;

		if (!r)
			return fail("tx ring full", i);
		memset(r, 0, sizeof(*r));
		r->id = 100 + i;
		r->total_len = c->total;
		r->nr_segs = (unsigned short)c->nr_segs;
		r->hdr = c->h;
		for (unsigned int s = 0; s < PVNET_TX_SEGS; s++)
			r->seg[s] = (struct pvnet_seg){ c->gref, c->off, c->len, 0 };
		fs[0].tx_inflight++;
		pvnet_front_kick(&fs[0]);
		while (!pvnet_front_tx_done(&fs[0], &rsp))
			if (pvnet_front_wait(&fs[0], 0) == PV_ETIMEDOUT)
				return fail("no answer to a bad descriptor", i);
		if (rsp.id != 100 + i || rsp.status != c->status) {
			pv_printf("nettest: %s: status %d, expected %d\n", c->what, rsp.status, c->status);
			return 1;
		}
	}
	/* An unknown command and features not offered: "not supported". */
	if (pvnet_front_command(77) != PV_EOPNOTSUPP)
		return fail("unknown command answered", 0);
	pv_printf("nettest: hostile descriptors answered\n");
	return 0;
}

static int do_send(unsigned int count, int bad, int lossy, unsigned int to)
{
	unsigned char busy[NTX] = { 0 };
	unsigned int lost = 0, idle = 0;
	unsigned char peer_mac[6] = { 0x52, 0x54, 0, 0, (unsigned char)to, (unsigned char)(to >> 8) };
	const unsigned char *peer = peer_mac;
	unsigned int mtu = fs[0].cfg.mtu, inflight = 0, b = 0, seq = 0, done = 0;
	int uso = (fs[0].features & PVNET_F_HOST_USO) != 0;
	struct pvnet_rx_rsp rrsp;
	unsigned char *buf;
	unsigned int q;

	if (bad && hostile())
		return 1;
	if (to) { /* straight to that domain's PV device, once the host says go */
		go_wait();
		goto data;
	}
	for (unsigned int i = 0; i < nq; i++)
		post_all(&fs[i], i);
	for (int tries = 0;; tries++) { /* HELLO until READY */
		struct pv_udp_info u;

		if (tries > 500)
			return fail("no READY", tries);
		if (send_wait(&fs[0], 0, 0, control_frame(0, bcast, 1)) != PVNET_S_OK)
			return fail("HELLO", tries);
		if (recv_one(&rrsp, &buf, &q, 4) == 0) {
			int ready = !pv_net_udp_parse(buf, rrsp.len, 0, &u) && u.dport == 3;

			if (ready) /* the receiver's address, whatever its door */
				memcpy(peer_mac, u.src_mac, 6);
			repost(q, rrsp.id);
			if (ready)
				break;
		}
	}
data:
	while (done < count) {
		struct pvnet_front *f = &fs[seq % nq];
		struct pvnet_tx_rsp rsp;

		while (seq < count && inflight < NTX && busy[b]) /* responses come in any order */
			b = (b + 1) % NTX;
		if (seq < count && inflight < NTX) {
			unsigned int plen = 8 + rnd() % (mtu - 28 - 8 + 1), len;
			struct pvnet_hdr h = { 0 }, *hp = 0;
			unsigned char *p = txbuf(b);

			if (uso && seq % 4 == 3) {
				plen = mtu + rnd() % (GSO_MAX - mtu);
				h = (struct pvnet_hdr){ PVNET_HDR_F_NEEDS_CSUM, PVNET_GSO_UDP_L4, PV_UDP_HLEN, 1472, 34, 6, 0 };
				hp = &h;
			} else if ((f->features & PVNET_F_CSUM) && (seq & 1)) { /* the device completes it */
				h = (struct pvnet_hdr){ PVNET_HDR_F_NEEDS_CSUM, PVNET_GSO_NONE, 0, 0, 34, 6, 0 };
				hp = &h;
			}
			*(unsigned int *)(p + PV_UDP_HLEN) = seq;
			*(unsigned int *)(p + PV_UDP_HLEN + 4) = plen;
			for (unsigned int i = 8; i < plen; i++)
				p[PV_UDP_HLEN + i] = pat(seq, i);
			pv_net_udp_header(p, f->cfg.mac, peer, IP_A, IP_B, 1000, 2, plen,
					  hp ? PV_UDP_CSUM_PARTIAL : PV_UDP_CSUM_FULL);
			len = PV_UDP_HLEN + plen;
			if (pvnet_front_send(f, hp, p, len, b) == 0) {
				pvnet_front_kick(f);
				busy[b] = 1;
				inflight++;
				seq++;
				b = (b + 1) % NTX;
				continue;
			}
		}
		for (unsigned int i = 0; i < nq; i++)
			while (pvnet_front_tx_done(&fs[i], &rsp)) {
				if (rsp.id < NTX)
					busy[rsp.id] = 0;
				if (rsp.status == PVNET_S_DROPPED && lossy)
					lost++; /* an NE2000 receiver's ring was full */
				else if (rsp.status != PVNET_S_OK)
					return fail("tx status", rsp.status);
				inflight--;
				done++;
			}
		/* One vCPU drives every queue: with several, wait briefly on one
		 * and look at all of them again. */
		if (done < count && (seq == count || inflight >= NTX) &&
		    pvnet_front_wait(f, nq > 1 ? 1000000ull : 0) == PV_ETIMEDOUT && (nq == 1 || ++idle > 10000))
			return fail("tx timed out at", (long)done);
	}
	/* END until the receiver says DONE (~20 s at most): a receiver whose
	 * ring was full drops ENDs too; one that has every frame says DONE
	 * unasked and may be gone. */
	for (int i = 0; lossy && !to && i < 4000; i++) {
		struct pv_udp_info u;
		int fin = 0;

		send_wait(&fs[0], 0, 0, control_frame(0, peer, 4));
		if (recv_one(&rrsp, &buf, &q, 1) == 0) {
			fin = !pv_net_udp_parse(buf, rrsp.len, 0, &u) && u.dport == 5;
			repost(q, rrsp.id);
		}
		if (fin)
			break;
	}
	pv_printf("send ok frames=%u dropped=%u\n", done, lost);
	return 0;
}

/* CONNECTs the device must refuse, leaving it ready for a good one. */
static int bad_connects(void)
{
	struct pvnet_ctrl *c = pvnet_front_ctrl();
	long g = pv_gnttab_grant(txr[NQ_MAX - 1], 8, PV_DOMID_MONITOR, 0), r;

	if (!c || g < 0)
		return fail("scratch grant", g);
	memset(txr[NQ_MAX - 1], 0, sizeof(txr[0]));
	c->nr_queues = 1;
	c->features = 0;
	c->q[0] = (struct pvnet_queue_desc){ (unsigned int)g, 8, (unsigned int)g, 8, 0, 0 };
	if ((r = pvnet_front_command(PVNET_CMD_CONNECT)) != PV_EINVAL)
		return fail("a page that holds no ring was accepted", r);
	c->features = 1u << 31;
	if ((r = pvnet_front_command(PVNET_CMD_CONNECT)) != PV_EOPNOTSUPP)
		return fail("a feature not offered was answered", r);
	c->features = 0;
	c->nr_queues = 99;
	if ((r = pvnet_front_command(PVNET_CMD_CONNECT)) != PV_EINVAL)
		return fail("99 queues were answered", r);
	pv_gnttab_end((unsigned int)g);
	pv_printf("nettest: bad connects refused\n");
	return 0;
}

static const char *skip(const char *s)
{
	while (*s == ' ')
		s++;
	return s;
}

/* Answer count UDP datagrams to port 7 with the same data, on the queue
 * each came in on, keeping its offload metadata (what the TAP gave); ARP
 * and ICMP echo requests for IP_B get their answers on the way. */
static int do_echo(unsigned int count)
{
	unsigned int n = 0, csum = 0, gso = 0, b = 0, ping = 0, alen;

	for (unsigned int q = 0; q < nq; q++)
		post_all(&fs[q], q);
	while (n < count) {
		struct pvnet_rx_rsp rsp;
		struct pvnet_tx_rsp trsp;
		struct pv_udp_info u;
		unsigned char *buf;
		unsigned int q;
		struct pvnet_hdr h;

		if (recv_one(&rsp, &buf, &q, 4000))
			return fail("echo: nothing came, after", n);
		if (rsp.status == PVNET_S_OK &&
		    (alen = pv_net_answer(buf, rsp.len, fs[q].cfg.mac, IP_B, txbuf(b), TXBUF)) != 0) {
			if (send_wait(&fs[q], 0, b, alen) != PVNET_S_OK)
				return fail("echo: answer send", n);
			b = (b + 1) % NTX;
			ping += alen > PV_ARP_LEN;
		} else if (rsp.status == PVNET_S_OK &&
			   !pv_net_udp_parse(buf, rsp.len, rsp.hdr.flags & (PVNET_HDR_F_NEEDS_CSUM | PVNET_HDR_F_DATA_VALID),
					     &u) &&
			   u.dport == 7) {
			h = rsp.hdr;
			h.flags &= PVNET_HDR_F_NEEDS_CSUM; /* DATA_VALID is receive-only */
			h.num_buffers = 0;
			csum += (h.flags & PVNET_HDR_F_NEEDS_CSUM) != 0;
			gso += h.gso_type != PVNET_GSO_NONE;
			memcpy(txbuf(b), buf, rsp.len);
			pv_net_udp_reverse(txbuf(b));
			if (send_wait(&fs[q], &h, b, rsp.len) != PVNET_S_OK)
				return fail("echo send", n);
			b = (b + 1) % NTX;
			n++;
			if (u.payload_len >= 4 && !memcmp(u.payload, "quit", 4))
				break;
		}
		repost(q, rsp.id);
		while (pvnet_front_tx_done(&fs[q], &trsp))
			;
	}
	pv_printf("echo ok n=%u csum=%u gso=%u ping=%u\n", n, csum, gso, ping);
	return 0;
}

/* Post nothing until the host says go, then take count frames and say how
 * many came from each domain (the second byte from the end of the MAC). */
static int do_sink(unsigned int count)
{
	unsigned int from[256] = { 0 }, n = 0;

	go_wait();
	post_all(&fs[0], 0);
	while (n < count) {
		struct pvnet_rx_rsp rsp;
		struct pv_udp_info u;
		unsigned char *buf;
		unsigned int q;

		if (recv_one(&rsp, &buf, &q, 2000))
			return fail("sink: frames missing after", n);
		if (rsp.status == PVNET_S_OK && !pv_net_udp_parse(buf, rsp.len, 1, &u) && u.dport == 2) {
			from[buf[10]]++;
			n++;
		}
		repost(q, rsp.id);
	}
	pv_printf("sink");
	for (unsigned int d = 0; d < 256; d++)
		if (from[d])
			pv_printf(" %u=%u", d, from[d]);
	pv_printf("\n");
	return 0;
}

int pv_main(const struct pv_boot_info *bi)
{
	const char *s = pv_cmdline(), *e;
	char role[8] = { 0 };
	unsigned int count, feat, i = 0, q;
	struct pvnet_config cfg;
	void *t[NQ_MAX], *r[NQ_MAX];
	int bad = 0, badbuf = 0, lossy = 0, disc = 0;
	unsigned int to = 0;
	long rc;

	(void)bi;
	while (*s && *s != ' ' && i < sizeof(role) - 1)
		role[i++] = *s++;
	count = (unsigned int)pv_strtoull(skip(s), &e);
	seed = (unsigned int)pv_strtoull(skip(e), &e);
	feat = (unsigned int)pv_strtoull(skip(e), &e);
	rng = seed;
	for (; *e; e++) {
		if (!strncmp(e, "hostile", 7))
			bad = 1;
		if (!strncmp(e, "badbuf", 6))
			badbuf = 1;
		if (!strncmp(e, "lossy", 5))
			lossy = 1;
		if (!strncmp(e, "disconnect", 10))
			disc = 1;
		if (!strncmp(e, "to=", 3))
			to = (unsigned int)pv_strtoull(e + 3, 0);
		if (!strncmp(e, "queues=", 7))
			nq = (unsigned int)pv_strtoull(e + 7, 0);
	}
	if (nq == 0 || nq > NQ_MAX)
		return fail("queues", nq);
	rc = pvnet_front_config(&cfg);
	if (rc)
		return fail("config", rc);
	if (nq > cfg.max_queues)
		return fail("device queues", cfg.max_queues);
	if (nq > 1)
		feat |= PVNET_F_MQ;
	feat &= cfg.features;
	for (q = 0; q < nq; q++) {
		t[q] = txr[q];
		r[q] = rxr[q];
	}
	if (pvnet_front_ring_size(ENTRIES) > sizeof(txr[0]))
		return fail("ring size", 0);
	if (bad && nq < NQ_MAX && bad_connects())
		return 1;
	rc = pvnet_front_init_mq(fs, nq, t, r, sizeof(txr[0]), ENTRIES, feat, pool, sizeof(pool));
	if (rc)
		return fail("connect", rc);
	if (disc) { /* the monitor holds buffers and has seen a frame: it must let go of all */
		for (q = 0; q < nq; q++)
			post_all(&fs[q], q);
		rc = send_wait(&fs[0], 0, 0, control_frame(0, bcast, 4));
		if (rc != PVNET_S_OK && rc != PVNET_S_DROPPED)
			return fail("END before disconnect", rc);
		pv_printf("disconnect=%ld\n", pvnet_front_disconnect(fs, nq));
		rc = pvnet_front_init_mq(fs, nq, t, r, sizeof(txr[0]), ENTRIES, feat, pool, sizeof(pool));
		pv_printf("reconnected=%ld\n", rc);
		if (rc)
			return fail("connect again", rc);
	}
	if (!strcmp(role, "recv"))
		return do_recv(count, badbuf);
	if (!strcmp(role, "send"))
		return do_send(count, bad, lossy || to, to);
	if (!strcmp(role, "echo"))
		return do_echo(count);
	if (!strcmp(role, "sink"))
		return do_sink(count);
	return fail("role", 0);
}
