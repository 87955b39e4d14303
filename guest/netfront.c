/* SPDX-License-Identifier: MIT */
/* The PV network frontend of the guest SDK. */
#include <pv/guest/gnttab.h>
#include <pv/guest/netfront.h>
#include <pv/guest/sdk.h>

static struct pvnet_ctrl ctrl __attribute__((aligned(4096)));
static unsigned int ctrl_gref;

static long ctrl_page(void)
{
	long r;

	if (ctrl_gref)
		return 0;
	r = pv_gnttab_grant(&ctrl, 1, PV_DOMID_MONITOR, 0);
	if (r < 0)
		return r;
	ctrl_gref = (unsigned int)r;
	return 0;
}

struct pvnet_ctrl *pvnet_front_ctrl(void)
{
	return ctrl_page() ? 0 : &ctrl;
}

long pvnet_front_command(unsigned int cmd)
{
	long r = ctrl_page();

	if (r)
		return r;
	ctrl.cmd = cmd;
	ctrl.status = PV_EIO;
	__asm__ __volatile__("outl %0, %1" : : "a"(ctrl_gref), "d"((unsigned short)PVNET_PORT) : "memory");
	return ctrl.status;
}

long pvnet_front_config(struct pvnet_config *cfg)
{
	long r = pvnet_front_command(PVNET_CMD_GET_CONFIG);

	if (!r)
		*cfg = ctrl.config;
	return r;
}

unsigned long pvnet_front_ring_size(unsigned int entries)
{
	struct pv_ring_params t = { entries, PVNET_TX_REQ_SIZE, entries, PVNET_TX_RSP_SIZE };
	struct pv_ring_params r = { entries, PVNET_RX_REQ_SIZE, entries, PVNET_RX_RSP_SIZE };
	unsigned long a = pv_ring_pair_size(&t), b = pv_ring_pair_size(&r);

	return a > b ? a : b;
}

long pvnet_front_init_mq(struct pvnet_front *fs, unsigned int nq, void *const txr[], void *const rxr[],
			 unsigned long ring_len, unsigned int entries, unsigned int features, void *pool,
			 unsigned long pool_len)
{
	struct pv_ring_params tp = { entries, PVNET_TX_REQ_SIZE, entries, PVNET_TX_RSP_SIZE };
	struct pv_ring_params rp = { entries, PVNET_RX_REQ_SIZE, entries, PVNET_RX_RSP_SIZE };
	unsigned int tpages = (unsigned int)(pv_ring_pair_size(&tp) / 4096);
	unsigned int rpages = (unsigned int)(pv_ring_pair_size(&rp) / 4096), i;
	struct pvnet_config cfg;
	long r, pool_gref;

	if (!pv_event_page())
		return PV_EIO;
	r = pvnet_front_config(&cfg);
	if (r)
		return r;
	if (nq == 0 || nq > cfg.max_queues || nq > PVNET_MAX_QUEUES || entries > cfg.max_ring_entries ||
	    pool_len == 0 || pool_len % 4096 || pool_len > 0xfffff000ul || (unsigned long)pool % 4096)
		return PV_EINVAL;
	pool_gref = pv_gnttab_grant(pool, (unsigned int)(pool_len / 4096), PV_DOMID_MONITOR, 0);
	if (pool_gref < 0)
		return pool_gref;
	for (i = 0; i < nq; i++) {
		long tg, rg = -1;

		memset(&fs[i], 0, sizeof(fs[i]));
		fs[i].cfg = cfg;
		fs[i].features = features;
		fs[i].pool_gref = (unsigned int)pool_gref;
		fs[i].pool = pool;
		fs[i].pool_len = pool_len;
		fs[i].poll_ns = 200000;
		r = PV_EINVAL;
		if (pv_ring_pair_init(txr[i], ring_len, &tp, 0) < 0 || pv_ring_pair_init(rxr[i], ring_len, &rp, 0) < 0 ||
		    pv_ring_prod_attach(&fs[i].txreq, txr[i], &tp, PV_RING_REQ) < 0 ||
		    pv_ring_cons_attach(&fs[i].txrsp, txr[i], &tp, PV_RING_RSP) < 0 ||
		    pv_ring_prod_attach(&fs[i].rxreq, rxr[i], &rp, PV_RING_REQ) < 0 ||
		    pv_ring_cons_attach(&fs[i].rxrsp, rxr[i], &rp, PV_RING_RSP) < 0 ||
		    (r = tg = pv_gnttab_grant(txr[i], tpages, PV_DOMID_MONITOR, 0)) < 0)
			goto fail;
		r = rg = pv_gnttab_grant(rxr[i], rpages, PV_DOMID_MONITOR, 0);
		if (r < 0) {
			pv_gnttab_end((unsigned int)tg);
			goto fail;
		}
		ctrl.q[i] = (struct pvnet_queue_desc){ .tx_gref = (unsigned int)tg, .tx_pages = tpages,
						       .rx_gref = (unsigned int)rg, .rx_pages = rpages };
	}
	ctrl.nr_queues = nq;
	ctrl.features = features;
	r = pvnet_front_command(PVNET_CMD_CONNECT);
	if (r)
		goto fail;
	for (i = 0; i < nq; i++) {
		fs[i].evtchn = ctrl.q[i].evtchn;
		fs[i].tx_gref = ctrl.q[i].tx_gref;
		fs[i].rx_gref = ctrl.q[i].rx_gref;
	}
	return 0;
fail: /* give back what was granted (the monitor has mapped nothing) */
	while (i-- > 0) {
		pv_gnttab_end(ctrl.q[i].tx_gref);
		pv_gnttab_end(ctrl.q[i].rx_gref);
	}
	pv_gnttab_end((unsigned int)pool_gref);
	return r;
}

long pvnet_front_disconnect(struct pvnet_front *fs, unsigned int nq)
{
	long r = pvnet_front_command(PVNET_CMD_DISCONNECT), e;

	for (unsigned int i = 0; i < nq; i++) {
		e = pv_gnttab_end(fs[i].tx_gref);
		r = r ? r : e;
		e = pv_gnttab_end(fs[i].rx_gref);
		r = r ? r : e;
	}
	if (nq) {
		e = pv_gnttab_end(fs[0].pool_gref);
		r = r ? r : e;
	}
	return r;
}

long pvnet_front_init(struct pvnet_front *f, void *txr, void *rxr, unsigned long ring_len, unsigned int entries,
		      unsigned int features, void *pool, unsigned long pool_len)
{
	void *t[1] = { txr }, *r[1] = { rxr };

	return pvnet_front_init_mq(f, 1, t, r, ring_len, entries, features, pool, pool_len);
}

static int in_pool(const struct pvnet_front *f, const void *buf, unsigned long len)
{
	unsigned long off = (unsigned long)((const unsigned char *)buf - f->pool);

	return buf && (const unsigned char *)buf >= f->pool && off <= f->pool_len && len <= f->pool_len - off;
}

long pvnet_front_send_sg(struct pvnet_front *f, const struct pvnet_hdr *h, void *const bufs[],
			 const unsigned int lens[], unsigned int nseg, unsigned long long id)
{
	struct pvnet_tx_req *r;
	unsigned int total = 0;

	if (nseg == 0 || nseg > PVNET_TX_SEGS)
		return PV_EINVAL;
	for (unsigned int i = 0; i < nseg; i++) {
		if (!in_pool(f, bufs[i], lens[i]))
			return PV_EINVAL;
		total += lens[i];
	}
	if (f->tx_inflight >= f->txreq.entries)
		return PV_EAGAIN;
	r = pv_ring_get_slot(&f->txreq);
	if (!r)
		return PV_EAGAIN;
	/* Field by field: only the segments in use are written. */
	r->id = id;
	r->total_len = total;
	r->nr_segs = (unsigned short)nseg;
	r->reserved0 = 0;
	if (h)
		r->hdr = *h;
	else
		r->hdr = (struct pvnet_hdr){ 0 };
	r->reserved1 = 0;
	for (unsigned int i = 0; i < nseg; i++)
		r->seg[i] = (struct pvnet_seg){ f->pool_gref, (unsigned int)((unsigned char *)bufs[i] - f->pool), lens[i],
						0 };
	f->tx_inflight++;
	return 0;
}

long pvnet_front_send(struct pvnet_front *f, const struct pvnet_hdr *h, void *buf, unsigned int len,
		      unsigned long long id)
{
	void *b[1] = { buf };
	unsigned int l[1] = { len };

	return pvnet_front_send_sg(f, h, b, l, 1, id);
}

long pvnet_front_post(struct pvnet_front *f, void *buf, unsigned int len, unsigned long long id)
{
	struct pvnet_rx_req *r;

	if (!in_pool(f, buf, len))
		return PV_EINVAL;
	if (f->rx_posted >= f->rxreq.entries)
		return PV_EAGAIN;
	r = pv_ring_get_slot(&f->rxreq);
	if (!r)
		return PV_EAGAIN;
	*r = (struct pvnet_rx_req){ id, f->pool_gref, (unsigned int)((unsigned char *)buf - f->pool), len, 0 };
	f->rx_posted++;
	return 0;
}

void pvnet_front_kick(struct pvnet_front *f)
{
	int a = pv_ring_push(&f->txreq), b = pv_ring_push(&f->rxreq);

	if (a || b) {
		pv_doorbell(f->evtchn);
		f->kicks++;
	}
}

int pvnet_front_tx_done(struct pvnet_front *f, struct pvnet_tx_rsp *rsp)
{
	const struct pvnet_tx_rsp *r;

	if ((pv_ring_ready(&f->txrsp) == 0 && pv_ring_avail(&f->txrsp) <= 0) || !(r = pv_ring_peek(&f->txrsp)))
		return 0;
	*rsp = *r;
	pv_ring_advance(&f->txrsp, 1);
	pv_ring_release(&f->txrsp);
	f->tx_inflight--;
	return 1;
}

int pvnet_front_rx(struct pvnet_front *f, struct pvnet_rx_rsp *rsp)
{
	const struct pvnet_rx_rsp *r;

	if ((pv_ring_ready(&f->rxrsp) == 0 && pv_ring_avail(&f->rxrsp) <= 0) || !(r = pv_ring_peek(&f->rxrsp)))
		return 0;
	*rsp = *r;
	pv_ring_advance(&f->rxrsp, 1);
	pv_ring_release(&f->rxrsp);
	f->rx_posted--;
	return 1;
}

static int ready(struct pvnet_front *f)
{
	return pv_ring_avail(&f->txrsp) > 0 || pv_ring_avail(&f->rxrsp) > 0;
}

long pvnet_front_wait(struct pvnet_front *f, unsigned long long timeout_ns)
{
	struct pv_event_page *ev = pv_event_page();
	unsigned long long start = pv_rdtsc(), budget = pv_tsc_ticks(f->poll_ns);
	unsigned long long limit = pv_tsc_ticks(timeout_ns ? timeout_ns : 10000000000ull), t0 = start;

	for (;;) {
		struct pv_ring_cons *c;
		int r;

		if (ready(f))
			return 0;
		if (pv_rdtsc() - t0 > limit)
			return PV_ETIMEDOUT;
		if (pv_rdtsc() - start < budget) {
			__asm__ __volatile__("pause");
			continue;
		}
		ev->pending[f->evtchn] = 0;
		r = f->tx_inflight ? pv_ring_final_check(&f->txrsp) : 0;
		if (!r)
			r = f->rx_posted ? pv_ring_final_check(&f->rxrsp) : 0;
		if (r != 0)
			continue;
		f->blocks++;
		/* Futex-style on the ring that matters most; the other one is
		 * bounded by the short timeout. */
		c = f->rx_posted ? &f->rxrsp : &f->txrsp;
		{
			unsigned long long left = limit - (pv_rdtsc() - t0), ns = f->tx_inflight && f->rx_posted ? 2000000ull : 100000000ull;

			if (pv_tsc_ticks(ns) > left) /* no longer than the caller's limit */
				ns = ns * left / (pv_tsc_ticks(ns) + 1) + 1;
			pv_block_watch(ns, pv_ring_wait_word(c), c->cons);
		}
		pv_ring_disarm(&f->txrsp);
		pv_ring_disarm(&f->rxrsp);
		start = pv_rdtsc();
	}
}
