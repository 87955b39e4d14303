#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# run_fuzz.sh HARNESS SEEDS REGRESS [MAX_LEN]: replay every regression input of the
# harness once, then fuzz for FUZZ_SECONDS (default 20) from the seeds,
# which are only read (new inputs go to a temporary corpus).  A crash
# leaves its input in $FUZZ_ARTIFACTS (default the current directory) and
# fails the run.  FUZZ_RUNS=N stops after N executions instead.
set -eu
exe=$1 seeds=$2 regress=$3 max_len=${4:-65536}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -d "$regress" ] && [ -n "$(ls -A "$regress" 2>/dev/null)" ]; then
	"$exe" -runs=1 "$regress"/*
fi
art=${FUZZ_ARTIFACTS:-.}
mkdir -p "$art"
if [ -n "${FUZZ_RUNS:-}" ]; then
	limit="-runs=$FUZZ_RUNS"
else
	limit="-max_total_time=${FUZZ_SECONDS:-20}"
fi
exec "$exe" $limit -print_final_stats=1 -timeout=10 -rss_limit_mb=1024 -max_len=$max_len \
	-artifact_prefix="$art/$(basename "$exe")-" "$tmp" "$seeds"
