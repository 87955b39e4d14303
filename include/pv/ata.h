/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The emulated twin of the PV disk: an ATA PIO disk on the legacy primary
 * channel (command block 0x1F0-0x1F7, control block 0x3F6), device 0 only.
 *
 * Commands: IDENTIFY DEVICE (ECh), READ/WRITE SECTORS (20h/21h, 30h/31h)
 * and EXT (24h/34h), READ/WRITE MULTIPLE (C4h/C5h) and EXT (29h/39h), SET
 * MULTIPLE MODE (C6h), FLUSH CACHE (E7h) and EXT (EAh), SET FEATURES (EFh,
 * subcommand 03h with a PIO mode only), EXECUTE DEVICE DIAGNOSTIC (90h),
 * STANDBY IMMEDIATE (E0h) and IDLE IMMEDIATE (E1h) as no-ops, CHECK POWER
 * MODE (E5h: active).
 * LBA28 (and CHS with the geometry IDENTIFY reports) and LBA48 through the
 * HOB register FIFO.  Anything else aborts (ERR, ABRT).
 *
 * Errors: ABRT for unknown commands, bad arguments, writes to a read-only
 * disk and multiple commands without multiple mode; IDNF for a range past
 * the end of the disk (the LBA registers then hold the first bad sector);
 * UNC for a read error of the backing store; DF + ABRT for a write or flush
 * error of the backing store.  Data-port accesses without DRQ are ignored
 * (reads give all ones), as on real drives.  Device 1 is absent: with DEV
 * set, status reads return 0 and commands are ignored.
 *
 * The device works synchronously in the port handler: a command completes
 * (or its first DRQ block is ready) before the OUT that issued it returns,
 * so BSY is visible only while SRST is asserted.  Written data reach the
 * backing store when a DRQ block completes.  Interrupts: INTRQ is asserted
 * as ATA's PIO protocols say (a data-in command's every block ready, a
 * data-out command's every block written, a non-data command done, any
 * error) and cleared by a read of the status register (not the alternate
 * status) or a new command; on the PC platform (<pv/linux.h>) it drives
 * ISA IRQ 14 unless nIEN is set, so Linux's pata_legacy can use the disk.
 * Freestanding guests have no interrupt controller and poll.
 *
 * Exit statistics: two devices, "ata" (0x1F0, 8 ports) and "ata-ctl"
 * (0x3F6, 1 port).
 */
#ifndef PV_ATA_H
#define PV_ATA_H

#include <stdbool.h>
#include <stdint.h>

#include "pv.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PV_ATA_IO       0x1F0
#define PV_ATA_CTL      0x3F6
#define PV_ATA_IRQ      14      /* the primary channel's ISA interrupt */
/* Largest multiple count (sectors per DRQ block) SET MULTIPLE accepts. */
#define PV_ATA_MAX_MULT 128u

struct pv_ata;

struct pv_ata_config {
	const char *path;   /* raw image or block device (may also be a PV disk's) */
	bool read_only;
	bool no_direct;     /* buffered I/O even where O_DIRECT works */
};

/*
 * Attach an ATA disk on 0x1F0-0x1F7 and 0x3F6 of vm (before pv_vm_run),
 * backed by cfg->path.  The VM owns the device (<pv/device.h>): the handle
 * stays valid until pv_vm_destroy, which frees it.  Returns 0, or a negative
 * errno: the file cannot be opened (-ENOENT, -EACCES...), -EINVAL for a NULL
 * argument or a disk smaller than one sector, -EEXIST when the ports are
 * taken, -EBUSY when the VM runs, -ENOMEM.
 */
int pv_ata_attach(struct pv_vm *vm, const struct pv_ata_config *cfg, struct pv_ata **out);

/* Per-device counters for tests and benchmarks. */
struct pv_ata_stats {
	uint64_t commands;        /* commands accepted (written to device 0) */
	uint64_t sectors_read;    /* from the backing store */
	uint64_t sectors_written; /* to the backing store */
	uint64_t errors;          /* commands that ended with ERR */
	uint64_t stray_data;      /* data-port accesses without DRQ */
	/* Completed without error: read commands and the bytes they read,
	 * write commands and the bytes they wrote, FLUSH CACHE (EXT) commands. */
	uint64_t rd_reqs, rd_bytes, wr_reqs, wr_bytes, fl_reqs;
};
/* Copy the counters into *st (zeros for a NULL ata). */
void pv_ata_stats(struct pv_ata *ata, struct pv_ata_stats *st);

#ifdef __cplusplus
}
#endif
#endif
