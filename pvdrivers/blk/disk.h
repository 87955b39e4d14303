/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A backing store shared by the two doors to one disk: the PV block backend
 * (blkback.c, io_uring) and its emulated ATA twin (ata.c).
 */
#ifndef PV_DISK_H
#define PV_DISK_H

#include <stdbool.h>
#include <stdint.h>

#define PV_DISK_SECTOR 512u

struct pv_disk {
	int fd;            /* O_DIRECT when `direct`, else buffered */
	int fd_buffered;   /* always buffered (for unaligned or small accesses) */
	uint64_t size;     /* bytes, a multiple of PV_DISK_SECTOR */
	uint32_t dio_mem_align, dio_offset_align; /* O_DIRECT needs these (when `direct`) */
	bool direct;
	bool read_only;
	bool block_device;
};

/*
 * Open a raw image or block device (path).  Tries O_DIRECT unless
 * no_direct, and falls back to buffered I/O where the file system refuses
 * it; learns O_DIRECT's alignment (statx STATX_DIOALIGN, the logical block
 * size of a block device, else 512) so that callers send only aligned I/O
 * through fd.  Returns 0 or a negative errno.
 */
int pv_disk_open(struct pv_disk *d, const char *path, bool read_only, bool no_direct);
void pv_disk_close(struct pv_disk *d);

/*
 * Synchronous helpers for the emulated twin (which transfers a few sectors
 * per guest command).  Return 0 or a negative errno (-EIO, -ENOSPC, -EROFS).
 */
int pv_disk_read(struct pv_disk *d, uint64_t sector, void *buf, uint32_t nsect);
int pv_disk_write(struct pv_disk *d, uint64_t sector, const void *buf, uint32_t nsect);
int pv_disk_flush(struct pv_disk *d);

#endif
