/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Data written through the PV door reads back identically through the
 * emulated ATA door of the same disk, and the other way round. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pv/ata.h>
#include <pv/blk.h>

#include "common.h"

struct door {
	const char *path;
	bool pv;
	struct pv_blkback *blk;
	struct pv_ata *ata;
	struct pv_blkback_stats bst; /* read after the run */
	struct pv_ata_stats ast;
};

static int attach(struct pv_vm *vm, void *opaque)
{
	struct door *d = opaque;
	struct pv_blkback_config c = { .path = d->path, .poll_ns = 20000 };
	struct pv_ata_config ac = { .path = d->path };

	return d->pv ? pv_blkback_attach(vm, &c, &d->blk) : pv_ata_attach(vm, &ac, &d->ata);
}

static void after(struct pv_vm *vm, void *opaque)
{
	struct door *d = opaque;

	(void)vm;
	pv_blkback_stats(d->blk, &d->bst);
	pv_ata_stats(d->ata, &d->ast);
}

/* One VM with one door to the disk at path; the VM owns the device.
 * Stores the door's counters in *d. */
static void run_door(enum pv_backend b, const char *path, bool pv, const char *cmd, struct door *d)
{
	struct run_opts o = { .cmdline = cmd, .mem = 32u << 20, .setup = attach, .after = after, .opaque = d };
	static struct run r;

	*d = (struct door){ .path = path, .pv = pv };
	run_guest(b, XDOOR_GUEST, &o, &r);
	cr_assert_eq(r.r, 0, "%s: %s", cmd, r.err);
	cr_assert_eq(r.status, 0, "%s: guest exit %d\n%s", cmd, r.status, r.out);
}

/* The request and byte counters of a door (libvirt's block.N.* figures). */
struct io_counts {
	uint64_t rd_reqs, rd_bytes, wr_reqs, wr_bytes, fl_reqs;
};

static struct io_counts counts(const struct door *d)
{
	if (d->pv)
		return (struct io_counts){ d->bst.rd_reqs, d->bst.rd_bytes, d->bst.wr_reqs, d->bst.wr_bytes,
					   d->bst.fl_reqs };
	return (struct io_counts){ d->ast.rd_reqs, d->ast.rd_bytes, d->ast.wr_reqs, d->ast.wr_bytes, d->ast.fl_reqs };
}

#define EXPECT_COUNTS(d, rr, rb, wr, wb, fl)                                                                  \
	do {                                                                                                  \
		struct io_counts c_ = counts(d);                                                              \
		cr_expect(c_.rd_reqs == (rr) && c_.rd_bytes == (rb) && c_.wr_reqs == (wr) && c_.wr_bytes == (wb) && \
				  c_.fl_reqs == (fl),                                                         \
			  "%s door: rd %llu/%llu wr %llu/%llu fl %llu, expected %d/%d %d/%d %d", (d)->pv ? "pv" : "ata", \
			  (unsigned long long)c_.rd_reqs, (unsigned long long)c_.rd_bytes,                    \
			  (unsigned long long)c_.wr_reqs, (unsigned long long)c_.wr_bytes,                    \
			  (unsigned long long)c_.fl_reqs, (rr), (rb), (wr), (wb), (fl));                      \
	} while (0)

BACKEND_TEST_TIMEOUTS(xdoor, pv_and_ata_see_the_same_data_on, 0, 240)
{
	char path[] = "/var/tmp/pv-xdoor-XXXXXX";
	const char *ranges = " 0:1 7:16 100:3 2000:64 8191:1";
	const int bytes = (1 + 16 + 3 + 64 + 1) * 512; /* five requests */
	struct door d;
	char cmd[160];
	int fd;

	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 4u << 20), 0);
	close(fd);
	/* PV writes, ATA reads. */
	snprintf(cmd, sizeof(cmd), "pv write 5%s flush", ranges);
	run_door(b, path, true, cmd, &d);
	EXPECT_COUNTS(&d, 0, 0, 5, bytes, 1);
	snprintf(cmd, sizeof(cmd), "ata check 5%s", ranges);
	run_door(b, path, false, cmd, &d);
	EXPECT_COUNTS(&d, 5, bytes, 0, 0, 0);
	/* ATA writes, PV reads (overwriting the same sectors). */
	snprintf(cmd, sizeof(cmd), "ata write 9%s flush flush", ranges);
	run_door(b, path, false, cmd, &d);
	EXPECT_COUNTS(&d, 0, 0, 5, bytes, 2);
	snprintf(cmd, sizeof(cmd), "pv check 9%s", ranges);
	run_door(b, path, true, cmd, &d);
	EXPECT_COUNTS(&d, 5, bytes, 0, 0, 0);
	unlink(path);
}
