/* SPDX-License-Identifier: MIT */
/* hello: the smallest libpv guest. */
#include <pv/guest/sdk.h>

int pv_main(const struct pv_boot_info *bi)
{
	pv_printf("Hello from a libpv guest (ABI v%u, domain %u, %llu MiB RAM, %u vCPU%s)\n", bi->abi_version,
		  bi->domid, bi->ram_size >> 20, bi->nr_vcpus, bi->nr_vcpus == 1 ? "" : "s");
	return 0;
}
