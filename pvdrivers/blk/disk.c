/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk.h"

/* O_DIRECT alignment of an open disk; no O_DIRECT where the file system
 * reports none. */
static void dio_alignment(struct pv_disk *d, const char *path)
{
	struct statx stx;
	int lbs;

	d->dio_mem_align = d->dio_offset_align = PV_DISK_SECTOR;
	if (d->block_device && ioctl(d->fd_buffered, BLKSSZGET, &lbs) == 0 && lbs > 0) {
		d->dio_mem_align = d->dio_offset_align = (uint32_t)lbs;
	} else if (statx(AT_FDCWD, path, 0, STATX_DIOALIGN, &stx) == 0 && (stx.stx_mask & STATX_DIOALIGN)) {
		if (stx.stx_dio_offset_align == 0 && d->direct) { /* the file system says: no O_DIRECT */
			close(d->fd);
			d->fd = d->fd_buffered;
			d->direct = false;
		} else if (stx.stx_dio_offset_align) {
			d->dio_mem_align = stx.stx_dio_mem_align > 0 ? stx.stx_dio_mem_align : 1;
			d->dio_offset_align = stx.stx_dio_offset_align;
		}
	}
	if (d->dio_offset_align < PV_DISK_SECTOR)
		d->dio_offset_align = PV_DISK_SECTOR;
}

int pv_disk_open(struct pv_disk *d, const char *path, bool read_only, bool no_direct)
{
	int flags = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct stat st;
	uint64_t size;

	d->fd = d->fd_buffered = -1;
	d->fd_buffered = open(path, flags);
	if (d->fd_buffered < 0)
		return -errno;
	if (fstat(d->fd_buffered, &st) < 0)
		goto fail;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(d->fd_buffered, BLKGETSIZE64, &size) < 0)
			goto fail;
		d->block_device = true;
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
		d->block_device = false;
	} else {
		close(d->fd_buffered);
		return -EINVAL;
	}
	d->size = size / PV_DISK_SECTOR * PV_DISK_SECTOR;
	d->read_only = read_only;
	d->direct = false;
	if (!no_direct) {
		d->fd = open(path, flags | O_DIRECT);
		d->direct = d->fd >= 0;
	}
	if (!d->direct)
		d->fd = d->fd_buffered;
	dio_alignment(d, path);
	return 0;
fail:
	{
		int r = -errno;

		close(d->fd_buffered);
		return r;
	}
}

void pv_disk_close(struct pv_disk *d)
{
	if (d->fd >= 0 && d->fd != d->fd_buffered)
		close(d->fd);
	if (d->fd_buffered >= 0)
		close(d->fd_buffered);
	d->fd = d->fd_buffered = -1;
}

static int range_ok(struct pv_disk *d, uint64_t sector, uint32_t nsect)
{
	return sector <= d->size / PV_DISK_SECTOR && nsect <= d->size / PV_DISK_SECTOR - sector;
}

int pv_disk_read(struct pv_disk *d, uint64_t sector, void *buf, uint32_t nsect)
{
	size_t len = (size_t)nsect * PV_DISK_SECTOR, done = 0;

	if (!range_ok(d, sector, nsect))
		return -EINVAL;
	while (done < len) {
		ssize_t n = pread(d->fd_buffered, (char *)buf + done, len - done,
				  (off_t)(sector * PV_DISK_SECTOR + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

int pv_disk_write(struct pv_disk *d, uint64_t sector, const void *buf, uint32_t nsect)
{
	size_t len = (size_t)nsect * PV_DISK_SECTOR, done = 0;

	if (d->read_only)
		return -EROFS;
	if (!range_ok(d, sector, nsect))
		return -EINVAL;
	while (done < len) {
		ssize_t n = pwrite(d->fd_buffered, (const char *)buf + done, len - done,
				   (off_t)(sector * PV_DISK_SECTOR + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ENOSPC;
		done += (size_t)n;
	}
	return 0;
}

int pv_disk_flush(struct pv_disk *d)
{
	return fdatasync(d->fd_buffered) < 0 ? -errno : 0;
}
