/* SPDX-License-Identifier: MIT */
/*
 * ata: drives the emulated ATA disk with the SDK driver.  The command line
 * is a script of space-separated operations; each prints one line:
 *   init:M             pv_ata_init with multiple count M
 *   id                 IDENTIFY words the host checks
 *   flags:F            driver flags (1: no MULTIPLE, 2: force LBA48)
 *   mult:N             SET MULTIPLE MODE
 *   w:LBA:N:SEED       write N sectors of pattern SEED at LBA
 *   r:LBA:N:SEED       read them back and compare with the pattern
 *   rq:LBA:N           read, no check (exit accounting)
 *   flush
 *   cmd:C:F:N:LBA      raw no-data command, prints status and error
 *   cmd48:C:F:N:LBA    same with LBA48 task file
 *   reset              SRST
 *   weird              odd-sized and stray data-port accesses
 *   dev1               device 1 is absent
 *   hob                HOB register read-back
 *   chs:C:H:S:SEED     READ SECTORS of one sector by CHS, compare
 * Numbers are decimal or 0x hex.  Exit status: 0.
 */
#include <pv/guest/io.h>
#include <pv/guest/ata.h>
#include <pv/guest/sdk.h>

static struct pv_ata_dev d;
static uint8_t buf[128 * PV_ATA_SECTOR] __attribute__((aligned(4096)));
static uint16_t id[256];

#include "ata_pattern.h"

static void fill(uint64_t seed, uint64_t lba, uint32_t n)
{
	uint64_t *w = (uint64_t *)buf;

	for (uint32_t s = 0; s < n; s++)
		for (unsigned int j = 0; j < PV_ATA_SECTOR / 8; j++)
			*w++ = pat(seed, lba + s, j);
}

/* Sectors that differ from the pattern. */
static uint32_t check(uint64_t seed, uint64_t lba, uint32_t n)
{
	const uint64_t *w = (const uint64_t *)buf;
	uint32_t bad = 0;

	for (uint32_t s = 0; s < n; s++) {
		int ok = 1;

		for (unsigned int j = 0; j < PV_ATA_SECTOR / 8; j++)
			if (*w++ != pat(seed, lba + s, j))
				ok = 0;
		bad += !ok;
	}
	return bad;
}

/* Parse up to 4 ':'-separated numbers after the operation name. */
static int args(const char *s, unsigned long long *a, int max)
{
	int n = 0;

	while (*s == ':' && n < max) {
		a[n++] = pv_strtoull(s + 1, &s);
	}
	return n;
}

static void weird(void)
{
	uint8_t b;
	uint32_t l;
	uint16_t w, st;
	int same;

	pv_ata_identify(&d, id);
	/* IDENTIFY by hand, read with odd sizes. */
	pv_outb(0x1F6, 0xE0);
	pv_outb(0x1F7, 0xEC);
	st = pv_inb(0x1F7);
	b = pv_inb(0x1F0);                  /* 8-bit data read: ignored */
	l = pv_inl(0x1F0);                  /* 32-bit: two words */
	buf[0] = (uint8_t)l;
	buf[1] = (uint8_t)(l >> 8);
	buf[2] = (uint8_t)(l >> 16);
	buf[3] = (uint8_t)(l >> 24);
	__asm__ __volatile__("cld; rep insw" : : "D"(buf + 4), "c"(254ul), "d"(0x1F0) : "memory");
	same = memcmp(buf, id, 512) == 0;
	w = pv_inw(0x1F0);                  /* no DRQ any more */
	pv_printf("weird st=%02x b=%02x same=%d after=%04x st=%02x", st, b, same, w, pv_inb(0x1F7));
	pv_outw(0x1F0, 0x1234);             /* stray write */
	w = pv_inw(0x1F7);                  /* 16-bit at 0x1F7 runs past the device */
	pv_printf(" w7=%04x st=%02x\n", w, pv_inb(0x1F7));
}

static void dev1(void)
{
	uint8_t st, st2, alt;

	pv_outb(0x1F6, 0xF0);               /* LBA, device 1 */
	st = pv_inb(0x1F7);
	alt = pv_inb(0x3F6);
	pv_outb(0x1F7, 0xEC);               /* ignored */
	st2 = pv_inb(0x1F7);
	pv_outb(0x1F6, 0xE0);
	pv_printf("dev1 st=%02x alt=%02x after=%02x dev0=%02x\n", st, alt, st2, pv_inb(0x1F7));
}

static void chs(unsigned int c, unsigned int h, unsigned int s, uint64_t seed)
{
	uint8_t st;

	pv_outb(0x1F2, 1);
	pv_outb(0x1F3, (uint8_t)s);
	pv_outb(0x1F4, (uint8_t)c);
	pv_outb(0x1F5, (uint8_t)(c >> 8));
	pv_outb(0x1F6, (uint8_t)(0xA0 | (h & 0x0F))); /* LBA bit clear: CHS */
	pv_outb(0x1F7, 0x20);
	st = pv_inb(0x1F7);
	if (!(st & PV_ATA_ST_DRQ)) {
		pv_printf("chs st=%02x err=%02x\n", st, pv_inb(0x1F1));
		return;
	}
	__asm__ __volatile__("cld; rep insw" : : "D"(buf), "c"(256ul), "d"(0x1F0) : "memory");
	pv_printf("chs st=%02x bad=%u\n", pv_inb(0x1F7), check(seed, ((uint64_t)c * 16 + h) * 63 + s - 1, 1));
}

static void hob(void)
{
	uint8_t cur, prev;

	pv_outb(0x1F2, 0x12);
	pv_outb(0x1F2, 0x34);
	cur = pv_inb(0x1F2);
	pv_outb(0x3F6, 0x82);               /* HOB + nIEN */
	prev = pv_inb(0x1F2);
	pv_outb(0x1F3, 0x56);               /* clears HOB */
	pv_printf("hob cur=%02x prev=%02x after=%02x\n", cur, prev, pv_inb(0x1F2));
	pv_outb(0x3F6, 0x02);
}

int pv_main(const struct pv_boot_info *bi)
{
	const char *p = pv_cmdline();

	(void)bi;
	while (*p) {
		unsigned long long a[4] = { 0 };
		char op[16];
		int n = 0, r;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		while (*p && *p != ' ' && *p != ':' && n < 15)
			op[n++] = *p++;
		op[n] = 0;
		n = args(p, a, 4);
		while (*p && *p != ' ')
			p++;
		if (!strcmp(op, "init")) {
			r = pv_ata_init(&d, (unsigned int)a[0]);
			pv_printf("init %d cap=%llu cap28=%u lba48=%d mult=%u max=%u model=%s serial=%s fw=%s\n", r,
				  (unsigned long long)d.sectors, d.sectors28, d.lba48, d.mult, d.max_mult, d.model,
				  d.serial, d.firmware);
		} else if (!strcmp(op, "id")) {
			uint8_t sum = 0;

			r = pv_ata_identify(&d, id);
			for (int i = 0; i < 256; i++)
				sum = (uint8_t)(sum + (id[i] & 0xFF) + (id[i] >> 8));
			pv_printf("id %d w0=%04x w47=%04x w49=%04x w59=%04x w60=%04x w61=%04x w83=%04x w86=%04x "
				  "w100=%04x w101=%04x w102=%04x w103=%04x sum=%02x\n",
				  r, id[0], id[47], id[49], id[59], id[60], id[61], id[83], id[86], id[100], id[101],
				  id[102], id[103], sum);
		} else if (!strcmp(op, "flags")) {
			d.flags = (unsigned int)a[0];
		} else if (!strcmp(op, "mult")) {
			r = pv_ata_set_multiple(&d, (unsigned int)a[0]);
			pv_printf("mult %llu %d\n", a[0], r);
		} else if ((!strcmp(op, "w") || !strcmp(op, "r") || !strcmp(op, "rq")) && n >= 2) {
			uint32_t cnt = (uint32_t)a[1];

			if (cnt > sizeof(buf) / PV_ATA_SECTOR) {
				pv_printf("%s too big\n", op);
				continue;
			}
			if (op[0] == 'w') {
				fill(a[2], a[0], cnt);
				r = pv_ata_write(&d, a[0], cnt, buf);
				pv_printf("w %llu %u %d", a[0], cnt, r);
			} else {
				r = pv_ata_read(&d, a[0], cnt, buf);
				pv_printf("%s %llu %u %d", op, a[0], cnt, r);
				if (op[1] != 'q')
					pv_printf(" bad=%u", r ? cnt : check(a[2], a[0], cnt));
			}
			if (r)
				pv_printf(" st=%02x err=%02x", d.status, d.error);
			pv_printf("\n");
		} else if (!strcmp(op, "flush")) {
			r = pv_ata_flush(&d);
			pv_printf("flush %d\n", r);
		} else if ((!strcmp(op, "cmd") || !strcmp(op, "cmd48")) && n == 4) {
			r = pv_ata_command(&d, (uint8_t)a[0], (uint8_t)a[1], (uint16_t)a[2], a[3],
					   op[3] ? PV_ATA_F_LBA48 : 0);
			pv_printf("cmd %02llx st=%02x err=%02x lba=%02x%02x%02x\n", a[0], r, d.error, pv_inb(0x1F5),
				  pv_inb(0x1F4), pv_inb(0x1F3));
		} else if (!strcmp(op, "reset")) {
			r = pv_ata_reset(&d);
			pv_printf("reset %d st=%02x err=%02x nsect=%02x lbal=%02x\n", r, d.status, pv_inb(0x1F1),
				  pv_inb(0x1F2), pv_inb(0x1F3));
		} else if (!strcmp(op, "weird")) {
			weird();
		} else if (!strcmp(op, "dev1")) {
			dev1();
		} else if (!strcmp(op, "chs") && n == 4) {
			chs((unsigned int)a[0], (unsigned int)a[1], (unsigned int)a[2], a[3]);
		} else if (!strcmp(op, "hob")) {
			hob();
		} else {
			pv_printf("unknown op %s\n", op);
		}
	}
	return 0;
}
