/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PV net backend, TAP data path on io_uring.  One thread and one io_uring
 * per queue, on that queue's TAP file: a transmit request becomes a
 * WRITEV of [the validated 12-byte header, the frame's mapped grants], a
 * posted receive buffer a READV of [a header slot, the mapped buffer]
 * (up to NB_RX_READS in flight), so frames move between the TAP and guest
 * memory with only the kernel's copy.  The doorbell is a POLL_ADD on the
 * event channel's eventfd in the same ring; completions are batched into
 * responses and the guest is notified only when its event index asks.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netback_priv.h"
#include "ring_host.h"

#define TAG_DOORBELL (~0ull)
#define TAG_STOP (~0ull - 1)
#define TAG_CANCEL (~0ull - 2)
#define TAG_RX (1ull << 32)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct io_uring_sqe *sqe_get(struct nq *q)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->uring);

	if (!sqe) {
		io_uring_submit(&q->uring);
		sqe = io_uring_get_sqe(&q->uring);
	}
	return sqe;
}

static void tx_start(struct nq *q, const struct pvnet_tx_req *req)
{
	struct pv_netback *n = q->n;
	struct io_uring_sqe *sqe;
	struct txslot *s = NULL;
	unsigned int i;
	int st;

	for (i = 0; i < q->nslots; i++)
		if (!q->slots[i].busy) {
			s = &q->slots[i];
			break;
		}
	if (!s) {
		pvnet__tx_respond(q, req->id, PVNET_S_DROPPED);
		return;
	}
	st = pvnet__check_tx(req, atomic_load(&n->accepted), PVNET_TX_SEGS, (uint32_t)n->mtu + 18);
	s->nmaps = 0;
	if (st == PVNET_S_OK) {
		for (unsigned int k = 0; k < req->nr_segs; k++)
			s->maps[k] = (struct pv_grant_op){ .ref = req->seg[k].gref, .offset = req->seg[k].offset,
							   .len = req->seg[k].len };
		s->nmaps = req->nr_segs;
		if (pv_grant_map_batch(n->vm, 0, s->maps, s->nmaps) != (int)s->nmaps)
			st = PVNET_S_INVALID;
	}
	sqe = st == PVNET_S_OK ? sqe_get(q) : NULL;
	if (!sqe) {
		pv_grant_unmap_batch(n->vm, s->maps, s->nmaps);
		s->nmaps = 0;
		pvnet__tx_respond(q, req->id, st == PVNET_S_OK ? PVNET_S_DROPPED : st);
		return;
	}
	s->busy = true;
	s->id = req->id;
	s->vh = req->hdr;
	s->vh.num_buffers = 0;
	s->f.len = req->total_len;
	s->f.hdr = req->hdr;
	s->tiov[0] = (struct iovec){ &s->vh, sizeof(s->vh) };
	for (unsigned int k = 0; k < s->nmaps; k++)
		s->tiov[k + 1] = (struct iovec){ s->maps[k].ptr, s->maps[k].len };
	io_uring_prep_writev(sqe, q->tapfd, s->tiov, s->nmaps + 1, 0);
	io_uring_sqe_set_data64(sqe, i);
	q->inflight++;
}

static void tx_complete(struct nq *q, unsigned int i, int res)
{
	struct txslot *s = &q->slots[i];
	bool ok = res == (int)(s->f.len + sizeof(s->vh));

	pv_grant_unmap_batch(q->n->vm, s->maps, s->nmaps);
	s->nmaps = 0;
	s->busy = false;
	q->inflight--;
	if (ok) {
		atomic_fetch_add(&q->st.tx_frames, 1);
		atomic_fetch_add(&q->st.tx_bytes, s->f.len);
		if (s->f.hdr.gso_type != PVNET_GSO_NONE)
			atomic_fetch_add(&q->st.tx_gso, 1);
	}
	pvnet__tx_respond(q, s->id, ok ? PVNET_S_OK : PVNET_S_DROPPED); /* the TAP is down, or refused it */
}

static void rx_answer(struct nq *q, uint64_t id, uint32_t len, int status, const struct pvnet_hdr *h)
{
	struct pvnet_rx_rsp r = { .id = id, .len = len, .status = (int16_t)status };

	if (h)
		r.hdr = *h;
	if (pv_ring_produce(&q->rxrsp, &r, sizeof(r)) < 0)
		q->rx_broken = true;
}

/* Turn posted buffers into reads while there are slots and room for the
 * answers.  Returns how many buffers were taken. */
static int rx_post(struct nq *q, int *answered)
{
	struct pv_netback *n = q->n;
	int got = 0;

	while (!q->rx_broken && q->rx_inflight < NB_RX_READS) {
		struct pvnet_rx_req req;
		struct io_uring_sqe *sqe;
		struct rxslot *s = NULL;
		unsigned int i;
		int space = pv_ring_space(&q->rxrsp), r;

		if (space <= (int)q->rx_inflight + *answered) {
			q->rx_broken |= space < 0;
			break;
		}
		r = pv_ring_consume(&q->rxreq, &req, sizeof(req));
		if (r <= 0) {
			q->rx_broken |= r < 0;
			break;
		}
		got++;
		for (i = 0; i < NB_RX_READS; i++)
			if (!q->rxs[i].busy) {
				s = &q->rxs[i];
				break;
			}
		s->map = (struct pv_grant_op){ .ref = req.gref, .offset = req.offset, .len = req.len, .write = true };
		if (req.len < PVNET_FRAME_MIN || req.len > PVNET_FRAME_MAX || pv_grant_map_batch(n->vm, 0, &s->map, 1) != 1 ||
		    !(sqe = sqe_get(q))) {
			if (s->map.status == 0 && s->map.ptr)
				pv_grant_unmap_batch(n->vm, &s->map, 1);
			rx_answer(q, req.id, 0, PVNET_S_INVALID, NULL);
			atomic_fetch_add(&q->st.rx_bad_buffers, 1);
			(*answered)++;
			continue;
		}
		s->busy = true;
		s->id = req.id;
		s->iov[0] = (struct iovec){ &s->vh, sizeof(s->vh) };
		s->iov[1] = (struct iovec){ s->map.ptr, s->map.len };
		io_uring_prep_readv(sqe, q->tapfd, s->iov, 2, 0);
		io_uring_sqe_set_data64(sqe, TAG_RX | i);
		q->rx_inflight++;
	}
	if (got)
		pv_ring_release(&q->rxreq);
	return got;
}

static void rx_complete(struct nq *q, unsigned int i, int res, int *answered)
{
	struct rxslot *s = &q->rxs[i];
	uint32_t len = res > (int)sizeof(s->vh) ? (uint32_t)res - (uint32_t)sizeof(s->vh) : 0;

	pv_grant_unmap_batch(q->n->vm, &s->map, 1);
	s->busy = false;
	q->rx_inflight--;
	if (len >= PVNET_FRAME_MIN) {
		s->vh.num_buffers = 1;
		rx_answer(q, s->id, len, PVNET_S_OK, &s->vh);
		atomic_fetch_add(&q->st.rx_frames, 1);
		atomic_fetch_add(&q->st.rx_bytes, len);
	} else {
		rx_answer(q, s->id, 0, PVNET_S_OK, NULL); /* cancelled at stop: back unused */
	}
	(*answered)++;
}

static void arm_poll(struct nq *q, int fd, uint64_t tag)
{
	struct io_uring_sqe *sqe = sqe_get(q);

	if (sqe) {
		io_uring_prep_poll_add(sqe, fd, POLLIN);
		io_uring_sqe_set_data64(sqe, tag);
	}
}

static int reap(struct nq *q, int *answered)
{
	struct io_uring_cqe *cqe;
	int n = 0;

	while (io_uring_peek_cqe(&q->uring, &cqe) == 0) {
		uint64_t tag = cqe->user_data;

		if (tag == TAG_DOORBELL) {
			pv_evtchn_ack(q->n->vm, (unsigned int)q->port);
			arm_poll(q, q->efd, TAG_DOORBELL);
		} else if (tag == TAG_STOP) {
			q->stop = true;
		} else if (tag == TAG_CANCEL) {
			/* nothing */
		} else if (tag & TAG_RX) {
			rx_complete(q, (unsigned int)(tag & 0xffffffffu), cqe->res, answered);
		} else if (tag < q->nslots) {
			tx_complete(q, (unsigned int)tag, cqe->res);
		}
		io_uring_cqe_seen(&q->uring, cqe);
		n++;
	}
	return n;
}

static void flush(struct nq *q, int *answered)
{
	if (q->tx_unpushed)
		pvnet__push(q, &q->txrsp);
	q->tx_unpushed = 0;
	if (*answered)
		pvnet__push(q, &q->rxrsp);
	*answered = 0;
}

void *pvnet__tap_thread(void *arg)
{
	struct nq *q = arg;
	struct pv_netback *n = q->n;
	uint64_t idle_since = now_ns();
	struct pvnet_tx_req req;
	int answered = 0;

	if (pvnet__queue_confine(q) < 0)
		return NULL;
	arm_poll(q, q->efd, TAG_DOORBELL);
	arm_poll(q, q->stop_efd, TAG_STOP);
	io_uring_submit(&q->uring);
	while (!q->stop && !q->broken) {
		int got = 0, r = 0;

		while (!q->stop && q->inflight < q->nslots) {
			int space = pv_ring_space(&q->txrsp);

			if (space <= (int)q->inflight + q->tx_unpushed) {
				q->broken |= space < 0;
				break;
			}
			r = pv_ring_consume(&q->txreq, &req, sizeof(req));
			if (r != 1)
				break;
			tx_start(q, &req);
			got++;
		}
		if (r < 0 || q->broken) {
			fprintf(stderr, "libpv: pvnet queue %u: broken tx ring; queue stopped\n", q->idx);
			break;
		}
		if (got)
			pv_ring_release(&q->txreq);
		got += rx_post(q, &answered);
		io_uring_submit(&q->uring);
		got += reap(q, &answered);
		flush(q, &answered);
		if (got) {
			idle_since = now_ns();
			continue;
		}
		if (now_ns() - idle_since < n->poll_ns) {
			__builtin_ia32_pause();
			continue;
		}
		r = n->heavy ? pv_ring_final_check_heavy(&q->txreq) : pv_ring_final_check(&q->txreq);
		if (r == 0 && q->rx_inflight < NB_RX_READS && !q->rx_broken)
			r = n->heavy ? pv_ring_final_check_heavy(&q->rxreq) : pv_ring_final_check(&q->rxreq);
		if (r != 0) {
			if (r < 0)
				break;
			continue;
		}
		atomic_fetch_add(&q->st.sleeps, 1);
		io_uring_submit_and_wait(&q->uring, 1);
		pv_ring_disarm(&q->txreq);
		pv_ring_disarm(&q->rxreq);
		idle_since = now_ns();
	}
	/* Cancel the reads (and anything else) and wait for every I/O so no
	 * byte lands in guest memory after this. */
	{
		struct io_uring_sqe *sqe = sqe_get(q);

		if (sqe) {
			io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
			io_uring_sqe_set_data64(sqe, TAG_CANCEL);
		}
		io_uring_submit(&q->uring);
	}
	while (q->inflight || q->rx_inflight) {
		struct io_uring_cqe *cqe;
		int r = io_uring_wait_cqe(&q->uring, &cqe);

		if (r == -EINTR)
			continue;
		if (r < 0)
			break;
		reap(q, &answered);
	}
	flush(q, &answered);
	return NULL;
}
