/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PV block backend: serves the protocol of <pv/abi/blk.h> from a
 * raw image or block device through io_uring, one thread and one ring per
 * queue.  Every request is copied out of the ring and validated (sector
 * range, segment count and sizes, grants and their rights) before use; a bad
 * request gets PVBLK_S_INVALID and the device keeps serving.
 *
 * The 2 MiB chunks of guest RAM that I/O lands in are registered with
 * io_uring as fixed buffers on first use, which pins them for the life of
 * the backend; set no_fixed to pin nothing.  Without CAP_IPC_LOCK the
 * registration stops at RLIMIT_MEMLOCK and the backend goes on with
 * unregistered buffers, saying so once on stderr.
 */
#ifndef PV_BLK_H
#define PV_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "pv.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pv_blkback;

struct pv_blkback_config {
	const char *path;      /* raw image or block device */
	bool read_only;
	bool no_direct;        /* buffered I/O even where O_DIRECT works */
	uint64_t poll_ns;      /* busy-poll an idle queue this long before sleeping (0: never) */
	unsigned int max_queues; /* queues the guest may connect (<= 16); 0: one per vCPU */
	bool no_fixed;         /* do not register guest RAM with io_uring */
};

struct pv_blkback_stats {
	uint64_t requests, errors, invalid;
	uint64_t notifications;  /* event-channel notifications sent to the guest */
	uint64_t sleeps;         /* times a queue thread slept waiting for work */
	uint64_t fixed_chunks;   /* 2 MiB chunks of guest RAM registered (pinned), summed over queues */
	/* Requests that completed with PVBLK_S_OK: reads and the bytes they
	 * read, writes and the bytes they wrote, flushes. */
	uint64_t rd_reqs, rd_bytes, wr_reqs, wr_bytes, fl_reqs;
};

/*
 * Attach a PV disk to vm (before pv_vm_run): registers PVBLK_PORT; the
 * guest connects through it.  The VM owns the device (<pv/device.h>): its
 * queue threads end when the run ends, and pv_vm_destroy frees it; the
 * handle and its statistics stay valid until then.  cfg->path is not kept.
 * Returns 0, or a negative errno (the file cannot be opened: -ENOENT,
 * -EACCES...; -EINVAL for a NULL argument; -EEXIST when the port is taken;
 * -EBUSY when the VM runs).
 */
int pv_blkback_attach(struct pv_vm *vm, const struct pv_blkback_config *cfg, struct pv_blkback **out);

/* Counters summed over queues, those a guest's DISCONNECT ended included
 * (fixed_chunks: what is registered now); zeros for a NULL b. */
void pv_blkback_stats(struct pv_blkback *b, struct pv_blkback_stats *st);

/* Counters of one queue; -ENOENT if the guest has not connected it, -EINVAL
 * for a NULL b. */
int pv_blkback_queue_stats(struct pv_blkback *b, unsigned int queue, struct pv_blkback_stats *st);

/* Number of queues the guest connected (0 before it connects, 0 for NULL). */
unsigned int pv_blkback_queues(struct pv_blkback *b);

/* Whether the backing store is used with O_DIRECT (false for NULL). */
bool pv_blkback_direct(const struct pv_blkback *b);

#ifdef __cplusplus
}
#endif
#endif
