/* SPDX-License-Identifier: MIT */
/*
 * devices: talks to the test's device models.  Command line: "MMIO_BASE".
 * Port 0x600 (4 ports): a write latches a value, a read returns it + 1.
 * MMIO page at MMIO_BASE: same at offset 0 (4-byte accesses).
 * Prints what it read back; unclaimed port 0x700 must read as all ones.
 */
#include <pv/guest/io.h>
#include <pv/guest/sdk.h>




int pv_main(const struct pv_boot_info *bi)
{
	volatile unsigned int *mmio = (volatile unsigned int *)(uintptr_t)pv_strtoull(pv_cmdline(), 0);

	(void)bi;
	pv_outl(0x600, 41);
	pv_printf("pio=%u\n", pv_inl(0x600));
	mmio[0] = 99;
	pv_printf("mmio=%u\n", mmio[0]);
	pv_printf("unclaimed=%x\n", pv_inb(0x700));
	return 0;
}
