/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guest-to-host rings on both backends: examples/guests/pingpong against
 * the host echo backend (examples/echo.c), with and without polling, exact
 * content and exact exit accounting; two guests talking through a grant
 * and an event channel (examples/guests/vm2vm); a frontend that breaks its
 * ring while another VM's echo goes on.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pv/emu.h>

#include "../examples/echo.h"
#include "common.h"

/* One VM of a test, with its echo backend if it has one. */
struct vmrun {
	enum pv_backend b;
	const char *elf;
	char cmd[96];
	bool echo;            /* attach an echo backend */
	struct echo_opts eo;
	/* results */
	struct pv_vm *vm;
	struct echo *e;
	int r, status;
	char out[8192];
	size_t len;
	char err[256];
	struct pv_stats st;   /* the whole run */
	struct echo_stats es;
	struct echo_phase ph; /* pair device phase (vm2vm) */
	struct vmrun *others; /* stopped when this one fails */
	unsigned int nothers;
};

static void capture(void *opaque, const char *buf, size_t len)
{
	struct vmrun *v = opaque;

	if (len > sizeof(v->out) - 1 - v->len)
		len = sizeof(v->out) - 1 - v->len;
	memcpy(v->out + v->len, buf, len);
	v->len += len;
	v->out[v->len] = 0;
}

static void *run_one(void *arg)
{
	struct vmrun *v = arg;

	v->r = pv_vm_run(v->vm, &v->status);
	if (v->r < 0 || v->status)
		for (unsigned int i = 0; i < v->nothers; i++)
			if (&v->others[i] != v)
				pv_vm_stop(v->others[i].vm);
	return NULL;
}

/* Create, load and run n VMs concurrently; with pair, the first two get
 * the pair device.  Every result lands in vs[i]. */
static void run_vms(struct vmrun *vs, unsigned int n, bool pair)
{
	struct echo_pair *p = NULL;
	pthread_t t[4];

	cr_assert(n <= 4);
	pv_emu_register();
	for (unsigned int i = 0; i < n; i++) {
		struct vmrun *v = &vs[i];
		struct pv_vm_config cfg = { .ram_size = 16u << 20, .backend = v->b, .cmdline = v->cmd,
					    .console = capture, .console_opaque = v };

		v->others = vs;
		v->nothers = n;
		cr_assert_eq(pv_vm_create(&cfg, &v->vm), 0, "%s", pv_last_error());
		cr_assert_eq(pv_vm_load_elf(v->vm, v->elf), 0, "%s", pv_vm_error(v->vm));
		if (v->echo)
			cr_assert_eq(echo_attach(v->vm, &v->eo, &v->e), 0);
	}
	if (pair)
		cr_assert_eq(echo_pair_attach(vs[0].vm, vs[1].vm, &p), 0);
	for (unsigned int i = 0; i < n; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, run_one, &vs[i]), 0);
	for (unsigned int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	for (unsigned int i = 0; i < n; i++) {
		struct vmrun *v = &vs[i];

		if (v->e) /* the run has ended: the backend has stopped */
			echo_get_stats(v->e, &v->es);
		if (p)
			echo_pair_phase(p, i, &v->ph);
		snprintf(v->err, sizeof(v->err), "%s", pv_vm_error(v->vm));
		pv_vm_stats(v->vm, -1, &v->st);
		v->e = NULL;
		pv_vm_destroy(v->vm); /* and its devices */
		v->vm = NULL;
	}
}

static unsigned long field(const char *out, const char *name)
{
	const char *s = strstr(out, name);

	cr_assert(s, "no %s in: %s", name, out);
	return strtoul(s + strlen(name), NULL, 10);
}

/* ---- pingpong ----------------------------------------------------------- */

#define N 2000ul
#define WARMUP 32ul /* pingpong's default */

static void pingpong(enum pv_backend b, bool poll)
{
	static struct vmrun v;
	const struct pv_stats *ph = &v.es.phase.st;
	unsigned long bells, blocks;

	memset(&v, 0, sizeof(v));
	v.b = b;
	v.elf = GUEST("pingpong");
	v.echo = true;
	v.eo.poll = poll;
	snprintf(v.cmd, sizeof(v.cmd), "%lu%s", N, poll ? "" : " nopoll");
	run_vms(&v, 1, false);

	cr_assert_eq(v.r, 0, "%s\n%s", v.err, v.out);
	cr_assert_eq(v.status, 0, "%s", v.out);
	cr_assert(strstr(v.out, "pingpong ok messages=2000 warmup=32 "), "%s", v.out);
	cr_assert_eq(v.es.requests, N + WARMUP, "every request reached the backend once: %llu",
		     (unsigned long long)v.es.requests);
	cr_assert_eq(v.es.bad, 0);
	cr_assert_eq(v.es.state, 0, "backend state %d: %s", v.es.state, v.es.why);
	cr_assert(v.es.phase.done, "the guest marked its phase");

	/* The host's exact counts match what the guest did in the phase. */
	bells = field(v.out, " doorbells=");
	blocks = field(v.out, " blocks=");
	cr_assert_eq(ph->exits[PV_EXIT_DOORBELL], bells, "doorbells: host %llu, guest %lu",
		     (unsigned long long)ph->exits[PV_EXIT_DOORBELL], bells);
	cr_assert_eq(ph->hypercalls[PV_HC_BLOCK], blocks, "blocks: host %llu, guest %lu",
		     (unsigned long long)ph->hypercalls[PV_HC_BLOCK], blocks);
	/* Nothing traps in the phase but doorbells and blocks. */
	cr_assert_eq(ph->exits_total, bells + blocks, "phase exits %llu = %lu doorbells + %lu blocks",
		     (unsigned long long)ph->exits_total, bells, blocks);
	cr_assert_leq(bells, N);
	cr_assert_leq(blocks, N);
	if (!poll) {
		/* Suppression still works: a doorbell only when the backend sleeps,
		 * which with polling off is nearly every message. */
		cr_assert_gt(bells, 0);
		cr_assert_leq(ph->exits_total, 2 * N);
	}
}

BACKEND_TEST(ring_guest, pingpong_with_polling_on, .timeout = 120) { pingpong(b, true); }
BACKEND_TEST(ring_guest, pingpong_without_polling_on, .timeout = 120) { pingpong(b, false); }

/* ---- vm2vm -------------------------------------------------------------- */

static void vm2vm(enum pv_backend ba, enum pv_backend bb)
{
	static struct vmrun v[2];
	unsigned long n = 1000;

	memset(v, 0, sizeof(v));
	v[0].b = ba;
	v[1].b = bb;
	v[0].elf = v[1].elf = GUEST("vm2vm");
	snprintf(v[0].cmd, sizeof(v[0].cmd), "a %lu", n);
	snprintf(v[1].cmd, sizeof(v[1].cmd), "b %lu", n);
	run_vms(v, 2, true);

	for (int i = 0; i < 2; i++) {
		cr_assert_eq(v[i].r, 0, "VM %d: %s\n%s\n%s", i, v[i].err, v[0].out, v[1].out);
		cr_assert_eq(v[i].status, 0, "VM %d:\n%s\n%s", i, v[0].out, v[1].out);
		cr_assert(v[i].ph.done);
	}
	cr_assert(strstr(v[0].out, "vm2vm a ok messages=1000 "), "%s", v[0].out);
	cr_assert(strstr(v[1].out, "vm2vm b ok messages=1000 "), "%s", v[1].out);
	/* The data path is grant copies and events: per message, B copies the
	 * request out and the response in, each side sends once. */
	cr_assert_eq(v[1].ph.st.hypercalls[PV_HC_GRANT_COPY], 2 * n + field(v[1].out, " spurious="),
		     "B copies: %llu", (unsigned long long)v[1].ph.st.hypercalls[PV_HC_GRANT_COPY]);
	cr_assert_eq(v[0].ph.st.hypercalls[PV_HC_EVTCHN_SEND], n);
	cr_assert_eq(v[1].ph.st.hypercalls[PV_HC_EVTCHN_SEND], n);
	cr_assert_eq(v[0].ph.st.hypercalls[PV_HC_GRANT_COPY], 0);
	/* A blocks about once a message (a late event can wake it once more). */
	cr_assert_leq(v[0].ph.st.hypercalls[PV_HC_BLOCK], 2 * n);
	/* No port I/O on the data path (the marks are not counted). */
	cr_assert_eq(v[0].ph.st.exits[PV_EXIT_PIO] + v[1].ph.st.exits[PV_EXIT_PIO], 0);
	cr_assert_eq(v[0].ph.st.exits[PV_EXIT_DOORBELL] + v[1].ph.st.exits[PV_EXIT_DOORBELL], 0);
}

BACKEND_TEST(ring_guest, vm2vm_through_grants_on, .timeout = 120) { vm2vm(b, b); }

/* one VM on each backend: needs both */
Test(ring_guest, vm2vm_between_kvm_and_emu, .timeout = 120)
{
	REQUIRE_BACKEND(PV_BACKEND_KVM);
	REQUIRE_BACKEND(PV_BACKEND_EMU);
	vm2vm(PV_BACKEND_KVM, PV_BACKEND_EMU);
}

/* ---- a hostile frontend ------------------------------------------------- */

static void hostile(enum pv_backend b, bool poll)
{
	static struct vmrun v[2];

	memset(v, 0, sizeof(v));
	for (int i = 0; i < 2; i++) {
		v[i].b = b;
		v[i].elf = GUEST("pingpong");
		v[i].echo = true;
		v[i].eo.poll = poll;
	}
	snprintf(v[0].cmd, sizeof(v[0].cmd), "0 hostile");
	snprintf(v[1].cmd, sizeof(v[1].cmd), "500%s", poll ? "" : " nopoll");
	run_vms(v, 2, false);

	/* The hostile guest sees its ring declared broken (EPROTO in the
	 * backend's index line, EPIPE for its own view), and can revoke the
	 * grant the backend let go of. */
	cr_assert_eq(v[0].r, 0, "%s\n%s", v[0].err, v[0].out);
	cr_assert_eq(v[0].status, 0, "%s", v[0].out);
	cr_assert(strstr(v[0].out, "hostile: state=-71 ring_error=71 space=-32\n"), "%s", v[0].out);
	cr_assert(strstr(v[0].out, "hostile: grant_end=0\n"), "%s", v[0].out);
	cr_assert_eq(v[0].es.state, -EPROTO);
	cr_assert(strstr(v[0].es.why, "request producer index"), "%s", v[0].es.why);
	cr_assert_eq(v[0].es.requests, 0);
	/* The other VM's echo never noticed. */
	cr_assert_eq(v[1].r, 0, "%s\n%s", v[1].err, v[1].out);
	cr_assert_eq(v[1].status, 0, "%s", v[1].out);
	cr_assert(strstr(v[1].out, "pingpong ok messages=500 "), "%s", v[1].out);
	cr_assert_eq(v[1].es.state, 0, "%s", v[1].es.why);
	cr_assert_eq(v[1].es.requests, 500 + WARMUP);
}

BACKEND_TEST(ring_guest, broken_producer_index_stops_only_that_backend_on, .timeout = 120) { hostile(b, true); }

/* emu only: what this adds to the case above is the echo backend sleeping
 * between requests, host code that is the same whichever backend runs the
 * guests. */
Test(ring_guest, broken_producer_index_with_a_sleeping_backend_on_emu, .timeout = 120)
{
	REQUIRE_BACKEND(PV_BACKEND_EMU);
	hostile(PV_BACKEND_EMU, false);
}

/* ---- the config device refuses bad rings --------------------------------- */

Test(ring_guest, echo_backend_needs_a_connect_before_it_runs)
{
	static struct vmrun v;

	REQUIRE_BACKEND(PV_BACKEND_EMU);
	memset(&v, 0, sizeof(v));
	v.b = PV_BACKEND_EMU;
	v.elf = GUEST("hello"); /* never connects */
	v.echo = true;
	v.eo.poll = true;
	run_vms(&v, 1, false);
	cr_assert_eq(v.r, 0, "%s", v.err);
	cr_assert_eq(v.es.state, -ENOTCONN);
	cr_assert_eq(v.es.requests, 0);
	cr_assert(!v.es.phase.started);
}
