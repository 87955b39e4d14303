/* SPDX-License-Identifier: MIT */
/*
 * libpv shared-memory rings, ABI version 1.
 *
 * One header for guest code (freestanding: no libc, only the compiler's
 * <stdint.h>/<stddef.h>), host code and a future Linux kernel module.
 * Everything here is static inline; host-only helpers (adaptive polling,
 * the heavy barrier) live in libpv's ring/ring_host.h.
 *
 * Model
 * -----
 * A ring pair is one region of shared memory holding two single-producer /
 * single-consumer rings: the request direction (PV_RING_REQ, normally
 * guest -> host) and the response direction (PV_RING_RSP, host -> guest).
 * Each direction has a power-of-two number of slots of a fixed entry size
 * (a multiple of 8 bytes) and three free-running 32-bit indices:
 *
 *   prod        slots [cons, prod) hold entries the consumer has not released
 *   cons        every entry before cons has been released by the consumer
 *   prod_event  the consumer wants a notification when prod passes this
 *   cons_event  the producer wants a notification when cons passes this
 *
 * Indices count entries and wrap at 2^32; slot i lives at index i & (n-1).
 * prod - cons (mod 2^32) is never more than n.
 *
 * Layout (byte offsets from the start of the region, which must be
 * 4096-aligned; all fields little-endian, naturally aligned)
 * ----------------------------------------------------------------------
 *      0  struct pv_ring_hdr       written once by the creator before the
 *                                  region is shared; read-only afterwards
 *    128  req producer line        prod, cons_event, error  (req producer)
 *    256  req consumer line        cons, prod_event, error  (req consumer)
 *    384  rsp producer line        prod, cons_event, error  (rsp producer)
 *    512  rsp consumer line        cons, prod_event, error  (rsp consumer)
 *    640  reserved, zero, up to 4096
 *   4096  request slots: entries * entry_size bytes, rounded up to 4096
 *    ...  response slots, same rule (offset = dir[PV_RING_RSP].offset)
 *
 * Each line is written by exactly one side (single-writer fields only:
 * nothing in the protocol needs an atomic read-modify-write, which the
 * emulation backend cannot provide to a guest).  The lines are 128 bytes
 * apart so that a producer and a consumer never false-share, even with
 * the adjacent-line prefetcher that pulls 64-byte lines in pairs.  A side
 * never reads back its own line after attaching; it keeps its indices in
 * its private view (struct pv_ring_prod / struct pv_ring_cons), so a peer
 * scribbling over it changes nothing.  `error` is 0, or a positive errno
 * (PV_RING_EPROTO) the writer stored when it found the peer breaking the
 * protocol; the peer then sees PV_RING_EPIPE.
 *
 * Ordering (who writes what, and in which order)
 * ----------------------------------------------
 * Producer, to publish entries:
 *   P1 write the entries into slots [prod, new)          (plain stores)
 *   P2 pv_ring_wmb()                      entries before index
 *   P3 store prod = new
 *   P4 pv_ring_mb()                       store prod before load prod_event
 *   P5 load prod_event; notify iff it lies in (old, new]
 * Consumer:
 *   C1 load prod; check prod - cons <= n  (else: broken, see below)
 *   C2 pv_ring_rmb()                      index before entries
 *   C3 read (copy out) the entries in [cons, prod)
 *   C4 pv_ring_wmb()                      entry reads before the release
 *   C5 store cons; pv_ring_mb(); notify the producer iff cons_event lies
 *      in (old, new]  (the producer loads cons, then pv_ring_rmb(), before
 *      it rewrites a freed slot)
 * Consumer, before it sleeps (pv_ring_final_check):
 *   S1 store prod_event = cons + 1         "wake me for the next entry"
 *   S2 full barrier                        store event before load prod
 *   S3 load prod; if it moved, do not sleep: consume and start over
 * P3-P4-P5 against S1-S2-S3 is a store-buffering (Dekker) pattern: with
 * both barriers in place, the producer sees the new event or the consumer
 * sees the new prod, so a wake-up is never lost.  A producer waiting for
 * space does the mirror image with cons_event (pv_ring_space_arm).
 *
 * Batching falls out of the rule: while the consumer is busy it does not
 * re-arm, prod_event stays behind, and every batch after the first one is
 * published without a notification.  A consumer that keeps up (adaptive
 * polling) never arms and needs no notification at all; one that wakes from
 * a sleep and polls again disarms (pv_ring_disarm), or the event index it
 * armed before sleeping would cost a notification on the next publish.
 *
 * Barriers on x86-64 (TSO: stores are not reordered with stores, loads not
 * with loads, only a store with a later load):
 *   pv_ring_wmb(), pv_ring_rmb()  compiler barriers only (TSO keeps
 *                                 store-store, load-load and load-store
 *                                 order; C4 relies on the last one)
 *   pv_ring_mb()                  a locked add to the stack (a full fence,
 *                                 cheaper than mfence for write-back memory)
 * Other architectures get the C11 fences: release for pv_ring_wmb (it also
 * orders earlier loads, as C4 needs), acquire for pv_ring_rmb, seq_cst for
 * pv_ring_mb.
 *
 * The emulation backend (Unicorn) drops guest fences and lock prefixes, so
 * an emulated guest runs the protocol with plain TSO loads and stores and
 * its P4/S2 are compiler barriers only.  The protocol stays correct because
 * the host side supplies the missing half of each Dekker pair:
 *   - guest produces, host consumes: the host's S2 is a heavy (asymmetric)
 *     barrier, membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which makes
 *     every thread of the monitor, including the emulating one, pass a
 *     full barrier (pv_ring_final_check_heavy in ring/ring_host.h);
 *   - host produces, guest consumes: the guest's sleep primitive must run a
 *     host full barrier and then re-check the ring before it blocks
 *     (futex-style: block only while the word pv_ring_wait_word() still
 *     holds the cons the guest saw).  The libpv monitor does this in
 *     PV_HC_BLOCK's watch word: pv_block_watch(timeout,
 *     pv_ring_wait_word(c), c->cons); pv_ring_prod_moved in ring_host.h is
 *     the same check for other monitors.  A plain timed block only bounds
 *     the delay of a lost wake-up.  The host's own P4 is a real fence.
 *   - the same two rules apply, mirrored, to a producer waiting for space
 *     (cons_event; watch pv_ring_space_wait_word(p) holding p->cons).
 * ring/ring.pml models exactly this under x86-TSO store buffers and is
 * checked by spin, together with variants that drop each of these and fail.
 *
 * Untrusted peers
 * ---------------
 * A host must treat everything in the region as hostile and changing under
 * its feet.  The functions here: take the geometry from the caller's
 * validated private copy (pv_ring_pair_check), never from the header again;
 * mask every index before use (no access outside the slot array, whatever
 * the peer writes); read each peer index once per use; mark the view broken
 * (sticky -PV_RING_EPROTO, stored in the own line's `error`) when the
 * peer's index is impossible: a producer index more than n ahead of the
 * released cons or behind what was already consumed, or a consumer index
 * ahead of what was published or moving backwards.  The event indices
 * only decide whether to notify, so any value is safe.  A host consumer
 * must use pv_ring_consume, which copies an entry out of shared memory into
 * a private buffer before the caller validates it; pv_ring_peek is for
 * trusted peers only (a guest reading its monitor's responses).
 *
 * Error codes: negative Linux errno values, spelled PV_RING_E*.
 * Copies use __builtin_memcpy/__builtin_memset; a freestanding user must
 * provide memcpy and memset (GCC requires them anyway; the libpv guest SDK
 * and the Linux kernel do).
 */
#ifndef PV_RING_H
#define PV_RING_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/stddef.h>
#else
#include <stddef.h>
#include <stdint.h>
#endif

#define PV_RING_MAGIC        0x31525650u  /* "PVR1" */
#define PV_RING_VERSION      1u
#define PV_RING_PAGE_SIZE    4096u
#define PV_RING_LINE_SIZE    128u       /* distance between lines of different writers */
#define PV_RING_MAX_ENTRIES  (1u << 20)
#define PV_RING_MAX_ENTRY_SIZE 65536u
#define PV_RING_MAX_BYTES    (1u << 30) /* whole region */

#define PV_RING_REQ 0u  /* request direction */
#define PV_RING_RSP 1u  /* response direction */

/* Linux errno numbers; functions return them negated. */
#define PV_RING_EAGAIN   11
#define PV_RING_EINVAL   22
#define PV_RING_EPIPE    32  /* the peer reported a protocol error */
#define PV_RING_EPROTO   71  /* the peer broke the protocol; view is broken */
#define PV_RING_EMSGSIZE 90

/* ---- shared-memory layout ---------------------------------------------- */

struct pv_ring_dir_desc {
	uint32_t entries;     /* +0  slots, power of two, 1..PV_RING_MAX_ENTRIES */
	uint32_t entry_size;  /* +4  bytes per slot, multiple of 8, <= PV_RING_MAX_ENTRY_SIZE */
	uint32_t offset;      /* +8  byte offset of slot 0, multiple of 4096 */
	uint32_t reserved;    /* +12 zero */
};

struct pv_ring_hdr {                    /* offset 0, 128 bytes, creator-written */
	uint32_t magic;                 /* 0   PV_RING_MAGIC */
	uint16_t version;               /* 4   PV_RING_VERSION */
	uint16_t flags;                 /* 6   zero in version 1 */
	uint32_t total_size;            /* 8   bytes of the whole region */
	uint32_t reserved0;             /* 12  zero */
	struct pv_ring_dir_desc dir[2]; /* 16  [PV_RING_REQ], 32 [PV_RING_RSP] */
	uint8_t reserved1[80];          /* 48  zero */
};

struct pv_ring_prod_line {      /* written only by the direction's producer */
	uint32_t prod;          /* +0  next index the producer will fill */
	uint32_t cons_event;    /* +4  notify the producer when cons passes this */
	uint32_t error;         /* +8  0 or positive errno: the consumer broke the protocol */
	uint8_t pad[PV_RING_LINE_SIZE - 12];
};

struct pv_ring_cons_line {      /* written only by the direction's consumer */
	uint32_t cons;          /* +0  next index the consumer will release */
	uint32_t prod_event;    /* +4  notify the consumer when prod passes this */
	uint32_t error;         /* +8  0 or positive errno: the producer broke the protocol */
	uint8_t pad[PV_RING_LINE_SIZE - 12];
};

struct pv_ring_idx {
	struct pv_ring_prod_line p;
	struct pv_ring_cons_line c;
};

struct pv_ring_shared {
	struct pv_ring_hdr hdr;         /* 0 */
	struct pv_ring_idx idx[2];      /* 128 [PV_RING_REQ], 384 [PV_RING_RSP] */
	uint8_t reserved[PV_RING_PAGE_SIZE - 640];
};

_Static_assert(sizeof(struct pv_ring_hdr) == 128, "pv_ring_hdr layout");
_Static_assert(sizeof(struct pv_ring_shared) == PV_RING_PAGE_SIZE, "pv_ring_shared layout");
_Static_assert(offsetof(struct pv_ring_shared, idx[0].p.prod) == 128, "req prod offset");
_Static_assert(offsetof(struct pv_ring_shared, idx[0].c.cons) == 256, "req cons offset");
_Static_assert(offsetof(struct pv_ring_shared, idx[1].p.prod) == 384, "rsp prod offset");
_Static_assert(offsetof(struct pv_ring_shared, idx[1].c.prod_event) == 516, "rsp event offset");

/* ---- barriers and single-copy accesses ---------------------------------- */

#define pv_ring_barrier() __asm__ __volatile__("" ::: "memory")
#if defined(__x86_64__)
#define pv_ring_wmb() pv_ring_barrier()
#define pv_ring_rmb() pv_ring_barrier()
#define pv_ring_mb() __asm__ __volatile__("lock; addl $0,-4(%%rsp)" ::: "memory", "cc")
#elif defined(__i386__)
#define pv_ring_wmb() pv_ring_barrier()
#define pv_ring_rmb() pv_ring_barrier()
#define pv_ring_mb() __asm__ __volatile__("lock; addl $0,-4(%%esp)" ::: "memory", "cc")
#else
#define pv_ring_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define pv_ring_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define pv_ring_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

/* One untorn 32-bit access the compiler may not repeat, merge or omit. */
#define pv_ring_load(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define pv_ring_store(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* ---- geometry ----------------------------------------------------------- */

/* Shape of a ring pair; also the validated private copy a host keeps. */
struct pv_ring_params {
	uint32_t req_entries, req_entry_size;
	uint32_t rsp_entries, rsp_entry_size;
};

static inline int pv_ring__dir_ok(uint32_t entries, uint32_t entry_size)
{
	return entries != 0 && entries <= PV_RING_MAX_ENTRIES && (entries & (entries - 1)) == 0 &&
	       entry_size >= 8 && entry_size <= PV_RING_MAX_ENTRY_SIZE && entry_size % 8 == 0;
}

static inline uint64_t pv_ring__pages(uint32_t entries, uint32_t entry_size)
{
	uint64_t b = (uint64_t)entries * entry_size;

	return (b + PV_RING_PAGE_SIZE - 1) & ~(uint64_t)(PV_RING_PAGE_SIZE - 1);
}

/* Bytes needed for a ring pair of this shape, or 0 if the shape is invalid. */
static inline size_t pv_ring_pair_size(const struct pv_ring_params *prm)
{
	uint64_t n;

	if (!pv_ring__dir_ok(prm->req_entries, prm->req_entry_size) ||
	    !pv_ring__dir_ok(prm->rsp_entries, prm->rsp_entry_size))
		return 0;
	n = PV_RING_PAGE_SIZE + pv_ring__pages(prm->req_entries, prm->req_entry_size) +
	    pv_ring__pages(prm->rsp_entries, prm->rsp_entry_size);
	return n > PV_RING_MAX_BYTES ? 0 : (size_t)n;
}

/* Byte offset of the first slot of direction dir (shape must be valid). */
static inline uint32_t pv_ring_slots_offset(const struct pv_ring_params *prm, unsigned int dir)
{
	if (dir == PV_RING_REQ)
		return PV_RING_PAGE_SIZE;
	return (uint32_t)(PV_RING_PAGE_SIZE + pv_ring__pages(prm->req_entries, prm->req_entry_size));
}

/*
 * Create a ring pair in mem (4096-aligned, len bytes; called by the side that
 * owns the memory, before sharing it).  Writes the header and the four index
 * lines; the slots are left as they are.  All indices start at `start`
 * (normally 0; any value works, tests use values near UINT32_MAX), both
 * consumers start armed (prod_event = start + 1), both producers disarmed.
 * Returns 0, or -PV_RING_EINVAL for a bad shape, alignment or length.
 */
static inline int pv_ring_pair_init(void *mem, size_t len, const struct pv_ring_params *prm, uint32_t start)
{
	struct pv_ring_shared *sh = (struct pv_ring_shared *)mem;
	size_t size = pv_ring_pair_size(prm);
	unsigned int d;

	if (!mem || ((uintptr_t)mem & (PV_RING_PAGE_SIZE - 1)) || size == 0 || len < size)
		return -PV_RING_EINVAL;
	__builtin_memset(mem, 0, sizeof(*sh));
	sh->hdr.version = PV_RING_VERSION;
	sh->hdr.total_size = (uint32_t)size;
	sh->hdr.dir[PV_RING_REQ].entries = prm->req_entries;
	sh->hdr.dir[PV_RING_REQ].entry_size = prm->req_entry_size;
	sh->hdr.dir[PV_RING_RSP].entries = prm->rsp_entries;
	sh->hdr.dir[PV_RING_RSP].entry_size = prm->rsp_entry_size;
	for (d = 0; d < 2; d++) {
		sh->hdr.dir[d].offset = pv_ring_slots_offset(prm, d);
		sh->idx[d].p.prod = start;
		sh->idx[d].p.cons_event = start;  /* disarmed: crossed only after 2^32 entries */
		sh->idx[d].c.cons = start;
		sh->idx[d].c.prod_event = start + 1;
	}
	pv_ring_wmb();
	pv_ring_store(sh->hdr.magic, PV_RING_MAGIC);  /* last: a reader seeing it sees the rest */
	return 0;
}

/*
 * Host side: read the header of a ring pair once, into a private copy, and
 * check it: magic, version, a valid shape, offsets equal to the canonical
 * layout, total size within len.  On success *out holds the shape to pass to
 * the attach functions; the shared header is never consulted again.
 * Returns 0 or -PV_RING_EINVAL.
 */
static inline int pv_ring_pair_check(const void *mem, size_t len, struct pv_ring_params *out)
{
	struct pv_ring_hdr h;
	struct pv_ring_params prm;
	size_t size;
	unsigned int d;

	if (!mem || ((uintptr_t)mem & (PV_RING_PAGE_SIZE - 1)) || len < sizeof(struct pv_ring_shared))
		return -PV_RING_EINVAL;
	__builtin_memcpy(&h, mem, sizeof(h));
	pv_ring_barrier();
	if (h.magic != PV_RING_MAGIC || h.version != PV_RING_VERSION || h.flags != 0)
		return -PV_RING_EINVAL;
	prm.req_entries = h.dir[PV_RING_REQ].entries;
	prm.req_entry_size = h.dir[PV_RING_REQ].entry_size;
	prm.rsp_entries = h.dir[PV_RING_RSP].entries;
	prm.rsp_entry_size = h.dir[PV_RING_RSP].entry_size;
	size = pv_ring_pair_size(&prm);
	if (size == 0 || size > len || h.total_size != size)
		return -PV_RING_EINVAL;
	for (d = 0; d < 2; d++)
		if (h.dir[d].offset != pv_ring_slots_offset(&prm, d))
			return -PV_RING_EINVAL;
	*out = prm;
	return 0;
}

/* ---- private views ------------------------------------------------------ */

/* A producer's private view of one direction.  Not shared; one per producer. */
struct pv_ring_prod {
	struct pv_ring_prod_line *own;        /* we write it, never read it back */
	const struct pv_ring_cons_line *peer; /* the consumer's line, untrusted */
	uint8_t *slots;
	uint32_t entries, mask, entry_size;
	uint32_t prod;          /* next slot to fill, including unpublished ones */
	uint32_t pushed;        /* value last stored to own->prod */
	uint32_t cons;          /* last consumer index seen and validated */
	int err;                /* sticky: 0, -PV_RING_EPROTO or -PV_RING_EPIPE */
};

/* A consumer's private view of one direction.  Not shared; one per consumer. */
struct pv_ring_cons {
	struct pv_ring_cons_line *own;
	const struct pv_ring_prod_line *peer; /* the producer's line, untrusted */
	const uint8_t *slots;
	uint32_t entries, mask, entry_size;
	uint32_t cons;          /* next slot to read, including unreleased ones */
	uint32_t released;      /* value last stored to own->cons */
	uint32_t prod;          /* last producer index seen and validated */
	int err;
};

static inline int pv_ring__geom(const struct pv_ring_params *prm, unsigned int dir, uint32_t *entries,
				uint32_t *esize)
{
	if (dir > PV_RING_RSP || pv_ring_pair_size(prm) == 0)
		return -PV_RING_EINVAL;
	*entries = dir == PV_RING_REQ ? prm->req_entries : prm->rsp_entries;
	*esize = dir == PV_RING_REQ ? prm->req_entry_size : prm->rsp_entry_size;
	return 0;
}

/*
 * Attach as the producer of direction dir of the ring pair at mem, whose
 * shape prm the caller trusts (its own, or from pv_ring_pair_check).
 * Takes the current prod as the starting point.  Returns 0 or -EINVAL
 * (then every call on the view fails with -EINVAL).
 */
static inline int pv_ring_prod_attach(struct pv_ring_prod *p, void *mem, const struct pv_ring_params *prm,
				      unsigned int dir)
{
	struct pv_ring_shared *sh = (struct pv_ring_shared *)mem;

	__builtin_memset(p, 0, sizeof(*p));
	p->err = -PV_RING_EINVAL; /* a failed attach leaves an inert view */
	if (!mem || pv_ring__geom(prm, dir, &p->entries, &p->entry_size))
		return -PV_RING_EINVAL;
	p->own = &sh->idx[dir].p;
	p->peer = &sh->idx[dir].c;
	p->slots = (uint8_t *)mem + pv_ring_slots_offset(prm, dir);
	p->mask = p->entries - 1;
	p->prod = p->pushed = pv_ring_load(p->own->prod);
	p->cons = p->prod - p->entries; /* assume full until the consumer is read */
	p->err = 0;
	return 0;
}

/* Attach as the consumer of direction dir; see pv_ring_prod_attach. */
static inline int pv_ring_cons_attach(struct pv_ring_cons *c, void *mem, const struct pv_ring_params *prm,
				      unsigned int dir)
{
	struct pv_ring_shared *sh = (struct pv_ring_shared *)mem;

	__builtin_memset(c, 0, sizeof(*c));
	c->err = -PV_RING_EINVAL;
	if (!mem || pv_ring__geom(prm, dir, &c->entries, &c->entry_size))
		return -PV_RING_EINVAL;
	c->own = &sh->idx[dir].c;
	c->peer = &sh->idx[dir].p;
	c->slots = (const uint8_t *)mem + pv_ring_slots_offset(prm, dir);
	c->mask = c->entries - 1;
	c->cons = c->released = c->prod = pv_ring_load(c->own->cons);
	c->err = 0;
	return 0;
}

/* True iff `event` lies in the half-open window (old, new] of a batch, mod 2^32. */
static inline int pv_ring_event_crossed(uint32_t event, uint32_t old_idx, uint32_t new_idx)
{
	return (uint32_t)(new_idx - event) < (uint32_t)(new_idx - old_idx);
}

/* ---- producer ----------------------------------------------------------- */

static inline int pv_ring__prod_broken(struct pv_ring_prod *p, int err)
{
	if (!p->err) {
		p->err = err;
		if (err == -PV_RING_EPROTO)
			pv_ring_store(p->own->error, (uint32_t)PV_RING_EPROTO);
	}
	return p->err;
}

/*
 * Free slots: re-reads the consumer's index.  Returns the count (0..entries),
 * or a negative error if the view is broken: -PV_RING_EPROTO when cons is
 * ahead of what was published or went backwards, -PV_RING_EPIPE when the
 * consumer reported an error.
 */
static inline int pv_ring_space(struct pv_ring_prod *p)
{
	uint32_t c;

	if (p->err)
		return p->err;
	c = pv_ring_load(p->peer->cons);
	if (pv_ring_load(p->peer->error))
		return pv_ring__prod_broken(p, -PV_RING_EPIPE);
	/* cons must lie in [last seen cons, pushed] */
	if ((uint32_t)(p->pushed - c) > (uint32_t)(p->pushed - p->cons))
		return pv_ring__prod_broken(p, -PV_RING_EPROTO);
	p->cons = c;
	/* load cons before rewriting the slots it frees (TSO: compiler barrier) */
	pv_ring_rmb();
	return (int)(p->entries - (uint32_t)(p->prod - c));
}

/*
 * Reserve the next slot and return a pointer to it (entry_size bytes in
 * shared memory), or NULL when the ring is full or broken.  The entry is
 * published by the next pv_ring_push.
 */
static inline void *pv_ring_get_slot(struct pv_ring_prod *p)
{
	uint8_t *slot;

	if (p->err || ((uint32_t)(p->prod - p->cons) >= p->entries && pv_ring_space(p) <= 0))
		return NULL;
	slot = p->slots + (size_t)(p->prod & p->mask) * p->entry_size;
	p->prod++;
	return slot;
}

/*
 * Copy len bytes from src into the next slot, zero-filling the rest of the
 * entry.  Returns 0, -PV_RING_EMSGSIZE if len > entry_size, -PV_RING_EAGAIN
 * if the ring is full, or the view's error.
 */
static inline int pv_ring_produce(struct pv_ring_prod *p, const void *src, size_t len)
{
	uint8_t *slot;

	if (len > p->entry_size)
		return -PV_RING_EMSGSIZE;
	slot = (uint8_t *)pv_ring_get_slot(p);
	if (!slot)
		return p->err ? p->err : -PV_RING_EAGAIN;
	__builtin_memcpy(slot, src, len);
	if (len < p->entry_size)
		__builtin_memset(slot + len, 0, p->entry_size - len);
	return 0;
}

/*
 * Publish every reserved entry (P2-P5 above).  Returns 1 if the consumer
 * must be notified (its event index lies in this batch), 0 if not.
 */
static inline int pv_ring_push(struct pv_ring_prod *p)
{
	uint32_t old = p->pushed;

	if (p->prod == old || !p->own)
		return 0;
	pv_ring_wmb();
	pv_ring_store(p->own->prod, p->prod);
	p->pushed = p->prod;
	pv_ring_mb();
	return pv_ring_event_crossed(pv_ring_load(p->peer->prod_event), old, p->prod);
}

/*
 * Before sleeping for space: ask to be notified once `want` (1..entries)
 * slots are free, then check again.  Returns the free count (> 0: do not
 * sleep if it is >= want), 0 (sleep until notified), or a negative error.
 */
static inline int pv_ring_space_arm(struct pv_ring_prod *p, uint32_t want)
{
	if (p->err)
		return p->err;
	if (want == 0 || want > p->entries)
		want = 1;
	pv_ring_store(p->own->cons_event, p->prod - p->entries + want);
	pv_ring_mb();
	return pv_ring_space(p);
}

/* ---- consumer ----------------------------------------------------------- */

static inline int pv_ring__cons_broken(struct pv_ring_cons *c, int err)
{
	if (!c->err) {
		c->err = err;
		if (err == -PV_RING_EPROTO)
			pv_ring_store(c->own->error, (uint32_t)PV_RING_EPROTO);
	}
	return c->err;
}

/*
 * Entries ready to consume: re-reads the producer's index (C1-C2).  Returns
 * the count (0..entries) or a negative error: -PV_RING_EPROTO, and the view
 * is broken for good, if prod is more than `entries` ahead of the released
 * cons or behind what was already consumed; -PV_RING_EPIPE if the producer
 * reported an error.
 */
static inline int pv_ring_avail(struct pv_ring_cons *c)
{
	uint32_t p;

	if (c->err)
		return c->err;
	p = pv_ring_load(c->peer->prod);
	if (pv_ring_load(c->peer->error))
		return pv_ring__cons_broken(c, -PV_RING_EPIPE);
	if ((uint32_t)(p - c->released) > c->entries ||
	    (uint32_t)(p - c->released) < (uint32_t)(c->cons - c->released))
		return pv_ring__cons_broken(c, -PV_RING_EPROTO);
	c->prod = p;
	pv_ring_rmb();
	return (int)(p - c->cons);
}

/* Entries known to be ready without touching shared memory. */
static inline uint32_t pv_ring_ready(const struct pv_ring_cons *c)
{
	return c->err ? 0 : c->prod - c->cons;
}

/*
 * Trusted peers only: a pointer to the next entry in shared memory, or NULL
 * if there is none (or the view is broken).  Consume it with
 * pv_ring_advance.  A host reading a guest's ring must use pv_ring_consume.
 */
static inline const void *pv_ring_peek(struct pv_ring_cons *c)
{
	if (c->cons == c->prod && pv_ring_avail(c) <= 0)
		return NULL;
	return c->slots + (size_t)(c->cons & c->mask) * c->entry_size;
}

/* Mark n peeked entries consumed (n <= pv_ring_ready). */
static inline void pv_ring_advance(struct pv_ring_cons *c, uint32_t n)
{
	if (n > pv_ring_ready(c))
		n = pv_ring_ready(c);
	c->cons += n;
}

/*
 * Copy the next entry out of shared memory into buf and consume it: the
 * first min(len, entry_size) bytes are copied, buf beyond entry_size is
 * zeroed.  Validate the private copy, never the slot.  Returns 1 when an
 * entry was copied, 0 when the ring is empty, or a negative error.  The
 * slot is handed back to the producer by pv_ring_release.
 */
static inline int pv_ring_consume(struct pv_ring_cons *c, void *buf, size_t len)
{
	const uint8_t *slot;
	size_t n = len < c->entry_size ? len : c->entry_size;
	int r;

	if (c->cons == c->prod) {
		r = pv_ring_avail(c);
		if (r <= 0)
			return r;
	}
	if (c->err)
		return c->err;
	slot = c->slots + (size_t)(c->cons & c->mask) * c->entry_size;
	__builtin_memcpy(buf, slot, n);
	if (len > n)
		__builtin_memset((uint8_t *)buf + n, 0, len - n);
	c->cons++;
	return 1;
}

/*
 * Hand consumed slots back to the producer (C4-C5).  Returns 1 if the
 * producer asked to be notified about this much space, 0 if not.
 */
static inline int pv_ring_release(struct pv_ring_cons *c)
{
	uint32_t old = c->released;

	if (c->cons == old)
		return 0;
	pv_ring_wmb();  /* C4: slot reads before the store of cons */
	pv_ring_store(c->own->cons, c->cons);
	c->released = c->cons;
	pv_ring_mb();
	return pv_ring_event_crossed(pv_ring_load(c->peer->cons_event), old, c->cons);
}

/* S1: ask to be notified when the next entry is published. */
static inline void pv_ring_arm(struct pv_ring_cons *c)
{
	if (!c->err)
		pv_ring_store(c->own->prod_event, c->cons + 1);
}

/*
 * Awake and polling: no notification until the next pv_ring_arm.  Stores
 * prod_event = cons, which no publish crosses (every batch starts at or
 * after cons) for 2^32 entries.  Racing with a publish costs at most one
 * spurious notification; sleeping still needs pv_ring_final_check first.
 */
static inline void pv_ring_disarm(struct pv_ring_cons *c)
{
	if (!c->err)
		pv_ring_store(c->own->prod_event, c->cons);
}

/*
 * The check before sleeping (S1-S3): arm the event index, full barrier,
 * re-read prod.  Returns > 0 if entries arrived meanwhile (do not sleep;
 * consume them), 0 if the caller may sleep until notified, or a negative
 * error.  Call pv_ring_release first if the producer may wait for space.
 * Against an emulated guest producer use pv_ring_final_check_heavy
 * (ring/ring_host.h) instead.
 */
static inline int pv_ring_final_check(struct pv_ring_cons *c)
{
	pv_ring_arm(c);
	pv_ring_mb();
	return pv_ring_avail(c);
}

/*
 * For a consumer about to sleep in a futex-style wait (block only while
 * *pv_ring_wait_word(c) == c->cons; see "Ordering" above): the word to
 * watch, the producer's index.
 */
static inline const uint32_t *pv_ring_wait_word(const struct pv_ring_cons *c)
{
	return &c->peer->prod;
}

/*
 * For a producer about to sleep for space (pv_ring_space_arm returned too
 * little): block only while *pv_ring_space_wait_word(p) == p->cons.
 */
static inline const uint32_t *pv_ring_space_wait_word(const struct pv_ring_prod *p)
{
	return &p->peer->cons;
}

/* The peer's reported error (0 or a positive errno), for diagnostics. */
static inline uint32_t pv_ring_prod_peer_error(const struct pv_ring_prod *p)
{
	return pv_ring_load(p->peer->error);
}

static inline uint32_t pv_ring_cons_peer_error(const struct pv_ring_cons *c)
{
	return pv_ring_load(c->peer->error);
}

#endif /* PV_RING_H */
