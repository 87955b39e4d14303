/* SPDX-License-Identifier: MIT */
/*
 * libpv guest ABI, version 1: the contract between a guest kernel and a
 * libpv monitor.  This header is the specification.  It is freestanding
 * (no libc, no host headers) and MIT-licensed so that any guest OS may
 * include it.
 *
 * Machine state at guest entry
 * ----------------------------
 *   - 64-bit long mode, CPL0, interrupts disabled (RFLAGS = 0x2).
 *   - Paging on, identity-mapped (virtual == guest-physical) with 2 MiB
 *     pages, except that the first 4 KiB page (address 0) is not present so
 *     that NULL dereferences fault.  The map covers all RAM and, above it,
 *     every MMIO region the monitor registered; nothing else.  A guest must
 *     not install page tables that are not identity maps (the emulation
 *     backend ignores translation).
 *   - CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE|OSFXSR|OSXMMEXCPT, EFER = LME|LMA:
 *     SSE may be used.
 *   - GDT: 0x08 64-bit code, 0x10 data, 0x18 a 64-bit TSS.  The monitor's
 *     IDT reports every exception (vector, error code, RIP) to the monitor,
 *     which ends the VM with a message naming them.
 *   - RIP = ELF entry point, RSP = PV_BOOT_STACK_TOP (64 KiB below it are
 *     free), RDI = guest-physical address of struct pv_boot_info,
 *     RSI = vCPU id (0 for the boot vCPU).
 *   - Guest-physical memory below PV_GUEST_LOAD_MIN belongs to the monitor
 *     (GDT, IDT, fault stubs, page tables, boot info, boot stack); ELF
 *     segments must load at or above it.
 *
 * Issuing a hypercall
 * -------------------
 *   EAX = hypercall number (32 bits: the value the OUT writes; the upper
 *   half of RAX is ignored), RDI, RSI, R8, R9 = arguments 0..3 (full 64-bit
 *   values: guest-physical addresses are not limited to 4 GiB), then
 *   "outl %eax, %dx" with DX = PV_HC_PORT.  That OUT is the only trap: one
 *   hypercall costs exactly one VM exit.  On return RAX holds the result;
 *   every other register is preserved.  A result in [-4095, -1] is a
 *   negative error code (PV_E*), anything else is success.
 *
 * Pointers passed to hypercalls are guest-physical.  The monitor checks
 * that [ptr, ptr + len) lies inside the guest's RAM without wrap-around
 * (else PV_EFAULT), and that structures are naturally aligned (else
 * PV_EINVAL).  A hypercall the monitor does not know returns PV_ENOSYS.
 */
#ifndef PV_ABI_H
#define PV_ABI_H

#define PV_ABI_VERSION 1u

/* I/O port through which hypercalls are issued (32-bit OUT, see above). */
#define PV_HC_PORT 0x0500u
/*
 * A port whose writes the monitor discards at the first possible point,
 * before any dispatch.  It is counted as a "pio" exit.  It exists to measure
 * the bare cost of a VM exit (pvbench --device hypercall).
 */
#define PV_NULL_PORT 0x0501u

/* Hypercall numbers (RAX). */
#define PV_HC_VERSION        0  /* () -> PV_ABI_VERSION */
#define PV_HC_FEATURES       1  /* (word) -> feature bits of 64-bit word `word`, 0 if unknown */
#define PV_HC_CONSOLE_WRITE  2  /* (buf, len) -> len written; len <= PV_CONSOLE_MAX else PV_E2BIG */
#define PV_HC_EXIT           3  /* (status) -> does not return; status & 0xff is the VM's exit status */
#define PV_HC_TIME           4  /* () -> monotonic nanoseconds since the VM was created */
#define PV_HC_YIELD          5  /* () -> 0; gives the host CPU to another thread */
#define PV_HC_BLOCK          6  /* (timeout_ns) -> 0 when an event is pending, PV_ETIMEDOUT; 0 = no timeout */
#define PV_HC_VCPU_UP        7  /* (vcpu, rip, rsp, arg) -> 0; starts a secondary vCPU, RDI = arg, RSI = vcpu */
#define PV_HC_FAULT          8  /* (vector, error_code, rip, cr2): the monitor's exception stubs; ends the VM */
#define PV_HC_NR             9  /* number of defined hypercalls */

/* Feature bits of word 0 (PV_HC_FEATURES(0), pv_boot_info.features). */
#define PV_F_CONSOLE   (1ull << 0)  /* PV_HC_CONSOLE_WRITE */
#define PV_F_TIME      (1ull << 1)  /* PV_HC_TIME */
#define PV_F_BLOCK     (1ull << 2)  /* PV_HC_BLOCK waits for events */
#define PV_F_SMP       (1ull << 3)  /* PV_HC_VCPU_UP */

/* Largest buffer one PV_HC_CONSOLE_WRITE accepts. */
#define PV_CONSOLE_MAX 4096u

/* Error codes returned in RAX: negative Linux errno values. */
#define PV_EPERM      (-1)
#define PV_ENOENT     (-2)
#define PV_EIO        (-5)
#define PV_E2BIG      (-7)
#define PV_EAGAIN     (-11)
#define PV_ENOMEM     (-12)
#define PV_EFAULT     (-14)
#define PV_EBUSY      (-16)
#define PV_EEXIST     (-17)
#define PV_EINVAL     (-22)
#define PV_ENOSPC     (-28)
#define PV_ERANGE     (-34)
#define PV_ENOSYS     (-38)
#define PV_EOPNOTSUPP (-95)
#define PV_ETIMEDOUT  (-110)

/* Guest-physical layout owned by the monitor. */
#define PV_GUEST_LOAD_MIN  0x100000ull  /* lowest address an ELF segment may use */
#define PV_BOOT_INFO_ADDR  0x4000ull    /* struct pv_boot_info, then the command line */
#define PV_BOOT_STACK_TOP  0x80000ull

#define PV_BOOT_MAGIC 0x31765670u /* "pVv1" */
#define PV_CMDLINE_MAX 2048u

/*
 * Boot information, written by the monitor before entry and never again.
 * All fields little-endian, naturally aligned; size 64 bytes in ABI v1.
 * Fields may be added at the end in later versions; `size` tells how many
 * bytes are valid.
 */
#ifndef __ASSEMBLER__
struct pv_boot_info {
	unsigned int magic;          /* PV_BOOT_MAGIC */
	unsigned int abi_version;    /* PV_ABI_VERSION */
	unsigned int size;           /* sizeof(struct pv_boot_info) as written */
	unsigned int nr_vcpus;       /* vCPUs the guest may start (ids 0..nr_vcpus-1) */
	unsigned long long features; /* feature word 0 */
	unsigned long long ram_size; /* bytes of RAM at guest-physical 0 */
	unsigned long long cmdline;  /* guest-physical address of the NUL-terminated command line */
	unsigned long long heap_start; /* first page-aligned address above the loaded image */
	unsigned int cmdline_len;    /* strlen of the command line */
	unsigned int domid;          /* this VM's domain id (1, 2, ...; 0 is the monitor) */
	unsigned long long reserved;
};
#endif

#endif /* PV_ABI_H */
