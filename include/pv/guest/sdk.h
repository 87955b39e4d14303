/* SPDX-License-Identifier: MIT */
/*
 * The libpv guest SDK: a freestanding runtime for guest kernels.
 *
 * A guest is one C file that defines pv_main() and links with the SDK's
 * entry stub, linker script and this small library (see examples/guests).
 * The entry stub sets up a stack (the loader has zeroed .bss) and calls
 * pv_main(boot_info); when pv_main returns, its value is the VM's exit
 * status.  Console output is line-buffered: pv_printf sends a line with one
 * hypercall, so the number of exits does not depend on the backend.
 */
#ifndef PV_GUEST_H
#define PV_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "../abi/core.h"
#include "hypercall.h"

/* Defined by the guest. */
int pv_main(const struct pv_boot_info *bi);

/* The boot information the guest was started with. */
extern const struct pv_boot_info *pv_boot;

/* printf subset: %d %i %u %x %X %p %s %c %%, with flags '-' '0', width,
 * precision for %s, and length modifiers l, ll, z. */
int pv_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int pv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int pv_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Write a string, buffered; pv_flush sends what is buffered. */
void pv_puts(const char *s);
void pv_flush(void);

/* Read the time-stamp counter: no exit on either backend. */
static inline unsigned long long pv_rdtsc(void)
{
	unsigned int lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((unsigned long long)hi << 32) | lo;
}

/* TSC ticks in ns nanoseconds, from the boot information's tsc_khz (a
 * 2 GHz TSC is assumed when the monitor did not say).  For timing without
 * exits: pv_time_ns() is a hypercall. */
unsigned long long pv_tsc_ticks(unsigned long long ns);

/* End the VM after flushing the console. */
__attribute__((noreturn)) void pv_halt(int status);

/* The guest command line (never NULL). */
const char *pv_cmdline(void);

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* Parse a decimal or 0x-prefixed unsigned number; *end gets the first unparsed char. */
unsigned long long pv_strtoull(const char *s, const char **end);

#endif /* PV_GUEST_H */
