#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""pvbench --device blk's figures and options (examples/bench_blk.c,
bench_host.c, bench_fio.c):
  usage: pvbench_blk.py PVBENCH      exit 0 = every check passed

Short runs on the emu backend (no /dev/kvm needed) on a small image:
  - bad --repeat/--fio/--workload arguments: one "pvbench: " line on
    stderr, exit 2, nothing on stdout, before any benchmark; --workload
    runs only that workload;
  - --repeat N --json: every row has N runs, its median and min/max are
    those of its runs (mb_per_s, iops, exits_per_request, host_ratio), each
    guest run's ratio is against the host run it sat in, and printed
    figures have at most 3 significant digits (table too);
  - the fio rows, from a stand-in fio that prints known JSON: the same file
    and workload on fio's command line, its figures read back exactly;
    a failing fio named by --fio makes the run fail with fio's message;
    without fio in PATH there are no fio rows and one note;
  - with the real fio installed, its rows are there (skipped otherwise).
No timing is asserted: only what was measured is compared with what was printed.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

PVBENCH = sys.argv[1]
# where pvbench puts its own image: a disk file system (fio needs O_DIRECT, tmpfs has none)
T = tempfile.mkdtemp(prefix="pvbench-blk-", dir="/var/tmp" if os.path.isdir("/var/tmp") else None)
IMAGE = os.path.join(T, "disk.img")
FAILS = 0
FIGS = ("mb_per_s", "iops", "exits_per_request", "host_ratio")
WORKLOADS = {("seqwrite-1m", 1), ("seqread-1m", 1), ("randread-4k", 1), ("randread-4k", 32), ("flush", 1)}


def fail(msg):
    global FAILS
    FAILS += 1
    print("FAIL: " + msg)


def ok(msg):
    print("ok: " + msg)


def run(*args, env=None):
    e = dict(os.environ, TMPDIR=T)
    e.update(env or {})
    p = subprocess.run([PVBENCH, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                       env=e, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


def sig_digits(s):
    """Significant digits of a printed number: 0.0338 -> 3, 524000 -> 3, 12.0 -> 3."""
    d = s.lstrip("-").replace(".", "").lstrip("0")
    return len(d if "." in s else d.rstrip("0")) or 1


def close(a, b, rel=0.006):
    return abs(a - b) <= rel * max(abs(a), abs(b)) + 1e-12


def refuse(desc, *args):
    rc, out, err = run(*args)
    lines = err.splitlines()
    if rc != 2 or len(lines) != 1 or not lines[0].startswith("pvbench: ") or out:
        fail("%s: exit %d, stderr %r, stdout %r (want 2, one 'pvbench: ' line, nothing)" % (desc, rc, err, out[:200]))
    else:
        ok("%s (%s)" % (desc, lines[0]))


def rows_of(out):
    rows = []
    for line in out.splitlines():
        r = json.loads(line)
        r["_line"] = line
        rows.append(r)
    return rows


def check_rows(rows, repeat, desc):
    """The median and range of every figure are those of the row's runs."""
    host = {(r["workload"], r["qd"]): r for r in rows if r["door"] == "host"}
    bad = []
    for r in rows:
        key = (r["workload"], r["qd"])
        name = "%s %s qd%d" % (r["door"], r["workload"], r["qd"])
        runs = r["runs"]
        if r["repeat"] != len(runs) or not 1 <= len(runs) <= repeat or (r["door"] != "emulated" and len(runs) != repeat):
            bad.append("%s: repeat %s, %d runs, want %d" % (name, r["repeat"], len(runs), repeat))
            continue
        if r["requests"] != sum(u["requests"] for u in runs):
            bad.append("%s: requests %s is not the sum of its runs" % (name, r["requests"]))
        guest = r["door"] in ("pv", "emulated")
        for f in FIGS:
            vals = [u[f] for u in runs]
            if f == "exits_per_request" and not guest or f == "host_ratio" and r["door"] == "host":
                if r[f] is not None or any(v is not None for v in vals):
                    bad.append("%s: %s should be null" % (name, f))
                continue
            if None in vals or r[f] is None:
                bad.append("%s: %s missing: %s / %s" % (name, f, r[f], vals))
                continue
            if not (r[f + "_min"] <= r[f] <= r[f + "_max"]):
                bad.append("%s: %s %s not within [%s, %s]" % (name, f, r[f], r[f + "_min"], r[f + "_max"]))
            if not (close(r[f + "_min"], min(vals)) and close(r[f + "_max"], max(vals))
                    and close(r[f], statistics.median(vals), 0.011)):
                bad.append("%s: %s %s [%s, %s] is not median/min/max of %s" % (
                    name, f, r[f], r[f + "_min"], r[f + "_max"], vals))
        # each guest (and fio) run against the host run it was paired with
        if r["door"] != "host" and key in host:
            for i, u in enumerate(runs):
                want = u["mb_per_s"] / host[key]["runs"][i]["mb_per_s"]
                if not close(u["host_ratio"], want, 0.011):
                    bad.append("%s run %d: host_ratio %s, its MB/s over the host run's is %.4g" % (
                        name, i, u["host_ratio"], want))
        for m in re.finditer(r'"(mb_per_s\w*|iops\w*|exits_per_request\w*|host_ratio\w*|seconds)":(-?[0-9.]+)',
                             r["_line"]):
            if sig_digits(m.group(2)) > 3:
                bad.append("%s: %s printed as %s (more than 3 significant digits)" % (name, m.group(1), m.group(2)))
    got = {(r["workload"], r["qd"]) for r in rows}
    if got != WORKLOADS:
        bad.append("workloads %s, want %s" % (sorted(got), sorted(WORKLOADS)))
    if bad:
        fail("%s: %s" % (desc, "; ".join(bad[:6])))
    else:
        ok("%s: %d rows, medians and ranges match their runs" % (desc, len(rows)))


FAKE_FIO = r'''#!/usr/bin/env python3
# A stand-in fio: records its command line; job k of workload w did
# 1000 * (k + 1) requests in 0.5 s (the jobs of a workload come in a row).
import json, sys
args = sys.argv[1:]
open(sys.argv[0] + ".args", "a").write(json.dumps(args) + "\n")
jobs, opts = [], None
for a in args:
    if a.startswith("--name="):
        opts = {"name": a[7:]}
        jobs.append(opts)
    elif opts is not None:
        opts[a.split("=")[0]] = a
out, prev, k = [], None, 0
for j in jobs:
    key = (j.get("--bs"), j.get("--iodepth"), j.get("--rw"), j.get("--fdatasync"))
    k = k + 1 if key == prev else 0
    prev = key
    d = {"io_bytes": 0, "total_ios": 1000 * (k + 1), "runtime": 500, "iops": 2000.0 * (k + 1)}
    z = dict(d, total_ios=0)
    write = j.get("--rw") == "--rw=write"
    out.append({"jobname": j["name"], "error": 0, "job options": {"rw": "read"},
                "read": z if write else d, "write": d if write else z})
print("note: fio prints this before its JSON sometimes")
print(json.dumps({"fio version": "fio-fake", "jobs": out, "disk_util": [{"name": "x", "read_ios": 1}]}, indent=2))
'''


def main():
    with open(IMAGE, "wb") as f:  # small and full of data: quicker than the default 256 MiB
        f.write(bytes(range(256)) * (32 << 12))

    # ---- refusals ----
    for v in ("0", "26", "3x", "-1", "", "1e1"):
        refuse("--repeat %r" % v, "--device", "blk", "--backend", "emu", "--repeat", v)
    refuse("--fio ''", "--device", "blk", "--backend", "emu", "--fio", "")
    refuse("--repeat with --device ring", "--device", "ring", "--backend", "emu", "--repeat", "2")
    refuse("--fio with --device hypercall", "--device", "hypercall", "--backend", "emu", "--fio", "none")
    refuse("--repeat without a value", "--device", "blk", "--repeat")
    refuse("--workload bogus", "--device", "blk", "--backend", "emu", "--workload", "bogus")
    refuse("--workload with --device ring", "--device", "ring", "--backend", "emu", "--workload", "flush")
    rc, out, _ = run("--help")
    if rc != 0 or "--repeat" not in out or "--fio" not in out or "--workload" not in out:
        fail("--help does not describe --repeat, --fio and --workload")
    else:
        ok("--help describes --repeat, --fio and --workload")

    common = ("--device", "blk", "--backend", "emu", "--disk", IMAGE, "--seconds", "0.03")

    # ---- --repeat: medians, ranges, runs ----
    rc, out, err = run(*common, "--repeat", "3", "--json", "--fio", "none")
    if rc != 0:
        fail("--repeat 3 --json: exit %d: %s" % (rc, err))
    else:
        rows = rows_of(out)
        if any(r["door"] == "fio" for r in rows):
            fail("--fio none printed fio rows")
        check_rows(rows, 3, "--repeat 3 --json")
        guest = [r for r in rows if r["door"] == "pv"]
        if not all("guest_blocks" in u and "guest_kicks" in u for r in guest for u in r["runs"]):
            fail("pv runs lack guest_kicks/guest_blocks")

    # ---- the table: median and [min-max], 3 significant digits ----
    rc, out, err = run(*common, "--repeat", "2", "--fio", "none")
    lines = out.splitlines()
    if rc != 0 or not lines or lines[0].split()[:8] != ["door", "workload", "qd", "bknd", "runs", "requests",
                                                         "exits/req", "[min-max]"]:
        fail("table: exit %d, header %r" % (rc, lines[:1]))
    else:
        bad = []
        for line in lines[1:]:
            f = line.split()
            for tok in f[6:]:  # exits/req onwards: figures, ranges, '-'
                for num in re.findall(r"[0-9.]+", tok):
                    if sig_digits(num) > 3:
                        bad.append("%r in %r" % (num, line))
            if f[0] in ("pv", "emulated") and (len(f) != 13 or f[4] != "2" and f[0] == "pv"):
                bad.append("row %r: want 13 fields, 2 runs" % line)
        if bad:
            fail("table: " + "; ".join(bad[:5]))
        else:
            ok("table: %d rows, medians with [min-max], at most 3 significant digits" % (len(lines) - 1))

    # --workload: that workload only (both queue depths of randread-4k)
    rc, out, err = run(*common, "--repeat", "1", "--json", "--fio", "none", "--workload", "randread-4k")
    got = sorted({(r["workload"], r["qd"]) for r in rows_of(out)}) if rc == 0 else err
    if got != [("randread-4k", 1), ("randread-4k", 32)]:
        fail("--workload randread-4k: exit %d, rows %s" % (rc, got))
    else:
        ok("--workload randread-4k: only its rows")

    # ---- fio rows from a stand-in fio ----
    fake = os.path.join(T, "fakefio")
    with open(fake, "w") as f:
        f.write(FAKE_FIO)
    os.chmod(fake, 0o755)
    rc, out, err = run(*common, "--repeat", "2", "--json", "--fio", fake)
    calls = [json.loads(l) for l in open(fake + ".args")] if os.path.exists(fake + ".args") else []
    if rc != 0:
        fail("--fio FAKE: exit %d: %s" % (rc, err))
    else:
        rows = rows_of(out)
        check_rows(rows, 2, "--fio FAKE --repeat 2 --json")
        fio = {(r["workload"], r["qd"]): r for r in rows if r["door"] == "fio"}
        bs = {"seqwrite-1m": 1 << 20, "seqread-1m": 1 << 20, "randread-4k": 4096, "flush": 4096}
        rw = {"seqwrite-1m": "write", "seqread-1m": "read", "randread-4k": "randread", "flush": "write"}
        bad = []
        if set(fio) != WORKLOADS or len(calls) != 1:
            bad.append("fio rows %s from %d fio calls, want one call for all workloads" % (sorted(fio), len(calls)))
        call = calls[0] if calls else []
        first = next((i for i, a in enumerate(call) if a.startswith("--name=")), len(call))
        for a in ("--filename=" + IMAGE, "--ioengine=io_uring", "--direct=1", "--output-format=json",
                  "--runtime=30ms", "--time_based", "--stonewall"):
            if a not in call[:first]:
                bad.append("fio's global options lack %s: %s" % (a, call[:first]))
        jobs = []
        for a in call[first:]:
            if a.startswith("--name="):
                jobs.append(set())
            jobs[-1].add(a)
        for (w, qd), r in sorted(fio.items()):
            if r["backend"] is not None or r["exits_per_request"] is not None:
                bad.append("fio %s: backend %s, exits %s" % (w, r["backend"], r["exits_per_request"]))
            want = [1000 * (i + 1) * bs[w] / 0.5 / 1e6 for i in range(2)]
            if [u["requests"] for u in r["runs"]] != [1000, 2000] or \
                    not all(close(u["mb_per_s"], m) for u, m in zip(r["runs"], want)):
                bad.append("fio %s qd%d: runs %s, want 1000 and 2000 requests in 0.5 s" % (w, qd, r["runs"]))
            mine = [j for j in jobs if {"--bs=%d" % bs[w], "--iodepth=%d" % qd, "--rw=" + rw[w]} <= j
                    and ("--fdatasync=1" in j) == (w == "flush")]
            if len(mine) != 2:
                bad.append("fio jobs for %s qd%d: %d, want 2 (--repeat 2): %s" % (w, qd, len(mine), jobs))
        if bad:
            fail("fio rows: " + "; ".join(bad[:5]))
        else:
            ok("fio rows: one fio call, 2 jobs per workload on the same file, its JSON read back")

    # a fio named on the command line that fails: the run fails, with fio's words
    bad_fio = os.path.join(T, "badfio")
    with open(bad_fio, "w") as f:
        f.write("#!/bin/sh\necho 'fio: no such option --frobnicate' >&2\nexit 1\n")
    os.chmod(bad_fio, 0o755)
    rc, out, err = run(*common, "--repeat", "1", "--json", "--fio", bad_fio)
    msgs = [l for l in err.splitlines() if "badfio" in l]
    if rc != 1 or len(msgs) != 1 or "fio: no such option --frobnicate" not in msgs[0] or \
            not any(json.loads(l)["door"] == "pv" for l in out.splitlines()):
        fail("--fio BROKEN: exit %d (want 1), fio messages %s, want one with fio's words and the other rows" % (rc, msgs))
    else:
        ok("--fio BROKEN: exit 1, %s" % msgs[0])

    # no fio in PATH: no fio rows, one note, success
    empty = os.path.join(T, "empty")
    os.mkdir(empty)
    rc, out, err = run(*common, "--repeat", "1", env={"PATH": empty})
    notes = [l for l in err.splitlines() if "fio" in l and not l.endswith("...")]
    if rc != 0 or any(l.startswith("fio ") for l in out.splitlines()) or len(notes) != 1:
        fail("no fio in PATH: exit %d, fio notes %s, want 0 and one note" % (rc, notes))
    else:
        ok("no fio in PATH: no fio rows (%s)" % notes[0])

    # ---- the real fio ----
    try:
        os.close(os.open(IMAGE, os.O_RDONLY | os.O_DIRECT))
        direct = True
    except OSError:
        direct = False
    if not shutil.which("fio"):
        print("skip: fio is not installed: no real fio rows to check")
    elif not direct:
        print("skip: %s has no O_DIRECT: fio --direct=1 cannot run there" % T)
    else:
        rc, out, err = run(*common, "--repeat", "2", "--json")
        fio = [r for r in rows_of(out)] if rc == 0 else []
        fio = [r for r in fio if r["door"] == "fio"]
        if rc != 0 or {(r["workload"], r["qd"]) for r in fio} != WORKLOADS or \
                not all(u["requests"] > 0 and u["mb_per_s"] > 0 for r in fio for u in r["runs"]):
            fail("real fio: exit %d, fio rows %s: %s" % (rc, [(r["workload"], r["qd"], r["requests"]) for r in fio],
                                                        err[-500:]))
        else:
            ok("real fio: %d fio rows beside the host's" % len(fio))

    if FAILS:
        print("%d check(s) FAILED" % FAILS)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    try:
        status = main()
    finally:
        shutil.rmtree(T, ignore_errors=True)
    sys.exit(status)
