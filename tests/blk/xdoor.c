/* SPDX-License-Identifier: MIT */
/*
 * xdoor: one disk, two doors.  Command line "DOOR OP SEED LBA:N ...":
 * DOOR pv or ata; OP write (fill each range with the pattern of SEED) or
 * check (read each range and compare).  A range "flush" flushes the disk
 * instead.  Prints "ok" or the first mismatch.
 */
#include <pv/guest/ata.h>
#include <pv/guest/blkfront.h>
#include <pv/guest/sdk.h>

static unsigned char pool[256 * 512] __attribute__((aligned(4096)));
static unsigned char ring[64 * 1024] __attribute__((aligned(4096)));
static struct pvblk_front f;
static struct pv_ata_dev ata;

static unsigned char pat(unsigned long long seed, unsigned long long lba, unsigned int i)
{
	return (unsigned char)(seed * 31 + lba * 7 + i * 3 + (i >> 8));
}

static long flush(int use_pv)
{
	struct pvblk_rsp rsp;
	long r;

	if (!use_pv)
		return pv_ata_flush(&ata);
	r = pvblk_front_queue(&f, PVBLK_OP_FLUSH, 0, 0, 0, 0, 0, 0);
	if (r)
		return r;
	pvblk_front_kick(&f);
	r = pvblk_front_wait(&f, &rsp);
	return r ? r : rsp.status ? PV_EIO : 0;
}

static long io(int use_pv, int write, unsigned long long lba, unsigned int n)
{
	struct pvblk_rsp rsp;
	long r;

	if (!use_pv)
		return write ? pv_ata_write(&ata, lba, n, pool) : pv_ata_read(&ata, lba, n, pool);
	r = pvblk_front_queue(&f, write ? PVBLK_OP_WRITE : PVBLK_OP_READ, 0, lba, pool, n * 512ul, 0, lba);
	if (r)
		return r;
	pvblk_front_kick(&f);
	r = pvblk_front_wait(&f, &rsp);
	return r ? r : rsp.status ? PV_EIO : 0;
}

int pv_main(const struct pv_boot_info *bi)
{
	const char *p = pv_cmdline();
	int use_pv = !strncmp(p, "pv ", 3), write;
	unsigned long long seed;
	long r;

	(void)bi;
	p += use_pv ? 3 : 4;
	write = !strncmp(p, "write ", 6);
	p += 6; /* "write " or "check " */
	seed = pv_strtoull(p, &p);
	r = use_pv ? pvblk_front_init(&f, ring, sizeof(ring), 64, pool, sizeof(pool)) : pv_ata_init(&ata, 16);
	if (r) {
		pv_printf("init failed: %ld\n", r);
		return 1;
	}
	while (*p == ' ') {
		if (!strncmp(p, " flush", 6)) {
			p += 6;
			r = flush(use_pv);
			if (r) {
				pv_printf("flush error %ld\n", r);
				return 1;
			}
			continue;
		}
		unsigned long long lba = pv_strtoull(p + 1, &p);
		unsigned int n = (unsigned int)pv_strtoull(p + 1, &p);

		if (n == 0 || n > 256)
			return 2;
		for (unsigned int i = 0; write && i < n * 512; i++)
			pool[i] = pat(seed, lba + i / 512, i % 512);
		r = io(use_pv, write, lba, n);
		if (r) {
			pv_printf("io error %ld at %llu\n", r, lba);
			return 1;
		}
		for (unsigned int i = 0; !write && i < n * 512; i++) {
			if (pool[i] != pat(seed, lba + i / 512, i % 512)) {
				pv_printf("mismatch at sector %llu byte %u\n", lba + i / 512, i % 512);
				return 1;
			}
		}
	}
	pv_printf("ok\n");
	return 0;
}
