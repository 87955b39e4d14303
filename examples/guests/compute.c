/* SPDX-License-Identifier: MIT */
/*
 * compute: a small integer workload with no exits until it prints.  It
 * counts primes below N (command line, default 20000) with a sieve and
 * prints the count and a checksum of the sieve.
 */
#include <pv/guest/sdk.h>

static unsigned char sieve[1 << 20];

int pv_main(const struct pv_boot_info *bi)
{
	const char *end;
	unsigned long long n = pv_strtoull(pv_cmdline(), &end);
	unsigned long long count = 0, sum = 0;

	(void)bi;
	if (n == 0)
		n = 20000;
	if (n > sizeof(sieve)) {
		pv_printf("compute: N must be at most %zu\n", sizeof(sieve));
		return 2;
	}
	for (unsigned long long i = 2; i < n; i++) {
		if (sieve[i])
			continue;
		count++;
		sum = sum * 31 + i;
		for (unsigned long long j = i * i; j < n; j += i)
			sieve[j] = 1;
	}
	pv_printf("primes below %llu: %llu (checksum %llx)\n", n, count, sum);
	return 0;
}
