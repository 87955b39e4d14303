/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host side of a ring pair shared with a hostile guest: header check
 * (pv_ring_pair_check), a consumer of the request direction and a
 * producer of the response direction (<pv/abi/ring.h>), as blkback and
 * echo use them, while the "guest" (the input) rewrites the shared indices,
 * error words and slots between calls.  The region is allocated at its
 * exact size, so ASan catches any access past it.  Invariants: counts stay
 * within the ring's entries, an accepted header matches the canonical
 * layout inside the region, a broken view stays broken.
 */
#include "fuzz.h"
#include "ring_host.h"

#define MAX_PAGES 48u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct pv_ring_params prm;
	struct pv_ring_cons c;
	struct pv_ring_prod p;
	struct pv_ring_shared *sh;
	size_t len = ((size_t)fuzz_take(&in, 1) % MAX_PAGES + 1) * PV_RING_PAGE_SIZE;
	uint8_t buf[512];
	int cerr = 0, perr = 0;
	uint8_t *mem = aligned_alloc(PV_RING_PAGE_SIZE, len);

	FUZZ_CHECK(mem);
	sh = (struct pv_ring_shared *)mem;
	memset(mem, 0, len);
	/* A well-formed header with the input's shape, or the input's bytes as they are. */
	if (fuzz_take(&in, 1) & 1) {
		struct pv_ring_params want;

		want.req_entries = 1u << (fuzz_take(&in, 1) % 12);
		want.req_entry_size = (uint32_t)(fuzz_take(&in, 1) % 64 + 1) * 8;
		want.rsp_entries = 1u << (fuzz_take(&in, 1) % 12);
		want.rsp_entry_size = (uint32_t)(fuzz_take(&in, 1) % 64 + 1) * 8;
		pv_ring_pair_init(mem, len, &want, (uint32_t)fuzz_take(&in, 4));
	} else {
		fuzz_take_buf(&in, mem, sizeof(sh->hdr));
	}
	if (pv_ring_pair_check(mem, len, &prm) != 0)
		goto out;
	FUZZ_CHECK(pv_ring_pair_size(&prm) != 0 && pv_ring_pair_size(&prm) <= len);
	FUZZ_CHECK(pv_ring_cons_attach(&c, mem, &prm, PV_RING_REQ) == 0);
	FUZZ_CHECK(pv_ring_prod_attach(&p, mem, &prm, PV_RING_RSP) == 0);

	while (in.n) {
		unsigned int op = (unsigned int)fuzz_take(&in, 1);
		uint32_t v = (uint32_t)fuzz_take(&in, (op >> 4) & 1 ? 4 : 1);
		int r = 0;

		switch (op % 14) {
		case 0: /* the guest publishes requests (or lies about it) */
			pv_ring_store(sh->idx[PV_RING_REQ].p.prod, (op >> 5) & 1 ? v : c.released + v % (c.entries + 2));
			break;
		case 1: /* the guest consumes responses (or lies) */
			pv_ring_store(sh->idx[PV_RING_RSP].c.cons, (op >> 5) & 1 ? v : p.pushed - v % (p.entries + 2));
			break;
		case 2:
			pv_ring_store(sh->idx[v & 1].p.error, (op >> 5) & 1 ? v : 0);
			pv_ring_store(sh->idx[(v >> 1) & 1].c.error, (op >> 6) & 1 ? v : 0);
			break;
		case 3: /* the guest scribbles on slots, and its event indices */
			mem[PV_RING_PAGE_SIZE + v % (len - PV_RING_PAGE_SIZE)] = (uint8_t)op;
			pv_ring_store(sh->idx[v & 1].c.prod_event, v);
			pv_ring_store(sh->idx[v & 1].p.cons_event, ~v);
			break;
		case 4:
			r = pv_ring_avail(&c);
			FUZZ_CHECK(r < 0 || (uint32_t)r <= c.entries);
			break;
		case 5:
			r = pv_ring_consume(&c, buf, (op >> 5) & 1 ? sizeof(buf) : v % sizeof(buf));
			FUZZ_CHECK(r <= 1);
			FUZZ_CHECK((uint32_t)(c.cons - c.released) <= c.entries);
			break;
		case 6:
			r = pv_ring_release(&c);
			FUZZ_CHECK(r == 0 || r == 1);
			FUZZ_CHECK(c.released == c.cons);
			break;
		case 7:
			r = (op >> 5) & 1 ? pv_ring_final_check(&c) : pv_ring_final_check_heavy(&c);
			FUZZ_CHECK(r < 0 || (uint32_t)r <= c.entries);
			break;
		case 8:
			r = pv_ring_space(&p);
			FUZZ_CHECK(r < 0 || (uint32_t)r <= p.entries);
			break;
		case 9:
			memset(buf, (int)op, sizeof(buf));
			r = pv_ring_produce(&p, buf, v % (p.entry_size + 16));
			FUZZ_CHECK(r <= 0);
			FUZZ_CHECK((uint32_t)(p.prod - p.cons) <= p.entries);
			break;
		case 10:
			r = pv_ring_push(&p);
			FUZZ_CHECK(r == 0 || r == 1);
			break;
		case 11:
			r = (op >> 5) & 1 ? pv_ring_space_arm(&p, v) : pv_ring_space_arm_heavy(&p, v);
			FUZZ_CHECK(r < 0 || (uint32_t)r <= p.entries);
			break;
		case 12:
			r = pv_ring_prod_moved(mem, v & 1, v);
			FUZZ_CHECK(r == 0 || r == 1);
			break;
		case 13: {
			const uint8_t *s = pv_ring_peek(&c);

			FUZZ_CHECK(!s || (s >= mem + PV_RING_PAGE_SIZE && s + c.entry_size <= mem + len));
			pv_ring_advance(&c, v);
			FUZZ_CHECK((uint32_t)(c.cons - c.released) <= c.entries);
			break;
		}
		}
		/* Broken stays broken, with the same error. */
		if (cerr)
			FUZZ_CHECK(c.err == cerr);
		if (perr)
			FUZZ_CHECK(p.err == perr);
		cerr = c.err;
		perr = p.err;
	}
out:
	free(mem);
	return 0;
}
