/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ELF loader (pv_vm_load_elf_mem) on arbitrary bytes.  Invariants: the
 * result is 0 or one of the errors pv.h documents; on success the entry
 * point lies in RAM at or above PV_GUEST_LOAD_MIN and the boot registers
 * hold it; a refused image leaves the page-table area, which no segment
 * may reach, untouched.
 */
#include <errno.h>

#include "fuzz.h"

#define RAM (4ull << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pv_vm *vm;
	int r;

	if (!vm)
		vm = fuzz_vm(RAM, 1);
	vm->loaded = false;
	vm->vcpus[0].boot = (struct pv_boot_regs){ 0 };
	/* Poison the monitor's area below the load address: no segment may land there. */
	memset(vm->ram + PV_PT_ADDR, 0xA5, 64);
	r = pv_vm_load_elf_mem(vm, data, size);
	FUZZ_CHECK(r == 0 || r == -ENOEXEC || r == -EBADMSG || r == -ERANGE || r == -EADDRINUSE);
	for (unsigned int i = 0; i < 64; i++)
		FUZZ_CHECK(vm->ram[PV_PT_ADDR + i] == 0xA5);
	if (r == 0) {
		uint64_t entry;

		FUZZ_CHECK(vm->loaded);
		FUZZ_CHECK(size >= 64);
		memcpy(&entry, data + 24, sizeof(entry)); /* e_entry */
		FUZZ_CHECK(vm->vcpus[0].boot.rip == entry);
		FUZZ_CHECK(entry >= PV_GUEST_LOAD_MIN && entry < RAM);
	} else {
		FUZZ_CHECK(!vm->loaded);
		FUZZ_CHECK(vm->err[0] != 0); /* a refusal says why */
	}
	return 0;
}
