/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The emulated twin of the PV disk: an ATA PIO disk on the legacy ports. */
#ifndef PV_ATA_H
#define PV_ATA_H

#include <pv/pv.h>

#include "disk.h"

struct pv_ata;

/* Attach an ATA disk on 0x1F0-0x1F7 and 0x3F6 of vm, backed by disk (not
 * owned).  Call before pv_vm_run; returns 0 or a negative errno. */
int pv_ata_attach(struct pv_vm *vm, struct pv_disk *disk, struct pv_ata **out);
void pv_ata_detach(struct pv_ata *ata);

#endif
