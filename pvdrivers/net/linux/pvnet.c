// SPDX-License-Identifier: GPL-2.0
/*
 * pvnet: libpv's PV network driver for unmodified Linux guests, a netdev
 * for the protocol of <pv/abi/net.h> on top of pvcore.ko.
 *
 * Set-up (the sequence of guest/netfront.c): one control page granted to
 * the monitor; GET_CONFIG; one queue (a tx and an rx ring pair) per vCPU,
 * at most the device's max_queues; CONNECT with the features accepted; each
 * queue's event channel is bound to pvcore's interrupt, and its receive
 * buffers are posted.  The interface is eth-named by the kernel and carries
 * the device's MAC.
 *
 * Data: persistent grants.  Each queue owns a pool of receive buffers and a
 * pool of transmit bounce buffers, physically contiguous chunks granted to
 * the monitor once at load; no packet costs a grant operation.  A packet to
 * send is copied into a free bounce buffer (skb_copy_bits: any skb shape)
 * with its offload metadata; a received frame is copied out of its buffer
 * into a new skb, and the buffer is posted again.  NETIF_F_SG is set only
 * because the kernel drops TSO without it: nothing is mapped, all is copied.
 *
 * Notifications: one doorbell per transmit batch (netdev_xmit_more), and
 * only when the backend armed its event index.  The queue's interrupt
 * schedules NAPI; the poll reclaims transmit buffers, consumes receive
 * responses within its budget, reposts buffers in batches, and only once
 * it completes re-arms both response rings (reschedules if more came).
 *
 * Every response is copied out of the ring and checked: an id that is not
 * outstanding, a length beyond the buffer or a status the protocol does not
 * define is counted (ethtool -S) and dropped.  A ring the monitor broke
 * stops its queue.
 *
 * Unload: unregister_netdev stops the queues, DISCONNECT ends them on the
 * monitor's side, and only then are the grants ended and pages freed (a
 * grant the monitor still holds leaks its pages rather than free them).
 */
#include <linux/cpumask.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/gfp.h>
#include <linux/if_vlan.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include <pv/abi/core.h>
#include <pv/abi/ring.h>
#include <pv/abi/net.h>

#include "pvcore.h"

static unsigned int queues;
module_param(queues, uint, 0444);
MODULE_PARM_DESC(queues, "queue pairs (0: one per vCPU, at most the device's)");
static unsigned int ring_entries = 256;
module_param(ring_entries, uint, 0444);
MODULE_PARM_DESC(ring_entries, "entries per ring and receive buffers per queue (power of two, 16-1024)");
static unsigned int offloads = 1;
module_param(offloads, uint, 0444);
MODULE_PARM_DESC(offloads, "accept the checksum and segmentation offloads the device offers (0: none)");

#define PVNET_GRANTS_MAX   48   /* of pvcore's 255: pvblk takes up to 200 */
#define PVNET_CHUNK_ORDER  8    /* pool chunks of at most 1 MiB */
#define PVNET_CHUNKS_MAX   8
#define PVNET_TSO_SLOTS    64   /* 64 KiB bounce buffers per queue with TSO */
#define PVNET_TSO_BUF      ALIGN(PVNET_FRAME_MAX, 64)

/* Buffers of one size in granted chunks: buffer i is in chunk i / per_chunk. */
struct pvnet_pool {
	unsigned int nbufs, stride, per_chunk, nchunks, order;
	void *chunk[PVNET_CHUNKS_MAX];
	int gref[PVNET_CHUNKS_MAX];
};

struct pvnet_qstats {
	u64 rx_packets, rx_bytes, rx_returned, rx_bad, rx_nomem, rx_csum_bad;
	u64 tx_packets, tx_bytes, tx_dropped, tx_errors, tx_bad, tx_oversize, tx_stops, tx_kicks, rx_kicks;
};

static const struct {
	const char *name;
	size_t off;
} pvnet_stat_names[] = {
#define S(f) { #f, offsetof(struct pvnet_qstats, f) }
	S(rx_packets), S(rx_bytes), S(rx_returned), S(rx_bad), S(rx_nomem), S(rx_csum_bad),
	S(tx_packets), S(tx_bytes), S(tx_dropped), S(tx_errors), S(tx_bad), S(tx_oversize), S(tx_stops),
	S(tx_kicks), S(rx_kicks),
#undef S
};

#define PVNET_NSTATS ARRAY_SIZE(pvnet_stat_names)

struct pvnet_queue {
	struct pvnet_dev *dev;
	unsigned int idx, port;
	bool bound, broken;
	struct napi_struct napi;
	bool napi_added;
	/* rings */
	void *txring, *rxring;
	unsigned int txorder, rxorder, txpages, rxpages;
	int txgref, rxgref;
	/* transmit: txlock guards txreq, txrsp, the free list and tx stats */
	spinlock_t txlock;
	struct pv_ring_prod txreq;
	struct pv_ring_cons txrsp;
	struct pvnet_pool txpool;
	unsigned int *txfree, nfree;  /* stack of free bounce buffers */
	bool *txbusy;
	/* receive: NAPI context only */
	struct pv_ring_prod rxreq;
	struct pv_ring_cons rxrsp;
	struct pvnet_pool rxpool;
	unsigned int *rxfree, nrxfree; /* buffers not posted */
	bool *rxposted;
	struct pvnet_qstats st;
};

struct pvnet_dev {
	struct net_device *ndev;
	struct pvnet_ctrl *ctrl;
	int ctrl_gref;
	struct pvnet_config cfg;
	u32 features;                 /* accepted */
	unsigned int nq, entries, rxbuf, txbuf, txslots;
	bool connecting, registered;
	struct pvnet_queue q[PVNET_MAX_QUEUES];
};

static struct net_device *pvnet_ndev;

/* One control command: the monitor answers before the OUT returns (1: no device). */
static int pvnet_control(struct pvnet_dev *d, u32 cmd)
{
	return pvcore_ctrl_command(PVNET_PORT, d->ctrl_gref, d->ctrl, cmd);
}

/* ---- pools ---- */

static int pvnet_pool_alloc(struct pvnet_pool *p, unsigned int nbufs, unsigned int stride)
{
	size_t chunk_max = PAGE_SIZE << PVNET_CHUNK_ORDER;
	unsigned int c;
	int r;

	p->nbufs = nbufs;
	p->stride = stride;
	if ((size_t)nbufs * stride <= chunk_max) {
		p->per_chunk = nbufs;
		p->order = get_order((size_t)nbufs * stride);
	} else {
		p->per_chunk = chunk_max / stride;
		p->order = get_order((size_t)p->per_chunk * stride);
	}
	p->nchunks = DIV_ROUND_UP(nbufs, p->per_chunk);
	if (p->nchunks > PVNET_CHUNKS_MAX)
		return -E2BIG;
	for (c = 0; c < p->nchunks; c++) {
		p->chunk[c] = (void *)__get_free_pages(GFP_KERNEL | __GFP_ZERO, p->order);
		if (!p->chunk[c])
			return -ENOMEM;
		r = pvcore_grant_access(PV_DOMID_MONITOR, PFN_DOWN(virt_to_phys(p->chunk[c])), 1u << p->order, false);
		if (r < 0)
			return r;
		p->gref[c] = r;
	}
	return 0;
}

static void pvnet_pool_free(struct pvnet_pool *p)
{
	unsigned int c;

	for (c = 0; c < p->nchunks; c++)
		if (p->chunk[c] && pvcore_grant_end_or_leak(&p->gref[c]))
			free_pages((unsigned long)p->chunk[c], p->order);
	memset(p, 0, sizeof(*p));
}

static inline void *pvnet_buf(const struct pvnet_pool *p, unsigned int i, u32 *gref, u32 *off)
{
	unsigned int c = i / p->per_chunk, o = (i % p->per_chunk) * p->stride;

	*gref = p->gref[c];
	*off = o;
	return (char *)p->chunk[c] + o;
}

/* ---- receive ---- */

/* Post every free receive buffer (NAPI context, or before NAPI runs). */
static void pvnet_rx_post(struct pvnet_queue *q)
{
	struct pvnet_dev *d = q->dev;

	while (q->nrxfree) {
		unsigned int i = q->rxfree[q->nrxfree - 1];
		struct pvnet_rx_req *r = pv_ring_get_slot(&q->rxreq);
		u32 gref, off;

		if (!r)
			break; /* cannot happen: as many slots as buffers */
		pvnet_buf(&q->rxpool, i, &gref, &off);
		*r = (struct pvnet_rx_req){ .id = i, .gref = gref, .offset = off, .len = d->rxbuf };
		q->rxposted[i] = true;
		q->nrxfree--;
	}
	if (pv_ring_push(&q->rxreq)) {
		q->st.rx_kicks++;
		pvcore_evtchn_notify(q->port);
	}
}

static void pvnet_break(struct pvnet_queue *q, const char *ring, int err)
{
	if (!q->broken)
		netdev_err(q->dev->ndev, "queue %u: the %s ring is broken (%d): queue stopped\n", q->idx, ring, err);
	q->broken = true;
	netif_tx_stop_queue(netdev_get_tx_queue(q->dev->ndev, q->idx));
}

/* One copied-out receive response. */
static void pvnet_rx_one(struct pvnet_queue *q, const struct pvnet_rx_rsp *rsp)
{
	struct pvnet_dev *d = q->dev;
	struct net_device *ndev = d->ndev;
	struct sk_buff *skb;
	unsigned int len = rsp->len;
	u32 gref, off;
	void *buf;

	if (rsp->id >= q->rxpool.nbufs || !q->rxposted[rsp->id]) {
		q->st.rx_bad++;
		net_warn_ratelimited("pvnet: queue %u: receive response for buffer %llu, which is not posted\n",
				     q->idx, (unsigned long long)rsp->id);
		return;
	}
	q->rxposted[rsp->id] = false;
	q->rxfree[q->nrxfree++] = rsp->id; /* back to the free list whatever came */
	if (rsp->status == PVNET_S_DROPPED || rsp->status == PVNET_S_INVALID ||
	    (rsp->status == PVNET_S_OK && len == 0)) { /* the buffer comes back unused */
		q->st.rx_returned++;
		if (rsp->status == PVNET_S_INVALID)
			q->st.rx_bad++;
		return;
	}
	if (rsp->status != PVNET_S_OK || len < PVNET_FRAME_MIN || len > d->rxbuf) {
		q->st.rx_bad++;
		net_warn_ratelimited("pvnet: queue %u: receive response with status %d, length %u\n", q->idx,
				     rsp->status, len);
		return;
	}
	buf = pvnet_buf(&q->rxpool, rsp->id, &gref, &off);
	skb = napi_alloc_skb(&q->napi, len);
	if (!skb) {
		q->st.rx_nomem++;
		return;
	}
	skb_put_data(skb, buf, len);
	if ((d->features & PVNET_F_GUEST_CSUM) && (rsp->hdr.flags & PVNET_HDR_F_NEEDS_CSUM)) {
		if (!skb_partial_csum_set(skb, rsp->hdr.csum_start, rsp->hdr.csum_offset)) {
			q->st.rx_csum_bad++;
			dev_kfree_skb_any(skb);
			return;
		}
	} else if ((d->features & PVNET_F_GUEST_CSUM) && (rsp->hdr.flags & PVNET_HDR_F_DATA_VALID)) {
		skb->ip_summed = CHECKSUM_UNNECESSARY;
	}
	skb->protocol = eth_type_trans(skb, ndev);
	skb_record_rx_queue(skb, q->idx);
	q->st.rx_packets++;
	q->st.rx_bytes += len;
	napi_gro_receive(&q->napi, skb);
}

/* ---- transmit ---- */

/* Reclaim bounce buffers of answered transmits (txlock held). */
static void pvnet_tx_reclaim(struct pvnet_queue *q)
{
	struct pvnet_tx_rsp rsp;
	int r;

	while ((r = pv_ring_consume(&q->txrsp, &rsp, sizeof(rsp))) == 1) {
		if (rsp.id >= q->dev->txslots || !q->txbusy[rsp.id]) {
			q->st.tx_bad++;
			net_warn_ratelimited("pvnet: queue %u: transmit response for id %llu, which is not in flight\n",
					     q->idx, (unsigned long long)rsp.id);
			continue;
		}
		q->txbusy[rsp.id] = false;
		q->txfree[q->nfree++] = rsp.id;
		switch (rsp.status) {
		case PVNET_S_OK:
			break;
		case PVNET_S_DROPPED:
			q->st.tx_dropped++;
			break;
		case PVNET_S_UNSUPP:
		case PVNET_S_INVALID:
			q->st.tx_errors++;
			break;
		default:
			q->st.tx_bad++;
			q->st.tx_errors++;
			break;
		}
	}
	pv_ring_release(&q->txrsp);
	if (r < 0)
		pvnet_break(q, "transmit response", r);
}

static void pvnet_tx_wake(struct pvnet_queue *q)
{
	struct netdev_queue *txq = netdev_get_tx_queue(q->dev->ndev, q->idx);

	if (!q->broken && netif_tx_queue_stopped(txq) && q->nfree >= max(1u, q->dev->txslots / 4))
		netif_tx_wake_queue(txq);
}

/* The offload header of skb; false if it needs one the device cannot do. */
static bool pvnet_tx_hdr(const struct pvnet_dev *d, const struct sk_buff *skb, struct pvnet_hdr *h)
{
	memset(h, 0, sizeof(*h));
	if (skb->ip_summed == CHECKSUM_PARTIAL) {
		if (!(d->features & PVNET_F_CSUM))
			return false;
		h->flags = PVNET_HDR_F_NEEDS_CSUM;
		h->csum_start = skb_checksum_start_offset(skb);
		h->csum_offset = skb->csum_offset;
	}
	if (skb_is_gso(skb)) {
		const struct skb_shared_info *si = skb_shinfo(skb);

		if (si->gso_type & SKB_GSO_TCPV4) {
			h->gso_type = PVNET_GSO_TCPV4;
			h->hdr_len = skb_tcp_all_headers(skb);
		} else if (si->gso_type & SKB_GSO_TCPV6) {
			h->gso_type = PVNET_GSO_TCPV6;
			h->hdr_len = skb_tcp_all_headers(skb);
		} else if (si->gso_type & SKB_GSO_UDP_L4) {
			h->gso_type = PVNET_GSO_UDP_L4;
			h->hdr_len = skb_transport_offset(skb) + sizeof(struct udphdr);
		} else {
			return false;
		}
		if (si->gso_type & SKB_GSO_TCP_ECN) {
			if (!(d->features & PVNET_F_ECN))
				return false;
			h->gso_type |= PVNET_GSO_ECN;
		}
		h->gso_size = si->gso_size;
		if (!(h->flags & PVNET_HDR_F_NEEDS_CSUM))
			return false;
	}
	return true;
}

static void pvnet_tx_kick(struct pvnet_queue *q)
{
	if (pv_ring_push(&q->txreq)) {
		q->st.tx_kicks++;
		pvcore_evtchn_notify(q->port);
	}
}

static netdev_tx_t pvnet_start_xmit(struct sk_buff *skb, struct net_device *ndev)
{
	struct pvnet_dev *d = netdev_priv(ndev);
	unsigned int qi = skb_get_queue_mapping(skb);
	struct pvnet_queue *q = &d->q[qi < d->nq ? qi : 0];
	struct netdev_queue *txq = netdev_get_tx_queue(ndev, q->idx);
	unsigned int len = skb->len, id;
	struct pvnet_tx_req *slot;
	struct pvnet_hdr h;
	u32 gref, off;
	void *buf;

	spin_lock(&q->txlock);
	if (q->broken)
		goto drop;
	if (len < PVNET_FRAME_MIN || len > d->txbuf || (!skb_is_gso(skb) && len > d->cfg.mtu + VLAN_ETH_HLEN) ||
	    !pvnet_tx_hdr(d, skb, &h)) {
		q->st.tx_oversize++;
		goto drop;
	}
	if (!q->nfree)
		pvnet_tx_reclaim(q);
	if (!q->nfree) { /* cannot happen: the queue stops at the last buffer */
		netif_tx_stop_queue(txq);
		q->st.tx_stops++;
		pvnet_tx_kick(q);
		spin_unlock(&q->txlock);
		return NETDEV_TX_BUSY;
	}
	id = q->txfree[q->nfree - 1];
	buf = pvnet_buf(&q->txpool, id, &gref, &off);
	if (skb_copy_bits(skb, 0, buf, len) < 0) {
		q->st.tx_errors++;
		goto drop;
	}
	slot = pv_ring_get_slot(&q->txreq);
	if (!slot) { /* cannot happen: no more in flight than the ring holds */
		q->st.tx_bad++;
		goto drop;
	}
	q->nfree--;
	q->txbusy[id] = true;
	slot->id = id;
	slot->total_len = len;
	slot->nr_segs = 1;
	slot->reserved0 = 0;
	slot->hdr = h;
	slot->reserved1 = 0;
	slot->seg[0] = (struct pvnet_seg){ .gref = gref, .offset = off, .len = len };
	q->st.tx_packets++;
	q->st.tx_bytes += len;
	if (!q->nfree) {
		pvnet_tx_reclaim(q);
		if (!q->nfree) {
			netif_tx_stop_queue(txq);
			q->st.tx_stops++;
		}
	}
	if (!netdev_xmit_more() || netif_xmit_stopped(txq))
		pvnet_tx_kick(q);
	spin_unlock(&q->txlock);
	dev_consume_skb_any(skb);
	return NETDEV_TX_OK;
drop:
	if (!netdev_xmit_more())
		pvnet_tx_kick(q); /* what the batch queued before */
	spin_unlock(&q->txlock);
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}

/* ---- NAPI and the interrupt ---- */

static int pvnet_poll(struct napi_struct *napi, int budget)
{
	struct pvnet_queue *q = container_of(napi, struct pvnet_queue, napi);
	struct pvnet_rx_rsp rsp;
	int work = 0, r = 0, more;

	spin_lock(&q->txlock);
	pvnet_tx_reclaim(q);
	pvnet_tx_wake(q);
	spin_unlock(&q->txlock);
	if (q->broken)
		goto done;
	while (work < budget && (r = pv_ring_consume(&q->rxrsp, &rsp, sizeof(rsp))) == 1) {
		pvnet_rx_one(q, &rsp);
		work++;
	}
	pv_ring_release(&q->rxrsp);
	if (r < 0) {
		pvnet_break(q, "receive response", r);
		goto done;
	}
	/* Repost in batches, or at once when few buffers are left posted. */
	if (q->nrxfree >= min(16u, q->rxpool.nbufs / 4) || q->rxpool.nbufs - q->nrxfree < q->rxpool.nbufs / 2)
		pvnet_rx_post(q);
	if (work == budget)
		return budget;
done:
	if (!napi_complete_done(napi, work) || q->broken)
		return work;
	more = pv_ring_final_check(&q->rxrsp);
	spin_lock(&q->txlock);
	more |= pv_ring_final_check(&q->txrsp);
	spin_unlock(&q->txlock);
	if (more)
		napi_schedule(napi); /* more came (or an error: the next poll sees it) */
	return work;
}

static void pvnet_event(unsigned int port, void *data)
{
	struct pvnet_queue *q = data;

	napi_schedule_irqoff(&q->napi);
}

/* ---- netdev ---- */

static int pvnet_open(struct net_device *ndev)
{
	struct pvnet_dev *d = netdev_priv(ndev);
	unsigned int i;

	for (i = 0; i < d->nq; i++) {
		napi_enable(&d->q[i].napi);
		napi_schedule(&d->q[i].napi); /* what came while closed */
	}
	netif_tx_start_all_queues(ndev);
	return 0;
}

static int pvnet_stop(struct net_device *ndev)
{
	struct pvnet_dev *d = netdev_priv(ndev);
	unsigned int i;

	netif_tx_disable(ndev);
	for (i = 0; i < d->nq; i++)
		napi_disable(&d->q[i].napi);
	return 0;
}

static int pvnet_change_mtu(struct net_device *ndev, int mtu)
{
	ndev->mtu = mtu; /* min_mtu..max_mtu checked by the core; buffers fit max_mtu */
	return 0;
}

static void pvnet_get_stats64(struct net_device *ndev, struct rtnl_link_stats64 *s)
{
	struct pvnet_dev *d = netdev_priv(ndev);
	unsigned int i;

	for (i = 0; i < d->nq; i++) {
		const struct pvnet_qstats *st = &d->q[i].st;

		s->rx_packets += READ_ONCE(st->rx_packets);
		s->rx_bytes += READ_ONCE(st->rx_bytes);
		s->rx_errors += READ_ONCE(st->rx_bad) + READ_ONCE(st->rx_csum_bad);
		s->rx_dropped += READ_ONCE(st->rx_nomem);
		s->tx_packets += READ_ONCE(st->tx_packets);
		s->tx_bytes += READ_ONCE(st->tx_bytes);
		s->tx_errors += READ_ONCE(st->tx_errors) + READ_ONCE(st->tx_oversize);
		s->tx_dropped += READ_ONCE(st->tx_dropped);
	}
}

static const struct net_device_ops pvnet_netdev_ops = {
	.ndo_open = pvnet_open,
	.ndo_stop = pvnet_stop,
	.ndo_start_xmit = pvnet_start_xmit,
	.ndo_change_mtu = pvnet_change_mtu,
	.ndo_get_stats64 = pvnet_get_stats64,
	.ndo_set_mac_address = eth_mac_addr,
	.ndo_validate_addr = eth_validate_addr,
};

/* ---- ethtool ---- */

static void pvnet_get_drvinfo(struct net_device *ndev, struct ethtool_drvinfo *info)
{
	strscpy(info->driver, "pvnet", sizeof(info->driver));
	strscpy(info->bus_info, "libpv", sizeof(info->bus_info));
}

static int pvnet_get_sset_count(struct net_device *ndev, int sset)
{
	struct pvnet_dev *d = netdev_priv(ndev);

	return sset == ETH_SS_STATS ? d->nq * PVNET_NSTATS : -EOPNOTSUPP;
}

static void pvnet_get_strings(struct net_device *ndev, u32 sset, u8 *data)
{
	struct pvnet_dev *d = netdev_priv(ndev);
	unsigned int i, k;

	if (sset != ETH_SS_STATS)
		return;
	for (i = 0; i < d->nq; i++)
		for (k = 0; k < PVNET_NSTATS; k++)
			ethtool_sprintf(&data, "q%u_%s", i, pvnet_stat_names[k].name);
}

static void pvnet_get_ethtool_stats(struct net_device *ndev, struct ethtool_stats *stats, u64 *data)
{
	struct pvnet_dev *d = netdev_priv(ndev);
	unsigned int i, k;

	for (i = 0; i < d->nq; i++)
		for (k = 0; k < PVNET_NSTATS; k++)
			*data++ = READ_ONCE(*(const u64 *)((const char *)&d->q[i].st + pvnet_stat_names[k].off));
}

static const struct ethtool_ops pvnet_ethtool_ops = {
	.get_drvinfo = pvnet_get_drvinfo,
	.get_link = ethtool_op_get_link,
	.get_sset_count = pvnet_get_sset_count,
	.get_strings = pvnet_get_strings,
	.get_ethtool_stats = pvnet_get_ethtool_stats,
};

/* ---- set-up and tear-down ---- */

static void pvnet_queue_free(struct pvnet_queue *q)
{
	if (q->bound)
		pvcore_evtchn_unbind(q->port);
	q->bound = false;
	pvnet_pool_free(&q->txpool);
	pvnet_pool_free(&q->rxpool);
	if (q->txring && pvcore_grant_end_or_leak(&q->txgref))
		free_pages((unsigned long)q->txring, q->txorder);
	if (q->rxring && pvcore_grant_end_or_leak(&q->rxgref))
		free_pages((unsigned long)q->rxring, q->rxorder);
	q->txring = q->rxring = NULL;
	kfree(q->txfree);
	kfree(q->txbusy);
	kfree(q->rxfree);
	kfree(q->rxposted);
	q->txfree = q->rxfree = NULL;
	q->txbusy = q->rxposted = NULL;
}

static int pvnet_ring_alloc(void **ring, unsigned int *order, unsigned int *pages, int *gref,
			    const struct pv_ring_params *prm, struct pv_ring_prod *req, struct pv_ring_cons *rsp)
{
	size_t size = pv_ring_pair_size(prm);
	int r;

	if (!size)
		return -EINVAL;
	*pages = size / PAGE_SIZE;
	*order = get_order(size);
	*ring = (void *)__get_free_pages(GFP_KERNEL | __GFP_ZERO, *order);
	if (!*ring)
		return -ENOMEM;
	if (pv_ring_pair_init(*ring, size, prm, 0) < 0 || pv_ring_prod_attach(req, *ring, prm, PV_RING_REQ) < 0 ||
	    pv_ring_cons_attach(rsp, *ring, prm, PV_RING_RSP) < 0)
		return -EINVAL;
	r = pvcore_grant_access(PV_DOMID_MONITOR, PFN_DOWN(virt_to_phys(*ring)), *pages, false);
	if (r < 0)
		return r;
	*gref = r;
	return 0;
}

static int pvnet_queue_alloc(struct pvnet_dev *d, struct pvnet_queue *q, unsigned int idx)
{
	struct pv_ring_params tp = { d->entries, PVNET_TX_REQ_SIZE, d->entries, PVNET_TX_RSP_SIZE };
	struct pv_ring_params rp = { d->entries, PVNET_RX_REQ_SIZE, d->entries, PVNET_RX_RSP_SIZE };
	unsigned int i;
	int r;

	q->dev = d;
	q->idx = idx;
	spin_lock_init(&q->txlock);
	q->txfree = kcalloc(d->txslots, sizeof(*q->txfree), GFP_KERNEL);
	q->txbusy = kcalloc(d->txslots, sizeof(*q->txbusy), GFP_KERNEL);
	q->rxfree = kcalloc(d->entries, sizeof(*q->rxfree), GFP_KERNEL);
	q->rxposted = kcalloc(d->entries, sizeof(*q->rxposted), GFP_KERNEL);
	if (!q->txfree || !q->txbusy || !q->rxfree || !q->rxposted)
		return -ENOMEM;
	r = pvnet_ring_alloc(&q->txring, &q->txorder, &q->txpages, &q->txgref, &tp, &q->txreq, &q->txrsp);
	if (r < 0)
		return r;
	r = pvnet_ring_alloc(&q->rxring, &q->rxorder, &q->rxpages, &q->rxgref, &rp, &q->rxreq, &q->rxrsp);
	if (r < 0)
		return r;
	r = pvnet_pool_alloc(&q->txpool, d->txslots, ALIGN(d->txbuf, 64));
	if (r < 0)
		return r;
	r = pvnet_pool_alloc(&q->rxpool, d->entries, ALIGN(d->rxbuf, 64));
	if (r < 0)
		return r;
	for (i = 0; i < d->txslots; i++)
		q->txfree[i] = d->txslots - 1 - i; /* id 0 on top */
	q->nfree = d->txslots;
	for (i = 0; i < d->entries; i++)
		q->rxfree[i] = d->entries - 1 - i;
	q->nrxfree = d->entries;
	return 0;
}

static unsigned int pvnet_queue_grants(const struct pvnet_dev *d)
{
	size_t chunk = PAGE_SIZE << PVNET_CHUNK_ORDER;
	size_t ts = ALIGN(d->txbuf, 64), rs = ALIGN(d->rxbuf, 64);
	unsigned int tx = DIV_ROUND_UP(d->txslots, max_t(size_t, 1, chunk / ts));
	unsigned int rx = DIV_ROUND_UP(d->entries, max_t(size_t, 1, chunk / rs));

	return 2 + (d->txslots * ts <= chunk ? 1 : tx) + (d->entries * rs <= chunk ? 1 : rx);
}

/* Tear down whatever pvnet_probe set up, in reverse; frees the netdev. */
static void pvnet_remove(struct net_device *ndev)
{
	struct pvnet_dev *d = netdev_priv(ndev);
	unsigned int i;
	int r;

	if (d->registered)
		unregister_netdev(ndev); /* stops the queues: no transmit, no poll */
	for (i = 0; i < d->nq; i++)
		if (d->q[i].bound)
			pvcore_evtchn_unbind(d->q[i].port), d->q[i].bound = false;
	if (d->connecting) {
		r = pvnet_control(d, PVNET_CMD_DISCONNECT);
		if (r)
			pr_err("pvnet: DISCONNECT failed (%d)\n", r);
	}
	for (i = 0; i < d->nq; i++) {
		if (d->q[i].napi_added)
			netif_napi_del(&d->q[i].napi);
		pvnet_queue_free(&d->q[i]);
	}
	if (d->ctrl && pvcore_grant_end_or_leak(&d->ctrl_gref))
		free_page((unsigned long)d->ctrl);
	free_netdev(ndev);
}

static int pvnet_check_config(const struct pvnet_config *c)
{
	if (c->version != PVNET_VERSION || c->max_queues == 0 || c->max_ring_entries < 16 || c->mtu < ETH_MIN_MTU ||
	    c->mtu > PVNET_FRAME_MAX - VLAN_ETH_HLEN || c->max_segs == 0 || !is_valid_ether_addr(c->mac)) {
		pr_err("pvnet: unusable device configuration (version %u, queues %u, ring %u, MTU %u, segments %u, MAC %pM)\n",
		       c->version, c->max_queues, c->max_ring_entries, c->mtu, c->max_segs, c->mac);
		return -EPROTO;
	}
	return 0;
}

/* The features to accept of those offered, and the netdev's to match. */
static u32 pvnet_accept(u32 offered, netdev_features_t *hw)
{
	u32 acc = 0;

	*hw = 0;
	if (!offloads)
		return 0;
	if (offered & PVNET_F_CSUM) {
		acc |= PVNET_F_CSUM;
		*hw |= NETIF_F_HW_CSUM | NETIF_F_SG;
		if (offered & PVNET_F_HOST_TSO4)
			acc |= PVNET_F_HOST_TSO4, *hw |= NETIF_F_TSO;
		if (offered & PVNET_F_HOST_TSO6)
			acc |= PVNET_F_HOST_TSO6, *hw |= NETIF_F_TSO6;
		if (offered & PVNET_F_HOST_USO)
			acc |= PVNET_F_HOST_USO, *hw |= NETIF_F_GSO_UDP_L4;
		if ((offered & PVNET_F_ECN) && (acc & (PVNET_F_HOST_TSO4 | PVNET_F_HOST_TSO6)))
			acc |= PVNET_F_ECN, *hw |= NETIF_F_TSO_ECN;
	}
	if (offered & PVNET_F_GUEST_CSUM)
		acc |= PVNET_F_GUEST_CSUM, *hw |= NETIF_F_RXCSUM;
	return acc;
}

static int pvnet_probe(struct net_device **out)
{
	struct net_device *ndev;
	struct pvnet_dev *d;
	netdev_features_t hw;
	unsigned int i, nq;
	int r;

	ndev = alloc_etherdev_mq(sizeof(*d), PVNET_MAX_QUEUES);
	if (!ndev)
		return -ENOMEM;
	d = netdev_priv(ndev);
	d->ndev = ndev;
	d->ctrl = (void *)get_zeroed_page(GFP_KERNEL);
	if (!d->ctrl) {
		r = -ENOMEM;
		goto fail;
	}
	r = d->ctrl_gref = pvcore_grant_access(PV_DOMID_MONITOR, PFN_DOWN(virt_to_phys(d->ctrl)), 1, false);
	if (r < 0)
		goto fail;
	r = pvnet_control(d, PVNET_CMD_GET_CONFIG);
	if (r == 1) {
		pr_info("pvnet: no PV network device (nothing answers port 0x%x)\n", PVNET_PORT);
		r = -ENODEV;
		goto fail;
	}
	if (r) {
		pr_err("pvnet: GET_CONFIG failed (%d)\n", r);
		r = -EIO;
		goto fail;
	}
	d->cfg = d->ctrl->config;
	r = pvnet_check_config(&d->cfg);
	if (r)
		goto fail;
	d->features = pvnet_accept(d->cfg.features, &hw);
	d->entries = min_t(u32, ring_entries, rounddown_pow_of_two(d->cfg.max_ring_entries));
	d->rxbuf = d->cfg.mtu + VLAN_ETH_HLEN;
	if (d->features & (PVNET_F_HOST_TSO4 | PVNET_F_HOST_TSO6 | PVNET_F_HOST_USO)) {
		d->txbuf = min_t(u32, PVNET_TSO_BUF, d->cfg.max_frame);
		d->txslots = min(d->entries, (unsigned int)PVNET_TSO_SLOTS);
	} else {
		d->txbuf = ALIGN(d->rxbuf, 64);
		d->txslots = d->entries;
	}
	nq = min3(queues ? queues : num_online_cpus(), (unsigned int)d->cfg.max_queues, PVNET_MAX_QUEUES);
	if (!(d->cfg.features & PVNET_F_MQ))
		nq = 1;
	nq = max(1u, min(nq, (PVNET_GRANTS_MAX - 1) / pvnet_queue_grants(d)));
	if (nq > 1)
		d->features |= PVNET_F_MQ;
	for (i = 0; i < nq; i++) {
		d->nq = i + 1;
		r = pvnet_queue_alloc(d, &d->q[i], i);
		if (r < 0) {
			pr_err("pvnet: queue %u: cannot set up its rings and buffers (%d)\n", i, r);
			goto fail;
		}
		d->ctrl->q[i] = (struct pvnet_queue_desc){ .tx_gref = d->q[i].txgref, .tx_pages = d->q[i].txpages,
							  .rx_gref = d->q[i].rxgref, .rx_pages = d->q[i].rxpages };
	}
	d->ctrl->nr_queues = d->nq;
	d->ctrl->features = d->features;
	d->connecting = true;
	r = pvnet_control(d, PVNET_CMD_CONNECT);
	if (r) {
		pr_err("pvnet: CONNECT of %u queues with features 0x%x failed (%d)\n", d->nq, d->features, r);
		d->connecting = false; /* all or nothing: nothing is connected */
		r = -EIO;
		goto fail;
	}
	for (i = 0; i < d->nq; i++) {
		struct pvnet_queue *q = &d->q[i];

		q->port = READ_ONCE(d->ctrl->q[i].evtchn);
		netif_napi_add(ndev, &q->napi, pvnet_poll);
		q->napi_added = true;
		r = pvcore_evtchn_bind(q->port, pvnet_event, q);
		if (r < 0) {
			pr_err("pvnet: queue %u: cannot bind event channel %u (%d)\n", i, q->port, r);
			goto fail;
		}
		q->bound = true;
		pvnet_rx_post(q);
	}

	ndev->netdev_ops = &pvnet_netdev_ops;
	ndev->ethtool_ops = &pvnet_ethtool_ops;
	ndev->hw_features = hw;
	ndev->features = hw | NETIF_F_HIGHDMA;
	ndev->min_mtu = ETH_MIN_MTU;
	ndev->max_mtu = d->cfg.mtu;
	ndev->mtu = d->cfg.mtu;
	if (hw & (NETIF_F_TSO | NETIF_F_TSO6 | NETIF_F_GSO_UDP_L4))
		netif_set_tso_max_size(ndev, d->txbuf - VLAN_ETH_HLEN);
	eth_hw_addr_set(ndev, d->cfg.mac);
	netif_set_real_num_tx_queues(ndev, d->nq);
	netif_set_real_num_rx_queues(ndev, d->nq);
	netif_carrier_off(ndev);
	r = register_netdev(ndev);
	if (r)
		goto fail;
	d->registered = true;
	if (d->cfg.link_up)
		netif_carrier_on(ndev); /* connected */
	netdev_info(ndev, "pvnet: MAC %pM, MTU %u, %u queues of %u entries, %u bounce buffers of %u bytes, features 0x%x of 0x%x\n",
		    d->cfg.mac, d->cfg.mtu, d->nq, d->entries, d->txslots, d->txbuf, d->features, d->cfg.features);
	*out = ndev;
	return 0;
fail:
	pvnet_remove(ndev);
	return r;
}

static int __init pvnet_init(void)
{
	if (ring_entries < 16 || ring_entries > 1024 || !is_power_of_2(ring_entries))
		return -EINVAL;
	return pvnet_probe(&pvnet_ndev);
}

static void __exit pvnet_exit(void)
{
	struct pvnet_dev *d = netdev_priv(pvnet_ndev);
	unsigned long long rx = 0, tx = 0, bad = 0;
	char per[PVNET_MAX_QUEUES * 42] = "";
	size_t n = 0;
	unsigned int i;

	for (i = 0; i < d->nq; i++) {
		const struct pvnet_qstats *st = &d->q[i].st;

		rx += st->rx_packets;
		tx += st->tx_packets;
		bad += st->rx_bad + st->tx_bad;
		n += scnprintf(per + n, sizeof(per) - n, " %llu/%llu", (unsigned long long)st->rx_packets,
			       (unsigned long long)st->tx_packets);
	}
	pvnet_remove(pvnet_ndev);
	pr_info("pvnet: unloaded (%llu packets received, %llu sent, %llu bad responses; rx/tx per queue:%s)\n", rx, tx,
		bad, per);
}

module_init(pvnet_init);
module_exit(pvnet_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("libpv PV network driver");
MODULE_SOFTDEP("pre: pvcore");
