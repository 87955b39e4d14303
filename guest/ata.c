/* SPDX-License-Identifier: MIT */
/* Guest driver for the emulated ATA PIO disk: see <pv/guest/ata.h>. */
#include <pv/guest/io.h>
#include <pv/guest/ata.h>
#include <pv/guest/sdk.h>

/* Command block register offsets from d->io */
#define R_DATA    0
#define R_FEATURE 1 /* error when read */
#define R_NSECT   2
#define R_LBAL    3
#define R_LBAM    4
#define R_LBAH    5
#define R_DEVICE  6
#define R_COMMAND 7 /* status when read */

#define CTL_SRST 0x04
#define CTL_NIEN 0x02
#define DEV_LBA  0x40
#define DEV_OBS  0xA0 /* obsolete bits, set by tradition */

#define POLL_MAX 100000u



/* One string instruction per DRQ block, as real drivers do. */
static inline void insw(uint16_t port, void *buf, unsigned long words)
{
	__asm__ __volatile__("cld; rep insw" : "+D"(buf), "+c"(words) : "d"(port) : "memory", "cc");
}

static inline void outsw(uint16_t port, const void *buf, unsigned long words)
{
	__asm__ __volatile__("cld; rep outsw" : "+S"(buf), "+c"(words) : "d"(port) : "memory", "cc");
}

/* Read the status register (acknowledges the device) until BSY clears. */
static int wait_ready(struct pv_ata_dev *d)
{
	for (unsigned int i = 0; i < POLL_MAX; i++) {
		uint8_t st = pv_inb((uint16_t)(d->io + R_COMMAND));

		if (!(st & PV_ATA_ST_BSY)) {
			d->status = st;
			return st;
		}
	}
	return PV_ETIMEDOUT;
}

/* The error of a status with ERR or DF set. */
static int ata_error(struct pv_ata_dev *d)
{
	d->error = pv_inb((uint16_t)(d->io + R_FEATURE));
	if (d->status & PV_ATA_ST_DF)
		return PV_EIO;
	if (d->error & PV_ATA_ER_IDNF)
		return PV_ERANGE;
	if (d->error & PV_ATA_ER_UNC)
		return PV_EIO;
	if (d->error & PV_ATA_ER_ABRT)
		return PV_EPERM;
	return PV_EIO;
}

/* Wait, then expect DRQ (want_drq) or its absence; 0 or an error. */
static int wait_phase(struct pv_ata_dev *d, int want_drq)
{
	int st = wait_ready(d);

	if (st < 0)
		return st;
	if (st & (PV_ATA_ST_ERR | PV_ATA_ST_DF))
		return ata_error(d);
	d->error = 0;
	if (!!(st & PV_ATA_ST_DRQ) != !!want_drq)
		return PV_EIO;
	return 0;
}

static void load_taskfile(struct pv_ata_dev *d, uint8_t feature, uint32_t count, uint64_t lba, int ext,
			  int with_feature)
{
	uint16_t io = d->io;

	if (ext) {
		if (with_feature)
			pv_outb((uint16_t)(io + R_FEATURE), 0);
		pv_outb((uint16_t)(io + R_NSECT), (uint8_t)(count >> 8));
		pv_outb((uint16_t)(io + R_LBAL), (uint8_t)(lba >> 24));
		pv_outb((uint16_t)(io + R_LBAM), (uint8_t)(lba >> 32));
		pv_outb((uint16_t)(io + R_LBAH), (uint8_t)(lba >> 40));
	}
	if (with_feature)
		pv_outb((uint16_t)(io + R_FEATURE), feature);
	pv_outb((uint16_t)(io + R_NSECT), (uint8_t)count);
	pv_outb((uint16_t)(io + R_LBAL), (uint8_t)lba);
	pv_outb((uint16_t)(io + R_LBAM), (uint8_t)(lba >> 8));
	pv_outb((uint16_t)(io + R_LBAH), (uint8_t)(lba >> 16));
	pv_outb((uint16_t)(io + R_DEVICE), (uint8_t)(DEV_OBS | DEV_LBA | (ext ? 0 : (lba >> 24) & 0x0F)));
}

static void issue(struct pv_ata_dev *d, uint8_t cmd)
{
	d->commands++;
	pv_outb((uint16_t)(d->io + R_COMMAND), cmd);
}

int pv_ata_command(struct pv_ata_dev *d, uint8_t cmd, uint8_t feature, uint16_t count, uint64_t lba,
		   unsigned int flags)
{
	int st;

	load_taskfile(d, feature, count, lba, !!(flags & PV_ATA_F_LBA48), 1);
	issue(d, cmd);
	st = wait_ready(d);
	if (st >= 0 && (st & PV_ATA_ST_ERR))
		d->error = pv_inb((uint16_t)(d->io + R_FEATURE));
	else if (st >= 0)
		d->error = 0;
	return st;
}

static void trim_copy(char *dst, const uint16_t *w, unsigned int words)
{
	unsigned int n = 2 * words;

	for (unsigned int i = 0; i < words; i++) {
		dst[2 * i] = (char)(w[i] >> 8); /* first character in the high byte */
		dst[2 * i + 1] = (char)w[i];
	}
	while (n && (dst[n - 1] == ' ' || dst[n - 1] == 0))
		n--;
	dst[n] = 0;
}

int pv_ata_identify(struct pv_ata_dev *d, uint16_t id[256])
{
	int r;

	pv_outb((uint16_t)(d->io + R_DEVICE), DEV_OBS | DEV_LBA);
	issue(d, 0xEC);
	r = wait_phase(d, 1);
	if (r < 0)
		return r;
	insw(d->io, id, 256);
	r = wait_phase(d, 0);
	if (r < 0)
		return r;
	d->sectors28 = (uint32_t)id[60] | (uint32_t)id[61] << 16;
	d->lba48 = !!(id[83] & (1u << 10)) && (id[83] & 0xC000) == 0x4000;
	d->sectors = d->lba48 ? (uint64_t)id[100] | (uint64_t)id[101] << 16 | (uint64_t)id[102] << 32 |
					(uint64_t)id[103] << 48
			      : d->sectors28;
	d->max_mult = id[47] & 0xFF;
	d->mult = (id[59] & 0x100) ? id[59] & 0xFF : 0;
	trim_copy(d->serial, &id[10], 10);
	trim_copy(d->firmware, &id[23], 4);
	trim_copy(d->model, &id[27], 20);
	return 0;
}

int pv_ata_set_multiple(struct pv_ata_dev *d, unsigned int n)
{
	int r;

	if (n > 255)
		return PV_EINVAL;
	pv_outb((uint16_t)(d->io + R_NSECT), (uint8_t)n);
	pv_outb((uint16_t)(d->io + R_DEVICE), DEV_OBS | DEV_LBA);
	issue(d, 0xC6);
	r = wait_phase(d, 0);
	if (r == 0)
		d->mult = n;
	return r;
}

int pv_ata_reset(struct pv_ata_dev *d)
{
	int st;

	pv_outb(d->ctl, CTL_NIEN | CTL_SRST);
	pv_outb(d->ctl, CTL_NIEN);
	st = wait_ready(d);
	return st < 0 ? st : 0;
}

int pv_ata_init(struct pv_ata_dev *d, unsigned int mult)
{
	static uint16_t id[256];
	uint8_t st;
	int r;

	memset(d, 0, sizeof(*d));
	d->io = 0x1F0;
	d->ctl = 0x3F6;
	pv_outb(d->ctl, CTL_NIEN);
	pv_outb((uint16_t)(d->io + R_DEVICE), DEV_OBS | DEV_LBA);
	st = pv_inb((uint16_t)(d->io + R_COMMAND));
	if (st == 0xFF || st == 0)
		return PV_ENOENT; /* floating bus, or nothing behind device 0 */
	/* Registers that hold what was written: a device is there. */
	pv_outb((uint16_t)(d->io + R_NSECT), 0x55);
	pv_outb((uint16_t)(d->io + R_LBAL), 0xAA);
	if (pv_inb((uint16_t)(d->io + R_NSECT)) != 0x55 || pv_inb((uint16_t)(d->io + R_LBAL)) != 0xAA)
		return PV_ENOENT;
	if (wait_ready(d) < 0)
		return PV_ETIMEDOUT;
	r = pv_ata_identify(d, id);
	if (r < 0)
		return r;
	if (mult) {
		unsigned int m = 1;

		while (m * 2 <= mult && m * 2 <= d->max_mult)
			m *= 2;
		if (m > d->max_mult)
			return PV_EPERM;
		r = pv_ata_set_multiple(d, m);
	}
	return r;
}

/* One command for up to `*n` sectors (it may take fewer, stored in *n). */
static int transfer(struct pv_ata_dev *d, uint64_t lba, uint32_t *n, uint8_t *buf, int write)
{
	uint32_t count = *n, block, left;
	int ext = !!(d->flags & PV_ATA_F_LBA48), multiple = d->mult && !(d->flags & PV_ATA_F_NO_MULTIPLE);
	uint8_t cmd;
	int r;

	if (!ext && (count > 256 || lba + count >= (1ull << 28))) {
		if (d->lba48)
			ext = 1;
		else if (count > 256)
			count = 256;
		if (!ext && lba + count >= (1ull << 28))
			return PV_ERANGE;
	}
	if (ext && count > 65536)
		count = 65536;
	if (ext && lba + count > (1ull << 48))
		return PV_ERANGE;
	*n = count;
	if (multiple)
		cmd = write ? (ext ? 0x39 : 0xC5) : (ext ? 0x29 : 0xC4);
	else
		cmd = write ? (ext ? 0x34 : 0x30) : (ext ? 0x24 : 0x20);
	block = multiple ? d->mult : 1;
	load_taskfile(d, 0, count, lba, ext, 0);
	issue(d, cmd);
	for (left = count; left;) {
		uint32_t s = left < block ? left : block;

		r = wait_phase(d, 1);
		if (r < 0)
			return r;
		if (write)
			outsw(d->io, buf, s * (PV_ATA_SECTOR / 2));
		else
			insw(d->io, buf, s * (PV_ATA_SECTOR / 2));
		buf += s * PV_ATA_SECTOR;
		left -= s;
	}
	return wait_phase(d, 0);
}

static int rw(struct pv_ata_dev *d, uint64_t lba, uint32_t count, uint8_t *buf, int write)
{
	if (!buf && count)
		return PV_EINVAL;
	while (count) {
		uint32_t n = count;
		int r = transfer(d, lba, &n, buf, write);

		if (r < 0)
			return r;
		lba += n;
		buf += (uint64_t)n * PV_ATA_SECTOR;
		count -= n;
	}
	return 0;
}

int pv_ata_read(struct pv_ata_dev *d, uint64_t lba, uint32_t count, void *buf)
{
	return rw(d, lba, count, buf, 0);
}

int pv_ata_write(struct pv_ata_dev *d, uint64_t lba, uint32_t count, const void *buf)
{
	return rw(d, lba, count, (uint8_t *)(uintptr_t)buf, 1);
}

int pv_ata_flush(struct pv_ata_dev *d)
{
	pv_outb((uint16_t)(d->io + R_DEVICE), DEV_OBS | DEV_LBA);
	issue(d, d->lba48 ? 0xEA : 0xE7);
	return wait_phase(d, 0);
}
