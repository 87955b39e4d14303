/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvbench --device cpu: per backend, each compute workload of cpuwork.h in
 * a guest (examples/guests/cpubench.c) against the same C code run natively
 * in the same process right after it, the best of --count repetitions each
 * (default 5 on emu, 1 on kvm).  The guest times itself with PV_HC_TIME, so VM set-up is not
 * counted; checksums must match.
 *
 * Wall time on a loaded machine mostly measures the scheduler, so each row
 * also gives CPU time: the process's CPU time over a run of REPS
 * repetitions less that of a run of one, per repetition (set-up and
 * translation cancel out), against the native loop's thread CPU time per
 * repetition (cpu_ratio).
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench.h"
#include "bench_cpu.h"

static const char *const workloads[] = { "sieve", "stores", "branchy" };

static unsigned long long clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/* User and system CPU time of every thread of the process. */
static unsigned long long process_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((unsigned long long)ru.ru_utime.tv_sec + (unsigned long long)ru.ru_stime.tv_sec) * 1000000000ull +
	       ((unsigned long long)ru.ru_utime.tv_usec + (unsigned long long)ru.ru_stime.tv_usec) * 1000ull;
}

static void cpu_header(const struct bench_opts *o)
{
	(void)o;
	printf("%-8s %-8s %10s %10s %7s %10s %10s %9s\n", "backend", "workload", "guest_ms", "native_ms", "ratio",
	       "guest_cpu", "native_cpu", "cpu_ratio");
}

/* Run cpubench with cmdline; *cpu_ns gets the process CPU time it took. */
static int run_guest(enum pv_backend b, const char *cmdline, struct bench_console *c, unsigned long long *cpu_ns)
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
	*cpu_ns = process_cpu_ns();
	if (r == 0)
		r = pv_vm_run(vm, &status);
	*cpu_ns = process_cpu_ns() - *cpu_ns;
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
		struct bench_console c = { .len = 0 }, c1 = { .len = 0 };
		unsigned long long guest_ns, native_ns = ~0ull, cpu1 = 0, cpun, native_cpu = 0, guest_cpu;
		unsigned long gsum, nsum = 0;
		char cmd[48], want[32];
		double ratio, cpu_ratio;

		snprintf(cmd, sizeof(cmd), "%s 1", workloads[w]);
		if (reps > 1 && run_guest(b, cmd, &c1, &cpu1) < 0)
			return -1;
		snprintf(cmd, sizeof(cmd), "%s %llu", workloads[w], reps);
		if (run_guest(b, cmd, &c, &cpun) < 0)
			return -1;
		guest_cpu = reps > 1 ? (cpun > cpu1 ? cpun - cpu1 : 0) / (reps - 1) : cpun;
		snprintf(want, sizeof(want), "cpubench %s ns=", workloads[w]);
		if (strncmp(c.buf, want, strlen(want)) ||
		    sscanf(c.buf + strlen(want), "%llu sum=%lx", &guest_ns, &gsum) != 2) {
			fprintf(stderr, "pvbench: unexpected cpubench output: %s", c.buf);
			return -1;
		}
		for (unsigned long long r = 0; r < reps; r++) {
			unsigned long long t0, c0, t;

			bench_cpu_native_prepare(w);
			c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
			t0 = clock_ns(CLOCK_MONOTONIC);
			nsum = bench_cpu_native(w);
			t = clock_ns(CLOCK_MONOTONIC) - t0;
			native_cpu += clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
			if (t < native_ns)
				native_ns = t;
		}
		if (gsum != nsum) {
			fprintf(stderr, "pvbench: %s on %s: checksum %lx, native %lx\n", workloads[w], name, gsum, nsum);
			return -1;
		}
		native_cpu /= reps;
		ratio = native_ns ? (double)guest_ns / (double)native_ns : 0;
		cpu_ratio = native_cpu ? (double)guest_cpu / (double)native_cpu : 0;
		if (o->json)
			printf("{\"device\":\"cpu\",\"backend\":\"%s\",\"workload\":\"%s\",\"reps\":%llu,"
			       "\"guest_ns\":%llu,\"native_ns\":%llu,\"ratio\":%.3f,"
			       "\"guest_cpu_ns\":%llu,\"native_cpu_ns\":%llu,\"cpu_ratio\":%.3f}\n",
			       name, workloads[w], reps, guest_ns, native_ns, ratio, guest_cpu, native_cpu, cpu_ratio);
		else
			printf("%-8s %-8s %10.3f %10.3f %7.2f %10.3f %10.3f %9.2f\n", name, workloads[w], guest_ns / 1e6,
			       native_ns / 1e6, ratio, guest_cpu / 1e6, native_cpu / 1e6, cpu_ratio);
		fflush(stdout);
	}
	return 0;
}

const struct bench_device bench_cpu = { "cpu", cpu_header, cpu_run };
