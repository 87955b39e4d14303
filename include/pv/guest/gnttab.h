/* SPDX-License-Identifier: MIT */
/* Guest SDK: the guest's grant table and event page (see <pv/abi/core.h>). */
#ifndef PV_GNTTAB_H
#define PV_GNTTAB_H

#include "../abi/core.h"

/* Grant npages frames from addr (page-aligned) to domid; returns a
 * reference (> 0) or a PV_E* error.  Registers the table on first use. */
long pv_gnttab_grant(const void *addr, unsigned int npages, unsigned int domid, int readonly);
/* Revoke (PV_HC_GRANT_END) and free the reference: 0 or PV_EBUSY. */
long pv_gnttab_end(unsigned int ref);

/* The event page, registered with the monitor on first use (NULL on error). */
struct pv_event_page *pv_event_page(void);

/* Ring a monitor-bound event channel (PV_DOORBELL_PORT). */
static inline void pv_doorbell(unsigned int port)
{
	__asm__ __volatile__("outl %0, %1" : : "a"(port), "d"((unsigned short)PV_DOORBELL_PORT) : "memory");
}

#endif
