/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvbench --device blk, inside: the workloads, one measured run, and the
 * two host-side references the guest doors are compared with (our own
 * io_uring door in bench_host.c, fio in bench_fio.c).
 */
#ifndef PVBENCH_BLK_H
#define PVBENCH_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pv/pv.h>

struct workload {
	const char *name;
	unsigned int bs, qd;
	bool write, random, flush; /* flush: each write is followed by a data sync, as one request */
};

/* One timed run of one workload through one door. */
struct run {
	unsigned long long requests;
	double seconds;
	bool have_stats;      /* guest doors: the exits below were counted */
	unsigned long long exits_total, exits[PV_EXIT__COUNT];
	long long kvm_exits;  /* KVM's own count; -1: none (emu) */
	unsigned long long kicks, blocks; /* pv door: doorbells rung and blocking waits in the guest */
};

/* Where a workload's host runs left off, so the next run continues it. */
struct host_pos {
	uint64_t seq, rng;
};

/*
 * The host door: (w) on the file (path) with io_uring for (seconds),
 * continuing at (pos), into (*r).  Every queue slot is submitted at once and
 * completions are reaped in batches; the file and the buffers are registered
 * with the ring when the kernel allows it, O_DIRECT when the file system
 * does.  Returns 0, or -1 with errno set.
 */
int bench_host_run(const char *path, const struct workload *w, double seconds, struct host_pos *pos, struct run *r);

/*
 * fio, the reference: one fio process runs (runs) back-to-back jobs of each
 * of the (nw) workloads (w) on (path), each (seconds) long, into
 * r[k * runs + i] (workload k, run i).  (prog) is the fio program; NULL
 * looks for "fio" in PATH.  Returns 1 when every job was measured, -1 when
 * fio failed (a message on stderr), 0 when fio is not installed.
 */
int bench_fio_run(const char *prog, const char *path, const struct workload *const *w, unsigned int nw,
		  double seconds, unsigned int runs, struct run *r);

/* (v) with 3 significant digits, as plain decimal: 524000, 1230, 0.0338. */
const char *bench_num(char *buf, size_t n, double v);

#endif
