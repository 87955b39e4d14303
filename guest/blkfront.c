/* SPDX-License-Identifier: MIT */
/* The PV block frontend of the guest SDK. */
#include <pv/guest/blkfront.h>
#include <pv/guest/gnttab.h>
#include <pv/guest/sdk.h>

static struct pvblk_ctrl ctrl __attribute__((aligned(4096)));
static unsigned int ctrl_gref;

static long control(unsigned int cmd)
{
	ctrl.cmd = cmd;
	ctrl.status = PV_EIO;
	__asm__ __volatile__("outl %0, %1" : : "a"(ctrl_gref), "d"((unsigned short)PVBLK_PORT) : "memory");
	return ctrl.status;
}

unsigned long pvblk_front_ring_size(unsigned int entries)
{
	struct pv_ring_params p = { entries, PVBLK_REQ_SIZE, entries, PVBLK_RSP_SIZE };

	return pv_ring_pair_size(&p);
}

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

long pvblk_front_config(struct pvblk_config *cfg)
{
	long r = ctrl_page();

	if (!r)
		r = control(PVBLK_CMD_GET_CONFIG);
	if (!r)
		*cfg = ctrl.config;
	return r;
}

long pvblk_front_init_mq(struct pvblk_front *fs, unsigned int nq, void *const rings[], unsigned long ring_len,
			 unsigned int entries, void *pool, unsigned long pool_len)
{
	struct pv_ring_params p = { entries, PVBLK_REQ_SIZE, entries, PVBLK_RSP_SIZE };
	unsigned int pages = (unsigned int)(pv_ring_pair_size(&p) / 4096), i;
	struct pvblk_config cfg;
	long r, pool_gref;

	if (!pv_event_page())
		return PV_EIO;
	r = pvblk_front_config(&cfg);
	if (r)
		return r;
	/* segment offsets are 32-bit: the pool stays below 4 GiB */
	if (nq == 0 || nq > cfg.max_queues || nq > PVBLK_MAX_QUEUES || entries > cfg.max_ring_entries ||
	    pool_len == 0 || pool_len % 4096 || pool_len > 0xfffff000ul || (unsigned long)pool % 4096)
		return PV_EINVAL;
	pool_gref = pv_gnttab_grant(pool, (unsigned int)(pool_len / 4096), PV_DOMID_MONITOR, 0);
	if (pool_gref < 0)
		return pool_gref;
	for (i = 0; i < nq; i++) {
		long ring_gref;

		memset(&fs[i], 0, sizeof(fs[i]));
		fs[i].cfg = cfg;
		fs[i].pool_gref = (unsigned int)pool_gref;
		fs[i].pool = pool;
		fs[i].pool_len = pool_len;
		fs[i].poll_ns = 1000000;
		r = PV_EINVAL;
		if (pv_ring_pair_init(rings[i], ring_len, &p, 0) < 0 ||
		    pv_ring_prod_attach(&fs[i].req, rings[i], &p, PV_RING_REQ) < 0 ||
		    pv_ring_cons_attach(&fs[i].rsp, rings[i], &p, PV_RING_RSP) < 0 ||
		    (r = ring_gref = pv_gnttab_grant(rings[i], pages, PV_DOMID_MONITOR, 0)) < 0)
			goto fail;
		ctrl.q[i] = (struct pvblk_queue_desc){ .ring_gref = (unsigned int)ring_gref, .ring_pages = pages };
	}
	ctrl.nr_queues = nq;
	r = control(PVBLK_CMD_CONNECT);
	if (r)
		goto fail;
	for (i = 0; i < nq; i++) {
		fs[i].evtchn = ctrl.q[i].evtchn;
		fs[i].ring_gref = ctrl.q[i].ring_gref;
	}
	return 0;
fail: /* give back what was granted (the monitor has mapped nothing) */
	while (i-- > 0)
		pv_gnttab_end(ctrl.q[i].ring_gref);
	pv_gnttab_end((unsigned int)pool_gref);
	return r;
}

long pvblk_front_disconnect(struct pvblk_front *fs, unsigned int nq)
{
	long r = control(PVBLK_CMD_DISCONNECT), e;

	for (unsigned int i = 0; i < nq; i++) {
		e = pv_gnttab_end(fs[i].ring_gref);
		r = r ? r : e;
	}
	if (nq) {
		e = pv_gnttab_end(fs[0].pool_gref);
		r = r ? r : e;
	}
	return r;
}

long pvblk_front_init(struct pvblk_front *f, void *ring, unsigned long ring_len, unsigned int entries, void *pool,
		      unsigned long pool_len)
{
	void *rings[1] = { ring };

	return pvblk_front_init_mq(f, 1, rings, ring_len, entries, pool, pool_len);
}

long pvblk_front_queue(struct pvblk_front *f, unsigned int op, unsigned int flags, unsigned long long sector,
		       void *buf, unsigned long len, unsigned long long nr_sectors, unsigned long long id)
{
	struct pvblk_req *r;
	unsigned long off = (unsigned long)((unsigned char *)buf - f->pool);
	unsigned int n = 0;

	if ((op == PVBLK_OP_READ || op == PVBLK_OP_WRITE) &&
	    (!buf || (unsigned char *)buf < f->pool || off > f->pool_len || len > f->pool_len - off || len == 0 ||
	     len > f->cfg.max_request_bytes || (len + PVBLK_SEG_MAX - 1) / PVBLK_SEG_MAX > PVBLK_SEGS_INLINE))
		return PV_EINVAL;
	/* no more in flight than the ring holds: the backend answers each
	 * request in the response ring, which is no larger */
	if (f->inflight >= f->req.entries)
		return PV_EAGAIN;
	r = pv_ring_get_slot(&f->req);
	if (!r)
		return PV_EAGAIN;
	/* Field by field: only the segments in use are written (each store is
	 * costly under emulation, and the backend reads only nr_segs). */
	r->op = (unsigned char)op;
	r->flags = (unsigned char)flags;
	r->reserved0 = 0;
	r->id = id;
	r->sector = sector;
	r->nr_sectors = nr_sectors;
	if (op == PVBLK_OP_READ || op == PVBLK_OP_WRITE) {
		for (unsigned long done = 0; done < len; n++) {
			unsigned long chunk = len - done > PVBLK_SEG_MAX ? PVBLK_SEG_MAX : len - done;

			r->u.seg[n] = (struct pvblk_seg){ f->pool_gref, (unsigned int)(off + done), (unsigned int)chunk, 0 };
			done += chunk;
		}
	}
	r->nr_segs = (unsigned short)n;
	f->inflight++;
	return 0;
}

void pvblk_front_kick(struct pvblk_front *f)
{
	if (pv_ring_push(&f->req)) {
		pv_doorbell(f->evtchn);
		f->kicks++;
	}
}

/*
 * How long to poll before blocking.  A fixed window loses against a device
 * whose responses take about as long: 1 MiB reads of 0.8-1.3 ms against a
 * 1 ms window blocked on every other request, each block costing exits and
 * a wake-up (and the backend, idle meanwhile, a doorbell).  So the window
 * follows the recent response time: twice its moving average, at least
 * poll_ns and at most POLL_GROWTH times poll_ns.  A response caught while
 * polling counts with its time; one that needed a block counts as twice
 * the window it missed, never with the time the wake-up took (on a busy
 * host that is milliseconds, and counting it would keep the window shut).
 * A device slower than the largest window is waited for by blocking, with
 * the poll_ns window; the average then decays and a longer window is tried
 * again now and then.
 */
#define POLL_GROWTH 8

static unsigned long long poll_window(const struct pvblk_front *f)
{
	unsigned long long base = pv_tsc_ticks(f->poll_ns), want = 2 * f->lat_ticks;

	return f->poll_ns && want > base && want <= base * POLL_GROWTH ? want : base;
}

long pvblk_front_wait(struct pvblk_front *f, struct pvblk_rsp *rsp)
{
	struct pv_event_page *ev = pv_event_page();
	unsigned long long entry = pv_rdtsc(), start = entry, budget = poll_window(f);
	int tries = 0;
	int blocked = 0;

	for (;;) {
		const struct pvblk_rsp *r;

		if (pv_ring_avail(&f->rsp) > 0 && (r = pv_ring_peek(&f->rsp))) {
			unsigned long long lat = blocked ? 2 * budget : pv_rdtsc() - entry;

			*rsp = *r;
			pv_ring_advance(&f->rsp, 1);
			pv_ring_release(&f->rsp);
			f->inflight--;
			/* moving average, the newest response weighing a quarter */
			f->lat_ticks = f->lat_ticks ? (3 * f->lat_ticks + lat) / 4 : lat;
			return 0;
		}
		if (pv_rdtsc() - start < budget) {
			__asm__ __volatile__("pause");
			continue;
		}
		ev->pending[f->evtchn] = 0;
		if (pv_ring_final_check(&f->rsp) != 0)
			continue;
		f->blocks++;
		blocked = 1;
		/* Futex-style: sleep only while the producer index is what we saw. */
		if (pv_block_watch(100000000ull, pv_ring_wait_word(&f->rsp), f->rsp.cons) == PV_ETIMEDOUT &&
		    ++tries > 100)
			return PV_ETIMEDOUT;
		pv_ring_disarm(&f->rsp); /* polling again: no notifications */
		start = pv_rdtsc();
	}
}
