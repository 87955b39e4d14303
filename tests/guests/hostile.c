/* SPDX-License-Identifier: MIT */
/*
 * hostile: issues hypercalls with hostile arguments and prints each result
 * as "name=value" so the test can check every one.
 */
#include <pv/guest/sdk.h>

#define SHOW(name, expr) pv_printf("%s=%ld\n", name, (long)(expr))

static char buf[PV_CONSOLE_MAX + 16];
static struct pv_grant_entry table[16] __attribute__((aligned(4096)));
static struct pv_event_page events __attribute__((aligned(4096)));

int pv_main(const struct pv_boot_info *bi)
{
	unsigned long ram = bi->ram_size;

	SHOW("version", pv_hypercall0(PV_HC_VERSION));
	SHOW("features0", pv_hypercall1(PV_HC_FEATURES, 0));
	SHOW("features7", pv_hypercall1(PV_HC_FEATURES, 7));
	SHOW("unknown", pv_hypercall0(4242));
	SHOW("unknown_high", pv_hypercall0(0x80000002ul));
	SHOW("upper_rax_ignored", pv_hypercall0(0xffffffff00000000ul | PV_HC_VERSION));
	SHOW("console_outside", pv_console_write((void *)(ram + 4096), 8));
	SHOW("console_straddle", pv_console_write((void *)(ram - 4), 8));
	SHOW("console_wrap", pv_console_write((void *)~0ul, 16));
	SHOW("console_wrap2", pv_console_write((void *)0x200000, ~0ul - 0x100));
	SHOW("console_too_long", pv_console_write(buf, PV_CONSOLE_MAX + 1));
	SHOW("console_empty", pv_console_write(buf, 0));
	SHOW("console_last_byte", pv_console_write((void *)(ram - 1), 0));
	SHOW("block_timeout", pv_block(1000000));
	SHOW("block_watch_unaligned", pv_block_watch(1000000, (void *)0x200002, 0));
	SHOW("block_watch_outside", pv_block_watch(1000000, (void *)(ram + 64), 0));
	SHOW("block_watch_changed", pv_block_watch(0, (void *)&bi->magic, 0));
	SHOW("grant_setup_unaligned", pv_hypercall2(PV_HC_GRANT_SETUP, 0x200010, 4));
	SHOW("grant_setup_outside", pv_hypercall2(PV_HC_GRANT_SETUP, ram - 4096, 1024));
	SHOW("grant_setup_too_many", pv_hypercall2(PV_HC_GRANT_SETUP, 0x200000, PV_GRANT_MAX + 1));
	SHOW("grant_end_no_table", pv_hypercall1(PV_HC_GRANT_END, 0));
	SHOW("grant_copy_unaligned", pv_hypercall2(PV_HC_GRANT_COPY, 0x200004, 1));
	SHOW("grant_copy_outside", pv_hypercall2(PV_HC_GRANT_COPY, ram - 8, 1));
	SHOW("grant_copy_too_many", pv_hypercall2(PV_HC_GRANT_COPY, 0x200000, 257));
	SHOW("evtchn_setup_unaligned", pv_hypercall1(PV_HC_EVTCHN_SETUP, 0x200100));
	/* Shared pages: one rule (<pv/abi/core.h>); a refusal keeps what was there. */
	SHOW("grant_setup_ok", pv_hypercall2(PV_HC_GRANT_SETUP, (unsigned long)table, 16));
	SHOW("grant_setup_zero", pv_hypercall2(PV_HC_GRANT_SETUP, 0, 16));
	SHOW("grant_setup_monitor", pv_hypercall2(PV_HC_GRANT_SETUP, PV_GUEST_LOAD_MIN - 4096, 16));
	SHOW("grant_setup_straddle", pv_hypercall2(PV_HC_GRANT_SETUP, PV_GUEST_LOAD_MIN - 4096, 512));
	SHOW("grant_end_table_kept", pv_hypercall1(PV_HC_GRANT_END, 3));
	SHOW("evtchn_setup_ok", pv_hypercall1(PV_HC_EVTCHN_SETUP, (unsigned long)&events));
	SHOW("evtchn_setup_zero", pv_hypercall1(PV_HC_EVTCHN_SETUP, 0));
	SHOW("evtchn_setup_monitor", pv_hypercall1(PV_HC_EVTCHN_SETUP, PV_BOOT_INFO_ADDR));
	SHOW("evtchn_setup_outside", pv_hypercall1(PV_HC_EVTCHN_SETUP, ram));
	SHOW("evtchn_send_bad_port", pv_hypercall1(PV_HC_EVTCHN_SEND, PV_EVTCHN_MAX + 5));
	SHOW("evtchn_send_free_port", pv_hypercall1(PV_HC_EVTCHN_SEND, 7));
	SHOW("evtchn_bind_nobody", pv_hypercall2(PV_HC_EVTCHN_BIND, 4000, 1));
	SHOW("evtchn_close_free", pv_hypercall1(PV_HC_EVTCHN_CLOSE, 3));
	SHOW("vcpu_up_self", pv_hypercall4(PV_HC_VCPU_UP, 0, 0x100000, 0x200000, 0));
	SHOW("vcpu_up_missing", pv_hypercall4(PV_HC_VCPU_UP, 5, 0x100000, 0x200000, 0));
	SHOW("vcpu_up_huge", pv_hypercall4(PV_HC_VCPU_UP, 1ul << 40, 0x100000, 0x200000, 0));
	SHOW("evtchn_bind_irq_libpv", pv_hypercall2(PV_HC_EVTCHN_BIND_IRQ, 1, PV_EVTCHN_GSI_MIN));
	SHOW("evtchn_mask_free", pv_hypercall2(PV_HC_EVTCHN_MASK, 3, 1));
	SHOW("evtchn_mask_bad_flag", pv_hypercall2(PV_HC_EVTCHN_MASK, 3, 7));
	SHOW("detach", pv_hypercall0(PV_HC_DETACH));
	SHOW("grant_end_after_detach", pv_hypercall1(PV_HC_GRANT_END, 3));
	SHOW("time_monotonic", pv_time_ns() <= pv_time_ns());
	SHOW("yield", pv_yield());
	pv_printf("still alive\n");
	return 0;
}
