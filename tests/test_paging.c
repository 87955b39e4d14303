/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guests with their own page tables (<pv/abi/core.h>, "Paging"): the
 * higherhalf example guest builds a PML4 that maps its kernel at
 * 0xffffffff80200000 and leaves its physical addresses unmapped, loads CR3
 * and runs there.  Both backends run it the same way, and a page fault in it
 * names the access, the address and the RIP in the higher half.  On the
 * emulation backend this needs Unicorn 2.1 (2.0 ignores page tables).
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define KERNEL_RIP "(rip 0xffffffff802"

static void run_hh(enum pv_backend b, const char *cmdline, struct run *r)
{
	struct run_opts o = { .cmdline = cmdline };

	if (b == PV_BACKEND_EMU && emu_on_unicorn20())
		cr_skip_test("Unicorn 2.0 ignores guest page tables (2.1 does not: scripts/unicorn21.sh)");
	run_guest(b, GUEST("higherhalf"), &o, r);
}

BACKEND_TEST(paging, higher_half_kernel_runs)
{
	static struct run r;

	run_hh(b, "", &r);
	cr_assert_eq(r.r, 0, "%d %s\n%s", r.r, r.err, r.out);
	cr_assert_eq(r.status, 0, "%s", r.out);
	cr_assert(strstr(r.out, "kernel at 0xffffffff80200000, cr3 0x"), "%s", r.out);
	cr_assert(strstr(r.out, "9592 primes below 100000\n"), "%s", r.out);
}

/* Its own data through the identity address, which its map leaves out. */
BACKEND_TEST(paging, fault_on_an_unmapped_ram_address)
{
	static struct run r;
	char want[128];
	const char *at;

	run_hh(b, "low", &r);
	cr_assert_lt(r.r, 0, "the guest was to fault\n%s", r.out);
	at = strstr(r.out, "physical address 0x");
	cr_assert_not_null(at, "%s", r.out);
	snprintf(want, sizeof(want), "#PF page fault: read at 0x%llx not mapped by the guest's page tables ",
		 strtoull(at + 17, NULL, 16));
	cr_assert(strstr(r.err, want), "'%s' lacks '%s'", r.err, want);
	cr_assert(strstr(r.err, KERNEL_RIP), "%s", r.err);
	cr_assert_null(strstr(r.out, "survived"), "%s", r.out);
}

BACKEND_TEST(paging, fault_above_the_kernel_map)
{
	static struct run r;

	run_hh(b, "high", &r);
	cr_assert_lt(r.r, 0, "the guest was to fault\n%s", r.out);
	cr_assert(strstr(r.err, "#PF page fault: write at 0xffffffffc0000000 not mapped by the guest's page tables "),
		  "%s", r.err);
	cr_assert(strstr(r.err, KERNEL_RIP), "%s", r.err);
}

/* Same console, same message (same RIP), same exits by reason. */
static void same_on_both(const char *cmdline)
{
	static struct run e, k;

	REQUIRE_BACKEND(PV_BACKEND_EMU);
	REQUIRE_BACKEND(PV_BACKEND_KVM);
	run_hh(PV_BACKEND_EMU, cmdline, &e);
	run_hh(PV_BACKEND_KVM, cmdline, &k);
	cr_assert_eq(e.r, k.r, "result emu %d (%s), kvm %d (%s)", e.r, e.err, k.r, k.err);
	cr_assert_eq(e.status, k.status);
	cr_assert_str_eq(e.out, k.out);
	cr_assert_str_eq(e.err, k.err);
	for (int i = 0; i < PV_EXIT__COUNT; i++)
		cr_assert_eq(e.st.exits[i], k.st.exits[i], "%s exits: emu %llu, kvm %llu", pv_exit_reason_name(i),
			     (unsigned long long)e.st.exits[i], (unsigned long long)k.st.exits[i]);
}

Test(paging, same_on_both_backends_run) { same_on_both(""); }
Test(paging, same_on_both_backends_low_fault) { same_on_both("low"); }
Test(paging, same_on_both_backends_high_fault) { same_on_both("high"); }
