/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Core hypercalls: version, features, exit, time, yield, block, vcpu_up, fault. */
#include <sched.h>

#include "hypercalls.h"

#define RET(x) ((uint64_t)(int64_t)(x))

uint64_t pv_hc_version(struct pv_vcpu *v, const uint64_t a[4])
{
	(void)v, (void)a;
	return PV_ABI_VERSION;
}

uint64_t pv_hc_features(struct pv_vcpu *v, const uint64_t a[4])
{
	if (a[0] != 0)
		return 0;
	return PV_FEATURES0 | (v->vm->platform == PV_PLATFORM_PC ? PV_F_EVTCHN_IRQ : 0);
}

uint64_t pv_hc_exit(struct pv_vcpu *v, const uint64_t a[4])
{
	pv__vm_end(v->vm, 0, (int)(a[0] & 0xff), NULL);
	return 0;
}

uint64_t pv_hc_time(struct pv_vcpu *v, const uint64_t a[4])
{
	(void)a;
	return pv__now_ns() - v->vm->t_create;
}

uint64_t pv_hc_yield(struct pv_vcpu *v, const uint64_t a[4])
{
	(void)v, (void)a;
	sched_yield();
	return 0;
}

uint64_t pv_hc_block(struct pv_vcpu *v, const uint64_t a[4])
{
	if (a[1]) {
		const uint32_t *w = pv_gpa_ptr(v->vm, a[1], 4);

		if (a[1] % 4)
			return RET(PV_EINVAL);
		if (!w)
			return RET(PV_EFAULT);
		/* Pairs with the full barrier a producer runs between publishing
		 * and reading the guest's event index. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(w, __ATOMIC_RELAXED) != (uint32_t)a[2])
			return 0;
	}
	return RET(pv__vm_block(v, a[0]));
}

uint64_t pv_hc_vcpu_up(struct pv_vcpu *v, const uint64_t a[4])
{
	return RET(pv__vcpu_up(v, a[0], a[1], a[2], a[3]));
}

uint64_t pv_hc_fault(struct pv_vcpu *v, const uint64_t a[4])
{
	pv__exception(v, (unsigned int)(a[0] > 255 ? 255 : a[0]), a[1], a[2], a[3]);
	return 0;
}
