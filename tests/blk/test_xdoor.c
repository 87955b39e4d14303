/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Data written through the PV door reads back identically through the
 * emulated ATA door of the same disk, and the other way round. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pv/blk.h>

#include "ata.h"
#include "common.h"

struct door {
	const char *path;
	bool pv;
	struct pv_blkback *blk;
	struct pv_ata *ata;
	struct pv_disk disk;
};

static int attach(struct pv_vm *vm, void *opaque)
{
	struct door *d = opaque;
	struct pv_blkback_config c = { .path = d->path, .poll_ns = 20000 };
	int r;

	if (d->pv)
		return pv_blkback_attach(vm, &c, &d->blk);
	r = pv_disk_open(&d->disk, d->path, false, false);
	return r ? r : pv_ata_attach(vm, &d->disk, &d->ata);
}

/* run_guest destroys the VM before returning; the PV backend must be gone
 * first, so this test runs its own VM. */
static void run_door(enum pv_backend b, const char *path, bool pv, const char *cmd, char *out, size_t n)
{
	struct door d = { .path = path, .pv = pv };
	struct pv_vm_config cfg = { .ram_size = 32u << 20, .backend = b, .cmdline = cmd };
	struct pv_vm *vm;
	int status = -1, rc;

	cr_assert_eq(pv_vm_create(&cfg, &vm), 0, "%s", pv_last_error());
	cr_assert_eq(pv_vm_load_elf(vm, XDOOR_GUEST), 0, "%s", pv_vm_error(vm));
	cr_assert_eq(attach(vm, &d), 0);
	rc = pv_vm_run(vm, &status);
	if (d.blk)
		pv_blkback_detach(d.blk);
	if (d.ata) {
		pv_ata_detach(d.ata);
		pv_disk_close(&d.disk);
	}
	snprintf(out, n, "%s", rc ? pv_vm_error(vm) : "");
	pv_vm_destroy(vm);
	cr_assert_eq(rc, 0, "%s: %s", cmd, out);
	cr_assert_eq(status, 0, "%s: guest exit %d", cmd, status);
}

static void cross(enum pv_backend b)
{
	char path[] = "/var/tmp/pv-xdoor-XXXXXX", err[256];
	const char *ranges = " 0:1 7:16 100:3 2000:64 8191:1";
	char cmd[160];
	int fd;

	REQUIRE_BACKEND(b);
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

Test(xdoor, pv_and_ata_see_the_same_data_on_emu) { cross(PV_BACKEND_EMU); }
Test(xdoor, pv_and_ata_see_the_same_data_on_kvm, .timeout = 240) { cross(PV_BACKEND_KVM); }
