// SPDX-License-Identifier: GPL-2.0
/*
 * pvblk: libpv's PV block driver for unmodified Linux guests, a blk-mq
 * driver for the protocol of <pv/abi/blk.h> on top of pvcore.ko.
 *
 * Set-up: one control page granted to the monitor; GET_CONFIG, then one
 * ring pair per hardware queue (one per vCPU, at most the device's
 * max_queues) and CONNECT; each queue's event channel is bound to pvcore's
 * interrupt.  The disk is /dev/pvda (partitions pvda1...).
 *
 * Data: persistent grants.  Each queue owns queue_depth bounce buffers of
 * max_request_kb, physically contiguous and granted to the monitor once at
 * load, one per blk-mq tag (by default as large as 1/16 of RAM allows, from
 * 64 KiB to 1 MiB: a 1 MiB request then goes in one piece); a write is copied into its tag's buffer before
 * it is queued, a read out of it when it completes.  No request costs a
 * grant operation, and the request names its buffer by (gref, 0, len).
 *
 * Notifications: requests of one blk-mq batch are published together (the
 * doorbell rings at the batch's last request or in commit_rqs) and only
 * when the backend armed its event index, i.e. sleeps.  Completions come by
 * interrupt; the handler drains the response ring, polls it briefly, and
 * only then re-arms its own event index.
 *
 * Every response is copied out of the ring and checked: an id that is not
 * an outstanding tag, or a status the protocol does not define, is
 * counted and logged (the request, if any, fails with an I/O error).  A
 * ring the monitor broke fails every outstanding and later request.
 *
 * Unload: del_gendisk waits for the I/O, DISCONNECT ends the queues on the
 * monitor's side, and only then are the grants ended and pages freed (a
 * grant the monitor still holds leaks its pages rather than free them).
 */
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/bvec.h>
#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include <pv/abi/core.h>
#include <pv/abi/ring.h>
#include <pv/abi/blk.h>

#include "pvcore.h"

static unsigned int queues;
module_param(queues, uint, 0444);
MODULE_PARM_DESC(queues, "hardware queues (0: one per vCPU, at most the device's)");
static unsigned int queue_depth = 32;
module_param(queue_depth, uint, 0444);
MODULE_PARM_DESC(queue_depth, "requests in flight per queue (power of two, 1-256)");
static unsigned int max_request_kb;
module_param(max_request_kb, uint, 0444);
MODULE_PARM_DESC(max_request_kb, "largest request and bounce buffer, KiB (4-1024, power of two; 0: by RAM)");
static unsigned int poll_loops = 64;
module_param(poll_loops, uint, 0644);
MODULE_PARM_DESC(poll_loops, "response polls after the ring runs dry, before re-arming");

#define PVBLK_GRANTS_MAX 200  /* of pvcore's 255: leave some to other drivers */

struct pvblk_queue {
	struct pvblk_dev *dev;
	unsigned int idx, port;
	spinlock_t lock;              /* the ring views and rqs[] */
	void *ring;
	unsigned int ring_order, ring_pages;
	int ring_gref;
	struct pv_ring_prod req;
	struct pv_ring_cons rsp;
	bool bound, broken;
	struct request **rqs;         /* outstanding request of each tag */
	void **buf;                   /* bounce buffer of each tag */
	int *buf_gref;
	unsigned long requests, bad_rsp;
};

struct pvblk_pdu {
	blk_status_t status;
};

struct pvblk_dev {
	struct pvblk_ctrl *ctrl;
	int ctrl_gref;
	struct pvblk_config cfg;
	unsigned int nq, depth, buf_bytes, buf_order;
	struct pvblk_queue q[PVBLK_MAX_QUEUES];
	struct blk_mq_tag_set set;
	bool set_ok, connecting, added;
	struct gendisk *disk;
};

static int major;
static struct pvblk_dev *pvblk;

/* One control command: the monitor answers before the OUT returns (1: no device). */
static int pvblk_control(struct pvblk_dev *d, u32 cmd)
{
	return pvcore_ctrl_command(PVBLK_PORT, d->ctrl_gref, d->ctrl, cmd);
}

/* ---- completion ---- */

static blk_status_t pvblk_status(struct pvblk_queue *q, s32 s)
{
	switch (s) {
	case PVBLK_S_OK:
		return BLK_STS_OK;
	case PVBLK_S_UNSUPP:
		return BLK_STS_NOTSUPP;
	case PVBLK_S_IOERR:
	case PVBLK_S_INVALID:
		return BLK_STS_IOERR;
	default:
		q->bad_rsp++;
		pr_warn_ratelimited("pvblk: queue %u: response with unknown status %d\n", q->idx, s);
		return BLK_STS_IOERR;
	}
}

/* One copied-out response (q->lock held). */
static void pvblk_response(struct pvblk_queue *q, const struct pvblk_rsp *rsp)
{
	struct request *rq;

	if (rsp->id >= q->dev->depth || !(rq = q->rqs[rsp->id])) {
		q->bad_rsp++;
		pr_warn_ratelimited("pvblk: queue %u: response for id %llu, which is not outstanding\n", q->idx,
				    (unsigned long long)rsp->id);
		return;
	}
	q->rqs[rsp->id] = NULL;
	((struct pvblk_pdu *)blk_mq_rq_to_pdu(rq))->status = pvblk_status(q, rsp->status);
	blk_mq_complete_request(rq);
}

/* The monitor broke the ring: fail everything outstanding (q->lock held). */
static void pvblk_break(struct pvblk_queue *q, int err)
{
	unsigned int t;

	if (!q->broken)
		pr_err("pvblk: queue %u: the ring is broken (%d): failing its requests\n", q->idx, err);
	q->broken = true;
	for (t = 0; t < q->dev->depth; t++) {
		struct request *rq = q->rqs[t];

		if (rq) {
			q->rqs[t] = NULL;
			((struct pvblk_pdu *)blk_mq_rq_to_pdu(rq))->status = BLK_STS_IOERR;
			blk_mq_complete_request(rq);
		}
	}
}

/* Drain the responses, poll a little, re-arm (q->lock held). */
static void pvblk_reap(struct pvblk_queue *q)
{
	struct pvblk_rsp rsp;
	unsigned int idle = 0;
	int r;

	while (!q->broken) {
		while ((r = pv_ring_consume(&q->rsp, &rsp, sizeof(rsp))) == 1) {
			pvblk_response(q, &rsp);
			idle = 0;
		}
		pv_ring_release(&q->rsp);
		if (r == 0 && idle++ < poll_loops) {
			cpu_relax();
			continue;
		}
		if (r == 0)
			r = pv_ring_final_check(&q->rsp); /* armed: sleep unless more came */
		if (r == 0)
			return;
		if (r < 0)
			pvblk_break(q, r);
	}
}

static void pvblk_event(unsigned int port, void *data)
{
	struct pvblk_queue *q = data;
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	pvblk_reap(q);
	spin_unlock_irqrestore(&q->lock, flags);
}

static void pvblk_complete_rq(struct request *rq)
{
	struct pvblk_pdu *pdu = blk_mq_rq_to_pdu(rq);
	struct pvblk_queue *q = rq->mq_hctx->driver_data;

	if (pdu->status == BLK_STS_OK && req_op(rq) == REQ_OP_READ) {
		struct req_iterator it;
		struct bio_vec bv;
		char *b = q->buf[rq->tag];

		rq_for_each_segment(bv, rq, it) {
			memcpy_to_bvec(&bv, b);
			b += bv.bv_len;
		}
	}
	blk_mq_end_request(rq, pdu->status);
}

/* ---- submission ---- */

static void pvblk_kick(struct pvblk_queue *q)
{
	unsigned long flags;
	int notify;

	spin_lock_irqsave(&q->lock, flags);
	notify = pv_ring_push(&q->req);
	spin_unlock_irqrestore(&q->lock, flags);
	if (notify)
		pvcore_evtchn_notify(q->port);
}

static blk_status_t pvblk_queue_rq(struct blk_mq_hw_ctx *hctx, const struct blk_mq_queue_data *bd)
{
	struct pvblk_queue *q = hctx->driver_data;
	struct request *rq = bd->rq;
	unsigned int tag = rq->tag, len = blk_rq_bytes(rq);
	struct pvblk_req *slot;
	unsigned long flags;
	u8 op, fl = 0;

	switch (req_op(rq)) {
	case REQ_OP_READ:
		op = PVBLK_OP_READ;
		break;
	case REQ_OP_WRITE:
		op = PVBLK_OP_WRITE;
		if (rq->cmd_flags & REQ_FUA)
			fl = PVBLK_REQ_FUA;
		break;
	case REQ_OP_FLUSH:
		op = PVBLK_OP_FLUSH;
		break;
	case REQ_OP_DISCARD:
		op = PVBLK_OP_DISCARD;
		break;
	case REQ_OP_WRITE_ZEROES:
		op = PVBLK_OP_WRITE_ZEROES;
		break;
	default:
		return BLK_STS_NOTSUPP;
	}
	if (tag >= q->dev->depth ||
	    ((op == PVBLK_OP_READ || op == PVBLK_OP_WRITE) && (len == 0 || len > q->dev->buf_bytes || len % 512)))
		return BLK_STS_IOERR;
	blk_mq_start_request(rq);
	if (op == PVBLK_OP_WRITE) {
		struct req_iterator it;
		struct bio_vec bv;
		char *b = q->buf[tag];

		rq_for_each_segment(bv, rq, it) {
			memcpy_from_bvec(b, &bv);
			b += bv.bv_len;
		}
	}
	spin_lock_irqsave(&q->lock, flags);
	if (q->broken) {
		spin_unlock_irqrestore(&q->lock, flags);
		return BLK_STS_IOERR;
	}
	slot = pv_ring_get_slot(&q->req);
	if (!slot) { /* cannot happen: no more in flight than the ring holds */
		spin_unlock_irqrestore(&q->lock, flags);
		return BLK_STS_RESOURCE;
	}
	slot->op = op;
	slot->flags = fl;
	slot->reserved0 = 0;
	slot->id = tag;
	slot->sector = blk_rq_pos(rq);
	slot->nr_sectors = blk_rq_sectors(rq);
	if (op == PVBLK_OP_READ || op == PVBLK_OP_WRITE) {
		slot->nr_segs = 1;
		slot->u.seg[0] = (struct pvblk_seg){ .gref = q->buf_gref[tag], .offset = 0, .len = len };
	} else {
		slot->nr_segs = 0;
	}
	q->rqs[tag] = rq;
	q->requests++;
	spin_unlock_irqrestore(&q->lock, flags);
	if (bd->last)
		pvblk_kick(q);
	return BLK_STS_OK;
}

static void pvblk_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	pvblk_kick(hctx->driver_data);
}

static int pvblk_init_hctx(struct blk_mq_hw_ctx *hctx, void *data, unsigned int idx)
{
	struct pvblk_dev *d = data;

	if (idx >= d->nq)
		return -EINVAL;
	hctx->driver_data = &d->q[idx];
	return 0;
}

static const struct blk_mq_ops pvblk_mq_ops = {
	.queue_rq = pvblk_queue_rq,
	.commit_rqs = pvblk_commit_rqs,
	.complete = pvblk_complete_rq,
	.init_hctx = pvblk_init_hctx,
};

static const struct block_device_operations pvblk_fops = {
	.owner = THIS_MODULE,
};

/* ---- set-up and tear-down ---- */

static void pvblk_queue_free(struct pvblk_dev *d, struct pvblk_queue *q)
{
	unsigned int t;

	if (q->bound)
		pvcore_evtchn_unbind(q->port);
	q->bound = false;
	for (t = 0; q->buf && t < d->depth; t++)
		if (q->buf[t] && pvcore_grant_end_or_leak(&q->buf_gref[t]))
			free_pages((unsigned long)q->buf[t], d->buf_order);
	if (q->ring && pvcore_grant_end_or_leak(&q->ring_gref))
		free_pages((unsigned long)q->ring, q->ring_order);
	q->ring = NULL;
	kfree(q->buf);
	kfree(q->buf_gref);
	kfree(q->rqs);
	q->buf = NULL;
	q->buf_gref = NULL;
	q->rqs = NULL;
}

static int pvblk_queue_alloc(struct pvblk_dev *d, struct pvblk_queue *q, unsigned int idx)
{
	struct pv_ring_params prm = { d->depth, PVBLK_REQ_SIZE, d->depth, PVBLK_RSP_SIZE };
	size_t size = pv_ring_pair_size(&prm);
	unsigned int t;
	int r;

	q->dev = d;
	q->idx = idx;
	spin_lock_init(&q->lock);
	q->rqs = kcalloc(d->depth, sizeof(*q->rqs), GFP_KERNEL);
	q->buf = kcalloc(d->depth, sizeof(*q->buf), GFP_KERNEL);
	q->buf_gref = kcalloc(d->depth, sizeof(*q->buf_gref), GFP_KERNEL);
	if (!q->rqs || !q->buf || !q->buf_gref)
		return -ENOMEM;
	q->ring_pages = size / PAGE_SIZE;
	q->ring_order = get_order(size);
	q->ring = (void *)__get_free_pages(GFP_KERNEL | __GFP_ZERO, q->ring_order);
	if (!q->ring)
		return -ENOMEM;
	if (pv_ring_pair_init(q->ring, size, &prm, 0) < 0 || pv_ring_prod_attach(&q->req, q->ring, &prm, PV_RING_REQ) < 0 ||
	    pv_ring_cons_attach(&q->rsp, q->ring, &prm, PV_RING_RSP) < 0)
		return -EINVAL;
	r = pvcore_grant_access(PV_DOMID_MONITOR, PFN_DOWN(virt_to_phys(q->ring)), q->ring_pages, false);
	if (r < 0)
		return r;
	q->ring_gref = r;
	for (t = 0; t < d->depth; t++) {
		q->buf[t] = (void *)__get_free_pages(GFP_KERNEL, d->buf_order);
		if (!q->buf[t])
			return -ENOMEM;
		r = pvcore_grant_access(PV_DOMID_MONITOR, PFN_DOWN(virt_to_phys(q->buf[t])), d->buf_bytes / PAGE_SIZE, false);
		if (r < 0)
			return r;
		q->buf_gref[t] = r;
	}
	return 0;
}

/* Tear down whatever pvblk_probe set up, in reverse. */
static void pvblk_remove(struct pvblk_dev *d)
{
	unsigned int i;
	int r;

	if (d->disk) {
		if (d->added)
			del_gendisk(d->disk); /* waits for every request */
		put_disk(d->disk);
	}
	if (d->set_ok)
		blk_mq_free_tag_set(&d->set);
	for (i = 0; i < d->nq; i++)
		if (d->q[i].bound)
			pvcore_evtchn_unbind(d->q[i].port), d->q[i].bound = false;
	if (d->connecting) {
		r = pvblk_control(d, PVBLK_CMD_DISCONNECT);
		if (r)
			pr_err("pvblk: DISCONNECT failed (%d)\n", r);
	}
	for (i = 0; i < d->nq; i++)
		pvblk_queue_free(d, &d->q[i]);
	if (d->ctrl && pvcore_grant_end_or_leak(&d->ctrl_gref))
		free_page((unsigned long)d->ctrl);
	kfree(d);
}

static int pvblk_check_config(const struct pvblk_config *c)
{
	if (c->version != PVBLK_VERSION || c->logical_sector_size != 512 || c->max_queues == 0 ||
	    c->max_ring_entries == 0 || c->max_request_bytes < PAGE_SIZE || c->capacity == 0) {
		pr_err("pvblk: unusable device configuration (version %u, sector %u, queues %u, ring %u, request %u)\n",
		       c->version, c->logical_sector_size, c->max_queues, c->max_ring_entries, c->max_request_bytes);
		return -EPROTO;
	}
	return 0;
}

static void pvblk_limits(struct pvblk_dev *d, struct request_queue *rq)
{
	u32 f = d->cfg.features;
	u32 phys = d->cfg.physical_sector_size;

	blk_queue_logical_block_size(rq, 512);
	blk_queue_physical_block_size(rq, phys >= 512 && phys <= PAGE_SIZE && is_power_of_2(phys) ? phys : 512);
	blk_queue_max_hw_sectors(rq, d->buf_bytes / 512);
	blk_queue_max_segments(rq, d->buf_bytes / PAGE_SIZE);
	blk_queue_max_segment_size(rq, d->buf_bytes);
	blk_queue_write_cache(rq, f & PVBLK_F_FLUSH, f & PVBLK_F_FUA);
	if (f & PVBLK_F_DISCARD) {
		rq->limits.discard_granularity = 512;
		blk_queue_max_discard_sectors(rq, 1u << 22);
	}
	if (f & PVBLK_F_WRITE_ZEROES)
		blk_queue_max_write_zeroes_sectors(rq, 1u << 22);
	blk_queue_flag_set(QUEUE_FLAG_NONROT, rq);
}

static int pvblk_probe(struct pvblk_dev **out)
{
	struct pvblk_dev *d;
	unsigned int i;
	int r;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->ctrl = (void *)get_zeroed_page(GFP_KERNEL);
	if (!d->ctrl) {
		r = -ENOMEM;
		goto fail;
	}
	r = d->ctrl_gref = pvcore_grant_access(PV_DOMID_MONITOR, PFN_DOWN(virt_to_phys(d->ctrl)), 1, false);
	if (r < 0)
		goto fail;
	r = pvblk_control(d, PVBLK_CMD_GET_CONFIG);
	if (r == 1) {
		pr_info("pvblk: no PV disk (nothing answers port 0x%x)\n", PVBLK_PORT);
		r = -ENODEV;
		goto fail;
	}
	if (r) {
		pr_err("pvblk: GET_CONFIG failed (%d)\n", r);
		r = -EIO;
		goto fail;
	}
	d->cfg = d->ctrl->config;
	r = pvblk_check_config(&d->cfg);
	if (r)
		goto fail;
	d->depth = min_t(u32, queue_depth, rounddown_pow_of_two(d->cfg.max_ring_entries));
	d->nq = min3(queues ? queues : num_online_cpus(), d->cfg.max_queues, PVBLK_MAX_QUEUES);
	d->nq = max(1u, min(d->nq, (PVBLK_GRANTS_MAX - 1) / (d->depth + 1)));
	if (max_request_kb) {
		d->buf_bytes = max_request_kb * 1024;
	} else { /* a sixteenth of RAM for all the buffers */
		u64 share = ((u64)totalram_pages() << PAGE_SHIFT) / 16 / (d->nq * d->depth);

		d->buf_bytes = (u32)clamp_t(u64, share ? rounddown_pow_of_two(share) : 0, 64 * 1024, 1024 * 1024);
	}
	d->buf_bytes = min_t(u32, d->buf_bytes, rounddown_pow_of_two(d->cfg.max_request_bytes));
	d->buf_order = get_order(d->buf_bytes);
	for (i = 0; i < d->nq; i++) {
		r = pvblk_queue_alloc(d, &d->q[i], i);
		if (r < 0) {
			pr_err("pvblk: queue %u: cannot set up its ring and buffers (%d)\n", i, r);
			d->nq = i + 1;
			goto fail;
		}
		d->ctrl->q[i] = (struct pvblk_queue_desc){ .ring_gref = d->q[i].ring_gref,
							  .ring_pages = d->q[i].ring_pages };
	}
	d->ctrl->nr_queues = d->nq;
	d->connecting = true;
	r = pvblk_control(d, PVBLK_CMD_CONNECT);
	if (r) {
		pr_err("pvblk: CONNECT of %u queues failed (%d)\n", d->nq, r);
		r = -EIO;
		goto fail;
	}
	for (i = 0; i < d->nq; i++) {
		d->q[i].port = READ_ONCE(d->ctrl->q[i].evtchn);
		r = pvcore_evtchn_bind(d->q[i].port, pvblk_event, &d->q[i]);
		if (r < 0) {
			pr_err("pvblk: queue %u: cannot bind event channel %u (%d)\n", i, d->q[i].port, r);
			goto fail;
		}
		d->q[i].bound = true;
	}

	d->set.ops = &pvblk_mq_ops;
	d->set.nr_hw_queues = d->nq;
	d->set.queue_depth = d->depth;
	d->set.numa_node = NUMA_NO_NODE;
	d->set.cmd_size = sizeof(struct pvblk_pdu);
	d->set.flags = BLK_MQ_F_SHOULD_MERGE;
	d->set.driver_data = d;
	r = blk_mq_alloc_tag_set(&d->set);
	if (r)
		goto fail;
	d->set_ok = true;
	d->disk = blk_mq_alloc_disk(&d->set, d);
	if (IS_ERR(d->disk)) {
		r = PTR_ERR(d->disk);
		d->disk = NULL;
		goto fail;
	}
	d->disk->major = major;
	d->disk->first_minor = 0;
	d->disk->minors = 16;
	d->disk->fops = &pvblk_fops;
	d->disk->private_data = d;
	strscpy(d->disk->disk_name, "pvda", DISK_NAME_LEN);
	pvblk_limits(d, d->disk->queue);
	set_capacity(d->disk, d->cfg.capacity);
	if (d->cfg.features & PVBLK_F_READ_ONLY)
		set_disk_ro(d->disk, true);
	r = device_add_disk(NULL, d->disk, NULL);
	if (r)
		goto fail;
	d->added = true;
	pr_info("pvblk: pvda: %llu sectors%s, %u queues of %u requests up to %u KiB, features 0x%x\n",
		(unsigned long long)d->cfg.capacity, d->cfg.features & PVBLK_F_READ_ONLY ? " read-only" : "", d->nq,
		d->depth, d->buf_bytes / 1024, d->cfg.features);
	*out = d;
	return 0;
fail:
	pvblk_remove(d);
	return r;
}

static int __init pvblk_init(void)
{
	int r;

	if (!queue_depth || queue_depth > 256 || !is_power_of_2(queue_depth) ||
	    (max_request_kb && (max_request_kb < 4 || max_request_kb > 1024 || !is_power_of_2(max_request_kb))))
		return -EINVAL;
	major = register_blkdev(0, "pvblk");
	if (major < 0)
		return major;
	r = pvblk_probe(&pvblk);
	if (r)
		unregister_blkdev(major, "pvblk");
	return r;
}

static void __exit pvblk_exit(void)
{
	unsigned long bad = 0;
	char reqs[PVBLK_MAX_QUEUES * 21] = "";
	size_t n = 0;
	unsigned int i;

	for (i = 0; i < pvblk->nq; i++) {
		bad += pvblk->q[i].bad_rsp;
		n += scnprintf(reqs + n, sizeof(reqs) - n, " %lu", pvblk->q[i].requests);
	}
	pvblk_remove(pvblk);
	unregister_blkdev(major, "pvblk");
	pr_info("pvblk: unloaded (requests per queue:%s; %lu bad responses)\n", reqs, bad);
}

module_init(pvblk_init);
module_exit(pvblk_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("libpv PV block driver");
MODULE_SOFTDEP("pre: pvcore");
