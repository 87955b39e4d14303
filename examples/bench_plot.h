/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvbench --plot: the blk rows as one self-contained SVG picture.  Panel 1
 * is exits per request for each guest door and backend on a log axis;
 * panel 2 is throughput relative to the host's io_uring, with a line at 1.0.
 * Each bar is a median; a whisker across it spans the runs' min to max.
 */
#ifndef PVBENCH_PLOT_H
#define PVBENCH_PLOT_H

#include <stddef.h>
#include <stdio.h>

/*
 * One row of pvbench --device blk: the median of its runs and their range.
 * The strings are not copied.
 */
struct bench_plot_row {
	const char *door;         /* "host", "fio", "pv" or "emulated" */
	const char *workload;     /* "seqwrite-1m", ... */
	unsigned int qd;          /* queue depth */
	const char *backend;      /* "kvm" or "emu"; NULL for the host and fio */
	double exits_per_request; /* < 0: not counted (the host, fio) */
	double exits_min, exits_max;
	double mb_per_s;
	double mb_min, mb_max;
	double host_ratio; /* guest MB/s over host MB/s, run by run; < 0: no host baseline */
	double ratio_min, ratio_max;
};

#define BENCH_PLOT_MAX_ROWS 64

struct bench_plot {
	struct bench_plot_row rows[BENCH_PLOT_MAX_ROWS];
	size_t n;
};

/* Keep a copy of (r) in (p); returns 0, or -1 when (p) is full. */
int bench_plot_add(struct bench_plot *p, const struct bench_plot_row *r);

/*
 * Write (p) to (f) as an SVG document; (subtitle) is printed under the
 * title (e.g. the command line), NULL for none.  Returns 0, or -1 when a
 * write to (f) failed (errno says why).  Does not close (f).
 */
int bench_plot_write(FILE *f, const struct bench_plot *p, const char *subtitle);

#endif
