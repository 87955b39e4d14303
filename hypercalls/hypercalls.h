/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hypercall layer: the guest ABI's hypercalls, one handler per number
 * in a table (dispatch.c), each answering from the VM's state through the
 * services of libpv/internal.h.  The dependency runs one way: the backends
 * call pv__hypercall() when a guest traps on PV_HC_PORT; this layer calls
 * libpv's core (VMs, grants, event channels); the core never calls here.
 */
#ifndef PV_HYPERCALLS_H
#define PV_HYPERCALLS_H

#include "../libpv/internal.h"

/* ---- for the backends ---- */

/* How many argument registers hypercall nr reads (backends may skip the rest). */
unsigned int pv__hypercall_nargs(uint64_t nr);
/* A hypercall (counted here): returns the value for RAX.  Arguments beyond
 * pv__hypercall_nargs(nr) may be left zero. */
uint64_t pv__hypercall(struct pv_vcpu *v, uint64_t nr, const uint64_t a[4]);

/* ---- the handlers (within this folder) ---- */

/* A handler gets the calling vCPU and arguments a[0..3] and returns RAX. */
typedef uint64_t (*pv_hc_fn)(struct pv_vcpu *v, const uint64_t a[4]);

uint64_t pv_hc_version(struct pv_vcpu *v, const uint64_t a[4]);
uint64_t pv_hc_features(struct pv_vcpu *v, const uint64_t a[4]);
uint64_t pv_hc_console_write(struct pv_vcpu *v, const uint64_t a[4]);
uint64_t pv_hc_exit(struct pv_vcpu *v, const uint64_t a[4]);
uint64_t pv_hc_time(struct pv_vcpu *v, const uint64_t a[4]);
uint64_t pv_hc_yield(struct pv_vcpu *v, const uint64_t a[4]);
uint64_t pv_hc_block(struct pv_vcpu *v, const uint64_t a[4]);
uint64_t pv_hc_vcpu_up(struct pv_vcpu *v, const uint64_t a[4]);
uint64_t pv_hc_fault(struct pv_vcpu *v, const uint64_t a[4]);
uint64_t pv_hc_grant_setup(struct pv_vcpu *v, const uint64_t a[4]);
uint64_t pv_hc_grant_end(struct pv_vcpu *v, const uint64_t a[4]);
uint64_t pv_hc_grant_copy(struct pv_vcpu *v, const uint64_t a[4]);
uint64_t pv_hc_evtchn_setup(struct pv_vcpu *v, const uint64_t a[4]);
uint64_t pv_hc_evtchn_alloc(struct pv_vcpu *v, const uint64_t a[4]);
uint64_t pv_hc_evtchn_bind(struct pv_vcpu *v, const uint64_t a[4]);
uint64_t pv_hc_evtchn_send(struct pv_vcpu *v, const uint64_t a[4]);
uint64_t pv_hc_evtchn_close(struct pv_vcpu *v, const uint64_t a[4]);
uint64_t pv_hc_evtchn_bind_irq(struct pv_vcpu *v, const uint64_t a[4]);
uint64_t pv_hc_evtchn_mask(struct pv_vcpu *v, const uint64_t a[4]);
uint64_t pv_hc_detach(struct pv_vcpu *v, const uint64_t a[4]);

#endif
