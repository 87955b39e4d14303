/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * faultfs: a one-file FUSE file system for tests that need real I/O errors
 * from a backing file.  It mounts a temporary directory holding one file,
 * "disk", whose data is an existing image file, and answers reads, writes
 * or fsyncs that touch chosen sector ranges with an errno (EIO, ENOSPC...)
 * instead.  Nothing of a refused write reaches the image.
 *
 * The server runs in a forked child (single-threaded libfuse low-level
 * loop), so a request the test process blocks on can never wait for the
 * test process itself.  The child ends when the file system is unmounted,
 * or, with the mount removed, when the test process dies.
 *
 * Every open of "disk" is direct_io: the kernel's page cache never holds
 * its data, so each read(2) and write(2), buffered or O_DIRECT, reaches the
 * rules with the caller's own offset and length.  (With a page cache, a
 * page written once, or read by readahead before a rule was hit, could be
 * served from memory and hide a read error.)
 */
#ifndef PV_TESTS_FAULTFS_H
#define PV_TESTS_FAULTFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define FAULTFS_MAX_RULES 8

/* faultfs_rule.ops */
#define FAULTFS_READ  0x1u
#define FAULTFS_WRITE 0x2u
#define FAULTFS_FSYNC 0x4u  /* fsync/fdatasync of the file (the range is ignored) */

/* A request of one of `ops` that overlaps sectors [sector, sector + count)
 * (512 bytes each) fails with -err; the first matching rule wins. */
struct faultfs_rule {
	unsigned int ops;
	uint64_t sector, count;
	int err;              /* positive errno: EIO, ENOSPC... */
};

struct faultfs_rules {
	unsigned int n;
	struct faultfs_rule rule[FAULTFS_MAX_RULES];
};

/* What the server saw, counted in the child, read by the parent. */
struct faultfs_stats {
	uint64_t reads, writes, fsyncs;                 /* requests of each kind */
	uint64_t read_faults, write_faults, fsync_faults; /* of them, failed by a rule */
	uint64_t bytes_read, bytes_written;             /* moved to or from the image */
};

struct faultfs {
	char dir[48];         /* the mount point */
	char path[64];        /* dir + "/disk" */
	char why[160];        /* after a failure: what went wrong */
	pid_t pid;            /* the server */
	bool mounted;
	struct faultfs_shared *sh; /* rules and counters, shared with the server */
};

#define FAULTFS_UNAVAILABLE 1

/*
 * Serve image (a regular file, opened read-write) as faultfs_path(fs) with
 * rules r.  Returns 0; FAULTFS_UNAVAILABLE when FUSE cannot be used here
 * (no /dev/fuse, mount(2) refused: skip the test, fs->why says why); or a
 * negative errno (fs->why says what failed).  Nothing is left to stop
 * unless it returned 0.
 */
int faultfs_start(struct faultfs *fs, const char *image, const struct faultfs_rules *r);

/* "<mount point>/disk" */
const char *faultfs_path(const struct faultfs *fs);

/* Counters so far. */
void faultfs_stats(const struct faultfs *fs, struct faultfs_stats *st);

/*
 * Unmount (lazily, MNT_DETACH), reap the server and remove the mount point.
 * Close every file opened on it first.  Returns 0 when the server ended by
 * itself with status 0 within a few seconds, -1 when it had to be killed or
 * failed.
 */
int faultfs_stop(struct faultfs *fs);

/* Add a rule to r; returns r, for chaining in initialisers. */
struct faultfs_rules *faultfs_add(struct faultfs_rules *r, unsigned int ops, uint64_t sector, uint64_t count,
				  int err);

#endif
