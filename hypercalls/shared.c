/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Grant-table and event-channel hypercalls: thin wrappers over libpv/grant.c
 * and libpv/evtchn.c, which also serve the host API. */
#include "hypercalls.h"

#define RET(x) ((uint64_t)(int64_t)(x))

uint64_t pv_hc_grant_setup(struct pv_vcpu *v, const uint64_t a[4]) { return RET(pv__grant_setup(v->vm, a[0], a[1])); }
uint64_t pv_hc_grant_end(struct pv_vcpu *v, const uint64_t a[4]) { return RET(pv__grant_end(v->vm, a[0])); }
uint64_t pv_hc_grant_copy(struct pv_vcpu *v, const uint64_t a[4]) { return RET(pv__grant_copy(v->vm, a[0], a[1])); }
uint64_t pv_hc_evtchn_setup(struct pv_vcpu *v, const uint64_t a[4]) { return RET(pv__evtchn_setup(v->vm, a[0])); }
uint64_t pv_hc_evtchn_alloc(struct pv_vcpu *v, const uint64_t a[4]) { return RET(pv__evtchn_alloc(v->vm, a[0])); }
uint64_t pv_hc_evtchn_bind(struct pv_vcpu *v, const uint64_t a[4])
{
	return RET(pv__evtchn_bind(v->vm, a[0], a[1]));
}
uint64_t pv_hc_evtchn_send(struct pv_vcpu *v, const uint64_t a[4]) { return RET(pv__evtchn_send(v->vm, a[0])); }
uint64_t pv_hc_evtchn_close(struct pv_vcpu *v, const uint64_t a[4]) { return RET(pv__evtchn_close(v->vm, a[0])); }
