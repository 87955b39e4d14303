/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hypercall handlers: one function per number, registered in dispatch.c. */
#ifndef PV_HYPERCALLS_H
#define PV_HYPERCALLS_H

#include "../libpv/internal.h"

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

#endif
