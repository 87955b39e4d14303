/* SPDX-License-Identifier: MIT */
/* blkbench's emulated door: not available until the ATA guest driver lands. */
#include <pv/guest.h>

int blkbench_run_ata(unsigned int op, unsigned int bs, int random, int flush, volatile unsigned int *stop_word,
		     unsigned long long *done, unsigned long long *errors);
int blkbench_run_ata(unsigned int op, unsigned int bs, int random, int flush, volatile unsigned int *stop_word,
		     unsigned long long *done, unsigned long long *errors)
{
	(void)op, (void)bs, (void)random, (void)flush, (void)stop_word, (void)done, (void)errors;
	pv_printf("blkbench: the ata door is not built\n");
	return 1;
}
