/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ATA register interface (pvdrivers/blk/ata.c) through libpv's port
 * dispatch (pv__pio_access), as a guest's IN/OUT and string instructions
 * reach it: byte, word and dword accesses to 0x1F0-0x1F7 and 0x3F6,
 * string transfers of the data port, on a 64 KiB disk.  Each input starts
 * with a soft reset.  Invariants: every access returns; a disk access
 * stays inside the disk (the file does not grow); the status register
 * never shows DRQ together with BSY outside a reset.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pv/ata.h>

#include "fuzz.h"

#define DISK (64u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pv_vm *vm;
static char path[64];
static int disk_fd; /* the disk file, to see that it keeps its size */

static void setup(void)
{
	struct pv_ata_config cfg = { .path = path, .no_direct = true };
	struct pv_ata *ata;
	int fd;

	/* tmpfs when there is one: FLUSH CACHE's fdatasync then costs nothing. */
	snprintf(path, sizeof(path), "%s/pv-fuzz-ata-%d.img", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
		 (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	FUZZ_CHECK(fd >= 0 && ftruncate(fd, DISK) == 0);
	disk_fd = fd;
	vm = fuzz_vm(4ull << 20, 1);
	FUZZ_CHECK(pv_ata_attach(vm, &cfg, &ata) == 0);
	unlink(path); /* the disk lives on in the open descriptors */
}

static void out8(uint16_t port, uint8_t v)
{
	pv__pio(&vm->vcpus[0], port, &v, 1, 1, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[64 * 4];
	struct fuzz_in in = { data, size };

	if (!vm)
		setup();
	out8(PV_ATA_CTL, 0x06); /* SRST, nIEN */
	out8(PV_ATA_CTL, 0x02);
	while (in.n) {
		unsigned int op = (unsigned int)fuzz_take(&in, 1);
		unsigned int sz = 1u << ((op >> 4) & 3); /* 1, 2, 4, 8 */
		bool write = (op >> 6) & 1;
		uint16_t port = (op & 0xf) < 8 ? (uint16_t)(PV_ATA_IO + (op & 7)) : PV_ATA_CTL;
		uint8_t status;

		if (sz == 8) {
			/* A string transfer of the data port (REP INSW/OUTSW or D-words). */
			unsigned int count = (unsigned int)fuzz_take(&in, 1) % 64 + 1; /* a quarter sector at most */
			unsigned int w = (op >> 7) & 1 ? 4 : 2;

			if (write)
				fuzz_take_buf(&in, buf, (size_t)count * w);
			pv__pio_access(&vm->vcpus[0], PV_ATA_IO, buf, w, count, write, true);
			continue;
		}
		if (write) {
			uint64_t v = fuzz_take(&in, sz);

			pv__pio(&vm->vcpus[0], port, &v, sz, 1, true);
		} else {
			uint64_t v;

			pv__pio(&vm->vcpus[0], port, &v, sz, 1, false);
		}
		pv__pio(&vm->vcpus[0], PV_ATA_CTL, &status, 1, 1, false); /* alternate status */
		FUZZ_CHECK(!(status & 0x80) || status == 0x80); /* BSY only alone, in a reset */
	}
	{
		struct stat st;

		FUZZ_CHECK(fstat(disk_fd, &st) == 0 && st.st_size == DISK);
	}
	return 0;
}
