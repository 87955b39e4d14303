/* SPDX-License-Identifier: MIT */
/* exitcode: exits with the status given on its command line (default 0). */
#include <pv/guest/sdk.h>

int pv_main(const struct pv_boot_info *bi)
{
	const char *end;
	unsigned long long v = pv_strtoull(pv_cmdline(), &end);

	(void)bi;
	if (*end && *end != ' ') {
		pv_printf("exitcode: bad command line '%s'\n", pv_cmdline());
		return 255;
	}
	pv_printf("exiting with status %llu\n", v & 0xff);
	return (int)(v & 0xff);
}
