/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvbench's host door: the workload on the host itself with io_uring, the
 * baseline of every guest ratio.  It has to be as strong as the tool people
 * trust for the job (fio with --ioengine=io_uring), or the guest looks
 * faster than the host:
 *   - every queue slot is submitted at once, completions are reaped in
 *     batches and their replacements go out with the next wait, one
 *     io_uring_enter per batch;
 *   - the file and the buffers are registered with the ring (fixed file,
 *     READ_FIXED/WRITE_FIXED) when the kernel and RLIMIT_MEMLOCK allow;
 *   - O_DIRECT when the file system takes it;
 *   - the clock is read about once a millisecond, not once per request;
 *   - task work runs when we wait (DEFER_TASKRUN) when the kernel has it.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "bench_blk.h"

#define WRITE_HALF (1ull << 32) /* user_data of the write a linked data sync follows */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct host {
	struct io_uring ring;
	const struct workload *w;
	unsigned char *buf;
	int fd, file;       /* file: the index in the ring's file table, or fd */
	bool fixed_file, fixed_bufs;
	uint64_t cap, seq, rng;
};

/* The newest ring set-up the kernel accepts. */
static int ring_init(struct io_uring *ring, unsigned int entries)
{
	static const unsigned int flags[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	int r = -EINVAL;

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		struct io_uring_params p = { .flags = flags[i] };

		r = io_uring_queue_init_params(entries, ring, &p);
		if (r != -EINVAL)
			break;
	}
	return r;
}

/* Queue the next request of (h) into buffer slot (slot). */
static void prep(struct host *h, unsigned int slot)
{
	const struct workload *w = h->w;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&h->ring);
	unsigned char *b = h->buf + (size_t)slot * w->bs;
	uint64_t blk;

	if (w->random) {
		h->rng = h->rng * 6364136223846793005ull + 1442695040888963407ull;
		blk = (h->rng >> 17) % h->cap;
	} else {
		blk = h->seq;
		h->seq = h->seq + 1 >= h->cap ? 0 : h->seq + 1;
	}
	if (h->fixed_bufs && w->write)
		io_uring_prep_write_fixed(sqe, h->file, b, w->bs, blk * w->bs, (int)slot);
	else if (h->fixed_bufs)
		io_uring_prep_read_fixed(sqe, h->file, b, w->bs, blk * w->bs, (int)slot);
	else if (w->write)
		io_uring_prep_write(sqe, h->file, b, w->bs, blk * w->bs);
	else
		io_uring_prep_read(sqe, h->file, b, w->bs, blk * w->bs);
	if (h->fixed_file)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, slot);
	if (w->flush) { /* the request completes with its data sync */
		io_uring_sqe_set_data64(sqe, slot | WRITE_HALF);
		sqe->flags |= IOSQE_IO_LINK;
		sqe = io_uring_get_sqe(&h->ring);
		io_uring_prep_fsync(sqe, h->file, IORING_FSYNC_DATASYNC);
		if (h->fixed_file)
			sqe->flags |= IOSQE_FIXED_FILE;
		io_uring_sqe_set_data64(sqe, slot);
	}
}

/* Run (h) for (seconds) into (r); 0, or a negative errno. */
static int loop(struct host *h, double seconds, struct run *r)
{
	const struct workload *w = h->w;
	unsigned int qd = w->qd, inflight = qd, batch = qd * (w->flush ? 2 : 1);
	unsigned long long check_every = 1, since_check = 0;
	struct io_uring_cqe *cqes[512];
	double t0, end;
	bool stopping = false;
	int err = 0;

	if (batch > sizeof(cqes) / sizeof(cqes[0]))
		batch = sizeof(cqes) / sizeof(cqes[0]);
	t0 = now_s();
	end = t0 + seconds;
	for (unsigned int s = 0; s < qd; s++)
		prep(h, s);
	while (inflight) {
		unsigned int n;
		int ret = io_uring_submit_and_wait(&h->ring, 1);

		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			err = ret;
			break; /* the ring is unusable: what is in flight is lost with it */
		}
		n = io_uring_peek_batch_cqe(&h->ring, cqes, batch);
		for (unsigned int i = 0; i < n; i++) {
			uint64_t ud = io_uring_cqe_get_data64(cqes[i]);
			int res = cqes[i]->res;

			if (ud & WRITE_HALF) {
				if (res != (int)w->bs && !err)
					err = res < 0 ? res : -EIO;
				continue;
			}
			if ((res < 0 || (!w->flush && res != (int)w->bs)) && !err)
				err = res < 0 ? res : -EIO;
			inflight--;
			r->requests++;
			if (!stopping && ++since_check >= check_every) {
				double t = now_s();

				stopping = t >= end;
				since_check = 0;
				/* next look in about a millisecond */
				check_every = (unsigned long long)((double)r->requests / (t - t0) * 1e-3);
				check_every = check_every ? check_every : 1;
			}
			if (!stopping && !err) {
				prep(h, (unsigned int)ud);
				inflight++;
			}
		}
		io_uring_cq_advance(&h->ring, n);
	}
	r->seconds = now_s() - t0;
	return err;
}

int bench_host_run(const char *path, const struct workload *w, double seconds, struct host_pos *pos, struct run *r)
{
	int mode = (w->write ? O_RDWR : O_RDONLY) | O_CLOEXEC;
	struct host h = { .w = w, .seq = pos->seq, .rng = pos->rng ? pos->rng : 12345 };
	struct iovec *iov;
	struct stat st;
	int ret;

	memset(r, 0, sizeof(*r));
	h.fd = open(path, mode | O_DIRECT);
	if (h.fd < 0)
		h.fd = open(path, mode);
	if (h.fd < 0)
		return -1;
	if (fstat(h.fd, &st) < 0 || (h.cap = (uint64_t)st.st_size / w->bs) == 0) {
		errno = errno ? errno : EINVAL;
		close(h.fd);
		return -1;
	}
	iov = calloc(w->qd, sizeof(*iov));
	if (!iov || posix_memalign((void **)&h.buf, 4096, (size_t)w->qd * w->bs)) {
		free(iov);
		close(h.fd);
		errno = ENOMEM;
		return -1;
	}
	memset(h.buf, 0x5a, (size_t)w->qd * w->bs);
	ret = ring_init(&h.ring, w->qd * (w->flush ? 2 : 1));
	if (ret < 0)
		goto out;
	h.file = h.fd;
	if (io_uring_register_files(&h.ring, &h.fd, 1) == 0) {
		h.fixed_file = true;
		h.file = 0;
	}
	for (unsigned int i = 0; i < w->qd; i++)
		iov[i] = (struct iovec){ h.buf + (size_t)i * w->bs, w->bs };
	/* pinned memory counts against RLIMIT_MEMLOCK: without it, plain reads */
	h.fixed_bufs = io_uring_register_buffers(&h.ring, iov, w->qd) == 0;
	ret = loop(&h, seconds, r);
	io_uring_queue_exit(&h.ring);
	pos->seq = h.seq;
	pos->rng = h.rng;
out:
	free(iov);
	free(h.buf);
	close(h.fd);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return 0;
}
