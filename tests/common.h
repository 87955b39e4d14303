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
	/* Called after load, before run (attach devices); may be NULL. */
	int (*setup)(struct pv_vm *vm, void *opaque);
	/* Called after the run, before the VM (and its devices) is destroyed:
	 * read device statistics; may be NULL. */
	void (*after)(struct pv_vm *vm, void *opaque);
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

/*
 * One test body, run once per backend: BACKEND_TEST(suite, name, opts...)
 * { ... uses `b` ... } defines suite/name_emu and suite/name_kvm (Criterion
 * options such as .timeout = 60 are passed to both); each skips with the
 * reason where its backend is unusable.  BACKEND_TEST_TIMEOUTS(suite, name,
 * emu_s, kvm_s, opts...) is the same with a timeout in seconds for each
 * (0: Criterion's default, none), for bodies that take far longer on one.
 * A test that runs on one backend only, on purpose, stays a plain Test()
 * that says why.
 */
#define BACKEND_TEST_RUN_(suite, name, be)                                                  \
	{                                                                                   \
		REQUIRE_BACKEND(be);                                                        \
		suite##__##name(be);                                                        \
	}

#define BACKEND_TEST(suite, name, ...)                                                      \
	static void suite##__##name(enum pv_backend b);                                   \
	Test(suite, name##_emu, ##__VA_ARGS__) BACKEND_TEST_RUN_(suite, name, PV_BACKEND_EMU) \
	Test(suite, name##_kvm, ##__VA_ARGS__) BACKEND_TEST_RUN_(suite, name, PV_BACKEND_KVM) \
	static void suite##__##name(enum pv_backend b)

#define BACKEND_TEST_TIMEOUTS(suite, name, emu_s, kvm_s, ...)                               \
	static void suite##__##name(enum pv_backend b);                                   \
	Test(suite, name##_emu, .timeout = (emu_s), ##__VA_ARGS__)                          \
	BACKEND_TEST_RUN_(suite, name, PV_BACKEND_EMU)                                      \
	Test(suite, name##_kvm, .timeout = (kvm_s), ##__VA_ARGS__)                          \
	BACKEND_TEST_RUN_(suite, name, PV_BACKEND_KVM)                                      \
	static void suite##__##name(enum pv_backend b)

/* Whether the emulation backend runs on Unicorn 2.0, which ignores guest
 * page tables and replays the block of code before a fault
 * (libpv/backend_emu.c); 2.1 does neither. */
bool emu_on_unicorn20(void);

/* Open file descriptors of this process (a leak check around a VM's life). */
unsigned int open_fds(void);

/* Create a VM, load elf, run it; fills *out (out->r < 0 on any failure). */
void run_guest(enum pv_backend b, const char *elf, const struct run_opts *o, struct run *out);

#endif
