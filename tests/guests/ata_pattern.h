/* SPDX-License-Identifier: MIT */
/* The data pattern of the ATA tests: the guest writes it, the host checks it. */
#ifndef PV_TESTS_ATA_PATTERN_H
#define PV_TESTS_ATA_PATTERN_H

#include <stdint.h>

/* The pattern of one 8-byte word of sector lba. */
static inline uint64_t pat(uint64_t seed, uint64_t lba, unsigned int j)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull ^ lba * 0xD1B54A32D192ED03ull ^ j;

	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 32;
	return x;
}

#endif
