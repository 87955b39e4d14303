/* SPDX-License-Identifier: MIT */
/* blkbench's emulated door: the same workloads through the ATA PIO driver. */
#include <pv/guest/ata.h>
#include <pv/guest/sdk.h>

int blkbench_run_ata(unsigned int op, unsigned int bs, int random, int flush, volatile unsigned int *stop_word,
		     unsigned long long *done, unsigned long long *errors, void *buf,
		     unsigned long long (*pick)(int random, unsigned long long nsect, unsigned long long *seq,
						unsigned long long cap),
		     void (*start)(void));
int blkbench_run_ata(unsigned int op, unsigned int bs, int random, int flush, volatile unsigned int *stop_word,
		     unsigned long long *done, unsigned long long *errors, void *buf,
		     unsigned long long (*pick)(int random, unsigned long long nsect, unsigned long long *seq,
						unsigned long long cap),
		     void (*start)(void))
{
	static struct pv_ata_dev d;
	unsigned long long seq = 0;
	int r = pv_ata_init(&d, 16);

	if (r) {
		pv_printf("blkbench: ata init failed: %d\n", r);
		return 1;
	}
	start();
	/* At least one request per run: under load the stop word may be set
	 * before the drive's set-up above is done, and a run of no requests
	 * has no exits per request. */
	do {
		unsigned long long sector = pick(random, bs / 512, &seq, d.sectors);

		if (op == 0) /* PVBLK_OP_READ */
			r = pv_ata_read(&d, sector, bs / 512, buf);
		else
			r = pv_ata_write(&d, sector, bs / 512, buf);
		if (!r && flush)
			r = pv_ata_flush(&d);
		if (r)
			(*errors)++;
		(*done)++;
	} while (!*stop_word);
	return 0;
}
