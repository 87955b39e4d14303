/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Event channels: numbered ports, a pending byte per port in a page the
 * guest registered, and wake-ups of vCPUs blocked in PV_HC_BLOCK.  Ports
 * bound to the monitor signal an eventfd, written by KVM itself for
 * doorbells (ioeventfd) so the vCPU never leaves the kernel.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"

void pv__events_init(struct pv_vm *vm)
{
	pthread_mutex_init(&vm->ev.lock, NULL);
	for (unsigned int i = 0; i < PV_EVTCHN_MAX; i++)
		vm->ev.ports[i].efd = -1;
	for (unsigned int i = 0; i < sizeof(vm->ev.irqfd) / sizeof(vm->ev.irqfd[0]); i++)
		vm->ev.irqfd[i] = -1;
}

void pv__events_fini(struct pv_vm *vm)
{
	for (unsigned int i = 0; i < vm->ev.hi; i++)
		if (vm->ev.ports[i].efd >= 0)
			close(vm->ev.ports[i].efd);
	for (unsigned int i = 0; i < sizeof(vm->ev.irqfd) / sizeof(vm->ev.irqfd[0]); i++)
		if (vm->ev.irqfd[i] >= 0)
			close(vm->ev.irqfd[i]); /* KVM drops the irqfd with it */
	pthread_mutex_destroy(&vm->ev.lock);
}

static volatile uint8_t *pending_byte(struct pv_vm *vm, unsigned int port)
{
	uint64_t page = __atomic_load_n(&vm->ev.page, __ATOMIC_ACQUIRE);

	return page ? (volatile uint8_t *)vm->ram + page + port : NULL;
}

bool pv__events_pending(struct pv_vm *vm)
{
	uint64_t page = __atomic_load_n(&vm->ev.page, __ATOMIC_ACQUIRE);
	unsigned int hi = __atomic_load_n(&vm->ev.hi, __ATOMIC_ACQUIRE);

	if (!page)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (unsigned int i = 0; i < hi; i++)
		if (((volatile uint8_t *)vm->ram)[page + i])
			return true;
	return false;
}

bool pv__events_can_wake(struct pv_vm *vm)
{
	for (unsigned int i = 0; i < __atomic_load_n(&vm->ev.hi, __ATOMIC_ACQUIRE); i++)
		if (__atomic_load_n(&vm->ev.ports[i].state, __ATOMIC_RELAXED) != PV_EVT_FREE)
			return true;
	return false;
}

/* Make `port` of vm pending and wake it if the byte was clear. */
int pv__evtchn_raise(struct pv_vm *vm, unsigned int port)
{
	volatile uint8_t *b = pending_byte(vm, port);

	if (!b)
		return -ENXIO;
	if (*b == 0) {
		struct pv_evtchn *e = &vm->ev.ports[port];
		uint8_t gsi;

		*b = 1;
		pv__vm_wake(vm); /* takes vm->lock: orders the store before the sleeper's scan */
		gsi = __atomic_load_n(&e->gsi, __ATOMIC_ACQUIRE);
		if (gsi && !__atomic_load_n(&e->masked, __ATOMIC_ACQUIRE)) {
			pv__evtchn_signal(vm->ev.irqfd[gsi - PV_EVTCHN_GSI_MIN]);
			atomic_fetch_add(&vm->interrupts, 1);
		}
	}
	return 0;
}

long pv__evtchn_bind_irq(struct pv_vm *vm, unsigned int port, unsigned int gsi)
{
	struct pv_evtchn *e;
	long r = 0;

	if (!vm->ops->irqfd_add || vm->platform != PV_PLATFORM_PC)
		return PV_EOPNOTSUPP;
	if (port == 0 || port >= PV_EVTCHN_MAX || (gsi && (gsi < PV_EVTCHN_GSI_MIN || gsi > PV_EVTCHN_GSI_MAX)))
		return PV_EINVAL;
	pthread_mutex_lock(&vm->ev.lock);
	e = &vm->ev.ports[port];
	if (e->state == PV_EVT_FREE) {
		r = PV_EINVAL;
	} else if (gsi && vm->ev.irqfd[gsi - PV_EVTCHN_GSI_MIN] < 0) {
		int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

		if (fd < 0 || vm->ops->irqfd_add(vm, gsi, fd) < 0) {
			if (fd >= 0)
				close(fd);
			r = PV_EIO;
		} else {
			vm->ev.irqfd[gsi - PV_EVTCHN_GSI_MIN] = fd;
		}
	}
	if (r == 0) {
		__atomic_store_n(&e->masked, false, __ATOMIC_RELEASE);
		__atomic_store_n(&e->gsi, (uint8_t)gsi, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vm->ev.lock);
	return r;
}

long pv__evtchn_mask(struct pv_vm *vm, unsigned int port, bool masked)
{
	volatile uint8_t *b;
	struct pv_evtchn *e;
	uint8_t gsi;

	if (port == 0 || port >= PV_EVTCHN_MAX)
		return PV_EINVAL;
	e = &vm->ev.ports[port];
	if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) == PV_EVT_FREE)
		return PV_EINVAL;
	__atomic_store_n(&e->masked, masked, __ATOMIC_SEQ_CST);
	/* Unmasked with the byte set: that event's interrupt was held back. */
	b = pending_byte(vm, port);
	gsi = __atomic_load_n(&e->gsi, __ATOMIC_ACQUIRE);
	if (!masked && gsi && b && *b) {
		pv__evtchn_signal(vm->ev.irqfd[gsi - PV_EVTCHN_GSI_MIN]);
		atomic_fetch_add(&vm->interrupts, 1);
	}
	return 0;
}

void pv__evtchn_detach(struct pv_vm *vm)
{
	pthread_mutex_lock(&vm->ev.lock);
	__atomic_store_n(&vm->ev.page, 0, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < vm->ev.hi; i++)
		__atomic_store_n(&vm->ev.ports[i].gsi, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->ev.lock);
}

/* Find a free port (caller holds ev.lock). */
long pv__evtchn_alloc_port(struct pv_vm *vm)
{
	for (unsigned int i = 1; i < PV_EVTCHN_MAX; i++) { /* port 0 stays invalid */
		if (vm->ev.ports[i].state == PV_EVT_FREE) {
			__atomic_store_n(&vm->ev.ports[i].gsi, 0, __ATOMIC_RELEASE); /* a new port has no interrupt */
			vm->ev.ports[i].masked = false;
			if (i >= vm->ev.hi)
				__atomic_store_n(&vm->ev.hi, i + 1, __ATOMIC_RELEASE);
			return i;
		}
	}
	return PV_ENOSPC;
}

int pv_evtchn_alloc_monitor(struct pv_vm *vm, int *efd)
{
	struct pv_evtchn *e;
	long port;
	int fd, r;

	if (!vm || !efd)
		return -EINVAL;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	pthread_mutex_lock(&vm->ev.lock);
	port = pv__evtchn_alloc_port(vm);
	if (port < 0) {
		pthread_mutex_unlock(&vm->ev.lock);
		close(fd);
		return -ENOSPC;
	}
	e = &vm->ev.ports[port];
	if (e->efd >= 0) { /* a closed monitor port's eventfd: use it again, emptied */
		uint64_t stale;

		close(fd);
		fd = e->efd;
		if (read(fd, &stale, sizeof(stale)) < 0) { /* EAGAIN: it was empty */
		}
	}
	if (vm->ops->doorbell_add && (r = vm->ops->doorbell_add(vm, (unsigned int)port, fd)) < 0) {
		if (fd != e->efd)
			close(fd);
		pthread_mutex_unlock(&vm->ev.lock);
		return r;
	}
	e->efd = fd;
	atomic_store(&e->sends, 0);
	__atomic_store_n(&e->state, PV_EVT_MONITOR, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->ev.lock);
	*efd = fd;
	return (int)port;
}

static struct pv_evtchn *monitor_port(struct pv_vm *vm, unsigned int port)
{
	if (!vm || port == 0 || port >= PV_EVTCHN_MAX)
		return NULL;
	if (__atomic_load_n(&vm->ev.ports[port].state, __ATOMIC_ACQUIRE) != PV_EVT_MONITOR)
		return NULL;
	return &vm->ev.ports[port];
}

int64_t pv_evtchn_ack(struct pv_vm *vm, unsigned int port)
{
	struct pv_evtchn *e = monitor_port(vm, port);
	uint64_t n = 0, sends, take;

	if (!e)
		return -EINVAL;
	if (read(e->efd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return 0;
	/* What is not a hypercall send was a doorbell.  A send counted but not
	 * yet signalled is settled at a later acknowledgement. */
	sends = atomic_load(&e->sends);
	do {
		take = sends < n ? sends : n;
	} while (!atomic_compare_exchange_weak(&e->sends, &sends, sends - take));
	atomic_fetch_add(&vm->doorbells, n - take);
	return (int64_t)n;
}

int pv_evtchn_notify(struct pv_vm *vm, unsigned int port)
{
	if (!monitor_port(vm, port))
		return -EINVAL;
	return pv__evtchn_raise(vm, port);
}

void pv__evtchn_signal(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, the reader has plenty to do */
	}
}

void pv__doorbell(struct pv_vcpu *v, uint32_t value)
{
	struct pv_evtchn *e = value < PV_EVTCHN_MAX ? monitor_port(v->vm, value) : NULL;

	if (e)
		pv__evtchn_signal(e->efd); /* counted at pv_evtchn_ack, as on KVM */
	else
		pv__count(v, PV_EXIT_PIO), PV_INC(v->cnt.pio_unclaimed);
}

int pv_evtchn_close(struct pv_vm *vm, unsigned int port)
{
	struct pv_evtchn *e;

	if (!vm)
		return -EINVAL;
	pthread_mutex_lock(&vm->ev.lock);
	e = monitor_port(vm, port);
	if (!e) {
		pthread_mutex_unlock(&vm->ev.lock);
		return -EINVAL;
	}
	__atomic_store_n(&e->state, PV_EVT_FREE, __ATOMIC_RELEASE);
	if (vm->ops->doorbell_del)
		vm->ops->doorbell_del(vm, port, e->efd);
	/* The eventfd stays open until the VM is destroyed: a vCPU may be
	 * signalling it right now (a stale wake-up is harmless, a write into a
	 * reused descriptor number would not be).  The port keeps it for its
	 * next monitor owner. */
	pthread_mutex_unlock(&vm->ev.lock);
	return 0;
}
