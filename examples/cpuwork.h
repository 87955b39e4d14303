/* SPDX-License-Identifier: MIT */
/*
 * pvbench --device cpu: three compute workloads, compiled once into a guest
 * (examples/guests/cpubench.c) and once into pvbench itself with the same
 * compiler flags, so the two times compare the same C code.  Freestanding.
 * Each returns a checksum; both sides must agree.
 *   sieve    primes below n in n bytes of memory that cpuwork_sieve_clear()
 *            zeroed beforehand (untimed: clearing is a store loop, which
 *            `stores` measures)
 *   stores   `rounds` passes of 64-bit stores over `words` words
 *   branchy  `n` steps of a random walk whose branches a predictor cannot learn
 */
#ifndef PV_EXAMPLES_CPUWORK_H
#define PV_EXAMPLES_CPUWORK_H

#define CPUWORK_SIEVE_N     1000000ul
#define CPUWORK_STORE_WORDS (1ul << 17)   /* 1 MiB */
#define CPUWORK_STORE_ROUNDS 16ul
#define CPUWORK_BRANCHY_N   4000000ul

static inline void cpuwork_sieve_clear(unsigned char *buf, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		buf[i] = 0;
}

static inline unsigned long cpuwork_sieve(unsigned char *buf, unsigned long n)
{
	unsigned long count = 0, sum = 0;

	for (unsigned long i = 2; i < n; i++) {
		if (buf[i])
			continue;
		count++;
		sum = sum * 31 + i;
		for (unsigned long j = i * i; j < n; j += i)
			buf[j] = 1;
	}
	return sum ^ count;
}

static inline unsigned long cpuwork_stores(unsigned long *buf, unsigned long words, unsigned long rounds)
{
	unsigned long sum = 0;

	for (unsigned long r = 0; r < rounds; r++) {
		for (unsigned long i = 0; i < words; i++)
			buf[i] = (i * 0x9E3779B97F4A7C15ul) ^ r;
		sum += buf[(r * 7919) % words];
	}
	return sum;
}

static inline unsigned long cpuwork_branchy(unsigned long n)
{
	unsigned long x = 88172645463325252ul, a = 0, b = 1;

	for (unsigned long i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (x & 1) {
			a += x >> 32;
			if (x & 2)
				b ^= a;
			else
				b += i;
		} else if (x & 4) {
			a -= b;
		} else {
			b = (b << 1) | (a & 1);
		}
	}
	return a ^ b;
}

#endif
