/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PV block device end to end: the blkio guest (tests/blk/blkio.c) drives
 * the frontend against pv_blkback on an image file under /var/tmp, and the
 * host checks what reached the file.  Both backends; small I/O on kvm.
 */
#include <fcntl.h>
#include <linux/loop.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pv/blk.h>
#include <pv/emu.h>

#include "common.h"
#include <pv/abi/blk.h>

#define ACK_PORT 0x6c0
#define MB (1ull << 20)

/* ---- images ---- */

struct image {
	char dir[64], path[96];
	uint64_t size;
	unsigned char *expect; /* what the file must hold */
};

static unsigned char init_byte(uint64_t pos, unsigned int seed)
{
	return (unsigned char)((pos * 131u + seed) ^ (pos >> 9));
}

static void image_create(struct image *im, uint64_t size, unsigned int seed)
{
	int fd;

	memset(im, 0, sizeof(*im));
	snprintf(im->dir, sizeof(im->dir), "/var/tmp/pvblk-test-XXXXXX");
	cr_assert_not_null(mkdtemp(im->dir), "mkdtemp: %s", strerror(errno));
	snprintf(im->path, sizeof(im->path), "%s/disk.img", im->dir);
	im->size = size;
	im->expect = malloc(size);
	cr_assert_not_null(im->expect);
	for (uint64_t i = 0; i < size; i++)
		im->expect[i] = init_byte(i, seed);
	fd = open(im->path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0, "%s: %s", im->path, strerror(errno));
	cr_assert_eq(pwrite(fd, im->expect, size, 0), (ssize_t)size);
	close(fd);
}

static void image_destroy(struct image *im)
{
	if (im->path[0])
		unlink(im->path);
	if (im->dir[0])
		rmdir(im->dir);
	free(im->expect);
	memset(im, 0, sizeof(*im));
}

static uint64_t pat(uint64_t pos, unsigned int tag)
{
	uint64_t x = (pos ^ ((uint64_t)tag << 40)) * 0x9E3779B97F4A7C15ull;

	return x ^ (x >> 29);
}

/* Record a guest write of nsect sectors at sector with tag into expect. */
static void expect_write(struct image *im, uint64_t sector, uint64_t nsect, unsigned int tag)
{
	uint64_t pos = sector * 512;

	cr_assert_leq(pos + nsect * 512, im->size);
	for (uint64_t i = 0; i < nsect * 512; i += 8) {
		uint64_t w = pat(pos + i, tag);

		memcpy(im->expect + pos + i, &w, 8);
	}
}

static void expect_zero(struct image *im, uint64_t sector, uint64_t nsect)
{
	memset(im->expect + sector * 512, 0, nsect * 512);
}

/* pread the whole file and compare with expect; reports the first difference. */
static void image_verify(struct image *im, const char *what)
{
	unsigned char *buf = malloc(im->size);
	int fd = open(im->path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	cr_assert_not_null(buf);
	cr_assert_geq(fd, 0);
	n = pread(fd, buf, im->size, 0);
	close(fd);
	cr_assert_eq(n, (ssize_t)im->size, "%s: pread %zd", what, n);
	for (uint64_t i = 0; i < im->size; i++)
		if (buf[i] != im->expect[i]) {
			unsigned int got = buf[i];

			free(buf);
			cr_assert_fail("%s: image byte %llu (sector %llu) is %#x, expected %#x", what,
				       (unsigned long long)i, (unsigned long long)i / 512, got, im->expect[i]);
		}
	free(buf);
}

/*
 * Put a loop block device over the image (root only): returns the open
 * device (it goes away with the last close: LO_FLAGS_AUTOCLEAR) and its
 * path in dev, or a negative errno.
 */
static int loop_attach(const char *file, unsigned int block_size, char *dev, size_t n)
{
	int r = -EBUSY;

	for (int tries = 0; tries < 20 && r == -EBUSY; tries++) {
		int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC), nr, fd, bfd;
		struct loop_config lc = { .block_size = block_size, .info.lo_flags = LO_FLAGS_AUTOCLEAR };

		if (ctl < 0)
			return -errno;
		nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		r = nr < 0 ? -errno : 0;
		close(ctl);
		if (r)
			return r;
		snprintf(dev, n, "/dev/loop%d", nr);
		fd = open(dev, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		bfd = open(file, O_RDWR | O_CLOEXEC);
		cr_assert_geq(bfd, 0);
		lc.fd = (unsigned int)bfd;
		r = ioctl(fd, LOOP_CONFIGURE, &lc) < 0 ? -errno : 0;
		close(bfd);
		if (r == 0)
			return fd;
		close(fd); /* -EBUSY: another test took it first */
	}
	return r;
}

/* Use a loop device with logical blocks of `loop` bytes over im for the disk
 * (0: the image itself; skips the test where loop devices are
 * unavailable); returns the device fd or -1. */
static int maybe_loop(struct image *im, unsigned int loop, char *dev, size_t n)
{
	int fd;

	if (!loop)
		return -1;
	fd = loop_attach(im->path, loop, dev, n);
	if (fd < 0) {
		image_destroy(im);
		cr_skip_test("no loop block device here: %s", strerror(-fd));
	}
	return fd;
}

/* ---- running the guest with a disk ---- */

/* One VM with a PV disk; the backend's statistics are read before the VM
 * (which owns the backend) is destroyed. */
struct blkrun {
	struct pv_blkback_config cfg;
	const char *cmdline;
	unsigned int vcpus;
	int (*extra)(struct pv_vm *vm, void *opaque); /* more devices (may be NULL) */
	void *extra_opaque;
	/* results */
	int r, status;
	char out[65536];
	size_t len;
	char err[256];
	struct pv_blkback_stats bst;
	unsigned int queues;
	struct pv_blkback_stats qst[PVBLK_MAX_QUEUES];
};

static void capture(void *opaque, const char *buf, size_t len)
{
	struct blkrun *r = opaque;

	if (len > sizeof(r->out) - 1 - r->len)
		len = sizeof(r->out) - 1 - r->len;
	memcpy(r->out + r->len, buf, len);
	r->len += len;
	r->out[r->len] = 0;
}

static void run_blk(enum pv_backend be, struct blkrun *br)
{
	struct pv_blkback *b = NULL;
	struct pv_vm_config cfg = {
		.ram_size = 16u << 20,
		.vcpus = br->vcpus,
		.backend = be,
		.cmdline = br->cmdline,
		.console = capture,
		.console_opaque = br,
	};
	struct pv_vm *vm;

	br->len = 0;
	br->out[0] = 0;
	pv_emu_register();
	br->r = pv_vm_create(&cfg, &vm);
	if (br->r < 0) {
		snprintf(br->err, sizeof(br->err), "create: %s", pv_last_error());
		return;
	}
	br->r = pv_vm_load_elf(vm, BLK_GUEST);
	if (br->r == 0)
		br->r = pv_blkback_attach(vm, &br->cfg, &b);
	if (br->r == 0 && br->extra)
		br->r = br->extra(vm, br->extra_opaque);
	if (br->r == 0)
		br->r = pv_vm_run(vm, &br->status);
	snprintf(br->err, sizeof(br->err), "%s", pv_vm_error(vm));
	if (b) {
		pv_blkback_stats(b, &br->bst);
		br->queues = pv_blkback_queues(b);
		for (unsigned int i = 0; i < br->queues; i++)
			cr_assert_eq(pv_blkback_queue_stats(b, i, &br->qst[i]), 0);
		{
			struct pv_blkback_stats none;

			cr_assert_eq(pv_blkback_queue_stats(b, br->queues, &none), -ENOENT);
		}
	}
	pv_vm_destroy(vm);
}

static void blkrun_init(struct blkrun *br, const struct image *im, const char *cmdline)
{
	memset(br, 0, sizeof(*br));
	br->cfg = (struct pv_blkback_config){ .path = im->path, .poll_ns = 50000 };
	br->cmdline = cmdline;
}

/* blkrun_init and run_blk, the disk behind a loop device of `loop`-byte
 * logical blocks when loop != 0 (see maybe_loop). */
static void run_disk(enum pv_backend be, struct blkrun *br, struct image *im, const char *cmdline,
		     unsigned int loop)
{
	char dev[32];
	int lfd = maybe_loop(im, loop, dev, sizeof(dev));

	blkrun_init(br, im, cmdline);
	if (lfd >= 0)
		br->cfg.path = dev;
	run_blk(be, br);
	br->cfg.path = im->path; /* dev goes out of scope */
	if (lfd >= 0)
		close(lfd);
}

static void assert_ran(const struct blkrun *br)
{
	cr_assert_eq(br->r, 0, "run: %d %s\n%s", br->r, br->err, br->out);
	cr_assert_eq(br->status, 0, "guest exit %d %s\n%s", br->status, br->err, br->out);
	cr_assert(strstr(br->out, "\ndone\n"), "guest did not finish:\n%s", br->out);
}

/* Value of "key=N" in the guest output (INT32_MIN when absent). */
static int val(const char *out, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), "%s=", key);
	for (p = out; (p = strstr(p, k)); p++)
		if (p == out || p[-1] == '\n' || p[-1] == ' ')
			return atoi(p + strlen(k));
	return INT32_MIN;
}

#define EXPECT(out, key, v) \
	cr_expect_eq(val(out, key), (v), "%s=%d, expected %d\n%s", key, val(out, key), (v), out)

/* Apply every "w SECTOR NSECT TAG" line of the guest output; returns count. */
static int apply_writes(struct image *im, const char *out)
{
	int n = 0;

	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		unsigned long long s, c;
		unsigned int t;

		if (sscanf(p, "w %llu %llu %u", &s, &c, &t) == 3) {
			expect_write(im, s, c, t);
			n++;
		}
	}
	return n;
}

/* ---- 1. random writes, read back in the guest and on the host ---- */

static void random_rw(enum pv_backend be, unsigned int loop)
{
	static struct blkrun br;
	struct image im;
	bool kvm = be == PV_BACKEND_KVM;
	int n;

	image_create(&im, kvm ? 4 * MB : 8 * MB, 1);
	/* kvm: few, small requests; emu: more and one 1 MiB request */
	run_disk(be, &br, &im, kvm ? "rw 7 6" : "rw 7 1024", loop);
	assert_ran(&br);
	cr_assert(strstr(br.out, kvm ? "capacity=8192 " : "capacity=16384 "), "%s", br.out);
	n = apply_writes(&im, br.out);
	cr_assert_geq(n, kvm ? 3 + 6 + 8 : 3 + 24 + 1 + 8, "%d writes logged\n%s", n, br.out);
	image_verify(&im, "after random writes");
	cr_expect_eq(br.bst.invalid, 0);
	cr_expect_eq(br.bst.errors, 0);
	image_destroy(&im);
}

BACKEND_TEST(blk, random_rw, .timeout = 120) { random_rw(b, 0); }
/* a block device as the backing store (the backend code does not depend on
 * the CPU backend: emu only); with 4 KiB logical blocks, 512-byte requests
 * cannot use O_DIRECT and must still work */
Test(blk, random_rw_block_device_emu, .timeout = 120)
{
	REQUIRE_BACKEND(PV_BACKEND_EMU);
	random_rw(PV_BACKEND_EMU, 512);
}
Test(blk, random_rw_4k_block_device_emu, .timeout = 120)
{
	REQUIRE_BACKEND(PV_BACKEND_EMU);
	random_rw(PV_BACKEND_EMU, 4096);
}

/* ---- 2. every operation ---- */

static void every_op(enum pv_backend be, unsigned int loop)
{
	static struct blkrun br;
	struct image im;
	const char *o;

	image_create(&im, 2 * MB, 2);
	run_disk(be, &br, &im, "ops 1", loop);
	assert_ran(&br);
	o = br.out;
	EXPECT(o, "write", PVBLK_S_OK);
	EXPECT(o, "flush", PVBLK_S_OK);
	EXPECT(o, "fua", PVBLK_S_OK);
	EXPECT(o, "fua_read", PVBLK_S_OK);
	EXPECT(o, "same", 1);
	EXPECT(o, "pre_discard_write", PVBLK_S_OK);
	EXPECT(o, "discard", PVBLK_S_OK);
	EXPECT(o, "discard_read", PVBLK_S_OK);
	cr_expect(strstr(o, "discard_read=0 zero=1\n"), "a punched hole reads zeroes\n%s", o);
	EXPECT(o, "pre_wz_write", PVBLK_S_OK);
	EXPECT(o, "write_zeroes", PVBLK_S_OK);
	cr_expect(strstr(o, "wz_read=0 zero=1 edges=1\n"), "write-zeroes range only\n%s", o);
	EXPECT(o, "unknown", PVBLK_S_UNSUPP);
	cr_expect(strstr(o, "after_unknown=0 same=1\n"), "%s", o);
	/* and on the host */
	expect_write(&im, 64, 8, 11);
	expect_write(&im, 128, 16, 12);
	expect_zero(&im, 256, 64);
	expect_write(&im, 512, 16, 14);
	expect_zero(&im, 513, 7);
	image_verify(&im, "after every operation");
	cr_expect_eq(br.bst.invalid, 0);
	image_destroy(&im);
}

BACKEND_TEST(blk, every_op, .timeout = 120) { every_op(b, 0); }
/* on a block device: emu only, as random_rw above */
Test(blk, every_op_block_device_emu, .timeout = 120)
{
	REQUIRE_BACKEND(PV_BACKEND_EMU);
	every_op(PV_BACKEND_EMU, 512);
}
/* 4 KiB logical blocks: discard and write-zeroes of partial blocks work */
Test(blk, every_op_4k_block_device_emu, .timeout = 120)
{
	REQUIRE_BACKEND(PV_BACKEND_EMU);
	every_op(PV_BACKEND_EMU, 4096);
}

/* ---- 3. hostile requests ---- */

static const char *const hostile_cases[] = {
	"past_end",        "straddle_end",      "sector_huge",        "sector_wrap",      "write_past_end",
	"discard_past_end", "discard_wrap",     "wz_zero_len",        "seg_beyond_pool",  "seg_straddles_pool",
	"seg_offset_wrap", "seg_len_odd",       "seg_len_zero",       "seg_len_huge",     "nr_segs_zero",
	"nr_segs_inline_9", "too_many_bytes",   "ungranted_gref",     "gref_huge",        "read_into_ro_grant",
	"indirect_bad_gref", "indirect_off_page", "indirect_too_many", "indirect_bad_seg",
};
#define NR_HOSTILE (sizeof(hostile_cases) / sizeof(hostile_cases[0]))

static void check_hostile(struct blkrun *br, struct image *im, unsigned int rounds)
{
	char want[96];

	assert_ran(br);
	for (size_t i = 0; i < NR_HOSTILE; i++) {
		snprintf(want, sizeof(want), "\n%s=%d healthy=0\n", hostile_cases[i], PVBLK_S_INVALID);
		cr_expect(strstr(br->out, want), "%s: expected PVBLK_S_INVALID and a working disk after it\n%s",
			  hostile_cases[i], br->out);
	}
	cr_expect(strstr(br->out, "\nindirect_ok=0\n"), "%s", br->out);
	cr_expect_eq(br->bst.invalid, (uint64_t)NR_HOSTILE * rounds, "backend counted %llu invalid",
		     (unsigned long long)br->bst.invalid);
	cr_assert_eq(apply_writes(im, br->out), 1);
	image_verify(im, "after hostile requests");
}

static void hostile(enum pv_backend be)
{
	static struct blkrun br;
	struct image im;

	image_create(&im, 1 * MB, 3);
	blkrun_init(&br, &im, "hostile 1 1");
	run_blk(be, &br);
	check_hostile(&br, &im, 1);
	image_destroy(&im);
}

BACKEND_TEST(blk, hostile, .timeout = 120) { hostile(b); }

static void read_only(enum pv_backend be)
{
	static struct blkrun br;
	struct image im;
	const char *o;

	image_create(&im, 1 * MB, 4);
	blkrun_init(&br, &im, "ro 1");
	br.cfg.read_only = true;
	run_blk(be, &br);
	assert_ran(&br);
	o = br.out;
	EXPECT(o, "ro_flag", 1);
	EXPECT(o, "ro_write", PVBLK_S_IOERR);
	EXPECT(o, "ro_fua", PVBLK_S_IOERR);
	EXPECT(o, "ro_discard", PVBLK_S_IOERR);
	EXPECT(o, "ro_write_zeroes", PVBLK_S_IOERR);
	EXPECT(o, "ro_flush", PVBLK_S_OK);
	EXPECT(o, "ro_read", PVBLK_S_OK);
	image_verify(&im, "read-only disk");
	image_destroy(&im);
}

BACKEND_TEST(blk, read_only, .timeout = 120) { read_only(b); }

/* ---- 4. durability across kill -9 ---- */

static int ack_fd = -1;

static int ack(void *opaque, struct pv_vcpu *v, uint64_t addr, void *data, unsigned int size, bool is_write)
{
	(void)opaque, (void)v, (void)addr, (void)data, (void)size;
	if (is_write && write(ack_fd, "flushed\n", 8) != 8)
		_exit(3);
	return 0;
}

static int add_ack(struct pv_vm *vm, void *opaque)
{
	(void)opaque;
	return pv_vm_add_pio(vm, "ack", ACK_PORT, 4, ack, NULL);
}

/* emu only: what must survive is pv_blkback's flush reaching the file,
 * host code that is the same whichever CPU backend runs the guest. */
Test(blk, durable_across_kill9_emu, .timeout = 120)
{
	static struct blkrun br;
	struct image im;
	int p[2], st;
	char buf[16] = "";
	struct pollfd pfd;
	pid_t pid;

	REQUIRE_BACKEND(PV_BACKEND_EMU);
	image_create(&im, 4 * MB, 5);
	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(p[0]);
		ack_fd = p[1];
		blkrun_init(&br, &im, "durable 1");
		br.extra = add_ack;
		run_blk(PV_BACKEND_EMU, &br);
		/* the guest never ends on its own */
		dprintf(2, "durable child: run ended r=%d status=%d %s\n%s", br.r, br.status, br.err, br.out);
		_exit(2);
	}
	close(p[1]);
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	st = poll(&pfd, 1, 90000);
	if (st == 1)
		cr_expect_eq(read(p[0], buf, sizeof(buf) - 1), 8);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	close(p[0]);
	cr_assert_str_eq(buf, "flushed\n", "no acknowledgement from the guest");
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child status %#x", st);
	expect_write(&im, 1000, 128, 21);
	expect_write(&im, 3000, 16, 22);
	image_verify(&im, "after kill -9");
	image_destroy(&im);
}

/* ---- 5. a second VM's disk keeps working while the first is hostile ---- */

struct vm_thread {
	enum pv_backend be;
	struct blkrun *br;
};

static void *vm_thread(void *arg)
{
	struct vm_thread *t = arg;

	run_blk(t->be, t->br);
	return NULL;
}

static void two_vms(enum pv_backend be, bool overflow)
{
	static struct blkrun bad, good;
	struct image ibad, igood;
	struct vm_thread tb = { be, &bad }, tg = { be, &good };
	bool kvm = be == PV_BACKEND_KVM;
	unsigned int rounds = kvm ? 3 : 10;
	char cmd[32];
	pthread_t a, b;

	image_create(&ibad, 1 * MB, 6);
	image_create(&igood, 2 * MB, 7);
	snprintf(cmd, sizeof(cmd), overflow ? "overflow 2" : "hostile 2 %u", rounds);
	blkrun_init(&bad, &ibad, cmd);
	blkrun_init(&good, &igood, kvm ? "rw 9 6" : "rw 9 40");
	cr_assert_eq(pthread_create(&a, NULL, vm_thread, &tb), 0);
	cr_assert_eq(pthread_create(&b, NULL, vm_thread, &tg), 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	if (overflow) {
		assert_ran(&bad);
		EXPECT(bad.out, "before", PVBLK_S_OK);
		cr_expect_neq(val(bad.out, "peer_error"), 0, "the backend must flag the forged index\n%s", bad.out);
		image_verify(&ibad, "the overflowing VM's disk");
	} else {
		check_hostile(&bad, &ibad, rounds);
	}
	assert_ran(&good);
	cr_assert_geq(apply_writes(&igood, good.out), 3 + 8);
	image_verify(&igood, "the well-behaved VM's disk");
	cr_expect_eq(good.bst.invalid, 0);
	cr_expect_eq(good.bst.errors, 0);
	image_destroy(&ibad);
	image_destroy(&igood);
}

BACKEND_TEST(blk, second_vm_unaffected, .timeout = 200) { two_vms(b, false); }
/* "libpv: pvblk queue 0: broken request ring" on stderr is expected here */
BACKEND_TEST(blk, ring_overflow_second_vm_unaffected, .timeout = 200) { two_vms(b, true); }

/* ---- 6. backing-file errors: RLIMIT_FSIZE makes writes fail with EFBIG ---- */

static void efbig(enum pv_backend be)
{
	static struct blkrun br;
	const uint64_t limit = 1 * MB;
	struct rlimit rl = { limit, limit };
	char cmd[64];
	struct image im;
	const char *o;

	image_create(&im, 4 * MB, 8);
	/* Criterion runs each test in its own process: the limit stays here. */
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	snprintf(cmd, sizeof(cmd), "efbig 1 %llu", (unsigned long long)(limit / 512));
	blkrun_init(&br, &im, cmd);
	run_blk(be, &br);
	assert_ran(&br);
	o = br.out;
	EXPECT(o, "below", PVBLK_S_OK);
	EXPECT(o, "beyond", PVBLK_S_IOERR);
	EXPECT(o, "straddle", PVBLK_S_IOERR);
	EXPECT(o, "beyond_fua", PVBLK_S_IOERR);
	EXPECT(o, "read_beyond", PVBLK_S_OK);
	EXPECT(o, "below_again", PVBLK_S_OK);
	EXPECT(o, "flush", PVBLK_S_OK);
	cr_expect_geq(br.bst.errors, 3);
	expect_write(&im, 8, 8, 31);
	expect_write(&im, 64, 8, 34);
	/* the straddling write may have landed partly (a short write): skip
	 * checking its first half below the limit */
	{
		uint64_t s = limit / 512 - 4;
		int fd = open(im.path, O_RDONLY | O_CLOEXEC);

		cr_assert_geq(fd, 0);
		cr_assert_eq(pread(fd, im.expect + s * 512, 2048, (off_t)(s * 512)), 2048);
		close(fd);
	}
	image_verify(&im, "after EFBIG");
	image_destroy(&im);
}

BACKEND_TEST(blk, efbig_is_ioerr, .timeout = 120) { efbig(b); }

/* ---- 9. one queue per vCPU ---- */

static void multi_queue(enum pv_backend be, unsigned int n)
{
	static struct blkrun br;
	struct image im;
	char cmd[32], key[32];

	image_create(&im, 4 * MB, 9);
	snprintf(cmd, sizeof(cmd), "mq 1 %u", n);
	blkrun_init(&br, &im, cmd);
	br.vcpus = n;
	br.cfg.max_queues = 0; /* the default: one queue per vCPU */
	run_blk(be, &br);
	assert_ran(&br);
	EXPECT(br.out, "max_queues", (int)n);
	cr_assert_eq(br.queues, n, "%u queues connected\n%s", br.queues, br.out);
	for (unsigned int q = 0; q < n; q++) {
		snprintf(key, sizeof(key), "queue %u ok", q);
		EXPECT(br.out, key, 2 * 6 * 8);
		/* every queue carried its own vCPU's requests, none other's */
		cr_expect_eq(br.qst[q].requests, 2 * 6 * 8, "queue %u served %llu", q,
			     (unsigned long long)br.qst[q].requests);
		/* root (CAP_IPC_LOCK) can always register guest RAM */
		if (geteuid() == 0)
			cr_expect_geq(br.qst[q].fixed_chunks, 1, "queue %u: guest RAM not registered", q);
	}
	cr_expect_eq(br.bst.errors + br.bst.invalid, 0);
	cr_assert_eq(apply_writes(&im, br.out), (int)n * 6);
	image_verify(&im, "after multi-queue writes");
	image_destroy(&im);
}

BACKEND_TEST(blk, multi_queue_2, .timeout = 120) { multi_queue(b, 2); }
/* 4 queues on emu only: the queues are pv_blkback's, and the kvm case
 * above already runs one on each of two vCPU threads. */
Test(blk, multi_queue_4_emu, .timeout = 120)
{
	REQUIRE_BACKEND(PV_BACKEND_EMU);
	multi_queue(PV_BACKEND_EMU, 4);
}

/* ---- 10. no memory may be pinned: unregistered buffers, same results ---- */

/* Drop CAP_IPC_LOCK from this (Criterion test) process, as an unprivileged
 * monitor runs, and allow it 1 MiB of locked memory: enough for io_uring's
 * rings (newer kernels count them), not for a 2 MiB chunk of guest RAM. */
static void no_memlock(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	struct rlimit rl = { 1 << 20, 1 << 20 };

	cr_assert_eq(syscall(SYS_capget, &h, d), 0);
	d[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	cr_assert_eq(syscall(SYS_capset, &h, d), 0, "capset: %s", strerror(errno));
	cr_assert_eq(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
}

static void unpinned(enum pv_backend be)
{
	static struct blkrun br;
	struct image im;

	no_memlock();
	image_create(&im, 8 * MB, 10);
	blkrun_init(&br, &im, "rw 11 20");
	run_blk(be, &br);
	assert_ran(&br);
	cr_assert_eq(br.bst.fixed_chunks, 0, "%llu chunks pinned without memlock",
		     (unsigned long long)br.bst.fixed_chunks);
	cr_assert_geq(apply_writes(&im, br.out), 3 + 20 + 8);
	image_verify(&im, "with unregistered buffers");
	cr_expect_eq(br.bst.errors + br.bst.invalid, 0);
	image_destroy(&im);
}

/* "libpv: pvblk: cannot register guest RAM with io_uring" on stderr is expected here.
 * emu only: registering guest RAM with io_uring is pv_blkback's, the same
 * whichever CPU backend runs the guest. */
Test(blk, without_memlock_unregistered_buffers_emu, .timeout = 120)
{
	REQUIRE_BACKEND(PV_BACKEND_EMU);
	unpinned(PV_BACKEND_EMU);
}

/* ---- 11. a guest that does not play along ---- */

static void uncooperative(enum pv_backend be, const char *cmd, struct blkrun *br)
{
	struct image im;

	image_create(&im, 16 * MB, 11);
	blkrun_init(br, &im, cmd);
	run_blk(be, br); /* detaches too: a queue thread that never stops fails by timeout */
	assert_ran(br);
	image_destroy(&im);
}

/* Responses the guest never reads: the backend takes no request it could
 * not answer, does not spin, and stops when asked. */
static void rsp_unread(enum pv_backend be)
{
	static struct blkrun br;

	uncooperative(be, "rspfull 1 0", &br);
	cr_expect_eq(br.bst.requests, 32, "%llu requests taken for a 32-slot response ring",
		     (unsigned long long)br.bst.requests);
}

BACKEND_TEST(blk, unread_responses_then_exit_detaches, .timeout = 60) { rsp_unread(b); }

/* Once the guest reads its responses, the request that waited is served.
 * emu only (this one and the next): when pv_blkback takes a request is
 * host code, the same whichever CPU backend runs the guest; the kvm case
 * above covers a full response ring there. */
Test(blk, full_response_ring_waits_for_the_guest_emu, .timeout = 60)
{
	static struct blkrun br;

	REQUIRE_BACKEND(PV_BACKEND_EMU);
	uncooperative(PV_BACKEND_EMU, "rspfull 1 1", &br);
	cr_assert(strstr(br.out, "rspfull got=33 unsupp=33\n"), "%s", br.out);
}

/* More slow requests than slots, published as soon as the backend took the
 * first ring-full: each is served, none refused. */
Test(blk, second_full_ring_of_slow_writes_all_succeed_emu, .timeout = 120)
{
	static struct blkrun br;

	REQUIRE_BACKEND(PV_BACKEND_EMU);
	uncooperative(PV_BACKEND_EMU, "qdeep 1", &br);
	cr_assert(strstr(br.out, "qdeep ok=64 bad=0\n"), "%s", br.out);
	cr_expect_eq(br.bst.errors + br.bst.invalid, 0);
}

/* The VM ends while a FLUSH waits for slow writes: detach still returns. */
static void flush_stop(enum pv_backend be)
{
	static struct blkrun br;

	uncooperative(be, "flushstop 1", &br);
}

BACKEND_TEST(blk, exit_during_flush_detaches, .timeout = 120) { flush_stop(b); }

/* A CONNECT whose second queue is bad (no grant, or a ring another queue
 * already has) fails as a whole; the device stays connectable and works. */
static void reconnect(enum pv_backend be)
{
	static struct blkrun br;
	struct image im;

	/* second queue: no such grant; the first queue's ring; the same
	 * frames under another grant reference */
	for (int kind = 0; kind < 3; kind++) {
		char cmd[32];

		image_create(&im, 4 * MB, 12);
		snprintf(cmd, sizeof(cmd), "reconnect 1 %d", kind);
		blkrun_init(&br, &im, cmd);
		br.cfg.max_queues = 2;
		run_blk(be, &br);
		assert_ran(&br);
		cr_assert(strstr(br.out, "bad_connect=-22 evtchn0=0\n"), "%s: %s", cmd, br.out);
		cr_assert_eq(br.queues, 1);
		cr_assert_eq(apply_writes(&im, br.out), 1);
		image_verify(&im, "after a failed and a good CONNECT");
		image_destroy(&im);
	}
}

BACKEND_TEST(blk, failed_connect_leaves_device_usable, .timeout = 60) { reconnect(b); }

/* DISCONNECT ends the queues: the guest's grants then end (a backend still
 * holding a ring would make that -EBUSY), and a second CONNECT works; the
 * counters keep the first connection's requests. */
BACKEND_TEST(blk, disconnect_then_connect_again, .timeout = 60)
{
	static struct blkrun br;
	struct image im;

	image_create(&im, 4 * MB, 13);
	blkrun_init(&br, &im, "disconnect 1 0");
	run_blk(b, &br);
	assert_ran(&br);
	cr_assert(strstr(br.out, "disconnect=0\nreconnected=0\n"), "%s", br.out);
	cr_assert_eq(br.queues, 1);
	cr_assert_eq(apply_writes(&im, br.out), 2);
	image_verify(&im, "writes before and after a reconnect");
	cr_assert_eq(br.bst.requests, 4, "two writes and two reads: %llu", (unsigned long long)br.bst.requests);
	image_destroy(&im);
}
