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
};

static int attach(struct pv_vm *vm, void *opaque)
{
	struct door *d = opaque;
	struct pv_blkback_config c = { .path = d->path, .poll_ns = 20000 };
	struct pv_ata_config ac = { .path = d->path };

	return d->pv ? pv_blkback_attach(vm, &c, &d->blk) : pv_ata_attach(vm, &ac, &d->ata);
}

/* One VM with one door to the disk at path; the VM owns the device. */
static void run_door(enum pv_backend b, const char *path, bool pv, const char *cmd, char *out, size_t n)
{
	struct door d = { .path = path, .pv = pv };
	struct run_opts o = { .cmdline = cmd, .mem = 32u << 20, .setup = attach, .opaque = &d };
	static struct run r;

	run_guest(b, XDOOR_GUEST, &o, &r);
	snprintf(out, n, "%s", r.r ? r.err : "");
	cr_assert_eq(r.r, 0, "%s: %s", cmd, r.err);
	cr_assert_eq(r.status, 0, "%s: guest exit %d", cmd, r.status);
}

BACKEND_TEST_TIMEOUTS(xdoor, pv_and_ata_see_the_same_data_on, 0, 240)
{
	char path[] = "/var/tmp/pv-xdoor-XXXXXX", err[256];
	const char *ranges = " 0:1 7:16 100:3 2000:64 8191:1";
	char cmd[160];
	int fd;

	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 4u << 20), 0);
	close(fd);
	/* PV writes, ATA reads. */
	snprintf(cmd, sizeof(cmd), "pv write 5%s", ranges);
	run_door(b, path, true, cmd, err, sizeof(err));
	snprintf(cmd, sizeof(cmd), "ata check 5%s", ranges);
	run_door(b, path, false, cmd, err, sizeof(err));
	/* ATA writes, PV reads (overwriting the same sectors). */
	snprintf(cmd, sizeof(cmd), "ata write 9%s", ranges);
	run_door(b, path, false, cmd, err, sizeof(err));
	snprintf(cmd, sizeof(cmd), "pv check 9%s", ranges);
	run_door(b, path, true, cmd, err, sizeof(err));
	unlink(path);
}
