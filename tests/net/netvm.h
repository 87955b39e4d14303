/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/net: VMs of one process run side by side, each with a console. */
#ifndef PV_TESTS_NETVM_H
#define PV_TESTS_NETVM_H

#include <pv/net.h>
#include <pv/pv.h>

struct netvm;
typedef int (*netvm_attach_fn)(struct netvm *v, void *opaque);

struct netvm {
	unsigned int queues;      /* max_queues of the device (0: one per vCPU) */
	unsigned int vcpus;       /* 0: 1 */
	struct pv_vm *vm;
	struct pv_netback *nb;
	void *dev;                /* another device (NE2000) */
	char cmdline[256];
	char out[16384];
	size_t len;
	int r, status;
	char err[256];
	struct pv_stats st;
};

/* Create v's VM on backend b with 32 MiB, load elf, attach with fn(v, opaque). */
void netvm_init(struct netvm *v, enum pv_backend b, const char *elf, const char *cmdline, netvm_attach_fn fn,
		void *opaque);
/* Run n VMs at once, each on its own thread, until all end (60 s guard). */
void netvm_run_all(struct netvm *const vs[], unsigned int n);
/* The guest exited 0. */
void netvm_assert_ok(const struct netvm *v);
void netvm_destroy(struct netvm *v);

#endif
