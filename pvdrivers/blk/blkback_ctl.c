/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PV block backend, control plane: the control page (GET_CONFIG, CONNECT,
 * all queues or none), starting and stopping queue threads, the sparse
 * fixed-buffer table, attach, the device lifecycle (stop, destroy) and statistics.  The data path is in
 * blkback.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "blkback_priv.h"
#include "ring_host.h"

static uint32_t features(const struct pv_blkback *b)
{
	return PVBLK_F_FLUSH | PVBLK_F_FUA | PVBLK_F_DISCARD | PVBLK_F_WRITE_ZEROES | PVBLK_F_INDIRECT |
	       (b->disk.read_only ? PVBLK_F_READ_ONLY : 0);
}

/* ---- control ---- */

/* A sparse table of fixed buffers, one slot per chunk of guest RAM (filled
 * on first use); without it the queue uses unregistered buffers. */
static void register_ram(struct pv_blkback *b, struct queue *q)
{
	uint64_t size;
	int r;

	(void)pv_vm_ram(b->vm, &size);
	q->nchunks = (unsigned int)((size + FIXED_CHUNK - 1) / FIXED_CHUNK);
	if (q->nchunks > FIXED_MAX_CHUNKS)
		q->nchunks = FIXED_MAX_CHUNKS; /* RAM beyond 32 GiB: unregistered */
	q->chunk = calloc(q->nchunks, 1);
	r = q->chunk ? io_uring_register_buffers_sparse(&q->uring, q->nchunks) : -ENOMEM;
	q->fixed = r == 0;
	if (r < 0)
		pvblk__note_unfixed(b, -r);
}

/* A queue not connected (or torn down). */
static void queue_reset(struct pv_blkback *b, struct queue *q, unsigned int idx)
{
	memset(q, 0, sizeof(*q));
	q->b = b;
	q->idx = idx;
	q->port = q->efd = q->stop_efd = -1;
}

/* Stop a queue's thread and release what connect_queue set up, however far
 * it got; the thread's I/O has completed when this returns.  The counters
 * stay (pv_blkback_stats after the VM has stopped); released twice is a
 * no-op. */
static void queue_release(struct pv_blkback *b, struct queue *q)
{
	uint64_t one = 1;

	if (q->started) {
		if (write(q->stop_efd, &one, sizeof(one)) < 0)
			perror("libpv: pvblk stop");
		pthread_join(q->thread, NULL);
		q->started = false;
	}
	if (q->uring_ok)
		io_uring_queue_exit(&q->uring);
	q->uring_ok = false;
	if (q->stop_efd >= 0)
		close(q->stop_efd);
	q->stop_efd = -1;
	if (q->port >= 0)
		pv_evtchn_close(b->vm, (unsigned int)q->port);
	q->port = q->efd = -1;
	if (q->ring)
		pv_grant_unmap(b->vm, q->ring_gref);
	q->ring = NULL;
	free(q->slots);
	q->slots = NULL;
	free(q->chunk);
	q->chunk = NULL;
}

/* Release a queue and forget it (a failed or undone CONNECT). */
static void queue_teardown(struct pv_blkback *b, struct queue *q)
{
	queue_release(b, q);
	queue_reset(b, q, q->idx);
}

static int connect_queue(struct pv_blkback *b, struct queue *q, const struct pvblk_queue_desc *d)
{
	struct pv_ring_params prm;
	size_t len = (size_t)d->ring_pages * 4096;
	int r;

	if (d->ring_pages == 0 || d->ring_pages > 1 + 2 * (RING_ENTRIES_MAX * PVBLK_REQ_SIZE / 4096 + 1))
		return -EINVAL;
	r = pv_grant_map(b->vm, 0, d->ring_gref, 0, len, true, &q->ring);
	if (r < 0)
		return r;
	q->ring_gref = d->ring_gref;
	if (pv_ring_pair_check(q->ring, len, &prm) < 0 || prm.req_entry_size != PVBLK_REQ_SIZE ||
	    prm.rsp_entry_size != PVBLK_RSP_SIZE || prm.req_entries > RING_ENTRIES_MAX ||
	    prm.rsp_entries < prm.req_entries ||
	    pv_ring_cons_attach(&q->req, q->ring, &prm, PV_RING_REQ) < 0 ||
	    pv_ring_prod_attach(&q->rsp, q->ring, &prm, PV_RING_RSP) < 0)
		return -EINVAL;
	q->nslots = prm.req_entries;
	q->slots = calloc(q->nslots, sizeof(*q->slots));
	if (!q->slots)
		return -ENOMEM;
	r = pvblk__uring_init(&q->uring, prm.req_entries + 4);
	if (r < 0)
		return r;
	q->uring_ok = true;
	if (!b->cfg.no_fixed)
		register_ram(b, q);
	r = pvblk__uring_enable(&q->uring);
	if (r < 0)
		return r;
	q->port = pv_evtchn_alloc_monitor(b->vm, &q->efd);
	if (q->port < 0)
		return q->port;
	q->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->stop_efd < 0)
		return -errno;
	r = -pthread_create(&q->thread, NULL, pvblk__queue_thread, q);
	if (r < 0)
		return r;
	q->started = true;
	return 0;
}

/* Does queue i's ring share memory with an earlier queue's?  (Grants may
 * name the same frames under different references.) */
static bool rings_overlap(const struct pv_blkback *b, unsigned int i, const struct pvblk_queue_desc *d)
{
	const uint8_t *p = b->q[i].ring;
	size_t len = (size_t)d[i].ring_pages * 4096;

	for (unsigned int j = 0; j < i; j++) {
		const uint8_t *q = b->q[j].ring;

		if (p < q + (size_t)d[j].ring_pages * 4096 && q < p + len)
			return true;
	}
	return false;
}

struct connect_args {
	struct pv_blkback *b;
	struct pvblk_ctrl *c;
};

/* CONNECT: every queue of the copied control page, or none (b->lock held). */
static int connect_all(void *arg)
{
	struct connect_args *a = arg;
	struct pv_blkback *b = a->b;
	struct pvblk_ctrl *c = a->c;
	int r = 0;

	if (b->nr_queues || c->nr_queues == 0 || c->nr_queues > b->max_queues)
		return -EINVAL;
	/* All queues or none: a bad descriptor leaves the device as it
	 * was, so the guest may try again. */
	for (unsigned int i = 0; i < c->nr_queues && r == 0; i++) {
		r = connect_queue(b, &b->q[i], &c->q[i]);
		c->q[i].evtchn = (uint32_t)b->q[i].port;
		b->nr_queues = i + 1;
		if (r == 0 && rings_overlap(b, i, c->q))
			r = -EINVAL; /* two queue threads on one ring would break it */
	}
	if (r < 0) {
		for (unsigned int i = 0; i < b->nr_queues; i++) {
			queue_teardown(b, &b->q[i]);
			c->q[i].evtchn = 0;
		}
		b->nr_queues = 0;
	}
	return r;
}

static void add_stats(const struct queue *q, struct pv_blkback_stats *st);

/* DISCONNECT: end every queue, keep its counters (b->lock held). */
static int disconnect_all(void *arg)
{
	struct pv_blkback *b = arg;

	uint64_t pinned = b->retired.fixed_chunks; /* unpinned now */

	for (unsigned int i = 0; i < b->nr_queues; i++) {
		queue_release(b, &b->q[i]);
		add_stats(&b->q[i], &b->retired);
		b->retired.fixed_chunks = pinned;
		queue_reset(b, &b->q[i], i);
	}
	b->nr_queues = 0;
	return 0;
}

static int control(void *opaque, struct pv_vcpu *v, uint64_t addr, void *data, unsigned int size, bool is_write)
{
	struct pv_blkback *b = opaque;
	struct pvblk_ctrl c;
	uint32_t gref = 0;
	int r = 0;

	(void)v;
	if (!is_write || addr != PVBLK_PORT || size != 4)
		return 0;
	memcpy(&gref, data, 4);
	if (pv_grant_copy_from(b->vm, 0, gref, 0, &c, sizeof(c)) < 0)
		return 0; /* nothing we may write to: ignore */
	pthread_mutex_lock(&b->lock);
	switch (c.cmd) {
	case PVBLK_CMD_GET_CONFIG:
		c.config = (struct pvblk_config){
			.version = PVBLK_VERSION,
			.features = features(b),
			.capacity = b->disk.size / PV_DISK_SECTOR,
			.logical_sector_size = PV_DISK_SECTOR,
			.physical_sector_size = b->disk.dio_offset_align > 4096 ? b->disk.dio_offset_align : 4096,
			.max_segments = PVBLK_SEGS_INDIRECT,
			.max_request_bytes = MAX_REQ_BYTES,
			.max_queues = b->max_queues,
			.max_ring_entries = RING_ENTRIES_MAX,
		};
		break;
	case PVBLK_CMD_CONNECT: {
		struct connect_args a = { b, &c };

		/* Threads, eventfds and rings are made on the control thread
		 * (a sandboxed vCPU may make none). */
		r = pv_vm_device_call(b->vm, connect_all, &a);
		break;
	}
	case PVBLK_CMD_DISCONNECT:
		/* joins the queue threads: on the control thread too */
		r = pv_vm_device_call(b->vm, disconnect_all, b);
		break;
	default:
		r = -EINVAL;
	}
	pthread_mutex_unlock(&b->lock);
	c.status = r;
	pv_grant_copy_to(b->vm, 0, gref, 0, &c, sizeof(c));
	return 0;
}

/* The VM has stopped for good: end every queue, keep the counters. */
static void blkback_stop(void *dev)
{
	struct pv_blkback *b = dev;

	pthread_mutex_lock(&b->lock);
	for (unsigned int i = 0; i < b->nr_queues; i++)
		queue_release(b, &b->q[i]);
	pthread_mutex_unlock(&b->lock);
}

static void blkback_destroy(void *dev)
{
	struct pv_blkback *b = dev;

	blkback_stop(b);
	pv_disk_close(&b->disk);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

static const struct pv_device_ops blkback_ops = {
	.name = "pvblk",
	.stop = blkback_stop,
	.destroy = blkback_destroy,
};

int pv_blkback_attach(struct pv_vm *vm, const struct pv_blkback_config *cfg, struct pv_blkback **out)
{
	struct pv_blkback *b;
	int r;

	if (out)
		*out = NULL;
	if (!vm || !cfg || !cfg->path || !out)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->vm = vm;
	b->cfg = *cfg;
	b->cfg.path = NULL; /* not ours to keep */
	b->heavy = !pv_vm_guest_fences(vm);
	pthread_mutex_init(&b->lock, NULL);
	for (unsigned int i = 0; i < PVBLK_MAX_QUEUES; i++)
		queue_reset(b, &b->q[i], i);
	b->disk.fd = b->disk.fd_buffered = -1;
	r = pv_disk_open(&b->disk, cfg->path, cfg->read_only, cfg->no_direct);
	if (r < 0) {
		pthread_mutex_destroy(&b->lock);
		free(b);
		return r;
	}
	r = pv_vm_add_device(vm, &blkback_ops, b);
	if (r < 0) {
		blkback_destroy(b);
		return r;
	}
	/* From here on the VM owns b. */
	b->max_queues = cfg->max_queues ? cfg->max_queues : pv_vm_vcpus(vm);
	if (b->max_queues == 0)
		b->max_queues = 1;
	if (b->max_queues > PVBLK_MAX_QUEUES)
		b->max_queues = PVBLK_MAX_QUEUES;
	if (b->heavy)
		pv_ring_heavy_barrier_init();
	r = pv_vm_add_pio(vm, "pvblk", PVBLK_PORT, 4, control, b);
	if (r < 0)
		return r;
	*out = b;
	return 0;
}

static void add_stats(const struct queue *q, struct pv_blkback_stats *st)
{
	st->requests += atomic_load(&q->requests);
	st->errors += atomic_load(&q->errors);
	st->invalid += atomic_load(&q->invalid);
	st->notifications += atomic_load(&q->notifications);
	st->sleeps += atomic_load(&q->sleeps);
	st->fixed_chunks += atomic_load(&q->fixed_chunks);
	st->rd_reqs += atomic_load(&q->rd_reqs);
	st->rd_bytes += atomic_load(&q->rd_bytes);
	st->wr_reqs += atomic_load(&q->wr_reqs);
	st->wr_bytes += atomic_load(&q->wr_bytes);
	st->fl_reqs += atomic_load(&q->fl_reqs);
}

void pv_blkback_stats(struct pv_blkback *b, struct pv_blkback_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	*st = b->retired;
	for (unsigned int i = 0; i < b->nr_queues; i++)
		add_stats(&b->q[i], st);
	pthread_mutex_unlock(&b->lock);
}

int pv_blkback_queue_stats(struct pv_blkback *b, unsigned int queue, struct pv_blkback_stats *st)
{
	int r = -ENOENT;

	memset(st, 0, sizeof(*st));
	if (!b)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	if (queue < b->nr_queues) {
		add_stats(&b->q[queue], st);
		r = 0;
	}
	pthread_mutex_unlock(&b->lock);
	return r;
}

unsigned int pv_blkback_queues(struct pv_blkback *b)
{
	unsigned int n;

	if (!b)
		return 0;
	pthread_mutex_lock(&b->lock);
	n = b->nr_queues;
	pthread_mutex_unlock(&b->lock);
	return n;
}

bool pv_blkback_direct(const struct pv_blkback *b)
{
	return b && b->disk.direct;
}
