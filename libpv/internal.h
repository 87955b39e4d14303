/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpv internal API: the whole map of the library in one file.
 *
 * Layering: vm.c owns VMs, vCPU threads, devices and the end-of-run state;
 * loader.c builds the guest's boot environment; stats.c counts exits;
 * grant.c and evtchn.c keep grant tables and event channels.  Above them,
 * hypercalls/ answers the guest's hypercalls with those services.  The
 * backends, backend_kvm.c and backend_emu.c (the latter GPL-2.0, built as
 * its own library), run vCPUs behind struct pv_backend_ops and report every
 * trap through the pv__ exit functions below and pv__hypercall(), so no
 * device model knows which backend runs.  Calls go backends -> hypercalls/
 * -> core, never back.
 *
 * Symbols named pv__* are exported for libpv-emu only; they are not API.
 */
#ifndef PV_INTERNAL_H
#define PV_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "pv/device.h"
#include "pv/pv.h"

/* ---- guest-physical layout below PV_GUEST_LOAD_MIN (see <pv/abi/core.h>) ---- */
#define PV_GDT_ADDR      0x1000ull  /* null, code 0x08, data 0x10, TSS 0x18 (16 bytes) */
#define PV_TSS_ADDR      0x1100ull
#define PV_IDT_ADDR      0x2000ull  /* 256 gates */
#define PV_STUBS_ADDR    0x3000ull  /* exception stubs (stubs.S) */
#define PV_IST_TOP       0x7000ull  /* exception stack 0x5000-0x7000 */
#define PV_PT_ADDR       0x8000ull  /* PML4, PDPT, PT of the first 2 MiB, PDs */
#define PV_PT_END        0x70000ull
#define PV_SEL_CODE      0x08
#define PV_SEL_DATA      0x10
#define PV_SEL_TSS       0x18
#define PV_GDT_LIMIT     (5 * 8 - 1)
#define PV_CR0           0x80010033ull /* PG WP NE ET MP PE */
#define PV_CR4           0x620ull      /* OSXMMEXCPT OSFXSR PAE */
#define PV_EFER          0x500ull      /* LMA LME */

/* ---- PC platform layout (PV_PLATFORM_PC, <pv/linux.h>) ---- */
#define PV_LX_GDT_ADDR    0x500ull   /* null, null, 0x10 code, 0x18 data, 0x20 TSS */
#define PV_LX_SEL_CODE    0x10
#define PV_LX_SEL_DATA    0x18
#define PV_LX_SEL_TSS     0x20
#define PV_LX_GDT_LIMIT   (6 * 8 - 1)
#define PV_LX_ZERO_PAGE   0x7000ull  /* struct boot_params */
#define PV_LX_PT_ADDR     0x9000ull  /* PML4, PDPT, 4 PDs: the first 4 GiB, 2 MiB pages */
#define PV_LX_CMDLINE     0x20000ull
#define PV_LX_CMDLINE_MAX 0x10000ull
#define PV_LX_ACPI_ADDR   0xe0000ull /* RSDP, then the other tables, to 0x100000 */
#define PV_LX_LOW_RAM_END 0x9fc00ull
#define PV_LX_CR0         0x80050033ull /* PG AM WP NE ET MP PE */
#define PV_LX_CR4         0x20ull       /* PAE */
#define PV_PC_COM1        0x3f8
#define PV_PC_COM1_IRQ    4
#define PV_PC_ACPI_PORT   0x600      /* sleep control, sleep status, reset */
#define PV_PC_PM1_EVT     0x608      /* pc_legacy_pic: PM1a status and enable (4 ports) */
#define PV_PC_PM1_CNT     0x60c      /* pc_legacy_pic: PM1a control (2 ports) */

/* vCPU registers at entry (the rest is fixed by the layout above). */
struct pv_boot_regs {
	uint64_t rip, rsp, rdi, rsi;
};

/* A device model region. */
struct pv_dev {
	char name[32];
	bool mmio;
	uint64_t base, len;
	pv_io_fn fn;
	void *opaque;
};

/* Counters owned by one vCPU thread (written with relaxed atomics). */
struct pv_counters {
	uint64_t exits[PV_EXIT__COUNT];
	uint64_t hypercalls[PV_HC_NR];
	uint64_t hypercalls_unknown;
	uint64_t pio_unclaimed;
	uint64_t devs[PV_STATS_MAX_DEVS];
};

struct pv_vcpu {
	struct pv_vm *vm;
	unsigned int id;
	pthread_t thread;        /* set by the vCPU thread itself */
	pthread_t handle;        /* for pthread_join (owned by pv_vm_run) */
	bool joinable;
	atomic_bool in_thread;   /* set by the vCPU thread before it first runs */
	bool up;                 /* started (vCPU 0 at run, others by PV_HC_VCPU_UP) */
	struct pv_boot_regs boot;
	struct pv_counters cnt;
	uint64_t cpu_ns;         /* CPU time of the ended thread (vm->lock) */
	bool cpu_done;           /* cpu_ns is final: the thread has ended (vm->lock) */
	void *be;                /* backend state */
};

enum pv_vm_state { PV_VM_NEW, PV_VM_RUNNING, PV_VM_DONE };

/* ---- event channels (evtchn.c) ---- */
enum pv_evtchn_state { PV_EVT_FREE, PV_EVT_UNBOUND, PV_EVT_INTERDOMAIN, PV_EVT_MONITOR };

struct pv_evtchn {
	uint8_t state;
	uint16_t remote_domid;    /* UNBOUND: who may bind; INTERDOMAIN: the peer */
	uint32_t remote_port;     /* INTERDOMAIN */
	int efd;                  /* MONITOR: signalled by doorbells and sends */
	uint8_t gsi;              /* raised when pending goes 0 -> 1 (0: none) */
	bool masked;
	atomic_uint_fast64_t sends; /* MONITOR: hypercall sends not yet acknowledged */
};

struct pv_events {
	pthread_mutex_t lock;     /* guards ports[] and page */
	uint64_t page;            /* gpa of struct pv_event_page, 0 = none */
	unsigned int hi;          /* ports[0..hi) may be in use */
	int irqfd[PV_EVTCHN_GSI_MAX - PV_EVTCHN_GSI_MIN + 1]; /* per GSI, -1 until bound */
	struct pv_evtchn ports[PV_EVTCHN_MAX];
};

/* ---- grant tables (grant.c) ---- */
struct pv_grants {
	pthread_mutex_t lock;
	uint64_t table;           /* gpa of the guest's table, 0 = none */
	uint32_t nr;
	uint32_t *pins;           /* backends using each reference */
};

struct pv_backend_ops;
struct pv_control;

struct pv_vm {
	const struct pv_backend_ops *ops;
	void *be;
	uint8_t *ram;
	uint64_t ram_size;
	uint64_t map_end;        /* end of the identity map */
	uint64_t guest_min;      /* RAM below this belongs to the monitor */
	/* The ELF's executable segments, for backends that look at the code
	 * (the emulation backend's system-instruction checks). */
	struct pv_xseg {
		uint64_t paddr, vaddr, len;
	} xsegs[8];
	unsigned int nr_xsegs;
	unsigned int domid;
	unsigned int nr_vcpus;
	struct pv_vcpu *vcpus;
	struct pv_dev devs[PV_STATS_MAX_DEVS];  /* port and MMIO regions */
	unsigned int nr_devs;
	struct {
		const struct pv_device_ops *ops;
		void *dev;
	} models[PV_VM_MAX_DEVICES];           /* device models, in creation order */
	unsigned int nr_models;
	bool models_stopped;                   /* stop has run for every model */
	char cmdline[PV_CMDLINE_MAX];
	void (*console)(void *opaque, const char *buf, size_t len);
	void *console_opaque;
	bool loaded;
	enum pv_sandbox sandbox;                /* in effect (PV_SANDBOX overrides the config) */
	struct pv_control *control;             /* the control thread while a sandboxed run lasts */
	enum pv_platform platform;
	bool console_stdin;
	bool pc_legacy_pic;      /* pv_vm_config.pc_legacy_pic */
	struct pv_pc *pc;        /* PV_PLATFORM_PC devices (pc.c) */
	atomic_int pc_status;    /* PV_PC_STATUS_PORT */

	pthread_mutex_t lock;    /* guards the fields below */
	pthread_cond_t cond;
	enum pv_vm_state state;
	int result;              /* pv_vm_run's return value */
	int status;              /* guest exit status */
	char err[512];
	unsigned int waiting;    /* vCPUs blocked with no timeout */
	unsigned int running;    /* vCPUs started and not finished */
	uint64_t events;         /* wake-up sequence, bumped by pv__vm_wake */
	atomic_bool stopping;

	struct pv_events ev;
	struct pv_grants gt;
	atomic_uint_fast64_t doorbells; /* counted when acknowledged */
	atomic_uint_fast64_t interrupts; /* raised by the monitor (struct pv_stats) */
	struct pv_vm *next;      /* in the domain registry */

	uint64_t t_create, t_entry, t_end; /* CLOCK_MONOTONIC ns */
	struct pv_stats base;    /* subtracted by pv_vm_stats after a reset */
};

/* Execution backend: one small ops table, chosen per VM. */
struct pv_backend_ops {
	const char *name;
	unsigned int flags;                    /* PV_BACKEND_* below */
	int (*probe)(char *why, size_t n);     /* 0 if usable, else -ENODEV + reason */
	int (*vm_init)(struct pv_vm *vm);      /* RAM exists; vCPUs not yet */
	void (*vm_fini)(struct pv_vm *vm);
	int (*vcpu_init)(struct pv_vcpu *v);
	void (*vcpu_fini)(struct pv_vcpu *v);
	/* Enter at v->boot and run until vm->stopping; report exits via pv__*. */
	void (*vcpu_run)(struct pv_vcpu *v);
	/* Make vcpu_run notice vm->stopping soon (any thread). */
	void (*vcpu_kick)(struct pv_vcpu *v);
	/* Add KVM binary statistics of v into st (may be NULL). */
	void (*vcpu_kvm_stats)(struct pv_vcpu *v, struct pv_stats *st);
	/* Let doorbell writes of `port` signal efd without leaving the kernel
	 * (may be NULL: the backend then handles PV_DOORBELL_PORT in pv__pio). */
	int (*doorbell_add)(struct pv_vm *vm, unsigned int port, int efd);
	void (*doorbell_del)(struct pv_vm *vm, unsigned int port, int efd);
	/* The guest's TSC frequency in kHz, 0 if unknown (may be NULL). */
	uint32_t (*tsc_khz)(struct pv_vm *vm);
	/* Set the level of interrupt line gsi of the in-kernel irqchip (PC
	 * platform; NULL where the backend has none). */
	int (*irq_line)(struct pv_vm *vm, unsigned int gsi, int level);
	/* Make writes to efd raise gsi (edge) in the kernel (NULL: none). */
	int (*irqfd_add)(struct pv_vm *vm, unsigned int gsi, int efd);
};

/* The backend can run a PV_PLATFORM_PC VM (in-kernel irqchip, real-mode APs). */
#define PV_BACKEND_PC 2u

/* The guest's fences and locked instructions do not order or lock against
 * host threads (pv_vm_guest_fences() answers false). */
#define PV_BACKEND_DROPS_FENCES 1u

/* Register the emulation backend (libpv-emu calls this). */
void pv__register_emu(const struct pv_backend_ops *ops);
extern const struct pv_backend_ops pv__kvm_ops;

/* ---- exits, called by backends on the vCPU thread ---- */

/* Count one trap of reason r. */
static inline void pv__count(struct pv_vcpu *v, enum pv_exit_reason r)
{
	__atomic_store_n(&v->cnt.exits[r], v->cnt.exits[r] + 1, __ATOMIC_RELAXED);
}
#define PV_INC(field) __atomic_store_n(&(field), (field) + 1, __ATOMIC_RELAXED)

static inline bool pv__stopping(const struct pv_vm *vm)
{
	return atomic_load_explicit(&vm->stopping, memory_order_acquire);
}

/* Hypercalls go to pv__hypercall() of the hypercall layer
 * (hypercalls/hypercalls.h), which uses the services below. */
/* One port-I/O exit (counted here) moving count elements of size bytes at
 * data (count > 1 for string instructions).  Unclaimed reads give ~0. */
void pv__pio(struct pv_vcpu *v, uint16_t port, void *data, unsigned int size, unsigned int count, bool write);
/* The same, counted as an exit only if `exit` (the rest of a string
 * instruction that KVM would have moved in one exit). */
void pv__pio_access(struct pv_vcpu *v, uint16_t port, void *data, unsigned int size, unsigned int count, bool write,
		    bool exit);
/* An access to guest-physical memory that is not RAM (counted here): a
 * device's MMIO, or a fault ending the VM. */
void pv__mmio(struct pv_vcpu *v, uint64_t gpa, void *data, unsigned int size, bool write, uint64_t rip);
/* HLT executed at rip - 1 (counted here): wait for an event. */
void pv__hlt(struct pv_vcpu *v, uint64_t rip);
/* CPU exception `vector` at rip (counted as a fault): ends the VM. */
void pv__exception(struct pv_vcpu *v, unsigned int vector, uint64_t error, uint64_t rip, uint64_t cr2);
/* Any other fatal condition (counted as a fault): ends the VM with -EFAULT. */
void pv__fault(struct pv_vcpu *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* End the VM once: the first caller's result wins; kicks every vCPU. */
void pv__vm_end(struct pv_vm *vm, int result, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Wake vCPUs blocked in PV_HC_BLOCK/HLT (an event became pending). */
void pv__vm_wake(struct pv_vm *vm);
/* Block the calling vCPU until an event, stop, or timeout (0: none).
 * Returns 0 on event, PV_ETIMEDOUT, or PV_EAGAIN when nothing could wake it
 * (the VM is then ended as deadlocked). */
long pv__vm_block(struct pv_vcpu *v, uint64_t timeout_ns);
/* Start a secondary vCPU. */
long pv__vcpu_up(struct pv_vcpu *v, uint64_t id, uint64_t rip, uint64_t rsp, uint64_t arg);

/* Feature word 0 as this monitor offers it. */
#define PV_FEATURES0 (PV_F_CONSOLE | PV_F_TIME | PV_F_BLOCK | PV_F_SMP | PV_F_GRANT | PV_F_EVTCHN)

/* ---- loader.c ---- */
/* Write GDT, TSS, IDT, stubs and boot info; set vCPU 0's regs. */
int pv__boot_setup(struct pv_vm *vm, uint64_t entry, uint64_t image_end);
/* Write the identity-map page tables for RAM and every MMIO region. */
int pv__build_page_tables(struct pv_vm *vm);

/* ---- the PC platform (pc.c, pc_acpi.c, linux_boot.c) ---- */
/* Create the platform devices and ACPI tables of a PC VM (vCPUs exist). */
int pv__pc_init(struct pv_vm *vm);
/* Write the ACPI tables at PV_LX_ACPI_ADDR; returns the RSDP address. */
uint64_t pv__pc_acpi_build(struct pv_vm *vm);
/* A KVM exit that resets the machine (triple fault): end the run. */
void pv__pc_reset(struct pv_vm *vm, const char *why);
/* KVM's side of it (backend_kvm_pc.c): irqchip and PIT before any vCPU;
 * CPUID, MSRs and LAPIC of a vCPU; entry registers (vCPU 0 only). */
int pv__kvm_pc_vm_init(struct pv_vm *vm, int vmfd);
int pv__kvm_pc_vcpu_init(struct pv_vcpu *v, int kvm_fd, int fd);
int pv__kvm_pc_boot_regs(struct pv_vcpu *v, int fd);
int pv__kvm_pc_irq_line(int vmfd, unsigned int gsi, int level);
/* Guest output: the VM's console sink, else stdout (gives way to a stop). */
void pv__console_out(struct pv_vm *vm, const char *buf, size_t len);

/* ---- domains: every live VM, by domid ---- */
void pv__domains_rdlock(void);
void pv__domains_unlock(void);
/* The VM with this domid (caller holds the read lock), or NULL. */
struct pv_vm *pv__domain(unsigned int domid);

/* ---- evtchn.c / grant.c ---- */
void pv__events_init(struct pv_vm *vm);
void pv__events_fini(struct pv_vm *vm);
/* Is any pending byte of the guest set?  Can anything still wake it? */
bool pv__events_pending(struct pv_vm *vm);
bool pv__events_can_wake(struct pv_vm *vm);
/* A doorbell write of `value` that reached userspace (or the emulator). */
void pv__doorbell(struct pv_vcpu *v, uint32_t value);
/* A free port of vm (caller holds vm->ev.lock), or PV_ENOSPC. */
long pv__evtchn_alloc_port(struct pv_vm *vm);
/* Make port pending in vm's event page and wake it: 0, or -ENXIO when the
 * guest has no event page. */
int pv__evtchn_raise(struct pv_vm *vm, unsigned int port);
/* Bind port to gsi (0: unbind) / mask it (caller holds no lock): 0 or PV_E*. */
long pv__evtchn_bind_irq(struct pv_vm *vm, unsigned int port, unsigned int gsi);
long pv__evtchn_mask(struct pv_vm *vm, unsigned int port, bool masked);
/* Forget the event page and every interrupt binding. */
void pv__evtchn_detach(struct pv_vm *vm);
/* Signal a monitor port's eventfd. */
void pv__evtchn_signal(int fd);
void pv__grants_init(struct pv_vm *vm);
void pv__grants_fini(struct pv_vm *vm);

/* ---- sandbox.c ---- */
/* The signal that makes a vCPU's KVM_RUN return (pthread_kill). */
#define PV_KICK_SIGNAL (SIGRTMAX - 1)

enum pv__role { PV_ROLE_VCPU, PV_ROLE_DEVICE, PV_ROLE_CONTROL, PV_ROLE__COUNT };
/* The mode a VM asked for (asked), after the PV_SANDBOX environment
 * variable (off, kill, log); *err = -EINVAL for another value. */
enum pv_sandbox pv__sandbox_mode(enum pv_sandbox asked, int *err);
/* Confine the calling thread with role's list if vm's sandbox is on.
 * Returns 0 or a negative errno (nothing is loaded then). */
int pv__sandbox_enter(struct pv_vm *vm, enum pv__role role);
/* Start (sandbox on) and stop vm's control thread, around a run. */
int pv__control_start(struct pv_vm *vm);
void pv__control_stop(struct pv_vm *vm);

/* ---- misc ---- */
/*
 * The one rule for a page range a guest registers for sharing (grant
 * table, event page): [gpa, gpa + len) must start page-aligned (else
 * PV_EINVAL) and lie in RAM the guest owns, at or above vm->guest_min (else
 * PV_EFAULT; so 0 is never valid).  Returns the host pointer, or NULL with
 * *err set.
 */
void *pv__guest_shared(struct pv_vm *vm, uint64_t gpa, uint64_t len, long *err);
uint64_t pv__now_ns(void);
void pv__note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pv__set_error(struct pv_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *pv__exception_name(unsigned int vector);

#endif /* PV_INTERNAL_H */
