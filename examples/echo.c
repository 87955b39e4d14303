/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The echo backend and the pair device; see echo.h. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <pv/abi/ring.h>
#include <pv/device.h>
#include <ring_host.h>

#include "echo.h"

#define PAGE 4096u
#define ECHO_DEFAULT_BUDGET 64u
#define ECHO_POLL_NS_EMU 100000u
#define ECHO_POLL_NS_KVM 2000000u

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- measured phases ---------------------------------------------------- */

struct phase_clock {
	struct echo_phase ph;
	uint64_t t0;
};

/*
 * A guest wrote `what` to a mark register of device `dev` (on its vCPU
 * thread).  Exits of the mark write itself are counted before the handler
 * runs: the start mark's falls before the reset, the end mark's is taken
 * out of the snapshot, so the phase holds exactly the exits in between.
 */
static void phase_mark(struct pv_vm *vm, struct phase_clock *pc, const char *dev, uint32_t what)
{
	struct pv_stats *st = &pc->ph.st;

	if (what == ECHO_MARK_START) {
		pv_vm_stats_reset(vm);
		pc->t0 = now_ns();
		pc->ph.started = true;
		pc->ph.done = false;
	} else if (what == ECHO_MARK_END && pc->ph.started && !pc->ph.done) {
		pc->ph.ns = now_ns() - pc->t0;
		pv_vm_stats(vm, -1, st);
		if (st->exits[PV_EXIT_PIO] && st->exits_total) {
			st->exits[PV_EXIT_PIO]--;
			st->exits_total--;
		}
		for (unsigned int i = 0; i < st->nr_devs; i++)
			if (!strcmp(st->devs[i].name, dev) && st->devs[i].exits)
				st->devs[i].exits--;
		pc->ph.done = true;
	}
}

/* ---- the echo backend --------------------------------------------------- */

struct echo {
	struct pv_vm *vm;
	uint16_t base;
	bool poll;
	uint64_t poll_ns;
	unsigned int budget;
	bool heavy;                /* the guest is emulated: heavy barrier before sleeping */
	int wait_ms;               /* eventfd wait timeout; -1 unless the heavy barrier is missing */

	int port, efd;             /* monitor event channel and its eventfd (owned by libpv) */
	int kickfd;                /* wakes the thread: stop, or a mark that took its doorbells */

	pthread_mutex_t lock;      /* connect and marks (vCPU threads) against echo_stop */
	uint32_t ref;              /* ECHO_REG_PORT writes: the reference to connect to */
	bool started;              /* a thread was started (joined by echo_stop) */
	pthread_t thread;
	atomic_bool stopping;
	atomic_int state;

	/* the connection: owned by the thread once it runs */
	void *ring;
	uint32_t ring_ref, pages;  /* the pinned grant */
	struct pv_ring_params prm;
	struct pv_ring_cons req;
	struct pv_ring_prod rsp;
	struct pv_ring_poller pw, ps;  /* waits for requests, for response space */

	uint64_t requests, bad, notifies;
	char why[160];
	struct phase_clock pc;
};

static int echo_wait(void *arg)
{
	struct echo *e = arg;
	struct pollfd p[2] = { { .fd = e->efd, .events = POLLIN }, { .fd = e->kickfd, .events = POLLIN } };
	uint64_t v;
	int r;

	r = poll(p, 2, e->wait_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (p[1].revents & POLLIN) {
		if (read(e->kickfd, &v, sizeof(v)) < 0) {
			/* EAGAIN: someone else read it; nothing to do */
		}
	}
	if (atomic_load(&e->stopping))
		return -ECANCELED;
	if (p[0].revents & POLLIN)
		pv_evtchn_ack(e->vm, (unsigned int)e->port); /* counts the doorbells */
	return 0; /* a wake-up, perhaps spurious: the caller checks the ring */
}

static void kick(struct echo *e)
{
	pv_ring_eventfd_notify(e->kickfd);
}

static void notify_guest(struct echo *e)
{
	if (pv_evtchn_notify(e->vm, (unsigned int)e->port) == 0)
		e->notifies++;
}

/* Publish the responses and hand back the request slots; notify once if
 * either side asked for it. */
static void flush(struct echo *e)
{
	int n = pv_ring_push(&e->rsp);

	n |= pv_ring_release(&e->req);
	if (n)
		notify_guest(e);
}

static void set_broken(struct echo *e, int err)
{
	uint32_t prod = pv_ring_load(e->req.peer->prod), cons = pv_ring_load(e->rsp.peer->cons);

	if (err == -EPROTO && e->req.err == -EPROTO)
		snprintf(e->why, sizeof(e->why),
			 "ring broken: the guest's request producer index 0x%x is impossible (consumer at 0x%x, %u entries)",
			 prod, e->req.released, e->req.entries);
	else if (err == -EPROTO)
		snprintf(e->why, sizeof(e->why),
			 "ring broken: the guest's response consumer index 0x%x is impossible (producer at 0x%x)", cons,
			 e->rsp.pushed);
	else if (err == -EPIPE)
		snprintf(e->why, sizeof(e->why), "ring broken: the guest reported error %u",
			 e->req.err ? pv_ring_cons_peer_error(&e->req) : pv_ring_prod_peer_error(&e->rsp));
	else
		snprintf(e->why, sizeof(e->why), "backend stopped: %s", strerror(-err));
}

static void *echo_thread(void *arg)
{
	struct echo *e = arg;
	size_t esize = e->req.entry_size;
	unsigned char *buf = malloc(esize);
	int r = buf ? pv_vm_sandbox_thread(e->vm) : -ENOMEM; /* confined from here on */

	while (r == 0 && !atomic_load(&e->stopping)) {
		unsigned int n = 0;

		r = pv_ring_wait_avail(&e->req, &e->pw);
		if (r < 0)
			break;
		while (n < e->budget && (r = pv_ring_consume(&e->req, buf, esize)) > 0) {
			struct echo_msg *m = (struct echo_msg *)buf; /* our private copy */

			n++;
			e->requests++;
			if (m->magic != ECHO_MSG_MAGIC || m->len > sizeof(m->payload)) {
				e->bad++;
				m->magic = ECHO_MSG_BAD;
			}
			while ((r = pv_ring_produce(&e->rsp, buf, esize)) == -EAGAIN) {
				/* The guest does not take its responses: wait for space. */
				flush(e);
				r = pv_ring_wait_space(&e->rsp, 1, &e->ps);
				if (r < 0)
					break;
			}
			if (r < 0)
				break;
		}
		if (r < 0)
			break;
		flush(e);
	}
	if (r == -ECANCELED || atomic_load(&e->stopping)) {
		r = 0; /* stopped by the monitor */
	} else {
		set_broken(e, r);
		flush(e); /* what was answered before the break still goes out */
	}
	free(buf);
	/* Let go of the ring before saying so: once the state shows the error,
	 * the guest can revoke its grant. */
	pv_grant_unmap(e->vm, e->ring_ref);
	if (r) {
		atomic_store(&e->state, r);
		notify_guest(e); /* wake a guest waiting for a response */
	}
	return NULL;
}

/* The device thread is made on the VM's control thread (a sandboxed vCPU
 * may not create threads). */
static int echo_spawn(void *arg)
{
	struct echo *e = arg;

	return -pthread_create(&e->thread, NULL, echo_thread, e);
}

/* Connect to the ring pair the guest granted (vCPU thread, e->lock held). */
static int echo_connect(struct echo *e, uint32_t pages)
{
	void *ring;
	int r;

	if (e->started) {
		snprintf(e->why, sizeof(e->why), "a second connect was refused");
		return -EBUSY;
	}
	if (atomic_load(&e->stopping))
		return -ECANCELED;
	if (pages == 0 || pages > ECHO_MAX_PAGES)
		return -EINVAL;
	r = pv_grant_map(e->vm, PV_DOMID_MONITOR, e->ref, 0, (uint64_t)pages * PAGE, true, &ring);
	if (r < 0)
		return r;
	r = pv_ring_pair_check(ring, (size_t)pages * PAGE, &e->prm);
	if (r == 0 && (e->prm.req_entry_size != e->prm.rsp_entry_size ||
		       e->prm.req_entry_size < sizeof(struct echo_msg)))
		r = -EINVAL; /* we answer with the request itself */
	if (r == 0)
		r = pv_ring_cons_attach(&e->req, ring, &e->prm, PV_RING_REQ);
	if (r == 0)
		r = pv_ring_prod_attach(&e->rsp, ring, &e->prm, PV_RING_RSP);
	if (r < 0) {
		pv_grant_unmap(e->vm, e->ref);
		return r;
	}
	e->ring = ring;
	e->ring_ref = e->ref;
	e->pages = pages;
	r = pv_vm_device_call(e->vm, echo_spawn, e);
	if (r < 0) {
		pv_grant_unmap(e->vm, e->ring_ref);
		return r;
	}
	e->started = true;
	return 0;
}

static int echo_pio(void *opaque, struct pv_vcpu *v, uint64_t addr, void *data, unsigned int size, bool is_write)
{
	struct echo *e = opaque;
	uint64_t off = addr - e->base;
	uint32_t val = 0;

	(void)v;
	if (size != 4 || off % 4)
		return 0; /* reads return 0 */
	if (is_write)
		memcpy(&val, data, 4);
	pthread_mutex_lock(&e->lock);
	switch (off) {
	case ECHO_REG_PORT:
		if (is_write)
			e->ref = val;
		else
			val = (uint32_t)e->port;
		break;
	case ECHO_REG_CONNECT:
		if (is_write) {
			int r = echo_connect(e, val);

			if (r != -EBUSY)
				atomic_store(&e->state, r);
		} else {
			val = (uint32_t)atomic_load(&e->state);
		}
		break;
	case ECHO_REG_MARK:
		if (is_write) {
			/* Settle the doorbells that arrived so far, so that they
			 * count in the right phase; the thread may have been
			 * about to sleep on them, so wake it. */
			if (pv_evtchn_ack(e->vm, (unsigned int)e->port) > 0)
				kick(e);
			phase_mark(e->vm, &e->pc, "echo", val);
		} else {
			val = ECHO_VERSION;
		}
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&e->lock);
	if (!is_write)
		memcpy(data, &val, 4);
	return 0;
}

static void echo_stop(void *dev);
static void echo_destroy(void *dev);

static const struct pv_device_ops echo_ops = {
	.name = "echo",
	.stop = echo_stop,
	.destroy = echo_destroy,
};

int echo_attach(struct pv_vm *vm, const struct echo_opts *opts, struct echo **out)
{
	static const struct echo_opts defaults = { .poll = true };
	const struct echo_opts *o = opts ? opts : &defaults;
	struct echo *e;
	int r;

	if (!vm || !out)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->vm = vm;
	e->base = o->pio_base ? o->pio_base : ECHO_PIO_BASE;
	e->heavy = !pv_vm_guest_fences(vm);
	e->poll = o->poll;
	e->poll_ns = o->poll_ns ? o->poll_ns : e->heavy ? ECHO_POLL_NS_EMU : ECHO_POLL_NS_KVM;
	e->budget = o->budget ? o->budget : ECHO_DEFAULT_BUDGET;
	/* Without membarrier an emulated guest's dropped fence is not covered:
	 * bound a lost wake-up's delay (ring_host.h). */
	e->wait_ms = e->heavy && pv_ring_heavy_barrier_init() < 0 ? 1 : -1;
	e->kickfd = -1;
	atomic_init(&e->state, -ENOTCONN);
	atomic_init(&e->stopping, false);
	pthread_mutex_init(&e->lock, NULL);
	e->pw = (struct pv_ring_poller){ .poll_ns = e->poll ? e->poll_ns : 0, .wait = echo_wait, .wait_arg = e,
					 .flags = e->heavy ? PV_RING_POLL_HEAVY : 0 };
	e->ps = e->pw;
	e->kickfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->kickfd < 0) {
		r = -errno;
		goto fail;
	}
	e->port = pv_evtchn_alloc_monitor(vm, &e->efd);
	if (e->port < 0) {
		r = e->port;
		goto fail;
	}
	r = pv_vm_add_device(vm, &echo_ops, e);
	if (r < 0) {
		pv_evtchn_close(vm, (unsigned int)e->port);
		goto fail;
	}
	/* From here on the VM owns e. */
	r = pv_vm_add_pio(vm, "echo", e->base, 16, echo_pio, e);
	if (r < 0)
		return r;
	*out = e;
	return 0;
fail:
	if (e->kickfd >= 0)
		close(e->kickfd);
	pthread_mutex_destroy(&e->lock);
	free(e);
	return r;
}

/* The VM has stopped: join the thread (it releases the grant). */
static void echo_stop(void *dev)
{
	struct echo *e = dev;
	bool join;

	pthread_mutex_lock(&e->lock);
	atomic_store(&e->stopping, true);
	join = e->started;
	e->started = false;
	pthread_mutex_unlock(&e->lock);
	if (join) {
		kick(e);
		pthread_join(e->thread, NULL);
	}
}

void echo_get_stats(struct echo *e, struct echo_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&e->lock);
	st->requests = e->requests;
	st->bad = e->bad;
	st->notifies = e->notifies;
	st->waits = e->pw.calls + e->ps.calls;
	st->polled = e->pw.poll_hits + e->ps.poll_hits;
	st->sleeps = e->pw.sleeps + e->ps.sleeps;
	st->state = atomic_load(&e->state);
	memcpy(st->why, e->why, sizeof(st->why));
	st->phase = e->pc.ph;
	pthread_mutex_unlock(&e->lock);
}

static void echo_destroy(void *dev)
{
	struct echo *e = dev;

	echo_stop(e);
	close(e->kickfd);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

/* ---- the pair device ---------------------------------------------------- */

struct pair_end {
	struct echo_pair *p;
	struct pv_vm *vm;
	unsigned int idx;
	struct phase_clock pc;
};

struct echo_pair {
	struct pair_end end[2];
	atomic_uint port, ref;
	atomic_uint refs;          /* VMs that still own the pair */
};

/* Each VM owns its end; the pair goes with the last one. */
static void pair_destroy(void *dev)
{
	struct pair_end *me = dev;

	if (atomic_fetch_sub(&me->p->refs, 1) == 1)
		free(me->p);
}

static const struct pv_device_ops pair_ops = {
	.name = "echo-pair",
	.destroy = pair_destroy,
};

static int pair_pio(void *opaque, struct pv_vcpu *v, uint64_t addr, void *data, unsigned int size, bool is_write)
{
	struct pair_end *me = opaque;
	struct echo_pair *p = me->p;
	uint64_t off = addr - ECHO_PAIR_BASE;
	uint32_t val = 0;

	(void)v;
	if (size != 4 || off % 4)
		return 0;
	if (is_write)
		memcpy(&val, data, 4);
	switch (off) {
	case ECHO_PAIR_PEER:
		val = pv_vm_domid(p->end[!me->idx].vm);
		break;
	case ECHO_PAIR_PORT:
		if (is_write && me->idx == 0)
			atomic_store(&p->port, val);
		val = atomic_load(&p->port);
		break;
	case ECHO_PAIR_REF:
		if (is_write && me->idx == 0)
			atomic_store(&p->ref, val);
		val = atomic_load(&p->ref);
		break;
	case ECHO_PAIR_MARK:
		if (is_write)
			phase_mark(me->vm, &me->pc, "echo-pair", val); /* each VM its own, on its vCPU */
		else
			val = ECHO_VERSION;
		break;
	default:
		val = 0;
		break;
	}
	if (!is_write)
		memcpy(data, &val, 4);
	return 0;
}

int echo_pair_attach(struct pv_vm *a, struct pv_vm *b, struct echo_pair **out)
{
	struct echo_pair *p;
	int r;

	if (!a || !b || a == b || !out)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	atomic_init(&p->port, 0);
	atomic_init(&p->ref, 0);
	atomic_init(&p->refs, 2);
	for (unsigned int i = 0; i < 2; i++)
		p->end[i] = (struct pair_end){ .p = p, .vm = i ? b : a, .idx = i };
	r = pv_vm_add_device(a, &pair_ops, &p->end[0]);
	if (r < 0) {
		free(p);
		return r;
	}
	r = pv_vm_add_device(b, &pair_ops, &p->end[1]);
	if (r < 0) {
		pair_destroy(&p->end[1]); /* a owns the rest */
		return r;
	}
	r = pv_vm_add_pio(a, "echo-pair", ECHO_PAIR_BASE, 16, pair_pio, &p->end[0]);
	if (r == 0)
		r = pv_vm_add_pio(b, "echo-pair", ECHO_PAIR_BASE, 16, pair_pio, &p->end[1]);
	if (r < 0)
		return r;
	*out = p;
	return 0;
}

void echo_pair_phase(const struct echo_pair *p, unsigned int which, struct echo_phase *ph)
{
	*ph = p->end[which ? 1 : 0].pc.ph;
}
