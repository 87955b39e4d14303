/* SPDX-License-Identifier: MIT */
/*
 * grants: grants pages to the monitor and exercises revocation and event
 * channels against the test's checkpoint device (port 0x620): each write of
 * a step number runs the host's checks for that step synchronously.
 * Command line: "PORT", the monitor-bound event channel port.
 */
#include <pv/guest/sdk.h>

static struct pv_grant_entry table[16] __attribute__((aligned(4096)));
static char shared[2][4096] __attribute__((aligned(4096)));
static struct pv_event_page events __attribute__((aligned(4096)));

static void checkpoint(unsigned int step)
{
	__asm__ __volatile__("outl %0, %1" : : "a"(step), "Nd"((unsigned short)0x620) : "memory");
}

static void doorbell(unsigned int port)
{
	__asm__ __volatile__("outl %0, %1" : : "a"(port), "d"((unsigned short)PV_DOORBELL_PORT) : "memory");
}

static void grant(unsigned int ref, unsigned long long frame, unsigned int npages, unsigned int domid,
		  unsigned int flags)
{
	table[ref].frame = frame;
	table[ref].npages = npages;
	table[ref].domid = (unsigned short)domid;
	__asm__ __volatile__("" ::: "memory");
	table[ref].flags = (unsigned short)flags;
}

int pv_main(const struct pv_boot_info *bi)
{
	unsigned long long f = (unsigned long)shared / 4096;
	unsigned int port = (unsigned int)pv_strtoull(pv_cmdline(), 0);

	memcpy(shared[0], "granted data", 13);
	grant(1, f, 1, 0, PV_GTF_PERMIT_ACCESS);
	grant(2, f, 1, 0, PV_GTF_PERMIT_ACCESS | PV_GTF_READONLY);
	grant(3, bi->ram_size / 4096 + 10, 1, 0, PV_GTF_PERMIT_ACCESS);
	grant(4, f, 1, 99, PV_GTF_PERMIT_ACCESS);
	grant(5, f, 2, 0, PV_GTF_PERMIT_ACCESS);
	grant(6, bi->ram_size / 4096 - 1, 2, 0, PV_GTF_PERMIT_ACCESS);
	pv_printf("setup=%ld\n", pv_hypercall2(PV_HC_GRANT_SETUP, (unsigned long)table, 16));
	checkpoint(1); /* the host maps ref 1 and keeps it */
	pv_printf("end_in_use=%ld\n", pv_hypercall1(PV_HC_GRANT_END, 1));
	pv_printf("end_out_of_range=%ld\n", pv_hypercall1(PV_HC_GRANT_END, 16));
	checkpoint(2); /* the host releases ref 1 */
	pv_printf("end_released=%ld\n", pv_hypercall1(PV_HC_GRANT_END, 1));
	pv_printf("shared=%s\n", shared[0]);
	checkpoint(3); /* the host finds ref 1 revoked */
	grant(1, f + 1, 1, 0, PV_GTF_PERMIT_ACCESS);
	memcpy(shared[1], "second page", 12);
	checkpoint(4); /* the reused ref 1 names the new page */

	pv_printf("evtchn_setup=%ld\n", pv_hypercall1(PV_HC_EVTCHN_SETUP, (unsigned long)&events));
	for (int i = 0; i < 5; i++)
		doorbell(port);
	pv_printf("send=%ld\n", pv_hypercall1(PV_HC_EVTCHN_SEND, port));
	checkpoint(5); /* the host acknowledges 6 and notifies us */
	pv_printf("pending=%u\n", events.pending[port]);
	pv_printf("block=%ld\n", pv_block(0));
	events.pending[port] = 0;
	pv_printf("block_after_clear=%ld\n", pv_block(1000000));
	for (int i = 0; i < 1000; i++) /* a flood coalesces */
		pv_hypercall1(PV_HC_EVTCHN_SEND, port);
	for (int i = 0; i < 1000; i++)
		doorbell(port);
	doorbell(999); /* not a monitor port: ignored */
	checkpoint(6);
	pv_printf("guest_close_monitor_port=%ld\n", pv_hypercall1(PV_HC_EVTCHN_CLOSE, port));
	return 0;
}
