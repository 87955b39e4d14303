/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Backing-file errors reach the guest as an error status, through both
 * doors, and the disk keeps working.  The image is served through faultfs
 * (a FUSE file system that fails chosen sector ranges with EIO or ENOSPC,
 * or every fsync with EIO); the faultio guest (tests/blk/faultio.c) runs a
 * script and prints one line per request, which the host compares whole.
 * PV door: EIO and ENOSPC come back as PVBLK_S_IOERR and are counted in
 * the backend's errors, in O_DIRECT and in buffered mode.  ATA door: a
 * read error is ERR + UNC, a write or flush error ERR + DF + ABRT.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pv/blk.h>
#include <pv/emu.h>

#include <pv/ata.h>

#include "disk.h" /* PV_DISK_SECTOR */
#include "common.h"
#include "faultfs.h"
#include <pv/abi/blk.h>

#include "../guests/ata_pattern.h"

#define SECTORS 8192u  /* a 4 MiB image */
#define SEED0   1u     /* the pattern the image starts with */
#define READ_BAD  1000 /* 16 sectors each */
#define WRITE_BAD 2000
#define FULL      3000

/* ---- the image: a file nobody else can see, seen by faultfs as /proc/self/fd/N ---- */

struct image {
	int fd;
	char path[32];
	uint64_t seed[SECTORS]; /* the pattern each sector must hold */
};

static void image_create(struct image *im)
{
	char tmp[] = "/var/tmp/pv-faults-XXXXXX";
	uint64_t *buf = malloc((size_t)SECTORS * PV_DISK_SECTOR);

	cr_assert_not_null(buf);
	im->fd = mkstemp(tmp);
	cr_assert_geq(im->fd, 0, "mkstemp: %s", strerror(errno));
	unlink(tmp);
	snprintf(im->path, sizeof(im->path), "/proc/self/fd/%d", im->fd);
	for (uint64_t s = 0; s < SECTORS; s++) {
		im->seed[s] = SEED0;
		for (unsigned int j = 0; j < PV_DISK_SECTOR / 8; j++)
			buf[s * (PV_DISK_SECTOR / 8) + j] = pat(SEED0, s, j);
	}
	cr_assert_eq(pwrite(im->fd, buf, (size_t)SECTORS * PV_DISK_SECTOR, 0), (ssize_t)SECTORS * PV_DISK_SECTOR);
	free(buf);
}

/* The guest wrote pattern seed to [lba, lba + n). */
static void image_wrote(struct image *im, uint64_t lba, unsigned int n, uint64_t seed)
{
	for (unsigned int i = 0; i < n; i++)
		im->seed[lba + i] = seed;
}

/* Every sector of the file (read directly, not through faultfs) holds its pattern. */
static void image_verify(struct image *im)
{
	uint64_t w[PV_DISK_SECTOR / 8];

	for (uint64_t s = 0; s < SECTORS; s++) {
		cr_assert_eq(pread(im->fd, w, sizeof(w), (off_t)(s * PV_DISK_SECTOR)), (ssize_t)sizeof(w));
		for (unsigned int j = 0; j < PV_DISK_SECTOR / 8; j++)
			cr_assert_eq(w[j], pat(im->seed[s], s, j), "image sector %llu: not pattern %llu",
				     (unsigned long long)s, (unsigned long long)im->seed[s]);
	}
	close(im->fd);
}

static void fs_start(struct faultfs *fs, struct image *im, const struct faultfs_rules *r)
{
	int e = faultfs_start(fs, im->path, r);

	if (e == FAULTFS_UNAVAILABLE)
		cr_skip_test("FUSE unavailable: %s", fs->why);
	cr_assert_eq(e, 0, "faultfs: %s", fs->why);
}

static void fs_stop(struct faultfs *fs, struct faultfs_stats *st)
{
	faultfs_stats(fs, st);
	/* Ends by itself only if the disk closed every file it opened. */
	cr_assert_eq(faultfs_stop(fs), 0, "faultfs server: %s", fs->why);
}

/* ---- one VM with one door to the disk ---- */

struct door {
	bool pv, no_direct;
	/* results */
	int r, status;
	char out[16384];
	size_t len;
	char err[256];
	bool direct;                  /* pv: the backend used O_DIRECT */
	struct pv_blkback_stats bst;
	struct pv_ata_stats ast;
};

static void capture(void *opaque, const char *buf, size_t len)
{
	struct door *d = opaque;

	if (len > sizeof(d->out) - 1 - d->len)
		len = sizeof(d->out) - 1 - d->len;
	memcpy(d->out + d->len, buf, len);
	d->len += len;
	d->out[d->len] = 0;
}

/* Run faultio with "pv SCRIPT" or "ata SCRIPT" against path. */
static void run_door(enum pv_backend be, struct door *d, const char *path, const char *script)
{
	struct pv_blkback_config bc = { .path = path, .no_direct = d->no_direct, .poll_ns = 20000 };
	struct pv_vm_config cfg = { .ram_size = 16u << 20, .backend = be, .console = capture, .console_opaque = d };
	struct pv_blkback *b = NULL;
	struct pv_ata_config ac = { .path = path };
	struct pv_ata *ata = NULL;
	char cmd[1024];
	struct pv_vm *vm;

	snprintf(cmd, sizeof(cmd), "%s %s", d->pv ? "pv" : "ata", script);
	cfg.cmdline = cmd;
	d->len = 0;
	d->out[0] = 0;
	pv_emu_register();
	d->r = pv_vm_create(&cfg, &vm);
	cr_assert_eq(d->r, 0, "create: %s", pv_last_error());
	d->r = pv_vm_load_elf(vm, FAULTS_GUEST);
	if (d->r == 0 && d->pv) {
		d->r = pv_blkback_attach(vm, &bc, &b);
	} else if (d->r == 0) {
		d->r = pv_ata_attach(vm, &ac, &ata);
	}
	if (d->r == 0)
		d->r = pv_vm_run(vm, &d->status);
	snprintf(d->err, sizeof(d->err), "%s", pv_vm_error(vm));
	if (b) {
		d->direct = pv_blkback_direct(b);
		pv_blkback_stats(b, &d->bst);
	}
	pv_ata_stats(ata, &d->ast);
	pv_vm_destroy(vm); /* and its disk */
	cr_log_info("%s %s%s: %s\n%s", backend_name(be), d->pv ? "pv" : "ata",
		    d->pv ? (d->direct ? " (O_DIRECT)" : " (buffered)") : "", script, d->out);
	/* The monitor survived and the guest ran every request. */
	cr_assert_eq(d->r, 0, "%s: run %d: %s\n%s", cmd, d->r, d->err, d->out);
	cr_assert_eq(d->status, 0, "%s: guest exit %d\n%s", cmd, d->status, d->out);
}

/* A PV script, its transcript, the errors it must cause and the writes
 * that must land.  It runs in both I/O modes of the backend: whatever the
 * backend picks on faultfs (O_DIRECT where the open works) and forced
 * buffered, each time on a fresh image and file system. */
struct pv_case {
	struct faultfs_rules rules;
	const char *script, *expect;
	uint64_t errors;                  /* IOERR responses */
	uint64_t read_faults, write_faults, fsync_faults;
	void (*wrote)(struct image *im); /* what landed */
};

static void pv_case(enum pv_backend be, const struct pv_case *c)
{
	static struct door d;
	static struct image im;

	for (int mode = 0; mode < 2; mode++) {
		struct faultfs_stats fst;
		struct faultfs fs;

		image_create(&im);
		fs_start(&fs, &im, &c->rules);
		memset(&d, 0, sizeof(d));
		d.pv = true;
		d.no_direct = mode == 1;
		run_door(be, &d, faultfs_path(&fs), c->script);
		fs_stop(&fs, &fst);
		cr_assert_str_eq(d.out, c->expect, "%s mode: transcript differs", mode ? "buffered" : "default");
		cr_assert(!d.no_direct || !d.direct);
		cr_expect_eq(d.bst.errors, c->errors, "backend counted %llu errors", (unsigned long long)d.bst.errors);
		cr_expect_eq(d.bst.invalid, 0);
		cr_expect_eq(fst.read_faults, c->read_faults, "faultfs failed %llu reads",
			     (unsigned long long)fst.read_faults);
		cr_expect_eq(fst.write_faults, c->write_faults, "faultfs failed %llu writes",
			     (unsigned long long)fst.write_faults);
		cr_expect_eq(fst.fsync_faults, c->fsync_faults, "faultfs failed %llu fsyncs",
			     (unsigned long long)fst.fsync_faults);
		c->wrote(&im);
		image_verify(&im);
	}
}

/* ---- PV door ---- */

static void read_eio_wrote(struct image *im)
{
	image_wrote(im, READ_BAD, 8, 2);
	image_wrote(im, 200, 8, 2);
}

/*
 * Reads touching [1000, 1016) fail: inside, straddling its end, and in a
 * batch between two good reads.  The sectors around it read fine; a write
 * into it succeeds and reading it still fails (no page cache hides it);
 * afterwards the disk reads and writes.
 */
static void read_eio(enum pv_backend be)
{
	struct pv_case c = {
		.script = "c:0:8:1 r:1000:8 r:1012:8 c:1016:8:1 c:992:8:1 c:300:8:1,r:1004:1,c:400:8:1 "
			  "w:1000:8:2 r:1000:8 w:200:8:2 c:200:8:2",
		.expect = "c 0 8 s=0 bad=0\n"
			  "r 1000 8 s=1\n"
			  "r 1012 8 s=1\n"
			  "c 1016 8 s=0 bad=0\n"
			  "c 992 8 s=0 bad=0\n"
			  "c 300 8 s=0 bad=0\n"
			  "r 1004 1 s=1\n"
			  "c 400 8 s=0 bad=0\n"
			  "w 1000 8 s=0\n"
			  "r 1000 8 s=1\n"
			  "w 200 8 s=0\n"
			  "c 200 8 s=0 bad=0\n"
			  "done\n",
		.errors = 4,
		.read_faults = 4,
		.wrote = read_eio_wrote,
	};

	faultfs_add(&c.rules, FAULTFS_READ, READ_BAD, 16, EIO);
	pv_case(be, &c);
}

BACKEND_TEST_TIMEOUTS(faults, pv_read_eio_is_ioerr, 120, 240) { read_eio(b); }

static uint64_t write_base; /* WRITE_BAD or FULL, for write_fault_wrote */

static void write_fault_wrote(struct image *im)
{
	image_wrote(im, write_base + 16, 8, 3);
	image_wrote(im, 100, 16, 3);
}

/*
 * Writes touching [base, base + 16) fail with err (EIO: WRITE_BAD, ENOSPC:
 * FULL): inside, straddling its start, and in a batch between two good
 * writes.  Nothing of them lands (the range still reads the old data), the
 * sectors after it and elsewhere take writes.
 */
static void write_fault(enum pv_backend be, uint64_t base, int err)
{
	char script[256], expect[512];
	unsigned long long b = base;
	struct pv_case c = {
		.script = script,
		.expect = expect,
		.errors = 3,
		.write_faults = 3,
		.wrote = write_fault_wrote,
	};

	write_base = base;
	snprintf(script, sizeof(script),
		 "w:%llu:8:3 w:%llu:8:3 c:%llu:32:1 w:%llu:8:3 c:%llu:8:3 w:100:8:3,w:%llu:8:3,w:108:8:3 c:100:16:3", b,
		 b - 4, b - 8, b + 16, b + 16, b + 8);
	snprintf(expect, sizeof(expect),
		 "w %llu 8 s=1\n"
		 "w %llu 8 s=1\n"
		 "c %llu 32 s=0 bad=0\n"
		 "w %llu 8 s=0\n"
		 "c %llu 8 s=0 bad=0\n"
		 "w 100 8 s=0\n"
		 "w %llu 8 s=1\n"
		 "w 108 8 s=0\n"
		 "c 100 16 s=0 bad=0\n"
		 "done\n",
		 b, b - 4, b - 8, b + 16, b + 16, b + 8);
	faultfs_add(&c.rules, FAULTFS_WRITE, base, 16, err);
	pv_case(be, &c);
}

BACKEND_TEST_TIMEOUTS(faults, pv_write_eio_is_ioerr, 120, 240) { write_fault(b, WRITE_BAD, EIO); }
BACKEND_TEST_TIMEOUTS(faults, pv_write_enospc_is_ioerr, 120, 240) { write_fault(b, FULL, ENOSPC); }

static void flush_eio_wrote(struct image *im)
{
	image_wrote(im, 50, 8, 4);
	image_wrote(im, 60, 8, 4);
	image_wrote(im, 70, 8, 4);
}

/* Every fsync fails: FLUSH is IOERR, alone and between two writes in a
 * batch; the writes themselves succeed and land. */
static void flush_eio(enum pv_backend be)
{
	struct pv_case c = {
		.script = "w:50:8:4 f c:50:8:4 w:60:8:4,f,w:70:8:4 c:60:8:4 c:70:8:4",
		.expect = "w 50 8 s=0\n"
			  "f 0 0 s=1\n"
			  "c 50 8 s=0 bad=0\n"
			  "w 60 8 s=0\n"
			  "f 0 0 s=1\n"
			  "w 70 8 s=0\n"
			  "c 60 8 s=0 bad=0\n"
			  "c 70 8 s=0 bad=0\n"
			  "done\n",
		.errors = 2,
		.fsync_faults = 2,
		.wrote = flush_eio_wrote,
	};

	faultfs_add(&c.rules, FAULTFS_FSYNC, 0, 0, EIO);
	pv_case(be, &c);
}

BACKEND_TEST_TIMEOUTS(faults, pv_flush_eio_is_ioerr, 120, 240) { flush_eio(b); }

/* ---- ATA door ---- */

/*
 * READ over [1000, 1016) ends with ERR + UNC; WRITE over [2000, 2016) (EIO)
 * or [3000, 3016) (ENOSPC) with ERR + DF + ABRT.  A 16-sector WRITE
 * MULTIPLE (two DRQ blocks of 8) from 2990 fails in its second block: the
 * first one has landed.  The disk keeps working.
 */
static void ata_errors(enum pv_backend be)
{
	static struct door d;
	static struct image im;
	struct faultfs_rules rules = { 0 };
	struct faultfs_stats fst;
	struct faultfs fs;

	faultfs_add(&rules, FAULTFS_READ, READ_BAD, 16, EIO);
	faultfs_add(&rules, FAULTFS_WRITE, WRITE_BAD, 16, EIO);
	faultfs_add(&rules, FAULTFS_WRITE, FULL, 16, ENOSPC);
	image_create(&im);
	fs_start(&fs, &im, &rules);
	run_door(be, &d, faultfs_path(&fs),
		 "c:0:8:1 r:1000:8 c:992:8:1 r:1012:8 c:1016:8:1 w:2000:8:2 w:3000:8:2 w:2990:16:2 "
		 "c:2990:8:2 c:2998:8:1 c:2000:8:1 w:200:8:2 c:200:8:2 f");
	fs_stop(&fs, &fst);
	/* status 50 = DRDY|DSC, 51 adds ERR, 71 DF too; error 40 = UNC, 04 = ABRT; PV_EIO = -5 */
	cr_assert_str_eq(d.out, "c 0 8 rc=0 st=50 err=00 bad=0\n"
				"r 1000 8 rc=-5 st=51 err=40\n"
				"c 992 8 rc=0 st=50 err=00 bad=0\n"
				"r 1012 8 rc=-5 st=51 err=40\n"
				"c 1016 8 rc=0 st=50 err=00 bad=0\n"
				"w 2000 8 rc=-5 st=71 err=04\n"
				"w 3000 8 rc=-5 st=71 err=04\n"
				"w 2990 16 rc=-5 st=71 err=04\n"
				"c 2990 8 rc=0 st=50 err=00 bad=0\n"
				"c 2998 8 rc=0 st=50 err=00 bad=0\n"
				"c 2000 8 rc=0 st=50 err=00 bad=0\n"
				"w 200 8 rc=0 st=50 err=00\n"
				"c 200 8 rc=0 st=50 err=00 bad=0\n"
				"f 0 0 rc=0 st=50 err=00\n"
				"done\n");
	cr_expect_eq(d.ast.errors, 5);
	cr_expect_eq(fst.read_faults, 2);
	cr_expect_eq(fst.write_faults, 3);
	image_wrote(&im, 2990, 8, 2);
	image_wrote(&im, 200, 8, 2);
	image_verify(&im);
}

BACKEND_TEST_TIMEOUTS(faults, ata_read_unc_write_abrt, 120, 240) { ata_errors(b); }

/* FLUSH CACHE fails with ERR + DF + ABRT when fsync does; writes still land. */
static void ata_flush(enum pv_backend be)
{
	static struct door d;
	static struct image im;
	struct faultfs_rules rules = { 0 };
	struct faultfs_stats fst;
	struct faultfs fs;

	faultfs_add(&rules, FAULTFS_FSYNC, 0, 0, EIO);
	image_create(&im);
	fs_start(&fs, &im, &rules);
	run_door(be, &d, faultfs_path(&fs), "w:50:8:4 f c:50:8:4 f");
	fs_stop(&fs, &fst);
	cr_assert_str_eq(d.out, "w 50 8 rc=0 st=50 err=00\n"
				"f 0 0 rc=-5 st=71 err=04\n"
				"c 50 8 rc=0 st=50 err=00 bad=0\n"
				"f 0 0 rc=-5 st=71 err=04\n"
				"done\n");
	cr_expect_eq(d.ast.errors, 2);
	cr_expect_eq(fst.fsync_faults, 2);
	image_wrote(&im, 50, 8, 4);
	image_verify(&im);
}

BACKEND_TEST_TIMEOUTS(faults, ata_flush_eio_is_df_abrt, 120, 240) { ata_flush(b); }

/* ---- faultfs itself, with plain system calls ---- */

static void sector(uint64_t *w, uint64_t seed, uint64_t lba)
{
	for (unsigned int j = 0; j < PV_DISK_SECTOR / 8; j++)
		w[j] = pat(seed, lba, j);
}

Test(faults, faultfs_fails_what_it_is_told)
{
	static struct image im;
	struct faultfs_rules rules = { 0 };
	struct faultfs_stats fst;
	struct faultfs fs;
	uint64_t w[PV_DISK_SECTOR / 8], a[PV_DISK_SECTOR / 8], b[PV_DISK_SECTOR / 8];
	char dir[sizeof(fs.dir)];
	int fd, dfd;

	faultfs_add(&rules, FAULTFS_READ, READ_BAD, 16, EIO);
	faultfs_add(&rules, FAULTFS_WRITE, WRITE_BAD, 16, EIO);
	faultfs_add(&rules, FAULTFS_WRITE, FULL, 16, ENOSPC);
	faultfs_add(&rules, FAULTFS_FSYNC, 0, 0, EIO);
	image_create(&im);
	fs_start(&fs, &im, &rules);
	memcpy(dir, fs.dir, sizeof(dir));
	fd = open(faultfs_path(&fs), O_RDWR | O_CLOEXEC);
	cr_assert_geq(fd, 0, "%s: %s", faultfs_path(&fs), strerror(errno));
	/* reads next to the range see the image; inside it they fail, however small */
	cr_assert_eq(pread(fd, w, sizeof(w), (READ_BAD - 1) * 512), 512);
	sector(a, SEED0, READ_BAD - 1);
	cr_assert_eq(memcmp(w, a, sizeof(w)), 0);
	errno = 0;
	cr_assert_eq(pread(fd, w, 8, READ_BAD * 512 + 4096 + 8), -1);
	cr_assert_eq(errno, EIO);
	/* a write into the read range lands, and reading it back still fails */
	sector(a, 5, READ_BAD);
	cr_assert_eq(pwrite(fd, a, sizeof(a), READ_BAD * 512), 512);
	errno = 0;
	cr_assert_eq(pread(fd, w, sizeof(w), READ_BAD * 512), -1);
	cr_assert_eq(errno, EIO);
	/* writes straddling the start of the EIO range, at the end of the ENOSPC one */
	sector(b, 5, 10);
	errno = 0;
	cr_assert_eq(pwrite(fd, b, sizeof(b), WRITE_BAD * 512 - 256), -1);
	cr_assert_eq(errno, EIO);
	errno = 0;
	cr_assert_eq(pwrite(fd, b, sizeof(b), (FULL + 15) * 512), -1);
	cr_assert_eq(errno, ENOSPC);
	cr_assert_eq(pwrite(fd, b, sizeof(b), 10 * 512), 512);
	errno = 0;
	cr_assert_eq(fdatasync(fd), -1);
	cr_assert_eq(errno, EIO);
	/* O_DIRECT (the backend's first choice) opens and fails the same way */
	dfd = open(faultfs_path(&fs), O_RDWR | O_DIRECT | O_CLOEXEC);
	cr_log_info("O_DIRECT open on faultfs: %s", dfd >= 0 ? "works" : strerror(errno));
	if (dfd >= 0) {
		void *al = NULL;

		cr_assert_eq(posix_memalign(&al, 4096, 4096), 0);
		errno = 0;
		cr_assert_eq(pread(dfd, al, 4096, (READ_BAD + 8) * 512), -1);
		cr_assert_eq(errno, EIO);
		cr_assert_eq(pread(dfd, al, 4096, 0), 4096);
		free(al);
		close(dfd);
	}
	close(fd);
	fs_stop(&fs, &fst);
	cr_assert_eq(fst.read_faults, dfd >= 0 ? 3 : 2);
	cr_assert_eq(fst.write_faults, 2);
	cr_assert_eq(fst.fsync_faults, 1);
	cr_assert_eq(access(dir, F_OK), -1, "mount point %s left behind", dir);
	image_wrote(&im, READ_BAD, 1, 5);
	image_wrote(&im, 10, 1, 5);
	image_verify(&im);
}
