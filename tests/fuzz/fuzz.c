/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The no-guest backend and VM helpers of the fuzz harnesses (fuzz.h). */
#include "fuzz.h"

static int null_probe(char *why, size_t n)
{
	(void)why, (void)n;
	return 0;
}

static int null_vm_init(struct pv_vm *vm)
{
	(void)vm;
	return 0;
}

static void null_vm_fini(struct pv_vm *vm)
{
	(void)vm;
}

static int null_vcpu_init(struct pv_vcpu *v)
{
	(void)v;
	return 0;
}

static void null_vcpu(struct pv_vcpu *v)
{
	(void)v;
}

static const struct pv_backend_ops null_ops = {
	.name = "fuzz",
	.probe = null_probe,
	.vm_init = null_vm_init,
	.vm_fini = null_vm_fini,
	.vcpu_init = null_vcpu_init,
	.vcpu_fini = null_vcpu,
	.vcpu_run = null_vcpu,
	.vcpu_kick = null_vcpu,
};

/* The same, claiming the PC platform: no guest runs, so no interrupt is
 * ever injected (irq_line NULL), but the PC devices and the Linux loader
 * can be driven. */
static const struct pv_backend_ops null_pc_ops = {
	.name = "fuzz-pc",
	.flags = PV_BACKEND_PC,
	.probe = null_probe,
	.vm_init = null_vm_init,
	.vm_fini = null_vm_fini,
	.vcpu_init = null_vcpu_init,
	.vcpu_fini = null_vcpu,
	.vcpu_run = null_vcpu,
	.vcpu_kick = null_vcpu,
};

static void quiet_console(void *opaque, const char *buf, size_t len)
{
	(void)opaque, (void)buf, (void)len;
}

static struct pv_vm *create(uint64_t ram_size, unsigned int vcpus, enum pv_platform platform,
			    const struct pv_backend_ops *ops)
{
	struct pv_vm_config cfg = { .ram_size = ram_size, .vcpus = vcpus, .backend = PV_BACKEND_EMU,
				    .platform = platform, .console = quiet_console };
	struct pv_vm *vm;

	pv__register_emu(ops);
	if (pv_vm_create(&cfg, &vm) < 0) {
		fprintf(stderr, "fuzz: cannot create a VM: %s\n", pv_last_error());
		abort();
	}
	fuzz_vm_reset(vm);
	return vm;
}

struct pv_vm *fuzz_vm(uint64_t ram_size, unsigned int vcpus)
{
	return create(ram_size, vcpus, PV_PLATFORM_LIBPV, &null_ops);
}

struct pv_vm *fuzz_vm_pc(uint64_t ram_size, unsigned int vcpus)
{
	return create(ram_size, vcpus, PV_PLATFORM_PC, &null_pc_ops);
}

void fuzz_vm_reset(struct pv_vm *vm)
{
	pv__events_fini(vm);
	memset(&vm->ev, 0, sizeof(vm->ev));
	pv__events_init(vm);
	pthread_mutex_lock(&vm->gt.lock);
	free(vm->gt.pins);
	vm->gt.pins = NULL;
	vm->gt.table = 0;
	vm->gt.nr = 0;
	pthread_mutex_unlock(&vm->gt.lock);
	atomic_store(&vm->stopping, false);
	atomic_store(&vm->doorbells, 0);
	vm->result = vm->status = 0;
	vm->err[0] = 0;
	vm->waiting = 0;
	vm->running = 1;
	vm->events = 0;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].up = i == 0;
}
