/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Issue 15 item 1: a fault leaves the devices as the faulting instruction
 * left them.  The blkio guest ("faultpub") publishes a write A by bumping
 * its producer index in the block of code that then faults, with a write B
 * prepared behind it; the backend polls the ring all the while.  B was never
 * published, so it must not reach the disk (an emulator replaying the block
 * would store the index twice and publish it).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pv/blk.h>
#include <pv/emu.h>

#include "common.h"

static char out[16384];
static size_t out_len;

static void capture(void *opaque, const char *buf, size_t len)
{
	(void)opaque;
	if (len > sizeof(out) - 1 - out_len)
		len = sizeof(out) - 1 - out_len;
	memcpy(out + out_len, buf, len);
	out_len += len;
	out[out_len] = 0;
}

BACKEND_TEST(replay, unpublished_request_stays_off_the_disk, .timeout = 60)
{
	char dir[] = "/var/tmp/pvblk-replay-XXXXXX", path[64];
	struct pv_vm_config cfg = { .ram_size = 16u << 20, .backend = b, .cmdline = "faultpub 1",
				    .console = capture };
	struct pv_blkback_config bc = { .path = path, .poll_ns = 2000000000ull }; /* the backend keeps polling */
	unsigned char sect[4096], zero[4096] = { 0 };
	struct pv_blkback *bb;
	struct pv_vm *vm;
	int fd, status = 0, r;

	if (b == PV_BACKEND_EMU && emu_on_unicorn20())
		cr_skip_test("Unicorn 2.0 replays the block of code before a fault (2.1 does not: scripts/unicorn21.sh)");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/disk.img", dir);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 8u << 20), 0);
	out_len = 0;
	pv_emu_register();
	cr_assert_eq(pv_vm_create(&cfg, &vm), 0, "%s", pv_last_error());
	cr_assert_eq(pv_vm_load_elf(vm, REPLAY_GUEST), 0, "%s", pv_vm_error(vm));
	cr_assert_eq(pv_blkback_attach(vm, &bc, &bb), 0, "%s", pv_vm_error(vm));
	r = pv_vm_run(vm, &status);
	cr_assert_lt(r, 0, "the guest was to fault\n%s", out);
	cr_assert(strstr(pv_vm_error(vm), "access outside guest RAM: read"), "%s\n%s", pv_vm_error(vm), out);
	cr_assert(strstr(out, "prod="), "the guest did not reach the fault\n%s", out);
	pv_vm_destroy(vm);
	cr_assert_eq(pread(fd, sect, sizeof(sect), 4096 * 512ull), (ssize_t)sizeof(sect));
	close(fd);
	unlink(path);
	rmdir(dir);
	cr_assert(!memcmp(sect, zero, sizeof(sect)), "the unpublished request B reached the disk\n%s", out);
}
