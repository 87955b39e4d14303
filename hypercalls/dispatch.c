/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hypercall table: number -> handler and argument count. */
#include "hypercalls.h"

static const struct {
	pv_hc_fn fn;
	unsigned int nargs;
} table[PV_HC_NR] = {
	[PV_HC_VERSION] = { pv_hc_version, 0 },
	[PV_HC_FEATURES] = { pv_hc_features, 1 },
	[PV_HC_CONSOLE_WRITE] = { pv_hc_console_write, 2 },
	[PV_HC_EXIT] = { pv_hc_exit, 1 },
	[PV_HC_TIME] = { pv_hc_time, 0 },
	[PV_HC_YIELD] = { pv_hc_yield, 0 },
	[PV_HC_BLOCK] = { pv_hc_block, 3 },
	[PV_HC_VCPU_UP] = { pv_hc_vcpu_up, 4 },
	[PV_HC_FAULT] = { pv_hc_fault, 4 },
	[PV_HC_GRANT_SETUP] = { pv_hc_grant_setup, 2 },
	[PV_HC_GRANT_END] = { pv_hc_grant_end, 1 },
	[PV_HC_GRANT_COPY] = { pv_hc_grant_copy, 2 },
	[PV_HC_EVTCHN_SETUP] = { pv_hc_evtchn_setup, 1 },
	[PV_HC_EVTCHN_ALLOC] = { pv_hc_evtchn_alloc, 1 },
	[PV_HC_EVTCHN_BIND] = { pv_hc_evtchn_bind, 2 },
	[PV_HC_EVTCHN_SEND] = { pv_hc_evtchn_send, 1 },
	[PV_HC_EVTCHN_CLOSE] = { pv_hc_evtchn_close, 1 },
	[PV_HC_EVTCHN_BIND_IRQ] = { pv_hc_evtchn_bind_irq, 2 },
	[PV_HC_EVTCHN_MASK] = { pv_hc_evtchn_mask, 2 },
	[PV_HC_DETACH] = { pv_hc_detach, 0 },
};

unsigned int pv__hypercall_nargs(uint64_t nr)
{
	return nr < PV_HC_NR ? table[nr].nargs : 0;
}

uint64_t pv__hypercall(struct pv_vcpu *v, uint64_t nr, const uint64_t a[4])
{
	if (nr == PV_HC_FAULT) /* the monitor's exception stubs: counted as the fault */
		return pv_hc_fault(v, a);
	pv__count(v, PV_EXIT_HYPERCALL);
	if (nr >= PV_HC_NR || !table[nr].fn) {
		PV_INC(v->cnt.hypercalls_unknown);
		return (uint64_t)(int64_t)PV_ENOSYS;
	}
	PV_INC(v->cnt.hypercalls[nr]);
	return table[nr].fn(v, a);
}
