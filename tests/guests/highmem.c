/* SPDX-License-Identifier: MIT */
/*
 * highmem: hypercall arguments are 64-bit.  Writes a message at 5 GiB and
 * prints it with PV_HC_CONSOLE_WRITE from there (the VM needs > 5 GiB RAM).
 */
#include <pv/guest/sdk.h>

int pv_main(const struct pv_boot_info *bi)
{
	char *high = (char *)(uintptr_t)(5ull << 30);
	static const char msg[] = "written at 5 GiB\n";

	if (bi->ram_size < (5ull << 30) + 4096)
		return 3;
	memcpy(high, msg, sizeof(msg) - 1);
	pv_flush();
	return pv_console_write(high, sizeof(msg) - 1) == (long)(sizeof(msg) - 1) ? 0 : 1;
}
