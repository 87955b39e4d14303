/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every example guest boots and behaves on each backend. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

BACKEND_TEST(guests, hello_on)
{
	struct run r;
	char want[128];

	run_guest(b, GUEST("hello"), NULL, &r);
	cr_assert_eq(r.r, 0, "%s: %s", backend_name(b), r.err);
	cr_assert_eq(r.status, 0);
	snprintf(want, sizeof(want), "Hello from a libpv guest (ABI v1, domain %u, 16 MiB RAM, 1 vCPU)\n", r.domid);
	cr_assert_str_eq(r.out, want);
	/* One line is one console hypercall; then the exit. */
	cr_assert_eq(r.st.hypercalls[PV_HC_CONSOLE_WRITE], 1);
	cr_assert_eq(r.st.hypercalls[PV_HC_EXIT], 1);
	cr_assert_eq(r.st.exits_total, 2);
	cr_assert(r.st.startup_ns > 0);
}

/* The boot information's TSC frequency agrees with the monitor's clock. */
BACKEND_TEST(guests, tsc_khz_on)
{
	struct run r;
	unsigned int khz = 0;
	unsigned long long err = ~0ull;

	run_guest(b, TEST_GUEST("clock"), NULL, &r);
	cr_assert_eq(r.r, 0, "%s", r.err);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(sscanf(r.out, "tsc_khz=%u err_ppm=%llu", &khz, &err), 2, "%s", r.out);
	cr_assert_gt(khz, 100000, "tsc_khz=%u: a TSC slower than 100 MHz", khz);
	cr_assert_lt(err, 20000, "tsc_khz=%u is %llu ppm off what the guest measured", khz, err);
}

BACKEND_TEST(guests, exitcode_on)
{
	static const char *const args[] = { "0", "1", "42", "255", "256" };
	static const int want[] = { 0, 1, 42, 255, 0 };

	for (unsigned int i = 0; i < 5; i++) {
		struct run r;
		struct run_opts o = { .cmdline = args[i] };

		run_guest(b, GUEST("exitcode"), &o, &r);
		cr_assert_eq(r.r, 0, "%s", r.err);
		cr_assert_eq(r.status, want[i], "exitcode %s gave %d", args[i], r.status);
	}
}

BACKEND_TEST(guests, compute_on)
{
	struct run r;
	struct run_opts o = { .cmdline = "10000" };

	run_guest(b, GUEST("compute"), &o, &r);
	cr_assert_eq(r.r, 0, "%s", r.err);
	/* 1229 primes below 10^4; the checksum is a hash of all of them in order. */
	cr_assert(strstr(r.out, "primes below 10000: 1229 ") != NULL, "got: %s", r.out);
	cr_assert_eq(r.st.exits_total, 2, "compute traps only to print and exit");
}

static void check_fault(enum pv_backend b, const char *how, const char *want)
{
	struct run r;
	struct run_opts o = { .cmdline = how };

	run_guest(b, GUEST("fault"), &o, &r);
	cr_assert_eq(r.r, -EFAULT, "fault %s: r=%d (%s)", how, r.r, r.err);
	cr_assert(strstr(r.err, want) != NULL, "fault %s: '%s' lacks '%s'", how, r.err, want);
	cr_assert(strstr(r.err, "rip 0x10") != NULL, "fault %s: '%s' names no guest RIP", how, r.err);
	cr_assert(strstr(r.out, "survived") == NULL);
	cr_assert_eq(r.st.exits[PV_EXIT_FAULT], 1);
}

BACKEND_TEST(guests, faults_are_reported_on)
{
	check_fault(b, "ud2", "#UD invalid opcode");
	check_fault(b, "null", "NULL page access at 0x10");
	check_fault(b, "outside", "access outside guest RAM: read at 0x1001000");
	check_fault(b, "div0", "#DE divide error");
	/* what KVM raises, emu too (issue 15 item 6) */
	check_fault(b, "efer-lme", "#GP general protection (vector 13)");
	if (!getenv("PV_TEST_KVM_ON_TCG")) /* QEMU TCG's FXRSTOR takes any MXCSR */
		check_fault(b, "fxrstor-mxcsr", "#GP general protection (vector 13)");
}

/* The same system instructions with values KVM accepts do not fault. */
BACKEND_TEST(guests, allowed_system_instructions_run_on)
{
	struct run r;
	struct run_opts o = { .cmdline = "sysinsn-ok" };

	run_guest(b, GUEST("fault"), &o, &r);
	cr_assert_eq(r.r, 0, "%s\n%s", r.err, r.out);
	cr_assert(strstr(r.out, "fault: survived 'sysinsn-ok'"), "%s", r.out);
}

Test(guests, highmem_hypercall_args_are_64_bit)
{
	enum pv_backend bs[] = { PV_BACKEND_EMU, PV_BACKEND_KVM };

	for (int i = 0; i < 2; i++) {
		struct run r;
		struct run_opts o = { .mem = 6ull << 30 };
		char why[200];

		if (!backend_usable(bs[i], why, sizeof(why)))
			continue;
		run_guest(bs[i], TEST_GUEST("highmem"), &o, &r);
		cr_assert_eq(r.r, 0, "%s: %s", backend_name(bs[i]), r.err);
		cr_assert_eq(r.status, 0);
		cr_assert_str_eq(r.out, "written at 5 GiB\n");
	}
}

/* cpu_ns is the CPU time of the vCPU threads: about the run time for a
 * guest that computes, far less for one that sleeps in PV_HC_BLOCK; the
 * VM's figure is the sum of its vCPUs'. */
BACKEND_TEST(guests, cpu_time_is_the_vcpu_threads_on)
{
	struct run r;
	struct run_opts busy = { .cmdline = b == PV_BACKEND_KVM ? "20000" : "1000000" };
	struct run_opts idle = { .cmdline = "300" };

	run_guest(b, GUEST("compute"), &busy, &r);
	cr_assert_eq(r.r, 0, "%s", r.err);
	cr_assert_gt(r.st.cpu_ns, 0);
	/* a thread that lives within the run cannot use more CPU than that (+10 ms) */
	cr_assert_leq(r.st.cpu_ns, r.st.startup_ns + r.st.run_ns + 10000000ull, "cpu %llu ns, run %llu ns",
		      (unsigned long long)r.st.cpu_ns, (unsigned long long)r.st.run_ns);
	run_guest(b, TEST_GUEST("sleep"), &idle, &r);
	cr_assert_eq(r.r, 0, "%s", r.err);
	cr_assert_geq(r.st.run_ns, 300000000ull);
	cr_assert_lt(r.st.cpu_ns, r.st.run_ns / 3, "cpu %llu ns while sleeping %llu ns",
		     (unsigned long long)r.st.cpu_ns, (unsigned long long)r.st.run_ns);
}
