/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvbench --device cpu: per backend, each compute workload of cpuwork.h in
 * a guest (examples/guests/cpubench.c) against the same C code run natively
 * in the same process right after it, the best of --count repetitions each
 * (default 5 on emu, 1 on kvm).  The guest times itself with PV_HC_TIME, so VM set-up is not
 * counted; checksums must match.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "bench_cpu.h"

static const char *const workloads[] = { "sieve", "stores", "branchy" };

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void cpu_header(const struct bench_opts *o)
{
	(void)o;
	printf("%-8s %-8s %12s %12s %8s\n", "backend", "workload", "guest_ms", "native_ms", "ratio");
}

static int run_guest(enum pv_backend b, const char *cmdline, struct bench_console *c)
{
	struct pv_vm_config cfg = { .ram_size = 16u << 20, .backend = b, .cmdline = cmdline,
				    .console = bench_console, .console_opaque = c };
	char path[512];
	struct pv_vm *vm;
	int r, status = 0;

	r = pv_vm_create(&cfg, &vm);
	if (r < 0) {
		fprintf(stderr, "pvbench: %s\n", pv_last_error());
		return r;
	}
	r = pv_vm_load_elf(vm, bench_guest_path("cpubench", path, sizeof(path)));
	if (r == 0)
		r = pv_vm_run(vm, &status);
	if (r < 0)
		fprintf(stderr, "pvbench: %s: %s\n", path, pv_vm_error(vm));
	else if (status)
		fprintf(stderr, "pvbench: %s exited with %d: %s", path, status, c->buf), r = -1;
	pv_vm_destroy(vm);
	return r;
}

static int cpu_run(enum pv_backend b, const struct bench_opts *o)
{
	/* kvm_pvm emulates guest kernel code: one repetition there takes minutes. */
	unsigned long long reps = o->count ? o->count : b == PV_BACKEND_KVM ? 1 : 5;
	const char *name = bench_backend_name(b);

	for (int w = 0; w < 3; w++) {
		struct bench_console c = { .len = 0 };
		unsigned long long guest_ns, native_ns = ~0ull;
		unsigned long gsum, nsum = 0;
		char cmd[48], want[32];
		double ratio;

		snprintf(cmd, sizeof(cmd), "%s %llu", workloads[w], reps);
		if (run_guest(b, cmd, &c) < 0)
			return -1;
		snprintf(want, sizeof(want), "cpubench %s ns=", workloads[w]);
		if (strncmp(c.buf, want, strlen(want)) ||
		    sscanf(c.buf + strlen(want), "%llu sum=%lx", &guest_ns, &gsum) != 2) {
			fprintf(stderr, "pvbench: unexpected cpubench output: %s", c.buf);
			return -1;
		}
		for (unsigned long long r = 0; r < reps; r++) {
			unsigned long long t0, t;

			bench_cpu_native_prepare(w);
			t0 = now_ns();
			nsum = bench_cpu_native(w);
			t = now_ns() - t0;
			if (t < native_ns)
				native_ns = t;
		}
		if (gsum != nsum) {
			fprintf(stderr, "pvbench: %s on %s: checksum %lx, native %lx\n", workloads[w], name, gsum, nsum);
			return -1;
		}
		ratio = native_ns ? (double)guest_ns / (double)native_ns : 0;
		if (o->json)
			printf("{\"device\":\"cpu\",\"backend\":\"%s\",\"workload\":\"%s\",\"reps\":%llu,"
			       "\"guest_ns\":%llu,\"native_ns\":%llu,\"ratio\":%.3f}\n",
			       name, workloads[w], reps, guest_ns, native_ns, ratio);
		else
			printf("%-8s %-8s %12.3f %12.3f %8.2f\n", name, workloads[w], guest_ns / 1e6, native_ns / 1e6,
			       ratio);
		fflush(stdout);
	}
	return 0;
}

const struct bench_device bench_cpu = { "cpu", cpu_header, cpu_run };
