/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Criterion tests for <pv/abi/ring.h> and the host helpers in ring/ring_host.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <pv/abi/ring.h>
#include "ring_host.h"

#define PAGE 4096u

/* A ring pair in its own mapping, with PROT_NONE guard pages on both sides. */
struct region {
	uint8_t *map;
	size_t map_len;
	void *mem;
	size_t len;
	struct pv_ring_params prm;
};

static void region_new(struct region *r, uint32_t req_n, uint32_t req_sz, uint32_t rsp_n, uint32_t rsp_sz,
		       uint32_t start)
{
	r->prm = (struct pv_ring_params){ req_n, req_sz, rsp_n, rsp_sz };
	r->len = pv_ring_pair_size(&r->prm);
	cr_assert_neq(r->len, 0, "valid shape");
	r->map_len = r->len + 2 * PAGE;
	r->map = mmap(NULL, r->map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(r->map, MAP_FAILED);
	r->mem = r->map + PAGE;
	cr_assert_eq(mprotect(r->mem, r->len, PROT_READ | PROT_WRITE), 0);
	cr_assert_eq(pv_ring_pair_init(r->mem, r->len, &r->prm, start), 0);
}

static void region_free(struct region *r)
{
	munmap(r->map, r->map_len);
}

static struct pv_ring_shared *sh(struct region *r)
{
	return r->mem;
}

static void fill(void *dst, uint32_t size, uint64_t seq)
{
	uint64_t *w = dst;

	for (uint32_t i = 0; i < size / 8; i++)
		w[i] = seq * 0x9E3779B97F4A7C15ull + i;
}

static int verify(const void *src, uint32_t size, uint64_t seq)
{
	const uint64_t *w = src;

	for (uint32_t i = 0; i < size / 8; i++)
		if (w[i] != seq * 0x9E3779B97F4A7C15ull + i)
			return 0;
	return 1;
}

Test(ring, shared_layout_has_fixed_offsets)
{
	struct pv_ring_params prm = { 1024, 64, 256, 128 };

	cr_assert_eq(sizeof(struct pv_ring_shared), 4096);
	cr_assert_eq(offsetof(struct pv_ring_shared, hdr.dir[PV_RING_REQ].entries), 16);
	cr_assert_eq(offsetof(struct pv_ring_shared, hdr.dir[PV_RING_RSP].offset), 40);
	cr_assert_eq(offsetof(struct pv_ring_shared, idx[PV_RING_REQ].p.prod), 128);
	cr_assert_eq(offsetof(struct pv_ring_shared, idx[PV_RING_REQ].p.cons_event), 132);
	cr_assert_eq(offsetof(struct pv_ring_shared, idx[PV_RING_REQ].c.cons), 256);
	cr_assert_eq(offsetof(struct pv_ring_shared, idx[PV_RING_REQ].c.prod_event), 260);
	cr_assert_eq(offsetof(struct pv_ring_shared, idx[PV_RING_RSP].p.prod), 384);
	cr_assert_eq(offsetof(struct pv_ring_shared, idx[PV_RING_RSP].c.cons), 512);
	/* producer and consumer fields never share a 128-byte line */
	cr_assert_eq(offsetof(struct pv_ring_shared, idx[0].c) - offsetof(struct pv_ring_shared, idx[0].p),
		     PV_RING_LINE_SIZE);
	cr_assert_eq(pv_ring_slots_offset(&prm, PV_RING_REQ), 4096);
	cr_assert_eq(pv_ring_slots_offset(&prm, PV_RING_RSP), 4096 + 1024 * 64);
	cr_assert_eq(pv_ring_pair_size(&prm), 4096 + 1024 * 64 + 256 * 128);
	prm.rsp_entry_size = 8; /* 2 KiB of slots still take a page */
	cr_assert_eq(pv_ring_pair_size(&prm), 4096 + 1024 * 64 + 4096);
}

Test(ring, init_and_header_check_reject_bad_shapes)
{
	struct region r;
	struct pv_ring_params got, bad;
	struct pv_ring_shared *s;

	region_new(&r, 64, 32, 16, 64, 0);
	s = sh(&r);
	cr_assert_eq(pv_ring_pair_check(r.mem, r.len, &got), 0);
	cr_assert_eq(memcmp(&got, &r.prm, sizeof(got)), 0);
	cr_assert_eq(s->idx[PV_RING_REQ].c.prod_event, 1, "consumers start armed");
	cr_assert_eq(pv_ring_pair_check(r.mem, r.len - 1, &got), -EINVAL, "short region");
	cr_assert_eq(pv_ring_pair_check((uint8_t *)r.mem + 8, r.len, &got), -EINVAL, "misaligned");

	bad = r.prm;
	bad.req_entries = 48;
	cr_assert_eq(pv_ring_pair_size(&bad), 0, "entries not a power of two");
	bad = r.prm;
	bad.rsp_entry_size = 12;
	cr_assert_eq(pv_ring_pair_size(&bad), 0, "entry size not a multiple of 8");
	bad.rsp_entry_size = 0;
	cr_assert_eq(pv_ring_pair_size(&bad), 0);
	bad = r.prm;
	bad.req_entries = PV_RING_MAX_ENTRIES * 2;
	cr_assert_eq(pv_ring_pair_size(&bad), 0);
	bad.req_entries = PV_RING_MAX_ENTRIES;
	bad.req_entry_size = 4096;
	cr_assert_eq(pv_ring_pair_size(&bad), 0, "more than PV_RING_MAX_BYTES");
	cr_assert_eq(pv_ring_pair_init(r.mem, r.len, &bad, 0), -EINVAL);

	/* a hostile creator edits the header: each edit is refused */
	s->hdr.dir[PV_RING_RSP].offset += 4096;
	cr_assert_eq(pv_ring_pair_check(r.mem, r.len, &got), -EINVAL, "non-canonical offset");
	s->hdr.dir[PV_RING_RSP].offset -= 4096;
	s->hdr.dir[PV_RING_REQ].entries = 1u << 19;
	cr_assert_eq(pv_ring_pair_check(r.mem, r.len, &got), -EINVAL, "slots past the region");
	s->hdr.dir[PV_RING_REQ].entries = 64;
	s->hdr.version = 2;
	cr_assert_eq(pv_ring_pair_check(r.mem, r.len, &got), -EINVAL, "version");
	s->hdr.version = PV_RING_VERSION;
	s->hdr.magic ^= 1;
	cr_assert_eq(pv_ring_pair_check(r.mem, r.len, &got), -EINVAL, "magic");
	s->hdr.magic ^= 1;
	cr_assert_eq(pv_ring_pair_check(r.mem, r.len, &got), 0);

	struct pv_ring_prod p;
	cr_assert_eq(pv_ring_prod_attach(&p, r.mem, &r.prm, 2), -EINVAL, "no third direction");
	region_free(&r);
}

Test(ring, multi_page_ring_of_4096_entries_fills_and_drains)
{
	struct region r;
	struct pv_ring_prod p;
	struct pv_ring_cons c;
	uint8_t buf[64];
	uint8_t *slot, *lo = NULL, *hi = NULL;
	uint32_t n = 0;

	region_new(&r, 4096, 64, 1024, 128, 0); /* 64 pages of requests */
	cr_assert_eq(pv_ring_prod_attach(&p, r.mem, &r.prm, PV_RING_REQ), 0);
	cr_assert_eq(pv_ring_cons_attach(&c, r.mem, &r.prm, PV_RING_REQ), 0);
	cr_assert_eq(pv_ring_space(&p), 4096);
	while ((slot = pv_ring_get_slot(&p)) != NULL) {
		fill(slot, 64, n++);
		lo = !lo || slot < lo ? slot : lo;
		hi = !hi || slot > hi ? slot : hi;
	}
	cr_assert_eq(n, 4096, "a full ring holds every slot");
	cr_assert_eq(lo, (uint8_t *)r.mem + 4096);
	cr_assert_eq(hi, (uint8_t *)r.mem + 4096 + 4095 * 64);
	cr_assert_eq(pv_ring_produce(&p, buf, 8), -EAGAIN, "full");
	cr_assert_eq(pv_ring_push(&p), 1, "the armed consumer is notified once");
	cr_assert_eq(pv_ring_avail(&c), 4096);
	for (uint32_t i = 0; i < 4096; i++) {
		cr_assert_eq(pv_ring_consume(&c, buf, sizeof(buf)), 1);
		cr_assert(verify(buf, 64, i), "entry %u", i);
	}
	cr_assert_eq(pv_ring_consume(&c, buf, sizeof(buf)), 0, "empty");
	pv_ring_release(&c);
	cr_assert_eq(pv_ring_space(&p), 4096);
	region_free(&r);
}

Test(ring, entry_size_variants_copy_exactly_one_entry)
{
	static const uint32_t sizes[] = { 8, 16, 24, 40, 64, 136, 512, 4096, 65536 };
	static uint8_t in[65536 + 64], out[65536 + 64];

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint32_t es = sizes[k];
		struct region r;
		struct pv_ring_prod p;
		struct pv_ring_cons c;

		region_new(&r, 8, 8, 16, es, 0); /* the response direction carries them */
		pv_ring_prod_attach(&p, r.mem, &r.prm, PV_RING_RSP);
		pv_ring_cons_attach(&c, r.mem, &r.prm, PV_RING_RSP);
		for (uint64_t i = 0; i < 40; i++) { /* wraps the 16 slots twice */
			fill(in, es, i);
			cr_assert_eq(pv_ring_produce(&p, in, es), 0);
			pv_ring_push(&p);
			memset(out, 0xaa, sizeof(out));
			cr_assert_eq(pv_ring_consume(&c, out, es + 64), 1);
			cr_assert(verify(out, es, i), "size %u entry %lu", es, (unsigned long)i);
			for (uint32_t j = es; j < es + 64; j++)
				cr_assert_eq(out[j], 0, "buffer beyond the entry is zeroed");
			pv_ring_release(&c);
		}
		cr_assert_eq(pv_ring_produce(&p, in, es + 1), -EMSGSIZE);
		/* a short entry is zero-padded: no stale bytes reach the peer */
		memset(in, 0x5a, 16);
		cr_assert_eq(pv_ring_produce(&p, in, es > 8 ? 8 : 4), 0);
		pv_ring_push(&p);
		memset(out, 0xaa, es);
		cr_assert_eq(pv_ring_consume(&c, out, es), 1);
		for (uint32_t j = es > 8 ? 8 : 4; j < es; j++)
			cr_assert_eq(out[j], 0);
		/* a short copy-out takes a prefix of the entry */
		fill(in, es, 7);
		pv_ring_produce(&p, in, es);
		pv_ring_push(&p);
		memset(out, 0xaa, 16);
		cr_assert_eq(pv_ring_consume(&c, out, 4), 1);
		cr_assert_eq(memcmp(out, in, 4), 0);
		cr_assert_eq(out[4], 0xaa);
		region_free(&r);
	}
}

Test(ring, batch_of_n_requests_with_busy_consumer_notifies_once)
{
	struct region r;
	struct pv_ring_prod p;
	struct pv_ring_cons c;
	uint64_t v = 0, e;
	int notifies = 0;

	region_new(&r, 256, 8, 8, 8, 0);
	pv_ring_prod_attach(&p, r.mem, &r.prm, PV_RING_REQ);
	pv_ring_cons_attach(&c, r.mem, &r.prm, PV_RING_REQ);
	/* 100 requests pushed one by one; the consumer is busy (never re-arms) */
	for (int i = 0; i < 100; i++) {
		cr_assert_eq(pv_ring_produce(&p, &v, 8), 0);
		v++;
		notifies += pv_ring_push(&p);
		if (i % 10 == 9) { /* it consumes some, still busy */
			while (pv_ring_consume(&c, &e, 8) == 1)
				;
			pv_ring_release(&c);
		}
	}
	cr_assert_eq(notifies, 1, "one notification for the whole batch, got %d", notifies);
	/* it finishes, re-arms, finds nothing: the next request notifies again */
	while (pv_ring_consume(&c, &e, 8) == 1)
		;
	pv_ring_release(&c);
	cr_assert_eq(pv_ring_final_check(&c), 0, "may sleep");
	notifies = 0;
	for (int i = 0; i < 50; i++) {
		pv_ring_produce(&p, &v, 8);
		v++;
	}
	notifies += pv_ring_push(&p);
	for (int i = 0; i < 50; i++) {
		pv_ring_produce(&p, &v, 8);
		notifies += pv_ring_push(&p);
	}
	cr_assert_eq(notifies, 1, "one notification after re-arming, got %d", notifies);
	region_free(&r);
}

Test(ring, consumer_rearms_and_rechecks_before_sleeping)
{
	struct region r;
	struct pv_ring_prod p;
	struct pv_ring_cons c;
	uint64_t v = 1, e;

	region_new(&r, 16, 8, 16, 8, 0);
	pv_ring_prod_attach(&p, r.mem, &r.prm, PV_RING_REQ);
	pv_ring_cons_attach(&c, r.mem, &r.prm, PV_RING_REQ);
	pv_ring_produce(&p, &v, 8);
	cr_assert_eq(pv_ring_push(&p), 1);
	cr_assert_eq(pv_ring_consume(&c, &e, 8), 1);
	/* the consumer's event is now behind; the producer publishes without
	 * notifying, just before the consumer arms to sleep */
	pv_ring_produce(&p, &v, 8);
	cr_assert_eq(pv_ring_push(&p), 0, "consumer not armed: no notification");
	cr_assert_eq(pv_ring_final_check(&c), 1, "the re-check finds it: do not sleep");
	cr_assert_eq(sh(&r)->idx[PV_RING_REQ].c.prod_event, c.cons + 1, "armed for the next entry");
	cr_assert_eq(pv_ring_consume(&c, &e, 8), 1);
	cr_assert_eq(pv_ring_final_check(&c), 0, "empty: sleep");
	pv_ring_produce(&p, &v, 8);
	cr_assert_eq(pv_ring_push(&p), 1, "armed: notified");
	region_free(&r);
}

/* A consumer that slept armed and woke for another reason (a completion)
 * disarms while it polls: publishes cost nothing until it arms again. */
Test(ring, woken_consumer_disarms_while_polling)
{
	struct region r;
	struct pv_ring_prod p;
	struct pv_ring_cons c;
	uint64_t v = 1, e;
	int notifies = 0;

	region_new(&r, 16, 8, 16, 8, 0xfffffff0u);
	pv_ring_prod_attach(&p, r.mem, &r.prm, PV_RING_REQ);
	pv_ring_cons_attach(&c, r.mem, &r.prm, PV_RING_REQ);
	cr_assert_eq(pv_ring_final_check(&c), 0, "empty: sleep armed");
	pv_ring_disarm(&c); /* woke up for something else */
	for (int i = 0; i < 40; i++) { /* indices cross UINT32_MAX on the way */
		pv_ring_produce(&p, &v, 8);
		notifies += pv_ring_push(&p);
		cr_assert_eq(pv_ring_consume(&c, &e, 8), 1);
		pv_ring_release(&c);
	}
	cr_assert_eq(notifies, 0, "disarmed consumer was notified %d times", notifies);
	cr_assert_eq(pv_ring_final_check(&c), 0);
	pv_ring_produce(&p, &v, 8);
	cr_assert_eq(pv_ring_push(&p), 1, "armed again: notified");
	/* without the disarm, the stale armed index costs a notification */
	cr_assert_eq(pv_ring_consume(&c, &e, 8), 1);
	cr_assert_eq(pv_ring_final_check(&c), 0);
	pv_ring_produce(&p, &v, 8);
	cr_assert_eq(pv_ring_push(&p), 1);
	region_free(&r);
}

Test(ring, producer_waiting_for_space_is_notified_once_enough_is_free)
{
	struct region r;
	struct pv_ring_prod p;
	struct pv_ring_cons c;
	uint64_t v = 0, e;

	region_new(&r, 16, 8, 8, 8, 0);
	pv_ring_prod_attach(&p, r.mem, &r.prm, PV_RING_REQ);
	pv_ring_cons_attach(&c, r.mem, &r.prm, PV_RING_REQ);
	while (pv_ring_produce(&p, &v, 8) == 0)
		v++;
	pv_ring_push(&p);
	cr_assert_eq(pv_ring_space_arm(&p, 4), 0, "full: sleep until 4 are free");
	for (int i = 0; i < 3; i++)
		pv_ring_consume(&c, &e, 8);
	cr_assert_eq(pv_ring_release(&c), 0, "3 free: not yet");
	pv_ring_consume(&c, &e, 8);
	cr_assert_eq(pv_ring_release(&c), 1, "4 free: notify");
	pv_ring_consume(&c, &e, 8);
	cr_assert_eq(pv_ring_release(&c), 0, "once");
	cr_assert_eq(pv_ring_space(&p), 5);
	region_free(&r);
}

Test(ring, free_running_indices_wrap_around_uint32_max)
{
	struct region r;
	struct pv_ring_prod p;
	struct pv_ring_cons c;
	uint64_t seq = 0, want = 0, e;
	int notifies = 0, sleeps = 0;

	cr_assert(pv_ring_event_crossed(0, UINT32_MAX, 0));
	cr_assert(pv_ring_event_crossed(1, UINT32_MAX - 2, 3));
	cr_assert(!pv_ring_event_crossed(UINT32_MAX - 2, UINT32_MAX - 2, 3));
	cr_assert(!pv_ring_event_crossed(4, UINT32_MAX - 2, 3));
	cr_assert(!pv_ring_event_crossed(5, 5, 5), "an empty batch crosses nothing");

	region_new(&r, 8, 16, 8, 16, UINT32_MAX - 20);
	pv_ring_prod_attach(&p, r.mem, &r.prm, PV_RING_REQ);
	pv_ring_cons_attach(&c, r.mem, &r.prm, PV_RING_REQ);
	for (int round = 0; round < 200; round++) {
		int batch = 1 + round % 8, sleep_now;
		uint64_t ent[2];

		for (int i = 0; i < batch; i++) {
			ent[0] = seq;
			ent[1] = ~seq;
			seq++;
			cr_assert_eq(pv_ring_produce(&p, ent, sizeof(ent)), 0);
		}
		notifies += pv_ring_push(&p);
		while (pv_ring_consume(&c, ent, sizeof(ent)) == 1) {
			cr_assert_eq(ent[0], want);
			cr_assert_eq(ent[1], ~want);
			want++;
		}
		pv_ring_release(&c);
		sleep_now = round % 3 != 0; /* sometimes it stays busy */
		if (sleep_now) {
			cr_assert_eq(pv_ring_final_check(&c), 0);
			sleeps++;
		}
	}
	cr_assert_eq(want, seq);
	cr_assert_lt(c.cons, 2000u, "the indices wrapped (cons = %u)", c.cons);
	/* one notification per sleep, plus the first (armed at init) */
	cr_assert_eq(notifies, sleeps + 1 - (199 % 3 != 0), "notifies %d sleeps %d", notifies, sleeps);
	(void)e;
	region_free(&r);
}

/* The hostile producer writes prod; the host consumer must refuse it. */
static void hostile_prod_case(uint32_t start, int64_t delta, int consume_first)
{
	struct region r;
	struct pv_ring_prod g;   /* guest producer */
	struct pv_ring_cons h;   /* host consumer */
	uint8_t buf[4096];
	uint32_t *prod;

	/* response direction last: a guard page follows its last slot */
	region_new(&r, 8, 8, 64, 4096, start);
	pv_ring_prod_attach(&g, r.mem, &r.prm, PV_RING_RSP);
	pv_ring_cons_attach(&h, r.mem, &r.prm, PV_RING_RSP);
	prod = &sh(&r)->idx[PV_RING_RSP].p.prod;
	if (consume_first) {
		for (int i = 0; i < 10; i++)
			pv_ring_produce(&g, buf, 8);
		pv_ring_push(&g);
		for (int i = 0; i < 10; i++)
			cr_assert_eq(pv_ring_consume(&h, buf, sizeof(buf)), 1);
	}
	*prod = h.cons + (uint32_t)delta;
	cr_assert_eq(pv_ring_avail(&h), -EPROTO, "prod %+lld from cons", (long long)delta);
	cr_assert_eq(pv_ring_consume(&h, buf, sizeof(buf)), -EPROTO);
	cr_assert_null(pv_ring_peek(&h));
	*prod = h.cons + 1; /* a valid value later does not revive it */
	cr_assert_eq(pv_ring_consume(&h, buf, sizeof(buf)), -EPROTO, "broken is sticky");
	cr_assert_eq(sh(&r)->idx[PV_RING_RSP].c.error, EPROTO, "the guest can see why");
	cr_assert_eq(pv_ring_space(&g), -EPIPE, "the guest producer learns it");
	cr_assert_null(pv_ring_get_slot(&g));
	region_free(&r);
}

Test(ring, producer_index_far_beyond_ring_is_broken_not_read)
{
	hostile_prod_case(0, 65, 0);                  /* one more than the ring holds */
	hostile_prod_case(0, 0x7fffffff, 0);
	hostile_prod_case(UINT32_MAX - 3, 1000, 0);   /* across the wrap */
	hostile_prod_case(0, -1, 0);                  /* behind the consumer */
	hostile_prod_case(100, -3, 1);                /* behind what was consumed */
	hostile_prod_case(UINT32_MAX - 5, 65, 1);     /* runs ahead of the released cons */
}

Test(ring, full_ring_from_untrusted_producer_reads_only_inside_slots)
{
	struct region r;
	struct pv_ring_prod g;
	struct pv_ring_cons h;
	uint8_t buf[4096];

	region_new(&r, 8, 8, 64, 4096, UINT32_MAX - 30);
	pv_ring_prod_attach(&g, r.mem, &r.prm, PV_RING_RSP);
	pv_ring_cons_attach(&h, r.mem, &r.prm, PV_RING_RSP);
	/* exactly full is legal; every slot up to the guard page is read */
	sh(&r)->idx[PV_RING_RSP].p.prod = h.cons + 64;
	cr_assert_eq(pv_ring_avail(&h), 64);
	for (int i = 0; i < 64; i++)
		cr_assert_eq(pv_ring_consume(&h, buf, sizeof(buf)), 1);
	cr_assert_eq(pv_ring_consume(&h, buf, sizeof(buf)), 0);
	region_free(&r);
}

Test(ring, entry_is_copied_out_before_validation)
{
	struct region r;
	struct pv_ring_prod g;
	struct pv_ring_cons h;
	uint64_t in[4] = { 1, 2, 3, 4 }, out[4];
	uint64_t *slot;

	region_new(&r, 8, 32, 8, 32, 0);
	pv_ring_prod_attach(&g, r.mem, &r.prm, PV_RING_REQ);
	pv_ring_cons_attach(&h, r.mem, &r.prm, PV_RING_REQ);
	slot = pv_ring_get_slot(&g);
	memcpy(slot, in, sizeof(in));
	pv_ring_push(&g);
	cr_assert_eq(pv_ring_consume(&h, out, sizeof(out)), 1);
	slot[0] = 0xbad; /* the guest rewrites the entry after the copy */
	cr_assert_eq(out[0], 1, "the private copy is what gets validated");
	cr_assert_eq(memcmp(out, in, sizeof(in)), 0);
	region_free(&r);
}

Test(ring, consumer_index_running_ahead_or_back_is_broken)
{
	struct region r;
	struct pv_ring_prod h;   /* host producer */
	struct pv_ring_cons g;   /* guest consumer */
	uint64_t v = 0, e;
	uint32_t *cons;

	region_new(&r, 8, 8, 16, 8, UINT32_MAX - 1);
	pv_ring_prod_attach(&h, r.mem, &r.prm, PV_RING_RSP);
	pv_ring_cons_attach(&g, r.mem, &r.prm, PV_RING_RSP);
	cons = &sh(&r)->idx[PV_RING_RSP].c.cons;
	for (int i = 0; i < 5; i++)
		pv_ring_produce(&h, &v, 8);
	pv_ring_push(&h);
	for (int i = 0; i < 3; i++)
		pv_ring_consume(&g, &e, 8);
	pv_ring_release(&g);
	cr_assert_eq(pv_ring_space(&h), 16 - 2);
	*cons += 3; /* releases more than was published */
	cr_assert_eq(pv_ring_space(&h), -EPROTO);
	cr_assert_null(pv_ring_get_slot(&h));
	cr_assert_eq(pv_ring_produce(&h, &v, 8), -EPROTO);
	cr_assert_eq(sh(&r)->idx[PV_RING_RSP].p.error, EPROTO);
	cr_assert_eq(pv_ring_avail(&g), -EPIPE, "the guest consumer learns it");
	region_free(&r);

	region_new(&r, 8, 8, 16, 8, 0);
	pv_ring_prod_attach(&h, r.mem, &r.prm, PV_RING_RSP);
	cons = &sh(&r)->idx[PV_RING_RSP].c.cons;
	for (int i = 0; i < 5; i++)
		pv_ring_produce(&h, &v, 8);
	pv_ring_push(&h);
	*cons = 4;
	cr_assert_eq(pv_ring_space(&h), 15);
	*cons = 2; /* goes backwards */
	cr_assert_eq(pv_ring_space(&h), -EPROTO);
	region_free(&r);
}

Test(ring, adaptive_wait_returns_error_on_broken_ring_without_sleeping)
{
	struct region r;
	struct pv_ring_cons h;
	int efd = eventfd(0, EFD_CLOEXEC);
	struct pv_ring_eventfd ev = { efd, 100 };
	struct pv_ring_poller w = { .poll_ns = 1000, .wait = pv_ring_eventfd_wait, .wait_arg = &ev };

	region_new(&r, 8, 8, 8, 8, 0);
	pv_ring_cons_attach(&h, r.mem, &r.prm, PV_RING_REQ);
	cr_assert_eq(pv_ring_wait_avail(&h, &w), -ETIMEDOUT, "empty: sleeps, times out");
	cr_assert_eq(w.sleeps, 1);
	sh(&r)->idx[PV_RING_REQ].p.prod = 1000;
	cr_assert_eq(pv_ring_wait_avail(&h, &w), -EPROTO);
	cr_assert_eq(w.sleeps, 1);
	w.wait = NULL;
	cr_assert_eq(pv_ring_wait_avail(&h, &w), -EINVAL);
	close(efd);
	region_free(&r);
}

Test(ring, heavy_barrier_final_check_and_guest_sleep_recheck)
{
	struct region r;
	struct pv_ring_prod p;
	struct pv_ring_cons c;
	uint64_t v = 0;

	cr_assert_eq(pv_ring_heavy_barrier_init(), 0, "membarrier(PRIVATE_EXPEDITED) is available");
	region_new(&r, 8, 8, 8, 8, 5);
	pv_ring_prod_attach(&p, r.mem, &r.prm, PV_RING_RSP);
	pv_ring_cons_attach(&c, r.mem, &r.prm, PV_RING_RSP);
	cr_assert_eq(pv_ring_final_check_heavy(&c), 0);
	cr_assert_eq(pv_ring_wait_word(&c), &sh(&r)->idx[PV_RING_RSP].p.prod, "futex word: prod");
	cr_assert_eq(pv_ring_space_wait_word(&p), &sh(&r)->idx[PV_RING_RSP].c.cons, "futex word: cons");
	cr_assert_eq(pv_ring_prod_moved(r.mem, PV_RING_RSP, c.cons), 0, "guest saw prod 5: may sleep");
	pv_ring_produce(&p, &v, 8);
	cr_assert_eq(pv_ring_push(&p), 1);
	cr_assert_eq(pv_ring_prod_moved(r.mem, PV_RING_RSP, 5), 1, "prod moved: do not sleep");
	cr_assert_eq(pv_ring_final_check_heavy(&c), 1);
	while (pv_ring_produce(&p, &v, 8) == 0)
		;
	pv_ring_push(&p);
	cr_assert_eq(pv_ring_space_arm_heavy(&p, 2), 0);
	region_free(&r);
}

/* ---- threads ------------------------------------------------------------- */

struct stress {
	struct region r;
	uint64_t total;
	uint32_t batch;
	int data_efd, space_efd;
	struct pv_ring_poller cw, pw;
	struct pv_ring_eventfd cev, pev;
	uint64_t notify_data, notify_space, received;
	char err[160];
};

static void *stress_producer(void *arg)
{
	struct stress *s = arg;
	struct pv_ring_prod p;
	uint64_t seq = 0;

	pv_ring_prod_attach(&p, s->r.mem, &s->r.prm, PV_RING_REQ);
	while (seq < s->total) {
		int space = pv_ring_space(&p);
		uint32_t n, want = p.entries / 4;

		if (space == 0) {
			if (want > s->total - seq)
				want = (uint32_t)(s->total - seq);
			space = pv_ring_wait_space(&p, want, &s->pw);
		}
		if (space <= 0) {
			snprintf(s->err, sizeof(s->err), "producer: space %d at %llu", space,
				 (unsigned long long)seq);
			return NULL;
		}
		n = (uint32_t)space < s->batch ? (uint32_t)space : s->batch;
		if (n > s->total - seq)
			n = (uint32_t)(s->total - seq);
		for (uint32_t i = 0; i < n; i++)
			fill(pv_ring_get_slot(&p), p.entry_size, seq++);
		if (pv_ring_push(&p)) {
			s->notify_data++;
			pv_ring_eventfd_notify(s->data_efd);
		}
	}
	return NULL;
}

static void *stress_consumer(void *arg)
{
	struct stress *s = arg;
	struct pv_ring_cons c;
	uint64_t buf[64];

	pv_ring_cons_attach(&c, s->r.mem, &s->r.prm, PV_RING_REQ);
	while (s->received < s->total) {
		int n = pv_ring_wait_avail(&c, &s->cw);

		if (n <= 0) {
			snprintf(s->err, sizeof(s->err), "consumer: wait %d at %llu", n,
				 (unsigned long long)s->received);
			return NULL;
		}
		while (n-- > 0) {
			if (pv_ring_consume(&c, buf, sizeof(buf)) != 1 || !verify(buf, c.entry_size, s->received)) {
				snprintf(s->err, sizeof(s->err), "consumer: entry %llu wrong",
					 (unsigned long long)s->received);
				return NULL;
			}
			s->received++;
		}
		if (pv_ring_release(&c)) {
			s->notify_space++;
			pv_ring_eventfd_notify(s->space_efd);
		}
	}
	return NULL;
}

static double run_stress(struct stress *s, uint32_t entries, uint32_t esize, uint64_t poll_ns)
{
	pthread_t tp, tc;
	struct timespec t0, t1;

	region_new(&s->r, entries, esize, 8, 8, UINT32_MAX - 1000);
	s->data_efd = eventfd(0, EFD_CLOEXEC);
	s->space_efd = eventfd(0, EFD_CLOEXEC);
	s->cev = (struct pv_ring_eventfd){ s->data_efd, 10000 };  /* a lost wake-up fails, not hangs */
	s->pev = (struct pv_ring_eventfd){ s->space_efd, 10000 };
	s->cw = (struct pv_ring_poller){ .poll_ns = poll_ns, .wait = pv_ring_eventfd_wait, .wait_arg = &s->cev };
	s->pw = (struct pv_ring_poller){ .poll_ns = poll_ns, .wait = pv_ring_eventfd_wait, .wait_arg = &s->pev };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_create(&tc, NULL, stress_consumer, s);
	pthread_create(&tp, NULL, stress_producer, s);
	pthread_join(tp, NULL);
	if (s->err[0])
		pv_ring_eventfd_notify(s->data_efd);
	pthread_join(tc, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(s->data_efd);
	close(s->space_efd);
	region_free(&s->r);
	return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

Test(ring, stress_10M_entries_thread_to_thread_in_order, .timeout = 120)
{
	static struct stress s = { .total = 10000000, .batch = 256 };
	double secs = run_stress(&s, 1024, 32, 20000);

	cr_assert_eq(s.err[0], 0, "%s", s.err);
	cr_assert_eq(s.received, s.total);
	cr_log_info("10^7 entries of 32 B in %.2f s (%.1f M/s): %llu data and %llu space notifications, "
		    "consumer sleeps %llu, polls that hit %llu, producer sleeps %llu",
		    secs, s.total / secs / 1e6, (unsigned long long)s.notify_data,
		    (unsigned long long)s.notify_space, (unsigned long long)s.cw.sleeps,
		    (unsigned long long)s.cw.poll_hits, (unsigned long long)s.pw.sleeps);
	cr_assert_leq(s.notify_data, s.cw.sleeps + s.cw.rechecks + 1, "no notification unless the consumer armed");
}

Test(ring, stress_small_ring_without_polling_loses_no_wakeup, .timeout = 120)
{
	/* every wait ends in a sleep: the re-arm/re-check path under fire */
	static struct stress s = { .total = 200000, .batch = 3 };
	double secs = run_stress(&s, 4, 8, 0);

	cr_assert_eq(s.err[0], 0, "%s", s.err);
	cr_assert_eq(s.received, s.total);
	cr_log_info("200000 entries, 4-slot ring, no polling: %.2f s, %llu + %llu notifications, %llu + %llu sleeps",
		    secs, (unsigned long long)s.notify_data, (unsigned long long)s.notify_space,
		    (unsigned long long)s.cw.sleeps, (unsigned long long)s.pw.sleeps);
}

/* Ping-pong over a ring pair: the client sends a request, the echo server
 * returns it through the response direction. */
struct pingpong {
	struct region r;
	int msgs;
	uint64_t poll_ns;
	int req_efd, rsp_efd;
	uint64_t notifies, server_sleeps, client_sleeps;
	char err[128];
};

static void *echo_server(void *arg)
{
	struct pingpong *pp = arg;
	struct pv_ring_cons rq;
	struct pv_ring_prod rs;
	struct pv_ring_eventfd ev = { pp->req_efd, 10000 };
	struct pv_ring_poller w = { .poll_ns = pp->poll_ns, .wait = pv_ring_eventfd_wait, .wait_arg = &ev };
	uint64_t m[2];

	pv_ring_cons_attach(&rq, pp->r.mem, &pp->r.prm, PV_RING_REQ);
	pv_ring_prod_attach(&rs, pp->r.mem, &pp->r.prm, PV_RING_RSP);
	for (int done = 0; done < pp->msgs;) {
		int n = pv_ring_wait_avail(&rq, &w);

		if (n <= 0) {
			snprintf(pp->err, sizeof(pp->err), "server: wait %d", n);
			break;
		}
		while (pv_ring_consume(&rq, m, sizeof(m)) == 1) {
			m[1] = m[0] * 3;
			if (pv_ring_produce(&rs, m, sizeof(m)) != 0) {
				snprintf(pp->err, sizeof(pp->err), "server: response ring full");
				return NULL;
			}
			done++;
		}
		pv_ring_release(&rq);
		if (pv_ring_push(&rs)) {
			__atomic_fetch_add(&pp->notifies, 1, __ATOMIC_RELAXED);
			pv_ring_eventfd_notify(pp->rsp_efd);
		}
	}
	pp->server_sleeps = w.sleeps;
	return NULL;
}

static void pingpong_run(struct pingpong *pp)
{
	struct pv_ring_prod rq;
	struct pv_ring_cons rs;
	struct pv_ring_eventfd ev;
	struct pv_ring_poller w;
	pthread_t t;
	uint64_t m[2];

	region_new(&pp->r, 64, 16, 64, 16, 0);
	pp->req_efd = eventfd(0, EFD_CLOEXEC);
	pp->rsp_efd = eventfd(0, EFD_CLOEXEC);
	ev = (struct pv_ring_eventfd){ pp->rsp_efd, 10000 };
	w = (struct pv_ring_poller){ .poll_ns = pp->poll_ns, .wait = pv_ring_eventfd_wait, .wait_arg = &ev };
	pv_ring_prod_attach(&rq, pp->r.mem, &pp->r.prm, PV_RING_REQ);
	pv_ring_cons_attach(&rs, pp->r.mem, &pp->r.prm, PV_RING_RSP);
	pthread_create(&t, NULL, echo_server, pp);
	for (int i = 0; i < pp->msgs && !pp->err[0]; i++) {
		m[0] = (uint64_t)i;
		m[1] = 0;
		cr_assert_eq(pv_ring_produce(&rq, m, sizeof(m)), 0);
		if (pv_ring_push(&rq)) {
			__atomic_fetch_add(&pp->notifies, 1, __ATOMIC_RELAXED);
			pv_ring_eventfd_notify(pp->req_efd);
		}
		if (pv_ring_wait_avail(&rs, &w) <= 0) {
			snprintf(pp->err, sizeof(pp->err), "client: no response to %d", i);
			break;
		}
		cr_assert_eq(pv_ring_consume(&rs, m, sizeof(m)), 1);
		cr_assert_eq(m[0], (uint64_t)i);
		cr_assert_eq(m[1], (uint64_t)i * 3);
		pv_ring_release(&rs);
	}
	pthread_join(t, NULL);
	pp->client_sleeps = w.sleeps;
	close(pp->req_efd);
	close(pp->rsp_efd);
	region_free(&pp->r);
}

Test(ring, pingpong_over_ring_pair_without_polling_two_notifications_per_message, .timeout = 120)
{
	static struct pingpong pp = { .msgs = 20000, .poll_ns = 0 };

	pingpong_run(&pp);
	cr_assert_eq(pp.err[0], 0, "%s", pp.err);
	cr_log_info("pingpong-nopoll: %d messages, %.3f notifications/message", pp.msgs,
		    (double)pp.notifies / pp.msgs);
	cr_assert_leq(pp.notifies, 2u * pp.msgs);
}

Test(ring, pingpong_with_adaptive_polling_needs_few_notifications, .timeout = 120)
{
	static struct pingpong pp = { .msgs = 20000, .poll_ns = 200000 };

	pingpong_run(&pp);
	cr_assert_eq(pp.err[0], 0, "%s", pp.err);
	cr_log_info("pingpong with 200 us polling: %d messages, %.4f notifications/message, sleeps %llu + %llu",
		    pp.msgs, (double)pp.notifies / pp.msgs, (unsigned long long)pp.server_sleeps,
		    (unsigned long long)pp.client_sleeps);
	/* exact counts depend on scheduling (2 CPUs, other tests running) */
	cr_assert_lt(pp.notifies, 2u * pp.msgs);
}
