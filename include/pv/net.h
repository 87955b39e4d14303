/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PV network device (protocol: <pv/abi/net.h>) and its two host
 * backends:
 *
 *   switch  an in-process L2 switch joining the VMs of one monitor: MAC
 *           learning, flooding of broadcast, multicast and unknown
 *           destinations, and per-port bounded queues for frames that wait
 *           for the receiver to post buffers (full: dropped and counted).
 *           A frame goes from the sender's granted buffer into the
 *           receiver's posted buffer with one copy.
 *   TAP     a Linux TAP device (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, one
 *           IFF_MULTI_QUEUE file per queue), existing or created by name;
 *           offloads are set with TUNSETOFFLOAD from the features the guest
 *           accepted; driven by io_uring, frames read and written straight
 *           between the TAP and guest memory.
 *
 * Every transmit descriptor is copied out of the ring and validated (length,
 * segment count, grants and their rights, offload fields) before use; a bad
 * one is answered PVNET_S_INVALID and counted, and the device keeps serving.
 * The emulated twin (<pv/ne2k.h>) uses the same backends.
 */
#ifndef PV_NET_H
#define PV_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "pv.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pv_netswitch;
struct pv_netback;

struct pv_netswitch_config {
	/* Frames one port (per queue) may hold while its guest has no posted
	 * buffer; 0: 256.  One sender may use at most its share of it (the
	 * limit divided by the number of other ports, at least 8). */
	unsigned int port_queue;
};

struct pv_netswitch_stats {
	uint64_t frames;          /* frames forwarded (a flooded frame counts once) */
	uint64_t flooded;         /* of them, sent to every port */
	uint64_t deliveries;      /* frames placed in a receiver's buffer */
	uint64_t copies;          /* host copies made for them (one per delivery) */
	uint64_t bytes_copied;
	uint64_t queued;          /* deliveries that waited in a port queue */
	uint64_t drops;           /* port queue full, or its sender over its share */
	unsigned int ports;       /* ports now joined */
};

/* Create a switch (cfg may be NULL).  Each device attached to it holds a
 * reference; pv_netswitch_put drops the creator's, and the last one frees
 * it.  Returns 0, -EINVAL (NULL out), -ENOMEM. */
int pv_netswitch_create(const struct pv_netswitch_config *cfg, struct pv_netswitch **out);

/* Drop the creator's reference (NULL: ignored). */
void pv_netswitch_put(struct pv_netswitch *sw);

/* Counters (zeros for NULL). */
void pv_netswitch_stats(struct pv_netswitch *sw, struct pv_netswitch_stats *st);

struct pv_netback_config {
	struct pv_netswitch *sw;  /* the switch backend, or NULL with tap set */
	const char *tap;          /* TAP backend: an interface name (attached, or created when
				   * missing; not kept); NULL with sw set */
	uint8_t mac[6];           /* all zero: 52:54:00:00:DD:QQ from the domain id */
	uint16_t mtu;             /* 0: 1500; 68..65535 */
	unsigned int max_queues;  /* 0: one per vCPU; <= PVNET_MAX_QUEUES */
	uint32_t features;        /* PVNET_F_* to withhold from the offer */
	uint64_t poll_ns;         /* busy-poll an idle queue this long before sleeping (0: never) */
};

struct pv_netback_stats {
	uint64_t tx_frames, tx_bytes;  /* frames the guest sent that left (switched or written) */
	uint64_t tx_invalid;           /* answered PVNET_S_INVALID */
	uint64_t tx_unsupp;            /* answered PVNET_S_UNSUPP */
	uint64_t tx_dropped;           /* answered PVNET_S_DROPPED */
	uint64_t tx_gso;               /* GSO frames among tx_frames */
	uint64_t rx_frames, rx_bytes;  /* frames placed in the guest's buffers */
	uint64_t rx_dropped;           /* frames for the guest dropped: no buffer, too big, queue full */
	uint64_t rx_bad_buffers;       /* posted buffers returned unused as invalid */
	uint64_t notifications;        /* event-channel notifications sent to the guest */
	uint64_t sleeps;               /* times a queue thread slept waiting for work */
};

/*
 * Attach a PV network device to vm (before pv_vm_run): registers
 * PVNET_PORT; the guest connects through it.  The VM owns the device
 * (<pv/device.h>); on a switch the device leaves it when the VM stops.
 * Returns 0, or -EINVAL (NULL argument, both or neither of sw and tap, a
 * bad MTU or name), -EEXIST (the port is taken), -EBUSY (the VM runs), or
 * the errno of opening the TAP (-EPERM without CAP_NET_ADMIN for a TAP that
 * must be created, -ENOENT without /dev/net/tun).
 */
int pv_netback_attach(struct pv_vm *vm, const struct pv_netback_config *cfg, struct pv_netback **out);

/* Counters summed over queues (zeros for NULL). */
void pv_netback_stats(struct pv_netback *n, struct pv_netback_stats *st);

/* Counters of one queue; -ENOENT if not connected, -EINVAL for NULL. */
int pv_netback_queue_stats(struct pv_netback *n, unsigned int queue, struct pv_netback_stats *st);

/* Queues the guest connected (0 before it connects, 0 for NULL). */
unsigned int pv_netback_queues(struct pv_netback *n);

/* Features the guest accepted (0 before it connects, 0 for NULL). */
uint32_t pv_netback_features(struct pv_netback *n);

/* The guest's MAC address into mac (zeros for NULL). */
void pv_netback_mac(struct pv_netback *n, uint8_t mac[6]);

#ifdef __cplusplus
}
#endif
#endif
