/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Secondary vCPUs start by hypercall, each on its own thread; a VM whose
 * vCPUs all wait for nothing ends instead of hanging. */
#include <stdio.h>
#include <string.h>

#include "common.h"

static void smp(enum pv_backend b, unsigned int n)
{
	static struct run r;
	struct run_opts o = { .vcpus = n };
	char want[64];
	unsigned long sum = 0;

	REQUIRE_BACKEND(b);
	run_guest(b, TEST_GUEST("smp"), &o, &r);
	cr_assert_eq(r.r, 0, "%s", r.err);
	for (unsigned int i = 1; i < n; i++)
		sum += i * 10;
	snprintf(want, sizeof(want), "vcpus=%u sum=%lu\n", n, sum);
	cr_assert(strstr(r.out, want), "%s", r.out);
	cr_assert(strstr(r.out, n > 1 ? "again=-16\n" : "again=0\n"), "%s", r.out);
	cr_assert_eq(r.st.hypercalls[PV_HC_VCPU_UP], n > 1 ? n : 0);
}

Test(smp, four_vcpus_on_emu) { smp(PV_BACKEND_EMU, 4); }
Test(smp, four_vcpus_on_kvm) { smp(PV_BACKEND_KVM, 4); }
Test(smp, one_vcpu_on_emu) { smp(PV_BACKEND_EMU, 1); }

static void halt_forever(enum pv_backend b)
{
	struct run r;
	struct run_opts o = { .cmdline = "hlt", .vcpus = 2 };

	REQUIRE_BACKEND(b);
	run_guest(b, TEST_GUEST("smp"), &o, &r);
	cr_assert_eq(r.r, -EFAULT, "%s", r.err);
	cr_assert(strstr(r.err, "deadlock"), "%s", r.err);
	cr_assert_eq(r.st.exits[PV_EXIT_HLT], 1);
	cr_assert(strstr(r.out, "woke up") == NULL);
}

Test(smp, halt_with_nothing_to_wake_ends_the_vm_on_emu, .timeout = 30) { halt_forever(PV_BACKEND_EMU); }
Test(smp, halt_with_nothing_to_wake_ends_the_vm_on_kvm, .timeout = 30) { halt_forever(PV_BACKEND_KVM); }
