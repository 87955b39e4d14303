/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpv host API: booting an unmodified Linux kernel on the PC platform.
 *
 * A VM created with pv_vm_config.platform = PV_PLATFORM_PC (KVM backend
 * only: the emulation backend injects no interrupts and refuses it with
 * -EOPNOTSUPP) is a small PC that a stock distribution kernel boots on:
 *
 *   - KVM's in-kernel interrupt controllers (PIC, IOAPIC at 0xfec00000,
 *     a LAPIC per vCPU with LINT0 = ExtINT and LINT1 = NMI) and PIT;
 *   - CPUID from KVM with the hypervisor bit, KVM's own leaves at
 *     0x40000000 (kvm-clock, PV EOI) and libpv's signature and ABI version
 *     at PV_CPUID_BASE (<pv/abi/core.h>);
 *   - hardware-reduced ACPI tables (RSDP at 0xe0000, XSDT, FADT, MADT with
 *     one LAPIC per vCPU and the IOAPIC, a DSDT with COM1 and \_S5), so the
 *     kernel finds its CPUs and can power off;
 *   - a 16550A UART at 0x3f8, IRQ 4 (console=ttyS0): its output goes to
 *     the VM's console sink, its input comes from standard input when
 *     pv_vm_config.console_stdin is set;
 *   - an i8042 whose command 0xfe resets the machine (reboot=k);
 *   - the libpv hypercall and doorbell ports of <pv/abi/core.h>.
 *
 * How a run ends (pv_vm_run):
 *   - ACPI S5 (poweroff): returns 0, status = the last byte the guest wrote
 *     to PV_PC_STATUS_PORT (0 if none); pv_vm_error() says "powered off";
 *   - reset (i8042 0xfe, or a triple fault, as on a PC): returns 0 with the
 *     same status; pv_vm_error() says "reset";
 *   - a kernel panic (the console printed "Kernel panic - not syncing"):
 *     returns -EFAULT once the panic message ends, at the latest a second
 *     after that line; pv_vm_error() begins with "guest kernel panic:" and
 *     quotes the panic line and the line before it;
 *   - pv_vm_stop(): -EINTR, as for any VM.
 */
#ifndef PV_LINUX_H
#define PV_LINUX_H

#include "pv.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A byte written here is the status the next power-off or reset ends the
 * VM with (so an init can say "echo -ne '\x2a' | dd of=/dev/port bs=1
 * seek=1540": 1540 is 0x604). */
#define PV_PC_STATUS_PORT 0x604u

/* Guest RAM of a PC-platform VM lies below the IOAPIC and LAPIC
 * (pv_vm_create answers -EINVAL above this). */
#define PV_PC_RAM_MAX (3ull << 30)

/*
 * Load a Linux bzImage (kernel), an optional initramfs (initrd, may be
 * NULL) and a command line (cmdline, may be NULL) into a PC-platform VM
 * through the 64-bit boot protocol, and prepare vCPU 0 to enter it.  The
 * kernel goes to its preferred address (relocatable kernels) or 1 MiB, the
 * initramfs to the top of RAM below the kernel's initrd_addr_max.  Returns
 * 0 or:
 *   -EINVAL           NULL vm or kernel
 *   -ENOENT/-EACCES/-EISDIR  a file cannot be read
 *   -ENOEXEC          not a Linux kernel (no setup header) or one without
 *                     a 64-bit entry point
 *   -EPROTONOSUPPORT  boot protocol older than 2.12
 *   -EFBIG            the kernel (with its init_size) or the initramfs does
 *                     not fit in guest RAM
 *   -E2BIG            the command line is longer than the kernel accepts
 *   -EOPNOTSUPP       the VM is not a PC-platform VM
 *   -EBUSY            the VM has already run
 * pv_vm_error(vm) describes the failure in one line.
 */
int pv_vm_load_linux(struct pv_vm *vm, const char *kernel, const char *initrd, const char *cmdline);

#ifdef __cplusplus
}
#endif
#endif /* PV_LINUX_H */
