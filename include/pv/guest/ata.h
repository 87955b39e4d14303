/* SPDX-License-Identifier: MIT */
/*
 * Guest driver for the emulated ATA PIO disk (libpv's "emulated twin" of
 * the PV disk), part of the freestanding guest SDK (libpvguest).
 *
 * It drives device 0 of the legacy primary channel the way a real PIO
 * driver does: task-file registers written one port at a time, READ/WRITE
 * MULTIPLE with the multiple count chosen by SET MULTIPLE MODE, one
 * `rep insw` / `rep outsw` on the data port per DRQ block, LBA48 commands
 * only when LBA28 cannot express the request, status polled with
 * interrupts disabled (nIEN).
 *
 * Per command of N sectors in M-sector DRQ blocks the driver does, on
 * every backend:
 *   LBA28: 5 register writes + the command; LBA48: 9 + the command;
 *   one status read per DRQ block (ceil(N / M)) and one after the last;
 *   the data-port string I/O (512 bytes a sector).
 * Functions return 0 or a negative PV_E* error:
 *   PV_ERANGE   IDNF (sector past the end) or a request past the capacity
 *   PV_EIO      UNC (read error), DF (device fault), or an unexpected state
 *   PV_EPERM    ABRT alone: the device refused the command (read-only
 *               disk, unsupported command or argument)
 *   PV_ENOENT   no device
 *   PV_ETIMEDOUT BSY did not clear
 *   PV_EINVAL   bad arguments
 */
#ifndef PV_ATA_GUEST_H
#define PV_ATA_GUEST_H

#include <stdint.h>

#define PV_ATA_SECTOR 512u

/* ATA status and error bits, for pv_ata_dev.status/error. */
#define PV_ATA_ST_BSY  0x80
#define PV_ATA_ST_DRDY 0x40
#define PV_ATA_ST_DF   0x20
#define PV_ATA_ST_DRQ  0x08
#define PV_ATA_ST_ERR  0x01
#define PV_ATA_ER_UNC  0x40
#define PV_ATA_ER_IDNF 0x10
#define PV_ATA_ER_ABRT 0x04

/* pv_ata_dev.flags */
#define PV_ATA_F_NO_MULTIPLE 0x1 /* READ/WRITE SECTORS even when multiple mode is set */
#define PV_ATA_F_LBA48       0x2 /* EXT commands even where LBA28 would do */

struct pv_ata_dev {
	uint16_t io, ctl;       /* command and control block ports: 0x1F0, 0x3F6 */
	uint64_t sectors;       /* capacity (IDENTIFY words 100-103, or 60-61) */
	uint32_t sectors28;     /* IDENTIFY words 60-61 */
	int lba48;              /* the device supports LBA48 (word 83 bit 10) */
	unsigned int max_mult;  /* word 47: largest multiple count */
	unsigned int mult;      /* current multiple count, 0: multiple mode off */
	unsigned int flags;     /* PV_ATA_F_* */
	char model[41], serial[21], firmware[9]; /* trailing spaces removed */
	uint8_t status, error;  /* registers at the end of the last command */
	uint64_t commands;      /* commands issued */
};

/*
 * Find device 0 on the primary channel, disable its interrupt (nIEN),
 * IDENTIFY it and set multiple mode to `mult` sectors per DRQ block
 * (a power of two; clamped to the device's maximum; 0: leave it off).
 * Returns 0 or PV_ENOENT (no device), PV_EIO, PV_EPERM (SET MULTIPLE
 * refused).
 */
int pv_ata_init(struct pv_ata_dev *d, unsigned int mult);

/* IDENTIFY DEVICE into id (256 words as the device sends them) and update
 * the capacity, model, serial and LBA48 support in d. */
int pv_ata_identify(struct pv_ata_dev *d, uint16_t id[256]);

/* SET MULTIPLE MODE to n sectors per DRQ block (0 disables it). */
int pv_ata_set_multiple(struct pv_ata_dev *d, unsigned int n);

/* Read (write) count sectors at lba into (from) buf, in as many commands
 * as needed. */
int pv_ata_read(struct pv_ata_dev *d, uint64_t lba, uint32_t count, void *buf);
int pv_ata_write(struct pv_ata_dev *d, uint64_t lba, uint32_t count, const void *buf);

/* FLUSH CACHE (EXT when the device has LBA48). */
int pv_ata_flush(struct pv_ata_dev *d);

/* Software reset through SRST; keeps nIEN set. */
int pv_ata_reset(struct pv_ata_dev *d);

/*
 * Issue a command with no data phase: load the task file (LBA28 layout:
 * lba bits 27:24 go to the device register; with PV_ATA_F_LBA48 in flags
 * the HOB registers too), write cmd, wait for BSY to clear.  Returns the
 * status register and leaves status/error in d.  For tests and the odd
 * command this driver does not wrap.
 */
int pv_ata_command(struct pv_ata_dev *d, uint8_t cmd, uint8_t feature, uint16_t count, uint64_t lba,
		   unsigned int flags);

#endif
