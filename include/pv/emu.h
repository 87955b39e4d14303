/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The emulation backend (Unicorn) lives in its own library, libpv-emu,
 * licensed GPL-2.0 like Unicorn itself; libpv does not link it.  A monitor
 * that wants the backend links libpv-emu and calls pv_emu_register() once
 * before pv_vm_create().  A monitor that does not is not bound by the GPL.
 */
#ifndef PV_EMU_H
#define PV_EMU_H

#ifdef __cplusplus
extern "C" {
#endif

/* Make PV_BACKEND_EMU (and the emu fallback of PV_BACKEND_AUTO) available. */
void pv_emu_register(void);

#ifdef __cplusplus
}
#endif
#endif
