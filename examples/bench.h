/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pvbench's devices: each measures one thing on one backend and prints rows. */
#ifndef PVBENCH_H
#define PVBENCH_H

#include <stdbool.h>
#include <stddef.h>

#include <pv/pv.h>

struct bench_plot;

struct bench_opts {
	bool json;                /* one JSON object per line, else a table */
	unsigned long long count; /* device-specific amount of work; 0 = default */
	double seconds;           /* time budget per workload run; 0 = default */
	unsigned int repeat;      /* blk: runs per workload and door; 0 = default */
	const char *fio;          /* blk: the fio program; NULL = "fio" if installed, "none" = no fio rows */
	const char *workload;     /* blk: run only the workloads of this name; NULL = all */
	const char *disk;         /* blk: backing file or device; NULL = temporary image */
	const char *door;         /* blk, linux guest: only this door; NULL = all */
	bool progress;            /* print progress lines on stderr */
	struct bench_plot *plot;  /* blk: every printed row is also added here; NULL = none */
};

struct bench_device {
	const char *name;
	void (*header)(const struct bench_opts *o);       /* table header (not in JSON mode) */
	int (*run)(enum pv_backend b, const struct bench_opts *o); /* 0 or -1 */
};

extern const struct bench_device bench_hypercall, bench_ring, bench_blk, bench_cpu, bench_net, bench_soak;

/*
 * blk with a Linux guest (bench_linux.c): boot the stock kernel (kernel, or
 * the realkvm cache's) with initrd (or the build's linux-bench.cpio) through
 * each door and print exits per request as KVM counts them.  0 or 1.
 */
int bench_linux(const struct bench_opts *o, const char *kernel, const char *initrd);

/* blk: whether (name) is one of its workloads. */
bool bench_blk_workload(const char *name);

const char *bench_backend_name(enum pv_backend b);
/* Path of an example guest ELF: $PVBENCH_GUEST_DIR or the build tree. */
const char *bench_guest_path(const char *name, char *buf, size_t n);

/* Console capture for guests run by a benchmark. */
struct bench_console {
	char buf[8192];
	size_t len;
};
void bench_console(void *opaque, const char *buf, size_t len);

#endif
