/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pv_vm_load_linux: what it refuses, each with its own error and message,
 * and what it writes for a kernel it takes (the zero page, the e820 map, the
 * command line, the initramfs, the ACPI tables).  The images are synthetic
 * bzImages with just a setup header, so this runs anywhere: on emu the VM is
 * a libpv-platform VM (emu cannot be a PC, and a good kernel is refused with
 * -EOPNOTSUPP), on KVM a PC-platform VM that is never run.  Booting a real
 * kernel is the realkvm suite's job (tests/realkvm/linux.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pv/linux.h>

#include "common.h"

struct img {
	uint16_t version;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t init_size;
	size_t payload;
	uint64_t pref_address;    /* 0: 16 MiB */
	bool no_magic;
};

static const struct img good = { .version = 0x020f, .xloadflags = 3, .cmdline_size = 2047,
				 .init_size = 4u << 20, .payload = 64 * 1024 };

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* Write a bzImage with setup header i to a new temporary file. */
static char *write_image(const struct img *i)
{
	static char path[64];
	size_t setup = 5 * 512, len = setup + i->payload;
	uint8_t *b = calloc(1, len);
	int fd;

	cr_assert_not_null(b);
	b[0x1f1] = 4;                     /* setup_sects */
	put16(b + 0x1fe, 0xaa55);
	b[0x200] = 0xeb;                  /* jmp over the header */
	b[0x201] = 0x66;
	if (!i->no_magic)
		memcpy(b + 0x202, "HdrS", 4);
	put16(b + 0x206, i->version);
	b[0x211] = 0x01;                  /* LOADED_HIGH */
	put32(b + 0x22c, 0x7fffffff);     /* initrd_addr_max */
	put32(b + 0x230, 2u << 20);       /* kernel_alignment */
	b[0x234] = 1;                     /* relocatable */
	put16(b + 0x236, i->xloadflags);
	put32(b + 0x238, i->cmdline_size);
	memcpy(b + 0x258, &(uint64_t){ i->pref_address ? i->pref_address : 16u << 20 }, 8); /* pref_address */
	put32(b + 0x260, i->init_size);
	for (size_t k = setup; k < len; k++)
		b[k] = (uint8_t)(k * 7);
	snprintf(path, sizeof(path), "/tmp/test_linux.XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, b, len), (ssize_t)len);
	close(fd);
	free(b);
	return strdup(path);
}

static char *write_bytes(const void *p, size_t n, off_t size)
{
	char path[64] = "/tmp/test_linux.XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	if (n)
		cr_assert_eq(write(fd, p, n), (ssize_t)n);
	if (size)
		cr_assert_eq(ftruncate(fd, size), 0);
	close(fd);
	return strdup(path);
}

/* A VM to load into: a PC on KVM, a libpv VM on emu. */
static struct pv_vm *new_vm(enum pv_backend b, uint64_t ram)
{
	struct pv_vm_config c = { .ram_size = ram, .backend = b,
				  .platform = b == PV_BACKEND_KVM ? PV_PLATFORM_PC : PV_PLATFORM_LIBPV };
	struct pv_vm *vm;

	cr_assert_eq(pv_vm_create(&c, &vm), 0, "%s", pv_last_error());
	return vm;
}

/* Load (kernel image i, initrd, cmdline) and expect err with msg in the error. */
static void expect(enum pv_backend b, const struct img *i, const char *initrd, const char *cmdline, int err,
		   const char *msg)
{
	struct pv_vm *vm = new_vm(b, 64u << 20);
	char *k = write_image(i);
	int r = pv_vm_load_linux(vm, k, initrd, cmdline);

	cr_expect_eq(r, err, "got %d (%s), want %d", r, pv_vm_error(vm), err);
	cr_expect(strstr(pv_vm_error(vm), msg), "error '%s' lacks '%s'", pv_vm_error(vm), msg);
	cr_expect(!strchr(pv_vm_error(vm), '\n'), "one line");
	pv_vm_destroy(vm);
	unlink(k);
	free(k);
}

BACKEND_TEST(linux_boot, refuses_what_is_not_a_kernel)
{
	struct img i = good;
	static const char elf[] = "\x7f" "ELF not a bzImage at all";
	struct pv_vm *vm = new_vm(b, 64u << 20);
	char *f = write_bytes(elf, sizeof(elf), 8192);

	cr_expect_eq(pv_vm_load_linux(vm, f, NULL, NULL), -ENOEXEC);
	cr_expect(strstr(pv_vm_error(vm), "not a Linux bzImage"), "%s", pv_vm_error(vm));
	cr_expect_eq(pv_vm_load_linux(vm, "/nonexistent/bzImage", NULL, NULL), -ENOENT);
	cr_expect_eq(pv_vm_load_linux(vm, "/tmp", NULL, NULL), -EISDIR);
	cr_expect_eq(pv_vm_load_linux(vm, NULL, NULL, NULL), -EINVAL);
	cr_expect_eq(pv_vm_load_linux(NULL, f, NULL, NULL), -EINVAL);
	pv_vm_destroy(vm);
	unlink(f);
	free(f);
	i.no_magic = true;
	expect(b, &i, NULL, NULL, -ENOEXEC, "no setup header");
	i = good;
	i.xloadflags = 0;
	expect(b, &i, NULL, NULL, -ENOEXEC, "no 64-bit entry point");
}

BACKEND_TEST(linux_boot, refuses_an_old_boot_protocol)
{
	struct img i = good;

	i.version = 0x0209;
	expect(b, &i, NULL, NULL, -EPROTONOSUPPORT, "boot protocol 2.09");
}

BACKEND_TEST(linux_boot, refuses_a_kernel_larger_than_ram)
{
	struct img i = good;

	i.init_size = 96u << 20; /* from 16 MiB in a 64 MiB VM */
	expect(b, &i, NULL, NULL, -EFBIG, "needs 96 MiB of RAM");
}

BACKEND_TEST(linux_boot, refuses_a_preferred_address_that_wraps_when_aligned)
{
	struct img i = good;

	/* Rounded up to the 2 MiB kernel_alignment it would wrap to 0 (and
	 * then be "clamped" to 1 MiB); found by tests/fuzz/fuzz_linux. */
	i.pref_address = 0xffffffffffe00001ull;
	expect(b, &i, NULL, NULL, -EFBIG, "needs 4 MiB of RAM from 0xffffffffffffffff");
}

BACKEND_TEST(linux_boot, refuses_an_initramfs_larger_than_ram)
{
	char *rd = write_bytes(NULL, 0, 48 << 20); /* 16 + 4 MiB of kernel and 48 MiB: over 64 */

	expect(b, &good, rd, NULL, -EFBIG, "initramfs");
	unlink(rd);
	free(rd);
	expect(b, &good, "/nonexistent/initrd", NULL, -ENOENT, "/nonexistent/initrd");
}

BACKEND_TEST(linux_boot, refuses_a_command_line_too_long)
{
	struct img i = good;
	char line[300];

	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = 0;
	i.cmdline_size = 255;
	expect(b, &i, NULL, line, -E2BIG, "command line of 299 bytes");
	line[255] = 0;
	expect(b, &i, NULL, line, b == PV_BACKEND_EMU ? -EOPNOTSUPP : 0, ""); /* 255 fits */
}

/* A good kernel on emu: refused because emu is no PC. */
Test(linux_boot, emu_refuses_linux_and_the_pc_platform)
{
	struct pv_vm_config c = { .ram_size = 64u << 20, .backend = PV_BACKEND_EMU, .platform = PV_PLATFORM_PC };
	struct pv_vm *vm = (struct pv_vm *)1;

	REQUIRE_BACKEND(PV_BACKEND_EMU);
	cr_expect_eq(pv_vm_create(&c, &vm), -EOPNOTSUPP);
	cr_expect_null(vm);
	cr_expect(strstr(pv_last_error(), "cannot run the PC platform"), "%s", pv_last_error());
	expect(PV_BACKEND_EMU, &good, NULL, NULL, -EOPNOTSUPP, "PV_PLATFORM_PC");
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* KVM only: the PC platform exists there (the loader's output is the same
 * on every KVM; booting it needs a faithful one, see tests/realkvm). */
Test(linux_boot, loads_kernel_initramfs_cmdline_and_acpi)
{
	static const char cmdline[] = "console=ttyS0 panic=-1 marker=42";
	uint8_t rdbuf[5000], *ram, *zp, sum = 0;
	struct pv_vm *vm;
	char *k, *rd;
	uint64_t size, rsdp, rd_addr, end = 0;

	REQUIRE_BACKEND(PV_BACKEND_KVM);
	vm = new_vm(PV_BACKEND_KVM, 128u << 20);
	for (size_t j = 0; j < sizeof(rdbuf); j++)
		rdbuf[j] = (uint8_t)(j ^ 0x5a);
	k = write_image(&good);
	rd = write_bytes(rdbuf, sizeof(rdbuf), 0);
	cr_assert_eq(pv_vm_load_linux(vm, k, rd, cmdline), 0, "%s", pv_vm_error(vm));
	ram = pv_vm_ram(vm, &size);
	zp = ram + 0x7000;
	cr_expect_eq(zp[0x210], 0xff, "type_of_loader");
	cr_expect_eq(memcmp(zp + 0x202, "HdrS", 4), 0);
	cr_expect_str_eq((char *)ram + get32(zp + 0x228), cmdline);
	/* the protected-mode kernel at its preferred address */
	for (size_t j = 0; j < good.payload; j += 997)
		cr_expect_eq(ram[(16u << 20) + j], (uint8_t)((5 * 512 + j) * 7), "kernel byte %zu", j);
	/* the initramfs page-aligned at the top of RAM */
	rd_addr = get32(zp + 0x218);
	cr_expect_eq(get32(zp + 0x21c), sizeof(rdbuf));
	cr_expect_eq(rd_addr % 4096, 0);
	cr_expect_leq(rd_addr + sizeof(rdbuf), size);
	cr_expect_gt(rd_addr + sizeof(rdbuf), size - 4096);
	cr_expect_eq(memcmp(ram + rd_addr, rdbuf, sizeof(rdbuf)), 0);
	/* e820: RAM from 0 and from 1 MiB up to the end, nothing overlapping */
	cr_assert_geq(zp[0x1e8], 2);
	for (unsigned int j = 0; j < zp[0x1e8]; j++) {
		uint64_t a, l;
		uint32_t t;

		memcpy(&a, zp + 0x2d0 + 20 * j, 8);
		memcpy(&l, zp + 0x2d0 + 20 * j + 8, 8);
		t = get32(zp + 0x2d0 + 20 * j + 16);
		cr_expect_geq(a, end, "entry %u overlaps", j);
		end = a + l;
		if (t == 1 && a == 0x100000)
			cr_expect_eq(end, size);
	}
	cr_expect_eq(end, size);
	/* the RSDP the zero page names, with both checksums */
	memcpy(&rsdp, zp + 0x70, 8);
	cr_assert_eq(memcmp(ram + rsdp, "RSD PTR ", 8), 0);
	for (unsigned int j = 0; j < 36; j++)
		sum = (uint8_t)(sum + ram[rsdp + j]);
	cr_expect_eq(sum, 0, "RSDP extended checksum");
	/* loaded once; the libpv ELF loader is not for PC VMs */
	cr_expect_eq(pv_vm_load_linux(vm, k, NULL, NULL), -EBUSY);
	cr_expect_eq(pv_vm_load_elf(vm, k), -EOPNOTSUPP);
	pv_vm_destroy(vm);
	unlink(k);
	unlink(rd);
	free(k);
	free(rd);
}

Test(linux_boot, pc_ram_stays_below_the_ioapic)
{
	struct pv_vm_config c = { .ram_size = PV_PC_RAM_MAX + (2u << 20), .backend = PV_BACKEND_KVM,
				  .platform = PV_PLATFORM_PC };
	struct pv_vm *vm;

	REQUIRE_BACKEND(PV_BACKEND_KVM);
	cr_expect_eq(pv_vm_create(&c, &vm), -EINVAL);
	cr_expect(strstr(pv_last_error(), "PC platform"), "%s", pv_last_error());
}
