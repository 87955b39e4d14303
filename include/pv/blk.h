/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PV block backend: serves the protocol of pvdrivers/blk/pvblk.h from a
 * raw image or block device through io_uring, one thread and one ring per
 * queue.  Every request is copied out of the ring and validated (sector
 * range, segment count and sizes, grants and their rights) before use; a bad
 * request gets PVBLK_S_INVALID and the device keeps serving.
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
	unsigned int max_queues; /* 0: one per vCPU */
};

struct pv_blkback_stats {
	uint64_t requests, errors, invalid;
	uint64_t notifications;  /* event-channel notifications sent to the guest */
	uint64_t sleeps;         /* times a queue thread slept waiting for work */
};

/*
 * Attach a PV disk to vm (before pv_vm_run): registers PVBLK_PORT; the
 * guest connects through it.  Returns 0, or a negative errno (the file
 * cannot be opened: -ENOENT, -EACCES...; -EINVAL for a bad config).
 */
int pv_blkback_attach(struct pv_vm *vm, const struct pv_blkback_config *cfg, struct pv_blkback **out);

/* Stop the queue threads and release everything: after pv_vm_run, before
 * pv_vm_destroy (the threads use guest RAM until they are joined). */
void pv_blkback_detach(struct pv_blkback *b);

/* Counters summed over queues. */
void pv_blkback_stats(struct pv_blkback *b, struct pv_blkback_stats *st);

/* Whether the backing store is used with O_DIRECT. */
bool pv_blkback_direct(const struct pv_blkback *b);

#ifdef __cplusplus
}
#endif
#endif
