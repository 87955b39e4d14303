/* SPDX-License-Identifier: MIT */
/*
 * vm2vm: two guests in one process exchange messages through a grant and
 * an event channel; the monitor is on no data path, only its grant-copy
 * and event-channel hypercalls are.
 *
 * Command line: "a N" (the client, which owns the shared page) or "b N"
 * (the echo server).  The host registers the pair device (examples/echo.h,
 * ECHO_PAIR_BASE) on both: it tells each guest the other's domain id and
 * carries A's port and grant reference to B.
 *
 * A: registers its grant table and event page, allocates an unbound event
 *    channel for B, grants B one page (read-write), publishes ref then port,
 *    and waits for B's hello on the channel.  Per message: write the request
 *    into the page (payload, then req_seq), send the event, wait for
 *    rsp_seq to reach the request's number: clear the port's pending byte,
 *    look, and block futex-style on rsp_seq (PV_HC_BLOCK's watch word, so
 *    that no guest fence is needed), then check the echoed payload.
 * B: binds to A's port, says hello, then per message: clear its pending
 *    byte, grant-copy req_seq and then the request out of A's page (in that
 *    order: a new req_seq implies a complete request, since A writes the
 *    payload first), grant-copy the response and then rsp_seq into A's page
 *    (two ops of one batch, executed in order), send the event, block.
 * Nothing relies on guest atomics or fences: each side's ordering is plain
 * x86 store order plus the monitor's barriers inside the hypercalls.
 * Each side marks its measured phase on the pair device and prints
 * "vm2vm a ok ..." or "vm2vm b ok ..."; exit status 0, or 1 on any mismatch.
 */
#include <pv/guest/io.h>
#include <pv/guest/sdk.h>

#include "../echo_abi.h"

/* A's page, granted to B. */
struct shared_page {
	volatile uint32_t req_seq;   /* A writes: number of the request in req */
	volatile uint32_t rsp_seq;   /* B writes (grant copy): number of the response in rsp */
	uint8_t pad[56];
	struct echo_msg req;         /* A writes */
	struct echo_msg rsp;         /* B writes (grant copy) */
};

#define PAGE_REF 1u

static struct pv_grant_entry table[4] __attribute__((aligned(4096)));
static struct pv_event_page events __attribute__((aligned(4096)));
static struct shared_page page __attribute__((aligned(4096)));
/* B's two batches, built once (each guest store is dear under emulation). */
static struct pv_grant_copy_op get_ops[2] __attribute__((aligned(8)));
static struct pv_grant_copy_op put_ops[2] __attribute__((aligned(8)));

#define barrier() __asm__ __volatile__("" ::: "memory")

static uint64_t word(uint64_t seq, unsigned int i)
{
	return (seq + 7) * 0xbf58476d1ce4e5b9ull ^ ((uint64_t)i << 48 | i);
}

static void copy_op(struct pv_grant_copy_op *op, unsigned short sdom, unsigned long long saddr, unsigned int soff,
		    unsigned short ddom, unsigned long long daddr, unsigned int doff, unsigned int len)
{
	op->src.addr = saddr;
	op->src.offset = soff;
	op->src.domid = sdom;
	op->dst.addr = daddr;
	op->dst.offset = doff;
	op->dst.domid = ddom;
	op->len = len;
	op->status = 0;
}

static int client(unsigned int peer, unsigned long n)
{
	unsigned long blocks = 0;
	long port, r;

	if (pv_hypercall2(PV_HC_GRANT_SETUP, (unsigned long)table, 4) != 0) {
		pv_printf("vm2vm a: grant table refused\n");
		return 1;
	}
	port = pv_hypercall1(PV_HC_EVTCHN_ALLOC, peer);
	if (port <= 0 || port >= PV_EVTCHN_MAX) {
		pv_printf("vm2vm a: evtchn_alloc(%u) = %ld\n", peer, port);
		return 1;
	}
	table[PAGE_REF].frame = (unsigned long)&page / 4096;
	table[PAGE_REF].npages = 1;
	table[PAGE_REF].domid = (unsigned short)peer;
	barrier();
	table[PAGE_REF].flags = PV_GTF_PERMIT_ACCESS;
	pv_outl(ECHO_PAIR_BASE + ECHO_PAIR_REF, PAGE_REF);
	pv_outl(ECHO_PAIR_BASE + ECHO_PAIR_PORT, (unsigned int)port);
	while (!events.pending[port]) /* B's hello: it has bound the channel */
		pv_block(0);
	events.pending[port] = 0;

	pv_outl(ECHO_PAIR_BASE + ECHO_PAIR_MARK, ECHO_MARK_START);
	for (unsigned long i = 1; i <= n; i++) {
		uint32_t seq = (uint32_t)i;

		page.req.seq = i;
		page.req.magic = ECHO_MSG_MAGIC;
		page.req.len = sizeof(page.req.payload);
		for (unsigned int w = 0; w < ECHO_PAYLOAD_WORDS; w++)
			page.req.payload[w] = word(i, w);
		barrier(); /* the request before its number (x86 keeps store order) */
		page.req_seq = seq;
		r = pv_hypercall1(PV_HC_EVTCHN_SEND, (unsigned long)port);
		if (r != 0) {
			pv_printf("vm2vm a: send = %ld at message %lu\n", r, i);
			return 1;
		}
		for (;;) {
			events.pending[port] = 0;
			barrier();
			if (page.rsp_seq == seq)
				break;
			/* returns at once if rsp_seq moved or the port is pending */
			pv_block_watch(0, &page.rsp_seq, seq - 1);
			blocks++;
		}
		barrier(); /* rsp_seq before the response (written in that order) */
		if (page.rsp.seq != i || page.rsp.magic != ECHO_MSG_MAGIC || page.rsp.len != sizeof(page.rsp.payload)) {
			pv_printf("vm2vm a: bad response %lu: seq %llu magic 0x%x\n", i, (unsigned long long)page.rsp.seq,
				  page.rsp.magic);
			return 1;
		}
		for (unsigned int w = 0; w < ECHO_PAYLOAD_WORDS; w++) {
			if (page.rsp.payload[w] != word(i, w)) {
				pv_printf("vm2vm a: payload word %u of message %lu differs\n", w, i);
				return 1;
			}
		}
	}
	pv_outl(ECHO_PAIR_BASE + ECHO_PAIR_MARK, ECHO_MARK_END);
	pv_printf("vm2vm a ok messages=%lu peer=%u port=%ld blocks=%lu\n", n, peer, port, blocks);
	return 0;
}

static int server(unsigned int peer, unsigned long n)
{
	static struct echo_msg m __attribute__((aligned(8)));
	static uint32_t seqword __attribute__((aligned(8)));
	unsigned long tries = 0, handled = 0, blocks = 0, spurious = 0;
	unsigned int aport, ref;
	long port, r;

	while ((aport = pv_inl(ECHO_PAIR_BASE + ECHO_PAIR_PORT)) == 0) { /* A publishes ref, then port */
		if (++tries > 100000) {
			pv_printf("vm2vm b: A never published its port\n");
			return 1;
		}
		pv_block(100000);
	}
	ref = pv_inl(ECHO_PAIR_BASE + ECHO_PAIR_REF);
	port = pv_hypercall2(PV_HC_EVTCHN_BIND, peer, aport);
	if (port <= 0 || port >= PV_EVTCHN_MAX) {
		pv_printf("vm2vm b: evtchn_bind(%u, %u) = %ld\n", peer, aport, port);
		return 1;
	}
	r = pv_hypercall1(PV_HC_EVTCHN_SEND, (unsigned long)port); /* hello */
	if (r != 0) {
		pv_printf("vm2vm b: hello = %ld\n", r);
		return 1;
	}

	/* req_seq, then the request, out of A's page; the response, then its
	 * number, into it: the ops of a batch run in order. */
	copy_op(&get_ops[0], (unsigned short)peer, ref, 0, PV_DOMID_SELF, (unsigned long)&seqword, 0, 4);
	copy_op(&get_ops[1], (unsigned short)peer, ref, 64, PV_DOMID_SELF, (unsigned long)&m, 0, sizeof(m));
	copy_op(&put_ops[0], PV_DOMID_SELF, (unsigned long)&m, 0, (unsigned short)peer, ref, 128, sizeof(m));
	copy_op(&put_ops[1], PV_DOMID_SELF, (unsigned long)&seqword, 0, (unsigned short)peer, ref, 4, 4);

	pv_outl(ECHO_PAIR_BASE + ECHO_PAIR_MARK, ECHO_MARK_START);
	while (handled < n) {
		events.pending[port] = 0; /* before looking: a later send sets it again */
		r = pv_hypercall2(PV_HC_GRANT_COPY, (unsigned long)get_ops, 2);
		if (r != 0) {
			pv_printf("vm2vm b: copy from A = %ld (%d, %d)\n", r, get_ops[0].status, get_ops[1].status);
			return 1;
		}
		if (seqword == (uint32_t)(handled + 1)) {
			if (m.magic != ECHO_MSG_MAGIC || m.len > sizeof(m.payload) || m.seq != handled + 1) {
				pv_printf("vm2vm b: bad request %lu: seq %llu magic 0x%x\n", handled + 1,
					  (unsigned long long)m.seq, m.magic);
				return 1;
			}
			r = pv_hypercall2(PV_HC_GRANT_COPY, (unsigned long)put_ops, 2);
			if (r == 0)
				r = pv_hypercall1(PV_HC_EVTCHN_SEND, (unsigned long)port);
			if (r != 0) {
				pv_printf("vm2vm b: answer %lu = %ld\n", handled + 1, r);
				return 1;
			}
			if (++handled == n)
				break;
		} else if (seqword != (uint32_t)handled) {
			pv_printf("vm2vm b: request number %u, expected %lu\n", seqword, handled + 1);
			return 1;
		} else {
			spurious++;
		}
		pv_block(0); /* returns at once if A's send came after our clear */
		blocks++;
	}
	pv_outl(ECHO_PAIR_BASE + ECHO_PAIR_MARK, ECHO_MARK_END);
	pv_printf("vm2vm b ok messages=%lu peer=%u port=%ld blocks=%lu spurious=%lu\n", n, peer, port, blocks,
		  spurious);
	return 0;
}

int pv_main(const struct pv_boot_info *bi)
{
	const char *s = pv_cmdline();
	unsigned long n;
	unsigned int peer;
	char role = s[0];

	if ((role != 'a' && role != 'b') || s[1] != ' ') {
		pv_printf("vm2vm: command line '%s': want \"a N\" or \"b N\"\n", s);
		return 2;
	}
	n = (unsigned long)pv_strtoull(s + 2, &s);
	if ((bi->features & (PV_F_GRANT | PV_F_EVTCHN)) != (PV_F_GRANT | PV_F_EVTCHN)) {
		pv_printf("vm2vm: needs grants and event channels\n");
		return 1;
	}
	if (pv_hypercall1(PV_HC_EVTCHN_SETUP, (unsigned long)&events) != 0) {
		pv_printf("vm2vm: event page refused\n");
		return 1;
	}
	peer = pv_inl(ECHO_PAIR_BASE + ECHO_PAIR_PEER);
	if (peer == 0 || peer == bi->domid || peer > 0xffff) {
		pv_printf("vm2vm: no peer (pair device says %u)\n", peer);
		return 1;
	}
	return role == 'a' ? client(peer, n) : server(peer, n);
}
