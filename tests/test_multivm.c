/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Several VMs in one process run concurrently, each isolated. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

struct job {
	enum pv_backend b;
	uint64_t mem;
	char cmd[64];
	struct run r;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	struct run_opts o = { .cmdline = j->cmd, .mem = j->mem };

	run_guest(j->b, TEST_GUEST("multivm"), &o, &j->r);
	return NULL;
}

static void two_vms(enum pv_backend ba, enum pv_backend bb)
{
	static struct job a, b;
	pthread_t ta, tb;
	char want[64];

	REQUIRE_BACKEND(ba);
	REQUIRE_BACKEND(bb);
	/* A has 16 MiB and probes 20 MiB, inside B's RAM; B has 32 MiB and
	 * probes 40 MiB.  Neither may see the other's bytes. */
	a = (struct job){ .b = ba, .mem = 16u << 20 };
	b = (struct job){ .b = bb, .mem = 32u << 20 };
	snprintf(a.cmd, sizeof(a.cmd), "170 0x%x", 20u << 20);
	snprintf(b.cmd, sizeof(b.cmd), "85 0x%x", 40u << 20);
	cr_assert_eq(pthread_create(&ta, NULL, run_job, &a), 0);
	cr_assert_eq(pthread_create(&tb, NULL, run_job, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);

	cr_assert_neq(a.r.domid, b.r.domid);
	cr_assert(strstr(a.r.out, "secret 170\n") && strstr(b.r.out, "secret 85\n"), "%s\n%s", a.r.out, b.r.out);
	cr_assert(strstr(a.r.out, "console_probe=-14\n"), "A reached B's memory: %s", a.r.out);
	cr_assert(strstr(b.r.out, "console_probe=-14\n"), "B: %s", b.r.out);
	/* 50 rounds over 16 pages of the VM's own pattern. */
	snprintf(want, sizeof(want), "sum=%lu\n", 50ul * 16 * 170);
	cr_assert(strstr(a.r.out, want), "A: %s", a.r.out);
	snprintf(want, sizeof(want), "sum=%lu\n", 50ul * 16 * 85);
	cr_assert(strstr(b.r.out, want), "B: %s", b.r.out);
	/* The direct read of the other VM's range ends each VM with a fault. */
	cr_assert_eq(a.r.r, -EFAULT, "A: %s", a.r.err);
	cr_assert(strstr(a.r.err, "access outside guest RAM: read at 0x1400000"), "A: %s", a.r.err);
	cr_assert_eq(b.r.r, -EFAULT, "B: %s", b.r.err);
	cr_assert(strstr(b.r.err, "access outside guest RAM: read at 0x2800000"), "B: %s", b.r.err);
}

/* Hand-written, not BACKEND_TEST: these names carry the backend in the
 * middle (the suite has always listed them so), and the third mixes two. */
Test(multivm, two_emu_vms_run_concurrently_and_isolated) { two_vms(PV_BACKEND_EMU, PV_BACKEND_EMU); }
Test(multivm, two_kvm_vms_run_concurrently_and_isolated) { two_vms(PV_BACKEND_KVM, PV_BACKEND_KVM); }
Test(multivm, kvm_and_emu_vms_side_by_side) { two_vms(PV_BACKEND_KVM, PV_BACKEND_EMU); }

Test(multivm, a_faulting_vm_leaves_the_other_running)
{
	struct run bad, good;
	struct run_opts o = { .cmdline = "ud2" }, c = { .cmdline = "3000" };

	REQUIRE_BACKEND(PV_BACKEND_EMU);
	run_guest(PV_BACKEND_EMU, GUEST("fault"), &o, &bad);
	run_guest(PV_BACKEND_EMU, GUEST("compute"), &c, &good);
	cr_assert_eq(bad.r, -EFAULT);
	cr_assert_eq(good.r, 0, "%s", good.err);
	cr_assert(strstr(good.out, "primes below 3000: 430 "), "%s", good.out);
}
