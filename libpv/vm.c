/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VMs: creation, RAM, devices, vCPU threads, and how a run ends. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "pv/linux.h"

static atomic_uint next_domid = 1;

/* ---- the domain registry: every live VM, so domains can find each other ---- */
/* Writers first: a guest's stream of grant copies (readers) must not starve
 * another VM's creation or destruction.  No thread takes it twice. */
static pthread_rwlock_t domains_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static struct pv_vm *domains;

void pv__domains_rdlock(void)
{
	pthread_rwlock_rdlock(&domains_lock);
}

void pv__domains_unlock(void)
{
	pthread_rwlock_unlock(&domains_lock);
}

struct pv_vm *pv__domain(unsigned int domid)
{
	for (struct pv_vm *vm = domains; vm; vm = vm->next)
		if (vm->domid == domid)
			return vm;
	return NULL;
}
static _Thread_local char last_error[256];

uint64_t pv__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *pv_last_error(void)
{
	return last_error;
}

const char *pv_vm_error(const struct pv_vm *vm)
{
	return vm ? vm->err : "no VM";
}

void pv__set_error(struct pv_vm *vm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vm->err, sizeof(vm->err), fmt, ap);
	va_end(ap);
}

static int create_error(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

const char *pv_vm_backend(const struct pv_vm *vm)
{
	return vm ? vm->ops->name : "";
}

bool pv_vm_guest_fences(const struct pv_vm *vm)
{
	return vm && !(vm->ops->flags & PV_BACKEND_DROPS_FENCES);
}

unsigned int pv_vm_domid(const struct pv_vm *vm)
{
	return vm ? vm->domid : 0;
}

unsigned int pv_vm_vcpus(const struct pv_vm *vm)
{
	return vm ? vm->nr_vcpus : 0;
}

unsigned int pv_vcpu_id(const struct pv_vcpu *vcpu)
{
	return vcpu ? vcpu->id : UINT_MAX;
}

void *pv_vm_ram(struct pv_vm *vm, uint64_t *size)
{
	if (size)
		*size = vm ? vm->ram_size : 0;
	return vm ? vm->ram : NULL;
}

void *pv_gpa_ptr(struct pv_vm *vm, pv_gpa_t gpa, uint64_t len)
{
	if (!vm)
		return NULL;
	if (len == 0)
		len = 1;
	if (gpa >= vm->ram_size || len > vm->ram_size - gpa)
		return NULL;
	return vm->ram + gpa;
}

void *pv__guest_shared(struct pv_vm *vm, uint64_t gpa, uint64_t len, long *err)
{
	void *p;

	if (gpa % 4096) {
		*err = PV_EINVAL;
		return NULL;
	}
	p = gpa >= vm->guest_min ? pv_gpa_ptr(vm, gpa, len) : NULL;
	*err = p ? 0 : PV_EFAULT;
	return p;
}

/* ---- backends ---- */

static const struct pv_backend_ops *emu_ops;

void pv__register_emu(const struct pv_backend_ops *ops)
{
	emu_ops = ops;
}

static const struct pv_backend_ops *backend_ops(enum pv_backend b, char *why, size_t n)
{
	const struct pv_backend_ops *ops = b == PV_BACKEND_KVM ? &pv__kvm_ops : emu_ops;

	if (!ops) {
		snprintf(why, n, "the emulation backend is not linked in (link libpv-emu and call pv_emu_register())");
		return NULL;
	}
	return ops->probe(why, n) == 0 ? ops : NULL;
}

int pv_backend_probe(enum pv_backend b, char *why, size_t n)
{
	char buf[200];

	if (b != PV_BACKEND_KVM && b != PV_BACKEND_EMU) {
		snprintf(why ? why : buf, why ? n : sizeof(buf), "unknown backend %d", (int)b);
		return -EINVAL;
	}
	return backend_ops(b, why ? why : buf, why ? n : sizeof(buf)) ? 0 : -ENODEV;
}

static const struct pv_backend_ops *choose_backend(enum pv_backend b)
{
	static atomic_bool noted;
	char why[200] = "", why2[200] = "";
	const struct pv_backend_ops *ops;

	if (b == PV_BACKEND_KVM || b == PV_BACKEND_EMU) {
		ops = backend_ops(b, why, sizeof(why));
		if (!ops)
			create_error(-ENODEV, "backend %s unusable: %s", b == PV_BACKEND_KVM ? "kvm" : "emu", why);
		return ops;
	}
	ops = backend_ops(PV_BACKEND_KVM, why, sizeof(why));
	if (ops)
		return ops;
	ops = backend_ops(PV_BACKEND_EMU, why2, sizeof(why2));
	if (!ops) {
		create_error(-ENODEV, "no usable backend: kvm: %s; emu: %s", why, why2);
		return NULL;
	}
	if (!atomic_exchange(&noted, true))
		pv__note("%s; using the emulation backend", why);
	return ops;
}

/* ---- VM lifetime ---- */

/*
 * Guest RAM: anonymous, aligned to 2 MiB and marked for transparent huge
 * pages, so KVM can map it with 2 MiB pages in the nested page tables (a
 * Linux guest's first touch of its memory is then one nested page fault per
 * 2 MiB instead of one per 4 KiB page), and left out of core dumps.
 */
#define RAM_ALIGN (2ull << 20)
static int map_ram(struct pv_vm *vm)
{
	size_t len = vm->ram_size + RAM_ALIGN;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uintptr_t start;

	if (p == MAP_FAILED)
		return -errno;
	start = ((uintptr_t)p + RAM_ALIGN - 1) & ~(uintptr_t)(RAM_ALIGN - 1);
	if (start > (uintptr_t)p)
		munmap(p, start - (uintptr_t)p);
	if ((uintptr_t)p + len > start + vm->ram_size)
		munmap((void *)(start + vm->ram_size), (uintptr_t)p + len - (start + vm->ram_size));
	vm->ram = (void *)start;
	madvise(vm->ram, vm->ram_size, MADV_HUGEPAGE); /* advice: fails harmlessly without THP */
	madvise(vm->ram, vm->ram_size, MADV_DONTDUMP);
	return 0;
}

int pv_vm_create(const struct pv_vm_config *cfg, struct pv_vm **out)
{
	uint64_t t0 = pv__now_ns();
	unsigned int vcpus;
	struct pv_vm *vm;
	int r;

	if (!cfg || !out)
		return create_error(-EINVAL, "no configuration");
	*out = NULL;
	vcpus = cfg->vcpus ? cfg->vcpus : 1;
	if (vcpus > PV_MAX_VCPUS)
		return create_error(-EINVAL, "%u vCPUs: the limit is %d", vcpus, PV_MAX_VCPUS);
	if (cfg->ram_size < PV_RAM_MIN || cfg->ram_size > PV_RAM_MAX || cfg->ram_size % (2u << 20))
		return create_error(-EINVAL, "RAM size %llu bytes: must be a multiple of 2 MiB from %llu MiB to %llu GiB",
				    (unsigned long long)cfg->ram_size, PV_RAM_MIN >> 20, PV_RAM_MAX >> 30);
	if (cfg->platform != PV_PLATFORM_LIBPV && cfg->platform != PV_PLATFORM_PC)
		return create_error(-EINVAL, "unknown platform %d", (int)cfg->platform);
	if (cfg->platform == PV_PLATFORM_PC && cfg->ram_size > PV_PC_RAM_MAX)
		return create_error(-EINVAL, "RAM size %llu MiB: the PC platform takes at most %llu MiB (below the IOAPIC)",
				    (unsigned long long)(cfg->ram_size >> 20), PV_PC_RAM_MAX >> 20);
	if (cfg->ram_size > (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE))
		return create_error(-E2BIG, "RAM size %llu MiB exceeds the host's memory",
				    (unsigned long long)(cfg->ram_size >> 20));
	if (cfg->cmdline && strlen(cfg->cmdline) >= PV_CMDLINE_MAX)
		return create_error(-EINVAL, "command line longer than %u bytes", PV_CMDLINE_MAX - 1);
	if (cfg->sandbox != PV_SANDBOX_OFF && cfg->sandbox != PV_SANDBOX_KILL && cfg->sandbox != PV_SANDBOX_LOG)
		return create_error(-EINVAL, "unknown sandbox mode %d", (int)cfg->sandbox);
	(void)pv__sandbox_mode(cfg->sandbox, &r);
	if (r < 0)
		return create_error(-EINVAL, "PV_SANDBOX=%s: use off, kill or log", getenv("PV_SANDBOX"));

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return create_error(-ENOMEM, "out of memory");
	vm->t_create = t0;
	vm->ops = choose_backend(cfg->backend);
	if (!vm->ops) {
		free(vm);
		return -ENODEV;
	}
	if (cfg->platform == PV_PLATFORM_PC && !(vm->ops->flags & PV_BACKEND_PC)) {
		r = create_error(-EOPNOTSUPP, "backend %s cannot run the PC platform (it injects no interrupts): use kvm",
				 vm->ops->name);
		free(vm);
		return r;
	}
	vm->platform = cfg->platform;
	vm->console_stdin = cfg->console_stdin;
	vm->pc_legacy_pic = cfg->pc_legacy_pic;
	vm->ram_size = cfg->ram_size;
	vm->map_end = cfg->ram_size;
	vm->guest_min = PV_GUEST_LOAD_MIN;
	vm->nr_vcpus = vcpus;
	vm->sandbox = pv__sandbox_mode(cfg->sandbox, &r);
	if (cfg->platform == PV_PLATFORM_PC && vm->sandbox != PV_SANDBOX_OFF) {
		/* Its UART input thread, panic timer and interrupt ioctls have no
		 * allowlist yet. */
		pv__note("the PC platform (Linux guests) is not confined yet: this VM runs without the sandbox");
		vm->sandbox = PV_SANDBOX_OFF;
	}
	vm->console = cfg->console;
	vm->console_opaque = cfg->console_opaque;
	if (cfg->cmdline)
		strcpy(vm->cmdline, cfg->cmdline);
	pthread_mutex_init(&vm->lock, NULL);
	pv__events_init(vm);
	pv__grants_init(vm);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&vm->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	r = map_ram(vm);
	if (r < 0) {
		r = create_error(r, "cannot map %llu MiB of guest RAM: %s", (unsigned long long)(vm->ram_size >> 20),
				 strerror(-r));
		goto fail;
	}
	vm->vcpus = calloc(vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		r = create_error(-ENOMEM, "out of memory");
		goto fail;
	}
	r = vm->ops->vm_init(vm);
	if (r < 0) {
		create_error(r, "%s: cannot create VM: %s", vm->ops->name, vm->err);
		vm->ops = NULL;
		goto fail;
	}
	for (unsigned int i = 0; i < vcpus; i++) {
		struct pv_vcpu *v = &vm->vcpus[i];

		v->vm = vm;
		v->id = i;
		r = vm->ops->vcpu_init(v);
		if (r < 0) {
			create_error(r, "%s: cannot create vCPU %u: %s", vm->ops->name, i, vm->err);
			goto fail;
		}
	}
	if (vm->platform == PV_PLATFORM_PC) {
		r = pv__pc_init(vm);
		if (r < 0) {
			create_error(r, "cannot create the PC platform devices: %s", strerror(-r));
			goto fail;
		}
	}
	/* Domain ids are never reused (a stale grant must not name a new VM)
	 * and must fit the ABI's 16-bit fields below PV_DOMID_SELF. */
	vm->domid = atomic_load(&next_domid);
	do {
		if (vm->domid >= PV_DOMID_SELF) {
			vm->domid = 0;
			r = create_error(-ENOSPC, "domain ids exhausted: %u VMs per process", PV_DOMID_SELF - 1);
			goto fail;
		}
	} while (!atomic_compare_exchange_weak(&next_domid, &vm->domid, vm->domid + 1));
	pthread_rwlock_wrlock(&domains_lock);
	vm->next = domains;
	domains = vm;
	pthread_rwlock_unlock(&domains_lock);
	*out = vm;
	return 0;
fail:
	pv_vm_destroy(vm);
	return r;
}

/* ---- device models: started with the run, stopped before RAM goes ---- */

int pv_vm_add_device(struct pv_vm *vm, const struct pv_device_ops *ops, void *dev)
{
	if (!vm || !ops || !dev)
		return -EINVAL;
	if (vm->state != PV_VM_NEW)
		return -EBUSY;
	if (vm->nr_models == PV_VM_MAX_DEVICES)
		return -ENOSPC;
	vm->models[vm->nr_models].ops = ops;
	vm->models[vm->nr_models].dev = dev;
	vm->nr_models++;
	return 0;
}

static int start_devices(struct pv_vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_models; i++) {
		const struct pv_device_ops *ops = vm->models[i].ops;
		int r = ops->start ? ops->start(vm->models[i].dev) : 0;

		if (r < 0) {
			pv__set_error(vm, "device %s cannot start: %s", ops->name, strerror(-r));
			return r;
		}
	}
	return 0;
}

/* Once per VM, every model, started or not, in reverse creation order. */
static void stop_devices(struct pv_vm *vm)
{
	if (vm->models_stopped)
		return;
	vm->models_stopped = true;
	for (unsigned int i = vm->nr_models; i-- > 0;)
		if (vm->models[i].ops->stop)
			vm->models[i].ops->stop(vm->models[i].dev);
}

void pv_vm_destroy(struct pv_vm *vm)
{
	if (!vm)
		return;
	/* Devices first: their threads use guest RAM, grants and event channels. */
	stop_devices(vm);
	for (unsigned int i = vm->nr_models; i-- > 0;)
		if (vm->models[i].ops->destroy)
			vm->models[i].ops->destroy(vm->models[i].dev);
	vm->nr_models = 0;
	/* Out of the registry first: once we hold the write lock, no other
	 * domain is in the middle of a grant copy or an event send to us. */
	pthread_rwlock_wrlock(&domains_lock);
	for (struct pv_vm **p = &domains; *p; p = &(*p)->next) {
		if (*p == vm) {
			*p = vm->next;
			break;
		}
	}
	pthread_rwlock_unlock(&domains_lock);
	pv__events_fini(vm); /* closes eventfds before the backend's VM fd */
	if (vm->ops) {
		for (unsigned int i = 0; vm->vcpus && i < vm->nr_vcpus; i++)
			if (vm->vcpus[i].vm)
				vm->ops->vcpu_fini(&vm->vcpus[i]);
		vm->ops->vm_fini(vm);
	}
	free(vm->vcpus);
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	pv__grants_fini(vm);
	pthread_cond_destroy(&vm->cond);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

/* ---- devices ---- */

static int add_dev(struct pv_vm *vm, const char *name, bool mmio, uint64_t base, uint64_t len, pv_io_fn fn,
		   void *opaque)
{
	struct pv_dev *d;

	if (!vm || !fn || !name || len == 0)
		return -EINVAL;
	if (vm->state != PV_VM_NEW)
		return -EBUSY;
	if (vm->nr_devs == PV_STATS_MAX_DEVS)
		return -ENOSPC;
	for (unsigned int i = 0; i < vm->nr_devs; i++) {
		d = &vm->devs[i];
		if (d->mmio == mmio && base < d->base + d->len && d->base < base + len)
			return -EEXIST;
	}
	d = &vm->devs[vm->nr_devs++];
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->mmio = mmio;
	d->base = base;
	d->len = len;
	d->fn = fn;
	d->opaque = opaque;
	return 0;
}

int pv_vm_add_pio(struct pv_vm *vm, const char *name, uint16_t port, uint16_t count, pv_io_fn fn, void *opaque)
{
	if ((uint32_t)port + count > 0x10000)
		return -EINVAL;
	if (port <= PV_DOORBELL_PORT && PV_HC_PORT < (uint32_t)port + count)
		return -EEXIST; /* the hypercall, null and doorbell ports belong to libpv */
	return add_dev(vm, name, false, port, count, fn, opaque);
}

int pv_vm_add_mmio(struct pv_vm *vm, const char *name, pv_gpa_t gpa, uint64_t len, pv_io_fn fn, void *opaque)
{
	int r;

	if (!vm || gpa % 4096 || len % 4096 || gpa < vm->ram_size || gpa > PV_MMIO_LIMIT ||
	    len > PV_MMIO_LIMIT - gpa)
		return -EINVAL;
	r = add_dev(vm, name, true, gpa, len, fn, opaque);
	if (r == 0 && gpa + len > vm->map_end)
		vm->map_end = gpa + len;
	return r;
}

static struct pv_dev *find_dev(struct pv_vm *vm, bool mmio, uint64_t addr, unsigned int size, unsigned int *idx)
{
	for (unsigned int i = 0; i < vm->nr_devs; i++) {
		struct pv_dev *d = &vm->devs[i];

		if (d->mmio == mmio && addr >= d->base && addr - d->base < d->len && size <= d->len - (addr - d->base)) {
			*idx = i;
			return d;
		}
	}
	return NULL;
}

void pv__pio(struct pv_vcpu *v, uint16_t port, void *data, unsigned int size, unsigned int count, bool write)
{
	pv__pio_access(v, port, data, size, count, write, true);
}

void pv__pio_access(struct pv_vcpu *v, uint16_t port, void *data, unsigned int size, unsigned int count, bool write,
		    bool exit)
{
	unsigned int idx;
	struct pv_dev *d = find_dev(v->vm, false, port, size, &idx);

	if (exit)
		pv__count(v, PV_EXIT_PIO);
	if (!d) {
		if (exit)
			PV_INC(v->cnt.pio_unclaimed);
		if (!write)
			memset(data, 0xff, (size_t)size * count);
		return;
	}
	if (exit)
		PV_INC(v->cnt.devs[idx]);
	for (unsigned int i = 0; i < count; i++) {
		uint8_t *p = (uint8_t *)data + (size_t)i * size;

		if (!write)
			memset(p, 0, size);
		d->fn(d->opaque, v, port, p, size, write);
	}
}

void pv__mmio(struct pv_vcpu *v, uint64_t gpa, void *data, unsigned int size, bool write, uint64_t rip)
{
	unsigned int idx;
	struct pv_dev *d = find_dev(v->vm, true, gpa, size, &idx);

	if (!d && v->vm->platform == PV_PLATFORM_PC) {
		/* A PC has holes: reads of nothing give ~0, writes vanish. */
		pv__count(v, PV_EXIT_MMIO);
		if (!write)
			memset(data, 0xff, size);
		return;
	}
	if (!d) {
		pv__fault(v, "access outside guest RAM: %s of %u bytes at 0x%llx (rip 0x%llx)", write ? "write" : "read",
			  size, (unsigned long long)gpa, (unsigned long long)rip);
		return;
	}
	pv__count(v, PV_EXIT_MMIO);
	PV_INC(v->cnt.devs[idx]);
	if (!write)
		memset(data, 0, size);
	d->fn(d->opaque, v, gpa, data, size, write);
}

/* ---- ending a run ---- */

void pv__vm_end(struct pv_vm *vm, int result, int status, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->lock);
	if (atomic_load(&vm->stopping)) {
		pthread_mutex_unlock(&vm->lock);
		return;
	}
	vm->result = result;
	vm->status = status;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(vm->err, sizeof(vm->err), fmt, ap);
		va_end(ap);
	}
	vm->t_end = pv__now_ns();
	atomic_store_explicit(&vm->stopping, true, memory_order_release);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vm->ops->vcpu_kick(&vm->vcpus[i]);
}

void pv_vm_stop(struct pv_vm *vm)
{
	if (vm)
		pv__vm_end(vm, -EINTR, 0, "stopped by the monitor");
}

void pv__fault(struct pv_vcpu *v, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	pv__count(v, PV_EXIT_FAULT);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pv__vm_end(v->vm, -EFAULT, 0, "guest fault on vCPU %u: %s", v->id, msg);
}

static const char *const exc_names[32] = {
	[0] = "#DE divide error", [1] = "#DB debug", [2] = "NMI", [3] = "#BP breakpoint", [4] = "#OF overflow",
	[5] = "#BR bound range", [6] = "#UD invalid opcode", [7] = "#NM device not available",
	[8] = "#DF double fault", [10] = "#TS invalid TSS", [11] = "#NP segment not present",
	[12] = "#SS stack fault", [13] = "#GP general protection", [14] = "#PF page fault",
	[16] = "#MF x87 error", [17] = "#AC alignment check", [18] = "#MC machine check",
	[19] = "#XM SIMD error", [20] = "#VE virtualization", [21] = "#CP control protection",
};

const char *pv__exception_name(unsigned int vector)
{
	if (vector < 32 && exc_names[vector])
		return exc_names[vector];
	return vector < 32 ? "reserved exception" : "unexpected interrupt";
}

void pv__exception(struct pv_vcpu *v, unsigned int vector, uint64_t error, uint64_t rip, uint64_t cr2)
{
	/* A page fault on the library's identity map means the address is not
	 * RAM: say so the way a bad physical access is reported.  Other page
	 * faults (RAM or a high address the guest's own page tables leave out)
	 * name the address and the access. */
	if (vector == 14 && cr2 >= 4096 && (cr2 < v->vm->ram_size || cr2 >= (1ull << 47))) {
		pv__fault(v, "%s: %s at 0x%llx not mapped by the guest's page tables (rip 0x%llx)",
			  pv__exception_name(vector), error & 0x10 ? "fetch" : error & 2 ? "write" : "read",
			  (unsigned long long)cr2, (unsigned long long)rip);
		return;
	}
	if (vector == 14 && cr2 >= 4096) {
		pv__fault(v, "access outside guest RAM: %s at 0x%llx (rip 0x%llx)", error & 2 ? "write" : "read",
			  (unsigned long long)cr2, (unsigned long long)rip);
		return;
	}
	if (vector == 14) {
		pv__fault(v, "%s: NULL page access at 0x%llx (rip 0x%llx)", pv__exception_name(vector),
			  (unsigned long long)cr2, (unsigned long long)rip);
		return;
	}
	if (vector >= 32)
		pv__fault(v, "%s (rip 0x%llx)", pv__exception_name(vector), (unsigned long long)rip);
	else
		pv__fault(v, "%s (vector %u) at rip 0x%llx", pv__exception_name(vector), vector,
			  (unsigned long long)rip);
	(void)error;
}

/* ---- blocking and waking ---- */

void pv__vm_wake(struct pv_vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->events++;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

long pv__vm_block(struct pv_vcpu *v, uint64_t timeout_ns)
{
	struct pv_vm *vm = v->vm;
	struct timespec ts;
	long ret = 0;
	uint64_t seen;

	if (timeout_ns >= PV_BLOCK_FOREVER_NS)
		timeout_ns = 0; /* beyond any clock: no timeout (and no overflow below) */
	if (timeout_ns) {
		uint64_t t = pv__now_ns() + timeout_ns;

		ts.tv_sec = (time_t)(t / 1000000000ull);
		ts.tv_nsec = (long)(t % 1000000000ull);
	}
	pthread_mutex_lock(&vm->lock);
	seen = vm->events;
	if (!timeout_ns)
		vm->waiting++;
	/* Senders set a pending byte, then bump vm->events under vm->lock:
	 * checking the bytes under the lock loses no wake-up. */
	while (vm->events == seen && !atomic_load(&vm->stopping) && !pv__events_pending(vm)) {
		if (!timeout_ns && vm->waiting == vm->running && !pv__events_can_wake(vm)) {
			/* Every started vCPU waits and nothing can wake one. */
			pthread_mutex_unlock(&vm->lock);
			pv__fault(v, "every vCPU waits for an event and no event source exists (deadlock)");
			pthread_mutex_lock(&vm->lock);
			ret = PV_EAGAIN;
			break;
		}
		if (timeout_ns) {
			if (pthread_cond_timedwait(&vm->cond, &vm->lock, &ts) == ETIMEDOUT) {
				ret = PV_ETIMEDOUT;
				break;
			}
		} else {
			pthread_cond_wait(&vm->cond, &vm->lock);
		}
	}
	if (!timeout_ns)
		vm->waiting--;
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

void pv__hlt(struct pv_vcpu *v, uint64_t rip)
{
	(void)rip;
	pv__count(v, PV_EXIT_HLT);
	pv__vm_block(v, 0);
}

/* ---- running ---- */

static void *vcpu_thread(void *arg)
{
	struct pv_vcpu *v = arg;
	struct pv_vm *vm = v->vm;
	struct timespec ts;
	int r;

	v->thread = pthread_self();
	atomic_store(&v->in_thread, true); /* before any look at vm->stopping: see vcpu_kick */
	r = pv__sandbox_enter(vm, PV_ROLE_VCPU);
	if (r < 0)
		pv__vm_end(vm, r, 0, "vCPU %u: cannot load the sandbox filter: %s", v->id, strerror(-r));
	pthread_mutex_lock(&vm->lock);
	while (!v->up && !atomic_load(&vm->stopping))
		pthread_cond_wait(&vm->cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
	if (!atomic_load(&vm->stopping)) {
		if (v->id == 0)
			vm->t_entry = pv__now_ns();
		vm->ops->vcpu_run(v);
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	pthread_mutex_lock(&vm->lock);
	v->cpu_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	v->cpu_done = true;
	if (v->up)
		vm->running--;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}

long pv__vcpu_up(struct pv_vcpu *v, uint64_t id, uint64_t rip, uint64_t rsp, uint64_t arg)
{
	struct pv_vm *vm = v->vm;
	struct pv_vcpu *t;
	long ret = 0;

	if (id == 0 || id >= vm->nr_vcpus)
		return PV_EINVAL;
	if (!pv_gpa_ptr(vm, rip, 1) || rip < PV_GUEST_LOAD_MIN || rsp > vm->ram_size || rsp < PV_GUEST_LOAD_MIN)
		return PV_EFAULT;
	t = &vm->vcpus[id];
	pthread_mutex_lock(&vm->lock);
	if (t->up) {
		ret = PV_EBUSY;
	} else {
		t->boot = (struct pv_boot_regs){ .rip = rip, .rsp = rsp, .rdi = arg, .rsi = id };
		t->up = true;
		vm->running++;
		pthread_cond_broadcast(&vm->cond);
	}
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

int pv_vm_run(struct pv_vm *vm, int *status)
{
	unsigned int i;
	int r;

	if (!vm)
		return -EINVAL;
	if (!vm->loaded) {
		pv__set_error(vm, "no guest loaded");
		return -ENOEXEC;
	}
	pthread_mutex_lock(&vm->lock);
	if (vm->state != PV_VM_NEW) {
		pthread_mutex_unlock(&vm->lock);
		pv__set_error(vm, "a VM runs once");
		return -EBUSY;
	}
	r = vm->platform == PV_PLATFORM_PC ? 0 : pv__build_page_tables(vm);
	if (r < 0) {
		pthread_mutex_unlock(&vm->lock);
		return r;
	}
	vm->state = PV_VM_RUNNING;
	pthread_mutex_unlock(&vm->lock);
	r = start_devices(vm);
	if (r == 0) {
		r = pv__control_start(vm);
		if (r < 0)
			pv__set_error(vm, "cannot start the sandboxed control thread: %s", strerror(-r));
	}
	pthread_mutex_lock(&vm->lock);
	if (r < 0) {
		vm->state = PV_VM_DONE;
		pthread_mutex_unlock(&vm->lock);
		stop_devices(vm);
		return r;
	}
	vm->vcpus[0].up = true;
	vm->running = 1;
	for (i = 1; vm->platform == PV_PLATFORM_PC && i < vm->nr_vcpus; i++) {
		vm->vcpus[i].up = true; /* in KVM_RUN, waiting for the guest's SIPI */
		vm->running++;
	}
	pthread_mutex_unlock(&vm->lock);

	for (i = 0; i < vm->nr_vcpus; i++) {
		pthread_t t;

		r = -pthread_create(&t, NULL, vcpu_thread, &vm->vcpus[i]);
		if (r < 0) {
			pv__vm_end(vm, r, 0, "cannot start vCPU thread %u: %s", i, strerror(-r));
			break;
		}
		vm->vcpus[i].handle = t;
		vm->vcpus[i].joinable = true;
	}
	for (i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].joinable)
			pthread_join(vm->vcpus[i].handle, NULL);
	pv__control_stop(vm); /* no vCPU asks it for anything any more */
	stop_devices(vm); /* no guest code runs any more: the devices end too */
	pthread_mutex_lock(&vm->lock);
	vm->state = PV_VM_DONE;
	if (!atomic_load(&vm->stopping)) {
		/* Every vCPU returned without an exit: a backend error. */
		vm->result = -EIO;
		snprintf(vm->err, sizeof(vm->err), "every vCPU stopped without a guest exit");
	}
	r = vm->result;
	if (r == 0 && status)
		*status = vm->status;
	pthread_mutex_unlock(&vm->lock);
	return r;
}
