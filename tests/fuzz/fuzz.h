/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared pieces of the libFuzzer harnesses: a backend that runs no guest
 * code (so a harness drives libpv's exit handlers directly, as a vCPU
 * thread would), VM set-up and a reset between inputs, and a reader over
 * the fuzzer's bytes.  A harness aborts (a crash for libFuzzer) when an
 * invariant it checks does not hold.
 */
#ifndef PV_FUZZ_H
#define PV_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../libpv/internal.h"

/* Register the no-guest backend as "emu" and create a VM on it
 * (ram_size bytes, vcpus vCPUs); aborts if that fails. */
struct pv_vm *fuzz_vm(uint64_t ram_size, unsigned int vcpus);

/* The same for a PV_PLATFORM_PC VM (the backend claims PV_BACKEND_PC). */
struct pv_vm *fuzz_vm_pc(uint64_t ram_size, unsigned int vcpus);

/* Put vm back as fuzz_vm left it, apart from RAM: no grant table, no event
 * page or port, not stopping, vCPU 0 up and running. */
void fuzz_vm_reset(struct pv_vm *vm);

/* Abort with a message: an invariant broke. */
#define FUZZ_CHECK(cond)                                                                   \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                           \
		}                                                                          \
	} while (0)

/* The fuzzer's bytes, consumed from the front; zeros once they run out. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint64_t fuzz_take(struct fuzz_in *in, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes && in->n; i++, in->p++, in->n--)
		v |= (uint64_t)in->p[0] << (8 * i);
	return v;
}

static inline void fuzz_take_buf(struct fuzz_in *in, void *buf, size_t len)
{
	size_t n = len < in->n ? len : in->n;

	memcpy(buf, in->p, n);
	memset((uint8_t *)buf + n, 0, len - n);
	in->p += n;
	in->n -= n;
}

#endif
