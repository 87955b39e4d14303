/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PV block request validation, apart from the I/O: pure checks of a
 * request the backend has already copied out of the ring (and of the
 * segment list copied out of an indirect page), and the step that copies
 * the segments and maps their grants.  No io_uring, no threads: blkback.c
 * calls these, and so does the fuzzer (tests/fuzz/fuzz_blkreq.c).
 */
#ifndef PVBLK_REQ_H
#define PVBLK_REQ_H

#include <stdbool.h>
#include <stdint.h>

#include <pv/abi/blk.h>
#include <pv/pv.h>

/* Largest request the backend accepts (config.max_request_bytes). */
#define PVBLK_MAX_REQ_BYTES (4u << 20)

/*
 * First look at a copied request (req) for a disk of cap sectors:
 * PVBLK_S_UNSUPP for an unknown op, PVBLK_S_IOERR for a write, discard or
 * write-zeroes to a read-only disk, PVBLK_S_INVALID for a READ/WRITE whose
 * segment count is 0 or above the inline or indirect limit, or a DISCARD/
 * WRITE_ZEROES whose range is empty or leaves the disk; else PVBLK_S_OK.
 * *nsegs (READ/WRITE) is how many segments to copy: the inline ones are in
 * req, the indirect ones in the page req->u.indirect names.
 */
int pvblk__req_check(const struct pvblk_req *req, uint64_t cap, bool read_only, unsigned int *nsegs);

/*
 * Check the n (from pvblk__req_check) copied segments of READ/WRITE req:
 * each length a multiple of 512 in 1..PVBLK_SEG_MAX, the total at most
 * PVBLK_MAX_REQ_BYTES, and [req->sector, + total / 512) inside a disk of
 * cap sectors.  Returns PVBLK_S_OK with the byte count in *total, or
 * PVBLK_S_INVALID.  Grants are not looked at here (they are mapped next).
 */
int pvblk__segs_check(const struct pvblk_req *req, const struct pvblk_seg *segs, unsigned int n, uint64_t cap,
		      uint64_t *total);

/*
 * The segments of READ/WRITE req (n from pvblk__req_check) for a disk of
 * cap sectors on granter vm: copy them (inline, or from the indirect page
 * through the grant it names, once), check the copy with
 * pvblk__segs_check, and map each segment's grant for the monitor into
 * maps[0..n) (written for a READ).  Returns PVBLK_S_OK with the bytes in
 * *total, or PVBLK_S_INVALID.  *nmaps says how many entries of maps were
 * tried: the caller releases them with pv_grant_unmap_batch, whatever the
 * result (only the ones with status 0 hold a pin).
 */
int pvblk__req_segments(struct pv_vm *vm, const struct pvblk_req *req, unsigned int n, uint64_t cap,
			struct pv_grant_op *maps, unsigned int *nmaps, uint64_t *total);

#endif
