/* SPDX-License-Identifier: MIT */
/*
 * faultio: I/O on a disk whose backing file fails on purpose, for
 * tests/blk/test_faults.c.  Command line "DOOR OP OP ...": DOOR is pv (the
 * PV frontend) or ata (the emulated ATA disk); each OP is one of
 *   r:LBA:N          read N (1..128) sectors at LBA
 *   c:LBA:N:SEED     read them and compare with pattern SEED (ata_pattern.h)
 *   w:LBA:N:SEED     write pattern SEED
 *   f                flush
 * On the pv door, OPs joined by ',' ("r:0:8,w:64:8:3,f") are queued
 * together, published with one kick and matched to their responses by id;
 * at most 8 in a batch.  Each OP prints one line, in command-line order:
 *   pv:   "K LBA N s=S"                S: the response's PVBLK_S_* status,
 *                                      or the frontend's PV_E* error (< 0)
 *   ata:  "K LBA N rc=R st=SS err=EE"  R: the driver's 0 or PV_E*; SS, EE:
 *                                      status and error registers (hex)
 * with " bad=B" added to a c line whose read succeeded (B sectors differ
 * from the pattern), and LBA N "0 0" for f.  The last line is "done".
 * Exit status 0, or 1 when the command line is bad or the door did not open.
 */
#include <pv/guest/ata.h>
#include <pv/guest/blkfront.h>
#include <pv/guest/sdk.h>

#include "../guests/ata_pattern.h"

#define MAXN 128u /* sectors an OP may move */
#define MAXQ 8u   /* OPs in one pv batch */

static unsigned char pool[MAXQ * MAXN * PV_ATA_SECTOR] __attribute__((aligned(4096)));
static unsigned char ring[64 * 1024] __attribute__((aligned(4096)));
static struct pvblk_front f;
static struct pv_ata_dev ata;
static unsigned long long next_id = 1;

struct op {
	char kind;                /* r c w f */
	unsigned long long lba, seed, id;
	unsigned int n;
	unsigned char *buf;
	int status, queued, done;
};

static void fill(unsigned char *b, unsigned long long seed, unsigned long long lba, unsigned int n)
{
	uint64_t *w = (uint64_t *)b;

	for (unsigned int s = 0; s < n; s++)
		for (unsigned int j = 0; j < PV_ATA_SECTOR / 8; j++)
			*w++ = pat(seed, lba + s, j);
}

/* Sectors of b that differ from the pattern. */
static unsigned int bad(const unsigned char *b, unsigned long long seed, unsigned long long lba, unsigned int n)
{
	const uint64_t *w = (const uint64_t *)b;
	unsigned int k = 0;

	for (unsigned int s = 0; s < n; s++) {
		int ok = 1;

		for (unsigned int j = 0; j < PV_ATA_SECTOR / 8; j++)
			ok &= *w++ == pat(seed, lba + s, j);
		k += !ok;
	}
	return k;
}

/* Parse one OP at p into o; returns the end, or 0 when it is malformed. */
static const char *parse(const char *p, struct op *o)
{
	unsigned long long a[3] = { 0, 0, 0 };
	unsigned int want, i = 0;

	o->kind = *p++;
	want = o->kind == 'f' ? 0 : o->kind == 'r' ? 2 : o->kind == 'c' || o->kind == 'w' ? 3 : 99;
	while (*p == ':' && i < 3)
		a[i++] = pv_strtoull(p + 1, &p);
	if (i != want || (want && (a[1] == 0 || a[1] > MAXN)))
		return 0;
	o->lba = a[0];
	o->n = (unsigned int)a[1];
	o->seed = a[2];
	return p;
}

static void print(int pv, const struct op *o)
{
	pv_printf("%c %llu %u", o->kind, o->lba, o->n);
	if (pv)
		pv_printf(" s=%d", o->status);
	else
		pv_printf(" rc=%d st=%02x err=%02x", o->status, ata.status, ata.error);
	if (o->kind == 'c' && o->status == 0)
		pv_printf(" bad=%u", bad(o->buf, o->seed, o->lba, o->n));
	pv_printf("\n");
}

/* Queue every OP of the batch, kick once, collect the responses by id. */
static void pv_batch(struct op *ops, unsigned int n)
{
	unsigned int pending = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct op *o = &ops[i];
		unsigned long len = o->kind == 'f' ? 0 : o->n * (unsigned long)PV_ATA_SECTOR;
		unsigned int op = o->kind == 'f' ? PVBLK_OP_FLUSH : o->kind == 'w' ? PVBLK_OP_WRITE : PVBLK_OP_READ;
		long r;

		o->id = next_id++;
		if (o->kind == 'w')
			fill(o->buf, o->seed, o->lba, o->n);
		else if (len)
			memset(o->buf, 0xa5, len);
		r = pvblk_front_queue(&f, op, 0, o->lba, len ? o->buf : 0, len, 0, o->id);
		o->status = (int)r;
		o->queued = !r;
		pending += !r;
	}
	pvblk_front_kick(&f);
	while (pending) {
		struct pvblk_rsp rsp;
		long r = pvblk_front_wait(&f, &rsp);
		unsigned int i;

		if (r) { /* no more responses: the backend is stuck */
			for (i = 0; i < n; i++)
				if (ops[i].queued && !ops[i].done)
					ops[i].status = (int)r;
			break;
		}
		for (i = 0; i < n && !(ops[i].queued && !ops[i].done && ops[i].id == rsp.id); i++)
			;
		if (i == n) {
			pv_printf("stray response id %llu status %d\n", (unsigned long long)rsp.id, rsp.status);
			continue;
		}
		ops[i].status = rsp.status;
		ops[i].done = 1;
		pending--;
	}
	for (unsigned int i = 0; i < n; i++)
		print(1, &ops[i]);
}

static void ata_op(struct op *o)
{
	switch (o->kind) {
	case 'r':
	case 'c':
		memset(o->buf, 0xa5, o->n * (unsigned long)PV_ATA_SECTOR);
		o->status = pv_ata_read(&ata, o->lba, o->n, o->buf);
		break;
	case 'w':
		fill(o->buf, o->seed, o->lba, o->n);
		o->status = pv_ata_write(&ata, o->lba, o->n, o->buf);
		break;
	default:
		o->status = pv_ata_flush(&ata);
	}
	print(0, o);
}

static int usage(void)
{
	pv_printf("bad command line: %s\n", pv_cmdline());
	return 1;
}

int pv_main(const struct pv_boot_info *bi)
{
	const char *p = pv_cmdline();
	int pv = !strncmp(p, "pv ", 3);
	struct op ops[MAXQ];
	long r;

	(void)bi;
	if (!pv && strncmp(p, "ata ", 4))
		return usage();
	p += pv ? 3 : 4;
	r = pv ? pvblk_front_init(&f, ring, sizeof(ring), 32, pool, sizeof(pool)) : pv_ata_init(&ata, 8);
	if (r) {
		pv_printf("init failed: %ld\n", r);
		return 1;
	}
	while (*p) {
		unsigned int n = 0;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		for (;;) {
			if (n == MAXQ || (n && !pv))
				return usage();
			memset(&ops[n], 0, sizeof(ops[n]));
			ops[n].buf = pool + n * MAXN * PV_ATA_SECTOR;
			p = parse(p, &ops[n++]);
			if (!p)
				return usage();
			if (*p != ',')
				break;
			p++;
		}
		if (*p && *p != ' ')
			return usage();
		if (pv)
			pv_batch(ops, n);
		else
			ata_op(&ops[0]);
	}
	pv_printf("done\n");
	return 0;
}
