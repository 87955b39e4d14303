/* SPDX-License-Identifier: MIT */
#include <pv/guest/gnttab.h>
#include <pv/guest/sdk.h>

#define NR_GRANTS 256

static struct pv_grant_entry table[NR_GRANTS] __attribute__((aligned(4096)));
static struct pv_event_page events __attribute__((aligned(4096)));
static int table_ready, events_ready;

long pv_gnttab_grant(const void *addr, unsigned int npages, unsigned int domid, int readonly)
{
	unsigned long a = (unsigned long)addr;

	if (a % 4096 || npages == 0)
		return PV_EINVAL;
	if (!table_ready) {
		long r = pv_hypercall2(PV_HC_GRANT_SETUP, (unsigned long)table, NR_GRANTS);

		if (r)
			return r;
		table_ready = 1;
	}
	for (unsigned int ref = 1; ref < NR_GRANTS; ref++) { /* ref 0 stays invalid */
		if (table[ref].flags)
			continue;
		table[ref].frame = a / 4096;
		table[ref].npages = npages;
		table[ref].domid = (unsigned short)domid;
		__asm__ __volatile__("" ::: "memory");
		table[ref].flags = (unsigned short)(PV_GTF_PERMIT_ACCESS | (readonly ? PV_GTF_READONLY : 0));
		return ref;
	}
	return PV_ENOSPC;
}

long pv_gnttab_end(unsigned int ref)
{
	return pv_hypercall1(PV_HC_GRANT_END, ref); /* clears the entry on success */
}

struct pv_event_page *pv_event_page(void)
{
	if (!events_ready) {
		if (pv_hypercall1(PV_HC_EVTCHN_SETUP, (unsigned long)&events))
			return 0;
		events_ready = 1;
	}
	return &events;
}
