/* SPDX-License-Identifier: MIT */
/*
 * blkio: PV block I/O scenarios for tests/blk/test_blk.c.
 * Command line: "SCENARIO SEED ARG", SCENARIO one of
 *   rw       ARG = number of random writes; each is read back and compared
 *            here, and logged as "w SECTOR NSECT TAG" so the host can
 *            rebuild the image; ARG >= 1000 adds 1000-th flag: a 1 MiB request
 *   ops      every operation; prints "NAME=STATUS" lines
 *   hostile  ARG = rounds of malformed requests; prints "NAME=STATUS" once
 *   ro       a read-only disk: prints "NAME=STATUS"
 *   durable  writes patterns, FLUSHes, acks on port ACK_PORT, spins forever
 *   overflow publishes more requests than the ring holds; prints peer_error
 *   efbig    writes below and past the host's RLIMIT_FSIZE (ARG sectors)
 *   rspfull  fills the response ring and never reads it, then sends one
 *            more request; ARG 1: then reads every response ("rspfull got=N
 *            unsupp=N"), ARG 0: exits with them unread (detach must work)
 *   qdeep    a full ring of slow writes, and once the backend took them all,
 *            a second full ring: every one must succeed ("qdeep ok=N bad=N")
 *   flushstop  slow writes and a FLUSH, then exits while they are in flight
 *   reconnect  a CONNECT with a bad second queue fails and leaves the
 *            device connectable: the normal one then works; the second
 *            queue names ARG 0: no grant, 1: the first queue's ring grant,
 *            2: another grant of the first queue's ring
 *   mq       ARG queues, one per vCPU, each writing and reading back its own
 *            region at queue depth 8; prints "max_queues=N", one line
 *            "queue I ok=N bad=N" per queue and "w ..." lines
 *   disconnect  a write, DISCONNECT (every grant then ends: "disconnect=0"),
 *            CONNECT again and a second write ("reconnected=0")
 *   faultpub  one write done, then A (sector 2048) and B (sector 4096) queued;
 *            A is published by an increment of the producer index in the
 *            block of code that then faults: B must never reach the disk
 * Every scenario ends with "done" (or a "FAIL ..." line and status 1).
 * Data pattern: the 64-bit word at disk byte offset POS written with TAG is
 * pat(POS, TAG) (the host computes the same).
 */
#include <pv/guest/blkfront.h>
#include <pv/guest/gnttab.h>
#include <pv/guest/sdk.h>

#define ACK_PORT 0x6c0
#define MB (1ul << 20)
#define POOL (2 * MB)

static unsigned char pool[POOL] __attribute__((aligned(4096)));
static unsigned char ring[64 * 1024] __attribute__((aligned(4096)));
static unsigned char ropage[4096] __attribute__((aligned(4096)));    /* granted read-only */
static unsigned char indirect[4096] __attribute__((aligned(4096)));  /* indirect segment list */
static struct pvblk_front f;
static unsigned long long cap, rng, next_id = 1;
static int failed;

#define WBUF (pool)
#define RBUF (pool + MB)

#define FAIL(...)                                  \
	do {                                       \
		pv_printf("FAIL line %d: ", __LINE__); \
		pv_printf(__VA_ARGS__);            \
		failed = 1;                        \
	} while (0)

static unsigned long long next_rand(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return rng >> 17;
}

static unsigned long long pat(unsigned long long pos, unsigned int tag)
{
	unsigned long long x = (pos ^ ((unsigned long long)tag << 40)) * 0x9E3779B97F4A7C15ull;

	return x ^ (x >> 29);
}

static void fill(unsigned char *buf, unsigned long long sector, unsigned long len, unsigned int tag)
{
	unsigned long long *w = (unsigned long long *)buf, pos = sector * 512;

	for (unsigned long i = 0; i < len / 8; i++)
		w[i] = pat(pos + i * 8, tag);
}

static int is_zero(const unsigned char *b, unsigned long len)
{
	for (unsigned long i = 0; i < len; i++)
		if (b[i])
			return 0;
	return 1;
}

/* Wait for the response to id; returns its status (or -1000 - error). */
static int wait_id(unsigned long long id)
{
	struct pvblk_rsp rsp;
	long r;

	pvblk_front_kick(&f);
	r = pvblk_front_wait(&f, &rsp);
	if (r) {
		FAIL("wait: %ld\n", r);
		return -1000 + (int)r;
	}
	if (rsp.id != id) {
		FAIL("response id %llu, expected %llu\n", (unsigned long long)rsp.id, id);
		return -999;
	}
	return rsp.status;
}

/* One request through the frontend, QD1. */
static int io(unsigned int op, unsigned int flags, unsigned long long sector, void *buf, unsigned long len,
	      unsigned long long nr_sectors)
{
	unsigned long long id = next_id++;
	long r = pvblk_front_queue(&f, op, flags, sector, buf, len, nr_sectors, id);

	if (r) {
		FAIL("queue op %u: %ld\n", op, r);
		return -2000 + (int)r;
	}
	return wait_id(id);
}

/* A raw request slot, zeroed; the caller fills it and calls wait_id(id). */
static struct pvblk_req *raw(unsigned int op, unsigned long long *id)
{
	struct pvblk_req *r = pv_ring_get_slot(&f.req);

	if (!r)
		return 0;
	memset(r, 0, sizeof(*r));
	r->op = (unsigned char)op;
	r->id = *id = next_id++;
	f.inflight++;
	return r;
}

static struct pvblk_seg seg(unsigned int gref, unsigned int off, unsigned int len)
{
	return (struct pvblk_seg){ gref, off, len, 0 };
}

/* Write len bytes at sector with tag, read them back, compare; log it. */
static void write_check(unsigned long long sector, unsigned long len, unsigned int tag)
{
	int s;

	fill(WBUF, sector, len, tag);
	s = io(PVBLK_OP_WRITE, 0, sector, WBUF, len, 0);
	if (s) {
		FAIL("write %llu+%lu: status %d\n", sector, len, s);
		return;
	}
	pv_printf("w %llu %lu %u\n", sector, len / 512, tag);
	memset(RBUF, 0xa5, len);
	s = io(PVBLK_OP_READ, 0, sector, RBUF, len, 0);
	if (s)
		FAIL("read %llu+%lu: status %d\n", sector, len, s);
	else if (memcmp(WBUF, RBUF, len))
		FAIL("read back %llu+%lu differs\n", sector, len);
}

static void scenario_rw(unsigned long long n)
{
	unsigned int tag = 1;
	int big = n >= 1000;

	n %= 1000;
	write_check(0, 512, tag++);           /* first sector */
	write_check(cap - 1, 512, tag++);     /* last sector */
	write_check(cap - 128, 65536, tag++); /* 64 KiB ending at the last sector */
	for (unsigned long long i = 0; i < n; i++) {
		unsigned long nsect = 1 + next_rand() % 128;
		unsigned long long sector = next_rand() % (cap - nsect + 1);

		write_check(sector, nsect * 512, tag++);
	}
	if (big)
		write_check(next_rand() % (cap - 2048 + 1), MB, tag++);
	/* a batch: 8 disjoint 4 KiB writes in flight together, then read back */
	{
		unsigned long long base = next_rand() % (cap - 8 * 16), ids[8];
		unsigned int seen = 0;

		for (unsigned int i = 0; i < 8; i++) {
			fill(WBUF + i * 4096, base + i * 16, 4096, tag + i);
			ids[i] = next_id++;
			if (pvblk_front_queue(&f, PVBLK_OP_WRITE, 0, base + i * 16, WBUF + i * 4096, 4096, 0, ids[i]))
				FAIL("queue batch %u\n", i);
		}
		pvblk_front_kick(&f);
		for (unsigned int i = 0; i < 8; i++) {
			struct pvblk_rsp rsp;

			if (pvblk_front_wait(&f, &rsp)) {
				FAIL("batch wait\n");
				break;
			}
			for (unsigned int j = 0; j < 8; j++)
				if (rsp.id == ids[j])
					seen |= 1u << j;
			if (rsp.status)
				FAIL("batch write status %d\n", rsp.status);
		}
		if (seen != 0xff)
			FAIL("batch responses: mask %x\n", seen);
		for (unsigned int i = 0; i < 8; i++) {
			pv_printf("w %llu %u %u\n", base + i * 16, 8u, tag + i);
			if (io(PVBLK_OP_READ, 0, base + i * 16, RBUF, 4096, 0) || memcmp(RBUF, WBUF + i * 4096, 4096))
				FAIL("batch read back %u\n", i);
		}
	}
}

static void scenario_ops(void)
{
	int s;

	/* write then flush */
	fill(WBUF, 64, 4096, 11);
	pv_printf("write=%d\n", io(PVBLK_OP_WRITE, 0, 64, WBUF, 4096, 0));
	pv_printf("flush=%d\n", io(PVBLK_OP_FLUSH, 0, 0, 0, 0, 0));
	/* FUA */
	fill(WBUF, 128, 8192, 12);
	pv_printf("fua=%d\n", io(PVBLK_OP_WRITE, PVBLK_REQ_FUA, 128, WBUF, 8192, 0));
	s = io(PVBLK_OP_READ, 0, 128, RBUF, 8192, 0);
	pv_printf("fua_read=%d same=%d\n", s, !memcmp(WBUF, RBUF, 8192));
	/* discard: sectors 256..(256+64) were written, a regular file reads zeroes */
	fill(WBUF, 256, 32768, 13);
	pv_printf("pre_discard_write=%d\n", io(PVBLK_OP_WRITE, 0, 256, WBUF, 32768, 0));
	pv_printf("discard=%d\n", io(PVBLK_OP_DISCARD, 0, 256, 0, 0, 64));
	memset(RBUF, 0xa5, 32768);
	s = io(PVBLK_OP_READ, 0, 256, RBUF, 32768, 0);
	pv_printf("discard_read=%d zero=%d\n", s, is_zero(RBUF, 32768));
	/* write-zeroes on an unaligned range 513..(513+7) */
	fill(WBUF, 512, 8192, 14);
	pv_printf("pre_wz_write=%d\n", io(PVBLK_OP_WRITE, 0, 512, WBUF, 8192, 0));
	pv_printf("write_zeroes=%d\n", io(PVBLK_OP_WRITE_ZEROES, 0, 513, 0, 0, 7));
	s = io(PVBLK_OP_READ, 0, 512, RBUF, 8192, 0);
	pv_printf("wz_read=%d zero=%d edges=%d\n", s, is_zero(RBUF + 512, 7 * 512),
		  !memcmp(RBUF, WBUF, 512) && !memcmp(RBUF + 8 * 512, WBUF + 8 * 512, 8 * 512));
	/* an operation the device does not know */
	{
		unsigned long long id;
		struct pvblk_req *r = raw(77, &id);

		r->sector = 0;
		pv_printf("unknown=%d\n", wait_id(id));
	}
	s = io(PVBLK_OP_READ, 0, 64, RBUF, 4096, 0);
	fill(WBUF, 64, 4096, 11);
	pv_printf("after_unknown=%d same=%d\n", s, !memcmp(WBUF, RBUF, 4096));
}

/* A healthy read of 4 KiB at sector 8 after each hostile request. */
static int healthy(void)
{
	return io(PVBLK_OP_READ, 0, 8, RBUF, 4096, 0);
}

static void hostile_round(int print, unsigned int ro_gref, unsigned int ind_gref)
{
	unsigned int pg = f.pool_gref;
	unsigned long long id;
	struct pvblk_req *r;
	int s, h;

#define H(name, setup)                                                   \
	do {                                                             \
		r = raw(PVBLK_OP_READ, &id);                             \
		if (!r) {                                                \
			FAIL("ring full\n");                             \
			return;                                          \
		}                                                        \
		setup;                                                   \
		s = wait_id(id);                                         \
		h = healthy();                                           \
		if (print)                                               \
			pv_printf("%s=%d healthy=%d\n", name, s, h);     \
		else if (s != PVBLK_S_INVALID || h != 0)                 \
			FAIL("%s=%d healthy=%d\n", name, s, h);          \
	} while (0)

	H("past_end", (r->sector = cap, r->nr_segs = 1, r->u.seg[0] = seg(pg, 0, 512)));
	H("straddle_end", (r->sector = cap - 1, r->nr_segs = 1, r->u.seg[0] = seg(pg, 0, 1024)));
	H("sector_huge", (r->sector = ~0ull, r->nr_segs = 1, r->u.seg[0] = seg(pg, 0, 512)));
	H("sector_wrap", (r->sector = ~0ull - 3, r->nr_segs = 2, r->u.seg[0] = seg(pg, 0, 4096),
			  r->u.seg[1] = seg(pg, 4096, 4096)));
	H("write_past_end", (r->op = PVBLK_OP_WRITE, r->sector = cap, r->nr_segs = 1, r->u.seg[0] = seg(pg, 0, 512)));
	H("discard_past_end", (r->op = PVBLK_OP_DISCARD, r->sector = cap - 1, r->nr_sectors = 2));
	H("discard_wrap", (r->op = PVBLK_OP_DISCARD, r->sector = 16, r->nr_sectors = ~0ull - 8));
	H("wz_zero_len", (r->op = PVBLK_OP_WRITE_ZEROES, r->sector = 16, r->nr_sectors = 0));
	H("seg_beyond_pool", (r->nr_segs = 1, r->u.seg[0] = seg(pg, POOL, 512)));
	H("seg_straddles_pool", (r->nr_segs = 1, r->u.seg[0] = seg(pg, POOL - 512, 1024)));
	H("seg_offset_wrap", (r->nr_segs = 1, r->u.seg[0] = seg(pg, 0xfffffe00u, 4096)));
	H("seg_len_odd", (r->nr_segs = 1, r->u.seg[0] = seg(pg, 0, 100)));
	H("seg_len_zero", (r->nr_segs = 2, r->u.seg[0] = seg(pg, 0, 512), r->u.seg[1] = seg(pg, 512, 0)));
	H("seg_len_huge", (r->nr_segs = 1, r->u.seg[0] = seg(pg, 0, 2 * PVBLK_SEG_MAX)));
	H("nr_segs_zero", (r->nr_segs = 0));
	H("nr_segs_inline_9", (r->nr_segs = 9));
	H("too_many_bytes", ({
		  r->nr_segs = 8;
		  for (unsigned int i = 0; i < 8; i++)
			  r->u.seg[i] = seg(pg, 0, PVBLK_SEG_MAX);
	  }));
	H("ungranted_gref", (r->nr_segs = 1, r->u.seg[0] = seg(200, 0, 512)));
	H("gref_huge", (r->nr_segs = 1, r->u.seg[0] = seg(0xffffffffu, 0, 512)));
	H("read_into_ro_grant", (r->nr_segs = 1, r->u.seg[0] = seg(ro_gref, 0, 512)));
	H("indirect_bad_gref", (r->flags = PVBLK_REQ_INDIRECT, r->nr_segs = 1, r->u.indirect.gref = 200));
	H("indirect_off_page", (r->flags = PVBLK_REQ_INDIRECT, r->nr_segs = 2, r->u.indirect.gref = ind_gref,
				r->u.indirect.offset = 4096 - 16));
	H("indirect_too_many", (r->flags = PVBLK_REQ_INDIRECT, r->nr_segs = PVBLK_SEGS_INDIRECT + 1,
				r->u.indirect.gref = ind_gref));
	H("indirect_bad_seg", ({
		  struct pvblk_seg *l = (struct pvblk_seg *)indirect;

		  l[0] = seg(pg, 0, 512);
		  l[1] = seg(200, 0, 512);
		  r->flags = PVBLK_REQ_INDIRECT, r->nr_segs = 2, r->u.indirect.gref = ind_gref;
	  }));
#undef H
	/* a valid indirect read of 3 segments still works */
	{
		struct pvblk_seg *l = (struct pvblk_seg *)indirect;

		l[0] = seg(pg, MB, 512);
		l[1] = seg(pg, MB + 4096, 1024);
		l[2] = seg(pg, MB + 8192, 2560);
		r = raw(PVBLK_OP_READ, &id);
		r->flags = PVBLK_REQ_INDIRECT, r->nr_segs = 3, r->u.indirect.gref = ind_gref;
		r->sector = 8;
		s = wait_id(id);
		if (print)
			pv_printf("indirect_ok=%d\n", s);
		else if (s)
			FAIL("indirect_ok=%d\n", s);
	}
}

static void scenario_hostile(unsigned long long rounds)
{
	long ro, ind;

	ro = pv_gnttab_grant(ropage, 1, PV_DOMID_MONITOR, 1);
	ind = pv_gnttab_grant(indirect, 1, PV_DOMID_MONITOR, 1);
	if (ro < 0 || ind < 0) {
		FAIL("grants %ld %ld\n", ro, ind);
		return;
	}
	for (unsigned long long i = 0; i < rounds && !failed; i++)
		hostile_round(i == 0, (unsigned int)ro, (unsigned int)ind);
	/* and the disk still works for writes */
	write_check(cap / 2, 8192, 99);
}

static void scenario_ro(void)
{
	fill(WBUF, 16, 4096, 5);
	pv_printf("ro_flag=%d\n", !!(f.cfg.features & PVBLK_F_READ_ONLY));
	pv_printf("ro_write=%d\n", io(PVBLK_OP_WRITE, 0, 16, WBUF, 4096, 0));
	pv_printf("ro_fua=%d\n", io(PVBLK_OP_WRITE, PVBLK_REQ_FUA, 16, WBUF, 4096, 0));
	pv_printf("ro_discard=%d\n", io(PVBLK_OP_DISCARD, 0, 16, 0, 0, 8));
	pv_printf("ro_write_zeroes=%d\n", io(PVBLK_OP_WRITE_ZEROES, 0, 16, 0, 0, 8));
	pv_printf("ro_flush=%d\n", io(PVBLK_OP_FLUSH, 0, 0, 0, 0, 0));
	pv_printf("ro_read=%d\n", io(PVBLK_OP_READ, 0, 16, RBUF, 4096, 0));
}

static void scenario_durable(void)
{
	/* A: plain write made durable by FLUSH; B: FUA write. */
	fill(WBUF, 1000, 65536, 21);
	pv_printf("dur_write=%d\n", io(PVBLK_OP_WRITE, 0, 1000, WBUF, 65536, 0));
	pv_printf("dur_flush=%d\n", io(PVBLK_OP_FLUSH, 0, 0, 0, 0, 0));
	fill(WBUF, 3000, 8192, 22);
	pv_printf("dur_fua=%d\n", io(PVBLK_OP_WRITE, PVBLK_REQ_FUA, 3000, WBUF, 8192, 0));
	pv_flush();
	__asm__ __volatile__("outl %0, %1" : : "a"(1u), "d"((unsigned short)ACK_PORT) : "memory");
	for (;;)
		__asm__ __volatile__("pause");
}

/* Publish more requests than the ring holds (a forged producer index): the
 * backend must declare the ring broken (EPROTO in its error word). */
static void scenario_overflow(void)
{
	unsigned long long start;
	unsigned long spins = 0;

	pv_printf("before=%d\n", healthy());
	f.req.prod += f.req.entries + 8;
	pvblk_front_kick(&f);
	pv_doorbell(f.evtchn);
	start = pv_rdtsc();
	while (!pv_ring_prod_peer_error(&f.req) && pv_rdtsc() - start < pv_tsc_ticks(5000000000ull) && ++spins < 200000000ul)
		__asm__ __volatile__("pause");
	pv_printf("peer_error=%u\n", pv_ring_prod_peer_error(&f.req));
}

static void scenario_efbig(unsigned long long limit_sectors)
{
	fill(WBUF, 8, 4096, 31);
	pv_printf("below=%d\n", io(PVBLK_OP_WRITE, 0, 8, WBUF, 4096, 0));
	fill(WBUF, limit_sectors + 8, 4096, 32);
	pv_printf("beyond=%d\n", io(PVBLK_OP_WRITE, 0, limit_sectors + 8, WBUF, 4096, 0));
	fill(WBUF, limit_sectors - 4, 4096, 33);
	pv_printf("straddle=%d\n", io(PVBLK_OP_WRITE, 0, limit_sectors - 4, WBUF, 4096, 0));
	pv_printf("beyond_fua=%d\n", io(PVBLK_OP_WRITE, PVBLK_REQ_FUA, limit_sectors + 64, WBUF, 4096, 0));
	pv_printf("read_beyond=%d\n", io(PVBLK_OP_READ, 0, limit_sectors + 8, RBUF, 4096, 0));
	fill(WBUF, 64, 4096, 34);
	pv_printf("below_again=%d\n", io(PVBLK_OP_WRITE, 0, 64, WBUF, 4096, 0));
	pv_printf("flush=%d\n", io(PVBLK_OP_FLUSH, 0, 0, 0, 0, 0));
}

/* Publish A and fault in the same block of code, with B prepared behind
 * it.  An emulator that replayed the block would store prod twice and so
 * publish B (the backend polls: the test gives it a long poll_ns). */
static void scenario_faultpub(unsigned long long ram_size)
{
	volatile unsigned int *prod = &f.req.own->prod;
	unsigned long bad = ram_size + (1ul << 30);

	write_check(8, 4096, 40);
	fill(WBUF, 2048, 4096, 41);
	fill(WBUF + 4096, 4096, 4096, 42);
	if (pvblk_front_queue(&f, PVBLK_OP_WRITE, 0, 2048, WBUF, 4096, 0, next_id++) ||
	    pvblk_front_queue(&f, PVBLK_OP_WRITE, 0, 4096, WBUF + 4096, 4096, 0, next_id++)) {
		FAIL("queue\n");
		return;
	}
	pv_printf("prod=%u\n", *prod);
	pv_flush();
	pv_ring_wmb();
	__asm__ __volatile__("incl (%0)\n\t"
			     "mov (%1), %%rax"
			     :
			     : "r"(prod), "r"(bad)
			     : "rax", "memory");
	FAIL("survived the fault\n");
}

/* ---- the backend under a guest that does not play along ---- */

static void spin_ms(unsigned long long ms)
{
	unsigned long long t = pv_rdtsc();

	while (pv_rdtsc() - t < pv_tsc_ticks(ms * 1000000ull))
		__asm__ __volatile__("pause");
}

/* A FUA write of nseg x 1 MiB segments, all over the first MiB of the pool. */
static void raw_big_write(unsigned int nseg, unsigned long long sector)
{
	unsigned long long id;
	struct pvblk_req *r = raw(PVBLK_OP_WRITE, &id);

	if (!r) {
		FAIL("ring full\n");
		return;
	}
	r->flags = PVBLK_REQ_FUA;
	r->sector = sector;
	r->nr_segs = (unsigned short)nseg;
	for (unsigned int i = 0; i < nseg; i++)
		r->u.seg[i] = seg(f.pool_gref, 0, MB);
}

/* Wait until the backend has taken every published request. */
static void wait_taken(void)
{
	unsigned long long t = pv_rdtsc();

	while (pv_ring_space(&f.req) < (int)f.req.entries && pv_rdtsc() - t < pv_tsc_ticks(10000000000ull))
		__asm__ __volatile__("pause");
}

static void scenario_rspfull(unsigned long long read_them)
{
	unsigned long long id;
	unsigned int got = 0, unsupp = 0;
	struct pvblk_rsp rsp;

	for (unsigned int i = 0; i < f.req.entries; i++)
		raw(77, &id); /* an unknown operation: answered at once */
	pvblk_front_kick(&f);
	pv_doorbell(f.evtchn);
	wait_taken();
	raw(77, &id); /* its response has no room */
	pvblk_front_kick(&f);
	pv_doorbell(f.evtchn);
	spin_ms(50);
	if (!read_them)
		return;
	for (unsigned int i = 0; i <= f.req.entries; i++) {
		if (pvblk_front_wait(&f, &rsp)) {
			FAIL("wait %u\n", i);
			break;
		}
		got++;
		unsupp += rsp.status == PVBLK_S_UNSUPP;
	}
	pv_printf("rspfull got=%u unsupp=%u\n", got, unsupp);
}

static void scenario_qdeep(void)
{
	unsigned int n = f.req.entries, ok = 0, bad = 0;
	struct pvblk_rsp rsp;

	for (unsigned int i = 0; i < 2 * n; i++) {
		raw_big_write(2, i % 4 * 4096ull);
		if (i == n - 1) {
			pvblk_front_kick(&f);
			wait_taken();
		}
	}
	pvblk_front_kick(&f);
	for (unsigned int i = 0; i < 2 * n; i++) {
		if (pvblk_front_wait(&f, &rsp)) {
			FAIL("wait %u\n", i);
			break;
		}
		if (rsp.status == PVBLK_S_OK)
			ok++;
		else
			bad++;
	}
	pv_printf("qdeep ok=%u bad=%u\n", ok, bad);
}

static void scenario_flushstop(void)
{
	unsigned long long id;

	for (unsigned int i = 0; i + 1 < f.req.entries; i++)
		raw_big_write(4, i % 4 * 8192ull);
	raw(PVBLK_OP_FLUSH, &id);
	pvblk_front_kick(&f);
	pv_doorbell(f.evtchn);
	/* exit at once: the stop reaches the backend while its FLUSH waits */
	pv_printf("exiting with writes and a flush in flight\n");
}

/* A CONNECT of two queues whose second ring is not granted. */
static long bad_connect(unsigned long long kind)
{
	static struct pvblk_ctrl c __attribute__((aligned(4096)));
	static unsigned char r0[16384] __attribute__((aligned(4096)));
	struct pv_ring_params p = { 32, PVBLK_REQ_SIZE, 32, PVBLK_RSP_SIZE };
	long cg = pv_gnttab_grant(&c, 1, PV_DOMID_MONITOR, 0), rg;

	if (cg < 0 || pv_ring_pair_init(r0, sizeof(r0), &p, 0) < 0)
		return -1000;
	rg = pv_gnttab_grant(r0, (unsigned int)(pv_ring_pair_size(&p) / 4096), PV_DOMID_MONITOR, 0);
	if (rg < 0)
		return -1001;
	c.cmd = PVBLK_CMD_CONNECT;
	c.status = PV_EIO;
	c.nr_queues = 2;
	c.q[0] = (struct pvblk_queue_desc){ (unsigned int)rg, (unsigned int)(pv_ring_pair_size(&p) / 4096), 0, 0 };
	if (kind == 0)
		c.q[1] = (struct pvblk_queue_desc){ 4000, 4, 0, 0 }; /* no such grant */
	else if (kind == 1)
		c.q[1] = c.q[0]; /* the same ring twice */
	else
		c.q[1] = (struct pvblk_queue_desc){ (unsigned int)pv_gnttab_grant(r0, c.q[0].ring_pages, PV_DOMID_MONITOR, 0),
						    c.q[0].ring_pages, 0, 0 }; /* the same frames, another name */
	__asm__ __volatile__("outl %0, %1" : : "a"((unsigned int)cg), "d"((unsigned short)PVBLK_PORT) : "memory");
	pv_printf("bad_connect=%d evtchn0=%u\n", c.status, c.q[0].evtchn);
	return c.status;
}

/* ---- mq: one queue per vCPU ---- */

#define MQ_MAX 4
#define MQ_RING (16 * 1024)
#define MQ_ROUNDS 6
#define MQ_DEPTH 8

static struct pvblk_front mq[MQ_MAX];
static unsigned char mq_rings[MQ_MAX][MQ_RING] __attribute__((aligned(4096)));
static unsigned char mq_stacks[MQ_MAX][16384] __attribute__((aligned(16)));
static volatile unsigned int mq_ok[MQ_MAX], mq_bad[MQ_MAX], mq_done[MQ_MAX];
static unsigned int mq_n;

static unsigned long long mq_sector(unsigned int q, unsigned int round, unsigned int i)
{
	return q * (cap / mq_n) + (round * MQ_DEPTH + i) * 8ull;
}

/* Queue q's work, on its own vCPU and without printing (the console buffer
 * belongs to vCPU 0): MQ_ROUNDS rounds of MQ_DEPTH 4 KiB writes in flight
 * together, then the same as reads, compared with the pattern. */
static void mq_worker(unsigned long q, unsigned long vcpu)
{
	struct pvblk_front *fq = &mq[q];
	unsigned char *buf = pool + q * (POOL / MQ_MAX), *expect = buf + MQ_DEPTH * 4096;
	struct pvblk_rsp rsp;

	(void)vcpu;
	for (unsigned int round = 0; round < MQ_ROUNDS; round++) {
		for (unsigned int pass = 0; pass < 2; pass++) {
			unsigned int op = pass ? PVBLK_OP_READ : PVBLK_OP_WRITE;

			for (unsigned int i = 0; i < MQ_DEPTH; i++) {
				unsigned char *b = buf + i * 4096;

				if (pass)
					memset(b, 0xa5, 4096);
				else
					fill(b, mq_sector((unsigned int)q, round, i), 4096, 50 + (unsigned int)q);
				if (pvblk_front_queue(fq, op, 0, mq_sector((unsigned int)q, round, i), b, 4096, 0, i))
					mq_bad[q]++;
			}
			pvblk_front_kick(fq);
			for (unsigned int i = 0; i < MQ_DEPTH; i++) {
				if (pvblk_front_wait(fq, &rsp) || rsp.status || rsp.id >= MQ_DEPTH) {
					mq_bad[q]++;
					continue;
				}
				if (pass) {
					unsigned char *b = buf + rsp.id * 4096;
					unsigned long long sector = mq_sector((unsigned int)q, round, (unsigned int)rsp.id);

					fill(expect, sector, 4096, 50 + (unsigned int)q);
					if (memcmp(b, expect, 4096)) {
						mq_bad[q]++;
						continue;
					}
				}
				mq_ok[q]++;
			}
		}
	}
	mq_done[q] = 1;
	while (q) /* a secondary vCPU parks */
		pv_block(0);
}

static int scenario_mq(unsigned int n)
{
	void *rings[MQ_MAX];
	struct pvblk_config cfg;
	long r;

	if (pvblk_front_config(&cfg)) {
		FAIL("config\n");
		return 1;
	}
	pv_printf("max_queues=%u\n", cfg.max_queues);
	cap = cfg.capacity;
	if (n == 0 || n > MQ_MAX || n > pv_boot->nr_vcpus || pvblk_front_ring_size(32) > MQ_RING) {
		FAIL("mq: %u queues on %u vCPUs\n", n, pv_boot->nr_vcpus);
		return 1;
	}
	mq_n = n;
	for (unsigned int i = 0; i < n; i++)
		rings[i] = mq_rings[i];
	r = pvblk_front_init_mq(mq, n, rings, MQ_RING, 32, pool, POOL);
	if (r) {
		FAIL("init_mq: %ld\n", r);
		return 1;
	}
	for (unsigned int i = 1; i < n; i++) {
		r = pv_vcpu_up(i, mq_worker, mq_stacks[i] + sizeof(mq_stacks[i]), i);
		if (r)
			FAIL("vcpu_up(%u): %ld\n", i, r);
	}
	mq_worker(0, 0);
	for (unsigned int i = 1; i < n; i++)
		while (!mq_done[i])
			pv_block_watch(10000000ull, &mq_done[i], 0);
	for (unsigned int q = 0; q < n; q++) {
		pv_printf("queue %u ok=%u bad=%u\n", q, mq_ok[q], mq_bad[q]);
		if (mq_bad[q] || mq_ok[q] != 2 * MQ_ROUNDS * MQ_DEPTH)
			failed = 1;
		for (unsigned int round = 0; round < MQ_ROUNDS; round++)
			pv_printf("w %llu %u %u\n", mq_sector(q, round, 0), MQ_DEPTH * 8, 50 + q);
	}
	if (failed)
		return 1;
	pv_printf("done\n");
	return 0;
}

int pv_main(const struct pv_boot_info *bi)
{
	const char *p = pv_cmdline(), *q;
	char sc[16] = "";
	unsigned long long arg;
	unsigned int i;
	long r;

	for (i = 0; *p && *p != ' ' && i < sizeof(sc) - 1; i++)
		sc[i] = *p++;
	while (*p == ' ')
		p++;
	rng = pv_strtoull(p, &q) | 1;
	arg = *q ? pv_strtoull(q + 1, 0) : 0;
	if (!strcmp(sc, "mq"))
		return scenario_mq((unsigned int)arg);
	if (!strcmp(sc, "reconnect") && bad_connect(arg) == 0)
		FAIL("a CONNECT with a bad queue succeeded\n");
	r = pvblk_front_init(&f, ring, sizeof(ring), 32, pool, POOL);
	if (r) {
		pv_printf("FAIL init: %ld\n", r);
		return 1;
	}
	cap = f.cfg.capacity;
	pv_printf("capacity=%llu features=%x\n", cap, f.cfg.features);
	if (!strcmp(sc, "rw"))
		scenario_rw(arg);
	else if (!strcmp(sc, "ops"))
		scenario_ops();
	else if (!strcmp(sc, "hostile"))
		scenario_hostile(arg ? arg : 1);
	else if (!strcmp(sc, "ro"))
		scenario_ro();
	else if (!strcmp(sc, "durable"))
		scenario_durable();
	else if (!strcmp(sc, "overflow"))
		scenario_overflow();
	else if (!strcmp(sc, "efbig"))
		scenario_efbig(arg);
	else if (!strcmp(sc, "rspfull"))
		scenario_rspfull(arg);
	else if (!strcmp(sc, "qdeep"))
		scenario_qdeep();
	else if (!strcmp(sc, "flushstop"))
		scenario_flushstop();
	else if (!strcmp(sc, "reconnect"))
		write_check(8, 4096, 1);
	else if (!strcmp(sc, "disconnect")) {
		write_check(8, 4096, 1);
		pv_printf("disconnect=%ld\n", pvblk_front_disconnect(&f, 1));
		r = pvblk_front_init(&f, ring, sizeof(ring), 32, pool, POOL);
		pv_printf("reconnected=%ld\n", r);
		if (!r)
			write_check(64, 8192, 2);
	}
	else if (!strcmp(sc, "faultpub"))
		scenario_faultpub(bi->ram_size);
	else {
		pv_printf("FAIL bad command line '%s'\n", pv_cmdline());
		return 2;
	}
	if (failed)
		return 1;
	pv_printf("done\n");
	return 0;
}
