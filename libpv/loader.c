/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ELF64 loader and the guest's boot environment (GDT, IDT, page tables, boot info). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define MAX_PHDRS 64
#define PAGE 4096ull
#define MIB2 (2ull << 20)
#define GIB (1ull << 30)

extern const uint8_t pv__stubs_start[], pv__stubs_end[];
_Static_assert(PV_HC_PORT == 0x0500, "stubs.S writes PV_HC_PORT as a number");

static int elf_error(struct pv_vm *vm, int err, const char *what)
{
	pv__set_error(vm, "%s", what);
	return err;
}

int pv_vm_load_elf_mem(struct pv_vm *vm, const void *image, size_t size)
{
	const uint8_t *img = image;
	Elf64_Ehdr eh;
	Elf64_Phdr ph[MAX_PHDRS];
	uint64_t end = 0;
	bool entry_ok = false;
	unsigned int nload = 0;
	char msg[200];

	if (!vm || (!image && size))
		return -EINVAL;
	if (vm->state != PV_VM_NEW)
		return elf_error(vm, -EBUSY, "the VM has already run");
	if (vm->platform == PV_PLATFORM_PC)
		return elf_error(vm, -EOPNOTSUPP, "a PC-platform VM boots Linux (pv_vm_load_linux), not a libpv ELF");
	if (size < sizeof(eh))
		return elf_error(vm, size < SELFMAG || memcmp(img, ELFMAG, SELFMAG) ? -ENOEXEC : -EBADMSG,
				 size < SELFMAG || memcmp(img, ELFMAG, SELFMAG) ? "not an ELF file"
										 : "truncated ELF header");
	memcpy(&eh, img, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG))
		return elf_error(vm, -ENOEXEC, "not an ELF file");
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64)
		return elf_error(vm, -ENOEXEC, "not an ELF64 little-endian x86-64 file");
	if (eh.e_type != ET_EXEC)
		return elf_error(vm, -ENOEXEC, "not a static executable (ELF type is not ET_EXEC)");
	if (eh.e_phnum == 0 || eh.e_phnum > MAX_PHDRS || eh.e_phentsize != sizeof(Elf64_Phdr))
		return elf_error(vm, -ENOEXEC, "bad program header table (count or entry size)");
	if (eh.e_phoff > size || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > size - eh.e_phoff)
		return elf_error(vm, -EBADMSG, "truncated: program headers past the end of the file");
	memcpy(ph, img + eh.e_phoff, eh.e_phnum * sizeof(Elf64_Phdr));

	/* Validate every segment before touching guest memory. */
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		const Elf64_Phdr *p = &ph[i];

		if (p->p_type == PT_INTERP || p->p_type == PT_DYNAMIC)
			return elf_error(vm, -ENOEXEC, "dynamically linked: only static executables run as guests");
		if (p->p_type != PT_LOAD)
			continue;
		if (p->p_filesz > p->p_memsz) { /* an empty segment too: its data would go nowhere */
			snprintf(msg, sizeof(msg), "segment %u: file size exceeds memory size", i);
			return elf_error(vm, -ENOEXEC, msg);
		}
		if (p->p_memsz == 0)
			continue;
		nload++;
		if (p->p_offset > size || p->p_filesz > size - p->p_offset) {
			snprintf(msg, sizeof(msg), "truncated: segment %u data past the end of the file", i);
			return elf_error(vm, -EBADMSG, msg);
		}
		if (p->p_paddr < PV_GUEST_LOAD_MIN || p->p_paddr > vm->ram_size || p->p_memsz > vm->ram_size - p->p_paddr) {
			snprintf(msg, sizeof(msg), "segment %u [0x%llx, +0x%llx) outside guest RAM [0x%llx, 0x%llx)", i,
				 (unsigned long long)p->p_paddr, (unsigned long long)p->p_memsz, PV_GUEST_LOAD_MIN,
				 (unsigned long long)vm->ram_size);
			return elf_error(vm, -ERANGE, msg);
		}
		for (unsigned int j = 0; j < i; j++) {
			const Elf64_Phdr *q = &ph[j];

			if (q->p_type == PT_LOAD && q->p_memsz && p->p_paddr < q->p_paddr + q->p_memsz &&
			    q->p_paddr < p->p_paddr + p->p_memsz) {
				snprintf(msg, sizeof(msg), "segments %u and %u overlap", j, i);
				return elf_error(vm, -EADDRINUSE, msg);
			}
		}
		if ((p->p_flags & PF_X) && eh.e_entry >= p->p_paddr && eh.e_entry - p->p_paddr < p->p_memsz)
			entry_ok = true; /* the entry runs under the identity map: a physical address */
		if (p->p_paddr + p->p_memsz > end)
			end = p->p_paddr + p->p_memsz;
	}
	if (nload == 0)
		return elf_error(vm, -ENOEXEC, "no loadable segment");
	if (!entry_ok)
		return elf_error(vm, -ENOEXEC, "entry point outside every executable segment");

	vm->nr_xsegs = 0;
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		const Elf64_Phdr *p = &ph[i];

		if (p->p_type != PT_LOAD || p->p_memsz == 0)
			continue;
		if ((p->p_flags & PF_X) && vm->nr_xsegs < sizeof(vm->xsegs) / sizeof(vm->xsegs[0]))
			vm->xsegs[vm->nr_xsegs++] = (struct pv_xseg){ p->p_paddr, p->p_vaddr, p->p_memsz };
		memcpy(vm->ram + p->p_paddr, img + p->p_offset, p->p_filesz);
		memset(vm->ram + p->p_paddr + p->p_filesz, 0, p->p_memsz - p->p_filesz);
	}
	return pv__boot_setup(vm, eh.e_entry, end);
}

int pv_vm_load_elf(struct pv_vm *vm, const char *path)
{
	struct stat st;
	void *buf;
	size_t got = 0;
	int fd, r;

	if (!vm || !path)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block us */
	if (fd < 0) {
		r = -errno;
		pv__set_error(vm, "%s: %s", path, strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		pv__set_error(vm, "%s: %s", path, strerror(errno));
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		close(fd);
		pv__set_error(vm, "%s: not a regular file", path);
		return r;
	}
	if ((uint64_t)st.st_size > vm->ram_size + (64u << 20)) {
		close(fd);
		pv__set_error(vm, "%s: file larger than guest RAM", path);
		return -ERANGE;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, (char *)buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	r = pv_vm_load_elf_mem(vm, buf, got);
	free(buf);
	return r;
}

/* ---- boot environment ---- */

static void put64(uint8_t *ram, uint64_t gpa, uint64_t v)
{
	memcpy(ram + gpa, &v, 8);
}

static void build_gdt(uint8_t *ram)
{
	uint64_t tss = PV_TSS_ADDR, lim = 103;

	put64(ram, PV_GDT_ADDR + 0, 0);
	put64(ram, PV_GDT_ADDR + PV_SEL_CODE, 0x00af9b000000ffffull); /* 64-bit code, accessed */
	put64(ram, PV_GDT_ADDR + PV_SEL_DATA, 0x00cf93000000ffffull); /* data, accessed */
	/* 64-bit TSS, busy (TR is loaded at entry). */
	put64(ram, PV_GDT_ADDR + PV_SEL_TSS,
	      lim | (tss & 0xffffff) << 16 | 0x8bull << 40 | ((tss >> 24) & 0xff) << 56);
	put64(ram, PV_GDT_ADDR + PV_SEL_TSS + 8, tss >> 32);
	memset(ram + PV_TSS_ADDR, 0, 104);
	put64(ram, PV_TSS_ADDR + 36, PV_IST_TOP); /* IST1 */
	ram[PV_TSS_ADDR + 102] = 104;             /* I/O map base: none */
}

static void build_idt(uint8_t *ram)
{
	size_t n = (size_t)(pv__stubs_end - pv__stubs_start);

	memcpy(ram + PV_STUBS_ADDR, pv__stubs_start, n);
	for (unsigned int v = 0; v < 256; v++) {
		uint64_t h = PV_STUBS_ADDR + 16 * (v < 32 ? v : 32);
		uint64_t lo = (h & 0xffff) | (uint64_t)PV_SEL_CODE << 16 | 1ull << 32 /* IST1 */ |
			      0x8eull << 40 /* present, DPL0, interrupt gate */ | ((h >> 16) & 0xffff) << 48;

		put64(ram, PV_IDT_ADDR + 16 * v, lo);
		put64(ram, PV_IDT_ADDR + 16 * v + 8, h >> 32);
	}
}

/* Identity map [0, vm->map_end) with 2 MiB pages; the first 4 KiB absent.
 * Called at run time, when every MMIO region is known. */
int pv__build_page_tables(struct pv_vm *vm)
{
	uint8_t *ram = vm->ram;
	uint64_t pml4 = PV_PT_ADDR, pdpt = pml4 + PAGE, pt = pdpt + PAGE, pd = pt + PAGE;
	uint64_t map_end = (vm->map_end + MIB2 - 1) & ~(MIB2 - 1);
	uint64_t npd = (map_end + GIB - 1) / GIB;

	if (pd + npd * PAGE > PV_PT_END) {
		pv__set_error(vm, "page tables for 0x%llx bytes do not fit", (unsigned long long)map_end);
		return -E2BIG;
	}
	memset(ram + pml4, 0, (size_t)(PV_PT_END - pml4));
	put64(ram, pml4, pdpt | 0x23);
	for (uint64_t i = 0; i < npd; i++)
		put64(ram, pdpt + 8 * i, (pd + i * PAGE) | 0x23);
	for (uint64_t a = 0; a < map_end; a += MIB2)
		put64(ram, pd + (a / MIB2) * 8, a | 0xe3); /* present, writable, 2 MiB */
	put64(ram, pd, pt | 0x23);
	for (uint64_t j = 1; j < 512; j++)
		put64(ram, pt + 8 * j, j * PAGE | 0x63);
	return 0;
}

int pv__boot_setup(struct pv_vm *vm, uint64_t entry, uint64_t image_end)
{
	struct pv_boot_info bi = { 0 };
	uint64_t cmd = PV_BOOT_INFO_ADDR + 64;

	build_gdt(vm->ram);
	build_idt(vm->ram);
	bi.magic = PV_BOOT_MAGIC;
	bi.abi_version = PV_ABI_VERSION;
	bi.size = sizeof(bi);
	bi.nr_vcpus = vm->nr_vcpus;
	bi.features = PV_FEATURES0;
	bi.ram_size = vm->ram_size;
	bi.cmdline = cmd;
	bi.cmdline_len = (unsigned int)strlen(vm->cmdline);
	bi.heap_start = (image_end + PAGE - 1) & ~(PAGE - 1);
	bi.domid = vm->domid;
	bi.tsc_khz = vm->ops->tsc_khz ? vm->ops->tsc_khz(vm) : 0;
	memcpy(vm->ram + PV_BOOT_INFO_ADDR, &bi, sizeof(bi));
	memcpy(vm->ram + cmd, vm->cmdline, bi.cmdline_len + 1);
	vm->vcpus[0].boot = (struct pv_boot_regs){ .rip = entry, .rsp = PV_BOOT_STACK_TOP, .rdi = PV_BOOT_INFO_ADDR };
	vm->loaded = true;
	return 0;
}
