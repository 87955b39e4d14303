/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PV net backend, switch data path.  One thread per queue takes transmit
 * requests (copied out, then validated: frame.c), maps their grants and
 * hands the frame to the switch; the receiving port copies it straight
 * from those mapped grants into a buffer its guest posted (port_deliver,
 * run on the sender's thread under the receiver's rxlock), so a frame
 * costs one copy.  When the receiver has no buffer the frame waits in the
 * receiver queue's bounded port queue, holding the sender's grants, and
 * the receiver's thread delivers it when buffers arrive; the sender's
 * response comes then.  Between bursts a thread polls for poll_ns, so a
 * busy queue needs no notification.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netback_priv.h"
#include "ring_host.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void pvnet__push(struct nq *q, struct pv_ring_prod *p)
{
	if (pv_ring_push(p)) {
		pv_evtchn_notify(q->n->vm, (unsigned int)q->port);
		atomic_fetch_add(&q->st.notifications, 1);
	}
}

int pvnet__queue_confine(struct nq *q)
{
	int r = pv_vm_sandbox_thread(q->n->vm);

	if (r < 0)
		fprintf(stderr, "libpv: pvnet queue %u: cannot load the sandbox filter (%s); queue stopped\n", q->idx,
			strerror(-r));
	return r;
}

/* ---- transmit ---- */

void pvnet__tx_respond(struct nq *q, uint64_t id, int status)
{
	struct pvnet_tx_rsp r = { .id = id, .status = status };

	if (status == PVNET_S_INVALID)
		atomic_fetch_add(&q->st.tx_invalid, 1);
	else if (status == PVNET_S_UNSUPP)
		atomic_fetch_add(&q->st.tx_unsupp, 1);
	else if (status == PVNET_S_DROPPED)
		atomic_fetch_add(&q->st.tx_dropped, 1);
	/* taken only with a response slot free (can_take): fails only on a
	 * broken ring */
	if (pv_ring_produce(&q->txrsp, &r, sizeof(r)) < 0)
		q->broken = true;
	q->tx_unpushed++;
}

/* The last reference of a sent frame is gone: answer it. */
static void tx_done(struct pvnet_frame *f)
{
	struct txslot *s = (struct txslot *)((char *)f - offsetof(struct txslot, f));
	struct nq *q = s->q;
	bool ok = s->sent || atomic_load(&f->delivered);

	pthread_mutex_lock(&q->txlock);
	pv_grant_unmap_batch(q->n->vm, s->maps, s->nmaps);
	s->nmaps = 0;
	if (ok) {
		atomic_fetch_add(&q->st.tx_frames, 1);
		atomic_fetch_add(&q->st.tx_bytes, f->len);
		if (f->hdr.gso_type != PVNET_GSO_NONE)
			atomic_fetch_add(&q->st.tx_gso, 1);
	}
	pvnet__tx_respond(q, s->id, ok ? PVNET_S_OK : PVNET_S_DROPPED);
	s->busy = false;
	q->inflight--;
	if (!q->started || !pthread_equal(pthread_self(), q->thread)) {
		pvnet__push(q, &q->txrsp); /* a deferred completion: nobody batches it */
		q->tx_unpushed = 0;
	}
	pthread_mutex_unlock(&q->txlock);
}

static struct txslot *get_slot(struct nq *q)
{
	for (unsigned int i = 0; i < q->nslots; i++)
		if (!q->slots[i].busy)
			return &q->slots[i];
	return NULL;
}

int pvnet__tx_prepare(struct nq *q, const struct pvnet_tx_req *req, struct txslot *s)
{
	struct pv_netback *n = q->n;
	int st = pvnet__check_tx(req, atomic_load(&n->accepted), PVNET_TX_SEGS, (uint32_t)n->mtu + 18);

	if (st != PVNET_S_OK)
		return st;
	for (unsigned int i = 0; i < req->nr_segs; i++)
		s->maps[i] = (struct pv_grant_op){ .ref = req->seg[i].gref, .offset = req->seg[i].offset,
						   .len = req->seg[i].len, .write = false };
	s->nmaps = req->nr_segs;
	if (pv_grant_map_batch(n->vm, 0, s->maps, s->nmaps) != (int)s->nmaps)
		return PVNET_S_INVALID; /* the caller releases what did map */
	s->f.hdr = req->hdr;
	s->f.len = req->total_len;
	s->f.niov = req->nr_segs;
	for (unsigned int i = 0; i < req->nr_segs; i++)
		s->f.iov[i] = (struct iovec){ s->maps[i].ptr, s->maps[i].len };
	return PVNET_S_OK;
}

static void tx_handle(struct nq *q, const struct pvnet_tx_req *req)
{
	struct txslot *s;
	int st, r;

	pthread_mutex_lock(&q->txlock);
	s = get_slot(q);
	if (s) {
		s->busy = true;
		q->inflight++;
	} else { /* cannot happen: can_take */
		pvnet__tx_respond(q, req->id, PVNET_S_DROPPED);
	}
	pthread_mutex_unlock(&q->txlock);
	if (!s)
		return;
	s->id = req->id;
	s->sent = false;
	s->nmaps = 0;
	st = pvnet__tx_prepare(q, req, s);
	if (st != PVNET_S_OK) {
		pthread_mutex_lock(&q->txlock);
		pv_grant_unmap_batch(q->n->vm, s->maps, s->nmaps);
		s->nmaps = 0;
		pvnet__tx_respond(q, req->id, st);
		s->busy = false;
		q->inflight--;
		pthread_mutex_unlock(&q->txlock);
		return;
	}
	pvnet__read_eth(&s->f);
	s->f.src = (unsigned int)q->n->swport;
	s->f.hash = q->idx;
	s->f.done = tx_done;
	atomic_store(&s->f.refs, 1);
	atomic_store(&s->f.delivered, false);
	r = pvsw__forward(q->n->sw, &s->f);
	s->sent = r == PVSW_DELIVERED;
	pvnet__frame_put(&s->f); /* ours: answers now unless a port queue holds it */
}

/* ---- receive (runs on any sender's thread) ---- */

static void rx_respond(struct nq *q, uint64_t id, uint32_t len, int status, const struct pvnet_hdr *h)
{
	struct pvnet_rx_rsp r = { .id = id, .len = len, .status = (int16_t)status };

	if (h)
		r.hdr = *h;
	if (pv_ring_produce(&q->rxrsp, &r, sizeof(r)) < 0)
		q->rx_broken = true;
}

int pvnet__rx_into(struct pv_vm *vm, const struct pvnet_rx_req *req, const struct pvnet_frame *f, uint32_t acc,
		   struct pvnet_hdr *h)
{
	struct pv_grant_op m = { .ref = req->gref, .offset = req->offset, .len = req->len, .write = true };

	if (req->len < PVNET_FRAME_MIN || req->len > PVNET_FRAME_MAX || pv_grant_map_batch(vm, 0, &m, 1) != 1)
		return PVNET_S_INVALID;
	if (f->len > req->len) {
		pv_grant_unmap_batch(vm, &m, 1);
		return PVNET_S_DROPPED;
	}
	pvnet__copy_out(m.ptr, f);
	*h = pvnet__rx_fixup(m.ptr, f->len, &f->hdr, acc);
	pv_grant_unmap_batch(vm, &m, 1);
	return PVNET_S_OK;
}

/* Put f into the next posted buffer (rxlock held).  Returns 1 (delivered),
 * 0 (no buffer now) or -1 (dropped: cannot be taken, or a broken ring). */
static int try_rx(struct nq *q, struct pvnet_frame *f)
{
	struct pv_netback *n = q->n;
	uint32_t acc = atomic_load(&n->accepted);

	if (q->rx_broken)
		return -1;
	if (!pvnet__rx_takes(&f->hdr, acc) || (f->hdr.gso_type == PVNET_GSO_NONE && f->len > (uint32_t)n->mtu + 18u))
		return -1;
	for (;;) {
		struct pvnet_rx_req req;
		struct pvnet_hdr h;
		int space = pv_ring_space(&q->rxrsp), r;

		if (space <= 0) {
			q->rx_broken |= space < 0;
			return space < 0 ? -1 : 0;
		}
		r = pv_ring_consume(&q->rxreq, &req, sizeof(req));
		if (r <= 0) {
			q->rx_broken |= r < 0;
			return r < 0 ? -1 : 0;
		}
		r = pvnet__rx_into(n->vm, &req, f, acc, &h);
		if (r == PVNET_S_INVALID) {
			rx_respond(q, req.id, 0, PVNET_S_INVALID, NULL);
			atomic_fetch_add(&q->st.rx_bad_buffers, 1);
			pv_ring_release(&q->rxreq);
			pvnet__push(q, &q->rxrsp);
			continue;
		}
		if (r == PVNET_S_DROPPED) { /* the buffer comes back unused */
			rx_respond(q, req.id, 0, PVNET_S_DROPPED, NULL);
			pv_ring_release(&q->rxreq);
			pvnet__push(q, &q->rxrsp);
			return -1;
		}
		rx_respond(q, req.id, f->len, PVNET_S_OK, &h);
		atomic_fetch_add(&q->st.rx_frames, 1);
		atomic_fetch_add(&q->st.rx_bytes, f->len);
		pv_ring_release(&q->rxreq);
		pvnet__push(q, &q->rxrsp);
		return 1;
	}
}

static void wake(struct nq *q)
{
	uint64_t one = 1;

	if (write(q->wake_efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		perror("libpv: pvnet wake");
}

static int port_deliver(void *dev, struct pvnet_frame *f)
{
	struct pv_netback *n = dev;
	unsigned int nq = atomic_load(&n->nr_queues), share;
	struct nq *q;
	int r;

	if (nq == 0)
		return PVSW_DROPPED;
	q = &n->q[f->hash % nq];
	pthread_mutex_lock(&q->rxlock);
	r = q->pq_len ? 0 : try_rx(q, f); /* frames queued first go first */
	if (r == 0) {
		share = pvsw__share(n->sw, q->pq_cap);
		if (q->pq_len >= q->pq_cap || q->pq_src[f->src] >= share || q->stop) {
			r = -1;
		} else {
			atomic_fetch_add(&f->refs, 1);
			q->pq[(q->pq_head + q->pq_len) % q->pq_cap] = f;
			q->pq_src[f->src]++;
			if (q->pq_len++ == 0)
				wake(q); /* its thread watches for buffers from now on */
		}
	}
	pthread_mutex_unlock(&q->rxlock);
	if (r < 0) {
		atomic_fetch_add(&q->st.rx_dropped, 1);
		return PVSW_DROPPED;
	}
	return r == 1 ? PVSW_DELIVERED : PVSW_QUEUED;
}

/* Deliver queued frames while there are buffers (the queue's thread).
 * Returns how many were settled. */
static int drain_queue(struct nq *q)
{
	struct pvnet_frame *done[64];
	unsigned int nd = 0;

	pthread_mutex_lock(&q->rxlock);
	while (q->pq_len && nd < 64) {
		struct pvnet_frame *f = q->pq[q->pq_head];
		int r = try_rx(q, f);

		if (r == 0)
			break;
		q->pq_head = (q->pq_head + 1) % q->pq_cap;
		q->pq_len--;
		q->pq_src[f->src]--;
		if (r > 0)
			atomic_store(&f->delivered, true);
		else
			atomic_fetch_add(&q->st.rx_dropped, 1);
		pvsw__queued_done(q->n->sw, r > 0, f->len);
		done[nd++] = f;
	}
	pthread_mutex_unlock(&q->rxlock);
	for (unsigned int i = 0; i < nd; i++)
		pvnet__frame_put(done[i]); /* may answer the sender: outside our lock */
	return (int)nd;
}

static void port_flush(void *dev, unsigned int src)
{
	struct pv_netback *n = dev;

	for (unsigned int i = 0; i < PVNET_MAX_QUEUES; i++) {
		struct nq *q = &n->q[i];
		struct pvnet_frame *keep_head = NULL;

		if (!q->pq)
			continue;
		pthread_mutex_lock(&q->rxlock);
		for (unsigned int k = q->pq_len; k > 0; k--) {
			struct pvnet_frame *f = q->pq[q->pq_head];

			q->pq_head = (q->pq_head + 1) % q->pq_cap;
			q->pq_len--;
			if (src != UINT32_MAX && f->src != src) { /* keep it: back at the tail */
				q->pq[(q->pq_head + q->pq_len) % q->pq_cap] = f;
				q->pq_len++;
				if (!keep_head)
					keep_head = f;
				continue;
			}
			q->pq_src[f->src]--;
			atomic_fetch_add(&q->st.rx_dropped, 1);
			pvsw__queued_done(n->sw, false, 0);
			pvnet__frame_put(f); /* the sender's txlock nests inside our rxlock */
		}
		pthread_mutex_unlock(&q->rxlock);
	}
}

const struct pvsw_port_ops pvnet__port_ops = { .deliver = port_deliver, .flush = port_flush };

/* ---- the queue thread ---- */

static bool can_take(struct nq *q)
{
	int space;
	bool ok;

	pthread_mutex_lock(&q->txlock);
	space = pv_ring_space(&q->txrsp);
	if (space < 0)
		q->broken = true;
	ok = q->inflight < q->nslots && space > (int)q->inflight + q->tx_unpushed;
	pthread_mutex_unlock(&q->txlock);
	return ok;
}

static void wait_events(struct nq *q, int timeout_ms)
{
	struct pollfd p[3] = { { q->efd, POLLIN, 0 }, { q->stop_efd, POLLIN, 0 }, { q->wake_efd, POLLIN, 0 } };
	uint64_t v;

	atomic_fetch_add(&q->st.sleeps, 1);
	if (poll(p, 3, timeout_ms) < 0)
		return;
	if (p[0].revents)
		pv_evtchn_ack(q->n->vm, (unsigned int)q->port);
	if (p[1].revents)
		q->stop = true;
	if (p[2].revents && read(q->wake_efd, &v, sizeof(v)) < 0)
		v = 0;
}

void *pvnet__switch_thread(void *arg)
{
	struct nq *q = arg;
	struct pv_netback *n = q->n;
	uint64_t idle_since = now_ns();
	struct pvnet_tx_req req;

	if (pvnet__queue_confine(q) < 0)
		return NULL;
	while (!q->stop && !q->broken) {
		int got = 0, r = 0;
		bool full = false, waiting;

		while (!q->stop) {
			if (!can_take(q)) {
				full = true;
				break;
			}
			r = pv_ring_consume(&q->txreq, &req, sizeof(req));
			if (r != 1)
				break;
			tx_handle(q, &req);
			got++;
		}
		if (r < 0 || q->broken) {
			fprintf(stderr, "libpv: pvnet queue %u: broken tx ring; queue stopped\n", q->idx);
			break;
		}
		if (got)
			pv_ring_release(&q->txreq);
		pthread_mutex_lock(&q->txlock);
		if (q->tx_unpushed)
			pvnet__push(q, &q->txrsp);
		q->tx_unpushed = 0;
		pthread_mutex_unlock(&q->txlock);
		got += drain_queue(q);
		if (got) {
			idle_since = now_ns();
			continue;
		}
		if (full && pv_ring_avail(&q->txreq) > 0) {
			wait_events(q, 1); /* work waits for the guest to take responses */
			continue;
		}
		if (now_ns() - idle_since < n->poll_ns) {
			__builtin_ia32_pause();
			continue;
		}
		/* Going to sleep: arm the event indices we need and look again. */
		r = n->heavy ? pv_ring_final_check_heavy(&q->txreq) : pv_ring_final_check(&q->txreq);
		if (r != 0) {
			if (r < 0)
				break;
			continue;
		}
		pthread_mutex_lock(&q->rxlock);
		waiting = q->pq_len > 0 && !q->rx_broken;
		r = waiting ? (n->heavy ? pv_ring_final_check_heavy(&q->rxreq) : pv_ring_final_check(&q->rxreq)) : 0;
		pthread_mutex_unlock(&q->rxlock);
		if (r > 0)
			continue;
		wait_events(q, -1);
		pv_ring_disarm(&q->txreq);
		idle_since = now_ns();
	}
	return NULL;
}
