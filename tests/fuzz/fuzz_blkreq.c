/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PV block request validation (pvdrivers/blk/blkreq.c) on arbitrary
 * requests, indirect segment lists and grant tables: the code blkback runs
 * on each request it copies out of the ring.  Invariants: an accepted
 * request stays inside the disk, its segments are whole sectors within the
 * limits and each mapped pointer covers its segment inside guest RAM;
 * every pin taken is released by the unmap the backend does.
 */
#include "fuzz.h"
#include "blkreq.h"
#include "disk.h"

#define RAM (4ull << 20)
#define NGRANTS 64u
#define TABLE PV_GUEST_LOAD_MIN  /* grant table, then data the input fills */
#define FILL (64u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pv_vm *vm;
	static struct pv_grant_op maps[PVBLK_SEGS_INDIRECT];
	struct fuzz_in in = { data, size };
	struct pvblk_req req;
	unsigned int nsegs = 0, nmaps = 0;
	uint64_t cap, total = 0;
	bool ro;
	int st;

	if (!vm)
		vm = fuzz_vm(RAM, 1);
	fuzz_vm_reset(vm);
	cap = fuzz_take(&in, 1) & 1 ? fuzz_take(&in, 8) : fuzz_take(&in, 3); /* any, or a small disk */
	ro = fuzz_take(&in, 1) & 1;
	fuzz_take_buf(&in, &req, sizeof(req));
	/* The rest is the guest's grant table and the pages after it. */
	fuzz_take_buf(&in, vm->ram + TABLE, FILL);
	vm->gt.pins = calloc(NGRANTS, sizeof(*vm->gt.pins));
	FUZZ_CHECK(vm->gt.pins);
	vm->gt.table = TABLE;
	vm->gt.nr = NGRANTS;

	st = pvblk__req_check(&req, cap, ro, &nsegs);
	FUZZ_CHECK(st == PVBLK_S_OK || st == PVBLK_S_UNSUPP || st == PVBLK_S_IOERR || st == PVBLK_S_INVALID);
	if (st != PVBLK_S_OK)
		goto out;
	FUZZ_CHECK(req.op <= PVBLK_OP_WRITE_ZEROES);
	FUZZ_CHECK(!ro || req.op == PVBLK_OP_READ || req.op == PVBLK_OP_FLUSH);
	if (req.op == PVBLK_OP_DISCARD || req.op == PVBLK_OP_WRITE_ZEROES) {
		FUZZ_CHECK(req.nr_sectors && req.sector <= cap && req.nr_sectors <= cap - req.sector);
		goto out;
	}
	if (req.op == PVBLK_OP_FLUSH)
		goto out;
	FUZZ_CHECK(nsegs >= 1 && nsegs <= (req.flags & PVBLK_REQ_INDIRECT ? PVBLK_SEGS_INDIRECT : PVBLK_SEGS_INLINE));
	st = pvblk__req_segments(vm, &req, nsegs, cap, maps, &nmaps, &total);
	FUZZ_CHECK(st == PVBLK_S_OK || st == PVBLK_S_INVALID);
	FUZZ_CHECK(nmaps <= nsegs);
	if (st == PVBLK_S_OK) {
		uint64_t sum = 0;

		FUZZ_CHECK(nmaps == nsegs);
		FUZZ_CHECK(total <= PVBLK_MAX_REQ_BYTES && total % PV_DISK_SECTOR == 0);
		FUZZ_CHECK(req.sector <= cap && total / PV_DISK_SECTOR <= cap - req.sector);
		for (unsigned int i = 0; i < nmaps; i++) {
			const uint8_t *p = maps[i].ptr;

			FUZZ_CHECK(maps[i].status == 0);
			FUZZ_CHECK(maps[i].len && maps[i].len % PV_DISK_SECTOR == 0 && maps[i].len <= PVBLK_SEG_MAX);
			FUZZ_CHECK(p >= vm->ram && p + maps[i].len <= vm->ram + RAM && p + maps[i].len > p);
			FUZZ_CHECK(maps[i].write == (req.op == PVBLK_OP_READ));
			sum += maps[i].len;
		}
		FUZZ_CHECK(sum == total);
	}
	pv_grant_unmap_batch(vm, maps, nmaps);
out:
	for (unsigned int i = 0; i < NGRANTS; i++)
		FUZZ_CHECK(vm->gt.pins[i] == 0);
	return 0;
}
