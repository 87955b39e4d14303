/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PV net backend's private state, shared by its switch data path
 * (netback.c), its TAP data path (nettap.c) and its control plane
 * (netback_ctl.c: the control page, connecting queues, attach, stop,
 * destroy, statistics).
 */
#ifndef PVNET_BACKEND_PRIV_H
#define PVNET_BACKEND_PRIV_H

#include <liburing.h>
#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <pv/device.h>
#include <pv/net.h>
#include <pv/abi/ring.h>
#include <pv/abi/net.h>

#include "netdev.h"

#define NB_RING_MAX 1024u     /* entries per direction */
#define NB_RX_READS 64u       /* TAP: reads in flight per queue */

struct nq;

struct txslot {
	struct pvnet_frame f;
	struct nq *q;
	uint64_t id;
	bool busy, sent;          /* sent: the switch took it (or flooded it to nobody) */
	unsigned int nmaps;
	struct pv_grant_op maps[PVNET_TX_SEGS];
	struct pvnet_hdr vh;      /* TAP: the header written before the frame */
	struct iovec tiov[PVNET_TX_SEGS + 1];
};

struct rxslot {                   /* TAP: a read in flight into a posted buffer */
	bool busy;
	uint64_t id;
	struct pv_grant_op map;
	struct pvnet_hdr vh;      /* filled by the kernel */
	struct iovec iov[2];
};

struct nq_stats {
	atomic_uint_fast64_t tx_frames, tx_bytes, tx_invalid, tx_unsupp, tx_dropped, tx_gso;
	atomic_uint_fast64_t rx_frames, rx_bytes, rx_dropped, rx_bad_buffers, notifications, sleeps;
};

struct nq {
	struct pv_netback *n;
	unsigned int idx;
	void *txring, *rxring;
	uint32_t tx_gref, rx_gref;
	size_t tx_len, rx_len;
	struct pv_ring_cons txreq;
	struct pv_ring_prod txrsp;
	struct pv_ring_cons rxreq;
	struct pv_ring_prod rxrsp;
	int port, efd, stop_efd, wake_efd, tapfd;
	pthread_t thread;
	bool started, stop, broken;
	/* txlock: txrsp, the slots and inflight (deferred completions run on
	 * other threads); rxlock: rxreq, rxrsp and the port queue. */
	pthread_mutex_t txlock, rxlock;
	struct txslot *slots;
	unsigned int nslots, inflight;
	int tx_unpushed;
	bool rx_broken;
	/* the port queue: frames of other ports waiting for a buffer */
	struct pvnet_frame **pq;
	unsigned int pq_head, pq_len, pq_cap;
	uint16_t pq_src[PVSW_MAX_PORTS];
	/* TAP */
	struct io_uring uring;
	bool uring_ok;
	struct rxslot rxs[NB_RX_READS];
	unsigned int rx_inflight;
	struct nq_stats st;
};

struct pv_netback {
	struct pv_vm *vm;
	struct pv_netswitch *sw;  /* NULL: TAP */
	int swport;
	char tap[IFNAMSIZ];
	int tapfds[PVNET_MAX_QUEUES];
	uint64_t poll_ns;
	bool heavy;               /* emulated guest: its fences are dropped */
	uint8_t mac[6];
	uint16_t mtu;
	uint32_t offered;
	_Atomic uint32_t accepted;
	pthread_mutex_t lock;
	_Atomic unsigned int nr_queues;
	unsigned int max_queues;
	struct nq q[PVNET_MAX_QUEUES];
};

/* A connected queue's thread on the switch / on the TAP (arg: struct nq). */
/* Answer a tx request on q (its producer side held), counting the failures;
 * the caller pushes.  Both data paths use it. */
void pvnet__tx_respond(struct nq *q, uint64_t id, int status);
/* First thing in a queue thread: load the device sandbox list; 0, or a
 * negative errno after saying on stderr that the queue stops. */
int pvnet__queue_confine(struct nq *q);
void *pvnet__switch_thread(void *arg);
void *pvnet__tap_thread(void *arg);

/* Validate a copied-out transmit request and map its grants into s (the
 * switch data path; internal, also for tests/fuzz).  Returns PVNET_S_*; on
 * PVNET_S_OK the frame's hdr, len and iovecs describe the mapped grants.
 * Whatever mapped (s->maps, s->nmaps; status 0) is the caller's to unmap,
 * whatever the result. */
int pvnet__tx_prepare(struct nq *q, const struct pvnet_tx_req *req, struct txslot *s);

/* Copy f into the posted receive buffer req (copied out) of a guest that
 * accepted acc, completing its checksum if the guest did not accept
 * partial ones; the grant is mapped only for the copy.  Returns PVNET_S_OK
 * (*h: the header to answer with), PVNET_S_INVALID (a bad buffer) or
 * PVNET_S_DROPPED (f does not fit).  Internal, also for tests/fuzz. */
int pvnet__rx_into(struct pv_vm *vm, const struct pvnet_rx_req *req, const struct pvnet_frame *f, uint32_t acc,
		   struct pvnet_hdr *h);

/* The netback's switch port operations. */
extern const struct pvsw_port_ops pvnet__port_ops;

/* Push responses of a direction and notify the guest if it asked (rxlock
 * or txlock held as fits). */
void pvnet__push(struct nq *q, struct pv_ring_prod *p);

#endif
