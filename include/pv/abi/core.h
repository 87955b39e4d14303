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
 *     every MMIO region the monitor registered; nothing else.  The guest may
 *     replace it (see "Paging" below).
 *   - CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE|OSFXSR|OSXMMEXCPT, EFER = LME|LMA:
 *     SSE is enabled, but kvm_pvm cannot emulate SSE in kernel mode: the
 *     SDK builds guests with -mgeneral-regs-only.
 *   - GDT: 0x08 64-bit code, 0x10 data, 0x18 a 64-bit TSS.  The monitor's
 *     IDT reports every exception (vector, error code, RIP) to the monitor,
 *     which ends the VM with a message naming them.
 *   - RIP = ELF entry point, RSP = PV_BOOT_STACK_TOP (64 KiB below it are
 *     free), RDI = guest-physical address of struct pv_boot_info,
 *     RSI = vCPU id (0 for the boot vCPU).
 *   - Each ELF segment is loaded at its physical address (p_paddr) with the
 *     bytes past its file size zeroed (a guest need not clear its .bss);
 *     other RAM is zero too.  p_vaddr is the guest's business.  The entry
 *     point runs under the identity map, so it is a physical address inside
 *     an executable segment.
 *   - Guest-physical memory below PV_GUEST_LOAD_MIN belongs to the monitor
 *     (GDT, IDT, fault stubs, page tables, boot info, boot stack); ELF
 *     segments must load at or above it.
 *
 * Paging
 * ------
 * The guest may build its own 4-level page tables and load CR3, for example
 * to run a kernel linked in the higher half (examples/guests/higherhalf.c):
 * the same guest runs the same way on both backends (the emulation backend
 * needs Unicorn 2.1; Unicorn 2.0 ignores translation).  The rules:
 *   - Keep linear [0x1000, PV_GUEST_LOAD_MIN) mapped to the same physical
 *     addresses, present, writable, supervisor: the monitor's GDT, TSS, IDT,
 *     fault stubs and exception stack live there and are used by linear
 *     address, so an exception is reported only while they are mapped.
 *     Address 0 may stay absent.
 *   - 4 KiB, 2 MiB and 1 GiB pages work.  EFER.NXE is clear, so bit 63 of an
 *     entry is reserved (a #PF); CR4.PAE is set, PCID and LA57 are off.
 *   - Every address the guest gives the monitor stays guest-physical:
 *     hypercall pointers, rings, grant and event pages, DMA.  The monitor
 *     never walks the guest's tables to serve a request.
 *   - A page fault is never delivered to the guest (the emulation backend
 *     does not use the guest's IDT), so no demand paging: map what you
 *     touch.  It ends the VM with a message naming the access (read or
 *     write), the address (CR2) and RIP; a fault below guest RAM's end or
 *     at a high address reads "not mapped by the guest's page tables", one
 *     past RAM under the identity map "access outside guest RAM".
 *   - The guest may not change CR0, CR4 or EFER paging bits (leave long
 *     mode, turn off paging or PAE).
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

/*
 * CPUID.  A guest on the PC platform (an unmodified kernel, <pv/linux.h>)
 * finds libpv among the hypervisor leaves, which Linux scans from
 * 0x40000000 in steps of 0x100 (KVM's own stay at 0x40000000):
 *   PV_CPUID_BASE      EAX = highest libpv leaf, EBX ECX EDX = "libpvlibpvPV"
 *   PV_CPUID_BASE + 1  EAX = PV_ABI_VERSION, EBX = feature word 0 (low 32 bits)
 */
#define PV_CPUID_BASE 0x40000100u
#define PV_CPUID_SIG_EBX 0x7062696cu /* "libp" */
#define PV_CPUID_SIG_ECX 0x62696c76u /* "vlib" */
#define PV_CPUID_SIG_EDX 0x56507670u /* "pvPV" */

/* I/O port through which hypercalls are issued (32-bit OUT, see above). */
#define PV_HC_PORT 0x0500u
/*
 * A port whose writes the monitor discards at the first possible point,
 * before any dispatch.  It is counted as a "pio" exit.  It exists to measure
 * the bare cost of a VM exit (pvbench --device hypercall).
 */
#define PV_NULL_PORT 0x0501u
/*
 * Doorbell: "outl %eax, %dx" with DX = PV_DOORBELL_PORT and EAX = an event
 * channel port bound to the monitor signals that port.  On KVM the monitor
 * registers it as an ioeventfd, so the vCPU does not leave the kernel: a
 * doorbell is far cheaper than PV_HC_EVTCHN_SEND, which works for any port.
 * A doorbell to a port that is not bound to the monitor is ignored.
 */
#define PV_DOORBELL_PORT 0x0502u

/* Hypercall numbers (RAX). */
#define PV_HC_VERSION        0  /* () -> PV_ABI_VERSION */
#define PV_HC_FEATURES       1  /* (word) -> feature bits of 64-bit word `word`, 0 if unknown */
#define PV_HC_CONSOLE_WRITE  2  /* (buf, len) -> len written; len <= PV_CONSOLE_MAX else PV_E2BIG */
#define PV_HC_EXIT           3  /* (status) -> does not return; status & 0xff is the VM's exit status */
#define PV_HC_TIME           4  /* () -> monotonic nanoseconds since the VM was created */
#define PV_HC_YIELD          5  /* () -> 0; gives the host CPU to another thread */
#define PV_HC_BLOCK          6  /* (timeout_ns, watch, value) -> 0 when an event is pending, PV_ETIMEDOUT;
				  * timeout 0 (or >= 2^62 ns) = none.  If watch != 0 (a 4-byte aligned gpa), return 0 at
				  * once when the u32 there differs from value after a full barrier on
				  * the monitor's side: a futex-style check that closes the race between
				  * a guest's last look at a ring and its sleep, even when the guest's own
				  * fences are dropped (emulation backend). */
#define PV_BLOCK_FOREVER_NS (1ull << 62) /* PV_HC_BLOCK timeouts from here on mean "none" */
#define PV_HC_VCPU_UP        7  /* (vcpu, rip, rsp, arg) -> 0; starts a secondary vCPU, RDI = arg, RSI = vcpu */
#define PV_HC_FAULT          8  /* (vector, error_code, rip, cr2): the monitor's exception stubs; ends the VM */
#define PV_HC_GRANT_SETUP    9  /* (table, nr_entries) -> 0: register the grant table (see below) */
#define PV_HC_GRANT_END     10  /* (ref) -> 0, PV_EBUSY while a backend uses it: revoke a grant */
#define PV_HC_GRANT_COPY    11  /* (ops, count) -> 0 or the first op's error: batch copy, see pv_grant_copy_op */
#define PV_HC_EVTCHN_SETUP  12  /* (page) -> 0: register the event page (struct pv_event_page) */
#define PV_HC_EVTCHN_ALLOC  13  /* (remote_domid) -> port: a port that domain remote_domid may bind */
#define PV_HC_EVTCHN_BIND   14  /* (remote_domid, remote_port) -> local port bound to it */
#define PV_HC_EVTCHN_SEND   15  /* (port) -> 0: make the other end's port pending */
#define PV_HC_EVTCHN_CLOSE  16  /* (port) -> 0 */
#define PV_HC_EVTCHN_BIND_IRQ 17 /* (port, gsi) -> 0: raise IOAPIC GSI gsi when port becomes pending (PC) */
#define PV_HC_EVTCHN_MASK   18  /* (port, masked) -> 0: mask or unmask port's interrupt */
#define PV_HC_DETACH        19  /* () -> 0, PV_EBUSY: forget the grant table and event page (see below) */
#define PV_HC_NR            20  /* number of defined hypercalls */

/* Feature bits of word 0 (PV_HC_FEATURES(0), pv_boot_info.features). */
#define PV_F_CONSOLE   (1ull << 0)  /* PV_HC_CONSOLE_WRITE */
#define PV_F_TIME      (1ull << 1)  /* PV_HC_TIME */
#define PV_F_BLOCK     (1ull << 2)  /* PV_HC_BLOCK waits for events */
#define PV_F_SMP       (1ull << 3)  /* PV_HC_VCPU_UP */
#define PV_F_GRANT     (1ull << 4)  /* grant tables and PV_HC_GRANT_COPY */
#define PV_F_EVTCHN    (1ull << 5)  /* event channels and the doorbell port */
#define PV_F_EVTCHN_IRQ (1ull << 6) /* PV_HC_EVTCHN_BIND_IRQ/_MASK (PC platform), PV_HC_DETACH */

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
	unsigned int tsc_khz;        /* rdtsc ticks per millisecond in the guest; 0 if the monitor does not know */
	unsigned int reserved;
};
#endif

/*
 * Domain ids.  The monitor is domain 0; VMs are numbered from 1.
 * PV_DOMID_SELF names the calling VM's own memory in a grant copy.
 */
#define PV_DOMID_MONITOR 0u
#define PV_DOMID_SELF    0x7ff0u

/*
 * Grant tables
 * ------------
 * A guest shares its memory by capability, not by address.  It registers a
 * table of struct pv_grant_entry in its own RAM (PV_HC_GRANT_SETUP: table
 * page-aligned, nr_entries <= PV_GRANT_MAX) and gives the other side an
 * index into it, the grant reference.  An entry lets domain `domid` access
 * `npages` guest frames starting at `frame`, read-only if PV_GTF_READONLY.
 * To grant: write frame, npages, domid, then (after a compiler barrier)
 * flags.  The monitor reads an entry each time it starts using the grant and
 * keeps its own record while it does, so changing an entry in use changes
 * nothing for that use.  To revoke, call PV_HC_GRANT_END(ref): it fails with
 * PV_EBUSY while a backend uses the grant and otherwise clears the entry, so
 * that no backend can reach the frames any more; the reference may then be
 * reused.  Errors when the other side uses a grant: PV_EINVAL (reference out
 * of range, bad table), PV_EPERM (entry not valid for that domain, or a
 * write through a read-only grant), PV_EFAULT (frames outside the granting
 * VM's RAM, or offset/length outside the granted frames).
 *
 * Shared pages.  Every address a guest registers for sharing (the grant
 * table, the event page) follows one rule: it is page-aligned (else
 * PV_EINVAL) and the whole structure lies in RAM the guest owns, at or
 * above PV_GUEST_LOAD_MIN (else PV_EFAULT; address 0 is never valid).  A
 * refused registration changes nothing: the table or page registered before
 * stays in force.
 */
#define PV_GRANT_MAX 65536u
#define PV_GTF_PERMIT_ACCESS 0x1u
#define PV_GTF_READONLY      0x2u

#ifndef __ASSEMBLER__
struct pv_grant_entry {
	unsigned short flags;      /* PV_GTF_*; 0 = not granted */
	unsigned short domid;      /* the domain allowed to use it */
	unsigned int npages;       /* contiguous frames, >= 1 */
	unsigned long long frame;  /* first guest frame number (gpa >> 12) */
};

/*
 * One end of a grant copy: the caller's own memory (domid = PV_DOMID_SELF,
 * addr = guest-physical address) or a page another domain granted to the
 * caller (domid, addr = grant reference, offset into the granted frames).
 */
struct pv_grant_copy_ptr {
	unsigned long long addr;
	unsigned int offset;
	unsigned short domid;
	unsigned short pad;
};

/* PV_HC_GRANT_COPY(ops, count): ops is an array of count (<= 256) of these,
 * 8-byte aligned; each status is 0 or a PV_E* error. */
struct pv_grant_copy_op {
	struct pv_grant_copy_ptr src, dst;
	unsigned int len;          /* bytes, <= 64 KiB */
	int status;                /* written by the monitor */
};
#endif

/*
 * Event channels
 * --------------
 * A port is a numbered notification endpoint.  The guest registers one
 * page (PV_HC_EVTCHN_SETUP, page-aligned) laid out as struct pv_event_page.
 * When the other end sends, the monitor sets pending[port] = 1 and wakes a
 * vCPU blocked in PV_HC_BLOCK (or HLT).  The guest clears pending[port]
 * with a plain byte store before it handles the port, then handles it:
 * bytes, not bits, so that no read-modify-write is shared with the monitor.
 * PV_HC_BLOCK returns at once while any pending byte is set.  Flooding a
 * port coalesces into one pending byte; it costs the monitor nothing more.
 */
#define PV_EVTCHN_MAX 1024u

/*
 * Event channels as interrupts (PC platform, <pv/linux.h>).  A guest
 * kernel that cannot block in PV_HC_BLOCK binds a port to an interrupt:
 * PV_HC_EVTCHN_BIND_IRQ(port, gsi) with gsi in [PV_EVTCHN_GSI_MIN,
 * PV_EVTCHN_GSI_MAX], IOAPIC pins the platform leaves free (program them
 * edge-triggered, active high); gsi 0 unbinds.  From then on, each time the
 * port's pending byte goes from 0 to 1 the monitor raises the GSI through
 * an irqfd: the notifying side (the monitor, another VM) causes no
 * userspace exit.  The handler clears the pending byte of each port it
 * serves, then serves it, then looks at the bytes again (an event that
 * arrives between the two is caught by the second look or raises the
 * GSI anew).  PV_HC_EVTCHN_MASK(port, 1) stops the interrupts of a port
 * (the byte is still set); (port, 0) unmasks it and raises the GSI if the
 * byte is set.  Errors: PV_EINVAL (port not in use, gsi outside the
 * range), PV_EOPNOTSUPP (not a PC-platform VM).  Closing a port unbinds it.
 *
 * PV_HC_DETACH: a guest kernel module that set up the grant table and the
 * event page calls this before it frees them (on unload): the monitor then
 * forgets both (pv_evtchn_notify answers -ENXIO, maps fail) and unbinds
 * every interrupt.  PV_EBUSY, with nothing changed, while a backend still
 * uses a grant.
 */
#define PV_EVTCHN_GSI_MIN 16u
#define PV_EVTCHN_GSI_MAX 23u

#ifndef __ASSEMBLER__
struct pv_event_page {
	volatile unsigned char pending[PV_EVTCHN_MAX];
};
#endif

/* The layout of every structure above is part of the ABI. */
#if !defined(__ASSEMBLER__) && !defined(__cplusplus)
#define PV_ABI_OFFSET(t, f, off) _Static_assert(__builtin_offsetof(struct t, f) == (off), #t "." #f " offset")
#define PV_ABI_SIZE(t, size) _Static_assert(sizeof(struct t) == (size), #t " size")
PV_ABI_SIZE(pv_boot_info, 64);
PV_ABI_OFFSET(pv_boot_info, features, 16);
PV_ABI_OFFSET(pv_boot_info, ram_size, 24);
PV_ABI_OFFSET(pv_boot_info, cmdline, 32);
PV_ABI_OFFSET(pv_boot_info, heap_start, 40);
PV_ABI_OFFSET(pv_boot_info, cmdline_len, 48);
PV_ABI_OFFSET(pv_boot_info, domid, 52);
PV_ABI_OFFSET(pv_boot_info, tsc_khz, 56);
PV_ABI_SIZE(pv_grant_entry, 16);
PV_ABI_OFFSET(pv_grant_entry, domid, 2);
PV_ABI_OFFSET(pv_grant_entry, npages, 4);
PV_ABI_OFFSET(pv_grant_entry, frame, 8);
PV_ABI_SIZE(pv_grant_copy_ptr, 16);
PV_ABI_OFFSET(pv_grant_copy_ptr, offset, 8);
PV_ABI_OFFSET(pv_grant_copy_ptr, domid, 12);
PV_ABI_SIZE(pv_grant_copy_op, 40);
PV_ABI_OFFSET(pv_grant_copy_op, dst, 16);
PV_ABI_OFFSET(pv_grant_copy_op, len, 32);
PV_ABI_OFFSET(pv_grant_copy_op, status, 36);
PV_ABI_SIZE(pv_event_page, PV_EVTCHN_MAX);
#endif

#endif /* PV_ABI_H */
