/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "ata.h"

int pv_ata_attach(struct pv_vm *vm, struct pv_disk *disk, struct pv_ata **out)
{
	(void)vm, (void)disk, (void)out;
	return -ENOSYS;
}

void pv_ata_detach(struct pv_ata *ata)
{
	(void)ata;
}
