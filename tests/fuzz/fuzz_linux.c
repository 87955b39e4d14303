/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Linux bzImage loader (pv_vm_load_linux) on arbitrary kernels,
 * initramfs images and command lines, passed as memfd paths on a PC-platform
 * VM.  Input: flags (bit 0: an initramfs, bit 1: a command line), the
 * initramfs length and the command line length (16 bits each), those bytes,
 * then the kernel (the rest).  Invariants: the result is 0 or an error
 * <pv/linux.h> documents; a refusal says why and leaves guest RAM untouched;
 * a success puts the protected-mode kernel at a load address of at least
 * 1 MiB that it and its init_size fit above, the initramfs page-aligned
 * above them and below initrd_addr_max, the command line NUL-terminated,
 * enters at load + 0x200 with RSI = the zero page, and writes nothing of
 * RAM above 1 MiB but the kernel and the initramfs.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "pv/linux.h"

#define RAM    (4ull << 20)
#define POISON 0x5a

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A memfd holding exactly len bytes of p; its path in *path. */
static void set_file(int *fd, char *path, size_t n, const uint8_t *p, size_t len)
{
	if (*fd < 0) {
		*fd = memfd_create("fuzz", MFD_CLOEXEC);
		FUZZ_CHECK(*fd >= 0);
		snprintf(path, n, "/proc/self/fd/%d", *fd);
	}
	FUZZ_CHECK(ftruncate(*fd, 0) == 0);
	FUZZ_CHECK(len == 0 || pwrite(*fd, p, len, 0) == (ssize_t)len);
}

/* Bytes [from, to) of RAM all still hold the poison. */
static bool poisoned(const uint8_t *ram, uint64_t from, uint64_t to)
{
	static uint8_t ref[64 << 10];

	if (!ref[0])
		memset(ref, POISON, sizeof(ref));
	while (from < to) {
		uint64_t n = to - from < sizeof(ref) ? to - from : sizeof(ref);

		if (memcmp(ram + from, ref, n))
			return false;
		from += n;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pv_vm *vm;
	static int kfd = -1, rfd = -1;
	static char kpath[40], rpath[40];
	struct fuzz_in in = { data, size };
	unsigned int flags = (unsigned int)fuzz_take(&in, 1);
	size_t rdlen = (size_t)fuzz_take(&in, 2), cmdlen = (size_t)fuzz_take(&in, 2), klen, setup;
	const uint8_t *rd, *kernel, *zp;
	char *cmdline = NULL;
	uint64_t load, need, rd_addr, rd_top;
	int r;

	if (!vm) {
		vm = fuzz_vm_pc(RAM, 1);
		memset(vm->ram, POISON, RAM);
	}
	vm->loaded = false;
	vm->err[0] = 0;
	vm->vcpus[0].boot = (struct pv_boot_regs){ 0 };

	if (rdlen > in.n)
		rdlen = in.n;
	rd = in.p;
	in.p += rdlen, in.n -= rdlen;
	if (cmdlen > in.n)
		cmdlen = in.n;
	if (flags & 2) {
		cmdline = strndup((const char *)in.p, cmdlen);
		FUZZ_CHECK(cmdline);
	}
	in.p += cmdlen, in.n -= cmdlen;
	kernel = in.p;
	klen = in.n;
	set_file(&kfd, kpath, sizeof(kpath), kernel, klen);
	if (flags & 1)
		set_file(&rfd, rpath, sizeof(rpath), rd, rdlen);

	r = pv_vm_load_linux(vm, kpath, flags & 1 ? rpath : NULL, cmdline);
	FUZZ_CHECK(r == 0 || r == -ENOEXEC || r == -EPROTONOSUPPORT || r == -EFBIG || r == -E2BIG);
	if (r < 0) {
		FUZZ_CHECK(!vm->loaded);
		FUZZ_CHECK(vm->err[0] != 0);
		FUZZ_CHECK(poisoned(vm->ram, 0, RAM)); /* everything is checked before RAM is written */
		goto out;
	}

	/* Accepted: recompute what the boot protocol allows. */
	FUZZ_CHECK(vm->loaded);
	FUZZ_CHECK(klen >= 0x300 && kernel[0x1fe] == 0x55 && kernel[0x1ff] == 0xaa && !memcmp(kernel + 0x202, "HdrS", 4));
	FUZZ_CHECK((kernel[0x206] | kernel[0x207] << 8) >= 0x020c);
	FUZZ_CHECK((kernel[0x236] & 1) && (kernel[0x211] & 1));
	setup = ((size_t)(kernel[0x1f1] ? kernel[0x1f1] : 4) + 1) * 512;
	FUZZ_CHECK(setup < klen);
	load = vm->vcpus[0].boot.rip - 0x200;
	FUZZ_CHECK(vm->vcpus[0].boot.rip >= 0x200 && load >= 0x100000);
	FUZZ_CHECK(vm->vcpus[0].boot.rsi == PV_LX_ZERO_PAGE);
	if (!kernel[0x234])
		FUZZ_CHECK(load == 0x100000);
	else /* at or above its preferred address (rounded up to kernel_alignment) */
		FUZZ_CHECK(load >= (rd32(kernel + 0x258) | (uint64_t)rd32(kernel + 0x25c) << 32));
	need = rd32(kernel + 0x260);
	if (need < klen - setup)
		need = klen - setup;
	FUZZ_CHECK(load < RAM && need <= RAM - load);
	FUZZ_CHECK(!memcmp(vm->ram + load, kernel + setup, klen - setup));

	zp = vm->ram + PV_LX_ZERO_PAGE;
	FUZZ_CHECK(rd32(zp + 0x228) == PV_LX_CMDLINE);
	FUZZ_CHECK(cmdline ? strlen(cmdline) <= rd32(kernel + 0x238) : true);
	FUZZ_CHECK(!strcmp((const char *)vm->ram + PV_LX_CMDLINE, cmdline ? cmdline : ""));
	rd_addr = rd32(zp + 0x218) | (uint64_t)rd32(zp + 0xc0) << 32;
	FUZZ_CHECK((rd32(zp + 0x21c) | (uint64_t)rd32(zp + 0xc4) << 32) == (flags & 1 ? rdlen : 0));
	if (flags & 1) {
		rd_top = rd32(kernel + 0x22c) + 1ull;
		if (rd_top > RAM)
			rd_top = RAM;
		FUZZ_CHECK(rd_addr % 4096 == 0 && rd_addr >= load + need && rd_addr + rdlen <= rd_top);
		FUZZ_CHECK(!memcmp(vm->ram + rd_addr, rd, rdlen));
	} else {
		FUZZ_CHECK(rd_addr == 0);
		rd_addr = RAM;
		rdlen = 0;
	}
	/* Above 1 MiB only the kernel image and the initramfs were written. */
	FUZZ_CHECK(poisoned(vm->ram, 0x100000, load));
	FUZZ_CHECK(poisoned(vm->ram, load + (klen - setup), rd_addr));
	FUZZ_CHECK(poisoned(vm->ram, rd_addr + rdlen, RAM));
	memset(vm->ram, POISON, RAM);
out:
	free(cmdline);
	return 0;
}
