/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PV net backend, control plane: the control page (GET_CONFIG, CONNECT:
 * all queues or none, DISCONNECT), queue set-up and teardown, attach, the device
 * lifecycle (stop: leave the switch; destroy) and statistics.  The data
 * paths are in netback.c (switch) and nettap.c (TAP).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "netback_priv.h"
#include "ring_host.h"
#include "uring.h"

#define SWITCH_FEATURES                                                                                  \
	(PVNET_F_CSUM | PVNET_F_GUEST_CSUM | PVNET_F_HOST_TSO4 | PVNET_F_HOST_TSO6 | PVNET_F_HOST_UFO |  \
	 PVNET_F_HOST_USO | PVNET_F_GUEST_TSO4 | PVNET_F_GUEST_TSO6 | PVNET_F_GUEST_UFO | PVNET_F_GUEST_USO | \
	 PVNET_F_MQ | PVNET_F_ECN)

static void queue_reset(struct pv_netback *n, struct nq *q, unsigned int idx)
{
	memset(q, 0, sizeof(*q));
	q->n = n;
	q->idx = idx;
	q->port = q->efd = q->stop_efd = q->wake_efd = q->tapfd = -1;
	pthread_mutex_init(&q->txlock, NULL);
	pthread_mutex_init(&q->rxlock, NULL);
}

static void signal_fd(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0)
		perror("libpv: pvnet stop");
}

/* End a queue's thread (its I/O has completed when this returns). */
static void queue_halt(struct nq *q)
{
	if (q->started) {
		q->stop = true;
		signal_fd(q->stop_efd);
		pthread_join(q->thread, NULL);
		q->started = false;
	}
}

/* Release what connect_queue set up, however far it got (thread halted,
 * out of the switch).  The counters stay; twice is a no-op. */
static void queue_release(struct pv_netback *n, struct nq *q)
{
	queue_halt(q);
	if (q->uring_ok)
		io_uring_queue_exit(&q->uring);
	q->uring_ok = false;
	if (q->stop_efd >= 0)
		close(q->stop_efd);
	if (q->wake_efd >= 0)
		close(q->wake_efd);
	q->stop_efd = q->wake_efd = -1;
	if (q->port >= 0)
		pv_evtchn_close(n->vm, (unsigned int)q->port);
	q->port = q->efd = -1;
	if (q->txring)
		pv_grant_unmap(n->vm, q->tx_gref);
	if (q->rxring)
		pv_grant_unmap(n->vm, q->rx_gref);
	q->txring = q->rxring = NULL;
	free(q->slots);
	q->slots = NULL;
	free(q->pq);
	q->pq = NULL;
	q->pq_len = 0;
}

static void queue_teardown(struct pv_netback *n, struct nq *q)
{
	queue_release(n, q);
	pthread_mutex_destroy(&q->txlock);
	pthread_mutex_destroy(&q->rxlock);
	queue_reset(n, q, q->idx);
}

static int map_pair(struct pv_netback *n, uint32_t gref, uint32_t pages, uint32_t req_size, uint32_t rsp_size,
		    void **ring, size_t *len, struct pv_ring_params *prm)
{
	int r;

	if (pages == 0 || pages > 1 + 2 * (NB_RING_MAX * PVNET_TX_REQ_SIZE / 4096 + 1))
		return -EINVAL;
	*len = (size_t)pages * 4096;
	r = pv_grant_map(n->vm, 0, gref, 0, *len, true, ring);
	if (r < 0)
		return r;
	if (pv_ring_pair_check(*ring, *len, prm) < 0 || prm->req_entry_size != req_size ||
	    prm->rsp_entry_size != rsp_size || prm->req_entries > NB_RING_MAX || prm->rsp_entries < prm->req_entries)
		return -EINVAL;
	return 0;
}

static int connect_queue(struct pv_netback *n, struct nq *q, const struct pvnet_queue_desc *d)
{
	struct pv_ring_params tp, rp;
	int r;

	r = map_pair(n, d->tx_gref, d->tx_pages, PVNET_TX_REQ_SIZE, PVNET_TX_RSP_SIZE, &q->txring, &q->tx_len, &tp);
	if (q->txring)
		q->tx_gref = d->tx_gref;
	if (r < 0)
		return r;
	r = map_pair(n, d->rx_gref, d->rx_pages, PVNET_RX_REQ_SIZE, PVNET_RX_RSP_SIZE, &q->rxring, &q->rx_len, &rp);
	if (q->rxring)
		q->rx_gref = d->rx_gref;
	if (r < 0)
		return r;
	{ /* two threads (or both directions) on one ring would break it */
		const uint8_t *a = q->txring, *b = q->rxring;

		if (a < b + q->rx_len && b < a + q->tx_len)
			return -EINVAL;
	}
	if (pv_ring_cons_attach(&q->txreq, q->txring, &tp, PV_RING_REQ) < 0 ||
	    pv_ring_prod_attach(&q->txrsp, q->txring, &tp, PV_RING_RSP) < 0 ||
	    pv_ring_cons_attach(&q->rxreq, q->rxring, &rp, PV_RING_REQ) < 0 ||
	    pv_ring_prod_attach(&q->rxrsp, q->rxring, &rp, PV_RING_RSP) < 0)
		return -EINVAL;
	q->nslots = tp.req_entries;
	q->slots = calloc(q->nslots, sizeof(*q->slots));
	if (!q->slots)
		return -ENOMEM;
	for (unsigned int i = 0; i < q->nslots; i++)
		q->slots[i].q = q;
	if (n->sw) {
		q->pq_cap = pvsw__port_queue(n->sw);
		q->pq = calloc(q->pq_cap, sizeof(*q->pq));
		if (!q->pq)
			return -ENOMEM;
	} else {
		q->tapfd = n->tapfds[q->idx];
		/* Restricted (seccomp cannot see io_uring operations) to what
		 * the TAP data path submits. */
		static const uint8_t ops[] = { IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_POLL_ADD,
					       IORING_OP_ASYNC_CANCEL };

		r = pvblk__uring_init_ops(&q->uring, tp.req_entries + NB_RX_READS + 8, ops, sizeof(ops), false);
		if (r < 0)
			return r;
		q->uring_ok = true;
		r = pvblk__uring_enable(&q->uring);
		if (r < 0)
			return r;
	}
	q->port = pv_evtchn_alloc_monitor(n->vm, &q->efd);
	if (q->port < 0)
		return q->port;
	q->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->stop_efd < 0 || q->wake_efd < 0)
		return -errno;
	return 0;
}

/* Do queue i's rings share memory with an earlier queue's? */
static bool rings_overlap(const struct pv_netback *n, unsigned int i)
{
	const struct nq *a = &n->q[i];

	for (unsigned int j = 0; j < i; j++) {
		const struct nq *b = &n->q[j];
		const uint8_t *x[2] = { a->txring, a->rxring }, *y[2] = { b->txring, b->rxring };
		size_t xl[2] = { a->tx_len, a->rx_len }, yl[2] = { b->tx_len, b->rx_len };

		for (int k = 0; k < 2; k++)
			for (int l = 0; l < 2; l++)
				if (x[k] < y[l] + yl[l] && y[l] < x[k] + xl[k])
					return true;
	}
	return false;
}

static int start_queues(struct pv_netback *n)
{
	for (unsigned int i = 0; i < n->nr_queues; i++) {
		struct nq *q = &n->q[i];
		int r = -pthread_create(&q->thread, NULL, n->sw ? pvnet__switch_thread : pvnet__tap_thread, q);

		if (r < 0)
			return r;
		q->started = true;
	}
	return 0;
}

static int do_connect(struct pv_netback *n, struct pvnet_ctrl *c)
{
	unsigned int nq = c->nr_queues;
	int r = 0;

	if (atomic_load(&n->nr_queues) || nq == 0 || nq > n->max_queues)
		return -EINVAL;
	if (c->features & ~n->offered)
		return PV_EOPNOTSUPP;
	if (nq > 1 && !(c->features & PVNET_F_MQ))
		return -EINVAL;
	atomic_store(&n->accepted, c->features);
	for (unsigned int i = 0; i < nq && r == 0; i++) {
		r = connect_queue(n, &n->q[i], &c->q[i]);
		c->q[i].evtchn = (uint32_t)n->q[i].port;
		if (r == 0 && rings_overlap(n, i))
			r = -EINVAL;
	}
	for (unsigned int i = 0; i < nq && r == 0 && !n->sw; i++)
		r = pvnet__tap_offload(n->tapfds[i], c->features);
	for (unsigned int i = nq; i < n->max_queues && r == 0 && !n->sw && n->max_queues > 1; i++)
		r = pvnet__tap_detach(n->tapfds[i]); /* no reader: the TAP must not steer to it */
	if (r == 0) {
		atomic_store(&n->nr_queues, nq);
		if (n->sw) {
			n->swport = pvsw__join(n->sw, &pvnet__port_ops, n, n->mac);
			r = n->swport < 0 ? n->swport : 0;
		}
		if (r == 0)
			r = start_queues(n);
	}
	if (r < 0) { /* all or nothing: the guest may try again */
		for (unsigned int i = 0; i < nq; i++)
			queue_halt(&n->q[i]);
		if (n->sw && n->swport >= 0)
			pvsw__leave(n->sw, (unsigned int)n->swport);
		n->swport = -1;
		atomic_store(&n->nr_queues, 0);
		for (unsigned int i = 0; i < nq; i++) {
			queue_teardown(n, &n->q[i]);
			c->q[i].evtchn = 0;
		}
		atomic_store(&n->accepted, 0);
	}
	return r;
}

struct connect_args {
	struct pv_netback *n;
	struct pvnet_ctrl *c;
};

static int connect_call(void *arg)
{
	struct connect_args *a = arg;

	return do_connect(a->n, a->c);
}

/* DISCONNECT: end every queue like a stop (threads joined, out of the
 * switch, rings unmapped, channels closed) and forget it, keeping its
 * counters, so that the guest may end its grants and connect again
 * (n->lock held). */
static int disconnect_call(void *arg)
{
	struct pv_netback *n = arg;
	unsigned int nq = atomic_load(&n->nr_queues);

	for (unsigned int i = 0; i < nq; i++)
		queue_halt(&n->q[i]);
	if (n->sw && n->swport >= 0)
		pvsw__leave(n->sw, (unsigned int)n->swport); /* frames left waiting elsewhere are answered */
	n->swport = -1;
	for (unsigned int i = 0; i < nq; i++) {
		struct nq_stats st;

		memcpy(&st, &n->q[i].st, sizeof(st)); /* no thread left: plain copies */
		queue_teardown(n, &n->q[i]);
		memcpy(&n->q[i].st, &st, sizeof(st));
	}
	atomic_store(&n->nr_queues, 0);
	atomic_store(&n->accepted, 0);
	return 0;
}

static int control(void *opaque, struct pv_vcpu *v, uint64_t addr, void *data, unsigned int size, bool is_write)
{
	struct pv_netback *n = opaque;
	struct pvnet_ctrl c;
	uint32_t gref = 0;
	int r = 0;

	(void)v;
	if (!is_write || addr != PVNET_PORT || size != 4)
		return 0;
	memcpy(&gref, data, 4);
	if (pv_grant_copy_from(n->vm, 0, gref, 0, &c, sizeof(c)) < 0)
		return 0; /* nothing we may write to: ignore */
	pthread_mutex_lock(&n->lock);
	switch (c.cmd) {
	case PVNET_CMD_GET_CONFIG:
		memset(&c.config, 0, sizeof(c.config));
		c.config.version = PVNET_VERSION;
		c.config.features = n->offered;
		memcpy(c.config.mac, n->mac, 6);
		c.config.mtu = n->mtu;
		c.config.max_queues = (uint16_t)n->max_queues;
		c.config.max_segs = PVNET_TX_SEGS;
		c.config.max_frame = PVNET_FRAME_MAX;
		c.config.max_ring_entries = NB_RING_MAX;
		c.config.link_up = 1;
		break;
	case PVNET_CMD_CONNECT: {
		struct connect_args a = { n, &c };

		/* Rings, eventfds and threads are made on the control thread
		 * (a sandboxed vCPU may make none). */
		r = pv_vm_device_call(n->vm, connect_call, &a);
		break;
	}
	case PVNET_CMD_DISCONNECT:
		/* joins the queue threads: on the control thread too */
		r = pv_vm_device_call(n->vm, disconnect_call, n);
		break;
	default:
		r = PV_EOPNOTSUPP;
	}
	pthread_mutex_unlock(&n->lock);
	c.status = r;
	pv_grant_copy_to(n->vm, 0, gref, 0, &c, sizeof(c));
	return 0;
}

/* The VM has stopped for good: end the queues, leave the switch (what
 * waited for us, or we left waiting elsewhere, is dropped), keep counters. */
static void netback_stop(void *dev)
{
	struct pv_netback *n = dev;
	unsigned int nq;

	pthread_mutex_lock(&n->lock);
	nq = atomic_load(&n->nr_queues);
	for (unsigned int i = 0; i < nq; i++)
		queue_halt(&n->q[i]);
	if (n->sw && n->swport >= 0)
		pvsw__leave(n->sw, (unsigned int)n->swport);
	n->swport = -1;
	for (unsigned int i = 0; i < nq; i++)
		queue_release(n, &n->q[i]);
	pthread_mutex_unlock(&n->lock);
}

static void netback_destroy(void *dev)
{
	struct pv_netback *n = dev;

	netback_stop(n);
	for (unsigned int i = 0; i < PVNET_MAX_QUEUES; i++) {
		pthread_mutex_destroy(&n->q[i].txlock);
		pthread_mutex_destroy(&n->q[i].rxlock);
		if (n->tapfds[i] >= 0)
			close(n->tapfds[i]);
	}
	pvsw__put(n->sw);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

static const struct pv_device_ops netback_ops = {
	.name = "pvnet",
	.stop = netback_stop,
	.destroy = netback_destroy,
};

int pv_netback_attach(struct pv_vm *vm, const struct pv_netback_config *cfg, struct pv_netback **out)
{
	static const uint8_t zero[6];
	struct pv_netback *n;
	int r;

	if (out)
		*out = NULL;
	if (!vm || !cfg || !out || !cfg->sw == !cfg->tap || (cfg->mtu && cfg->mtu < 68) ||
	    (cfg->tap && (!cfg->tap[0] || strlen(cfg->tap) >= IFNAMSIZ)) || cfg->max_queues > PVNET_MAX_QUEUES)
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->vm = vm;
	n->swport = -1;
	n->poll_ns = cfg->poll_ns;
	n->heavy = !pv_vm_guest_fences(vm);
	n->mtu = cfg->mtu ? cfg->mtu : 1500;
	pthread_mutex_init(&n->lock, NULL);
	for (unsigned int i = 0; i < PVNET_MAX_QUEUES; i++) {
		queue_reset(n, &n->q[i], i);
		n->tapfds[i] = -1;
	}
	memcpy(n->mac, cfg->mac, 6);
	if (!memcmp(n->mac, zero, 6)) {
		unsigned int d = pv_vm_domid(vm);
		uint8_t m[6] = { 0x52, 0x54, 0x00, 0x00, (uint8_t)d, (uint8_t)(d >> 8) };

		memcpy(n->mac, m, 6);
	}
	n->max_queues = cfg->max_queues ? cfg->max_queues : pv_vm_vcpus(vm);
	if (n->max_queues == 0)
		n->max_queues = 1;
	if (n->max_queues > PVNET_MAX_QUEUES)
		n->max_queues = PVNET_MAX_QUEUES;
	n->offered = (cfg->sw ? SWITCH_FEATURES : pvnet__tap_features()) & ~cfg->features;
	if (n->max_queues == 1)
		n->offered &= ~PVNET_F_MQ;
	if (cfg->tap) {
		snprintf(n->tap, sizeof(n->tap), "%s", cfg->tap);
		r = pvnet__tap_open(n->tap, n->max_queues, n->tapfds);
		if (r < 0) {
			for (unsigned int i = 0; i < PVNET_MAX_QUEUES; i++) {
				pthread_mutex_destroy(&n->q[i].txlock);
				pthread_mutex_destroy(&n->q[i].rxlock);
			}
			pthread_mutex_destroy(&n->lock);
			free(n);
			return r;
		}
	} else {
		n->sw = cfg->sw;
		pvsw__get(n->sw);
	}
	r = pv_vm_add_device(vm, &netback_ops, n);
	if (r < 0) {
		netback_destroy(n);
		return r;
	}
	/* From here on the VM owns n. */
	if (n->heavy)
		pv_ring_heavy_barrier_init();
	r = pv_vm_add_pio(vm, "pvnet", PVNET_PORT, 4, control, n);
	if (r < 0)
		return r;
	*out = n;
	return 0;
}

static void add_stats(struct nq *q, struct pv_netback_stats *st)
{
	st->tx_frames += atomic_load(&q->st.tx_frames);
	st->tx_bytes += atomic_load(&q->st.tx_bytes);
	st->tx_invalid += atomic_load(&q->st.tx_invalid);
	st->tx_unsupp += atomic_load(&q->st.tx_unsupp);
	st->tx_dropped += atomic_load(&q->st.tx_dropped);
	st->tx_gso += atomic_load(&q->st.tx_gso);
	st->rx_frames += atomic_load(&q->st.rx_frames);
	st->rx_bytes += atomic_load(&q->st.rx_bytes);
	st->rx_dropped += atomic_load(&q->st.rx_dropped);
	st->rx_bad_buffers += atomic_load(&q->st.rx_bad_buffers);
	st->notifications += atomic_load(&q->st.notifications);
	st->sleeps += atomic_load(&q->st.sleeps);
}

void pv_netback_stats(struct pv_netback *n, struct pv_netback_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!n)
		return;
	for (unsigned int i = 0; i < PVNET_MAX_QUEUES; i++)
		add_stats(&n->q[i], st); /* counters of queues never connected are zero */
}

int pv_netback_queue_stats(struct pv_netback *n, unsigned int queue, struct pv_netback_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!n)
		return -EINVAL;
	if (queue >= atomic_load(&n->nr_queues))
		return -ENOENT;
	add_stats(&n->q[queue], st);
	return 0;
}

unsigned int pv_netback_queues(struct pv_netback *n)
{
	return n ? atomic_load(&n->nr_queues) : 0;
}

uint32_t pv_netback_features(struct pv_netback *n)
{
	return n ? atomic_load(&n->accepted) : 0;
}

void pv_netback_mac(struct pv_netback *n, uint8_t mac[6])
{
	if (n)
		memcpy(mac, n->mac, 6);
	else
		memset(mac, 0, 6);
}
