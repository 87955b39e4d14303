/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The net drivers' private interfaces: a frame in flight (frame.c: checks
 * and checksums), the switch's port interface (switch.c), and TAP opening
 * (tap.c).  A frame names the sender's memory (mapped grants or a device
 * buffer) and stays valid until its owner's done() has run.
 */
#ifndef PVNET_NETDEV_H
#define PVNET_NETDEV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <pv/net.h>
#include <pv/abi/net.h>

#define PVSW_MAX_PORTS 64u

struct pvnet_frame {
	struct pvnet_hdr hdr;     /* validated copy */
	uint8_t eth[14];          /* copy of the Ethernet header, read once */
	uint32_t len;
	unsigned int niov;
	struct iovec iov[PVNET_TX_SEGS];
	unsigned int src;         /* switch port of the sender */
	unsigned int hash;        /* picks the receiver's queue */
	/* Deferred completion: the sender holds one reference, each port
	 * queue holding the frame one more; the last put calls done(). */
	atomic_uint refs;
	atomic_bool delivered;
	void (*done)(struct pvnet_frame *f);
};

/* ---- frame.c ---- */

/* Check offload metadata h of a len-byte frame sent by a guest that
 * accepted `features`.  Returns PVNET_S_OK, _UNSUPP or _INVALID. */
int pvnet__check_hdr(const struct pvnet_hdr *h, uint32_t len, uint32_t features);

/* Check a copied-out tx request: segment count and lengths against
 * max_segs and max_frame, then its header.  Returns PVNET_S_*. */
int pvnet__check_tx(const struct pvnet_tx_req *req, uint32_t features, unsigned int max_segs, uint32_t max_frame);

/* Can a receiver that accepted `features` take a frame with h as it is
 * (checksum completed by the caller where it did not accept partial
 * checksums)?  false: a GSO type it did not accept. */
bool pvnet__rx_takes(const struct pvnet_hdr *h, uint32_t features);

/* The metadata a receiver sees: partial checksums completed in its copy
 * (frame, len) when it did not accept them.  Returns the header to give. */
struct pvnet_hdr pvnet__rx_fixup(uint8_t *frame, uint32_t len, const struct pvnet_hdr *h, uint32_t features);

/* Copy len bytes of the frame's iovecs to dst (the one copy). */
void pvnet__copy_out(uint8_t *dst, const struct pvnet_frame *f);

/* Read the Ethernet header out of the frame's memory once. */
void pvnet__read_eth(struct pvnet_frame *f);

/* Features a TAP can offer (every offload TUNSETOFFLOAD knows). */
uint32_t pvnet__tap_features(void);

/* TUNSETOFFLOAD bits for the receive offloads a guest accepted. */
unsigned int pvnet__tun_offloads(uint32_t accepted);

/* ---- switch.c ---- */

enum { PVSW_DROPPED = 0, PVSW_DELIVERED = 1, PVSW_QUEUED = 2 };

struct pvsw_port_ops {
	/* Take f (from port f->src) into this device: copy it into a buffer
	 * (PVSW_DELIVERED), keep it for later with a reference taken
	 * (PVSW_QUEUED), or drop it (PVSW_DROPPED).  Called with the switch
	 * read-locked; must not call back into the switch. */
	int (*deliver)(void *dev, struct pvnet_frame *f);
	/* Give up every queued frame (all of them when src is UINT32_MAX, else
	 * those of port src), completing each as dropped.  May be NULL. */
	void (*flush)(void *dev, unsigned int src);
};

/* Join: returns the port number or -ENOSPC; mac is the device's own
 * address (learned at once). */
int pvsw__join(struct pv_netswitch *sw, const struct pvsw_port_ops *ops, void *dev, const uint8_t mac[6]);

/* Leave: no delivery to the port after this returns, and no frame of it
 * is queued anywhere (those are completed as dropped). */
void pvsw__leave(struct pv_netswitch *sw, unsigned int port);

/* Forward f from port f->src (learning its source).  Returns PVSW_*:
 * QUEUED when some port still holds it (its done() comes later). */
int pvsw__forward(struct pv_netswitch *sw, struct pvnet_frame *f);

/* A port's queued frame is settled: delivered or not. */
void pvsw__queued_done(struct pv_netswitch *sw, bool delivered, uint32_t bytes);

/* The per-sender share of a port queue of `cap` entries. */
unsigned int pvsw__share(struct pv_netswitch *sw, unsigned int cap);

/* The queue length configured for ports. */
unsigned int pvsw__port_queue(const struct pv_netswitch *sw);

void pvsw__get(struct pv_netswitch *sw);

/* Drop a reference taken by pvsw__get (or the creator's). */
void pvsw__put(struct pv_netswitch *sw);

/* Put one reference of f; the last calls f->done. */
static inline void pvnet__frame_put(struct pvnet_frame *f)
{
	if (atomic_fetch_sub(&f->refs, 1) == 1)
		f->done(f);
}

/* ---- tap.c ---- */

/* Open nq queues of TAP `name` (created if missing) into fds[]: IFF_TAP |
 * IFF_NO_PI | IFF_VNET_HDR (12-byte header), IFF_MULTI_QUEUE when nq > 1.
 * Returns 0 or a negative errno; on failure nothing stays open. */
int pvnet__tap_open(const char *name, unsigned int nq, int fds[]);

/* Take a queue the guest did not connect out of the TAP's steering. */
int pvnet__tap_detach(int fd);

/* Set the receive offloads (TUNSETOFFLOAD) on an open TAP queue. */
int pvnet__tap_offload(int fd, uint32_t accepted);

#endif
