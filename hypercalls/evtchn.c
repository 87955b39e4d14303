/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Event-channel hypercalls: PV_HC_EVTCHN_SETUP, _ALLOC, _BIND, _SEND and
 * _CLOSE (see <pv/abi/core.h>).  Ports, pending bytes and the monitor's
 * side (pv_evtchn_*) are libpv/evtchn.c.
 */
#include <errno.h>

#include "hypercalls.h"

uint64_t pv_hc_evtchn_setup(struct pv_vcpu *v, const uint64_t a[4])
{
	struct pv_vm *vm = v->vm;
	uint64_t page = a[0];
	long r;

	if (!pv__guest_shared(vm, page, sizeof(struct pv_event_page), &r))
		return (uint64_t)r;
	pthread_mutex_lock(&vm->ev.lock);
	__atomic_store_n(&vm->ev.page, page, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->ev.lock);
	return 0;
}

uint64_t pv_hc_evtchn_alloc(struct pv_vcpu *v, const uint64_t a[4])
{
	struct pv_vm *vm = v->vm;
	uint64_t remote = a[0];
	long port;

	if (remote > 0xffff || remote == vm->domid)
		return PV_EINVAL;
	pthread_mutex_lock(&vm->ev.lock);
	port = pv__evtchn_alloc_port(vm);
	if (port > 0) {
		vm->ev.ports[port].remote_domid = (uint16_t)remote;
		__atomic_store_n(&vm->ev.ports[port].state, PV_EVT_UNBOUND, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vm->ev.lock);
	return port;
}

uint64_t pv_hc_evtchn_bind(struct pv_vcpu *v, const uint64_t a[4])
{
	struct pv_vm *vm = v->vm;
	uint64_t remote = a[0], remote_port = a[1];
	struct pv_vm *peer;
	long port, r = 0;

	if (remote == vm->domid || remote > 0xffff || remote_port == 0 || remote_port >= PV_EVTCHN_MAX)
		return PV_EINVAL;
	pv__domains_rdlock();
	peer = pv__domain((unsigned int)remote);
	if (!peer) {
		pv__domains_unlock();
		return PV_ENOENT;
	}
	/* Lock order: lower domid first. */
	if (vm->domid < peer->domid) {
		pthread_mutex_lock(&vm->ev.lock);
		pthread_mutex_lock(&peer->ev.lock);
	} else {
		pthread_mutex_lock(&peer->ev.lock);
		pthread_mutex_lock(&vm->ev.lock);
	}
	if (peer->ev.ports[remote_port].state != PV_EVT_UNBOUND ||
	    peer->ev.ports[remote_port].remote_domid != vm->domid) {
		r = PV_EPERM;
	} else if ((port = pv__evtchn_alloc_port(vm)) < 0) {
		r = port;
	} else {
		vm->ev.ports[port] = (struct pv_evtchn){ .state = PV_EVT_INTERDOMAIN, .remote_domid = (uint16_t)remote,
							.remote_port = (uint32_t)remote_port,
							.efd = vm->ev.ports[port].efd /* kept: see pv_evtchn_close */ };
		peer->ev.ports[remote_port].remote_port = (uint32_t)port;
		__atomic_store_n(&peer->ev.ports[remote_port].state, PV_EVT_INTERDOMAIN, __ATOMIC_RELEASE);
		r = port;
	}
	pthread_mutex_unlock(&vm->ev.lock);
	pthread_mutex_unlock(&peer->ev.lock);
	pv__domains_unlock();
	return r;
}

uint64_t pv_hc_evtchn_send(struct pv_vcpu *v, const uint64_t a[4])
{
	struct pv_vm *vm = v->vm;
	uint64_t port = a[0];
	struct pv_evtchn e;
	struct pv_vm *peer;
	long r;

	if (port == 0 || port >= PV_EVTCHN_MAX)
		return PV_EINVAL;
	e = vm->ev.ports[port]; /* a snapshot: fields change only under ev.lock */
	switch (__atomic_load_n(&vm->ev.ports[port].state, __ATOMIC_ACQUIRE)) {
	case PV_EVT_MONITOR:
		atomic_fetch_add(&vm->ev.ports[port].sends, 1);
		pv__evtchn_signal(e.efd);
		return 0;
	case PV_EVT_INTERDOMAIN:
		pv__domains_rdlock();
		peer = pv__domain(e.remote_domid);
		if (peer && e.remote_port < PV_EVTCHN_MAX &&
		    __atomic_load_n(&peer->ev.ports[e.remote_port].state, __ATOMIC_ACQUIRE) == PV_EVT_INTERDOMAIN &&
		    peer->ev.ports[e.remote_port].remote_domid == vm->domid &&
		    peer->ev.ports[e.remote_port].remote_port == port)
			r = pv__evtchn_raise(peer, e.remote_port);
		else
			r = PV_ENOENT; /* the other end is gone */
		pv__domains_unlock();
		return r == -ENXIO ? PV_EAGAIN : r;
	case PV_EVT_UNBOUND:
		return PV_EAGAIN; /* nobody bound the other end yet */
	default:
		return PV_EINVAL;
	}
}

uint64_t pv_hc_evtchn_bind_irq(struct pv_vcpu *v, const uint64_t a[4])
{
	if (a[0] >= PV_EVTCHN_MAX || a[1] > PV_EVTCHN_GSI_MAX)
		return PV_EINVAL;
	return (uint64_t)pv__evtchn_bind_irq(v->vm, (unsigned int)a[0], (unsigned int)a[1]);
}

uint64_t pv_hc_evtchn_mask(struct pv_vcpu *v, const uint64_t a[4])
{
	if (a[0] >= PV_EVTCHN_MAX || a[1] > 1)
		return PV_EINVAL;
	return (uint64_t)pv__evtchn_mask(v->vm, (unsigned int)a[0], a[1] != 0);
}

uint64_t pv_hc_evtchn_close(struct pv_vcpu *v, const uint64_t a[4])
{
	struct pv_vm *vm = v->vm;
	uint64_t port = a[0];
	struct pv_evtchn *e;

	if (port == 0 || port >= PV_EVTCHN_MAX)
		return PV_EINVAL;
	pthread_mutex_lock(&vm->ev.lock);
	e = &vm->ev.ports[port];
	if (e->state == PV_EVT_MONITOR || e->state == PV_EVT_FREE) {
		/* The monitor owns its ports; the guest cannot close them. */
		pthread_mutex_unlock(&vm->ev.lock);
		return e->state == PV_EVT_FREE ? PV_EINVAL : PV_EPERM;
	}
	/* The peer's end stays INTERDOMAIN; its sends then find a free port. */
	__atomic_store_n(&e->gsi, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&e->state, PV_EVT_FREE, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->ev.lock);
	return 0;
}
