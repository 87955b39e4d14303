/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hypercall dispatch (pv__hypercall) over random guest memory and
 * registers, on two VMs so that grant copies and event channels cross
 * domains, with doorbells and monitor notifications in between: what a
 * hostile guest can do from its vCPUs.  Each input is a list of calls,
 * then the bytes of guest memory at PV_GUEST_LOAD_MIN in both VMs.  A call
 * is (number, vCPU, argument forms, argument sizes, arguments).  An
 * argument is used raw, or pointed into that window, or made small (a
 * port, a domain id, a count), or page-aligned in RAM.
 * Invariants: every call returns (PV_HC_BLOCK gets a short timeout), no
 * grant stays pinned once the calls are done, and a VM that was not ended
 * keeps its guest-visible state consistent (event page inside RAM).
 */
#include "fuzz.h"
#include "../../hypercalls/hypercalls.h"

#define RAM (4ull << 20)
#define WIN PV_GUEST_LOAD_MIN
#define WIN_SIZE (64u << 10)
#define MAX_CALLS 24u
#define NR_DOORBELL PV_HC_NR       /* pseudo-calls: what the backend or */
#define NR_NOTIFY (PV_HC_NR + 1)   /* the monitor does between hypercalls */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t shape(struct pv_vm *vm, unsigned int form, uint64_t raw)
{
	switch (form & 3) {
	case 0:
		return raw;
	case 1:
		return WIN + raw % WIN_SIZE;
	case 2:
		return raw % 64;
	default:
		return (raw % vm->ram_size) & ~0xfffull;
	}
}

static void check_pins(struct pv_vm *vm)
{
	for (unsigned int i = 0; i < vm->gt.nr; i++)
		FUZZ_CHECK(vm->gt.pins[i] == 0);
	FUZZ_CHECK(vm->ev.page == 0 || (vm->ev.page % 4096 == 0 && vm->ev.page >= vm->guest_min &&
					 vm->ev.page + PV_EVTCHN_MAX <= vm->ram_size));
	FUZZ_CHECK(vm->gt.table == 0 || (vm->gt.table % 4096 == 0 && vm->gt.table >= vm->guest_min &&
					 vm->gt.table + (uint64_t)vm->gt.nr * sizeof(struct pv_grant_entry) <=
						 vm->ram_size));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pv_vm *vms[2];
	static int efd;
	struct fuzz_in in = { data, size };
	unsigned int ncalls;
	struct {
		uint8_t nr, who, forms, sizes;
		uint64_t a[4];
	} calls[MAX_CALLS];

	if (!vms[0]) {
		vms[0] = fuzz_vm(RAM, 2);
		vms[1] = fuzz_vm(RAM, 1);
	}
	ncalls = (unsigned int)(fuzz_take(&in, 1) % MAX_CALLS) + 1;
	for (unsigned int i = 0; i < ncalls; i++) {
		calls[i].nr = (uint8_t)fuzz_take(&in, 1);
		calls[i].who = (uint8_t)fuzz_take(&in, 1);
		calls[i].forms = (uint8_t)fuzz_take(&in, 1);
		calls[i].sizes = (uint8_t)fuzz_take(&in, 1);
		for (unsigned int k = 0; k < 4; k++)
			calls[i].a[k] = fuzz_take(&in, calls[i].sizes & (1u << k) ? 8 : 2);
	}
	for (unsigned int d = 0; d < 2; d++) {
		fuzz_vm_reset(vms[d]);
		memcpy(vms[d]->ram + WIN, in.p, in.n < WIN_SIZE ? in.n : WIN_SIZE);
		if (in.n < WIN_SIZE)
			memset(vms[d]->ram + WIN + in.n, 0, WIN_SIZE - in.n);
	}
	/* A monitor port on VM 0, as a device would have. */
	FUZZ_CHECK(pv_evtchn_alloc_monitor(vms[0], &efd) >= 0);

	for (unsigned int i = 0; i < ncalls; i++) {
		struct pv_vm *vm = vms[calls[i].who & 1];
		struct pv_vcpu *v = &vm->vcpus[(calls[i].who >> 1) % vm->nr_vcpus];
		unsigned int nr = calls[i].nr % (PV_HC_NR + 3); /* and one unknown number */
		uint64_t a[4];

		for (unsigned int k = 0; k < 4; k++)
			a[k] = shape(vm, calls[i].forms >> (2 * k), calls[i].a[k]);
		if (nr == PV_HC_BLOCK)
			a[0] = 1 + a[0] % 100000; /* returns within 0.1 ms */
		if (nr == NR_DOORBELL)
			pv__doorbell(v, (uint32_t)a[0]);
		else if (nr == NR_NOTIFY)
			pv_evtchn_notify(vm, (unsigned int)a[0]);
		else
			pv__hypercall(v, nr == PV_HC_NR + 2 ? a[3] | PV_HC_NR : nr, a);
		check_pins(vms[0]);
		check_pins(vms[1]);
	}
	pv_evtchn_ack(vms[0], 0);
	return 0;
}
