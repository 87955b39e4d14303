/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpv host API: what a virtual machine monitor calls.
 *
 * A monitor creates a VM (pv_vm_create), loads a guest (pv_vm_load_elf),
 * attaches devices (pv_blkback_attach, pv_ata_attach, or its own through
 * <pv/device.h> and pv_vm_add_pio/pv_vm_add_mmio), runs the vCPUs until the
 * guest exits (pv_vm_run), reads the exit statistics (pv_vm_stats) and
 * destroys the VM (pv_vm_destroy), which destroys its devices.  Every function that
 * can fail returns 0 (or a count) on success and a negative errno value on
 * failure; none aborts on bad input.  Several VMs may live in one process;
 * each is isolated from the others.
 *
 * The guest side of the ABI is in <pv/abi/core.h>.
 */
#ifndef PV_PV_H
#define PV_PV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/core.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pv_vm;
struct pv_vcpu;

/* Guest-physical address. */
typedef uint64_t pv_gpa_t;

enum pv_backend {
	PV_BACKEND_AUTO = 0, /* KVM when /dev/kvm is usable, else emu */
	PV_BACKEND_KVM,
	PV_BACKEND_EMU,      /* Unicorn full emulation, see <pv/emu.h> */
};

#define PV_MAX_VCPUS 64
#define PV_RAM_MIN  (4ull << 20)
#define PV_RAM_MAX  (64ull << 30)
#define PV_MMIO_LIMIT (96ull << 30)

/*
 * The sandbox (libpv/sandbox.c): each thread libpv runs for a VM (vCPUs,
 * device queues, the VM's control thread) loads a seccomp allowlist for its
 * role before the guest runs.  PV_SANDBOX_KILL: a forbidden system call
 * prints "libpv: sandbox: forbidden system call NAME (NR) from a ROLE thread
 * of domain N" on stderr and ends the process with status 159 (128 +
 * SIGSYS).  PV_SANDBOX_LOG: the call fails with EPERM instead, and the
 * message (once per call) says so.  The environment variable PV_SANDBOX
 * (off, kill, log) overrides the configuration.  The caller's own threads
 * are not confined; a device's own threads confine themselves with
 * pv_vm_sandbox_thread() (<pv/device.h>).  The library installs a SIGSYS
 * handler the first time a filter is loaded.
 */
enum pv_sandbox {
	PV_SANDBOX_OFF = 0,
	PV_SANDBOX_KILL,
	PV_SANDBOX_LOG,
};

/* The machine a VM is. */
enum pv_platform {
	PV_PLATFORM_LIBPV = 0, /* libpv's own guests: the boot state of <pv/abi/core.h> */
	PV_PLATFORM_PC,        /* a PC for unmodified Linux, KVM only (<pv/linux.h>) */
};

struct pv_vm_config {
	uint64_t ram_size;          /* bytes; a multiple of 2 MiB in [PV_RAM_MIN, PV_RAM_MAX] */
	unsigned int vcpus;         /* 1..PV_MAX_VCPUS; 0 means 1 */
	enum pv_backend backend;
	const char *cmdline;        /* guest command line (may be NULL), < PV_CMDLINE_MAX bytes */
	/* Console sink; NULL writes to standard output. */
	void (*console)(void *opaque, const char *buf, size_t len);
	void *console_opaque;
	enum pv_sandbox sandbox;    /* PV_SANDBOX_OFF unless asked (see above) */
	enum pv_platform platform;
	bool console_stdin;         /* PV_PLATFORM_PC: the UART reads guest input from stdin */
	/* PV_PLATFORM_PC: full ACPI (PM1 registers, FACS) and the 8259 PICs
	 * instead of hardware-reduced ACPI, so Linux numbers the ISA
	 * interrupts 0-15 as the ISA bus does: drivers with a fixed ISA IRQ,
	 * like pata_legacy on the emulated ATA disk (<pv/ata.h>), need it.
	 * Off (the default), Linux renumbers them and boots with fewer exits. */
	bool pc_legacy_pic;
};

/*
 * Create a VM (cfg) and store it in *out.  Returns 0, or -EINVAL for a bad
 * size or vCPU count, -E2BIG/-ENOMEM when the RAM cannot be had, -ENODEV when
 * the requested backend is unusable, -ENOSPC after PV_DOMID_SELF - 1 VMs in
 * one process (domain ids are not reused), -EINVAL for a PV_SANDBOX value
 * other than off, kill or log, -EOPNOTSUPP for PV_PLATFORM_PC on a backend
 * that cannot run it (pv_last_error() says why).
 */
int pv_vm_create(const struct pv_vm_config *cfg, struct pv_vm **out);

/* The sandbox mode in effect for vm (PV_SANDBOX_OFF for NULL). */
enum pv_sandbox pv_vm_sandbox(const struct pv_vm *vm);

/* Destroy a VM that is not running.  NULL is ignored. */
void pv_vm_destroy(struct pv_vm *vm);

/*
 * Load a static ELF64 x86-64 executable (path) into the VM and prepare every
 * vCPU-0 register for entry.  Returns 0 or:
 *   -ENOENT/-EACCES  the file cannot be opened
 *   -EISDIR/-EINVAL  it is a directory / not a regular file
 *   -ENOEXEC   not a static ELF64 x86-64 executable, no loadable segment, a
 *              segment whose file size exceeds its memory size, or an entry
 *              point outside every executable segment
 *   -EBADMSG   truncated: headers or segment data past the end of the file
 *   -ERANGE    a segment lies outside guest RAM or below PV_GUEST_LOAD_MIN
 *   -EADDRINUSE two segments overlap
 * pv_vm_error(vm) describes the failure in one line.
 */
int pv_vm_load_elf(struct pv_vm *vm, const char *path);

/* Same as pv_vm_load_elf, from a buffer (image, size). */
int pv_vm_load_elf_mem(struct pv_vm *vm, const void *image, size_t size);

/*
 * Run every vCPU, each on its own thread, until the guest exits, faults or
 * pv_vm_stop() is called.  Returns 0 and stores the guest's exit status in
 * *status, or -EFAULT when the guest faulted (triple fault, exception,
 * access outside RAM, KVM internal error, emulator error), -EINTR when
 * stopped, -ENOEXEC when nothing was loaded.  pv_vm_error(vm) names the
 * reason and the guest RIP.  A VM runs once.
 */
int pv_vm_run(struct pv_vm *vm, int *status);

/* Ask a running VM to stop (from any thread, not from a signal handler). */
void pv_vm_stop(struct pv_vm *vm);

/* One line describing the VM's last failure, "" if none ("no VM" for NULL). */
const char *pv_vm_error(const struct pv_vm *vm);

/* The error of the last failed pv_vm_create() on this thread. */
const char *pv_last_error(void);

/* Backend in use: "kvm" or "emu" ("" for NULL).  For display: a device
 * model asks for the property it depends on (below), never the name. */
const char *pv_vm_backend(const struct pv_vm *vm);

/*
 * Whether the guest's memory fences and locked instructions take effect
 * against host threads: true on KVM; false on the emulation backend, which
 * drops fences and does not make locked instructions atomic, so a device
 * that shares a ring with such a guest uses a heavy barrier instead
 * (ring/ring_host.h).  false for NULL.
 */
bool pv_vm_guest_fences(const struct pv_vm *vm);

/* Domain id: 1, 2, ... in creation order within the process (0 for NULL). */
unsigned int pv_vm_domid(const struct pv_vm *vm);

/* Number of vCPUs the VM was created with (0 for NULL). */
unsigned int pv_vm_vcpus(const struct pv_vm *vm);

/* Host address of guest RAM and its size (*size may be NULL); NULL and
 * size 0 for a NULL vm. */
void *pv_vm_ram(struct pv_vm *vm, uint64_t *size);

/*
 * The one checked conversion from guest-physical address to host pointer:
 * returns a pointer to [gpa, gpa + len) if it lies inside RAM without
 * wrap-around, NULL otherwise (and for a NULL vm).  len 0 is treated as 1.
 */
void *pv_gpa_ptr(struct pv_vm *vm, pv_gpa_t gpa, uint64_t len);

/*
 * Device models.  A handler gets the access (addr: port or guest-physical
 * address, data: size bytes, little-endian) and returns 0; a read handler
 * fills data.  Registration must happen before pv_vm_run.  Regions of one
 * VM may not overlap (-EEXIST); MMIO regions are page-aligned, lie above RAM
 * and end at or below PV_MMIO_LIMIT (-EINVAL).  At most PV_STATS_MAX_DEVS
 * devices (-ENOSPC).  name (copied, <= 31 chars) labels the exit
 * statistics.  -EINVAL for a NULL vm, name or fn, or len 0.
 */
typedef int (*pv_io_fn)(void *opaque, struct pv_vcpu *vcpu, uint64_t addr, void *data, unsigned int size,
			bool is_write);
int pv_vm_add_pio(struct pv_vm *vm, const char *name, uint16_t port, uint16_t count, pv_io_fn fn, void *opaque);
int pv_vm_add_mmio(struct pv_vm *vm, const char *name, pv_gpa_t gpa, uint64_t len, pv_io_fn fn, void *opaque);

/* Id of the vCPU a handler runs on (UINT_MAX for NULL). */
unsigned int pv_vcpu_id(const struct pv_vcpu *vcpu);

/* Why the guest trapped to the hypervisor. */
enum pv_exit_reason {
	PV_EXIT_HYPERCALL, /* OUT to PV_HC_PORT */
	PV_EXIT_PIO,       /* other port I/O, to a device or unclaimed */
	PV_EXIT_MMIO,      /* access to a registered MMIO region */
	PV_EXIT_HLT,
	PV_EXIT_DOORBELL,  /* in-kernel doorbell (ioeventfd) */
	PV_EXIT_FAULT,     /* the exit that ended the VM with a fault */
	PV_EXIT_OTHER,     /* host-induced (signal kick) and anything else */
	PV_EXIT__COUNT
};

/* Name of a reason as used in JSON: "hypercall", "pio", ... */
const char *pv_exit_reason_name(enum pv_exit_reason r);
/* Name of hypercall nr ("console_write"), NULL if unknown. */
const char *pv_hypercall_name(unsigned int nr);

#define PV_STATS_MAX_DEVS 32
#define PV_STATS_MAX_KVM  16

struct pv_stats {
	uint64_t exits_total;
	uint64_t exits[PV_EXIT__COUNT];
	uint64_t hypercalls[PV_HC_NR]; /* by number */
	uint64_t hypercalls_unknown;   /* numbers >= PV_HC_NR */
	unsigned int nr_devs;          /* pio and mmio devices, in registration order */
	struct {
		char name[32];
		bool mmio;
		uint64_t exits;
	} devs[PV_STATS_MAX_DEVS];
	uint64_t pio_unclaimed;        /* port I/O to no device (includes PV_NULL_PORT) */
	uint64_t interrupts;           /* interrupts the monitor raised (PC platform: event
	                                * channels through irqfd, the UART's line); KVM's own
	                                * injection count is kvm "irq_injections".  VM-wide
	                                * view only (0 for one vCPU) */
	uint64_t startup_ns;           /* pv_vm_create() to first guest instruction */
	uint64_t run_ns;               /* first guest instruction to VM end */
	uint64_t cpu_ns;               /* CPU time of the vCPU threads: guest code and the
	                                * exits handled on them (libvirt's vcpu.N.time) */
	unsigned int nr_kvm;           /* KVM binary statistics, summed over vCPUs (kvm backend) */
	struct {
		char name[48];
		uint64_t value;
	} kvm[PV_STATS_MAX_KVM];
};

/*
 * Statistics of the whole VM (vcpu < 0) or of one vCPU, since creation or
 * the last pv_vm_stats_reset().  Safe while the VM runs (counts are then a
 * snapshot).  Returns 0, or -EINVAL (NULL vm or st, no such vCPU);
 * pv_vm_stats_reset ignores a NULL vm.
 */
int pv_vm_stats(struct pv_vm *vm, int vcpu, struct pv_stats *st);
void pv_vm_stats_reset(struct pv_vm *vm);

/* Write st as one JSON object (no newline) into buf; returns the length
 * it needed (snprintf semantics), -EINVAL for a NULL st or a NULL buf with
 * size > 0. */
int pv_stats_json(const struct pv_stats *st, char *buf, size_t size);

/*
 * Library notes (backend choice, software-nested KVM) go to this sink; NULL
 * restores the default, "libpv: MSG" on stderr.  Notes are printed once per
 * process.
 */
void pv_set_log(void (*fn)(const char *msg));

/* ---- Event channels (see <pv/abi/core.h>) ---- */

/*
 * Allocate a port of vm bound to the monitor.  The guest signals it with a
 * doorbell (PV_DOORBELL_PORT; an ioeventfd on KVM, so no userspace exit) or
 * PV_HC_EVTCHN_SEND; both make *efd, an eventfd owned by the library,
 * readable.  Returns the port, or -ENOSPC when all PV_EVTCHN_MAX are used.
 */
int pv_evtchn_alloc_monitor(struct pv_vm *vm, int *efd);

/*
 * Consume the notifications of monitor port `port`: reads its eventfd
 * without blocking and returns how many arrived (0 if none), adding the
 * doorbells among them to the VM's exit statistics.  -EINVAL for a port
 * that is not bound to the monitor.
 */
int64_t pv_evtchn_ack(struct pv_vm *vm, unsigned int port);

/*
 * Notify the guest on monitor port `port`: set its pending byte and wake a
 * vCPU blocked in PV_HC_BLOCK.  Returns 0, -EINVAL (not a monitor port),
 * -ENXIO (the guest has not registered its event page).
 */
int pv_evtchn_notify(struct pv_vm *vm, unsigned int port);

/* Close a monitor port (its eventfd is closed). */
int pv_evtchn_close(struct pv_vm *vm, unsigned int port);

/* ---- Grants (see <pv/abi/core.h>) ---- */

/*
 * Use grant `ref` of VM `granter` on behalf of domain `user` (0: the
 * monitor): check that the reference is in range, the entry permits `user`,
 * a write is allowed, the frames are inside the granter's RAM and
 * [offset, offset + len) inside the granted frames; then pin the grant (the
 * guest cannot revoke it until pv_grant_unmap) and store a host pointer to
 * the bytes in *ptr.  Returns 0, -EINVAL, -EPERM, -EFAULT, or -EOVERFLOW
 * when a grant is pinned 2^32 - 1 times.
 */
int pv_grant_map(struct pv_vm *granter, unsigned int user, uint32_t ref, uint64_t offset, uint64_t len, bool write,
		 void **ptr);
/* Release one pin taken by a successful pv_grant_map (NULL granter: ignored). */
void pv_grant_unmap(struct pv_vm *granter, uint32_t ref);

/* One grant access of a batch. */
struct pv_grant_op {
	uint32_t ref;
	uint32_t offset;
	uint32_t len;
	bool write;
	void *ptr;   /* out */
	int status;  /* out: 0 or a negative errno as pv_grant_map */
};

/* Map n grants under one lock.  Returns how many succeeded; each op has its
 * status; the successful ones must be released with pv_grant_unmap_batch. */
int pv_grant_map_batch(struct pv_vm *granter, unsigned int user, struct pv_grant_op *ops, unsigned int n);
/* Release the successfully mapped ops of a batch (status == 0); NULL
 * granter or ops: ignored. */
void pv_grant_unmap_batch(struct pv_vm *granter, const struct pv_grant_op *ops, unsigned int n);

/* Copy len bytes from (to) granted memory into (from) buf with every check
 * of pv_grant_map; the grant is pinned only during the copy.  -EINVAL for a
 * NULL granter, or a NULL buf with len > 0. */
int pv_grant_copy_from(struct pv_vm *granter, unsigned int user, uint32_t ref, uint64_t offset, void *buf,
		       uint64_t len);
int pv_grant_copy_to(struct pv_vm *granter, unsigned int user, uint32_t ref, uint64_t offset, const void *buf,
		     uint64_t len);

/* Is the backend usable on this machine?  Returns 0 or -ENODEV with a
 * reason copied into why (may be NULL). */
int pv_backend_probe(enum pv_backend b, char *why, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* PV_PV_H */
