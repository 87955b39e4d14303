/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pvbench --device ring: not built yet. */
#include <stdio.h>

#include "bench.h"

static void ring_header(const struct bench_opts *o)
{
	(void)o;
}

static int ring_run(enum pv_backend b, const struct bench_opts *o)
{
	(void)b, (void)o;
	fprintf(stderr, "pvbench: --device ring is not implemented yet\n");
	return -1;
}

const struct bench_device bench_ring = { "ring", ring_header, ring_run };
