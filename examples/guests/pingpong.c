/* SPDX-License-Identifier: MIT */
/*
 * pingpong: exchanges messages with the host echo backend (examples/echo.h)
 * over a ring pair in this guest's RAM, one message at a time.
 *
 * Command line: "N [nopoll] [poll_us=T] [warmup=W] [hostile]"
 *   N        messages in the measured phase (default 1000)
 *   nopoll   never poll for a response: arm the event index and block
 *   poll_us=T poll up to T microseconds for a response before blocking
 *            (default 200; the loop is calibrated against PV_HC_TIME at
 *            start: one iteration costs ~6 ns on the emulation backend
 *            and ~5 us under software-nested KVM)
 *   warmup=W messages before the measured phase (default 32)
 *   hostile  instead: publish a producer index far beyond the ring and
 *            check that the backend declares the ring broken
 *
 * Setup: build the ring pair (PV_RING_REQ guest -> host, PV_RING_RSP host
 * -> guest, 1024 entries of 64 bytes each), grant its pages to the monitor,
 * register the event page, connect through the config device.  Each
 * message: write it into the next request slot, push, ring the doorbell
 * (an ioeventfd on KVM) only if the push says the backend sleeps; then
 * poll for the response, and if it is slow, clear the port's pending byte,
 * arm the response ring's event index, check again and block futex-style
 * on the response producer index (PV_HC_BLOCK's watch word: the monitor's
 * full barrier stands in for ours, which the emulation backend drops).
 * Every response is checked (sequence number, magic, payload) in place and
 * its slot handed back in batches.  The hot path keeps guest stores few:
 * under the emulation backend (Unicorn 2.0.1) each store takes a slow path
 * of ~0.3 us, loads do not.  Prints one line "pingpong ok ..." and exits 0,
 * or says what went wrong and exits 1.
 */
#include <pv/guest/io.h>
#include <pv/guest/sdk.h>

#include <pv/abi/ring.h>

#include "../echo_abi.h"

#define RING_ENTRIES 1024u
#define RING_REF     1u
#define RING_START   0xfffffc00u /* indices wrap at 2^32 during the run */
#define RELEASE_BATCH 64u        /* response slots released at a time */

static struct pv_grant_entry table[4] __attribute__((aligned(4096)));
static struct pv_event_page events __attribute__((aligned(4096)));

static struct pv_ring_prod req;
static struct pv_ring_cons rsp;
static unsigned int port;
static unsigned long spin;      /* poll iterations, from poll_us */
static int nopoll;
static unsigned long doorbells, blocks, polled;



static void doorbell(void)
{
	pv_outl(PV_DOORBELL_PORT, port);
	doorbells++;
}

static inline uint64_t word(uint64_t seq, unsigned int i)
{
	return (seq + 1) * 0x9e3779b97f4a7c15ull ^ ((uint64_t)i << 56 | i);
}

/* The backend marked the request ring broken (it then notifies us). */
static int backend_gone(void)
{
	return pv_ring_space(&req) < 0;
}

/*
 * Wait until a response is ready; returns > 0, or < 0 if the ring broke.
 * The polling loop only loads: under the emulation backend every guest
 * store takes Unicorn's slow path, loads do not.
 */
static inline __attribute__((always_inline)) int wait_response(void)
{
	const volatile uint32_t *prod = pv_ring_wait_word(&rsp);
	int r;

	if (!nopoll) {
		unsigned long i = 0;

		while (*prod == rsp.cons && i < spin)
			i++;
		r = pv_ring_avail(&rsp);
		if (r) {
			if (i)
				polled++;
			return r;
		}
	}
	for (;;) {
		events.pending[port] = 0;           /* before looking: a later notify sets it again */
		r = pv_ring_final_check(&rsp);      /* arm, barrier, look */
		if (r)
			return r;
		if (backend_gone())
			return -PV_RING_EPIPE;
		pv_block_watch(0, prod, rsp.cons);
		blocks++;
		r = pv_ring_avail(&rsp);
		if (r)
			return r;
	}
}

/*
 * Iterations of the polling loop above that take about `us` microseconds:
 * run it against a word that never changes, doubling the count until one
 * run takes at least a millisecond of PV_HC_TIME.
 */
static unsigned long calibrate(unsigned long us)
{
	static volatile uint32_t never;
	unsigned long k, i, per_ms;
	unsigned long long t, dt = 0;

	if (us == 0)
		return 0;
	for (k = 256; k < (1ul << 36); k *= 2) {
		t = pv_time_ns();
		i = 0;
		while (never == 0 && i < k)
			i++;
		dt = pv_time_ns() - t;
		if (dt >= 1000000)
			break;
	}
	per_ms = (unsigned long)(k * 1000000ull / (dt ? dt : 1));
	return per_ms * us / 1000 + 1;
}

/* One round trip; returns 0 or prints what was wrong and returns -1. */
static inline __attribute__((always_inline)) int pingpong(uint64_t seq)
{
	struct echo_msg *m = pv_ring_get_slot(&req);
	const struct echo_msg *a;
	int r;

	if (!m) {
		pv_printf("pingpong: no request slot at seq %llu (error %d)\n", (unsigned long long)seq, req.err);
		return -1;
	}
	m->seq = seq;
	m->magic = ECHO_MSG_MAGIC;
	m->len = sizeof(m->payload);
	for (unsigned int i = 0; i < ECHO_PAYLOAD_WORDS; i++)
		m->payload[i] = word(seq, i);
	if (pv_ring_push(&req))
		doorbell();
	r = wait_response();
	if (r < 0) {
		pv_printf("pingpong: ring broken waiting for seq %llu: %d\n", (unsigned long long)seq, r);
		return -1;
	}
	a = pv_ring_peek(&rsp); /* the monitor is trusted: read in place */
	if (!a || a->seq != seq || a->magic != ECHO_MSG_MAGIC || a->len != sizeof(a->payload)) {
		pv_printf("pingpong: bad response to seq %llu: seq %llu magic 0x%x len %u\n", (unsigned long long)seq,
			  a ? (unsigned long long)a->seq : 0ull, a ? a->magic : 0, a ? a->len : 0);
		return -1;
	}
	for (unsigned int i = 0; i < ECHO_PAYLOAD_WORDS; i++) {
		if (a->payload[i] != word(seq, i)) {
			pv_printf("pingpong: payload word %u of seq %llu differs: 0x%llx, want 0x%llx (slot %u)\n", i,
				  (unsigned long long)seq, (unsigned long long)a->payload[i],
				  (unsigned long long)word(seq, i), rsp.cons & rsp.mask);
			return -1;
		}
	}
	pv_ring_advance(&rsp, 1);
	/* Hand response slots back in batches (each store is dear under
	 * emulation); notify if the backend waits for space. */
	if (rsp.cons - rsp.released >= RELEASE_BATCH && pv_ring_release(&rsp))
		doorbell();
	return 0;
}

/* Publish an impossible producer index and watch the backend give up. */
static int hostile(struct pv_ring_shared *sh)
{
	long end;
	int state = 0, i;

	pv_ring_store(sh->idx[PV_RING_REQ].p.prod, req.prod + 0x40000000u);
	pv_outl(PV_DOORBELL_PORT, port);
	for (i = 0; i < 10000 && state == 0; i++) {
		events.pending[port] = 0;
		state = (int)pv_inl(ECHO_PIO_BASE + ECHO_REG_CONNECT);
		if (state == 0)
			pv_block(1000000);
	}
	pv_printf("hostile: state=%d ring_error=%u space=%d\n", state,
		  pv_ring_load(sh->idx[PV_RING_REQ].c.error), pv_ring_space(&req));
	/* The backend let go of the ring: revoking the grant works now. */
	end = pv_hypercall1(PV_HC_GRANT_END, RING_REF);
	pv_printf("hostile: grant_end=%ld\n", end);
	return state == -71 && end == 0 ? 0 : 1;
}

static const char *arg(const char *s, const char *name)
{
	size_t n = strlen(name);

	return strncmp(s, name, n) ? 0 : s + n;
}

int pv_main(const struct pv_boot_info *bi)
{
	const struct pv_ring_params prm = { RING_ENTRIES, sizeof(struct echo_msg), RING_ENTRIES,
					    sizeof(struct echo_msg) };
	unsigned long n = 1000, warmup = 32, poll_us = 200;
	int bad = 0, is_hostile = 0;
	const char *s = pv_cmdline(), *v;
	size_t size = pv_ring_pair_size(&prm);
	void *mem = (void *)(unsigned long)bi->heap_start; /* page-aligned, zero, ours */
	unsigned int pages = (unsigned int)(size / 4096);
	int state;

	while (*s) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		if ((v = arg(s, "poll_us=")))
			poll_us = (unsigned long)pv_strtoull(v, &s);
		else if ((v = arg(s, "warmup=")))
			warmup = (unsigned long)pv_strtoull(v, &s);
		else if ((v = arg(s, "nopoll")))
			nopoll = 1, s = v;
		else if ((v = arg(s, "hostile")))
			is_hostile = 1, s = v;
		else if (*s >= '0' && *s <= '9')
			n = (unsigned long)pv_strtoull(s, &s);
		else
			bad = 1;
		if (bad || (*s && *s != ' ')) {
			pv_printf("pingpong: bad command line '%s' (want N [nopoll] [poll_us=T] [warmup=W] [hostile])\n",
				  pv_cmdline());
			return 2;
		}
	}
	if ((bi->features & (PV_F_GRANT | PV_F_EVTCHN | PV_F_BLOCK)) != (PV_F_GRANT | PV_F_EVTCHN | PV_F_BLOCK) ||
	    bi->heap_start + size > bi->ram_size) {
		pv_printf("pingpong: needs grants, event channels, blocking and %zu bytes of heap\n", size);
		return 1;
	}
	if (pv_ring_pair_init(mem, size, &prm, RING_START) < 0 ||
	    pv_ring_prod_attach(&req, mem, &prm, PV_RING_REQ) < 0 ||
	    pv_ring_cons_attach(&rsp, mem, &prm, PV_RING_RSP) < 0) {
		pv_printf("pingpong: cannot build the ring pair\n");
		return 1;
	}
	table[RING_REF].frame = bi->heap_start / 4096;
	table[RING_REF].npages = pages;
	table[RING_REF].domid = PV_DOMID_MONITOR;
	__asm__ __volatile__("" ::: "memory");
	table[RING_REF].flags = PV_GTF_PERMIT_ACCESS;
	if (pv_hypercall2(PV_HC_GRANT_SETUP, (unsigned long)table, 4) != 0 ||
	    pv_hypercall1(PV_HC_EVTCHN_SETUP, (unsigned long)&events) != 0) {
		pv_printf("pingpong: grant table or event page refused\n");
		return 1;
	}
	port = pv_inl(ECHO_PIO_BASE + ECHO_REG_PORT);
	pv_outl(ECHO_PIO_BASE + ECHO_REG_PORT, RING_REF);
	pv_outl(ECHO_PIO_BASE + ECHO_REG_CONNECT, pages);
	state = (int)pv_inl(ECHO_PIO_BASE + ECHO_REG_CONNECT);
	if (state != 0 || port == 0 || port >= PV_EVTCHN_MAX) {
		pv_printf("pingpong: the echo backend refused the ring: state %d, port %u\n", state, port);
		return 1;
	}
	if (is_hostile)
		return hostile(mem);
	spin = nopoll ? 0 : calibrate(poll_us);
	for (unsigned long i = 0; i < warmup; i++)
		if (pingpong(i) < 0)
			return 1;
	doorbells = blocks = polled = 0;
	pv_outl(ECHO_PIO_BASE + ECHO_REG_MARK, ECHO_MARK_START);
	for (unsigned long i = 0; i < n; i++)
		if (pingpong(warmup + i) < 0)
			return 1;
	pv_outl(ECHO_PIO_BASE + ECHO_REG_MARK, ECHO_MARK_END);
	pv_printf("pingpong ok messages=%lu warmup=%lu poll=%s doorbells=%lu blocks=%lu polled=%lu spin=%lu\n", n,
		  warmup, nopoll ? "off" : "on", doorbells, blocks, polled, spin);
	return 0;
}
