/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The emulated ATA disk (pvdrivers/blk/ata.c) driven by the guest SDK's
 * driver (guest/ata.c) through the test guest tests/guests/ata.c, on both
 * backends: data integrity (checked in the guest and, with pread, on the
 * host), LBA28/LBA48, MULTIPLE and plain SECTORS, flush, error bits, a
 * read-only disk, backing-store errors, and the exit accounting.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <pv/ata.h>

#include "../pvdrivers/blk/disk.h" /* PV_DISK_SECTOR */
#include "common.h"

#include "guests/ata_pattern.h"

struct disk_ctx {
	char path[64];
	int keep_fd;
	uint64_t bytes;        /* size at creation */
	bool read_only;        /* for the next run */
	struct pv_ata *ata;
	struct pv_ata_stats st;
	/* applied in setup, after the disk is open */
	off_t truncate_to;     /* > 0: shrink the file under the open disk */
	rlim_t fsize_limit;    /* > 0: RLIMIT_FSIZE (soft) for the run */
	struct rlimit fsize_saved;
};

/* A temporary image of `bytes` (sparse), unlinked at once so that nothing
 * is left behind whatever happens; reached as /proc/self/fd/N. */
static void disk_create(struct disk_ctx *c, uint64_t bytes)
{
	char tmp[] = "/tmp/pv-ata-XXXXXX";

	c->bytes = bytes;
	c->keep_fd = mkstemp(tmp);
	cr_assert_geq(c->keep_fd, 0);
	unlink(tmp);
	cr_assert_eq(ftruncate(c->keep_fd, (off_t)bytes), 0, "ftruncate %llu", (unsigned long long)bytes);
	snprintf(c->path, sizeof(c->path), "/proc/self/fd/%d", c->keep_fd);
}

static void disk_remove(struct disk_ctx *c)
{
	close(c->keep_fd);
}

static int setup(struct pv_vm *vm, void *opaque)
{
	struct disk_ctx *c = opaque;
	struct pv_ata_config ac = { .path = c->path, .read_only = c->read_only };
	int r = pv_ata_attach(vm, &ac, &c->ata);

	if (r == 0 && c->truncate_to)
		r = truncate(c->path, c->truncate_to) < 0 ? -errno : 0;
	if (r == 0 && c->fsize_limit) {
		struct rlimit rl;

		signal(SIGXFSZ, SIG_IGN);
		r = getrlimit(RLIMIT_FSIZE, &c->fsize_saved) < 0 ? -errno : 0;
		rl = (struct rlimit){ c->fsize_limit, c->fsize_saved.rlim_max };
		if (r == 0)
			r = setrlimit(RLIMIT_FSIZE, &rl) < 0 ? -errno : 0;
	}
	return r;
}

/* libpv/backend_emu.c: EMU_SLICE_US */

/* The run has ended: read the device's counters before the VM frees it. */
static void after(struct pv_vm *vm, void *opaque)
{
	struct disk_ctx *c = opaque;

	(void)vm;
	pv_ata_stats(c->ata, &c->st);
}

/* Run the ata guest with script on backend b against c's disk, once. */
static void run_once(enum pv_backend b, struct disk_ctx *c, bool read_only, const char *script, struct run *out)
{
	struct run_opts o = { .cmdline = script, .setup = setup, .after = after, .opaque = c };

	if (c->truncate_to) /* a previous run shrank it */
		cr_assert_eq(ftruncate(c->keep_fd, (off_t)c->bytes), 0);
	c->read_only = read_only;
	c->ata = NULL;
	memset(&c->st, 0, sizeof(c->st));
	run_guest(b, TEST_GUEST("ata"), &o, out);
	if (c->fsize_limit)
		setrlimit(RLIMIT_FSIZE, &c->fsize_saved);
	cr_log_info("%s: \"%s\": %llu ms", backend_name(b), script, (unsigned long long)(out->st.run_ns / 1000000));
}

/* Run the ata guest and require a clean exit. */
static void run_ata(enum pv_backend b, struct disk_ctx *c, bool read_only, const char *script, struct run *out)
{
	run_once(b, c, read_only, script, out);
	cr_assert_eq(out->r, 0, "%s backend: %s", backend_name(b), out->err);
	cr_assert_eq(out->status, 0);
}

/* The file holds pattern seed at [lba, lba + n). */
static void host_check(struct disk_ctx *c, uint64_t lba, uint32_t n, uint64_t seed)
{
	uint64_t w[PV_DISK_SECTOR / 8];
	int fd = open(c->path, O_RDONLY);

	cr_assert_geq(fd, 0);
	for (uint32_t s = 0; s < n; s++) {
		cr_assert_eq(pread(fd, w, sizeof(w), (off_t)((lba + s) * PV_DISK_SECTOR)), (ssize_t)sizeof(w),
			     "pread sector %llu", (unsigned long long)(lba + s));
		for (unsigned int j = 0; j < PV_DISK_SECTOR / 8; j++)
			cr_assert_eq(w[j], pat(seed, lba + s, j), "sector %llu word %u", (unsigned long long)(lba + s),
				     j);
	}
	close(fd);
}

/* The sector holds zeros (never written). */
static void host_check_zero(struct disk_ctx *c, uint64_t lba)
{
	uint8_t b[PV_DISK_SECTOR], z[PV_DISK_SECTOR] = { 0 };
	int fd = open(c->path, O_RDONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, b, sizeof(b), (off_t)(lba * PV_DISK_SECTOR)), (ssize_t)sizeof(b));
	cr_assert_eq(memcmp(b, z, sizeof(b)), 0, "sector %llu was written", (unsigned long long)lba);
	close(fd);
}

static void expect(const struct run *r, const char *line)
{
	cr_assert(strstr(r->out, line), "missing \"%s\" in:\n%s", line, r->out);
}

/* ---- data integrity on a small disk ---- */

#define SMALL_SECTORS 8192u /* 4 MiB */

struct io {
	uint64_t lba;
	uint32_t n;
	uint64_t seed;
};

/* Append "flags:F w:.. r:.." for io i to script. */
static size_t add_io(char *script, size_t len, size_t size, const struct io *io, unsigned int flags, bool write)
{
	if (write)
		len += (size_t)snprintf(script + len, size - len, " flags:%u w:%llu:%u:%llu", flags,
					(unsigned long long)io->lba, io->n, (unsigned long long)io->seed);
	len += (size_t)snprintf(script + len, size - len, " flags:%u r:%llu:%u:%llu", flags, (unsigned long long)io->lba,
				io->n, (unsigned long long)io->seed);
	cr_assert_lt(len, size);
	return len;
}

BACKEND_TEST_TIMEOUTS(ata, integrity, 0, 240)
{
	static struct run r;
	struct disk_ctx c = { 0 };
	struct io ios[6];
	char script[1024], line[128];
	size_t len;
	unsigned int seed = (unsigned int)getpid();
	uint64_t written = 0;

	srand(seed);
	disk_create(&c, (uint64_t)SMALL_SECTORS * PV_DISK_SECTOR);
	/* LBA 0, the last sector, random spots: MULTIPLE (8 per DRQ block,
	 * with a partial last block), plain SECTORS (flags 1), LBA48
	 * commands (flags 2). */
	ios[0] = (struct io){ 0, 1, 1 };
	ios[1] = (struct io){ SMALL_SECTORS - 1, 1, 2 };
	ios[2] = (struct io){ 16 + (uint64_t)(rand() % 2000), 13, 3 };     /* multiple: 8 + 5 */
	ios[3] = (struct io){ 3000 + (uint64_t)(rand() % 2000), 3, 4 };    /* plain SECTORS */
	ios[4] = (struct io){ 6000 + (uint64_t)(rand() % 2000), 9, 5 };    /* LBA48 MULTIPLE */
	ios[5] = (struct io){ SMALL_SECTORS - 9, 8, 6 };                   /* 4 KiB, next to the last */
	/* Two short VMs on the same disk (the second reads what the first
	 * wrote): each emu run stays well inside one 500 ms Unicorn slice. */
	for (int vm = 0; vm < 2; vm++) {
		len = (size_t)snprintf(script, sizeof(script), vm ? "init:8" : "init:8 id");
		for (int i = 3 * vm; i < 3 * vm + 3; i++)
			len = add_io(script, len, sizeof(script), &ios[i], i == 3 ? 1 : i == 4 ? 2 : 0, true);
		if (vm)
			len = add_io(script, len, sizeof(script), &ios[2], 0, false);
		snprintf(script + len, sizeof(script) - len, " flags:0 flush");
		run_ata(b, &c, false, script, &r);
		cr_log_info("seed %u script %s run %llu ms\n%s", seed, script, (unsigned long long)r.st.run_ns / 1000000,
			    r.out);
		expect(&r, "init 0 cap=8192 cap28=8192 lba48=1 mult=8 max=128 model=libpv emulated ATA disk "
			   "serial=PV0000000001 fw=0.1.0\n");
		/* words: 0 fixed; 47 max 128; 49 LBA; 59 mult 8 valid; 60-61
		 * and 100-103 the capacity; 83/86 LBA48 + FLUSH (EXT);
		 * checksum 0 */
		if (!vm)
			expect(&r, "id 0 w0=0040 w47=8080 w49=0200 w59=0108 w60=2000 w61=0000 w83=7400 w86=3400 "
				   "w100=2000 w101=0000 w102=0000 w103=0000 sum=00\n");
		for (int i = 3 * vm; i < 3 * vm + 3; i++) {
			snprintf(line, sizeof(line), "w %llu %u 0\nr %llu %u 0 bad=0\n", (unsigned long long)ios[i].lba,
				 ios[i].n, (unsigned long long)ios[i].lba, ios[i].n);
			expect(&r, line);
			written += ios[i].n;
		}
		if (vm) {
			snprintf(line, sizeof(line), "r %llu %u 0 bad=0\nflush 0\n", (unsigned long long)ios[2].lba,
				 ios[2].n);
			expect(&r, line);
		}
		expect(&r, "flush 0\n");
		cr_assert_eq(c.st.errors, 0);
		cr_assert_eq(c.st.stray_data, 0);
	}
	for (int i = 0; i < 6; i++)
		host_check(&c, ios[i].lba, ios[i].n, ios[i].seed);
	cr_assert_eq(written, 1 + 1 + 13 + 3 + 9 + 8);
	cr_assert_eq(c.st.sectors_written, 3 + 9 + 8); /* the second VM's */
	host_check_zero(&c, 1);
	host_check_zero(&c, SMALL_SECTORS - 10);
	disk_remove(&c);
}

/* ---- LBA48 on a sparse disk larger than 2^28 sectors ---- */

#define BIG_SECTORS ((1ull << 28) + (1ull << 20) + 7) /* 128.5 GiB + 7 sectors */

BACKEND_TEST_TIMEOUTS(ata, lba48, 0, 240)
{
	static struct run r;
	struct disk_ctx c = { 0 };
	char script[512];
	unsigned long long hi = (1ull << 28) + 12345 + (unsigned long long)(getpid() % 1000);

	disk_create(&c, BIG_SECTORS * PV_DISK_SECTOR);
	/* Crossing 2^28 (an EXT command chosen by the driver), above it, the
	 * last sector; LBA28 just below the limit. */
	snprintf(script, sizeof(script),
		 "init:16 w:%llu:4:11 r:%llu:4:11 w:%llu:17:12 r:%llu:17:12 w:%llu:1:13 r:%llu:1:13 "
		 "w:%llu:2:14 r:%llu:2:14 flush",
		 (1ull << 28) - 2, (1ull << 28) - 2, hi, hi, BIG_SECTORS - 1, BIG_SECTORS - 1, (1ull << 28) - 4,
		 (1ull << 28) - 4);
	run_ata(b, &c, false, script, &r);
	cr_log_info("%s\n%s", script, r.out);
	{
		char line[160];

		snprintf(line, sizeof(line), "init 0 cap=%llu cap28=268435455 lba48=1 mult=16 ",
			 (unsigned long long)BIG_SECTORS);
		expect(&r, line);
		snprintf(line, sizeof(line), "r %llu 17 0 bad=0\n", hi);
		expect(&r, line);
		snprintf(line, sizeof(line), "r %llu 1 0 bad=0\n", (unsigned long long)BIG_SECTORS - 1);
		expect(&r, line);
		snprintf(line, sizeof(line), "r %llu 4 0 bad=0\n", (1ull << 28) - 2);
		expect(&r, line);
		snprintf(line, sizeof(line), "r %llu 2 0 bad=0\n", (1ull << 28) - 4);
		expect(&r, line);
	}
	expect(&r, "flush 0\n");
	host_check(&c, (1ull << 28) - 2, 4, 11);
	host_check(&c, hi, 17, 12);
	host_check(&c, BIG_SECTORS - 1, 1, 13);
	host_check(&c, (1ull << 28) - 4, 2, 14);
	cr_assert_eq(c.st.errors, 0);
	disk_remove(&c);
}

/* ---- error bits, hostile accesses; the disk keeps working ---- */

BACKEND_TEST_TIMEOUTS(ata, errors, 0, 240)
{
	static struct run r;
	struct disk_ctx c = { 0 };
	/* PV_ERANGE -34, PV_EPERM -1; status 51 = DRDY|DSC|ERR, 58 = DRDY|DSC|DRQ */
	const char *script =
		"init:8 id "
		"r:8192:1:0 r:8191:2:0 w:8190:4:21 w:0:1:22 r:0:1:22 "   /* past the end, then fine */
		"cmd:0x20:0:0:7937 "                                     /* count 0 = 256: one past the end */
		"cmd48:0x24:0:0:0 "                                      /* count 0 = 65536 */
		"cmd:0x20:0:0:7936 "                                     /* exactly to the end: DRQ */
		"rq:100:2 "                                              /* a new command ends that transfer */
		"cmd:0x00:0:0:0 cmd:0xff:0:0:0 cmd:0xc8:0:1:0 "          /* NOP, unknown, DMA: abort */
		"mult:3 mult:256 mult:0 cmd:0xc4:0:1:0 flags:0 w:5:2:23 r:5:2:23 mult:16 "
		"cmd:0xef:0x03:0x0c:0 cmd:0xef:0x03:0x45:0 cmd:0xef:0xaa:0:0 "
		"weird dev1 hob reset w:7:9:24 r:7:9:24 "
		"w:1073:1:25 chs:1:1:3:25 chs:0:0:0:0 chs:200:0:1:0";  /* CHS 1/1/3 = LBA 1073 */

	disk_create(&c, (uint64_t)SMALL_SECTORS * PV_DISK_SECTOR);
	run_ata(b, &c, false, script, &r);
	cr_log_info("%s", r.out);
	expect(&r, "r 8192 1 -34 bad=1 st=51 err=10\n");
	expect(&r, "r 8191 2 -34 bad=2 st=51 err=10\n");
	expect(&r, "w 8190 4 -34 st=51 err=10\n");
	expect(&r, "w 0 1 0\nr 0 1 0 bad=0\n");
	/* IDNF reports the first missing sector in the LBA registers. */
	expect(&r, "cmd 20 st=51 err=10 lba=002000\n");
	expect(&r, "cmd 24 st=51 err=10 lba=002000\n");
	expect(&r, "cmd 20 st=58 err=00 lba=001f00\nrq 100 2 0\n");
	expect(&r, "cmd 00 st=51 err=04 ");
	expect(&r, "cmd ff st=51 err=04 ");
	expect(&r, "cmd c8 st=51 err=04 ");
	expect(&r, "mult 3 -1\nmult 256 -22\nmult 0 0\ncmd c4 st=51 err=04 ");
	expect(&r, "w 5 2 0\nr 5 2 0 bad=0\nmult 16 0\n"); /* plain SECTORS without multiple mode */
	/* SET FEATURES: PIO mode 4 accepted; mode 5 and another subcommand abort */
	expect(&r, "cmd ef st=50 err=00 lba=000000\ncmd ef st=51 err=04 lba=000000\ncmd ef st=51 err=04 lba=000000\n");
	/* 8-bit data read ignored (ff), 32-bit read gives two words: the
	 * IDENTIFY data arrive whole; afterwards no DRQ: stray reads give
	 * ffff, writes are dropped; a 16-bit read at 0x1F7 is unclaimed. */
	expect(&r, "weird st=58 b=ff same=1 after=ffff st=50 w7=ffff st=50\n");
	expect(&r, "dev1 st=00 alt=00 after=00 dev0=50\n");
	expect(&r, "hob cur=34 prev=12 after=34\n");
	/* SRST: diagnostic code 01 and the signature 01/01 */
	expect(&r, "reset 0 st=50 err=01 nsect=01 lbal=01\n");
	expect(&r, "w 7 9 0\nr 7 9 0 bad=0\n");
	/* CHS with the IDENTIFY geometry (8 cylinders x 16 heads x 63): sector
	 * 0 and cylinder 200 do not exist */
	expect(&r, "w 1073 1 0\nchs st=50 bad=0\nchs st=51 err=10\nchs st=51 err=10\n");
	host_check(&c, 0, 1, 22);
	host_check(&c, 5, 2, 23);
	host_check(&c, 7, 9, 24);
	/* nothing of the refused write landed */
	host_check_zero(&c, 8190);
	host_check_zero(&c, 8191);
	cr_assert_eq(c.st.sectors_written, 1 + 2 + 9 + 1);
	cr_assert_eq(c.st.stray_data, 3); /* inb, inw and outw at 0x1F0 */
	disk_remove(&c);
}

/* ---- read-only disk ---- */

BACKEND_TEST_TIMEOUTS(ata, read_only, 0, 240)
{
	static struct run r;
	struct disk_ctx c = { 0 };

	disk_create(&c, (uint64_t)SMALL_SECTORS * PV_DISK_SECTOR);
	run_ata(b, &c, false, "init:8 w:40:3:31", &r);
	expect(&r, "w 40 3 0\n");
	run_ata(b, &c, true, "init:8 w:40:3:32 flags:1 w:41:1:32 r:40:3:31 flush", &r);
	cr_log_info("%s", r.out);
	expect(&r, "w 40 3 -1 st=51 err=04\n");
	expect(&r, "w 41 1 -1 st=51 err=04\n");
	expect(&r, "r 40 3 0 bad=0\n");
	expect(&r, "flush 0\n");
	host_check(&c, 40, 3, 31);
	cr_assert_eq(c.st.sectors_written, 0);
	disk_remove(&c);
}

/* ---- backing-store errors ---- */

/*
 * Read: the image is truncated to 1 MiB under the open disk (which still
 * claims 4 MiB): a read past 1 MiB comes back short, which pv_disk_read
 * reports as -EIO: the guest sees ERR + UNC and the failing LBA.  Write:
 * RLIMIT_FSIZE of 2 MiB makes pwrite past 2 MiB fail (EFBIG): DF + ERR +
 * ABRT.  Reads and writes inside the file keep working.
 */
BACKEND_TEST_TIMEOUTS(ata, io_errors, 0, 240)
{
	static struct run r;
	struct disk_ctx c = { 0 };

	disk_create(&c, (uint64_t)SMALL_SECTORS * PV_DISK_SECTOR);
	c.truncate_to = 1 << 20;
	c.fsize_limit = 2 << 20;
	run_ata(b, &c, false,
		"init:8 r:4000:2:0 cmd:0x20:0:1:4001 w:6000:10:41 w:100:2:42 r:100:2:42 r:2040:16:0 flush", &r);
	cr_log_info("%s", r.out);
	/* PV_EIO -5; status 51 = DRDY|DSC|ERR, err 40 = UNC; 71 adds DF */
	expect(&r, "r 4000 2 -5 bad=2 st=51 err=40\n");
	expect(&r, "cmd 20 st=51 err=40 lba=000fa1\n");
	/* the first DRQ block of 8 fails: DF, ABRT */
	expect(&r, "w 6000 10 -5 st=71 err=04\n");
	expect(&r, "w 100 2 0\nr 100 2 0 bad=0\n");
	/* 2040..2047 are in the file, 2048.. are not: the second block fails */
	expect(&r, "r 2040 16 -5 bad=16 st=51 err=40\n");
	expect(&r, "flush 0\n");
	host_check(&c, 100, 2, 42);
	disk_remove(&c);
}

/* ---- exit accounting ---- */

/*
 * Exits of `extra` on top of "init:8" (the same guest, the same disk), by
 * reason and per device.
 */
struct exits {
	uint64_t pio, ata, ata_ctl, total, hypercall;
};

static struct exits exits_of(const struct run *r)
{
	struct exits e = { r->st.exits[PV_EXIT_PIO], 0, 0, r->st.exits_total, r->st.exits[PV_EXIT_HYPERCALL] };

	for (unsigned int i = 0; i < r->st.nr_devs; i++) {
		if (!strcmp(r->st.devs[i].name, "ata"))
			e.ata = r->st.devs[i].exits;
		if (!strcmp(r->st.devs[i].name, "ata-ctl"))
			e.ata_ctl = r->st.devs[i].exits;
	}
	return e;
}

static struct exits delta(enum pv_backend b, const char *base, const char *more)
{
	static struct run r0, r1;
	struct disk_ctx c = { 0 };
	struct exits a, z;

	disk_create(&c, (uint64_t)SMALL_SECTORS * PV_DISK_SECTOR);
	run_ata(b, &c, false, base, &r0);
	run_ata(b, &c, false, more, &r1);
	disk_remove(&c);
	a = exits_of(&r0);
	z = exits_of(&r1);
	cr_assert_eq(z.hypercall - a.hypercall, 1); /* one more console line */
	return (struct exits){ z.pio - a.pio, z.ata - a.ata, z.ata_ctl - a.ata_ctl, z.total - a.total, 0 };
}

/* PIO exits of one 4 KiB (8-sector) READ/WRITE MULTIPLE with 8 sectors
 * per DRQ block, LBA28: 4 task-file writes + device + command, a status
 * read before the DRQ block and one after it, and the data port. */
#define TF_EXITS 6
#define STATUS_EXITS 2

BACKEND_TEST_TIMEOUTS(ata, exits_4k, 0, 240)
{
	struct exits rd, wr;

	rd = delta(b, "init:8 rq:0:1", "init:8 rq:0:1 rq:8:8");
	wr = delta(b, "init:8 rq:0:1", "init:8 rq:0:1 w:8:8:1");
	cr_log_info("%s: per 4 KiB read: pio %llu (ata %llu, ata-ctl %llu), total %llu; "
		    "per 4 KiB write: pio %llu (ata %llu), total %llu",
		    backend_name(b), (unsigned long long)rd.pio, (unsigned long long)rd.ata,
		    (unsigned long long)rd.ata_ctl, (unsigned long long)rd.total - 1, (unsigned long long)wr.pio,
		    (unsigned long long)wr.ata, (unsigned long long)wr.total - 1);
	/* All of it is the device's, none on the control port. */
	cr_assert_eq(rd.pio, rd.ata);
	cr_assert_eq(wr.pio, wr.ata);
	cr_assert_eq(rd.ata_ctl, 0);
	cr_assert_eq(rd.total, rd.pio + 1);
	cr_assert_eq(wr.total, wr.pio + 1);
	/*
	 * Register accesses are one exit each on both backends; the data
	 * port's string I/O is where they differ.  OUTS exits once per
	 * element on both.  Unicorn's IN hook fires once per element too;
	 * KVM's emulator batches INS through its 1024-byte read-ahead cache:
	 * one exit moves min(bytes left in RDI's page, 1024 / size, RCX)
	 * elements, so a page-aligned 4 KiB `rep insw` takes 4 exits.
	 * The emulation backend counts a REP INS in the same chunks, so both
	 * report the same exits.
	 */
	cr_assert_eq(wr.pio, TF_EXITS + STATUS_EXITS + 2048);
	cr_assert_eq(rd.pio, TF_EXITS + STATUS_EXITS + 4, "%s: %llu", backend_name(b), (unsigned long long)rd.pio);
}
