/* SPDX-License-Identifier: MIT */
/*
 * Guest SDK: a PV block frontend (protocol: include/pv/abi/blk.h).  A
 * struct pvblk_front is one queue; a multi-queue guest connects several at
 * once (pvblk_front_init_mq) and drives each from one vCPU, with no locks.
 * Data lives in a pool the frontend grants to the monitor once (persistent
 * grant, shared by all queues), so requests cost no grant operation.
 */
#ifndef PV_BLKFRONT_H
#define PV_BLKFRONT_H

#include "../abi/blk.h"
#include "../abi/ring.h"

struct pvblk_front {
	struct pvblk_config cfg;
	struct pv_ring_prod req;
	struct pv_ring_cons rsp;
	unsigned int evtchn;
	unsigned int pool_gref, ring_gref;
	unsigned char *pool;
	unsigned long pool_len;
	unsigned int inflight;
	unsigned long long kicks, blocks; /* doorbells rung, blocking waits */
	unsigned long long poll_ns;       /* poll at least this long for a response before blocking (0: never) */
	unsigned long long lat_ticks;     /* recent response time (moving average, TSC ticks): the poll window */
};

/* Read the device's configuration (capacity, features, max_queues...).
 * Returns 0 or a PV_E* error. */
long pvblk_front_config(struct pvblk_config *cfg);

/*
 * Connect nq queues (1..cfg.max_queues) in one step: fs[i] becomes queue i
 * with its ring at rings[i] (page-aligned, ring_len bytes each, for
 * `entries` requests).  All queues share pool (page-aligned, pool_len
 * bytes below 4 GiB: the only memory I/O may use); which part of it a queue
 * uses is the caller's business.  On failure nothing stays granted.  Call once, before other vCPUs use the queues.
 * Returns 0 or a PV_E* error.
 */
long pvblk_front_init_mq(struct pvblk_front *fs, unsigned int nq, void *const rings[], unsigned long ring_len,
			 unsigned int entries, void *pool, unsigned long pool_len);

/*
 * Connect one queue: ring (page-aligned, ring_len bytes, for `entries`
 * requests), pool (page-aligned, pool_len bytes: the only memory I/O may
 * use).  Returns 0 or a PV_E* error.
 */
long pvblk_front_init(struct pvblk_front *f, void *ring, unsigned long ring_len, unsigned int entries, void *pool,
		      unsigned long pool_len);

/* Disconnect the nq queues pvblk_front_init_mq connected (PVBLK_CMD_DISCONNECT)
 * and end their grants, the pool's included; wait for every response
 * first.  Afterwards the device may be connected again.  Returns 0, or the
 * first error (a grant still in use: PV_EBUSY). */
long pvblk_front_disconnect(struct pvblk_front *fs, unsigned int nq);

/* Bytes a ring for `entries` requests needs. */
unsigned long pvblk_front_ring_size(unsigned int entries);

/* Queue a request (not yet visible: see pvblk_front_kick).  buf/len must lie
 * in the pool (READ/WRITE; len at most cfg.max_request_bytes), nr_sectors
 * is for DISCARD/WRITE_ZEROES.  Returns 0, PV_EAGAIN when the ring is full
 * or `entries` requests are in flight, PV_EINVAL. */
long pvblk_front_queue(struct pvblk_front *f, unsigned int op, unsigned int flags, unsigned long long sector,
		       void *buf, unsigned long len, unsigned long long nr_sectors, unsigned long long id);

/* Publish queued requests; ring the doorbell only if the backend sleeps. */
void pvblk_front_kick(struct pvblk_front *f);

/* Take one response: poll, then block on the event channel.  The poll
 * window is twice the recent response time (f->lat_ticks), at least
 * f->poll_ns and at most 8 times f->poll_ns (else f->poll_ns), so a device
 * that answers in about the window's time is not waited for by blocking
 * every other request.  Returns 0 (and *rsp), or PV_ETIMEDOUT after about
 * 10 s. */
long pvblk_front_wait(struct pvblk_front *f, struct pvblk_rsp *rsp);

#endif
