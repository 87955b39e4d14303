/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PV block request validation (see blkreq.h). */
#include <string.h>

#include "blkreq.h"
#include "disk.h"

int pvblk__req_check(const struct pvblk_req *req, uint64_t cap, bool read_only, unsigned int *nsegs)
{
	*nsegs = 0;
	switch (req->op) {
	case PVBLK_OP_READ:
	case PVBLK_OP_WRITE:
	case PVBLK_OP_FLUSH:
	case PVBLK_OP_DISCARD:
	case PVBLK_OP_WRITE_ZEROES:
		break;
	default:
		return PVBLK_S_UNSUPP;
	}
	if (req->op != PVBLK_OP_READ && req->op != PVBLK_OP_FLUSH && read_only)
		return PVBLK_S_IOERR;
	if (req->op == PVBLK_OP_READ || req->op == PVBLK_OP_WRITE) {
		unsigned int max = req->flags & PVBLK_REQ_INDIRECT ? PVBLK_SEGS_INDIRECT : PVBLK_SEGS_INLINE;

		if (req->nr_segs == 0 || req->nr_segs > max)
			return PVBLK_S_INVALID;
		*nsegs = req->nr_segs;
	} else if (req->op != PVBLK_OP_FLUSH) {
		if (req->nr_sectors == 0 || req->sector > cap || req->nr_sectors > cap - req->sector)
			return PVBLK_S_INVALID;
	}
	return PVBLK_S_OK;
}

int pvblk__segs_check(const struct pvblk_req *req, const struct pvblk_seg *segs, unsigned int n, uint64_t cap,
		      uint64_t *total)
{
	uint64_t bytes = 0;

	*total = 0;
	if (n == 0)
		return PVBLK_S_INVALID;
	for (unsigned int i = 0; i < n; i++) {
		if (segs[i].len == 0 || segs[i].len % PV_DISK_SECTOR || segs[i].len > PVBLK_SEG_MAX)
			return PVBLK_S_INVALID;
		bytes += segs[i].len;
	}
	if (bytes > PVBLK_MAX_REQ_BYTES)
		return PVBLK_S_INVALID;
	if (req->sector > cap || bytes / PV_DISK_SECTOR > cap - req->sector)
		return PVBLK_S_INVALID;
	*total = bytes;
	return PVBLK_S_OK;
}

int pvblk__req_segments(struct pv_vm *vm, const struct pvblk_req *req, unsigned int n, uint64_t cap,
			struct pv_grant_op *maps, unsigned int *nmaps, uint64_t *total)
{
	struct pvblk_seg segs[PVBLK_SEGS_INDIRECT];
	int st;

	*nmaps = 0;
	*total = 0;
	if (n == 0 || n > (req->flags & PVBLK_REQ_INDIRECT ? PVBLK_SEGS_INDIRECT : PVBLK_SEGS_INLINE))
		return PVBLK_S_INVALID;
	if (req->flags & PVBLK_REQ_INDIRECT) {
		if (pv_grant_copy_from(vm, 0, req->u.indirect.gref, req->u.indirect.offset, segs, n * sizeof(segs[0])) <
		    0)
			return PVBLK_S_INVALID;
	} else {
		memcpy(segs, req->u.seg, n * sizeof(segs[0]));
	}
	st = pvblk__segs_check(req, segs, n, cap, total);
	if (st != PVBLK_S_OK)
		return st;
	for (unsigned int i = 0; i < n; i++)
		maps[i] = (struct pv_grant_op){ .ref = segs[i].gref, .offset = segs[i].offset, .len = segs[i].len,
						.write = req->op == PVBLK_OP_READ };
	*nmaps = n;
	if (pv_grant_map_batch(vm, 0, maps, n) != (int)n)
		return PVBLK_S_INVALID;
	return PVBLK_S_OK;
}
