/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Secondary vCPUs start by hypercall, each on its own thread; a VM whose
 * vCPUs all wait for nothing ends instead of hanging. */
#include <stdio.h>
#include <string.h>

#include "common.h"

/* After the run: the VM's CPU time and the sum of its vCPUs'. */
struct cpu_sum {
	uint64_t vm, sum;
};

static void cpu_after(struct pv_vm *vm, void *opaque)
{
	struct cpu_sum *c = opaque;
	struct pv_stats st;

	cr_assert_eq(pv_vm_stats(vm, -1, &st), 0);
	c->vm = st.cpu_ns;
	for (unsigned int i = 0; i < pv_vm_vcpus(vm); i++) {
		cr_assert_eq(pv_vm_stats(vm, (int)i, &st), 0);
		cr_assert_gt(st.cpu_ns, 0, "vCPU %u used no CPU time", i);
		c->sum += st.cpu_ns;
	}
}

static void smp(enum pv_backend b, unsigned int n)
{
	static struct run r;
	struct cpu_sum cpu = { 0, 0 };
	struct run_opts o = { .vcpus = n, .after = cpu_after, .opaque = &cpu };
	char want[64];
	unsigned long sum = 0;

	run_guest(b, TEST_GUEST("smp"), &o, &r);
	cr_assert_eq(r.r, 0, "%s", r.err);
	for (unsigned int i = 1; i < n; i++)
		sum += i * 10;
	snprintf(want, sizeof(want), "vcpus=%u sum=%lu\n", n, sum);
	cr_assert(strstr(r.out, want), "%s", r.out);
	cr_assert(strstr(r.out, n > 1 ? "again=-16\n" : "again=0\n"), "%s", r.out);
	cr_assert_eq(r.st.hypercalls[PV_HC_VCPU_UP], n > 1 ? n : 0);
	cr_assert_eq(cpu.vm, cpu.sum, "VM cpu_ns %llu, vCPUs' sum %llu", (unsigned long long)cpu.vm,
		     (unsigned long long)cpu.sum);
}

BACKEND_TEST(smp, four_vcpus_on) { smp(b, 4); }

/* emu only: the smp guest's single-vCPU path (no VCPU_UP) is the
 * hypercall layer's, not the CPU backend's, and every other guest test
 * runs one vCPU on both backends. */
Test(smp, one_vcpu_on_emu)
{
	REQUIRE_BACKEND(PV_BACKEND_EMU);
	smp(PV_BACKEND_EMU, 1);
}

BACKEND_TEST(smp, halt_with_nothing_to_wake_ends_the_vm_on, .timeout = 30)
{
	struct run r;
	struct run_opts o = { .cmdline = "hlt", .vcpus = 2 };

	run_guest(b, TEST_GUEST("smp"), &o, &r);
	cr_assert_eq(r.r, -EFAULT, "%s", r.err);
	cr_assert(strstr(r.err, "deadlock"), "%s", r.err);
	cr_assert_eq(r.st.exits[PV_EXIT_HLT], 1);
	cr_assert(strstr(r.out, "woke up") == NULL);
}
