/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PV block backend's private state, shared by its data path
 * (blkback.c: the queue threads) and its control plane (blkback_ctl.c:
 * the control page, connecting queues, attach, stop and destroy).
 */
#ifndef PVBLK_BACKEND_PRIV_H
#define PVBLK_BACKEND_PRIV_H

#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <pv/blk.h>
#include <pv/device.h>
#include <pv/abi/ring.h>

#include "blkreq.h"
#include "disk.h"
#include "uring.h"
#include <pv/abi/blk.h>

#define RING_ENTRIES_MAX 1024u
#define MAX_REQ_BYTES PVBLK_MAX_REQ_BYTES
#define TAG_DOORBELL (~0ull)
#define TAG_STOP (~0ull - 1)
#define FIXED_CHUNK (2ull << 20)  /* guest RAM registered per 2 MiB */
#define FIXED_MAX_CHUNKS (1u << 14) /* io_uring's limit on registered buffers */

struct slot {
	bool busy;
	uint64_t id;
	uint64_t expect;        /* bytes the I/O must move (0: none) */
	unsigned int nmaps, niov;
	uint8_t op;
	struct pv_grant_op maps[PVBLK_SEGS_INDIRECT];
	struct iovec iov[PVBLK_SEGS_INDIRECT];
};

struct queue {
	struct pv_blkback *b;
	unsigned int idx;
	void *ring;              /* mapped (pinned) ring pair */
	uint32_t ring_gref;
	struct pv_ring_cons req;
	struct pv_ring_prod rsp;
	int port, efd, stop_efd;
	struct io_uring uring;
	bool uring_ok, fixed;    /* fixed: a sparse buffer table is registered */
	uint8_t *chunk;          /* per FIXED_CHUNK of guest RAM: CHUNK_* */
	unsigned int nchunks;
	atomic_uint_fast64_t fixed_chunks;
	pthread_t thread;
	bool started;
	bool stop;               /* the stop poll fired: leave the loop */
	bool rearm;              /* the doorbell poll could not be armed yet */
	bool broken;             /* a ring is unusable: the queue has stopped */
	struct slot *slots;
	unsigned int nslots, inflight;
	atomic_uint_fast64_t requests, errors, invalid, notifications, sleeps;
	atomic_uint_fast64_t rd_reqs, rd_bytes, wr_reqs, wr_bytes, fl_reqs; /* completed OK */
};

struct pv_blkback {
	struct pv_vm *vm;
	struct pv_disk disk;
	struct pv_blkback_config cfg;
	bool heavy;              /* emulated guest: its fences are dropped */
	atomic_bool fixed_noted;
	pthread_mutex_t lock;
	unsigned int nr_queues, max_queues;
	struct queue q[PVBLK_MAX_QUEUES];
	struct pv_blkback_stats retired; /* counters of queues a DISCONNECT ended */
};

enum { CHUNK_NEW, CHUNK_FIXED, CHUNK_REFUSED }; /* struct queue's chunk[] */

/* A connected queue's thread (arg: its struct queue). */
void *pvblk__queue_thread(void *arg);

/* Say once per backend that I/O goes unregistered (from any thread). */
void pvblk__note_unfixed(struct pv_blkback *b, int err);

#endif
