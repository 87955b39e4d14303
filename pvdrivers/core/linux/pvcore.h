/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvcore: what libpv's PV driver modules stand on inside an unmodified
 * Linux guest (the PC platform of <pv/linux.h>): hypercalls, grants and
 * event channels delivered as interrupts.  The ABI is <pv/abi/core.h>,
 * included unchanged.  Every function returns 0 (or a value) on success
 * and a negative errno on failure; all may be called from process
 * context, pvcore_evtchn_notify and _send also from interrupt context.
 */
#ifndef PVCORE_H
#define PVCORE_H

#include <linux/types.h>

/* Hypercall nr with arguments a0..a3 (<pv/abi/core.h>); returns RAX. */
long pvcore_hypercall(unsigned int nr, u64 a0, u64 a1, u64 a2, u64 a3);

/* Let domain domid (0: the monitor) use npages frames from frame,
 * read-only if readonly.  Returns the grant reference. */
int pvcore_grant_access(u16 domid, unsigned long frame, unsigned int npages, bool readonly);
/* Revoke a grant: 0, or -EBUSY while the other side uses it. */
int pvcore_grant_end(int ref);
/* Revoke *ref (nothing if it is <= 0) and set it to 0: true when the pages
 * may be freed, false (logged) when the monitor still holds them, which
 * must then leak rather than be reused. */
bool pvcore_grant_end_or_leak(int *ref);

/* One command on a PV device's control page (granted as gref; it starts
 * with u32 cmd and s32 status, as in <pv/abi/blk.h> and <pv/abi/net.h>):
 * the 32-bit OUT of gref to port, answered before it returns.  Returns the
 * status the monitor wrote, or 1 when nothing answers the port. */
int pvcore_ctrl_command(unsigned int port, int gref, void *page, u32 cmd);

/* fn(port, data) runs in interrupt context each time port becomes
 * pending (the pending byte is already cleared).  -EBUSY if bound. */
typedef void (*pvcore_evtchn_fn)(unsigned int port, void *data);
int pvcore_evtchn_bind(unsigned int port, pvcore_evtchn_fn fn, void *data);
/* Stop delivering port (waits for a running handler). */
void pvcore_evtchn_unbind(unsigned int port);
/* Mask or unmask port's interrupt. */
int pvcore_evtchn_mask(unsigned int port, bool masked);
/* Signal a port bound to the monitor: a doorbell, no exit on KVM. */
void pvcore_evtchn_notify(unsigned int port);
/* Signal any port (a hypercall). */
int pvcore_evtchn_send(unsigned int port);

#endif
