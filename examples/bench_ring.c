/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvbench --device ring: round trips over shared memory.
 *
 *   pingpong         examples/guests/pingpong against the host echo backend
 *                    (echo.c), adaptive polling on both sides
 *   pingpong-nopoll  the same with polling off on both sides: every message
 *                    costs one doorbell and one block, nothing more
 *   vm2vm-pingpong   two vm2vm guests in this process, through a grant and
 *                    an event channel (grant-copy and event hypercalls)
 *
 * Exit counts are the headline: every trap of the measured phase (the
 * guests mark it on their config devices), userspace exits and in-kernel
 * doorbells alike, divided by the number of messages.  ns_per_message is
 * the host time of that phase per message.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "echo.h"

#define RING_DEFAULT_EMU 20000ull
#define RING_DEFAULT_KVM 2000ull  /* guest kernel code is emulated by kvm_pvm here: ~0.5 ms a message */
#define RUN_TIMEOUT_S    300

struct row {
	const char *workload;
	unsigned long long messages;
	struct pv_stats st; /* exits of the measured phase, every VM */
	uint64_t ns;        /* measured phase */
};

static void ring_header(const struct bench_opts *o)
{
	(void)o;
	printf("%-16s %-8s %10s %18s %22s %15s %12s\n", "workload", "backend", "messages", "exits_per_message",
	       "doorbells_per_message", "ns_per_message", "exits_total");
}

static void print_row(enum pv_backend b, const struct bench_opts *o, const struct row *r)
{
	double n = (double)r->messages;
	double exits = (double)r->st.exits_total / n, bells = (double)r->st.exits[PV_EXIT_DOORBELL] / n;
	double ns = (double)r->ns / n;

	if (o->json)
		printf("{\"device\":\"ring\",\"workload\":\"%s\",\"backend\":\"%s\",\"messages\":%llu,"
		       "\"exits_per_message\":%.4f,\"doorbells_per_message\":%.4f,\"ns_per_message\":%.1f,"
		       "\"exits_total\":%llu,\"hypercalls_total\":%llu}\n",
		       r->workload, bench_backend_name(b), r->messages, exits, bells, ns,
		       (unsigned long long)r->st.exits_total, (unsigned long long)r->st.exits[PV_EXIT_HYPERCALL]);
	else
		printf("%-16s %-8s %10llu %18.4f %22.4f %15.1f %12llu\n", r->workload, bench_backend_name(b), r->messages,
		       exits, bells, ns, (unsigned long long)r->st.exits_total);
	fflush(stdout);
}

/* ---- running VMs with a watchdog ---------------------------------------- */

struct runner {
	struct pv_vm *vm;
	int r, status;
	pthread_t thread;
	struct runners *all;
};

struct runners {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int n, done;
	struct runner *rs;
};

static void *runner_main(void *arg)
{
	struct runner *me = arg;
	struct runners *all = me->all;

	me->r = pv_vm_run(me->vm, &me->status);
	pthread_mutex_lock(&all->lock);
	all->done++;
	if (me->r < 0 || me->status) /* the others would wait for it forever */
		for (unsigned int i = 0; i < all->n; i++)
			if (&all->rs[i] != me)
				pv_vm_stop(all->rs[i].vm);
	pthread_cond_broadcast(&all->cond);
	pthread_mutex_unlock(&all->lock);
	return NULL;
}

/* Run n VMs concurrently, each on its own thread; stop them all after
 * RUN_TIMEOUT_S.  Returns 0 if every guest exited with status 0. */
static int run_vms(struct runner *rs, unsigned int n, const char *what)
{
	struct runners all = { .n = n, .rs = rs };
	struct timespec deadline;
	unsigned int started = 0;
	int r = 0;

	pthread_mutex_init(&all.lock, NULL);
	pthread_cond_init(&all.cond, NULL);
	for (unsigned int i = 0; i < n; i++) {
		rs[i].all = &all;
		rs[i].r = -EINTR;
		if (pthread_create(&rs[i].thread, NULL, runner_main, &rs[i]) != 0)
			break;
		started++;
	}
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += RUN_TIMEOUT_S;
	pthread_mutex_lock(&all.lock);
	while (all.done < started)
		if (pthread_cond_timedwait(&all.cond, &all.lock, &deadline) == ETIMEDOUT) {
			fprintf(stderr, "pvbench: %s: no end after %d s, stopping\n", what, RUN_TIMEOUT_S);
			for (unsigned int i = 0; i < n; i++)
				pv_vm_stop(rs[i].vm);
			break;
		}
	pthread_mutex_unlock(&all.lock);
	for (unsigned int i = 0; i < started; i++)
		pthread_join(rs[i].thread, NULL);
	for (unsigned int i = 0; i < n; i++) {
		if (i >= started) {
			fprintf(stderr, "pvbench: %s: cannot start a thread\n", what);
			r = -1;
		} else if (rs[i].r < 0) {
			fprintf(stderr, "pvbench: %s: VM %u: %s\n", what, i, pv_vm_error(rs[i].vm));
			r = -1;
		} else if (rs[i].status) {
			fprintf(stderr, "pvbench: %s: VM %u exited with %d\n", what, i, rs[i].status);
			r = -1;
		}
	}
	pthread_cond_destroy(&all.cond);
	pthread_mutex_destroy(&all.lock);
	return r;
}

static struct pv_vm *make_vm(enum pv_backend b, const char *guest, const char *cmdline, struct bench_console *c)
{
	struct pv_vm_config cfg = { .ram_size = 16u << 20, .backend = b, .cmdline = cmdline,
				    .console = bench_console, .console_opaque = c };
	char path[512];
	struct pv_vm *vm;
	int r;

	r = pv_vm_create(&cfg, &vm);
	if (r < 0) {
		fprintf(stderr, "pvbench: %s\n", pv_last_error());
		return NULL;
	}
	r = pv_vm_load_elf(vm, bench_guest_path(guest, path, sizeof(path)));
	if (r < 0) {
		fprintf(stderr, "pvbench: %s: %s\n", path, pv_vm_error(vm));
		pv_vm_destroy(vm);
		return NULL;
	}
	return vm;
}

static void add_stats(struct pv_stats *sum, const struct pv_stats *st)
{
	sum->exits_total += st->exits_total;
	for (int i = 0; i < PV_EXIT__COUNT; i++)
		sum->exits[i] += st->exits[i];
}

/* ---- workloads ---------------------------------------------------------- */

static int pingpong(enum pv_backend b, unsigned long long n, bool poll, struct row *row)
{
	struct echo_opts eo = { .poll = poll };
	struct bench_console c = { .len = 0 };
	struct runner rs[1] = { { .vm = NULL } };
	struct echo_stats es;
	struct echo *e = NULL;
	unsigned long long got = 0;
	char cmd[64];
	int r;

	snprintf(cmd, sizeof(cmd), "%llu%s", n, poll ? "" : " nopoll");
	rs[0].vm = make_vm(b, "pingpong", cmd, &c);
	if (!rs[0].vm)
		return -1;
	r = echo_attach(rs[0].vm, &eo, &e);
	if (r < 0) {
		fprintf(stderr, "pvbench: echo backend: %s\n", strerror(-r));
		pv_vm_destroy(rs[0].vm);
		return -1;
	}
	r = run_vms(rs, 1, row->workload);
	echo_get_stats(e, &es); /* the run has ended: the backend has stopped */
	if (r == 0 && (sscanf(c.buf, "pingpong ok messages=%llu", &got) != 1 || got != n || !es.phase.done)) {
		fprintf(stderr, "pvbench: %s: unexpected guest output: %s", row->workload, c.buf);
		r = -1;
	}
	if (r < 0 && es.why[0])
		fprintf(stderr, "pvbench: %s: echo backend: %s\n", row->workload, es.why);
	if (r < 0 && c.len)
		fprintf(stderr, "pvbench: %s: guest said: %s", row->workload, c.buf);
	if (r == 0) {
		row->messages = n;
		row->st = es.phase.st;
		row->ns = es.phase.ns;
	}
	pv_vm_destroy(rs[0].vm);
	return r;
}

static int vm2vm(enum pv_backend b, unsigned long long n, struct row *row)
{
	struct bench_console ca = { .len = 0 }, cb = { .len = 0 };
	struct runner rs[2] = { { .vm = NULL }, { .vm = NULL } };
	struct echo_pair *pair = NULL;
	struct echo_phase pa, pb;
	unsigned long long got_a = 0, got_b = 0;
	char cmd_a[64], cmd_b[64];
	int r = -1;

	snprintf(cmd_a, sizeof(cmd_a), "a %llu", n);
	snprintf(cmd_b, sizeof(cmd_b), "b %llu", n);
	rs[0].vm = make_vm(b, "vm2vm", cmd_a, &ca);
	rs[1].vm = rs[0].vm ? make_vm(b, "vm2vm", cmd_b, &cb) : NULL;
	if (rs[1].vm && (r = echo_pair_attach(rs[0].vm, rs[1].vm, &pair)) < 0)
		fprintf(stderr, "pvbench: pair device: %s\n", strerror(-r));
	if (r == 0)
		r = run_vms(rs, 2, row->workload);
	if (r == 0) {
		echo_pair_phase(pair, 0, &pa);
		echo_pair_phase(pair, 1, &pb);
		if (sscanf(ca.buf, "vm2vm a ok messages=%llu", &got_a) != 1 ||
		    sscanf(cb.buf, "vm2vm b ok messages=%llu", &got_b) != 1 || got_a != n || got_b != n || !pa.done ||
		    !pb.done) {
			fprintf(stderr, "pvbench: %s: unexpected guest output: %s%s", row->workload, ca.buf, cb.buf);
			r = -1;
		}
	} else if (rs[1].vm) {
		fprintf(stderr, "pvbench: %s: guests said: %s%s", row->workload, ca.buf, cb.buf);
	}
	if (r == 0) {
		row->messages = n;
		memset(&row->st, 0, sizeof(row->st));
		add_stats(&row->st, &pa.st);
		add_stats(&row->st, &pb.st);
		row->ns = pa.ns;
	}
	pv_vm_destroy(rs[1].vm);
	pv_vm_destroy(rs[0].vm); /* and the pair device */
	return r;
}

static int ring_run(enum pv_backend b, const struct bench_opts *o)
{
	unsigned long long n = o->count ? o->count : b == PV_BACKEND_KVM ? RING_DEFAULT_KVM : RING_DEFAULT_EMU;
	struct row rows[3] = { { .workload = "pingpong" }, { .workload = "pingpong-nopoll" },
			       { .workload = "vm2vm-pingpong" } };
	int failed = 0;

	for (int i = 0; i < 3; i++) {
		int r;

		fflush(stdout); /* the table so far before the progress line */
		if (o->progress)
			fprintf(stderr, "pvbench: ring %s on %s, %llu messages\n", rows[i].workload, bench_backend_name(b),
				n);
		r = i == 2 ? vm2vm(b, n, &rows[i]) : pingpong(b, n, i == 0, &rows[i]);
		if (r < 0)
			failed++;
		else
			print_row(b, o, &rows[i]);
	}
	return failed ? -1 : 0;
}

const struct bench_device bench_ring = { "ring", ring_header, ring_run };
