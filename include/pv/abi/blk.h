/* SPDX-License-Identifier: MIT */
/*
 * libpv PV block protocol, version 1.  Freestanding; any guest OS may
 * include it.  The transport is a ring pair (<pv/abi/ring.h>) in guest memory,
 * granted to the monitor (<pv/abi/core.h>), one pair per queue.
 *
 * Set-up (one exit per step, once)
 * --------------------------------
 * The guest grants one page holding struct pvblk_ctrl to domain 0 (read-
 * write) and writes the grant reference to I/O port PVBLK_PORT (32-bit OUT).
 * The monitor reads the page, acts on ctrl.cmd and writes back ctrl.status
 * (0 or a negative PV_E*) and its answers before the OUT returns:
 *   PVBLK_CMD_GET_CONFIG  fills ctrl.config.
 *   PVBLK_CMD_CONNECT     the guest filled nr_queues and, per queue, the
 *                         grant of its ring pair (ring_gref, ring_pages: the
 *                         whole pair, granted read-write as one grant).  The
 *                         monitor checks each ring and fills evtchn: the
 *                         monitor-bound event channel of that queue.
 *   PVBLK_CMD_DISCONNECT  ends every queue: the monitor finishes the I/O in
 *                         flight, stops using the rings, closes their event
 *                         channels and forgets them, so the guest may end
 *                         its grants (a driver being unloaded) and CONNECT
 *                         again.  A guest should first wait for its
 *                         responses: requests still in flight complete, but
 *                         their responses may not be written.  0 also when
 *                         nothing was connected.
 * Requests flow in the request direction (struct pvblk_req entries of
 * PVBLK_REQ_SIZE bytes), responses in the response direction (struct
 * pvblk_rsp, PVBLK_RSP_SIZE bytes).  After pushing requests the guest
 * notifies (only if pv_ring_push says so) with a doorbell: "outl %eax, %dx",
 * EAX = evtchn, DX = PV_DOORBELL_PORT.  The monitor notifies responses on
 * the same event channel.  Responses may come in any order; match by id.
 *
 * Data
 * ----
 * A segment names guest memory by grant: (gref, offset, len), len a
 * multiple of 512, at most PVBLK_SEG_MAX; a grant may span many pages, so
 * one segment can carry a whole 1 MiB request.  A request carries up to
 * PVBLK_SEGS_INLINE segments inline, or, with PVBLK_REQ_INDIRECT, up to
 * PVBLK_SEGS_INDIRECT segments in a granted page (indirect.gref/offset).
 * The total length is at most config.max_request_bytes.  Granting a data
 * pool once and reusing it (persistent grants) costs no exit per request.
 */
#ifndef PVBLK_H
#define PVBLK_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

#define PVBLK_VERSION 1u
#define PVBLK_PORT    0x0680u   /* 4 ports */
#define PVBLK_MAX_QUEUES 16u

#define PVBLK_CMD_GET_CONFIG 1u
#define PVBLK_CMD_CONNECT    2u
#define PVBLK_CMD_DISCONNECT 3u

/* Operations */
#define PVBLK_OP_READ         0u
#define PVBLK_OP_WRITE        1u
#define PVBLK_OP_FLUSH        2u  /* every completed write is durable when this completes */
#define PVBLK_OP_DISCARD      3u  /* range: the sectors may read as zeroes afterwards */
#define PVBLK_OP_WRITE_ZEROES 4u  /* range: the sectors read as zeroes afterwards */

/* Request flags */
#define PVBLK_REQ_FUA      0x1u   /* WRITE: durable when it completes */
#define PVBLK_REQ_INDIRECT 0x2u   /* segments are in a granted page */

/* Response status */
#define PVBLK_S_OK      0
#define PVBLK_S_IOERR   1   /* the backing store failed (EIO, ENOSPC, read-only disk) */
#define PVBLK_S_UNSUPP  2   /* operation not supported: the device keeps working */
#define PVBLK_S_INVALID 3   /* malformed request: bad range, segment, grant or count */

/* Feature bits (config.features) */
#define PVBLK_F_FLUSH        (1u << 0)
#define PVBLK_F_FUA          (1u << 1)
#define PVBLK_F_DISCARD      (1u << 2)
#define PVBLK_F_WRITE_ZEROES (1u << 3)
#define PVBLK_F_READ_ONLY    (1u << 4)
#define PVBLK_F_INDIRECT     (1u << 5)

#define PVBLK_SEGS_INLINE   8u
#define PVBLK_SEGS_INDIRECT 256u
#define PVBLK_SEG_MAX       (1u << 20)
#define PVBLK_REQ_SIZE      160u
#define PVBLK_RSP_SIZE      16u

struct pvblk_seg {
	uint32_t gref;
	uint32_t offset;      /* into the granted frames */
	uint32_t len;         /* bytes, multiple of 512, 1..PVBLK_SEG_MAX */
	uint32_t reserved;
};

struct pvblk_req {
	uint8_t op;           /* PVBLK_OP_* */
	uint8_t flags;        /* PVBLK_REQ_* */
	uint16_t nr_segs;     /* READ/WRITE: segments; 0 otherwise */
	uint32_t reserved0;
	uint64_t id;          /* echoed in the response */
	uint64_t sector;      /* 512-byte units */
	uint64_t nr_sectors;  /* DISCARD/WRITE_ZEROES: length; else ignored */
	union {
		struct pvblk_seg seg[PVBLK_SEGS_INLINE];
		struct {
			uint32_t gref;   /* page of nr_segs struct pvblk_seg */
			uint32_t offset;
		} indirect;
	} u;
};

struct pvblk_rsp {
	uint64_t id;
	int32_t status;       /* PVBLK_S_* */
	uint32_t reserved;
};

struct pvblk_config {
	uint32_t version;             /* PVBLK_VERSION */
	uint32_t features;            /* PVBLK_F_* */
	uint64_t capacity;            /* sectors of 512 bytes */
	uint32_t logical_sector_size; /* 512 */
	uint32_t physical_sector_size;
	uint32_t max_segments;        /* per request, inline or indirect */
	uint32_t max_request_bytes;
	uint32_t max_queues;
	uint32_t max_ring_entries;    /* per direction */
	uint64_t reserved[2];
};

struct pvblk_queue_desc {
	uint32_t ring_gref;
	uint32_t ring_pages;
	uint32_t evtchn;              /* written by the monitor */
	uint32_t reserved;
};

struct pvblk_ctrl {
	uint32_t cmd;                 /* PVBLK_CMD_* */
	int32_t status;               /* written by the monitor */
	uint32_t nr_queues;
	uint32_t reserved;
	struct pvblk_config config;
	struct pvblk_queue_desc q[PVBLK_MAX_QUEUES];
};

#ifndef __KERNEL__
_Static_assert(sizeof(struct pvblk_req) == PVBLK_REQ_SIZE, "pvblk_req layout");
_Static_assert(sizeof(struct pvblk_rsp) == PVBLK_RSP_SIZE, "pvblk_rsp layout");
_Static_assert(sizeof(struct pvblk_ctrl) <= 4096, "pvblk_ctrl fits a page");
#define PVBLK_OFFSET(t, f, off) _Static_assert(__builtin_offsetof(struct t, f) == (off), #t "." #f " offset")
_Static_assert(sizeof(struct pvblk_seg) == 16, "pvblk_seg layout");
PVBLK_OFFSET(pvblk_seg, offset, 4);
PVBLK_OFFSET(pvblk_seg, len, 8);
PVBLK_OFFSET(pvblk_req, flags, 1);
PVBLK_OFFSET(pvblk_req, nr_segs, 2);
PVBLK_OFFSET(pvblk_req, id, 8);
PVBLK_OFFSET(pvblk_req, sector, 16);
PVBLK_OFFSET(pvblk_req, nr_sectors, 24);
PVBLK_OFFSET(pvblk_req, u.seg, 32);
PVBLK_OFFSET(pvblk_req, u.indirect.offset, 36);
PVBLK_OFFSET(pvblk_rsp, status, 8);
_Static_assert(sizeof(struct pvblk_config) == 56, "pvblk_config layout");
PVBLK_OFFSET(pvblk_config, capacity, 8);
PVBLK_OFFSET(pvblk_config, logical_sector_size, 16);
PVBLK_OFFSET(pvblk_config, max_queues, 32);
PVBLK_OFFSET(pvblk_config, max_ring_entries, 36);
PVBLK_OFFSET(pvblk_config, reserved, 40);
_Static_assert(sizeof(struct pvblk_queue_desc) == 16, "pvblk_queue_desc layout");
PVBLK_OFFSET(pvblk_queue_desc, evtchn, 8);
PVBLK_OFFSET(pvblk_ctrl, nr_queues, 8);
PVBLK_OFFSET(pvblk_ctrl, config, 16);
PVBLK_OFFSET(pvblk_ctrl, q, 72);
#endif

#endif /* PVBLK_H */
