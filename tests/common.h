/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test helpers: run a guest on a backend and capture everything it did. */
#ifndef PV_TESTS_COMMON_H
#define PV_TESTS_COMMON_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include <pv/pv.h>

/* Built guests: GUEST("hello") -> ".../examples/guests/hello.elf". */
#define GUEST(name) EXAMPLE_GUEST_DIR "/" name ".elf"
#define TEST_GUEST(name) TEST_GUEST_DIR "/" name ".elf"

struct run {
	int r;            /* pv_vm_run's result (or a setup error) */
	int status;       /* guest exit status when r == 0 */
	char out[65536];  /* console output, NUL-terminated */
	size_t len;
	char err[256];    /* pv_vm_error() */
	struct pv_stats st;
	unsigned int domid;
};

struct run_opts {
	const char *cmdline;
	uint64_t mem;        /* bytes; 0 = 16 MiB */
	unsigned int vcpus;  /* 0 = 1 */
	/* Called after load, before run (register devices); may be NULL. */
	int (*setup)(struct pv_vm *vm, void *opaque);
	void *opaque;
};

/* Is backend b usable here?  Honours PV_TEST_BACKENDS ("kvm", "emu", "kvm,emu"). */
bool backend_usable(enum pv_backend b, char *why, size_t n);

/* Skip the current test unless backend b is usable. */
#define REQUIRE_BACKEND(b)                                                            \
	do {                                                                          \
		char why_[200];                                                       \
		if (!backend_usable((b), why_, sizeof(why_)))                         \
			cr_skip_test("%s backend unavailable: %s", backend_name(b), why_); \
	} while (0)

const char *backend_name(enum pv_backend b);

/* Create a VM, load elf, run it; fills *out (out->r < 0 on any failure). */
void run_guest(enum pv_backend b, const char *elf, const struct run_opts *o, struct run *out);

#endif
