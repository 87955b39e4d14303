// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * blkload: a static Linux program that libpv's Linux-guest tests and
 * benchmark run inside the guest, on whichever disk the guest has
 * (pvblk.ko's /dev/pvda, pata_legacy's /dev/sda, QEMU's /dev/vda).
 *
 *   blkload zero DEV OFFSET LEN      BLKZEROOUT: the range reads as zeroes
 *   blkload discard DEV OFFSET LEN   BLKDISCARD
 *   blkload run DEV WORKLOAD QD COUNT [OFFSET SPAN]
 *       COUNT requests of WORKLOAD (seqwrite-1m, seqread-1m, randread-4k,
 *       flush: a 4 KiB write and an fdatasync) at queue depth QD, with
 *       O_DIRECT and Linux AIO, inside [OFFSET, OFFSET + SPAN) (default:
 *       the whole device); writes carry a pattern; prints one line
 *       "blkload WORKLOAD qd=QD requests=N bytes=B ns=T errors=E"
 *
 * Exit status 0, 1 when any request failed, 2 for bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define QD_MAX 256

static int usage(const char *why)
{
	fprintf(stderr, "blkload: %s\nusage: blkload zero|discard DEV OFFSET LEN | run DEV WORKLOAD QD COUNT [OFFSET SPAN]\n",
		why);
	return 2;
}

static int num(const char *s, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int range_ioctl(int argc, char **argv, unsigned long req)
{
	unsigned long long off, len;
	uint64_t r[2];
	int fd;

	if (argc != 5 || num(argv[3], &off) || num(argv[4], &len))
		return usage("zero and discard take DEV OFFSET LEN");
	fd = open(argv[2], O_WRONLY);
	if (fd < 0) {
		fprintf(stderr, "blkload: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	r[0] = off;
	r[1] = len;
	if (ioctl(fd, req, r) < 0) {
		fprintf(stderr, "blkload: %s on %s: %s\n", argv[1], argv[2], strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
}

struct work {
	const char *name;
	unsigned int bs;
	int write, random, flush;
};

static const struct work works[] = {
	{ "seqwrite-1m", 1u << 20, 1, 0, 0 },
	{ "seqread-1m", 1u << 20, 0, 0, 0 },
	{ "randread-4k", 4096, 0, 1, 0 },
	{ "flush", 4096, 1, 0, 1 },
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int run(int argc, char **argv)
{
	unsigned long long qd, count, off = 0, span = 0, done = 0, issued = 0, errors = 0, bytes = 0, pos;
	const struct work *w = NULL;
	struct iocb cbs[QD_MAX], *ptrs[QD_MAX];
	struct io_event ev[QD_MAX];
	aio_context_t ctx = 0;
	unsigned long long dev_size;
	unsigned char *buf;
	uint64_t t0;
	int fd;

	if (argc != 6 && argc != 8)
		return usage("run takes DEV WORKLOAD QD COUNT [OFFSET SPAN]");
	for (size_t i = 0; i < sizeof(works) / sizeof(works[0]); i++)
		if (!strcmp(argv[3], works[i].name))
			w = &works[i];
	if (!w)
		return usage("unknown workload");
	if (num(argv[4], &qd) || qd == 0 || qd > QD_MAX || num(argv[5], &count) || count == 0)
		return usage("QD is 1-256, COUNT at least 1");
	if (argc == 8 && (num(argv[6], &off) || num(argv[7], &span) || off % 4096 || span < w->bs))
		return usage("OFFSET is a multiple of 4096, SPAN at least one request");
	if (w->flush)
		qd = 1;
	fd = open(argv[2], (w->write ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &dev_size) < 0) {
		fprintf(stderr, "blkload: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if (!span)
		span = dev_size - off;
	if (off + span > dev_size || span < w->bs)
		return usage("the range does not fit the device");
	span -= span % w->bs;
	if (posix_memalign((void **)&buf, 4096, (size_t)qd * w->bs))
		return 1;
	for (size_t i = 0; i < (size_t)qd * w->bs; i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	if (syscall(SYS_io_setup, (unsigned int)qd, &ctx) < 0) {
		fprintf(stderr, "blkload: io_setup: %s\n", strerror(errno));
		return 1;
	}
	pos = 0;
	t0 = now_ns();
	while (done < count) {
		unsigned int n = 0;

		while (issued - done < qd && issued < count) {
			unsigned int slot = (unsigned int)(issued % qd);
			struct iocb *cb = &cbs[slot];
			unsigned long long at = w->random ? next_rand() % (span / w->bs) * w->bs : pos;

			pos = (pos + w->bs) % span;
			memset(cb, 0, sizeof(*cb));
			cb->aio_fildes = (uint32_t)fd;
			cb->aio_lio_opcode = w->write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
			cb->aio_buf = (uint64_t)(uintptr_t)(buf + (size_t)slot * w->bs);
			cb->aio_nbytes = w->bs;
			cb->aio_offset = (int64_t)(off + at);
			ptrs[n++] = cb;
			issued++;
		}
		if (n && syscall(SYS_io_submit, ctx, (long)n, ptrs) != (long)n) {
			fprintf(stderr, "blkload: io_submit: %s\n", strerror(errno));
			return 1;
		}
		long got = syscall(SYS_io_getevents, ctx, 1L, (long)QD_MAX, ev, NULL);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "blkload: io_getevents: %s\n", strerror(errno));
			return 1;
		}
		for (long i = 0; i < got; i++) {
			if (ev[i].res == (int64_t)w->bs)
				bytes += w->bs;
			else
				errors++;
			if (w->flush && fdatasync(fd) < 0)
				errors++;
		}
		done += (unsigned long long)got;
	}
	printf("blkload %s qd=%llu requests=%llu bytes=%llu ns=%llu errors=%llu\n", w->name, qd, done, bytes,
	       (unsigned long long)(now_ns() - t0), errors);
	syscall(SYS_io_destroy, ctx);
	close(fd);
	free(buf);
	return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage("no command");
	if (!strcmp(argv[1], "zero"))
		return range_ioctl(argc, argv, BLKZEROOUT);
	if (!strcmp(argv[1], "discard"))
		return range_ioctl(argc, argv, BLKDISCARD);
	if (!strcmp(argv[1], "run"))
		return run(argc, argv);
	return usage("unknown command");
}
