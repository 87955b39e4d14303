/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The emulation backend: each vCPU is a Unicorn engine over the VM's RAM
 * (shared, zero-copy).  Built as libpv-emu because Unicorn is GPL-2.0.
 *
 * Unicorn 2.0 facts this relies on (DESIGN.md section 3): paging is walked
 * but ignored (the identity map makes that harmless); the guest IDT is never
 * used, so exceptions arrive through UC_HOOK_INTR or as uc_err values; port
 * I/O arrives in UC_HOOK_INSN hooks, where we handle it completely; HLT makes
 * uc_emu_start return with the byte before RIP equal to 0xF4.
 *
 * Unicorn 2.1 (DESIGN.md section 10) honours the guest's page tables, so an
 * access the identity map does not cover (page 0, past RAM) is a #PF raised
 * at the exact instruction, with CR2 set, before any of its effects; the
 * fault is reported from there and nothing is replayed.  2.0 has no page
 * faults: the access fails in the physical map, RIP is the start of the
 * translation block, and exact_rip() replays the block to name the
 * instruction.  On both, WRMSR and FXRSTOR are checked where KVM would
 * raise #GP (emu_sysinsn.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unicorn/unicorn.h>

#include "emu_fault.h"
#include "emu_sysinsn.h"

#include "internal.h"
#include "../hypercalls/hypercalls.h"
#include "pv/emu.h"


/* MMIO callbacks carry (vCPU, device) in one small record per device. */
struct emu_mmio {
	struct pv_vcpu *v;
	struct pv_dev *d;
};

struct emu_vcpu_be {
	uc_engine *uc;
	uc_engine *probe;        /* Unicorn 2.1: the scratch engine of emu_fault.h */
	struct emu_mmio mmio[PV_STATS_MAX_DEVS];
	bool mmio_mapped;
	bool sysinsn_hooked;     /* emu_sysinsn_hooks() done */
	atomic_bool kicked;
	atomic_bool in_run;      /* inside emu_vcpu_run: see emu_vcpu_kick */
	/* The first invalid memory access seen by the hook, for the message. */
	bool bad_access;
	uint64_t bad_addr;
	int bad_size;
	bool bad_write;
	/* An exception seen by the interrupt hook. */
	bool intr;
	uint32_t intno;
	uint64_t intr_rip;       /* where the exception hit, when a hook knows (else 0) */
	uint64_t intr_cr2;       /* CR2 at a #PF (Unicorn 2.1) */
	/* REP INS chunking (ins_new_exit). */
	uint64_t ins_left, ins_rcx, ins_rdi;
	uint32_t ins_port;
	unsigned int ins_size;
	/* Replay state of exact_rip(). */
	uint64_t last_pc;
	unsigned int steps;
	bool replaying;          /* devices and hypercalls must not see the replay */
};

/* Unicorn 2.1 or later: paging honoured, #PF exact (see the top). */
static bool uc21;

static int emu_probe(char *why, size_t n)
{
	(void)why, (void)n;
	return 0;
}

/* Say once per process that Unicorn 2.0 is slow. */
static void version_note(void)
{
	unsigned int major = 0, minor = 0;

	uc_version(&major, &minor);
	if (!uc21)
		pv__note("Unicorn %u.%u makes emulation slow (every guest store takes a slow path, fixed in 2.1; "
			 "scripts/unicorn21.sh fetches 2.1)", major, minor);
}

static int emu_vm_init(struct pv_vm *vm)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	(void)vm;
	pthread_once(&once, version_note);
	return 0;
}

static void emu_vm_fini(struct pv_vm *vm)
{
	(void)vm;
}

static uint64_t reg(uc_engine *uc, int r)
{
	uint64_t v = 0;

	uc_reg_read(uc, r, &v);
	return v;
}

static void hook_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *user)
{
	struct pv_vcpu *v = user;

	if (((struct emu_vcpu_be *)v->be)->replaying)
		return;
	if (pv__stopping(v->vm)) { /* the rest of a block after the VM ended */
		uc_emu_stop(uc);
		return;
	}
	if (port == PV_HC_PORT && size == 4) {
		/* Register reads dominate a hypercall here: read only the
		 * arguments this hypercall takes. */
		static const int ids[4] = { UC_X86_REG_RDI, UC_X86_REG_RSI, UC_X86_REG_R8, UC_X86_REG_R9 };
		uint64_t nr = value, a[4] = { 0 }; /* the number is the value written */
		void *ptrs[4] = { &a[0], &a[1], &a[2], &a[3] };
		unsigned int n = pv__hypercall_nargs(nr);
		uint64_t ret;

		if (n)
			uc_reg_read_batch(uc, (int *)ids, ptrs, (int)n);
		ret = pv__hypercall(v, nr, a);
		uc_reg_write(uc, UC_X86_REG_RAX, &ret);
		if (pv__stopping(v->vm))
			uc_emu_stop(uc);
		return;
	}
	if (port == PV_DOORBELL_PORT && size == 4) { /* what KVM's ioeventfd does */
		pv__doorbell(v, value);
		return;
	}
	if (port == PV_NULL_PORT) {
		pv__count(v, PV_EXIT_PIO);
		PV_INC(v->cnt.pio_unclaimed);
		return;
	}
	pv__pio(v, (uint16_t)port, &value, (unsigned int)size, 1, true);
	if (pv__stopping(v->vm))
		uc_emu_stop(uc);
}

/*
 * KVM moves a REP INS to userspace in chunks of
 * min(RCX, 1024 / size, 4096 - (RDI & 4095)) elements (its emulator's
 * 1024-byte read-ahead; the last term is bytes compared with elements, as
 * KVM does), while Unicorn calls the hook per element.  Count one exit per
 * such chunk so both backends report the same exits for the same guest.
 * RIP in the hook is not exact, so an element continues a chunk when it
 * continues the previous one: same port and size, RCX one less, RDI one
 * element further.  (REP OUTS exits once per element on KVM too.)
 */
static bool ins_new_exit(struct emu_vcpu_be *be, uc_engine *uc, uint32_t port, unsigned int size)
{
	uint64_t rcx = reg(uc, UC_X86_REG_RCX), rdi = reg(uc, UC_X86_REG_RDI);
	bool cont = be->ins_left && port == be->ins_port && size == be->ins_size && rcx == be->ins_rcx - 1 &&
		    rdi == be->ins_rdi + size;

	be->ins_port = port;
	be->ins_size = size;
	be->ins_rcx = rcx;
	be->ins_rdi = rdi;
	if (cont) {
		be->ins_left--;
		return false;
	}
	{
		uint64_t n = 1024 / size, page = 4096 - (rdi & 4095);

		if (page < n)
			n = page;
		if (rcx < n)
			n = rcx;
		be->ins_left = n ? n - 1 : 0;
	}
	return true;
}

static uint32_t hook_in(uc_engine *uc, uint32_t port, int size, void *user)
{
	struct pv_vcpu *v = user;
	uint32_t value = 0;
	bool exit;

	if (((struct emu_vcpu_be *)v->be)->replaying)
		return ~0u;
	if (pv__stopping(v->vm)) {
		uc_emu_stop(uc);
		return ~0u;
	}
	exit = ins_new_exit(v->be, uc, port, (unsigned int)size);
	pv__pio_access(v, (uint16_t)port, &value, (unsigned int)size, 1, false, exit);
	if (pv__stopping(v->vm))
		uc_emu_stop(uc);
	return value;
}

static void hook_intr(uc_engine *uc, uint32_t intno, void *user)
{
	struct pv_vcpu *v = user;
	struct emu_vcpu_be *be = v->be;

	if (!be->intr) {
		be->intr = true;
		be->intno = intno;
		if (uc21 && intno == 14) { /* exact on 2.1: raised by the page walk */
			be->intr_rip = reg(uc, UC_X86_REG_RIP);
			be->intr_cr2 = reg(uc, UC_X86_REG_CR2);
		}
	}
	uc_emu_stop(uc);
}

/* SYSCALL with EFER.SCE clear raises #UD on hardware and KVM; Unicorn runs it
 * as a no-op.  Report the #UD at the instruction. */
static void hook_syscall(uc_engine *uc, void *user)
{
	struct pv_vcpu *v = user;
	struct emu_vcpu_be *be = v->be;

	if (!be->intr) {
		be->intr = true;
		be->intno = 6;
		be->intr_rip = reg(uc, UC_X86_REG_RIP);
	}
	uc_emu_stop(uc);
}

static bool hook_invalid(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *user)
{
	struct pv_vcpu *v = user;
	struct emu_vcpu_be *be = v->be;

	(void)uc, (void)value;
	if (!be->bad_access) {
		be->bad_access = true;
		be->bad_addr = addr;
		be->bad_size = size;
		be->bad_write = type == UC_MEM_WRITE_UNMAPPED || type == UC_MEM_WRITE_PROT;
	}
	return false;
}


static uint64_t mmio_read(uc_engine *uc, uint64_t off, unsigned size, void *user)
{
	struct emu_mmio *m = user;
	uint64_t val = 0;

	if (((struct emu_vcpu_be *)m->v->be)->replaying)
		return ~0ull;
	if (pv__stopping(m->v->vm)) {
		uc_emu_stop(uc);
		return ~0ull;
	}
	pv__mmio(m->v, m->d->base + off, &val, size, false, reg(uc, UC_X86_REG_RIP));
	if (pv__stopping(m->v->vm))
		uc_emu_stop(uc);
	return val;
}

static void mmio_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t value, void *user)
{
	struct emu_mmio *m = user;

	if (((struct emu_vcpu_be *)m->v->be)->replaying)
		return;
	if (pv__stopping(m->v->vm)) {
		uc_emu_stop(uc);
		return;
	}
	pv__mmio(m->v, m->d->base + off, &value, size, true, reg(uc, UC_X86_REG_RIP));
	if (pv__stopping(m->v->vm))
		uc_emu_stop(uc);
}

/* A system instruction that faults on KVM (emu_sysinsn.h): report it at
 * the instruction, which does not run. */
static void sysinsn_fault(struct pv_vcpu *v, unsigned int vector, uint64_t rip)
{
	struct emu_vcpu_be *be = v->be;

	if (!be->intr) {
		be->intr = true;
		be->intno = vector;
		be->intr_rip = rip;
	}
	uc_emu_stop(be->uc);
}

static int uc_fail(struct pv_vm *vm, const char *what, uc_err e)
{
	pv__set_error(vm, "%s: %s", what, uc_strerror(e));
	return -EIO;
}

static int emu_vcpu_init(struct pv_vcpu *v)
{
	struct pv_vm *vm = v->vm;
	struct emu_vcpu_be *be = calloc(1, sizeof(*be));
	uc_hook h;
	uc_err e;

	if (!be)
		return -ENOMEM;
	v->be = be;
	e = uc_open(UC_ARCH_X86, UC_MODE_64, &be->uc);
	if (e)
		return uc_fail(vm, "uc_open", e);
	/* RAM minus the first page, which stays unmapped so NULL faults. */
	e = uc_mem_map_ptr(be->uc, 4096, vm->ram_size - 4096, UC_PROT_ALL, vm->ram + 4096);
	if (e)
		return uc_fail(vm, "uc_mem_map_ptr", e);
	if ((e = uc_hook_add(be->uc, &h, UC_HOOK_INSN, (void *)hook_out, v, 1, 0, UC_X86_INS_OUT)) ||
	    (e = uc_hook_add(be->uc, &h, UC_HOOK_INSN, (void *)hook_in, v, 1, 0, UC_X86_INS_IN)) ||
	    (e = uc_hook_add(be->uc, &h, UC_HOOK_INSN, (void *)hook_syscall, v, 1, 0, UC_X86_INS_SYSCALL)) ||
	    (e = uc_hook_add(be->uc, &h, UC_HOOK_INTR, (void *)hook_intr, v, 1, 0)) ||
	    (e = uc_hook_add(be->uc, &h, UC_HOOK_MEM_INVALID, (void *)hook_invalid, v, 1, 0)))
		return uc_fail(vm, "uc_hook_add", e);
	be->probe = emu_probe_open();
	return 0;
}

uc_engine *emu_vcpu_probe(struct pv_vcpu *v)
{
	return v->be ? ((struct emu_vcpu_be *)v->be)->probe : NULL;
}

static void emu_vcpu_fini(struct pv_vcpu *v)
{
	struct emu_vcpu_be *be = v->be;

	if (!be)
		return;
	if (be->uc)
		uc_close(be->uc);
	if (be->probe)
		uc_close(be->probe);
	free(be);
	v->be = NULL;
}

static int set_boot_regs(struct pv_vcpu *v)
{
	uc_engine *uc = ((struct emu_vcpu_be *)v->be)->uc;
	uc_x86_mmr gdtr = { .base = PV_GDT_ADDR, .limit = PV_GDT_LIMIT };
	uc_x86_mmr idtr = { .base = PV_IDT_ADDR, .limit = 256 * 16 - 1 };
	uc_x86_msr efer = { .rid = 0xc0000080, .value = PV_EFER };
	uint64_t cr0 = PV_CR0, cr3 = PV_PT_ADDR, cr4 = PV_CR4, rflags = 2;
	uint64_t cs = PV_SEL_CODE, ds = PV_SEL_DATA;
	uc_err e;

	if ((e = uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr)) || (e = uc_reg_write(uc, UC_X86_REG_IDTR, &idtr)) ||
	    (e = uc_reg_write(uc, UC_X86_REG_CR3, &cr3)) || (e = uc_reg_write(uc, UC_X86_REG_CR4, &cr4)) ||
	    (e = uc_reg_write(uc, UC_X86_REG_MSR, &efer)) || (e = uc_reg_write(uc, UC_X86_REG_CR0, &cr0)) ||
	    (e = uc_reg_write(uc, UC_X86_REG_CS, &cs)) || (e = uc_reg_write(uc, UC_X86_REG_SS, &ds)) ||
	    (e = uc_reg_write(uc, UC_X86_REG_DS, &ds)) || (e = uc_reg_write(uc, UC_X86_REG_ES, &ds)) ||
	    (e = uc_reg_write(uc, UC_X86_REG_RSP, &v->boot.rsp)) ||
	    (e = uc_reg_write(uc, UC_X86_REG_RDI, &v->boot.rdi)) ||
	    (e = uc_reg_write(uc, UC_X86_REG_RSI, &v->boot.rsi)) ||
	    (e = uc_reg_write(uc, UC_X86_REG_EFLAGS, &rflags)))
		return uc_fail(v->vm, "setting boot registers", e);
	return 0;
}

static int map_mmio(struct pv_vcpu *v)
{
	struct emu_vcpu_be *be = v->be;
	struct pv_vm *vm = v->vm;
	for (unsigned int i = 0; i < vm->nr_devs; i++) {
		struct pv_dev *d = &vm->devs[i];
		struct emu_mmio *m;
		uc_err e;

		if (!d->mmio)
			continue;
		m = &be->mmio[i];
		m->v = v;
		m->d = d;
		e = uc_mmio_map(be->uc, d->base, d->len, mmio_read, m, mmio_write, m);
		if (e)
			return uc_fail(vm, "uc_mmio_map", e);
	}
	be->mmio_mapped = true;
	return 0;
}

/*
 * Unicorn reports an invalid access with RIP at the start of the translation
 * block.  To name the faulting instruction, replay from there under a code
 * hook that records each instruction's address until the access fails
 * again.  The VM is ending, so repeated stores to its own RAM do not
 * matter, but port I/O, MMIO and hypercalls are not repeated: their hooks
 * do nothing while `replaying` (reads give all ones).  The replay is
 * bounded.
 */
static void hook_code(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	struct emu_vcpu_be *be = user;

	(void)size;
	be->last_pc = addr;
	if (++be->steps > 4096)
		uc_emu_stop(uc);
}

static uint64_t exact_rip(struct pv_vcpu *v, uint64_t rip)
{
	struct emu_vcpu_be *be = v->be;
	uint64_t addr = be->bad_addr;
	uc_hook h;

	if (uc_hook_add(be->uc, &h, UC_HOOK_CODE, (void *)hook_code, be, 1, 0))
		return rip;
	uc_ctl_remove_cache(be->uc, rip & ~4095ull, (rip & ~4095ull) + 8192); /* retranslate with the hook */
	be->bad_access = false;
	be->steps = 0;
	be->last_pc = rip;
	be->replaying = true;
	if (uc_emu_start(be->uc, rip, 0, 0, 0) != UC_ERR_OK && be->bad_access && be->bad_addr == addr)
		rip = be->last_pc;
	be->replaying = false;
	uc_hook_del(be->uc, h);
	be->bad_access = true;
	be->bad_addr = addr;
	return rip;
}

/* Turn what stopped the engine into a fault message. */
static void report(struct pv_vcpu *v, uc_err e, uint64_t rip)
{
	struct emu_vcpu_be *be = v->be;

	if (be->intr && be->intno == 14 && uc21) {
		uint64_t regs[EMU_FAULT_NREGS];

		emu_fault_regs(be->uc, regs);
		pv__exception(v, 14, emu_fault_is_write(be->probe, v->vm, regs, be->intr_rip, be->intr_cr2) ? 2 : 0,
			      be->intr_rip, be->intr_cr2);
		return;
	}
	if (be->intr) {
		pv__exception(v, be->intno, 0, be->intr_rip ? be->intr_rip : rip, 0);
		return;
	}
	switch (e) {
	case UC_ERR_INSN_INVALID:
		pv__exception(v, 6, 0, rip, 0);
		return;
	case UC_ERR_READ_UNMAPPED:
	case UC_ERR_WRITE_UNMAPPED:
	case UC_ERR_FETCH_UNMAPPED:
		/* On 2.1 only a guest's own page tables reach here (a
		 * translation to a physical address outside RAM): RIP names
		 * the block, nothing runs twice. */
		if (e != UC_ERR_FETCH_UNMAPPED && be->bad_access && !uc21)
			rip = exact_rip(v, rip);
		if (be->bad_access && be->bad_addr < 4096) {
			pv__exception(v, 14, be->bad_write ? 2 : 0, rip, be->bad_addr);
			return;
		}
		if (be->bad_access) {
			pv__fault(v, "access outside guest RAM: %s at 0x%llx (rip 0x%llx)", be->bad_write ? "write" : "read",
				  (unsigned long long)be->bad_addr, (unsigned long long)rip);
			return;
		}
		break;
	default:
		break;
	}
	pv__fault(v, "emulator error: %s (rip 0x%llx)", uc_strerror(e), (unsigned long long)rip);
}

static void emu_vcpu_run(struct pv_vcpu *v)
{
	struct emu_vcpu_be *be = v->be;
	struct pv_vm *vm = v->vm;
	uint64_t rip = v->boot.rip;
	int r = set_boot_regs(v);

	if (r == 0 && !be->mmio_mapped)
		r = map_mmio(v);
	if (r == 0 && !be->sysinsn_hooked) {
		emu_sysinsn_hooks(be->uc, v, sysinsn_fault);
		be->sysinsn_hooked = true;
	}
	if (r < 0) {
		pv__vm_end(vm, r, 0, "vCPU %u: %s", v->id, vm->err);
		return;
	}
	/* No time slices: Unicorn 2.0.1 re-executes the instruction a timeout
	 * interrupted (corrupting the guest), so stops come from emu_vcpu_kick. */
	atomic_store(&be->in_run, true);
	while (!pv__stopping(vm)) {
		uc_err e = uc_emu_start(be->uc, rip, 0, 0, 0);

		rip = reg(be->uc, UC_X86_REG_RIP);
		if (pv__stopping(vm))
			break;
		if (e != UC_ERR_OK || be->intr) {
			report(v, e, rip);
			break;
		}
		if (atomic_exchange(&be->kicked, false))
			continue;
		if (rip > 4096 && rip <= vm->ram_size && vm->ram[rip - 1] == 0xf4)
			pv__hlt(v, rip);
	}
	atomic_store(&be->in_run, false);
}

/*
 * Called after vm->stopping is set.  uc_emu_start forgets a stop requested
 * just before it starts, so keep asking until the vCPU has left
 * emu_vcpu_run (it sets in_run before it first reads vm->stopping, so either
 * it sees the stop or we see it running).  A vCPU blocked in a hook wakes
 * on the VM's condition variable and stops by itself.
 */
static void emu_vcpu_kick(struct pv_vcpu *v)
{
	struct emu_vcpu_be *be = v->be;
	struct timespec ts = { 0, 200000 };

	if (!be || !be->uc)
		return;
	atomic_store(&be->kicked, true);
	uc_emu_stop(be->uc);
	if (atomic_load(&v->in_thread) && pthread_equal(pthread_self(), v->thread))
		return; /* from our own hook: the stop above is enough */
	for (int i = 0; i < 10000 && atomic_load(&be->in_run); i++) {
		uc_emu_stop(be->uc);
		nanosleep(&ts, NULL);
	}
}

/* One (TSC, CLOCK_MONOTONIC) pair: the tightest bracket of several reads,
 * so a cold first call or a preemption cannot skew it. */
static void tsc_sample(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 8; i++) {
		struct timespec ts;
		uint64_t a = __builtin_ia32_rdtsc(), b;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		b = __builtin_ia32_rdtsc();
		if (b - a < best) {
			best = b - a;
			*tsc = a + (b - a) / 2;
			*ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		}
	}
}

static uint32_t host_tsc_khz;

/* Unicorn's rdtsc reads the host TSC: measure its rate once, over 200 us
 * (the pair bracketing makes it good to ~0.1%). */
static void calibrate_tsc(void)
{
	uint64_t t0, n0, t1, n1;

	tsc_sample(&t0, &n0);
	do
		tsc_sample(&t1, &n1);
	while (n1 - n0 < 200000);
	host_tsc_khz = (uint32_t)((t1 - t0) * 1000000ull / (n1 - n0));
}

static uint32_t emu_tsc_khz(struct pv_vm *vm)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	(void)vm;
	pthread_once(&once, calibrate_tsc);
	return host_tsc_khz;
}

static const struct pv_backend_ops emu_ops = {
	.name = "emu",
	.flags = PV_BACKEND_DROPS_FENCES,
	.probe = emu_probe,
	.vm_init = emu_vm_init,
	.vm_fini = emu_vm_fini,
	.vcpu_init = emu_vcpu_init,
	.vcpu_fini = emu_vcpu_fini,
	.vcpu_run = emu_vcpu_run,
	.vcpu_kick = emu_vcpu_kick,
	.tsc_khz = emu_tsc_khz,
};

void pv_emu_register(void)
{
	unsigned int major = 0, minor = 0;

	uc_version(&major, &minor);
	uc21 = major > 2 || (major == 2 && minor >= 1);
	pv__register_emu(&emu_ops);
}
