/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host-side helpers for libpv rings (see <pv/abi/ring.h> for the protocol):
 * the heavy barrier that stands in for an emulated guest's dropped fences,
 * and adaptive polling waits that spin for a while before arming the event
 * index and sleeping, so that a busy queue needs no notification at all.
 */
#ifndef PV_RING_HOST_H
#define PV_RING_HOST_H

#include <stdint.h>

#include <pv/abi/ring.h>

/*
 * Prepare the heavy barrier: registers the process for
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED).  Safe to call many times and
 * from many threads; pv_ring_heavy_barrier calls it itself.  Returns 0, or
 * -ENOSYS if the kernel lacks it (the heavy barrier is then only a local
 * full fence, which does not cover an emulated guest: use a timed wait).
 */
int pv_ring_heavy_barrier_init(void);

/*
 * A full barrier executed, before this returns, by every running thread of
 * the process, including one emulating a guest whose own fences are
 * dropped.  Costs a system call and IPIs: use it only on the way to sleep.
 */
void pv_ring_heavy_barrier(void);

/*
 * pv_ring_final_check with the heavy barrier as S2: the check before
 * sleeping for a consumer whose producer is an emulated guest.  Returns > 0
 * if entries arrived (do not sleep), 0 (sleep until notified), or an error.
 */
int pv_ring_final_check_heavy(struct pv_ring_cons *c);

/*
 * pv_ring_space_arm with the heavy barrier: a producer about to sleep for
 * space while an emulated guest consumes.  Same returns as pv_ring_space_arm.
 */
int pv_ring_space_arm_heavy(struct pv_ring_prod *p, uint32_t want);

/*
 * For the monitor's handler of a guest's sleep request (the guest consumes
 * direction dir of the ring pair at ring, saw prod == seen and asks to
 * block): runs a full barrier on the host (which an emulated guest cannot)
 * and re-reads prod.  Returns 1 if prod moved, so the guest must not sleep,
 * 0 if it may.  Call it on the guest's vCPU thread, before blocking.
 */
int pv_ring_prod_moved(const void *ring, unsigned int dir, uint32_t seen);

/* Blocks until notified (or spuriously); returns 0 or a negative errno. */
typedef int (*pv_ring_wait_fn)(void *arg);

/* The side we wait for is an emulated guest: use the heavy barrier. */
#define PV_RING_POLL_HEAVY 1u

/* How to wait, and what happened; zero-initialise, then set the knobs. */
struct pv_ring_poller {
	uint64_t poll_ns;       /* busy-poll this long before arming; 0: never poll */
	pv_ring_wait_fn wait;   /* required */
	void *wait_arg;
	unsigned int flags;     /* PV_RING_POLL_* */
	/* statistics, only ever incremented */
	uint64_t calls;         /* waits started */
	uint64_t ready;         /* work was there at once */
	uint64_t poll_hits;     /* work arrived while polling */
	uint64_t rechecks;      /* the final check found work: a sleep avoided */
	uint64_t sleeps;        /* wait() calls */
};

/*
 * Wait until the consumer c has entries: check, poll for up to poll_ns,
 * then arm the event index, check again and sleep with w->wait, repeating
 * after spurious wake-ups.  Release consumed entries (and notify the
 * producer if asked) before calling.  Returns the number of entries ready
 * (> 0), the ring's error, the error wait() returned, or -EINVAL if
 * w->wait is NULL.
 */
int pv_ring_wait_avail(struct pv_ring_cons *c, struct pv_ring_poller *w);

/*
 * Wait until the producer p has at least want (1..entries) free slots, in
 * the same way (arming cons_event).  Push reserved entries before calling.
 * Returns the free count (>= want), or an error as pv_ring_wait_avail.
 */
int pv_ring_wait_space(struct pv_ring_prod *p, uint32_t want, struct pv_ring_poller *w);

/* An eventfd to wait on, for pv_ring_eventfd_wait. */
struct pv_ring_eventfd {
	int fd;
	int timeout_ms;         /* < 0: no timeout */
};

/*
 * A pv_ring_wait_fn for arg = struct pv_ring_eventfd *: reads (resets) the
 * eventfd, waiting up to timeout_ms.  Returns 0, -ETIMEDOUT or -errno.
 */
int pv_ring_eventfd_wait(void *arg);

/* Signal an eventfd (add 1).  Returns 0 or -errno. */
int pv_ring_eventfd_notify(int fd);

#endif /* PV_RING_HOST_H */
