/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * faultfs (see faultfs.h).  The parent opens /dev/fuse and mounts with
 * mount(2) itself, so "no FUSE here" is a clean errno rather than a
 * message from fusermount; the forked child serves the descriptor through
 * libfuse ("/dev/fd/N" as the mount point tells libfuse the mount is done).
 *
 * Inodes: 1 the root directory, 2 the file "disk".
 *
 * The child asks for SIGTERM when the test process dies (a crash, a
 * Criterion timeout): it then unmounts and removes the mount point itself.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* close_range, pipe2 */
#endif
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "faultfs.h"

#define INO_DISK 2

struct faultfs_shared {
	struct faultfs_rules rules;
	struct faultfs_stats st;
};

/* ---- the server (child process only) ---- */

struct server {
	struct faultfs_shared *sh;
	int image;
	const char *dir;
};

static struct fuse_session *server_se;
static volatile sig_atomic_t server_signalled;

static void server_signal(int sig)
{
	(void)sig;
	server_signalled = 1;
	if (server_se)
		fuse_session_exit(server_se);
}

static void count(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/* The errno a request of op over [off, off + len) fails with, or 0. */
static int rule_err(const struct faultfs_rules *r, unsigned int op, uint64_t off, uint64_t len)
{
	for (unsigned int i = 0; i < r->n && i < FAULTFS_MAX_RULES; i++) {
		const struct faultfs_rule *f = &r->rule[i];

		if (!(f->ops & op))
			continue;
		if (op == FAULTFS_FSYNC)
			return f->err;
		/* sectors [first, last] of the request overlap the rule's */
		if (len && off / 512 < f->sector + f->count && (off + len - 1) / 512 >= f->sector)
			return f->err;
	}
	return 0;
}

static int fill_attr(struct server *s, fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (ino != INO_DISK)
		return ENOENT;
	{
		struct stat img;

		if (fstat(s->image, &img) < 0)
			return errno;
		st->st_mode = S_IFREG | 0600;
		st->st_nlink = 1;
		st->st_size = img.st_size;
		st->st_blocks = img.st_blocks;
		st->st_mtim = img.st_mtim;
		st->st_ctim = img.st_ctim;
	}
	return 0;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct server *s = fuse_req_userdata(req);
	struct fuse_entry_param e;
	int err;

	memset(&e, 0, sizeof(e));
	if (parent != FUSE_ROOT_ID || strcmp(name, "disk")) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	err = fill_attr(s, INO_DISK, &e.attr);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	e.ino = INO_DISK;
	e.generation = 1;
	e.attr_timeout = e.entry_timeout = 1.0;
	fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	int err = fill_attr(fuse_req_userdata(req), ino, &st);

	(void)fi;
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, 1.0);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != INO_DISK) {
		fuse_reply_err(req, ino == FUSE_ROOT_ID ? EISDIR : ENOENT);
		return;
	}
	fi->direct_io = 1;  /* no page cache: every access reaches the rules */
	fi->keep_cache = 0;
	fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct server *s = fuse_req_userdata(req);
	int err = rule_err(&s->sh->rules, FAULTFS_READ, (uint64_t)off, size);
	char *buf;
	ssize_t n;

	(void)ino, (void)fi;
	count(&s->sh->st.reads, 1);
	if (err) {
		count(&s->sh->st.read_faults, 1);
		fuse_reply_err(req, err);
		return;
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = pread(s->image, buf, size, off);
	if (n < 0) {
		fuse_reply_err(req, errno);
	} else {
		count(&s->sh->st.bytes_read, (uint64_t)n);
		fuse_reply_buf(req, buf, (size_t)n);
	}
	free(buf);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct server *s = fuse_req_userdata(req);
	int err = rule_err(&s->sh->rules, FAULTFS_WRITE, (uint64_t)off, size);
	ssize_t n;

	(void)ino, (void)fi;
	count(&s->sh->st.writes, 1);
	if (err) {
		count(&s->sh->st.write_faults, 1);
		fuse_reply_err(req, err);
		return;
	}
	n = pwrite(s->image, buf, size, off);
	if (n < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	count(&s->sh->st.bytes_written, (uint64_t)n);
	fuse_reply_write(req, (size_t)n);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct server *s = fuse_req_userdata(req);
	int err = rule_err(&s->sh->rules, FAULTFS_FSYNC, 0, 0);

	(void)ino, (void)fi;
	count(&s->sh->st.fsyncs, 1);
	if (err)
		count(&s->sh->st.fsync_faults, 1);
	else if ((datasync ? fdatasync(s->image) : fsync(s->image)) < 0)
		err = errno;
	fuse_reply_err(req, err);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* Write-through: each write(2) is one request answered before it returns. */
	conn->want &= ~(unsigned int)FUSE_CAP_WRITEBACK_CACHE;
}

static const struct fuse_lowlevel_ops server_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.getattr = op_getattr,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.fsync = op_fsync,
};

/* Close every descriptor above 2 but the three kept: the test process's
 * pipes and sockets must close when it ends, not when the server does. */
static void close_others(int a, int b, int c)
{
	int keep[3] = { a, b, c }, lo = 3;

	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (keep[j] < keep[i]) {
				int t = keep[i];

				keep[i] = keep[j];
				keep[j] = t;
			}
	for (int i = 0; i < 3; i++) {
		if (keep[i] > lo)
			close_range((unsigned int)lo, (unsigned int)keep[i] - 1, 0);
		if (keep[i] >= lo)
			lo = keep[i] + 1;
	}
	close_range((unsigned int)lo, ~0u, 0);
}

/* Child: serve devfd until unmounted (exit 0) or signalled. */
static _Noreturn void serve(struct server *s, pid_t parent, int devfd, int ready)
{
	char *argv[] = { "faultfs", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	struct sigaction sa = { .sa_handler = server_signal }; /* no SA_RESTART: reads of /dev/fuse end */
	char dev[32];
	int r = 1;

	close_others(devfd, s->image, ready);
	/* Killed by the test's death, we leave no mount behind. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (getppid() != parent) /* it died before prctl */
		server_signalled = 1;
	server_se = fuse_session_new(&args, &server_ops, sizeof(server_ops), s);
	snprintf(dev, sizeof(dev), "/dev/fd/%d", devfd);
	if (server_se && !server_signalled && fuse_session_mount(server_se, dev) == 0) {
		if (write(ready, "R", 1) == 1) {
			close(ready);
			r = fuse_session_loop(server_se) ? 2 : 0;
		}
	}
	if (server_signalled) {
		umount2(s->dir, MNT_DETACH);
		rmdir(s->dir);
	}
	/* _exit: the parent's atexit handlers and stdio buffers are not ours. */
	_exit(r);
}

/* ---- the parent's side ---- */

static int fail(struct faultfs *fs, int r, const char *fmt, const char *arg)
{
	snprintf(fs->why, sizeof(fs->why), fmt, arg, strerror(r < 0 ? -r : r));
	return r;
}

int faultfs_start(struct faultfs *fs, const char *image, const struct faultfs_rules *r)
{
	int devfd = -1, img = -1, p[2] = { -1, -1 }, ret;
	struct server srv;
	char opts[128], c;
	struct stat st, ist;
	pid_t parent;
	ssize_t n;

	memset(fs, 0, sizeof(*fs));
	fs->pid = -1;
	if (r->n > FAULTFS_MAX_RULES)
		return fail(fs, -EINVAL, "%s: %s", "too many rules");
	fs->sh = mmap(NULL, sizeof(*fs->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fs->sh == MAP_FAILED) {
		fs->sh = NULL;
		return fail(fs, -errno, "%s: %s", "mmap");
	}
	fs->sh->rules = *r;
	img = open(image, O_RDWR | O_CLOEXEC);
	if (img < 0 || fstat(img, &ist) < 0 || !S_ISREG(ist.st_mode)) {
		ret = fail(fs, img < 0 ? -errno : -EINVAL, "%s: %s", image);
		goto out;
	}
	snprintf(fs->dir, sizeof(fs->dir), "/tmp/pv-faultfs-XXXXXX");
	if (!mkdtemp(fs->dir)) {
		fs->dir[0] = 0;
		ret = fail(fs, -errno, "%s: %s", "mkdtemp");
		goto out;
	}
	snprintf(fs->path, sizeof(fs->path), "%s/disk", fs->dir);
	devfd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (devfd < 0 || fstat(devfd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(10, 229)) {
		/* missing, or something else in its place (hidden like /dev/kvm) */
		if (devfd < 0)
			fail(fs, -errno, "%s: %s", "/dev/fuse");
		else
			snprintf(fs->why, sizeof(fs->why), "/dev/fuse is not the FUSE device (10:229)");
		ret = FAULTFS_UNAVAILABLE;
		goto out;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=%u,group_id=%u", devfd, (unsigned int)geteuid(),
		 (unsigned int)getegid());
	if (mount("faultfs", fs->dir, "fuse.faultfs", MS_NOSUID | MS_NODEV, opts) < 0) {
		ret = -errno;
		fail(fs, ret, "%s: %s", "mount -t fuse");
		if (ret == -EPERM || ret == -EACCES || ret == -ENODEV)
			ret = FAULTFS_UNAVAILABLE;
		goto out;
	}
	fs->mounted = true;
	if (pipe2(p, O_CLOEXEC) < 0) {
		ret = fail(fs, -errno, "%s: %s", "pipe");
		goto out;
	}
	srv = (struct server){ .sh = fs->sh, .image = img, .dir = fs->dir };
	parent = getpid();
	fflush(NULL);
	fs->pid = fork();
	if (fs->pid == 0) {
		close(p[0]);
		serve(&srv, parent, devfd, p[1]);
	}
	if (fs->pid < 0) {
		ret = fail(fs, -errno, "%s: %s", "fork");
		goto out;
	}
	close(p[1]);
	p[1] = -1;
	/* Until the server answers INIT, any access to the mount would wait. */
	do
		n = read(p[0], &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		ret = fail(fs, -EIO, "%s: %s", "the server did not start");
		goto out;
	}
	if (stat(fs->path, &st) < 0) {
		ret = fail(fs, -errno, "%s: %s", fs->path);
		goto out;
	}
	if (st.st_size != ist.st_size) {
		snprintf(fs->why, sizeof(fs->why), "%s: size %lld, the image's %lld", fs->path, (long long)st.st_size,
			 (long long)ist.st_size);
		ret = -EIO;
		goto out;
	}
	ret = 0;
out:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	if (devfd >= 0)
		close(devfd);
	if (img >= 0)
		close(img);
	if (ret) {
		char why[sizeof(fs->why)];

		memcpy(why, fs->why, sizeof(why));
		faultfs_stop(fs);
		memcpy(fs->why, why, sizeof(why));
	}
	return ret;
}

const char *faultfs_path(const struct faultfs *fs)
{
	return fs->path;
}

void faultfs_stats(const struct faultfs *fs, struct faultfs_stats *st)
{
	const uint64_t *src = fs->sh ? (const uint64_t *)&fs->sh->st : NULL;
	uint64_t *dst = (uint64_t *)st;

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = src ? __atomic_load_n(&src[i], __ATOMIC_RELAXED) : 0;
}

/* waitpid for up to ms milliseconds; true when the child was reaped. */
static bool reap(pid_t pid, int *status, unsigned int ms)
{
	for (unsigned int i = 0; i <= ms; i += 10) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			return true;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	return false;
}

int faultfs_stop(struct faultfs *fs)
{
	int status = -1, ret = 0;

	if (fs->mounted && umount2(fs->dir, MNT_DETACH) < 0) {
		snprintf(fs->why, sizeof(fs->why), "umount %s: %s", fs->dir, strerror(errno));
		ret = -1;
	}
	fs->mounted = false;
	if (fs->pid > 0) {
		/* Unmounted with nothing open, the kernel ends the connection
		 * and the server's loop with it. */
		if (!reap(fs->pid, &status, 5000)) {
			ret = -1;
			kill(fs->pid, SIGTERM);
			if (!reap(fs->pid, &status, 2000)) {
				kill(fs->pid, SIGKILL);
				waitpid(fs->pid, &status, 0);
			}
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			ret = -1;
		fs->pid = -1;
	}
	if (fs->dir[0])
		rmdir(fs->dir);
	fs->dir[0] = 0;
	if (fs->sh)
		munmap(fs->sh, sizeof(*fs->sh));
	fs->sh = NULL;
	return ret;
}

struct faultfs_rules *faultfs_add(struct faultfs_rules *r, unsigned int ops, uint64_t sector, uint64_t count,
				  int err)
{
	if (r->n < FAULTFS_MAX_RULES)
		r->rule[r->n++] = (struct faultfs_rule){ ops, sector, count, err };
	return r;
}
