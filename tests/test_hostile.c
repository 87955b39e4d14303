/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hostile hypercall arguments get errors; the monitor touches nothing
 * outside the guest's RAM and keeps running. */
#include <stdio.h>
#include <string.h>

#include "common.h"

static long value(const char *out, const char *name)
{
	char key[64];
	const char *p;
	long v;

	snprintf(key, sizeof(key), "\n%s=", name);
	p = strstr(out, key);
	if (!p && !strncmp(out, key + 1, strlen(key + 1)))
		p = out - 1;
	cr_assert(p != NULL, "no %s in output:\n%s", name, out);
	cr_assert_eq(sscanf(p + strlen(key), "%ld", &v), 1);
	return v;
}

BACKEND_TEST(hostile, hypercall_arguments_on)
{
	static struct run r;

	run_guest(b, TEST_GUEST("hostile"), NULL, &r);
	cr_assert_eq(r.r, 0, "%s: %s", backend_name(b), r.err);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(value(r.out, "version"), PV_ABI_VERSION);
	cr_assert_eq(value(r.out, "features0"), PV_F_CONSOLE | PV_F_TIME | PV_F_BLOCK | PV_F_SMP | PV_F_GRANT | PV_F_EVTCHN);
	cr_assert_eq(value(r.out, "features7"), 0);
	cr_assert_eq(value(r.out, "unknown"), PV_ENOSYS);
	cr_assert_eq(value(r.out, "unknown_high"), PV_ENOSYS);
	cr_assert_eq(value(r.out, "upper_rax_ignored"), PV_ABI_VERSION);
	cr_assert_eq(value(r.out, "console_outside"), PV_EFAULT);
	cr_assert_eq(value(r.out, "console_straddle"), PV_EFAULT);
	cr_assert_eq(value(r.out, "console_wrap"), PV_EFAULT);
	cr_assert_eq(value(r.out, "console_wrap2"), PV_E2BIG);
	cr_assert_eq(value(r.out, "console_too_long"), PV_E2BIG);
	cr_assert_eq(value(r.out, "console_empty"), 0);
	cr_assert_eq(value(r.out, "console_last_byte"), 0);
	cr_assert_eq(value(r.out, "block_timeout"), PV_ETIMEDOUT);
	cr_assert_eq(value(r.out, "block_watch_unaligned"), PV_EINVAL);
	cr_assert_eq(value(r.out, "block_watch_outside"), PV_EFAULT);
	cr_assert_eq(value(r.out, "block_watch_changed"), 0);
	cr_assert_eq(value(r.out, "grant_setup_unaligned"), PV_EINVAL);
	cr_assert_eq(value(r.out, "grant_setup_outside"), PV_EFAULT);
	cr_assert_eq(value(r.out, "grant_setup_too_many"), PV_EINVAL);
	cr_assert_eq(value(r.out, "grant_end_no_table"), PV_EINVAL);
	cr_assert_eq(value(r.out, "grant_copy_unaligned"), PV_EINVAL);
	cr_assert_eq(value(r.out, "grant_copy_outside"), PV_EFAULT);
	cr_assert_eq(value(r.out, "grant_copy_too_many"), PV_EINVAL);
	cr_assert_eq(value(r.out, "evtchn_setup_unaligned"), PV_EINVAL);
	cr_assert_eq(value(r.out, "grant_setup_ok"), 0);
	cr_assert_eq(value(r.out, "grant_setup_zero"), PV_EFAULT);
	cr_assert_eq(value(r.out, "grant_setup_monitor"), PV_EFAULT);
	cr_assert_eq(value(r.out, "grant_setup_straddle"), PV_EFAULT);
	cr_assert_eq(value(r.out, "grant_end_table_kept"), 0, "the refused setups dropped the table");
	cr_assert_eq(value(r.out, "evtchn_setup_ok"), 0);
	cr_assert_eq(value(r.out, "evtchn_setup_zero"), PV_EFAULT);
	cr_assert_eq(value(r.out, "evtchn_setup_monitor"), PV_EFAULT);
	cr_assert_eq(value(r.out, "evtchn_setup_outside"), PV_EFAULT);
	cr_assert_eq(value(r.out, "evtchn_send_bad_port"), PV_EINVAL);
	cr_assert_eq(value(r.out, "evtchn_send_free_port"), PV_EINVAL);
	cr_assert_eq(value(r.out, "evtchn_bind_nobody"), PV_ENOENT);
	cr_assert_eq(value(r.out, "evtchn_close_free"), PV_EINVAL);
	cr_assert_eq(value(r.out, "vcpu_up_self"), PV_EINVAL);
	cr_assert_eq(value(r.out, "vcpu_up_missing"), PV_EINVAL);
	cr_assert_eq(value(r.out, "vcpu_up_huge"), PV_EINVAL);
	cr_assert_eq(value(r.out, "evtchn_bind_irq_libpv"), PV_EOPNOTSUPP, "interrupts are for the PC platform");
	cr_assert_eq(value(r.out, "evtchn_mask_free"), PV_EINVAL);
	cr_assert_eq(value(r.out, "evtchn_mask_bad_flag"), PV_EINVAL);
	cr_assert_eq(value(r.out, "detach"), 0);
	cr_assert_eq(value(r.out, "grant_end_after_detach"), PV_EINVAL, "the table is forgotten");
	cr_assert_eq(value(r.out, "time_monotonic"), 1);
	cr_assert_eq(value(r.out, "yield"), 0);
	cr_assert(strstr(r.out, "still alive\n") != NULL);
	cr_assert_eq(r.st.hypercalls_unknown, 2);
	cr_assert_eq(r.st.exits[PV_EXIT_FAULT], 0);
}
