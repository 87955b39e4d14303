/* SPDX-License-Identifier: MIT */
/*
 * Guest SDK: a PV network frontend (protocol: include/pv/abi/net.h).  A
 * struct pvnet_front is one queue (a tx and an rx ring pair); a multi-queue
 * guest connects several at once and drives each from one vCPU, with no
 * locks.  Frames and receive buffers live in a pool the frontend grants to
 * the monitor once (shared by all queues), so sending and posting cost no
 * grant operation.
 */
#ifndef PV_NETFRONT_H
#define PV_NETFRONT_H

#include "../abi/net.h"
#include "../abi/ring.h"

struct pvnet_front {
	struct pvnet_config cfg;
	unsigned int features;            /* accepted */
	struct pv_ring_prod txreq;
	struct pv_ring_cons txrsp;
	struct pv_ring_prod rxreq;
	struct pv_ring_cons rxrsp;
	unsigned int evtchn;
	unsigned int pool_gref, tx_gref, rx_gref;
	unsigned char *pool;
	unsigned long pool_len;
	unsigned int tx_inflight, rx_posted;
	unsigned long long kicks, blocks; /* doorbells rung, blocking waits */
	unsigned long long poll_ns;       /* poll this long before blocking (0: never) */
};

/* Read the device's configuration.  Returns 0 or a PV_E* error. */
long pvnet_front_config(struct pvnet_config *cfg);

/* Bytes one ring pair (tx or rx) for `entries` entries needs. */
unsigned long pvnet_front_ring_size(unsigned int entries);

/*
 * Connect nq queues (1..cfg.max_queues; more than one needs PVNET_F_MQ in
 * features) in one step, accepting `features` (a subset of
 * cfg.features, else PV_EOPNOTSUPP).  Queue i gets ring pairs txr[i] and
 * rxr[i] (page-aligned, ring_len bytes each, for `entries` entries).  All
 * queues share pool (page-aligned, pool_len bytes below 4 GiB: the only
 * memory frames and buffers may use).  On failure nothing stays granted.
 * Returns 0 or a PV_E* error.
 */
long pvnet_front_init_mq(struct pvnet_front *fs, unsigned int nq, void *const txr[], void *const rxr[],
			 unsigned long ring_len, unsigned int entries, unsigned int features, void *pool,
			 unsigned long pool_len);

/* Disconnect the nq queues pvnet_front_init_mq connected
 * (PVNET_CMD_DISCONNECT) and end their grants, the pool's included.  Frames
 * and buffers still in flight are dropped.  Afterwards the device may be
 * connected again.  Returns 0, or the first error (a grant still in use:
 * PV_EBUSY). */
long pvnet_front_disconnect(struct pvnet_front *fs, unsigned int nq);

/* One queue: see pvnet_front_init_mq. */
long pvnet_front_init(struct pvnet_front *f, void *txr, void *rxr, unsigned long ring_len, unsigned int entries,
		      unsigned int features, void *pool, unsigned long pool_len);

/*
 * Queue a frame for sending (visible after pvnet_front_kick): nseg pieces
 * bufs[i]/lens[i] in the pool, with offload metadata h (NULL: none).
 * Returns 0, PV_EAGAIN when the ring is full, PV_EINVAL (outside the pool,
 * too many pieces).  The monitor validates everything again.
 */
long pvnet_front_send_sg(struct pvnet_front *f, const struct pvnet_hdr *h, void *const bufs[],
			 const unsigned int lens[], unsigned int nseg, unsigned long long id);
long pvnet_front_send(struct pvnet_front *f, const struct pvnet_hdr *h, void *buf, unsigned int len,
		      unsigned long long id);

/* Post an empty receive buffer (in the pool).  0, PV_EAGAIN, PV_EINVAL. */
long pvnet_front_post(struct pvnet_front *f, void *buf, unsigned int len, unsigned long long id);

/* Publish queued frames and buffers; ring the doorbell only if asked. */
void pvnet_front_kick(struct pvnet_front *f);

/* Take one transmit (receive) response if there is one: 1, else 0. */
int pvnet_front_tx_done(struct pvnet_front *f, struct pvnet_tx_rsp *rsp);
int pvnet_front_rx(struct pvnet_front *f, struct pvnet_rx_rsp *rsp);

/* Wait until a response is ready on either ring: poll for f->poll_ns, then
 * block.  Returns 0, or PV_ETIMEDOUT after about timeout_ns (0: 10 s). */
long pvnet_front_wait(struct pvnet_front *f, unsigned long long timeout_ns);

/* The raw control page and one command on it (for tests of the monitor's
 * checks): fill the page, then call.  Returns ctrl->status. */
struct pvnet_ctrl *pvnet_front_ctrl(void);
long pvnet_front_command(unsigned int cmd);

#endif
