#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# pvbench --device cpu on the emulation backend: one JSON row per workload
# (sieve, stores, branchy) with positive times; pvbench itself fails when the
# guest's checksum differs from the native run's.  No speed is asserted.
# usage: pvbench_cpu.sh PVBENCH
set -eu
out=$("$1" --device cpu --backend emu --json --count 2) || { echo "pvbench failed: $out"; exit 1; }
echo "$out"
printf '%s\n' "$out" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
assert [r["workload"] for r in rows] == ["sieve", "stores", "branchy"], rows
for r in rows:
    assert r["device"] == "cpu" and r["backend"] == "emu", r
    assert r["guest_ns"] > 0 and r["native_ns"] > 0 and r["native_cpu_ns"] > 0, r
    assert abs(r["ratio"] - r["guest_ns"] / r["native_ns"]) < 0.01 * r["ratio"] + 0.001, r
    assert abs(r["cpu_ratio"] - r["guest_cpu_ns"] / r["native_cpu_ns"]) < 0.01 * r["cpu_ratio"] + 0.001, r
'
