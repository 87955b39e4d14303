/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Frames: checks of copied-out transmit descriptors and their offload
 * metadata, the one copy into a receiver's buffer, and completing partial
 * checksums for receivers that did not accept them.  Everything here works
 * on private copies; guest memory is only read by the copy itself.
 */
#include <linux/if_tun.h>
#include <string.h>

#include "netdev.h"

#ifndef TUN_F_USO4 /* Linux 6.2; older kernels refuse the bits (then they are left out) */
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

static uint32_t gso_feature(unsigned int type)
{
	switch (type & ~PVNET_GSO_ECN) {
	case PVNET_GSO_TCPV4:
		return PVNET_F_HOST_TSO4;
	case PVNET_GSO_TCPV6:
		return PVNET_F_HOST_TSO6;
	case PVNET_GSO_UDP:
		return PVNET_F_HOST_UFO;
	case PVNET_GSO_UDP_L4:
		return PVNET_F_HOST_USO;
	default:
		return 0;
	}
}

int pvnet__check_hdr(const struct pvnet_hdr *h, uint32_t len, uint32_t features)
{
	unsigned int type = h->gso_type;
	uint32_t need;

	if (h->flags & ~(uint32_t)PVNET_HDR_F_NEEDS_CSUM)
		return PVNET_S_INVALID; /* DATA_VALID is for receive only */
	if (h->flags & PVNET_HDR_F_NEEDS_CSUM) {
		if (!(features & PVNET_F_CSUM))
			return PVNET_S_UNSUPP;
		if ((uint32_t)h->csum_start + h->csum_offset + 2 > len || h->csum_offset > 0xffff - 2)
			return PVNET_S_INVALID;
	}
	if (type == PVNET_GSO_NONE)
		return PVNET_S_OK;
	need = gso_feature(type);
	if (!need)
		return PVNET_S_INVALID; /* an unknown GSO type */
	if (!(features & need) || ((type & PVNET_GSO_ECN) && !(features & PVNET_F_ECN)))
		return PVNET_S_UNSUPP;
	/* Segmentation needs the checksum to fill in, a segment size and
	 * headers that lie inside the frame. */
	if (!(h->flags & PVNET_HDR_F_NEEDS_CSUM) || h->gso_size == 0 || h->hdr_len == 0 || h->hdr_len >= len ||
	    h->csum_start >= h->hdr_len)
		return PVNET_S_INVALID;
	return PVNET_S_OK;
}

int pvnet__check_tx(const struct pvnet_tx_req *req, uint32_t features, unsigned int max_segs, uint32_t max_frame)
{
	uint64_t total = 0;

	if (req->nr_segs == 0 || req->nr_segs > max_segs || req->nr_segs > PVNET_TX_SEGS)
		return PVNET_S_INVALID;
	if (req->total_len < PVNET_FRAME_MIN || req->total_len > PVNET_FRAME_MAX)
		return PVNET_S_INVALID;
	for (unsigned int i = 0; i < req->nr_segs; i++) {
		if (req->seg[i].len == 0 || req->seg[i].len > PVNET_FRAME_MAX)
			return PVNET_S_INVALID;
		total += req->seg[i].len;
	}
	if (total != req->total_len)
		return PVNET_S_INVALID;
	if (req->hdr.gso_type == PVNET_GSO_NONE && req->total_len > max_frame)
		return PVNET_S_INVALID; /* only GSO frames may exceed the MTU */
	return pvnet__check_hdr(&req->hdr, req->total_len, features);
}

static uint32_t guest_gso_feature(unsigned int type)
{
	uint32_t host = gso_feature(type);

	return host ? host << 4 : 0; /* PVNET_F_HOST_x << 4 == PVNET_F_GUEST_x */
}

bool pvnet__rx_takes(const struct pvnet_hdr *h, uint32_t features)
{
	if (h->gso_type == PVNET_GSO_NONE)
		return true;
	if ((h->gso_type & PVNET_GSO_ECN) && !(features & PVNET_F_ECN))
		return false;
	return (features & guest_gso_feature(h->gso_type)) && (features & PVNET_F_GUEST_CSUM);
}

/* The ones'-complement sum of [p, p + n), folded to 16 bits. */
static uint16_t csum(const uint8_t *p, uint32_t n, uint32_t sum)
{
	uint64_t s = sum;

	for (; n >= 2; p += 2, n -= 2)
		s += (uint32_t)p[0] << 8 | p[1];
	if (n)
		s += (uint32_t)p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

struct pvnet_hdr pvnet__rx_fixup(uint8_t *frame, uint32_t len, const struct pvnet_hdr *h, uint32_t features)
{
	struct pvnet_hdr out = *h;

	out.num_buffers = 1;
	if (!(h->flags & PVNET_HDR_F_NEEDS_CSUM) || (features & PVNET_F_GUEST_CSUM))
		return out;
	/* The field holds the pseudo-header sum: summing from csum_start
	 * over it and the rest gives the checksum (checked on tx). */
	if ((uint32_t)h->csum_start + h->csum_offset + 2 <= len) {
		uint8_t *field = frame + h->csum_start + h->csum_offset;
		uint16_t c = (uint16_t)~csum(frame + h->csum_start, len - h->csum_start, 0);

		if (c == 0 && frame[12] == 0x08 && frame[13] == 0x00 && len > 23 && frame[23] == 17)
			c = 0xffff; /* UDP over IPv4: 0 means "no checksum" */
		field[0] = (uint8_t)(c >> 8);
		field[1] = (uint8_t)c;
	}
	out.flags = PVNET_HDR_F_DATA_VALID;
	return out;
}

void pvnet__copy_out(uint8_t *dst, const struct pvnet_frame *f)
{
	/* memmove: a guest with two ports on one switch may post a receive
	 * buffer over the frame it sends from the other one. */
	for (unsigned int i = 0; i < f->niov; i++) {
		memmove(dst, f->iov[i].iov_base, f->iov[i].iov_len);
		dst += f->iov[i].iov_len;
	}
}

void pvnet__read_eth(struct pvnet_frame *f)
{
	uint32_t got = 0;

	for (unsigned int i = 0; i < f->niov && got < sizeof(f->eth); i++) {
		uint32_t n = (uint32_t)f->iov[i].iov_len;

		if (n > sizeof(f->eth) - got)
			n = (uint32_t)sizeof(f->eth) - got;
		memcpy(f->eth + got, f->iov[i].iov_base, n);
		got += n;
	}
}

uint32_t pvnet__tap_features(void)
{
	return PVNET_F_CSUM | PVNET_F_GUEST_CSUM | PVNET_F_HOST_TSO4 | PVNET_F_HOST_TSO6 | PVNET_F_HOST_UFO |
	       PVNET_F_HOST_USO | PVNET_F_GUEST_TSO4 | PVNET_F_GUEST_TSO6 | PVNET_F_GUEST_UFO | PVNET_F_GUEST_USO |
	       PVNET_F_MQ | PVNET_F_ECN;
}

unsigned int pvnet__tun_offloads(uint32_t a)
{
	unsigned int o = 0;

	if (!(a & PVNET_F_GUEST_CSUM))
		return 0; /* every other offload needs it */
	o |= TUN_F_CSUM;
	if (a & PVNET_F_GUEST_TSO4)
		o |= TUN_F_TSO4;
	if (a & PVNET_F_GUEST_TSO6)
		o |= TUN_F_TSO6;
	if ((a & PVNET_F_ECN) && (a & (PVNET_F_GUEST_TSO4 | PVNET_F_GUEST_TSO6)))
		o |= TUN_F_TSO_ECN;
	if (a & PVNET_F_GUEST_UFO)
		o |= TUN_F_UFO;
	if (a & PVNET_F_GUEST_USO)
		o |= TUN_F_USO4 | TUN_F_USO6;
	return o;
}
