/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linux boot: a bzImage through the 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst).  The kernel's protected-mode part goes
 * to its preferred address, the initramfs below initrd_addr_max at the top
 * of RAM; the zero page (struct boot_params) carries the setup header, the
 * e820 map, the command line and initramfs, and the RSDP address.  vCPU 0
 * enters at the 64-bit entry point in long mode on an identity map of the
 * first 4 GiB, with RSI = the zero page.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "pv/linux.h"

/* Offsets in the zero page (struct boot_params) and its setup header. */
#define BP_ACPI_RSDP      0x070
#define BP_EXT_RAMDISK    0x0c0
#define BP_EXT_RAMDISK_SZ 0x0c4
#define BP_EXT_CMDLINE    0x0c8
#define BP_E820_ENTRIES   0x1e8
#define BP_SETUP_SECTS    0x1f1
#define BP_BOOT_FLAG      0x1fe
#define BP_JUMP           0x200
#define BP_HEADER         0x202
#define BP_VERSION        0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS      0x211
#define BP_RAMDISK_IMAGE  0x218
#define BP_RAMDISK_SIZE   0x21c
#define BP_CMD_LINE_PTR   0x228
#define BP_INITRD_MAX     0x22c
#define BP_KERNEL_ALIGN   0x230
#define BP_RELOCATABLE    0x234
#define BP_XLOADFLAGS     0x236
#define BP_CMDLINE_SIZE   0x238
#define BP_PREF_ADDRESS   0x258
#define BP_INIT_SIZE      0x260
#define BP_E820_TABLE     0x2d0
#define BP_E820_MAX       128

#define HDRS_MAGIC        0x53726448u /* "HdrS" */
#define LOADED_HIGH       0x01
#define XLF_KERNEL_64     0x01
#define E820_RAM          1
#define E820_RESERVED     2
#define PROTO_MIN         0x020c      /* 2.12: xloadflags, the 64-bit entry */
#define PAGE              4096ull
#define MIB2              (2ull << 20)

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

#define FAIL(err, ...) (pv__set_error(vm, __VA_ARGS__), (err))

/* Read a whole regular file (at most max bytes) into a new buffer. */
static int read_file(struct pv_vm *vm, const char *what, const char *path, uint64_t max, uint8_t **buf,
		     size_t *len)
{
	struct stat st;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), r;

	if (fd < 0) {
		r = -errno;
		pv__set_error(vm, "%s %s: %s", what, path, strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		pv__set_error(vm, "%s %s: %s", what, path, strerror(errno));
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		pv__set_error(vm, "%s %s: not a regular file", what, path);
		close(fd);
		return r;
	}
	if ((uint64_t)st.st_size > max) {
		pv__set_error(vm, "%s %s: %llu MiB do not fit in %llu MiB of guest RAM", what, path,
			      (unsigned long long)st.st_size >> 20, (unsigned long long)vm->ram_size >> 20);
		close(fd);
		return -EFBIG;
	}
	*buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return 0;
}

static void e820_add(uint8_t *zp, uint64_t addr, uint64_t size, uint32_t type)
{
	uint8_t n = zp[BP_E820_ENTRIES];
	uint8_t *e = zp + BP_E820_TABLE + 20 * n;

	put64(e, addr);
	put64(e + 8, size);
	put32(e + 16, type);
	zp[BP_E820_ENTRIES] = (uint8_t)(n + 1);
}

/* GDT per the boot protocol (__BOOT_CS 0x10, __BOOT_DS 0x18) and an
 * identity map of the first 4 GiB with 2 MiB pages. */
static void build_entry_state(struct pv_vm *vm)
{
	uint8_t *ram = vm->ram;
	uint64_t pml4 = PV_LX_PT_ADDR, pdpt = pml4 + PAGE, pd = pdpt + PAGE;

	memset(ram + PV_LX_GDT_ADDR, 0, PV_LX_GDT_LIMIT + 1);
	put64(ram + PV_LX_GDT_ADDR + PV_LX_SEL_CODE, 0x00af9b000000ffffull);
	put64(ram + PV_LX_GDT_ADDR + PV_LX_SEL_DATA, 0x00cf93000000ffffull);
	put64(ram + PV_LX_GDT_ADDR + PV_LX_SEL_TSS, 0x00008b0000000067ull); /* a 64-bit TSS at 0 */
	memset(ram + pml4, 0, 6 * PAGE);
	put64(ram + pml4, pdpt | 0x03);
	for (uint64_t i = 0; i < 4; i++)
		put64(ram + pdpt + 8 * i, (pd + i * PAGE) | 0x03);
	for (uint64_t a = 0; a < (4ull << 30); a += MIB2)
		put64(ram + pd + (a / MIB2) * 8, a | 0x83);
}

int pv_vm_load_linux(struct pv_vm *vm, const char *kernel, const char *initrd, const char *cmdline)
{
	uint8_t *img = NULL, *rd = NULL, *zp;
	size_t len = 0, rdlen = 0, setup, cmdlen = cmdline ? strlen(cmdline) : 0, hdr_end;
	uint64_t load, need, rd_addr = 0, rd_top;
	uint32_t align, cmdmax;
	uint16_t version;
	int r;

	if (!vm || !kernel)
		return -EINVAL;
	if (vm->state != PV_VM_NEW || vm->loaded)
		return FAIL(-EBUSY, "the VM has already run or has a guest loaded");
	r = read_file(vm, "kernel", kernel, vm->ram_size, &img, &len);
	if (r < 0)
		return r;
	if (len < 0x300 || get16(img + BP_BOOT_FLAG) != 0xaa55 || get32(img + BP_HEADER) != HDRS_MAGIC) {
		r = FAIL(-ENOEXEC, "kernel %s: not a Linux bzImage (no setup header)", kernel);
		goto out;
	}
	version = get16(img + BP_VERSION);
	if (version < PROTO_MIN) {
		r = FAIL(-EPROTONOSUPPORT, "kernel %s: boot protocol %u.%02u, libpv needs 2.12 or later", kernel,
			 version >> 8, version & 0xffu);
		goto out;
	}
	setup = ((size_t)(img[BP_SETUP_SECTS] ? img[BP_SETUP_SECTS] : 4) + 1) * 512;
	hdr_end = BP_JUMP + 2 + img[BP_JUMP + 1]; /* the jump skips the header */
	if (setup >= len || hdr_end > setup || hdr_end > 0x1000) {
		r = FAIL(-ENOEXEC, "kernel %s: truncated (setup code of %zu bytes in a %zu-byte file)", kernel, setup,
			 len);
		goto out;
	}
	if (!(get16(img + BP_XLOADFLAGS) & XLF_KERNEL_64) || !(img[BP_LOADFLAGS] & LOADED_HIGH)) {
		r = FAIL(-ENOEXEC, "kernel %s: no 64-bit entry point (xloadflags)", kernel);
		goto out;
	}
	cmdmax = get32(img + BP_CMDLINE_SIZE);
	if (cmdlen > cmdmax || cmdlen >= PV_LX_CMDLINE_MAX) {
		r = FAIL(-E2BIG, "command line of %zu bytes: the kernel takes at most %llu", cmdlen,
			 cmdmax < PV_LX_CMDLINE_MAX ? (unsigned long long)cmdmax : PV_LX_CMDLINE_MAX - 1);
		goto out;
	}
	/* A relocatable kernel at its preferred address (aligned), else 1 MiB. */
	align = get32(img + BP_KERNEL_ALIGN);
	load = img[BP_RELOCATABLE] ? get32(img + BP_PREF_ADDRESS) | (uint64_t)get32(img + BP_PREF_ADDRESS + 4) << 32
				   : 0x100000;
	if (img[BP_RELOCATABLE] && align && (align & (align - 1)) == 0)
		load = load > UINT64_MAX - (align - 1) ? UINT64_MAX /* fits nowhere: refused below */
						       : (load + align - 1) & ~(uint64_t)(align - 1);
	if (load < 0x100000)
		load = 0x100000;
	need = get32(img + BP_INIT_SIZE);
	if (need < len - setup)
		need = len - setup;
	if (load > vm->ram_size || need > vm->ram_size - load) {
		r = FAIL(-EFBIG, "kernel %s: needs %llu MiB of RAM from 0x%llx, the VM has %llu MiB", kernel,
			 (unsigned long long)(need + (1 << 20) - 1) >> 20, (unsigned long long)load,
			 (unsigned long long)vm->ram_size >> 20);
		goto out;
	}
	if (initrd) {
		r = read_file(vm, "initramfs", initrd, vm->ram_size, &rd, &rdlen);
		if (r < 0)
			goto out;
		rd_top = get32(img + BP_INITRD_MAX) + 1ull;
		if (rd_top > vm->ram_size)
			rd_top = vm->ram_size;
		rd_addr = rdlen <= rd_top ? (rd_top - rdlen) & ~(PAGE - 1) : 0;
		if (rd_addr < load + need) {
			r = FAIL(-EFBIG, "initramfs %s: %zu MiB do not fit between the kernel and 0x%llx", initrd,
			     rdlen >> 20, (unsigned long long)rd_top);
			goto out;
		}
	}
	if (vm->platform != PV_PLATFORM_PC) {
		r = FAIL(-EOPNOTSUPP, "Linux boots only on a PV_PLATFORM_PC VM (this one: backend %s, libpv platform)",
			 vm->ops->name);
		goto out;
	}

	/* Everything checked: write guest memory. */
	memcpy(vm->ram + load, img + setup, len - setup);
	if (rd)
		memcpy(vm->ram + rd_addr, rd, rdlen);
	memset(vm->ram + PV_LX_CMDLINE, 0, cmdlen + 1);
	if (cmdlen)
		memcpy(vm->ram + PV_LX_CMDLINE, cmdline, cmdlen);
	zp = vm->ram + PV_LX_ZERO_PAGE;
	memset(zp, 0, PAGE);
	memcpy(zp + BP_SETUP_SECTS, img + BP_SETUP_SECTS, hdr_end - BP_SETUP_SECTS);
	zp[BP_TYPE_OF_LOADER] = 0xff;
	zp[BP_LOADFLAGS] &= (uint8_t)~0x60; /* not QUIET, not KEEP_SEGMENTS */
	put32(zp + BP_CMD_LINE_PTR, (uint32_t)PV_LX_CMDLINE);
	put32(zp + BP_RAMDISK_IMAGE, (uint32_t)rd_addr);
	put32(zp + BP_RAMDISK_SIZE, (uint32_t)rdlen);
	put32(zp + BP_EXT_RAMDISK, (uint32_t)(rd_addr >> 32));
	put32(zp + BP_EXT_RAMDISK_SZ, (uint32_t)((uint64_t)rdlen >> 32));
	put32(zp + BP_EXT_CMDLINE, 0);
	put64(zp + BP_ACPI_RSDP, pv__pc_acpi_build(vm));
	e820_add(zp, 0, PV_LX_LOW_RAM_END, E820_RAM);
	e820_add(zp, PV_LX_LOW_RAM_END, 0xa0000 - PV_LX_LOW_RAM_END, E820_RESERVED);
	e820_add(zp, PV_LX_ACPI_ADDR, 0x100000 - PV_LX_ACPI_ADDR, E820_RESERVED);
	e820_add(zp, 0x100000, vm->ram_size - 0x100000, E820_RAM);
	build_entry_state(vm);
	vm->vcpus[0].boot = (struct pv_boot_regs){ .rip = load + 0x200, .rsi = PV_LX_ZERO_PAGE };
	vm->loaded = true;
	r = 0;
out:
	free(img);
	free(rd);
	return r;
}
