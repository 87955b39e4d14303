/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pvbench --device blk: not built yet. */
#include <stdio.h>

#include "bench.h"

static void blk_header(const struct bench_opts *o)
{
	(void)o;
}

static int blk_run(enum pv_backend b, const struct bench_opts *o)
{
	(void)b, (void)o;
	fprintf(stderr, "pvbench: --device blk is not implemented yet\n");
	return -1;
}

const struct bench_device bench_blk = { "blk", blk_header, blk_run };
