/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PV block backend on io_uring.  One thread per queue waits for the
 * doorbell and for I/O completions in the same io_uring (the doorbell is a
 * POLL_ADD on the event channel's eventfd), batches requests into
 * submissions and completions into responses, and notifies the guest only
 * when the ring's event index asks for it.  Between bursts it polls the
 * request ring for cfg.poll_ns, so a busy queue needs no notification.
 *
 * Guest RAM is registered with each queue's io_uring as fixed buffers, one
 * 2 MiB chunk at a time, the first time I/O lands in it (a sparse buffer
 * table), so only the chunks a guest uses for I/O are pinned and connecting
 * costs nothing (pinning all of a fresh 1 GiB guest up front took 2 s here).
 * A request whose data is one contiguous range inside one chunk is then
 * read or written with READ_FIXED/WRITE_FIXED and the kernel pins nothing
 * per I/O.  Grants are still checked per request: the registration only
 * names memory the monitor owns anyway.  Where registration is refused
 * (RLIMIT_MEMLOCK without CAP_IPC_LOCK, an old kernel) the queue uses plain
 * vectored I/O.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blkback_priv.h"
#include "ring_host.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- responses ---- */

static void respond(struct queue *q, uint64_t id, int status, int *pending)
{
	struct pvblk_rsp r = { .id = id, .status = status };

	atomic_fetch_add(&q->requests, 1);
	if (status == PVBLK_S_INVALID)
		atomic_fetch_add(&q->invalid, 1);
	else if (status != PVBLK_S_OK)
		atomic_fetch_add(&q->errors, 1);
	/* A request is only taken when its response has a free slot (see
	 * can_take), so this fails only when the guest broke the ring. */
	if (pv_ring_produce(&q->rsp, &r, sizeof(r)) < 0) {
		q->broken = true;
		return;
	}
	(*pending)++;
}

static void flush_responses(struct queue *q, int *pending)
{
	if (!*pending)
		return;
	if (pv_ring_push(&q->rsp)) {
		pv_evtchn_notify(q->b->vm, (unsigned int)q->port);
		atomic_fetch_add(&q->notifications, 1);
	}
	*pending = 0;
}

/* ---- requests ---- */

static struct slot *get_slot(struct queue *q, unsigned int *idx)
{
	for (unsigned int i = 0; i < q->nslots; i++) {
		if (!q->slots[i].busy) {
			*idx = i;
			return &q->slots[i];
		}
	}
	return NULL;
}

static void release_slot(struct queue *q, struct slot *s)
{
	pv_grant_unmap_batch(q->b->vm, s->maps, s->nmaps);
	s->nmaps = 0;
	s->busy = false;
	q->inflight--;
}

/* Copy out, check and map the segments of a READ/WRITE (n of them, from
 * pvblk__req_check), then gather them into iovecs; returns PVBLK_S_*. */
static int map_segments(struct queue *q, const struct pvblk_req *req, unsigned int n, struct slot *s,
			uint64_t *total)
{
	int st = pvblk__req_segments(q->b->vm, req, n, q->b->disk.size / PV_DISK_SECTOR, s->maps, &s->nmaps, total);

	if (st != PVBLK_S_OK)
		return st; /* the caller releases what did map */
	/* One iovec per run of contiguous segments. */
	s->niov = 0;
	for (unsigned int i = 0; i < n; i++) {
		struct iovec *last = s->niov ? &s->iov[s->niov - 1] : NULL;

		if (last && (char *)last->iov_base + last->iov_len == (char *)s->maps[i].ptr)
			last->iov_len += s->maps[i].len;
		else
			s->iov[s->niov++] = (struct iovec){ .iov_base = s->maps[i].ptr, .iov_len = s->maps[i].len };
	}
	return PVBLK_S_OK;
}

/* Whether O_DIRECT can take this transfer at byte offset off. */
static bool aligned(const struct pv_disk *d, const struct slot *s, uint64_t off)
{
	if (off % d->dio_offset_align)
		return false;
	for (unsigned int i = 0; i < s->niov; i++)
		if ((uintptr_t)s->iov[i].iov_base % d->dio_mem_align || s->iov[i].iov_len % d->dio_offset_align)
			return false;
	return true;
}

static void complete(struct queue *q, struct io_uring_cqe *cqe, int *pending);
static void ack_doorbell(struct queue *q);

void pvblk__note_unfixed(struct pv_blkback *b, int err)
{
	if (!atomic_exchange(&b->fixed_noted, true))
		fprintf(stderr, "libpv: pvblk: cannot register guest RAM with io_uring (%s); using unregistered buffers\n",
			strerror(err));
}

/* Whether chunk k of guest RAM is registered, registering it on first use. */
static bool chunk_fixed(struct queue *q, char *ram, uint64_t ram_size, unsigned int k)
{
	if (q->chunk[k] == CHUNK_NEW) {
		uint64_t off = (uint64_t)k * FIXED_CHUNK;
		struct iovec iov = { ram + off, ram_size - off < FIXED_CHUNK ? ram_size - off : FIXED_CHUNK };
		__u64 tag = 0;
		int r = io_uring_register_buffers_update_tag(&q->uring, k, &iov, &tag, 1);

		q->chunk[k] = r == 1 ? CHUNK_FIXED : CHUNK_REFUSED;
		if (r == 1) {
			atomic_fetch_add(&q->fixed_chunks, 1);
		} else if (r == -ENOMEM || r == -EPERM) { /* the memlock limit: stop trying */
			q->fixed = false;
			pvblk__note_unfixed(q->b, -r);
		}
	}
	return q->chunk[k] == CHUNK_FIXED;
}

/* Prepare a read or write of the slot's iovecs: fixed when they are one
 * range inside one chunk of guest RAM, vectored otherwise. */
static void prep_rw(struct queue *q, struct io_uring_sqe *sqe, int fd, const struct slot *s, uint64_t off)
{
	bool rd = s->op == PVBLK_OP_READ;

	if (q->fixed && s->niov == 1) {
		uint64_t ram_size;
		char *ram = pv_vm_ram(q->b->vm, &ram_size), *p = s->iov[0].iov_base;
		uint64_t at = (uint64_t)(p - ram), idx = at / FIXED_CHUNK;

		if (p >= ram && at + s->iov[0].iov_len <= ram_size && idx < q->nchunks &&
		    (at + s->iov[0].iov_len - 1) / FIXED_CHUNK == idx && chunk_fixed(q, ram, ram_size, (unsigned int)idx)) {
			if (rd)
				io_uring_prep_read_fixed(sqe, fd, p, (unsigned int)s->iov[0].iov_len, off, (int)idx);
			else
				io_uring_prep_write_fixed(sqe, fd, p, (unsigned int)s->iov[0].iov_len, off, (int)idx);
			return;
		}
	}
	if (rd)
		io_uring_prep_readv(sqe, fd, s->iov, s->niov, off);
	else
		io_uring_prep_writev(sqe, fd, s->iov, s->niov, off);
}

/*
 * A flush covers every write submitted before it: wait until everything in
 * flight but the flush itself (slot `self`) has completed.  (IOSQE_IO_DRAIN
 * would also wait for our never-ending doorbell poll.)
 */
static void drain(struct queue *q, struct slot *self, int *pending)
{
	io_uring_submit(&q->uring);
	while (q->inflight > 1) {
		struct io_uring_cqe *cqe;
		int r = io_uring_wait_cqe(&q->uring, &cqe);

		if (r == -EINTR)
			continue;
		if (r < 0)
			return;
		if (cqe->user_data < q->nslots && &q->slots[cqe->user_data] != self)
			complete(q, cqe, pending);
		else if (cqe->user_data == TAG_DOORBELL)
			ack_doorbell(q);
		else if (cqe->user_data == TAG_STOP)
			q->stop = true; /* the main loop leaves after this request */
		io_uring_cqe_seen(&q->uring, cqe);
	}
}

/*
 * A block device takes discard and zeroing only in whole logical blocks
 * (the file systems' fallocate has no such limit).  Zero the partial blocks
 * at either end of [*sector, +*nsect) with plain writes, which go through
 * the page cache's read-modify-write, and shrink the range to the whole
 * blocks left (maybe none).  Returns PVBLK_S_OK or PVBLK_S_IOERR.
 */
static int zero_sectors(struct pv_disk *d, uint64_t at, uint64_t end)
{
	static const char zeroes[65536];

	while (at < end) {
		size_t n = (size_t)((end - at) * PV_DISK_SECTOR);
		ssize_t w;

		if (n > sizeof(zeroes))
			n = sizeof(zeroes);
		w = pwrite(d->fd_buffered, zeroes, n, (off_t)(at * PV_DISK_SECTOR));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0 || w % PV_DISK_SECTOR)
			return PVBLK_S_IOERR;
		at += (uint64_t)w / PV_DISK_SECTOR;
	}
	return PVBLK_S_OK;
}

static int zero_edges(struct pv_disk *d, uint64_t *sector, uint64_t *nsect)
{
	uint64_t blk = d->dio_offset_align / PV_DISK_SECTOR, s = *sector, e = s + *nsect;
	uint64_t as = (s + blk - 1) / blk * blk, ae = e / blk * blk;
	int st;

	if (!d->block_device || blk <= 1 || (s % blk == 0 && e % blk == 0))
		return PVBLK_S_OK;
	if (as >= ae) { /* no whole block inside */
		*nsect = 0;
		return zero_sectors(d, s, e);
	}
	st = zero_sectors(d, s, as);
	if (st == PVBLK_S_OK)
		st = zero_sectors(d, ae, e);
	*sector = as;
	*nsect = ae - as;
	return st;
}

/* Turn one copied-out request into an SQE, or answer it at once. */
static void handle(struct queue *q, const struct pvblk_req *req, int *pending)
{
	struct pv_blkback *b = q->b;
	uint64_t cap = b->disk.size / PV_DISK_SECTOR, total = 0, nsect = 0, req_sector = req->sector;
	struct io_uring_sqe *sqe;
	unsigned int idx, nsegs;
	struct slot *s;
	int st, fd;

	st = pvblk__req_check(req, cap, b->disk.read_only, &nsegs);
	if (st != PVBLK_S_OK) {
		respond(q, req->id, st, pending);
		return;
	}
	s = get_slot(q, &idx);
	if (!s) { /* cannot happen: slots >= ring entries */
		respond(q, req->id, PVBLK_S_IOERR, pending);
		return;
	}
	s->busy = true;
	s->id = req->id;
	s->op = req->op;
	s->nmaps = 0;
	s->expect = 0;
	q->inflight++;
	if (req->op == PVBLK_OP_READ || req->op == PVBLK_OP_WRITE) {
		st = map_segments(q, req, nsegs, s, &total);
		nsect = total / PV_DISK_SECTOR;
	} else if (req->op == PVBLK_OP_FLUSH) {
		st = PVBLK_S_OK;
	} else {
		uint64_t start = req->sector;

		nsect = req->nr_sectors; /* in range: pvblk__req_check */
		st = zero_edges(&b->disk, &start, &nsect);
		if (st == PVBLK_S_OK && nsect == 0) {
			respond(q, req->id, st, pending); /* all of it was edges */
			release_slot(q, s);
			return;
		}
		req_sector = start;
	}
	if (st != PVBLK_S_OK) {
		respond(q, req->id, st, pending);
		release_slot(q, s);
		return;
	}
	if (req->op == PVBLK_OP_FLUSH)
		drain(q, s, pending);
	sqe = io_uring_get_sqe(&q->uring);
	if (!sqe) {
		io_uring_submit(&q->uring);
		sqe = io_uring_get_sqe(&q->uring);
	}
	if (!sqe) {
		respond(q, req->id, PVBLK_S_IOERR, pending);
		release_slot(q, s);
		return;
	}
	fd = b->disk.direct && aligned(&b->disk, s, req->sector * PV_DISK_SECTOR) ? b->disk.fd : b->disk.fd_buffered;
	switch (req->op) {
	case PVBLK_OP_READ:
		prep_rw(q, sqe, fd, s, req->sector * PV_DISK_SECTOR);
		s->expect = total;
		break;
	case PVBLK_OP_WRITE:
		prep_rw(q, sqe, fd, s, req->sector * PV_DISK_SECTOR);
		if (req->flags & PVBLK_REQ_FUA)
			sqe->rw_flags = RWF_DSYNC;
		s->expect = total;
		break;
	case PVBLK_OP_FLUSH:
		io_uring_prep_fsync(sqe, b->disk.fd, IORING_FSYNC_DATASYNC);
		break;
	case PVBLK_OP_DISCARD:
		io_uring_prep_fallocate(sqe, b->disk.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					req_sector * PV_DISK_SECTOR, nsect * PV_DISK_SECTOR);
		break;
	case PVBLK_OP_WRITE_ZEROES:
		io_uring_prep_fallocate(sqe, b->disk.fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
					req_sector * PV_DISK_SECTOR, nsect * PV_DISK_SECTOR);
		break;
	}
	io_uring_sqe_set_data64(sqe, idx);
}

/* Count a request of op that completed with PVBLK_S_OK, moving bytes. */
static void count_done(struct queue *q, uint8_t op, uint64_t bytes)
{
	switch (op) {
	case PVBLK_OP_READ:
		atomic_fetch_add(&q->rd_reqs, 1);
		atomic_fetch_add(&q->rd_bytes, bytes);
		break;
	case PVBLK_OP_WRITE:
		atomic_fetch_add(&q->wr_reqs, 1);
		atomic_fetch_add(&q->wr_bytes, bytes);
		break;
	case PVBLK_OP_FLUSH:
		atomic_fetch_add(&q->fl_reqs, 1);
		break;
	}
}

static void complete(struct queue *q, struct io_uring_cqe *cqe, int *pending)
{
	struct slot *s = &q->slots[cqe->user_data];
	int st = PVBLK_S_OK;

	if (cqe->res == -EOPNOTSUPP && (s->op == PVBLK_OP_DISCARD || s->op == PVBLK_OP_WRITE_ZEROES))
		st = PVBLK_S_UNSUPP;
	else if (cqe->res < 0 || (s->expect && (uint64_t)cqe->res != s->expect))
		st = PVBLK_S_IOERR; /* EIO, ENOSPC, a short transfer */
	if (st == PVBLK_S_OK)
		count_done(q, s->op, s->expect);
	respond(q, s->id, st, pending);
	release_slot(q, s);
}

static bool arm_poll(struct queue *q, int fd, uint64_t tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->uring);

	if (!sqe) {
		io_uring_submit(&q->uring);
		sqe = io_uring_get_sqe(&q->uring);
	}
	if (!sqe)
		return false;
	io_uring_prep_poll_add(sqe, fd, POLLIN);
	io_uring_sqe_set_data64(sqe, tag);
	return true;
}

/* (Re-)arm the doorbell poll; if there is no SQE now, the main loop tries
 * again and sleeps with a timeout meanwhile. */
static void arm_doorbell(struct queue *q)
{
	q->rearm = !arm_poll(q, q->efd, TAG_DOORBELL);
}

static void ack_doorbell(struct queue *q)
{
	pv_evtchn_ack(q->b->vm, (unsigned int)q->port);
	arm_doorbell(q);
}

/* Reap every ready completion; returns how many there were. */
static int reap(struct queue *q, int *pending)
{
	struct io_uring_cqe *cqe;
	int n = 0;

	while (io_uring_peek_cqe(&q->uring, &cqe) == 0) {
		if (cqe->user_data == TAG_DOORBELL) {
			ack_doorbell(q);
		} else if (cqe->user_data == TAG_STOP) {
			q->stop = true;
		} else if (cqe->user_data < q->nslots) {
			complete(q, cqe, pending);
		}
		io_uring_cqe_seen(&q->uring, cqe);
		n++;
	}
	return n;
}

/*
 * Take a request only when it can be answered: a free slot, and a free
 * response slot for it beyond those owed to requests in flight.  So a
 * guest that does not consume its responses stalls only itself, and the
 * backend never waits for the guest while it holds a request.
 */
static bool can_take(struct queue *q)
{
	int space = pv_ring_space(&q->rsp);

	if (space < 0)
		q->broken = true;
	return q->inflight < q->nslots && space > (int)q->inflight;
}

/* Sleep until a completion, a doorbell or the stop poll; with a timeout
 * when something must be looked at again without a wake-up. */
static void wait_events(struct queue *q, bool timed)
{
	struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = 1000000 };
	struct io_uring_cqe *cqe;

	atomic_fetch_add(&q->sleeps, 1);
	if (timed)
		io_uring_submit_and_wait_timeout(&q->uring, &cqe, 1, &ts, NULL);
	else
		io_uring_submit_and_wait(&q->uring, 1);
	/* what arrived is handled by reap() next round */
}

void *pvblk__queue_thread(void *arg)
{
	struct queue *q = arg;
	struct pv_blkback *b = q->b;
	uint64_t idle_since = now_ns();
	struct pvblk_req req;
	int pending = 0;
	int r0 = pv_vm_sandbox_thread(b->vm);

	if (r0 < 0) {
		fprintf(stderr, "libpv: pvblk queue %u: cannot load the sandbox filter (%s); queue stopped\n", q->idx,
			strerror(-r0));
		return NULL;
	}
	arm_doorbell(q);
	arm_poll(q, q->stop_efd, TAG_STOP); /* the SQ is empty: cannot fail */
	io_uring_submit(&q->uring);
	while (!q->stop && !q->broken) {
		int got = 0, r = 0;
		bool full = false;

		/* Drain requests: copy each out, then validate and queue it. */
		while (!q->stop) {
			if (!can_take(q)) {
				full = true;
				break;
			}
			r = pv_ring_consume(&q->req, &req, sizeof(req));
			if (r != 1)
				break;
			handle(q, &req, &pending);
			got++;
		}
		if (r < 0 || q->broken) {
			fprintf(stderr, "libpv: pvblk queue %u: broken %s ring; queue stopped\n", q->idx,
				r < 0 ? "request" : "response");
			break;
		}
		if (got) {
			pv_ring_release(&q->req);
			io_uring_submit(&q->uring);
		}
		if (q->rearm)
			arm_doorbell(q);
		got += reap(q, &pending);
		flush_responses(q, &pending);
		if (got) {
			idle_since = now_ns();
			continue;
		}
		if (full && pv_ring_avail(&q->req) > 0) {
			/* work waits for the guest to take responses: look again soon */
			wait_events(q, true);
			continue;
		}
		if (now_ns() - idle_since < b->cfg.poll_ns) {
			__builtin_ia32_pause();
			continue;
		}
		/* Going to sleep: arm the request event index and look again. */
		r = b->heavy ? pv_ring_final_check_heavy(&q->req) : pv_ring_final_check(&q->req);
		if (r != 0) {
			if (r < 0)
				break;
			continue;
		}
		wait_events(q, q->rearm);
		/* Awake (a doorbell or a completion): poll without doorbells. */
		pv_ring_disarm(&q->req);
		idle_since = now_ns();
	}
	/* Wait for what is in flight so no I/O lands in guest memory later. */
	while (q->inflight) {
		struct io_uring_cqe *cqe;
		int r = io_uring_wait_cqe(&q->uring, &cqe);

		if (r == -EINTR)
			continue;
		if (r < 0)
			break;
		if (cqe->user_data < q->nslots)
			complete(q, cqe, &pending);
		io_uring_cqe_seen(&q->uring, cqe);
	}
	flush_responses(q, &pending);
	return NULL;
}
