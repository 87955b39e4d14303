// SPDX-License-Identifier: GPL-2.0
/*
 * pvcore: libpv's core module for unmodified Linux guests (see pvcore.h).
 *
 * On load it finds libpv by its CPUID leaves (PV_CPUID_BASE) and refuses
 * to load anywhere else; it registers a grant table and an event page with
 * the monitor, and takes one IOAPIC GSI (edge, active high) for every
 * event channel bound through pvcore_evtchn_bind.  On unload it revokes
 * every grant, unbinds every channel and detaches (PV_HC_DETACH) before it
 * frees the pages.
 *
 * selftest_port=N (a monitor port) runs a round trip on load: it grants a
 * page to the monitor, ping-pongs selftest_events events through the
 * interrupt (doorbell out, interrupt back), then checks what the monitor
 * wrote into the granted page, and logs the result.
 */
#include <linux/acpi.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/gfp.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/spinlock.h>
#include <asm/processor.h>

#include <pv/abi/core.h>

#include "pvcore.h"

#define NR_GRANTS (PAGE_SIZE / sizeof(struct pv_grant_entry))

static unsigned int gsi = PV_EVTCHN_GSI_MIN;
module_param(gsi, uint, 0444);
MODULE_PARM_DESC(gsi, "IOAPIC GSI for event channels (16-23)");
static unsigned int selftest_port;
module_param(selftest_port, uint, 0444);
MODULE_PARM_DESC(selftest_port, "monitor port for a round trip at load (0: none)");
static unsigned int selftest_events = 10000;
module_param(selftest_events, uint, 0444);

static struct pv_event_page *evpage;
static struct pv_grant_entry *gtable;
static DEFINE_SPINLOCK(grant_lock);
static DECLARE_BITMAP(grant_used, NR_GRANTS);
static DEFINE_SPINLOCK(evtchn_lock);
static DECLARE_BITMAP(evtchn_bound, PV_EVTCHN_MAX);
static struct {
	pvcore_evtchn_fn fn;
	void *data;
} handlers[PV_EVTCHN_MAX];
static int irq = -1;

long pvcore_hypercall(unsigned int nr, u64 a0, u64 a1, u64 a2, u64 a3)
{
	register u64 r8 asm("r8") = a2;
	register u64 r9 asm("r9") = a3;
	u64 rax = nr;

	asm volatile("outl %%eax, %%dx"
		     : "+a"(rax)
		     : "d"((u16)PV_HC_PORT), "D"(a0), "S"(a1), "r"(r8), "r"(r9)
		     : "memory");
	return (long)rax;
}
EXPORT_SYMBOL_GPL(pvcore_hypercall);

/* ---- grants ---- */

int pvcore_grant_access(u16 domid, unsigned long frame, unsigned int npages, bool readonly)
{
	unsigned long flags;
	int ref;

	if (!npages)
		return -EINVAL;
	spin_lock_irqsave(&grant_lock, flags);
	ref = find_next_zero_bit(grant_used, NR_GRANTS, 1); /* ref 0 stays unused */
	if (ref < NR_GRANTS)
		__set_bit(ref, grant_used);
	spin_unlock_irqrestore(&grant_lock, flags);
	if (ref >= NR_GRANTS)
		return -ENOSPC;
	gtable[ref].frame = frame;
	gtable[ref].npages = npages;
	gtable[ref].domid = domid;
	smp_wmb(); /* the entry before the flags that make it valid */
	WRITE_ONCE(gtable[ref].flags, PV_GTF_PERMIT_ACCESS | (readonly ? PV_GTF_READONLY : 0));
	return ref;
}
EXPORT_SYMBOL_GPL(pvcore_grant_access);

int pvcore_grant_end(int ref)
{
	unsigned long flags;
	long r;

	if (ref <= 0 || ref >= NR_GRANTS || !test_bit(ref, grant_used))
		return -EINVAL;
	r = pvcore_hypercall(PV_HC_GRANT_END, ref, 0, 0, 0);
	if (r < 0)
		return (int)r;
	spin_lock_irqsave(&grant_lock, flags);
	__clear_bit(ref, grant_used);
	spin_unlock_irqrestore(&grant_lock, flags);
	return 0;
}
EXPORT_SYMBOL_GPL(pvcore_grant_end);

bool pvcore_grant_end_or_leak(int *ref)
{
	int r;

	if (*ref <= 0)
		return true;
	r = pvcore_grant_end(*ref);
	if (r < 0) {
		pr_err("pvcore: grant %d still in use (%d): leaking its pages\n", *ref, r);
		return false;
	}
	*ref = 0;
	return true;
}
EXPORT_SYMBOL_GPL(pvcore_grant_end_or_leak);

int pvcore_ctrl_command(unsigned int port, int gref, void *page, u32 cmd)
{
	struct { u32 cmd; s32 status; } *c = page;

	WRITE_ONCE(c->cmd, cmd);
	WRITE_ONCE(c->status, 1); /* no monitor port: the status stays 1 */
	outl(gref, port);
	return READ_ONCE(c->status);
}
EXPORT_SYMBOL_GPL(pvcore_ctrl_command);

/* ---- event channels ---- */

static irqreturn_t pvcore_interrupt(int irq_, void *dev)
{
	bool again = true, any = false;
	unsigned int port;

	while (again) {
		again = false;
		for_each_set_bit(port, evtchn_bound, PV_EVTCHN_MAX) {
			pvcore_evtchn_fn fn;

			if (!READ_ONCE(evpage->pending[port]))
				continue;
			WRITE_ONCE(evpage->pending[port], 0);
			smp_mb(); /* clear, then look at the work (see core.h) */
			fn = READ_ONCE(handlers[port].fn);
			if (fn)
				fn(port, handlers[port].data);
			again = any = true;
		}
	}
	return any ? IRQ_HANDLED : IRQ_NONE;
}

int pvcore_evtchn_bind(unsigned int port, pvcore_evtchn_fn fn, void *data)
{
	unsigned long flags;
	long r;

	if (!port || port >= PV_EVTCHN_MAX || !fn)
		return -EINVAL;
	spin_lock_irqsave(&evtchn_lock, flags);
	if (test_bit(port, evtchn_bound)) {
		spin_unlock_irqrestore(&evtchn_lock, flags);
		return -EBUSY;
	}
	handlers[port].data = data;
	WRITE_ONCE(handlers[port].fn, fn);
	set_bit(port, evtchn_bound);
	spin_unlock_irqrestore(&evtchn_lock, flags);
	r = pvcore_hypercall(PV_HC_EVTCHN_BIND_IRQ, port, gsi, 0, 0);
	if (r < 0) {
		clear_bit(port, evtchn_bound);
		return (int)r;
	}
	/* The GSI rises only when the byte goes from 0 to 1: a byte left set
	 * (an event after an earlier unbind of this port number, or one
	 * racing with the bind) would hold back every interrupt.  Unmasking
	 * raises the GSI if it is set, and the handler clears it. */
	pvcore_hypercall(PV_HC_EVTCHN_MASK, port, 0, 0, 0);
	return 0;
}
EXPORT_SYMBOL_GPL(pvcore_evtchn_bind);

void pvcore_evtchn_unbind(unsigned int port)
{
	if (!port || port >= PV_EVTCHN_MAX || !test_bit(port, evtchn_bound))
		return;
	pvcore_hypercall(PV_HC_EVTCHN_BIND_IRQ, port, 0, 0, 0);
	clear_bit(port, evtchn_bound);
	synchronize_irq(irq);
	WRITE_ONCE(handlers[port].fn, NULL);
}
EXPORT_SYMBOL_GPL(pvcore_evtchn_unbind);

int pvcore_evtchn_mask(unsigned int port, bool masked)
{
	return (int)pvcore_hypercall(PV_HC_EVTCHN_MASK, port, masked, 0, 0);
}
EXPORT_SYMBOL_GPL(pvcore_evtchn_mask);

void pvcore_evtchn_notify(unsigned int port)
{
	outl(port, PV_DOORBELL_PORT);
}
EXPORT_SYMBOL_GPL(pvcore_evtchn_notify);

int pvcore_evtchn_send(unsigned int port)
{
	return (int)pvcore_hypercall(PV_HC_EVTCHN_SEND, port, 0, 0, 0);
}
EXPORT_SYMBOL_GPL(pvcore_evtchn_send);

/* ---- self-test: a grant and an event round trip with the monitor ---- */

static atomic_t st_count;
static DECLARE_COMPLETION(st_done);

static void selftest_event(unsigned int port, void *data)
{
	if (atomic_inc_return(&st_count) < selftest_events)
		pvcore_evtchn_notify(port);
	else
		complete(&st_done);
}

static void selftest(void)
{
	static const char mine[] = "pvcore-guest", theirs[] = "pvcore-monitor";
	struct page *pg = alloc_page(GFP_KERNEL | __GFP_ZERO);
	char *p;
	int ref, r;

	if (!pg)
		return;
	p = page_address(pg);
	memcpy(p, mine, sizeof(mine));
	ref = pvcore_grant_access(PV_DOMID_MONITOR, page_to_pfn(pg), 1, false);
	r = ref < 0 ? ref : pvcore_evtchn_bind(selftest_port, selftest_event, NULL);
	if (r < 0) {
		pr_err("pvcore: selftest: setup failed (%d)\n", r);
		goto out;
	}
	pvcore_evtchn_notify(selftest_port);
	if (!wait_for_completion_timeout(&st_done, 120 * HZ))
		pr_err("pvcore: selftest: timed out after %d events\n", atomic_read(&st_count));
	else if (memcmp(p + 64, theirs, sizeof(theirs)))
		pr_err("pvcore: selftest: the monitor did not write the granted page\n");
	else
		pr_info("pvcore: selftest ok: %u events through IRQ %d, grant %d read and written by the monitor\n",
			selftest_events, irq, ref);
	pvcore_evtchn_unbind(selftest_port);
out:
	if (ref > 0 && pvcore_grant_end(ref) < 0)
		pr_err("pvcore: selftest: grant %d still in use\n", ref); /* the page stays granted: leak it */
	else
		__free_page(pg);
}

/* ---- load and unload ---- */

static int __init pvcore_init(void)
{
	u32 base, eax, ebx, ecx, edx;
	long r;

	base = boot_cpu_has(X86_FEATURE_HYPERVISOR) ? hypervisor_cpuid_base("libpvlibpvPV", 1) : 0;
	if (base != PV_CPUID_BASE) {
		pr_err("pvcore: not running on libpv (no libpv signature at CPUID 0x%x)\n", PV_CPUID_BASE);
		return -ENODEV;
	}
	cpuid(base + 1, &eax, &ebx, &ecx, &edx);
	if (eax != PV_ABI_VERSION || (ebx & (PV_F_GRANT | PV_F_EVTCHN | PV_F_EVTCHN_IRQ)) !=
					     (PV_F_GRANT | PV_F_EVTCHN | PV_F_EVTCHN_IRQ)) {
		pr_err("pvcore: libpv ABI %u with features 0x%x: need ABI %u with grants and event interrupts\n",
		       eax, ebx, PV_ABI_VERSION);
		return -ENODEV;
	}
	if (gsi < PV_EVTCHN_GSI_MIN || gsi > PV_EVTCHN_GSI_MAX)
		return -EINVAL;
	evpage = (void *)get_zeroed_page(GFP_KERNEL);
	gtable = (void *)get_zeroed_page(GFP_KERNEL);
	if (!evpage || !gtable) {
		r = -ENOMEM;
		goto free;
	}
	r = pvcore_hypercall(PV_HC_EVTCHN_SETUP, virt_to_phys(evpage), 0, 0, 0);
	if (r == 0)
		r = pvcore_hypercall(PV_HC_GRANT_SETUP, virt_to_phys(gtable), NR_GRANTS, 0, 0);
	if (r < 0) {
		pr_err("pvcore: the monitor refused the event page or grant table (%ld)\n", r);
		goto detach;
	}
	irq = acpi_register_gsi(NULL, gsi, ACPI_EDGE_SENSITIVE, ACPI_ACTIVE_HIGH);
	if (irq < 0) {
		r = irq;
		pr_err("pvcore: cannot route GSI %u (%ld)\n", gsi, r);
		goto detach;
	}
	r = request_irq(irq, pvcore_interrupt, 0, "pvcore", &handlers);
	if (r < 0) {
		acpi_unregister_gsi(gsi);
		goto detach;
	}
	pr_info("pvcore: libpv ABI %u, features 0x%x, events on GSI %u (IRQ %d), %zu grants\n", eax, ebx, gsi,
		irq, NR_GRANTS);
	if (selftest_port)
		selftest();
	return 0;
detach:
	pvcore_hypercall(PV_HC_DETACH, 0, 0, 0, 0);
free:
	free_page((unsigned long)evpage);
	free_page((unsigned long)gtable);
	return (int)r;
}

static void __exit pvcore_exit(void)
{
	unsigned int port, ref;
	long r;

	for_each_set_bit(port, evtchn_bound, PV_EVTCHN_MAX)
		pvcore_evtchn_unbind(port);
	for_each_set_bit(ref, grant_used, NR_GRANTS)
		pvcore_grant_end(ref);
	free_irq(irq, &handlers);
	acpi_unregister_gsi(gsi);
	r = pvcore_hypercall(PV_HC_DETACH, 0, 0, 0, 0);
	if (r < 0) {
		pr_err("pvcore: the monitor still uses a grant (%ld): leaking the table and event page\n", r);
		return;
	}
	free_page((unsigned long)evpage);
	free_page((unsigned long)gtable);
	pr_info("pvcore: unloaded\n");
}

module_init(pvcore_init);
module_exit(pvcore_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("libpv core: hypercalls, grants and event channels for PV drivers");
