/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ELF loader through the public API (emu backend): hand-built ELF64
 * images, each refusal with its documented errno and a message, nothing
 * touched by a refused image, and pv_gpa_ptr's bounds.
 */
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pv/emu.h>

#include "common.h"

#define RAM       (8ull << 20)
#define CODE_VA   0x200000ull /* where the valid image's code segment goes */
#define DATA_VA   0x300000ull
#define PH_OFF    sizeof(Elf64_Ehdr)
#define DATA_OFF  0x400u      /* first payload byte in the file */
#define IMG_MAX   0x2000u
#define SENTINEL  0xa5u

/* mov $3,%eax; mov $0x500,%dx; mov $STATUS,%edi; out %eax,%dx; 1: hlt; jmp 1b
 * = PV_HC_EXIT(STATUS).  Byte 11 is the status. */
static const uint8_t exit_code[] = {
	0xb8, 0x03, 0x00, 0x00, 0x00, /* mov $PV_HC_EXIT,%eax */
	0x66, 0xba, 0x00, 0x05,       /* mov $PV_HC_PORT,%dx */
	0xbf, 0x00, 0x00, 0x00, 0x00, /* mov $status,%edi */
	0xef,                         /* out %eax,%dx */
	0xf4, 0xeb, 0xfd,             /* 1: hlt; jmp 1b */
};
#define EXIT_STATUS_BYTE 10

/* ---- image builder: ehdr at 0, phdrs after it, payloads from DATA_OFF ---- */

struct img {
	uint8_t buf[IMG_MAX];
	size_t size;   /* bytes handed to the loader */
	size_t data;   /* next free payload offset */
};

static Elf64_Ehdr *ehdr(struct img *im)
{
	return (Elf64_Ehdr *)im->buf;
}

static Elf64_Phdr *phdr(struct img *im, unsigned int i)
{
	return (Elf64_Phdr *)(im->buf + PH_OFF) + i;
}

static void img_init(struct img *im)
{
	Elf64_Ehdr *eh = ehdr(im);

	memset(im, 0, sizeof(*im));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_ident[EI_OSABI] = ELFOSABI_SYSV;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = CODE_VA;
	eh->e_phoff = PH_OFF;
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 0;
	im->data = DATA_OFF;
	im->size = DATA_OFF;
}

/* Append a program header whose file bytes are data[0..len). */
static Elf64_Phdr *img_add(struct img *im, uint32_t type, uint32_t flags, uint64_t vaddr, uint64_t memsz,
			   const void *data, size_t len)
{
	Elf64_Ehdr *eh = ehdr(im);
	Elf64_Phdr *p = phdr(im, eh->e_phnum++);

	cr_assert(PH_OFF + eh->e_phnum * sizeof(Elf64_Phdr) <= DATA_OFF, "too many phdrs for the builder");
	cr_assert(im->data + len <= IMG_MAX, "image too large for the builder");
	*p = (Elf64_Phdr){
		.p_type = type, .p_flags = flags, .p_offset = im->data, .p_vaddr = vaddr, .p_paddr = vaddr,
		.p_filesz = len, .p_memsz = memsz, .p_align = 0x1000,
	};
	if (len)
		memcpy(im->buf + im->data, data, len);
	im->data = (im->data + len + 15) & ~(size_t)15;
	if (im->data > im->size)
		im->size = im->data;
	return p;
}

/* A runnable image: one R+X segment at va with PV_HC_EXIT(status). */
static Elf64_Phdr *img_code(struct img *im, uint64_t va, uint8_t status)
{
	uint8_t code[sizeof(exit_code)];

	memcpy(code, exit_code, sizeof(code));
	code[EXIT_STATUS_BYTE] = status;
	ehdr(im)->e_entry = va;
	return img_add(im, PT_LOAD, PF_R | PF_X, va, 0x1000, code, sizeof(code));
}

static void img_valid(struct img *im, uint8_t status)
{
	img_init(im);
	img_code(im, CODE_VA, status);
}

/* ---- VM helpers ---- */

static struct pv_vm *new_vm(void)
{
	struct pv_vm_config cfg = { .ram_size = RAM, .vcpus = 1, .backend = PV_BACKEND_EMU };
	struct pv_vm *vm = NULL;
	int r;

	REQUIRE_BACKEND(PV_BACKEND_EMU);
	pv_emu_register();
	r = pv_vm_create(&cfg, &vm);
	cr_assert_eq(r, 0, "pv_vm_create: %d (%s)", r, pv_last_error());
	cr_assert_not_null(vm);
	return vm;
}

static void expect_err(struct pv_vm *vm, int r, int want, const char *what)
{
	const char *e = pv_vm_error(vm);

	cr_assert_eq(r, want, "%s: got %d (%s), want %d (%s); error '%s'", what, r, r < 0 ? strerror(-r) : "ok", want,
		     strerror(-want), e);
	cr_assert(e && *e, "%s: pv_vm_error is empty after %d", what, r);
	cr_assert_null(strchr(e, '\n'), "%s: pv_vm_error is not one line: '%s'", what, e);
}

/* Load im (expecting `want`) into a fresh VM and destroy it. */
static void expect_load(struct img *im, int want, const char *what)
{
	struct pv_vm *vm = new_vm();

	expect_err(vm, pv_vm_load_elf_mem(vm, im->buf, im->size), want, what);
	pv_vm_destroy(vm);
}

static void run_expect(struct pv_vm *vm, int want_status, const char *what)
{
	int status = -1, r = pv_vm_run(vm, &status);

	cr_assert_eq(r, 0, "%s: pv_vm_run: %d (%s)", what, r, pv_vm_error(vm));
	cr_assert_eq(status, want_status, "%s: exit status %d, want %d", what, status, want_status);
}

/* ---- valid images ---- */

Test(loader, valid_image_runs_with_status)
{
	struct pv_vm *vm = new_vm();
	struct img im;

	img_valid(&im, 42);
	cr_assert_eq(pv_vm_load_elf_mem(vm, im.buf, im.size), 0, "%s", pv_vm_error(vm));
	run_expect(vm, 42, "status 42");
	pv_vm_destroy(vm);
}

Test(loader, valid_image_status_zero)
{
	struct pv_vm *vm = new_vm();
	struct img im;

	img_valid(&im, 0);
	cr_assert_eq(pv_vm_load_elf_mem(vm, im.buf, im.size), 0, "%s", pv_vm_error(vm));
	run_expect(vm, 0, "status 0");
	pv_vm_destroy(vm);
}

Test(loader, valid_image_from_file)
{
	char path[] = "/tmp/pvloaderXXXXXX";
	struct pv_vm *vm = new_vm();
	struct img im;
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	img_valid(&im, 7);
	cr_assert_eq(write(fd, im.buf, im.size), (ssize_t)im.size);
	close(fd);
	cr_assert_eq(pv_vm_load_elf(vm, path), 0, "%s", pv_vm_error(vm));
	unlink(path);
	run_expect(vm, 7, "from file");
	pv_vm_destroy(vm);
}

/* Data copied exactly, memsz beyond filesz zeroed; boundaries accepted:
 * a segment at PV_GUEST_LOAD_MIN, one ending exactly at the end of RAM, two
 * adjacent segments. */
Test(loader, segments_copied_and_zero_filled_at_boundaries)
{
	static const uint8_t data[5] = { 1, 2, 3, 4, 5 };
	struct pv_vm *vm = new_vm();
	struct img im;
	uint8_t *p;

	img_init(&im);
	img_code(&im, CODE_VA, 9);
	img_add(&im, PT_LOAD, PF_R | PF_W, CODE_VA + 0x1000, 0x1000, data, sizeof(data)); /* adjacent */
	img_add(&im, PT_LOAD, PF_R, PV_GUEST_LOAD_MIN, 0x10, data, 2);
	img_add(&im, PT_LOAD, PF_R | PF_W, RAM - 0x1000, 0x1000, data, 3);                /* ends at RAM end */
	img_add(&im, PT_NOTE, 0, 0, 0, data, 4);        /* ignored */
	img_add(&im, PT_GNU_STACK, PF_R | PF_W, 0, 0, NULL, 0);
	/* dirty the RAM that must be zero-filled */
	memset(pv_gpa_ptr(vm, CODE_VA + 0x1000, 0x1000), 0xee, 0x1000);
	memset(pv_gpa_ptr(vm, RAM - 0x1000, 0x1000), 0xee, 0x1000);
	memset(pv_gpa_ptr(vm, PV_GUEST_LOAD_MIN, 0x20), 0xee, 0x20);
	cr_assert_eq(pv_vm_load_elf_mem(vm, im.buf, im.size), 0, "%s", pv_vm_error(vm));

	p = pv_gpa_ptr(vm, CODE_VA + 0x1000, 0x1000);
	cr_assert_arr_eq(p, data, sizeof(data));
	for (unsigned int i = sizeof(data); i < 0x1000; i++)
		cr_assert_eq(p[i], 0, "bss byte 0x%x = 0x%x", i, p[i]);
	p = pv_gpa_ptr(vm, RAM - 0x1000, 0x1000);
	cr_assert_arr_eq(p, data, 3);
	for (unsigned int i = 3; i < 0x1000; i++)
		cr_assert_eq(p[i], 0, "last-page byte 0x%x = 0x%x", i, p[i]);
	p = pv_gpa_ptr(vm, PV_GUEST_LOAD_MIN, 0x20);
	cr_assert_eq(p[0], 1);
	cr_assert_eq(p[1], 2);
	for (unsigned int i = 2; i < 0x10; i++)
		cr_assert_eq(p[i], 0);
	cr_assert_eq(p[0x10], 0xee, "loader wrote past memsz");
	p = pv_gpa_ptr(vm, CODE_VA, sizeof(exit_code));
	cr_assert_eq(memcmp(p, exit_code, EXIT_STATUS_BYTE), 0);
	run_expect(vm, 9, "boundaries");
	pv_vm_destroy(vm);
}

/* Segments go to their physical address; p_vaddr (here high and, for the
 * code, different again) is the guest's business, and the entry point is
 * physical.  A segment whose p_paddr leaves RAM is refused even with a
 * p_vaddr inside it. */
Test(loader, segments_placed_by_paddr)
{
	static const uint8_t data[4] = { 7, 8, 9, 10 };
	struct pv_vm *vm = new_vm();
	struct img im;
	uint8_t *p;

	img_init(&im);
	img_code(&im, CODE_VA, 11)->p_vaddr = 0xffffffff80000000ull + CODE_VA;
	img_add(&im, PT_LOAD, PF_R | PF_W, DATA_VA, 0x1000, data, sizeof(data))->p_vaddr = 0xffffffff90000000ull;
	memset(pv_gpa_ptr(vm, DATA_VA, 0x1000), 0xee, 0x1000);
	cr_assert_eq(pv_vm_load_elf_mem(vm, im.buf, im.size), 0, "%s", pv_vm_error(vm));
	p = pv_gpa_ptr(vm, DATA_VA, 0x1000);
	cr_assert_arr_eq(p, data, sizeof(data));
	cr_assert_eq(p[sizeof(data)], 0, "not zero-filled at p_paddr");
	p = pv_gpa_ptr(vm, CODE_VA, sizeof(exit_code));
	cr_assert_eq(memcmp(p, exit_code, EXIT_STATUS_BYTE), 0);
	run_expect(vm, 11, "paddr");
	pv_vm_destroy(vm);

	img_valid(&im, 1);
	img_add(&im, PT_LOAD, PF_R, DATA_VA, 0x10, data, 2)->p_paddr = RAM + 0x1000;
	expect_load(&im, -ERANGE, "p_paddr past RAM, p_vaddr inside");
}

/* ---- refusals: -ENOEXEC ---- */

Test(loader, not_elf)
{
	static const char text[] = "#!/bin/sh\necho this is not an ELF file\n";
	struct pv_vm *vm = new_vm();

	expect_err(vm, pv_vm_load_elf_mem(vm, text, sizeof(text)), -ENOEXEC, "text");
	pv_vm_destroy(vm);

	vm = new_vm();
	expect_err(vm, pv_vm_load_elf_mem(vm, "\x7f" "EL", 3), -ENOEXEC, "3 bytes");
	pv_vm_destroy(vm);

	vm = new_vm();
	expect_err(vm, pv_vm_load_elf_mem(vm, "", 0), -ENOEXEC, "empty");
	pv_vm_destroy(vm);

	/* A full-size header with a bad magic. */
	struct img im;
	img_valid(&im, 0);
	im.buf[EI_MAG3] = 'G';
	expect_load(&im, -ENOEXEC, "bad magic");
}

Test(loader, elf32_class)
{
	struct img im;

	img_valid(&im, 0);
	ehdr(&im)->e_ident[EI_CLASS] = ELFCLASS32;
	expect_load(&im, -ENOEXEC, "ELFCLASS32");
}

Test(loader, big_endian)
{
	struct img im;

	img_valid(&im, 0);
	ehdr(&im)->e_ident[EI_DATA] = ELFDATA2MSB;
	expect_load(&im, -ENOEXEC, "ELFDATA2MSB");
}

Test(loader, wrong_machine)
{
	struct img im;

	img_valid(&im, 0);
	ehdr(&im)->e_machine = EM_AARCH64;
	expect_load(&im, -ENOEXEC, "EM_AARCH64");
	img_valid(&im, 0);
	ehdr(&im)->e_machine = EM_386;
	expect_load(&im, -ENOEXEC, "EM_386");
}

Test(loader, et_dyn)
{
	struct img im;

	img_valid(&im, 0);
	ehdr(&im)->e_type = ET_DYN;
	expect_load(&im, -ENOEXEC, "ET_DYN");
	img_valid(&im, 0);
	ehdr(&im)->e_type = ET_REL;
	expect_load(&im, -ENOEXEC, "ET_REL");
}

Test(loader, pt_interp)
{
	static const char interp[] = "/lib64/ld-linux-x86-64.so.2";
	struct img im;

	img_valid(&im, 0);
	img_add(&im, PT_INTERP, PF_R, 0x280000, sizeof(interp), interp, sizeof(interp));
	expect_load(&im, -ENOEXEC, "PT_INTERP after PT_LOAD");

	/* PT_INTERP first, as ld puts it. */
	img_init(&im);
	img_add(&im, PT_INTERP, PF_R, 0, 0, interp, sizeof(interp));
	img_code(&im, CODE_VA, 0);
	expect_load(&im, -ENOEXEC, "PT_INTERP first");
}

Test(loader, filesz_exceeds_memsz)
{
	struct img im;

	img_valid(&im, 0);
	phdr(&im, 0)->p_memsz = phdr(&im, 0)->p_filesz - 1;
	expect_load(&im, -ENOEXEC, "filesz > memsz");
	/* a second segment with file data and memory size 0 is no excuse */
	img_valid(&im, 0);
	img_add(&im, PT_LOAD, PF_R, DATA_VA, 0, exit_code, sizeof(exit_code));
	expect_load(&im, -ENOEXEC, "filesz > memsz == 0");
}

Test(loader, entry_outside_executable_segments)
{
	struct img im;

	/* past the end of the only executable segment */
	img_valid(&im, 0);
	ehdr(&im)->e_entry = CODE_VA + 0x1000;
	expect_load(&im, -ENOEXEC, "entry at end of segment");
	/* just below it */
	img_valid(&im, 0);
	ehdr(&im)->e_entry = CODE_VA - 1;
	expect_load(&im, -ENOEXEC, "entry below segment");
	/* entry 0 */
	img_valid(&im, 0);
	ehdr(&im)->e_entry = 0;
	expect_load(&im, -ENOEXEC, "entry 0");
	/* inside a segment that is not executable */
	img_valid(&im, 0);
	img_add(&im, PT_LOAD, PF_R | PF_W, DATA_VA, 0x1000, exit_code, sizeof(exit_code));
	ehdr(&im)->e_entry = DATA_VA;
	expect_load(&im, -ENOEXEC, "entry in RW segment");
}

Test(loader, no_pt_load)
{
	static const char note[16] = "note";
	struct img im;

	img_init(&im);
	img_add(&im, PT_NOTE, PF_R, 0, 0, note, sizeof(note));
	expect_load(&im, -ENOEXEC, "only PT_NOTE");

	/* a PT_LOAD of memsz 0 loads nothing */
	img_init(&im);
	img_add(&im, PT_LOAD, PF_R | PF_X, CODE_VA, 0, NULL, 0);
	expect_load(&im, -ENOEXEC, "empty PT_LOAD");

	/* no program headers at all */
	img_init(&im);
	expect_load(&im, -ENOEXEC, "e_phnum 0");
}

/* ---- refusals: -EBADMSG ---- */

Test(loader, truncated_header)
{
	struct img im;

	img_valid(&im, 0);
	im.size = sizeof(Elf64_Ehdr) - 1;
	expect_load(&im, -EBADMSG, "ehdr - 1 byte");
	im.size = 16;
	expect_load(&im, -EBADMSG, "e_ident only");
	im.size = SELFMAG;
	expect_load(&im, -EBADMSG, "magic only");
}

Test(loader, truncated_phdr_table)
{
	struct img im;

	img_valid(&im, 0);
	img_add(&im, PT_LOAD, PF_R, DATA_VA, 0x1000, NULL, 0);
	im.size = PH_OFF + 2 * sizeof(Elf64_Phdr) - 1;
	expect_load(&im, -EBADMSG, "second phdr cut");

	img_valid(&im, 0);
	ehdr(&im)->e_phoff = im.size; /* table starts at EOF */
	expect_load(&im, -EBADMSG, "e_phoff at EOF");

	img_valid(&im, 0);
	ehdr(&im)->e_phoff = UINT64_MAX - 8; /* offset + size would wrap */
	expect_load(&im, -EBADMSG, "e_phoff wraps");
}

Test(loader, segment_data_past_eof)
{
	struct img im;

	img_valid(&im, 0);
	phdr(&im, 0)->p_offset = im.size - 4; /* 18 bytes of code, 4 in the file */
	expect_load(&im, -EBADMSG, "segment data straddles EOF");

	img_valid(&im, 0);
	phdr(&im, 0)->p_offset = im.size + 0x1000;
	expect_load(&im, -EBADMSG, "segment offset past EOF");

	img_valid(&im, 0);
	phdr(&im, 0)->p_offset = UINT64_MAX - 4; /* offset + filesz wraps */
	expect_load(&im, -EBADMSG, "segment offset wraps");

	img_valid(&im, 0);
	im.size = DATA_OFF + 4; /* file cut inside the code */
	expect_load(&im, -EBADMSG, "file cut in segment");
}

/* ---- refusals: -ERANGE ---- */

Test(loader, segment_beyond_ram_end)
{
	struct img im;

	img_init(&im);
	img_code(&im, RAM - 0x800, 0); /* 0x1000 bytes from 0x800 below the end */
	expect_load(&im, -ERANGE, "straddles RAM end");

	img_init(&im);
	img_code(&im, RAM, 0);
	expect_load(&im, -ERANGE, "starts at RAM end");

	img_init(&im);
	img_code(&im, 1ull << 40, 0);
	expect_load(&im, -ERANGE, "far above RAM");

	/* a non-executable segment beyond RAM is refused just the same */
	img_valid(&im, 0);
	img_add(&im, PT_LOAD, PF_R | PF_W, RAM - 0x1000, 0x1001, NULL, 0);
	expect_load(&im, -ERANGE, "bss one byte past RAM end");
}

Test(loader, segment_below_load_min)
{
	struct img im;

	img_init(&im);
	img_code(&im, PV_GUEST_LOAD_MIN - 0x1000, 0);
	expect_load(&im, -ERANGE, "straddles PV_GUEST_LOAD_MIN");

	img_init(&im);
	img_code(&im, PV_BOOT_INFO_ADDR, 0);
	expect_load(&im, -ERANGE, "over the boot info");

	img_valid(&im, 0);
	img_add(&im, PT_LOAD, PF_R | PF_W, 0, 0x10, NULL, 0);
	expect_load(&im, -ERANGE, "data at gpa 0");
}

Test(loader, segment_wraps_around)
{
	struct img im;

	/* vaddr + memsz wraps to a small address */
	img_init(&im);
	img_code(&im, 0xfffffffffffff000ull, 0);
	phdr(&im, 0)->p_memsz = 0x201000; /* end would be 0x200000 */
	expect_load(&im, -ERANGE, "vaddr near 2^64");

	/* vaddr inside RAM, memsz so large that the end wraps into RAM */
	img_valid(&im, 0);
	phdr(&im, 0)->p_memsz = 0ull - CODE_VA + 0x1000; /* end = 0x1000 mod 2^64 */
	expect_load(&im, -ERANGE, "memsz wraps");

	img_valid(&im, 0);
	phdr(&im, 0)->p_memsz = UINT64_MAX;
	expect_load(&im, -ERANGE, "memsz UINT64_MAX");
}

/* ---- refusals: -EADDRINUSE ---- */

Test(loader, overlapping_segments)
{
	struct img im;

	img_valid(&im, 0);
	img_add(&im, PT_LOAD, PF_R | PF_W, CODE_VA + 0xfff, 0x1000, NULL, 0);
	expect_load(&im, -EADDRINUSE, "one byte overlap at the end");

	img_valid(&im, 0);
	img_add(&im, PT_LOAD, PF_R | PF_W, CODE_VA - 0x1000, 0x1001, NULL, 0);
	expect_load(&im, -EADDRINUSE, "one byte overlap at the start");

	img_valid(&im, 0);
	img_add(&im, PT_LOAD, PF_R | PF_W, CODE_VA + 0x100, 0x10, NULL, 0);
	expect_load(&im, -EADDRINUSE, "contained");

	img_valid(&im, 0);
	img_add(&im, PT_LOAD, PF_R | PF_W, CODE_VA - 0x1000, 0x3000, NULL, 0);
	expect_load(&im, -EADDRINUSE, "containing");

	img_valid(&im, 0);
	img_add(&im, PT_LOAD, PF_R, DATA_VA, 0x1000, NULL, 0);
	img_code(&im, CODE_VA, 0); /* same range as segment 0 */
	expect_load(&im, -EADDRINUSE, "identical, third segment");
}

/* ---- files ---- */

Test(loader, missing_file)
{
	struct pv_vm *vm = new_vm();

	expect_err(vm, pv_vm_load_elf(vm, "/nonexistent/libpv-test/guest.elf"), -ENOENT, "missing file");
	pv_vm_destroy(vm);
}

Test(loader, directory)
{
	char dir[] = "/tmp/pvloaderdirXXXXXX";
	struct pv_vm *vm = new_vm();

	cr_assert_not_null(mkdtemp(dir));
	expect_err(vm, pv_vm_load_elf(vm, dir), -EISDIR, "directory");
	rmdir(dir);
	pv_vm_destroy(vm);
}

Test(loader, non_elf_file)
{
	char path[] = "/tmp/pvloaderXXXXXX";
	struct pv_vm *vm = new_vm();
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "hello\n", 6), 6);
	close(fd);
	expect_err(vm, pv_vm_load_elf(vm, path), -ENOEXEC, "text file");
	unlink(path);
	pv_vm_destroy(vm);
}

/* ---- a rejected image loses nothing ---- */

typedef void (*spoil_fn)(struct img *im);

/* Each spoils an image whose segment 0 (code at CODE_VA) is itself fine. */
static void spoil_interp(struct img *im) { img_add(im, PT_INTERP, PF_R, 0, 0, "/ld.so", 7); }
static void spoil_filesz(struct img *im) { img_add(im, PT_LOAD, PF_R, DATA_VA, 1, "xy", 2); }
static void spoil_eof(struct img *im) { img_add(im, PT_LOAD, PF_R, DATA_VA, 0x10, "xy", 2)->p_offset = 0x10000; }
static void spoil_range(struct img *im) { img_add(im, PT_LOAD, PF_R, RAM - 0x10, 0x20, "xy", 2); }
static void spoil_low(struct img *im) { img_add(im, PT_LOAD, PF_R, PV_BOOT_INFO_ADDR, 0x20, "xy", 2); }
static void spoil_wrap(struct img *im) { img_add(im, PT_LOAD, PF_R, ~0ull - 0xf, 0x20, "xy", 2); }
static void spoil_overlap(struct img *im) { img_add(im, PT_LOAD, PF_R, CODE_VA + 8, 0x20, "xy", 2); }
static void spoil_entry(struct img *im) { ehdr(im)->e_entry = DATA_VA; }
static void spoil_cut(struct img *im) { img_add(im, PT_LOAD, PF_R, DATA_VA, 0x10, "xy", 2); im->size = PH_OFF + 80; }

static const struct {
	const char *name;
	spoil_fn fn;
	int err;
} spoils[] = {
	{ "PT_INTERP", spoil_interp, -ENOEXEC },   { "filesz > memsz", spoil_filesz, -ENOEXEC },
	{ "data past EOF", spoil_eof, -EBADMSG },  { "beyond RAM", spoil_range, -ERANGE },
	{ "below load min", spoil_low, -ERANGE },  { "wraps", spoil_wrap, -ERANGE },
	{ "overlap", spoil_overlap, -EADDRINUSE }, { "entry", spoil_entry, -ENOEXEC },
	{ "phdrs cut", spoil_cut, -EBADMSG },
};

static void check_sentinel(struct pv_vm *vm, pv_gpa_t gpa, size_t len, const char *what)
{
	const uint8_t *p = pv_gpa_ptr(vm, gpa, len);

	cr_assert_not_null(p);
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(p[i], SENTINEL, "%s: byte at gpa 0x%llx changed to 0x%x by a refused image", what,
			     (unsigned long long)(gpa + i), p[i]);
}

Test(loader, rejected_image_touches_nothing_then_valid_image_runs)
{
	for (size_t k = 0; k < sizeof(spoils) / sizeof(spoils[0]); k++) {
		struct pv_vm *vm = new_vm();
		struct img im;
		int status = -1, r;

		/* sentinels where the segments would go and where the monitor
		 * would write boot info, and at the end of RAM */
		memset(pv_gpa_ptr(vm, CODE_VA, 0x1000), SENTINEL, 0x1000);
		memset(pv_gpa_ptr(vm, DATA_VA, 0x1000), SENTINEL, 0x1000);
		memset(pv_gpa_ptr(vm, PV_BOOT_INFO_ADDR, 0x100), SENTINEL, 0x100);
		memset(pv_gpa_ptr(vm, RAM - 0x1000, 0x1000), SENTINEL, 0x1000);

		img_valid(&im, 0);
		spoils[k].fn(&im);
		expect_err(vm, pv_vm_load_elf_mem(vm, im.buf, im.size), spoils[k].err, spoils[k].name);
		check_sentinel(vm, CODE_VA, 0x1000, spoils[k].name);
		check_sentinel(vm, DATA_VA, 0x1000, spoils[k].name);
		check_sentinel(vm, PV_BOOT_INFO_ADDR, 0x100, spoils[k].name);
		check_sentinel(vm, RAM - 0x1000, 0x1000, spoils[k].name);

		/* nothing counts as loaded */
		r = pv_vm_run(vm, &status);
		cr_assert_eq(r, -ENOEXEC, "%s: run after a refused load gave %d (%s)", spoils[k].name, r,
			     pv_vm_error(vm));

		/* and a valid image still loads and runs */
		img_valid(&im, 0);
		r = pv_vm_load_elf_mem(vm, im.buf, im.size);
		cr_assert_eq(r, 0, "%s: valid image after refusal: %d (%s)", spoils[k].name, r, pv_vm_error(vm));
		run_expect(vm, 0, spoils[k].name);
		pv_vm_destroy(vm);
	}
}

/* A refused second image leaves the first one loaded and runnable. */
Test(loader, rejected_second_image_keeps_first)
{
	struct pv_vm *vm = new_vm();
	struct img im;
	uint8_t before[sizeof(exit_code)];

	img_valid(&im, 5);
	cr_assert_eq(pv_vm_load_elf_mem(vm, im.buf, im.size), 0, "%s", pv_vm_error(vm));
	memcpy(before, pv_gpa_ptr(vm, CODE_VA, sizeof(before)), sizeof(before));
	/* would overwrite the first image's code with exit(99) but is refused */
	img_valid(&im, 99);
	spoil_overlap(&im);
	expect_err(vm, pv_vm_load_elf_mem(vm, im.buf, im.size), -EADDRINUSE, "second image");
	cr_assert_arr_eq(pv_gpa_ptr(vm, CODE_VA, sizeof(before)), before, sizeof(before));
	run_expect(vm, 5, "first image");
	/* after the run, loading is refused */
	img_valid(&im, 0);
	cr_assert_eq(pv_vm_load_elf_mem(vm, im.buf, im.size), -EBUSY);
	pv_vm_destroy(vm);
}

/* ---- pv_gpa_ptr ---- */

Test(loader, gpa_ptr_bounds)
{
	struct pv_vm *vm = new_vm();
	uint64_t size = 0;
	uint8_t *ram = pv_vm_ram(vm, &size);

	cr_assert_eq(size, RAM);
	cr_assert_not_null(ram);
	cr_assert_eq(pv_gpa_ptr(vm, 0, RAM), ram);
	cr_assert_eq(pv_gpa_ptr(vm, 0, 0), ram);
	cr_assert_eq(pv_gpa_ptr(vm, RAM - 1, 1), ram + RAM - 1, "last byte");
	cr_assert_eq(pv_gpa_ptr(vm, RAM - 1, 0), ram + RAM - 1, "last byte, len 0");
	cr_assert_eq(pv_gpa_ptr(vm, RAM - 8, 8), ram + RAM - 8);
	cr_assert_null(pv_gpa_ptr(vm, RAM, 1), "gpa == ram_size");
	cr_assert_null(pv_gpa_ptr(vm, RAM, 0), "gpa == ram_size, len 0");
	cr_assert_null(pv_gpa_ptr(vm, RAM - 1, 2), "len past the end");
	cr_assert_null(pv_gpa_ptr(vm, 0, RAM + 1), "len past the end from 0");
	cr_assert_null(pv_gpa_ptr(vm, 1, RAM), "len past the end from 1");
	cr_assert_null(pv_gpa_ptr(vm, 0x1000, UINT64_MAX), "gpa + len wraps");
	cr_assert_null(pv_gpa_ptr(vm, 0x1000, 0ull - 0x1000 + 0x10), "gpa + len wraps into RAM");
	cr_assert_null(pv_gpa_ptr(vm, UINT64_MAX, 2), "gpa near 2^64, wraps");
	cr_assert_null(pv_gpa_ptr(vm, UINT64_MAX, 1), "gpa UINT64_MAX");
	pv_vm_destroy(vm);
}
