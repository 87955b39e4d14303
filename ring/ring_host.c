/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host-side helpers for libpv rings; see ring_host.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <linux/membarrier.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ring_host.h"

_Static_assert(PV_RING_EAGAIN == EAGAIN && PV_RING_EINVAL == EINVAL &&
		       PV_RING_EPIPE == EPIPE && PV_RING_EPROTO == EPROTO && PV_RING_EMSGSIZE == EMSGSIZE,
	       "PV_RING_E* must be Linux errno values");

static pthread_once_t heavy_once = PTHREAD_ONCE_INIT;
static int heavy_ok; /* 1 once registered for private expedited membarrier */

static void heavy_init(void)
{
	long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

	if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
		return;
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
		__atomic_store_n(&heavy_ok, 1, __ATOMIC_RELEASE);
}

int pv_ring_heavy_barrier_init(void)
{
	pthread_once(&heavy_once, heavy_init);
	return __atomic_load_n(&heavy_ok, __ATOMIC_ACQUIRE) ? 0 : -ENOSYS;
}

void pv_ring_heavy_barrier(void)
{
	pv_ring_mb();
	if (pv_ring_heavy_barrier_init() == 0)
		syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
	pv_ring_mb();
}

int pv_ring_final_check_heavy(struct pv_ring_cons *c)
{
	pv_ring_arm(c);
	pv_ring_heavy_barrier();
	return pv_ring_avail(c);
}

int pv_ring_space_arm_heavy(struct pv_ring_prod *p, uint32_t want)
{
	if (p->err)
		return p->err;
	if (want == 0 || want > p->entries)
		want = 1;
	pv_ring_store(p->own->cons_event, p->prod - p->entries + want);
	pv_ring_heavy_barrier();
	return pv_ring_space(p);
}

int pv_ring_prod_moved(const void *ring, unsigned int dir, uint32_t seen)
{
	const struct pv_ring_shared *sh = ring;

	if (dir > PV_RING_RSP)
		return 1;
	pv_ring_mb();
	return pv_ring_load(sh->idx[dir].p.prod) != seen;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	pv_ring_barrier();
#endif
}

/*
 * The adaptive wait shared by both directions.  check() returns the amount
 * of work (> 0 when at least `want`), 0 for none, or an error; arm() is the
 * final check before sleeping, with the same returns.
 */
struct waiter_ops {
	int (*check)(void *view, uint32_t want);
	int (*arm)(void *view, uint32_t want, int heavy);
};

static int adaptive_wait(void *view, uint32_t want, struct pv_ring_poller *w, const struct waiter_ops *ops)
{
	uint64_t deadline;
	uint32_t i;
	int r;

	if (!w->wait)
		return -EINVAL;
	w->calls++;
	r = ops->check(view, want);
	if (r != 0) {
		w->ready += r > 0;
		return r;
	}
	if (w->poll_ns) {
		deadline = now_ns() + w->poll_ns;
		for (i = 1;; i++) {
			cpu_relax();
			r = ops->check(view, want);
			if (r != 0) {
				w->poll_hits += r > 0;
				return r;
			}
			if ((i & 31) == 0 && now_ns() >= deadline)
				break;
		}
	}
	for (;;) {
		r = ops->arm(view, want, (w->flags & PV_RING_POLL_HEAVY) != 0);
		if (r != 0) {
			w->rechecks += r > 0;
			return r;
		}
		w->sleeps++;
		r = w->wait(w->wait_arg);
		if (r < 0)
			return r;
		r = ops->check(view, want);
		if (r != 0)
			return r;
		/* spurious wake-up, or a notification for an earlier arm */
	}
}

static int cons_check(void *view, uint32_t want)
{
	(void)want;
	return pv_ring_avail(view);
}

static int cons_arm(void *view, uint32_t want, int heavy)
{
	(void)want;
	return heavy ? pv_ring_final_check_heavy(view) : pv_ring_final_check(view);
}

static int prod_check(void *view, uint32_t want)
{
	int r = pv_ring_space(view);

	return r < 0 || (uint32_t)r >= want ? r : 0;
}

static int prod_arm(void *view, uint32_t want, int heavy)
{
	int r = heavy ? pv_ring_space_arm_heavy(view, want) : pv_ring_space_arm(view, want);

	return r < 0 || (uint32_t)r >= want ? r : 0;
}

int pv_ring_wait_avail(struct pv_ring_cons *c, struct pv_ring_poller *w)
{
	static const struct waiter_ops ops = { cons_check, cons_arm };

	return adaptive_wait(c, 1, w, &ops);
}

int pv_ring_wait_space(struct pv_ring_prod *p, uint32_t want, struct pv_ring_poller *w)
{
	static const struct waiter_ops ops = { prod_check, prod_arm };

	if (want == 0 || want > p->entries)
		return -EINVAL;
	return adaptive_wait(p, want, w, &ops);
}

int pv_ring_eventfd_wait(void *arg)
{
	const struct pv_ring_eventfd *e = arg;
	struct pollfd pfd = { .fd = e->fd, .events = POLLIN };
	uint64_t v;
	int r;

	for (;;) {
		r = poll(&pfd, 1, e->timeout_ms < 0 ? -1 : e->timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		if (read(e->fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
			return 0;
		if (errno == EAGAIN)
			return 0; /* someone else took it: a spurious wake-up */
		if (errno != EINTR)
			return -errno;
	}
}

int pv_ring_eventfd_notify(int fd)
{
	uint64_t one = 1;

	while (write(fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		if (errno != EINTR)
			return -errno;
	return 0;
}
