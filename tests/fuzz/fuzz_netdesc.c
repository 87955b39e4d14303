/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PV net backend's transmit path on arbitrary descriptors, offload
 * headers, receive buffers and grant tables: pvnet__tx_prepare (the checks
 * of frame.c and the grant mappings of netback.c), then, as the switch does
 * for a receiver, pvnet__rx_into (the copy into a posted buffer and the
 * checksum fixup).  Guest RAM outside the granted pages is mprotect()ed
 * away during the calls (read-only grants stay read-only), so any access
 * outside a grant faults; inside the granted pages, only the receive
 * buffer's first frame-length bytes may change, and they must hold the
 * frame.  Input: the sender's accepted features (32 bits) and MTU (16),
 * the receiver's (the same guest's RAM serves both), NGRANTS grant entries
 * (a mode byte, then fields), the transmit request, the receive request,
 * then the contents of the data window.
 */
#include <sys/mman.h>

#include "fuzz.h"
#include "netback_priv.h"

#define RAM      (4ull << 20)
#define PAGES    (RAM / 4096)
#define NGRANTS  16u
#define TABLE_PG 0x100ull /* the grant table (read-only to the code under test) */
#define WIN_PG   0x101ull /* the data window: every grant the harness can make valid lies in it */
#define WIN      64ull    /* pages */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pv_grant_entry ent[NGRANTS];
static int prot[PAGES];

/* The harness's own reading of a grant: the guest address of [offset,
 * offset + len), or UINT64_MAX if libpv must refuse it. */
static uint64_t granted(uint32_t ref, uint64_t offset, uint64_t len, bool write)
{
	const struct pv_grant_entry *e;

	if (ref >= NGRANTS || len == 0)
		return UINT64_MAX;
	e = &ent[ref];
	if (!(e->flags & PV_GTF_PERMIT_ACCESS) || e->domid != 0 || (write && (e->flags & PV_GTF_READONLY)))
		return UINT64_MAX;
	if (e->npages == 0 || e->frame >= PAGES || e->npages > PAGES - e->frame)
		return UINT64_MAX;
	if (offset + len > (uint64_t)e->npages * 4096)
		return UINT64_MAX;
	return e->frame * 4096 + offset;
}

static void take_grants(struct fuzz_in *in)
{
	for (unsigned int i = 0; i < NGRANTS; i++) {
		unsigned int mode = (unsigned int)fuzz_take(in, 1);
		struct pv_grant_entry *e = &ent[i];

		e->flags = (unsigned short)((mode & 0x10 ? 0 : PV_GTF_PERMIT_ACCESS) | (mode & 1 ? PV_GTF_READONLY : 0));
		e->domid = mode & 2 ? 1 : 0;
		if (mode & 0x80) { /* any frame and count: must be refused unless it happens to fit */
			e->npages = (unsigned int)fuzz_take(in, 4);
			e->frame = fuzz_take(in, 8);
			if (granted(i, 0, 1, false) != UINT64_MAX &&
			    (e->frame < WIN_PG || e->frame + e->npages > WIN_PG + WIN))
				e->frame |= 1ull << 63; /* stay out of RAM outside the window */
		} else {
			e->npages = (unsigned int)fuzz_take(in, 1) % 12;
			e->frame = WIN_PG + fuzz_take(in, 1) % (WIN - 11);
		}
		/* Pages the code under test may touch. */
		if (granted(i, 0, 1, false) != UINT64_MAX)
			for (uint64_t p = e->frame; p < e->frame + e->npages; p++)
				if (prot[p] != (PROT_READ | PROT_WRITE))
					prot[p] = e->flags & PV_GTF_READONLY ? PROT_READ : PROT_READ | PROT_WRITE;
	}
}

static void protect(uint8_t *ram)
{
	FUZZ_CHECK(mprotect(ram, RAM, PROT_NONE) == 0);
	for (uint64_t p = 0; p < PAGES;) {
		uint64_t q = p + 1;

		while (q < PAGES && prot[q] == prot[p])
			q++;
		if (prot[p] != PROT_NONE)
			FUZZ_CHECK(mprotect(ram + p * 4096, (q - p) * 4096, prot[p]) == 0);
		p = q;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pv_vm *vm;
	static struct pv_netback nb;
	static struct txslot s;
	static uint8_t snap[WIN * 4096], frame[PVNET_FRAME_MAX];
	struct fuzz_in in = { data, size };
	struct pvnet_tx_req req;
	struct pvnet_rx_req rx;
	struct pvnet_hdr h;
	struct nq *q = &nb.q[0];
	uint8_t *win;
	uint64_t addr[PVNET_TX_SEGS], rxaddr, fl = 0;
	uint32_t acc, rx_acc;
	uint16_t rx_mtu;
	int st, rst = -1;
	bool overlap = false;

	if (!vm) {
		vm = fuzz_vm(RAM, 1);
		/* mprotect() on a huge page splits it, every input */
		FUZZ_CHECK(madvise(vm->ram, RAM, MADV_NOHUGEPAGE) == 0);
		nb.vm = vm;
		q->n = &nb;
	}
	fuzz_vm_reset(vm);
	win = vm->ram + WIN_PG * 4096;
	acc = (uint32_t)fuzz_take(&in, 4);
	atomic_store(&nb.accepted, acc);
	nb.mtu = (uint16_t)fuzz_take(&in, 2);
	rx_acc = (uint32_t)fuzz_take(&in, 4);
	rx_mtu = (uint16_t)fuzz_take(&in, 2);
	memset(prot, 0, sizeof(prot));
	prot[TABLE_PG] = PROT_READ;
	take_grants(&in);
	fuzz_take_buf(&in, &req, sizeof(req));
	fuzz_take_buf(&in, &rx, sizeof(rx));
	fuzz_take_buf(&in, win, WIN * 4096);
	memcpy(vm->ram + TABLE_PG * 4096, ent, sizeof(ent));
	memcpy(snap, win, sizeof(snap));
	vm->gt.pins = calloc(NGRANTS, sizeof(*vm->gt.pins));
	FUZZ_CHECK(vm->gt.pins);
	vm->gt.table = TABLE_PG * 4096;
	vm->gt.nr = NGRANTS;
	memset(&s, 0, sizeof(s));

	protect(vm->ram);
	st = pvnet__tx_prepare(q, &req, &s);
	if (st == PVNET_S_OK) {
		pvnet__read_eth(&s.f);
		if (pvnet__rx_takes(&s.f.hdr, rx_acc) &&
		    (s.f.hdr.gso_type != PVNET_GSO_NONE || s.f.len <= (uint32_t)rx_mtu + 18u))
			rst = pvnet__rx_into(vm, &rx, &s.f, rx_acc, &h);
	}
	FUZZ_CHECK(s.nmaps <= PVNET_TX_SEGS);
	pv_grant_unmap_batch(vm, s.maps, s.nmaps);
	FUZZ_CHECK(mprotect(vm->ram, RAM, PROT_READ | PROT_WRITE) == 0);
	for (unsigned int i = 0; i < NGRANTS; i++)
		FUZZ_CHECK(vm->gt.pins[i] == 0);

	FUZZ_CHECK(st == PVNET_S_OK || st == PVNET_S_INVALID || st == PVNET_S_UNSUPP);
	if (st != PVNET_S_OK) {
		FUZZ_CHECK(!memcmp(win, snap, sizeof(snap)));
		return 0;
	}
	/* Accepted: the descriptor is sane and every segment lies in its grant. */
	FUZZ_CHECK(req.nr_segs >= 1 && req.nr_segs <= PVNET_TX_SEGS && s.nmaps == req.nr_segs);
	FUZZ_CHECK(req.total_len >= PVNET_FRAME_MIN && req.total_len <= PVNET_FRAME_MAX && s.f.len == req.total_len);
	FUZZ_CHECK(req.hdr.gso_type != PVNET_GSO_NONE || req.total_len <= (uint32_t)nb.mtu + 18u);
	if (req.hdr.flags & PVNET_HDR_F_NEEDS_CSUM)
		FUZZ_CHECK((acc & PVNET_F_CSUM) && req.hdr.csum_start + req.hdr.csum_offset + 2u <= req.total_len);
	FUZZ_CHECK(!memcmp(&s.f.hdr, &req.hdr, sizeof(req.hdr)) && s.f.niov == req.nr_segs);
	for (unsigned int i = 0; i < req.nr_segs; i++) {
		addr[i] = granted(req.seg[i].gref, req.seg[i].offset, req.seg[i].len, false);
		FUZZ_CHECK(addr[i] != UINT64_MAX);
		FUZZ_CHECK(s.f.iov[i].iov_base == vm->ram + addr[i] && s.f.iov[i].iov_len == req.seg[i].len);
		FUZZ_CHECK(addr[i] >= WIN_PG * 4096 && addr[i] + req.seg[i].len <= (WIN_PG + WIN) * 4096);
		memcpy(frame + fl, snap + (addr[i] - WIN_PG * 4096), req.seg[i].len);
		fl += req.seg[i].len;
	}
	FUZZ_CHECK(fl == req.total_len);
	FUZZ_CHECK(!memcmp(s.f.eth, frame, sizeof(s.f.eth)));

	/* The receive side wrote the frame into its buffer and nothing else. */
	rxaddr = granted(rx.gref, rx.offset, rx.len, true);
	if (rst == PVNET_S_OK || rst == PVNET_S_DROPPED)
		FUZZ_CHECK(rxaddr != UINT64_MAX && rx.len >= PVNET_FRAME_MIN && rx.len <= PVNET_FRAME_MAX);
	if (rst != PVNET_S_OK) {
		FUZZ_CHECK(rst == -1 || rst == PVNET_S_DROPPED || rst == PVNET_S_INVALID);
		FUZZ_CHECK(rst != PVNET_S_DROPPED || fl > rx.len);
		FUZZ_CHECK(!memcmp(win, snap, sizeof(snap)));
		return 0;
	}
	FUZZ_CHECK(fl <= rx.len);
	rxaddr -= WIN_PG * 4096;
	FUZZ_CHECK(!memcmp(win, snap, rxaddr));
	FUZZ_CHECK(!memcmp(win + rxaddr + fl, snap + rxaddr + fl, sizeof(snap) - rxaddr - fl));
	for (unsigned int i = 0; i < req.nr_segs; i++)
		overlap |= addr[i] - WIN_PG * 4096 < rxaddr + fl && rxaddr < addr[i] - WIN_PG * 4096 + req.seg[i].len;
	FUZZ_CHECK(h.num_buffers == 1);
	FUZZ_CHECK(req.hdr.gso_type == PVNET_GSO_NONE || (rx_acc & PVNET_F_GUEST_CSUM));
	if ((req.hdr.flags & PVNET_HDR_F_NEEDS_CSUM) && !(rx_acc & PVNET_F_GUEST_CSUM)) {
		uint32_t at = req.hdr.csum_start + req.hdr.csum_offset;

		FUZZ_CHECK(h.flags == PVNET_HDR_F_DATA_VALID);
		frame[at] = win[rxaddr + at], frame[at + 1] = win[rxaddr + at + 1]; /* the checksum filled in */
	} else {
		FUZZ_CHECK(h.flags == req.hdr.flags);
	}
	if (!overlap) /* a guest may post a buffer over its own frame: then the bytes are its problem */
		FUZZ_CHECK(!memcmp(win + rxaddr, frame, fl));
	return 0;
}
