/* SPDX-License-Identifier: MIT */
/*
 * libpv PV network protocol, version 1.  Freestanding; any guest OS may
 * include it.  Each queue is two ring pairs (<pv/abi/ring.h>) in guest
 * memory, granted to the monitor (<pv/abi/core.h>):
 *
 *   tx pair   request direction: struct pvnet_tx_req (frames to send),
 *             response direction: struct pvnet_tx_rsp (one per request)
 *   rx pair   request direction: struct pvnet_rx_req (empty buffers the
 *             guest posts), response direction: struct pvnet_rx_rsp (a
 *             frame landed in that buffer, or the buffer comes back unused)
 *
 * Set-up (one exit per step, once)
 * --------------------------------
 * The guest grants one page holding struct pvnet_ctrl to domain 0 (read-
 * write) and writes the grant reference to I/O port PVNET_PORT (32-bit OUT).
 * The monitor reads the page, acts on ctrl.cmd and writes back ctrl.status
 * (0 or a negative PV_E*) before the OUT returns:
 *   PVNET_CMD_GET_CONFIG  fills ctrl.config (MAC, MTU, offered features,
 *                         queue count, limits).
 *   PVNET_CMD_CONNECT     the guest filled ctrl.features (the subset of
 *                         config.features it accepts), nr_queues and, per
 *                         queue, the grants of its two ring pairs (each pair
 *                         granted read-write as one grant).  The monitor
 *                         fills q[i].evtchn, the monitor-bound event
 *                         channel of queue i.  All queues or none; a feature
 *                         bit the device does not offer answers
 *                         PV_EOPNOTSUPP and connects nothing, so the guest
 *                         may retry with fewer.
 *   PVNET_CMD_DISCONNECT  ends every queue: the monitor stops using the
 *                         rings and the buffers named in them (frames in
 *                         flight are dropped, their responses may not be
 *                         written), closes the queues' event channels and
 *                         forgets them, so the guest may end its grants (a
 *                         driver being unloaded) and CONNECT again.  The
 *                         counters are kept.  0 also when nothing was
 *                         connected.
 *   anything else         PV_EOPNOTSUPP; the device keeps working.
 * After pushing to either request ring the guest notifies (only if
 * pv_ring_push says so) with a doorbell: "outl %eax, %dx", EAX = evtchn,
 * DX = PV_DOORBELL_PORT.  The monitor notifies both response rings on the
 * same event channel.  A queue is meant for one vCPU (one NAPI context).
 *
 * Frames
 * ------
 * A frame is an Ethernet frame without FCS, PVNET_FRAME_MIN..
 * PVNET_FRAME_MAX bytes (up to config.mtu + 18 without GSO).  A transmit
 * request names it as a scatter-gather list of granted ranges (gref,
 * offset, len), up to PVNET_TX_SEGS segments whose lengths sum to
 * total_len; a grant may span many pages, so a 64 KiB frame in a
 * contiguous pool is one segment.  A receive buffer is one granted range
 * (read-write) and holds one whole frame: a guest that accepts GSO frames
 * (PVNET_F_GUEST_*) posts buffers of PVNET_FRAME_MAX bytes, others of at
 * least config.mtu + 18.  A frame that fits no posted buffer is dropped and
 * counted by the monitor.
 *
 * Offload metadata: struct pvnet_hdr has the layout and meaning of Linux's
 * struct virtio_net_hdr_v1 (12 bytes, little-endian), so a TAP device with
 * IFF_VNET_HDR carries it unchanged:
 *   flags PVNET_HDR_F_NEEDS_CSUM: the checksum from csum_start to the end
 *         is to be computed and stored at csum_start + csum_offset (the
 *         field holds the pseudo-header sum); PVNET_HDR_F_DATA_VALID (rx
 *         only): the checksum was verified.
 *   gso_type PVNET_GSO_NONE, TCPV4, UDP (UFO), TCPV6, UDP_L4 (USO), with
 *         PVNET_GSO_ECN; gso_size is the segment payload size and hdr_len
 *         the length of the headers copied into each segment.
 * A transmit request may use only the offloads the guest accepted
 * (PVNET_F_CSUM for NEEDS_CSUM, PVNET_F_HOST_* for each GSO type); a
 * receive response carries them only if the guest accepted PVNET_F_GUEST_*.
 *
 * Status
 * ------
 * Every transmit request gets one response: PVNET_S_OK (the frame left, or
 * was delivered to every port it was switched to), PVNET_S_DROPPED (no
 * room at the destination, a port queue full: counted), PVNET_S_INVALID
 * (bad descriptor: segment count or length, grant, offload fields; the
 * frame was not sent), PVNET_S_UNSUPP (an offload not negotiated).  The
 * device keeps serving after each of them.  Responses on either ring may
 * come in any order (a frame waiting for its receiver, reads on a TAP
 * completing): match them by id.
 */
#ifndef PVNET_H
#define PVNET_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

#define PVNET_VERSION    1u
#define PVNET_PORT       0x0690u  /* 4 ports */
#define PVNET_MAX_QUEUES 16u

#define PVNET_CMD_GET_CONFIG 1u
#define PVNET_CMD_CONNECT    2u
#define PVNET_CMD_DISCONNECT 3u

#define PVNET_FRAME_MIN 14u       /* an Ethernet header */
#define PVNET_FRAME_MAX 65550u    /* header, VLAN tag, 65535-byte IP packet, rounded */
#define PVNET_TX_SEGS   17u       /* segments per transmit request */

/* Feature bits (config.features: offered; ctrl.features: accepted) */
#define PVNET_F_CSUM       (1u << 0)  /* the guest may send NEEDS_CSUM frames */
#define PVNET_F_GUEST_CSUM (1u << 1)  /* the guest takes NEEDS_CSUM / DATA_VALID frames */
#define PVNET_F_HOST_TSO4  (1u << 2)  /* the guest may send GSO TCPV4 (needs CSUM) */
#define PVNET_F_HOST_TSO6  (1u << 3)
#define PVNET_F_HOST_UFO   (1u << 4)
#define PVNET_F_HOST_USO   (1u << 5)
#define PVNET_F_GUEST_TSO4 (1u << 6)  /* the guest takes GSO TCPV4 frames (needs GUEST_CSUM) */
#define PVNET_F_GUEST_TSO6 (1u << 7)
#define PVNET_F_GUEST_UFO  (1u << 8)
#define PVNET_F_GUEST_USO  (1u << 9)
#define PVNET_F_MQ         (1u << 10) /* more than one queue */
#define PVNET_F_ECN        (1u << 11) /* GSO with the ECN bit */

/* struct pvnet_hdr */
#define PVNET_HDR_F_NEEDS_CSUM 1u
#define PVNET_HDR_F_DATA_VALID 2u
#define PVNET_GSO_NONE   0u
#define PVNET_GSO_TCPV4  1u
#define PVNET_GSO_UDP    3u
#define PVNET_GSO_TCPV6  4u
#define PVNET_GSO_UDP_L4 5u
#define PVNET_GSO_ECN    0x80u

/* Status (tx and rx responses) */
#define PVNET_S_OK      0
#define PVNET_S_DROPPED 1   /* no room on the way: dropped and counted */
#define PVNET_S_UNSUPP  2   /* an offload that was not negotiated */
#define PVNET_S_INVALID 3   /* malformed descriptor */

#define PVNET_TX_REQ_SIZE 304u
#define PVNET_TX_RSP_SIZE 16u
#define PVNET_RX_REQ_SIZE 24u
#define PVNET_RX_RSP_SIZE 32u

struct pvnet_hdr {            /* = struct virtio_net_hdr_v1 */
	uint8_t flags;        /* PVNET_HDR_F_* */
	uint8_t gso_type;     /* PVNET_GSO_* */
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers; /* 0 on tx; 1 on rx */
};

struct pvnet_seg {
	uint32_t gref;
	uint32_t offset;      /* into the granted frames */
	uint32_t len;         /* 1..PVNET_FRAME_MAX */
	uint32_t reserved;
};

struct pvnet_tx_req {
	uint64_t id;          /* echoed in the response */
	uint32_t total_len;   /* PVNET_FRAME_MIN..PVNET_FRAME_MAX, = the sum of seg lens */
	uint16_t nr_segs;     /* 1..PVNET_TX_SEGS */
	uint16_t reserved0;
	struct pvnet_hdr hdr;
	uint32_t reserved1;
	struct pvnet_seg seg[PVNET_TX_SEGS]; /* only the first nr_segs are read */
};

struct pvnet_tx_rsp {
	uint64_t id;
	int32_t status;       /* PVNET_S_* */
	uint32_t reserved;
};

struct pvnet_rx_req {         /* an empty buffer */
	uint64_t id;          /* echoed in the response */
	uint32_t gref;        /* granted read-write */
	uint32_t offset;
	uint32_t len;         /* PVNET_FRAME_MIN..PVNET_FRAME_MAX */
	uint32_t reserved;
};

struct pvnet_rx_rsp {
	uint64_t id;          /* the buffer's */
	uint32_t len;         /* frame bytes at the start of the buffer; 0 if unused */
	int16_t status;       /* PVNET_S_OK, or PVNET_S_INVALID: the buffer was bad and is returned unused */
	uint16_t reserved0;
	struct pvnet_hdr hdr; /* offload metadata of the frame */
	uint32_t reserved1;
};

struct pvnet_config {
	uint32_t version;          /* PVNET_VERSION */
	uint32_t features;         /* PVNET_F_* offered */
	uint8_t mac[6];            /* the guest's address */
	uint16_t mtu;              /* bytes of L3 payload per frame without GSO */
	uint16_t max_queues;       /* 1..PVNET_MAX_QUEUES */
	uint16_t max_segs;         /* per transmit request, <= PVNET_TX_SEGS */
	uint32_t max_frame;        /* bytes, <= PVNET_FRAME_MAX */
	uint32_t max_ring_entries; /* per direction */
	uint32_t link_up;          /* 1 */
	uint64_t reserved[2];
};

struct pvnet_queue_desc {
	uint32_t tx_gref;          /* tx ring pair */
	uint32_t tx_pages;
	uint32_t rx_gref;          /* rx ring pair */
	uint32_t rx_pages;
	uint32_t evtchn;           /* written by the monitor */
	uint32_t reserved;
};

struct pvnet_ctrl {
	uint32_t cmd;              /* PVNET_CMD_* */
	int32_t status;            /* written by the monitor */
	uint32_t nr_queues;
	uint32_t features;         /* CONNECT: accepted PVNET_F_* */
	struct pvnet_config config;
	struct pvnet_queue_desc q[PVNET_MAX_QUEUES];
};

#ifndef __KERNEL__
#define PVNET_OFFSET(t, f, off) _Static_assert(__builtin_offsetof(struct t, f) == (off), #t "." #f " offset")
_Static_assert(sizeof(struct pvnet_hdr) == 12, "pvnet_hdr layout");
PVNET_OFFSET(pvnet_hdr, gso_type, 1);
PVNET_OFFSET(pvnet_hdr, hdr_len, 2);
PVNET_OFFSET(pvnet_hdr, gso_size, 4);
PVNET_OFFSET(pvnet_hdr, csum_start, 6);
PVNET_OFFSET(pvnet_hdr, csum_offset, 8);
PVNET_OFFSET(pvnet_hdr, num_buffers, 10);
_Static_assert(sizeof(struct pvnet_seg) == 16, "pvnet_seg layout");
PVNET_OFFSET(pvnet_seg, offset, 4);
PVNET_OFFSET(pvnet_seg, len, 8);
_Static_assert(sizeof(struct pvnet_tx_req) == PVNET_TX_REQ_SIZE, "pvnet_tx_req layout");
PVNET_OFFSET(pvnet_tx_req, total_len, 8);
PVNET_OFFSET(pvnet_tx_req, nr_segs, 12);
PVNET_OFFSET(pvnet_tx_req, hdr, 16);
PVNET_OFFSET(pvnet_tx_req, seg, 32);
_Static_assert(sizeof(struct pvnet_tx_rsp) == PVNET_TX_RSP_SIZE, "pvnet_tx_rsp layout");
PVNET_OFFSET(pvnet_tx_rsp, status, 8);
_Static_assert(sizeof(struct pvnet_rx_req) == PVNET_RX_REQ_SIZE, "pvnet_rx_req layout");
PVNET_OFFSET(pvnet_rx_req, gref, 8);
PVNET_OFFSET(pvnet_rx_req, offset, 12);
PVNET_OFFSET(pvnet_rx_req, len, 16);
_Static_assert(sizeof(struct pvnet_rx_rsp) == PVNET_RX_RSP_SIZE, "pvnet_rx_rsp layout");
PVNET_OFFSET(pvnet_rx_rsp, len, 8);
PVNET_OFFSET(pvnet_rx_rsp, status, 12);
PVNET_OFFSET(pvnet_rx_rsp, hdr, 16);
_Static_assert(sizeof(struct pvnet_config) == 48, "pvnet_config layout");
PVNET_OFFSET(pvnet_config, mac, 8);
PVNET_OFFSET(pvnet_config, mtu, 14);
PVNET_OFFSET(pvnet_config, max_queues, 16);
PVNET_OFFSET(pvnet_config, max_segs, 18);
PVNET_OFFSET(pvnet_config, max_frame, 20);
PVNET_OFFSET(pvnet_config, max_ring_entries, 24);
PVNET_OFFSET(pvnet_config, link_up, 28);
PVNET_OFFSET(pvnet_config, reserved, 32);
_Static_assert(sizeof(struct pvnet_queue_desc) == 24, "pvnet_queue_desc layout");
PVNET_OFFSET(pvnet_queue_desc, rx_gref, 8);
PVNET_OFFSET(pvnet_queue_desc, evtchn, 16);
PVNET_OFFSET(pvnet_ctrl, features, 12);
PVNET_OFFSET(pvnet_ctrl, config, 16);
PVNET_OFFSET(pvnet_ctrl, q, 64);
_Static_assert(sizeof(struct pvnet_ctrl) <= 4096, "pvnet_ctrl fits a page");
#endif

#endif /* PVNET_H */
