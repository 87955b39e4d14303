/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The emulated twin of the PV disk: an ATA PIO disk on the legacy ports.
 * See ata.h for what it implements.  Everything the guest writes is
 * untrusted: every sector range is checked against the disk before the
 * backing store is touched, and the data buffer is only ever indexed below
 * `end`, which never exceeds its size.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <pv/ata.h>
#include <pv/device.h>

#include "disk.h"

/* Status register */
#define ST_BSY  0x80
#define ST_DRDY 0x40
#define ST_DF   0x20
#define ST_DSC  0x10
#define ST_DRQ  0x08
#define ST_ERR  0x01
/* Error register */
#define ER_UNC  0x40
#define ER_IDNF 0x10
#define ER_ABRT 0x04
/* Device register */
#define DEV_LBA 0x40
#define DEV_DEV 0x10
/* Device control register */
#define CTL_HOB  0x80
#define CTL_SRST 0x04
#define CTL_NIEN 0x02

/* Command block registers by port offset */
enum { R_DATA, R_FEATURE, R_NSECT, R_LBAL, R_LBAM, R_LBAH, R_DEVICE, R_COMMAND };

#define HEADS 16u
#define SPT   63u

enum xfer { X_NONE, X_READ, X_WRITE, X_IDENTIFY };

struct pv_ata {
	pthread_mutex_t lock;
	struct pv_vm *vm;
	struct pv_disk *disk;  /* &store */
	struct pv_disk store;
	uint64_t nsect_total;  /* capacity in sectors */
	uint32_t cyls;         /* CHS geometry: cyls x HEADS x SPT */

	/* Task file: cur[] is what a read returns, hob[] the previous write. */
	uint8_t cur[6], hob[6]; /* indexed by R_FEATURE..R_LBAH */
	uint8_t device, ctl, status, error;
	unsigned int mult;      /* sectors per DRQ block for *MULTIPLE, 0: off */
	bool intrq;             /* the device asserts INTRQ (until a status read) */
	bool irq_level;         /* what IRQ 14 was last set to */

	/* The command in progress */
	enum xfer xfer;
	uint8_t cmd;
	uint64_t lba;           /* next sector to transfer to/from the store */
	uint32_t left;          /* sectors not yet transferred, incl. the block in buf */
	uint32_t block;         /* sectors per DRQ block for this command */
	uint32_t pos, end;      /* bytes of buf: next, end of the current block */
	uint8_t buf[PV_ATA_MAX_MULT * PV_DISK_SECTOR];

	struct pv_ata_stats st;
};

/* ---- status and errors ---- */

static void finish_ok(struct pv_ata *a)
{
	a->xfer = X_NONE;
	a->pos = a->end = 0;
	a->status = ST_DRDY | ST_DSC;
}

static void set_lba_regs(struct pv_ata *a, uint64_t lba, bool lba48)
{
	if (!lba48 && !(a->device & DEV_LBA)) { /* a CHS command: report CHS */
		uint64_t cyl = lba / (HEADS * SPT);

		if (cyl > 0xFFFF)
			cyl = 0xFFFF;
		a->cur[R_LBAL] = (uint8_t)(lba % SPT + 1);
		a->cur[R_LBAM] = (uint8_t)cyl;
		a->cur[R_LBAH] = (uint8_t)(cyl >> 8);
		a->device = (uint8_t)((a->device & 0xF0) | (lba / SPT % HEADS));
		return;
	}
	a->cur[R_LBAL] = (uint8_t)lba;
	a->cur[R_LBAM] = (uint8_t)(lba >> 8);
	a->cur[R_LBAH] = (uint8_t)(lba >> 16);
	if (lba48) {
		a->hob[R_LBAL] = (uint8_t)(lba >> 24);
		a->hob[R_LBAM] = (uint8_t)(lba >> 32);
		a->hob[R_LBAH] = (uint8_t)(lba >> 40);
	} else {
		a->device = (uint8_t)((a->device & 0xF0) | ((lba >> 24) & 0x0F));
	}
}

static bool is_lba48(uint8_t cmd)
{
	return cmd == 0x24 || cmd == 0x34 || cmd == 0x29 || cmd == 0x39 || cmd == 0xEA;
}

static void fail(struct pv_ata *a, uint8_t status, uint8_t error)
{
	a->xfer = X_NONE;
	a->pos = a->end = 0;
	a->status = (uint8_t)(ST_DRDY | ST_DSC | ST_ERR | status);
	a->error = error;
	a->st.errors++;
}

/* An error that names a sector: the LBA registers report it. */
static void fail_at(struct pv_ata *a, uint8_t status, uint8_t error, uint64_t lba)
{
	fail(a, status, error);
	set_lba_regs(a, lba, is_lba48(a->cmd));
}

static void abort_cmd(struct pv_ata *a)
{
	fail(a, 0, ER_ABRT);
}

/* ---- IDENTIFY DEVICE ---- */

static void id_string(uint16_t *w, const char *s, unsigned int words)
{
	size_t n = strlen(s);

	/* Two characters a word, the first in the high byte; space padded. */
	for (unsigned int i = 0; i < words; i++) {
		uint8_t hi = 2 * i < n ? (uint8_t)s[2 * i] : ' ';
		uint8_t lo = 2 * i + 1 < n ? (uint8_t)s[2 * i + 1] : ' ';

		w[i] = (uint16_t)(hi << 8 | lo);
	}
}

static void identify(struct pv_ata *a)
{
	uint16_t w[256];
	uint64_t n = a->nsect_total;
	uint32_t chs = a->cyls * HEADS * SPT;
	uint32_t lba28 = n > 0x0FFFFFFFu ? 0x0FFFFFFFu : (uint32_t)n;
	uint8_t sum = 0;

	memset(w, 0, sizeof(w));
	w[0] = 0x0040;                  /* fixed device */
	w[1] = (uint16_t)a->cyls;
	w[3] = HEADS;
	w[6] = SPT;
	id_string(&w[10], "PV0000000001", 10);
	id_string(&w[23], "0.1.0", 4);
	id_string(&w[27], "libpv emulated ATA disk", 20);
	w[47] = 0x8000 | PV_ATA_MAX_MULT;
	w[49] = 0x0200;                 /* LBA supported (no DMA) */
	w[50] = 0x4000;
	w[53] = 0x0003;                 /* words 54-58 and 64-70 valid */
	w[54] = (uint16_t)a->cyls;
	w[55] = HEADS;
	w[56] = SPT;
	w[57] = (uint16_t)chs;
	w[58] = (uint16_t)(chs >> 16);
	w[59] = (uint16_t)(a->mult ? 0x0100 | a->mult : 0);
	w[60] = (uint16_t)lba28;
	w[61] = (uint16_t)(lba28 >> 16);
	w[64] = 0x0003;                 /* PIO modes 3 and 4 */
	w[65] = w[66] = w[67] = w[68] = 120;
	w[80] = 0x00F0;                 /* ATA/ATAPI-4 to -7 */
	w[83] = 0x4000 | 0x2000 | 0x1000 | 0x0400; /* FLUSH EXT, FLUSH, LBA48 */
	w[84] = 0x4000;
	w[86] = 0x2000 | 0x1000 | 0x0400;
	w[87] = 0x4000;
	w[100] = (uint16_t)n;
	w[101] = (uint16_t)(n >> 16);
	w[102] = (uint16_t)(n >> 32);
	w[103] = (uint16_t)(n >> 48);
	w[106] = 0x4000;                /* one logical sector per physical sector */
	w[255] = 0x00A5;                /* integrity word: signature, checksum */
	for (unsigned int i = 0; i < 256; i++)
		sum = (uint8_t)(sum + (w[i] & 0xFF) + (w[i] >> 8));
	w[255] = (uint16_t)(((uint8_t)-sum) << 8 | 0xA5);
	for (unsigned int i = 0; i < 256; i++) {
		a->buf[2 * i] = (uint8_t)w[i];
		a->buf[2 * i + 1] = (uint8_t)(w[i] >> 8);
	}
	a->xfer = X_IDENTIFY;
	a->pos = 0;
	a->end = PV_DISK_SECTOR;
	a->status = ST_DRDY | ST_DSC | ST_DRQ;
}

/* ---- data transfer ---- */

/* Read the next DRQ block into buf, or end the command with UNC. */
static void read_block(struct pv_ata *a)
{
	uint32_t n = a->left < a->block ? a->left : a->block;
	int r = pv_disk_read(a->disk, a->lba, a->buf, n);

	if (r < 0) {
		fail_at(a, 0, ER_UNC, a->lba);
		return;
	}
	a->st.sectors_read += n;
	a->st.rd_bytes += (uint64_t)n * PV_DISK_SECTOR;
	a->pos = 0;
	a->end = n * PV_DISK_SECTOR;
	a->status = ST_DRDY | ST_DSC | ST_DRQ;
}

static void start_write_block(struct pv_ata *a)
{
	uint32_t n = a->left < a->block ? a->left : a->block;

	a->pos = 0;
	a->end = n * PV_DISK_SECTOR;
	a->status = ST_DRDY | ST_DSC | ST_DRQ;
}

/* The guest has moved the whole block in buf. */
static void block_done(struct pv_ata *a)
{
	uint32_t n = a->end / PV_DISK_SECTOR;

	switch (a->xfer) {
	case X_IDENTIFY:
		finish_ok(a);
		return;
	case X_READ:
		a->lba += n;
		a->left -= n;
		if (a->left) {
			read_block(a);
			a->intrq = true; /* the next block is ready (or the error) */
		} else {
			a->st.rd_reqs++;
			finish_ok(a);
		}
		return;
	case X_WRITE:
		a->intrq = true; /* each block written: the next one, or the end */
		if (pv_disk_write(a->disk, a->lba, a->buf, n) < 0) {
			fail_at(a, ST_DF, ER_ABRT, a->lba);
			return;
		}
		a->st.sectors_written += n;
		a->st.wr_bytes += (uint64_t)n * PV_DISK_SECTOR;
		a->lba += n;
		a->left -= n;
		if (a->left) {
			start_write_block(a);
		} else {
			a->st.wr_reqs++;
			finish_ok(a);
		}
		return;
	case X_NONE:
		break;
	}
}

static bool drq(const struct pv_ata *a)
{
	return a->xfer != X_NONE && (a->status & ST_DRQ) && a->pos < a->end;
}

static uint16_t data_in16(struct pv_ata *a)
{
	uint16_t v;

	if (!drq(a)) {
		a->st.stray_data++;
		return 0xFFFF;
	}
	if (a->xfer == X_WRITE) { /* wrong direction: ignored */
		a->st.stray_data++;
		return 0xFFFF;
	}
	v = (uint16_t)(a->buf[a->pos] | a->buf[a->pos + 1] << 8);
	a->pos += 2;
	if (a->pos == a->end)
		block_done(a);
	return v;
}

static void data_out16(struct pv_ata *a, uint16_t v)
{
	if (!drq(a) || a->xfer != X_WRITE) {
		a->st.stray_data++;
		return;
	}
	a->buf[a->pos] = (uint8_t)v;
	a->buf[a->pos + 1] = (uint8_t)(v >> 8);
	a->pos += 2;
	if (a->pos == a->end)
		block_done(a);
}

/* ---- commands ---- */

/* Decode the address and count of a read/write command into a->lba and
 * a->left; false (and the command ended) when they are bad. */
static bool decode_range(struct pv_ata *a, bool lba48)
{
	uint64_t lba;
	uint32_t count;

	if (lba48) {
		lba = (uint64_t)a->hob[R_LBAH] << 40 | (uint64_t)a->hob[R_LBAM] << 32 | (uint64_t)a->hob[R_LBAL] << 24 |
		      (uint64_t)a->cur[R_LBAH] << 16 | (uint64_t)a->cur[R_LBAM] << 8 | a->cur[R_LBAL];
		count = (uint32_t)a->hob[R_NSECT] << 8 | a->cur[R_NSECT];
		if (!count)
			count = 65536;
	} else {
		count = a->cur[R_NSECT] ? a->cur[R_NSECT] : 256;
		if (a->device & DEV_LBA) {
			lba = (uint64_t)(a->device & 0x0F) << 24 | (uint64_t)a->cur[R_LBAH] << 16 |
			      (uint64_t)a->cur[R_LBAM] << 8 | a->cur[R_LBAL];
		} else {
			uint32_t cyl = (uint32_t)a->cur[R_LBAH] << 8 | a->cur[R_LBAM];
			uint32_t head = a->device & 0x0F, sect = a->cur[R_LBAL];

			if (!sect || sect > SPT || head >= HEADS || cyl >= a->cyls) {
				fail(a, 0, ER_IDNF);
				return false;
			}
			lba = ((uint64_t)cyl * HEADS + head) * SPT + sect - 1;
		}
	}
	if (lba >= a->nsect_total || count > a->nsect_total - lba) {
		/* The first sector that does not exist. */
		fail_at(a, 0, ER_IDNF, lba >= a->nsect_total ? lba : a->nsect_total);
		return false;
	}
	a->lba = lba;
	a->left = count;
	return true;
}

static void rw_command(struct pv_ata *a, bool write, bool lba48, bool multiple)
{
	if (multiple && !a->mult) {
		abort_cmd(a);
		return;
	}
	if (write && a->disk->read_only) {
		abort_cmd(a);
		return;
	}
	if (!decode_range(a, lba48))
		return;
	a->block = multiple ? a->mult : 1;
	a->xfer = write ? X_WRITE : X_READ;
	if (write)
		start_write_block(a);
	else
		read_block(a);
}

static void diagnostic_signature(struct pv_ata *a)
{
	a->cur[R_NSECT] = 1;
	a->cur[R_LBAL] = 1;
	a->cur[R_LBAM] = 0;
	a->cur[R_LBAH] = 0;
	a->device = 0;
	a->error = 0x01; /* device 0 passed, device 1 absent */
}

static void command(struct pv_ata *a, uint8_t cmd)
{
	unsigned int n;

	a->cmd = cmd;
	a->xfer = X_NONE; /* a new command ends any transfer in progress */
	a->pos = a->end = 0;
	a->error = 0;
	a->status = ST_DRDY | ST_DSC;
	a->st.commands++;
	a->intrq = false;
	switch (cmd) {
	case 0xEC:
		identify(a);
		break;
	case 0x20:
	case 0x21:
		rw_command(a, false, false, false);
		break;
	case 0x30:
	case 0x31:
		rw_command(a, true, false, false);
		break;
	case 0x24:
		rw_command(a, false, true, false);
		break;
	case 0x34:
		rw_command(a, true, true, false);
		break;
	case 0xC4:
		rw_command(a, false, false, true);
		break;
	case 0xC5:
		rw_command(a, true, false, true);
		break;
	case 0x29:
		rw_command(a, false, true, true);
		break;
	case 0x39:
		rw_command(a, true, true, true);
		break;
	case 0xC6: /* SET MULTIPLE MODE: a power of two up to the maximum, 0 disables */
		n = a->cur[R_NSECT];
		if (n > PV_ATA_MAX_MULT || (n & (n - 1)))
			abort_cmd(a);
		else
			a->mult = n;
		break;
	case 0xE7:
	case 0xEA:
		if (!a->disk->read_only && pv_disk_flush(a->disk) < 0)
			fail(a, ST_DF, ER_ABRT);
		else
			a->st.fl_reqs++;
		break;
	case 0xEF: /* SET FEATURES: only "set transfer mode" to a PIO mode */
		if (a->cur[R_FEATURE] != 0x03 || (a->cur[R_NSECT] >> 3) > 1 ||
		    (a->cur[R_NSECT] >> 3 == 1 && (a->cur[R_NSECT] & 7) > 4))
			abort_cmd(a);
		break;
	case 0x90: /* EXECUTE DEVICE DIAGNOSTIC */
		diagnostic_signature(a);
		break;
	case 0xE0: /* STANDBY IMMEDIATE (Linux's sd sends it at shutdown) */
	case 0xE1: /* IDLE IMMEDIATE */
		break; /* no spindle: nothing to do */
	case 0xE5: /* CHECK POWER MODE */
		a->cur[R_NSECT] = 0xFF; /* active or idle */
		break;
	default:
		abort_cmd(a);
		break;
	}
	/* Every command interrupts when it is done or has data ready, except a
	 * write, whose first block the driver sends unasked. */
	a->intrq = !(a->xfer == X_WRITE && a->pos == 0);
}

/* Drive IRQ 14 from INTRQ, unless the driver set nIEN (a polling driver;
 * without interrupt controllers the line does not exist). */
static void update_irq(struct pv_ata *a)
{
	bool level = a->intrq && !(a->ctl & CTL_NIEN);

	if (level != a->irq_level) {
		a->irq_level = level;
		pv_vm_irq_line(a->vm, PV_ATA_IRQ, level);
	}
}

static void soft_reset(struct pv_ata *a)
{
	a->xfer = X_NONE;
	a->pos = a->end = 0;
	diagnostic_signature(a);
	a->status = ST_DRDY | ST_DSC;
	a->intrq = false;
}

/* ---- port handlers ---- */

static bool dev1(const struct pv_ata *a)
{
	return a->device & DEV_DEV;
}

static uint8_t reg_read(struct pv_ata *a, unsigned int reg)
{
	switch (reg) {
	case R_FEATURE: /* error */
		return a->error;
	case R_NSECT:
	case R_LBAL:
	case R_LBAM:
	case R_LBAH:
		return (a->ctl & CTL_HOB) ? a->hob[reg] : a->cur[reg];
	case R_DEVICE:
		return a->device;
	case R_COMMAND: /* status; reading it acknowledges the interrupt */
		if (a->ctl & CTL_SRST)
			return ST_BSY;
		if (dev1(a))
			return 0;
		a->intrq = false;
		return a->status;
	}
	return 0xFF;
}

static void reg_write(struct pv_ata *a, unsigned int reg, uint8_t v)
{
	switch (reg) {
	case R_FEATURE:
	case R_NSECT:
	case R_LBAL:
	case R_LBAM:
	case R_LBAH:
		a->hob[reg] = a->cur[reg];
		a->cur[reg] = v;
		a->ctl &= (uint8_t)~CTL_HOB;
		return;
	case R_DEVICE:
		a->device = v;
		a->ctl &= (uint8_t)~CTL_HOB;
		return;
	case R_COMMAND:
		/* Device 1 is absent; while in reset, commands are ignored. */
		if (dev1(a) || (a->ctl & CTL_SRST))
			return;
		command(a, v);
		return;
	}
}

static int io_fn(void *opaque, struct pv_vcpu *vcpu, uint64_t addr, void *data, unsigned int size, bool is_write)
{
	struct pv_ata *a = opaque;
	unsigned int reg = (unsigned int)(addr - PV_ATA_IO);
	uint8_t *p = data;

	(void)vcpu;
	pthread_mutex_lock(&a->lock);
	if (reg == R_DATA && (size == 2 || size == 4)) {
		/* 16-bit PIO, or 32-bit PIO as two words. */
		for (unsigned int i = 0; i < size; i += 2) {
			if (is_write) {
				data_out16(a, (uint16_t)(p[i] | p[i + 1] << 8));
			} else {
				uint16_t v = data_in16(a);

				p[i] = (uint8_t)v;
				p[i + 1] = (uint8_t)(v >> 8);
			}
		}
	} else if (reg == R_DATA) {
		a->st.stray_data++; /* 8-bit data access: ignored */
		if (!is_write)
			memset(p, 0xFF, size);
	} else {
		/* A wider access to the 8-bit registers reaches consecutive
		 * ports, as on the ISA bus; libpv keeps it inside our 8. */
		for (unsigned int i = 0; i < size && reg + i < 8; i++) {
			if (is_write)
				reg_write(a, reg + i, p[i]);
			else
				p[i] = reg_read(a, reg + i);
		}
	}
	update_irq(a);
	pthread_mutex_unlock(&a->lock);
	return 0;
}

static int ctl_fn(void *opaque, struct pv_vcpu *vcpu, uint64_t addr, void *data, unsigned int size, bool is_write)
{
	struct pv_ata *a = opaque;
	uint8_t *p = data;

	(void)vcpu, (void)addr;
	pthread_mutex_lock(&a->lock);
	if (is_write) {
		uint8_t old = a->ctl;

		a->ctl = p[0];
		/* SRST: 1 then 0 resets the device when it is released. */
		if ((old & CTL_SRST) && !(p[0] & CTL_SRST))
			soft_reset(a);
		else if (p[0] & CTL_SRST) {
			a->xfer = X_NONE;
			a->pos = a->end = 0;
		}
	} else {
		/* Alternate status: the status without side effects. */
		p[0] = (a->ctl & CTL_SRST) ? ST_BSY : dev1(a) ? 0 : a->status;
		if (size > 1)
			memset(p + 1, 0xFF, size - 1);
	}
	update_irq(a);
	pthread_mutex_unlock(&a->lock);
	return 0;
}

static void ata_destroy(void *dev)
{
	struct pv_ata *a = dev;

	pv_disk_close(&a->store);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static const struct pv_device_ops ata_ops = {
	.name = "ata",
	.destroy = ata_destroy, /* no thread: nothing to stop */
};

int pv_ata_attach(struct pv_vm *vm, const struct pv_ata_config *cfg, struct pv_ata **out)
{
	struct pv_ata *a;
	uint64_t cyls;
	int r;

	if (out)
		*out = NULL;
	if (!vm || !cfg || !cfg->path || !out)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	pthread_mutex_init(&a->lock, NULL);
	a->vm = vm;
	a->disk = &a->store;
	r = pv_disk_open(a->disk, cfg->path, cfg->read_only, cfg->no_direct);
	if (r == 0 && a->disk->size < PV_DISK_SECTOR) {
		pv_disk_close(a->disk);
		r = -EINVAL;
	}
	if (r == 0) {
		r = pv_vm_add_device(vm, &ata_ops, a);
		if (r < 0)
			pv_disk_close(a->disk);
	}
	if (r < 0) {
		pthread_mutex_destroy(&a->lock);
		free(a);
		return r;
	}
	/* From here on the VM owns a. */
	a->nsect_total = a->disk->size / PV_DISK_SECTOR;
	cyls = a->nsect_total / (HEADS * SPT);
	a->cyls = (uint32_t)(cyls > 16383 ? 16383 : cyls ? cyls : 1);
	a->ctl = CTL_NIEN;
	soft_reset(a);
	a->error = 0x01;
	r = pv_vm_add_pio(vm, "ata", PV_ATA_IO, 8, io_fn, a);
	if (r == 0)
		r = pv_vm_add_pio(vm, "ata-ctl", PV_ATA_CTL, 1, ctl_fn, a);
	if (r < 0)
		return r;
	*out = a;
	return 0;
}

void pv_ata_stats(struct pv_ata *ata, struct pv_ata_stats *st)
{
	if (!ata) {
		memset(st, 0, sizeof(*st));
		return;
	}
	pthread_mutex_lock(&ata->lock);
	*st = ata->st;
	pthread_mutex_unlock(&ata->lock);
}
