#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# pvbench --plot FILE.svg (examples/bench_plot.c):
#   usage: pvbench_plot.sh PVBENCH      exit 0 = every check passed
# One short blk run on the emu backend (no /dev/kvm needed) draws a picture
# that parses as XML and shows what the table printed: every workload, both
# doors, exits per request on a log axis (bar tops sit where the decade
# gridlines say), the host ratio on a linear one with its line at 1.0, and
# over each bar a whisker from the runs' min to their max (--repeat 3).
# A path that cannot be written, or a device other than blk, is refused
# before any benchmark runs: one "pvbench: " line on stderr, exit 2.
set -u
if [ $# -ne 1 ]; then
	echo "usage: $0 PVBENCH" >&2
	exit 2
fi
PVBENCH=$1
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
FAILS=0

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
show_err() { sed 's/^/    stderr: /' "$T/err"; }
# run ARGS...: stdout in $T/out, stderr in $T/err, status in $rc; the
# temporary disk image goes under $T too.
run() { TMPDIR=$T "$PVBENCH" "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }

# refuse DESC ARGS...: exit 2, one "pvbench: " line naming --plot, no stdout.
refuse() {
	desc=$1
	shift
	run "$@"
	lines=$(grep -c '' "$T/err")
	if [ "$rc" -ne 2 ]; then
		fail "$desc: exit $rc, want 2"; show_err
	elif [ "$lines" -ne 1 ]; then
		fail "$desc: $lines lines on stderr, want exactly 1"; show_err
	elif ! grep -q '^pvbench: .*--plot' "$T/err"; then
		fail "$desc: stderr line is not 'pvbench: ... --plot ...'"; show_err
	elif [ -s "$T/out" ]; then
		fail "$desc: wrote to stdout (a benchmark ran?): $(head -c 200 "$T/out")"
	else
		pass "$desc ($(cat "$T/err"))"
	fi
}

# ---- refusals, before any benchmark ----
refuse "--plot into a missing directory" --device blk --backend emu --plot "$T/missing/b.svg"
if ! grep -q "^pvbench: --plot $T/missing/b.svg: No such file or directory\$" "$T/err"; then
	fail "missing directory: want 'pvbench: --plot PATH: No such file or directory'"; show_err
fi
refuse "--plot a directory" --device blk --backend emu --plot "$T"
refuse "--plot with --device ring" --device ring --backend emu --plot "$T/ring.svg"
[ -e "$T/ring.svg" ] && fail "--device ring --plot created $T/ring.svg"
refuse "--plot with --device hypercall" --device hypercall --backend emu --plot "$T/hc.svg"
[ -e "$T/hc.svg" ] && fail "--device hypercall --plot created $T/hc.svg"

run --help
if [ "$rc" -ne 0 ] || ! grep -q -- '--plot' "$T/out"; then fail "--help does not mention --plot"
else pass "--help mentions --plot"; fi

# ---- the picture ----
# check_svg SVG TABLE: the picture shows what pvbench's table printed.
check_svg() {
	python3 - "$1" "$2" <<'EOF'
import math, re, sys
import xml.etree.ElementTree as ET

svg, table = sys.argv[1:3]
NS = "{http://www.w3.org/2000/svg}"
root = ET.parse(svg).getroot()
assert root.tag == NS + "svg", "root is %s, not svg" % root.tag
assert float(root.get("width")) >= 600 and float(root.get("height")) >= 400, "too small to read"
assert any(t.text and t.text.endswith("--plot " + svg) for t in root.iter(NS + "text")), "no subtitle naming " + svg

def cls(name, tag=None):
    return [e for e in root.iter() if name in (e.get("class") or "").split() and (tag is None or e.tag == NS + tag)]
def txt(e):
    return "".join(e.itertext()).strip()

# The rows the table printed: door workload qd backend runs requests
# exits/req [min-max] MB/s [min-max] IOPS /host [min-max]
rows, spread = {}, {}
def rng(s):
    m = re.fullmatch(r"\[([0-9.]+)-([0-9.]+)\]", s)
    assert m, "range %r is not [min-max]" % s
    return float(m.group(1)), float(m.group(2))
for line in open(table):
    f = line.split()
    if len(f) == 13 and f[0] in ("pv", "emulated"):
        key = (f[0], f[3], f[1], int(f[2]))
        rows[key] = (float(f[6]), float(f[11]))
        spread[(key, True)], spread[(key, False)] = rng(f[7]), rng(f[12])
assert {d for d, _, _, _ in rows} == {"pv", "emulated"}, "table lacks a door: %s" % sorted(rows)

labels = [txt(e) for e in cls("workload")]
for w in ("seqwrite-1m", "seqread-1m", "randread-4k", "flush"):
    assert labels.count(w) >= 2, "workload %s not labelled under both panels: %s" % (w, labels)
legend = [txt(e) for e in cls("legend")]
for d in ("pv door, emu", "emulated door, emu"):
    assert d in legend, "legend lacks %r: %s" % (d, legend)

# Panel 1: log axis.  Decade labels 10^e at gridline y (label y - 4).
decades = {}
for e in cls("decade"):
    m = re.fullmatch("10([\u2212-]?)(\\d+)", txt(e))
    assert m, "decade label %r is not 10^N" % txt(e)
    decades[(-1 if m.group(1) else 1) * int(m.group(2))] = float(e.get("y")) - 4
assert len(decades) >= 3, "want >= 3 decade labels, have %s" % sorted(decades)
es = sorted(decades)
per_decade = (decades[es[0]] - decades[es[-1]]) / (es[-1] - es[0])
for e in es:
    want = decades[es[0]] - (e - es[0]) * per_decade
    assert abs(decades[e] - want) < 0.5, "decades not evenly spaced: %s" % decades
assert cls("zero"), "no '0' label below the log axis"

# Panel 2: linear ticks; the reference line at 1.0.
ticks = {float(txt(e)): float(e.get("y")) - 4 for e in cls("tick")}
assert 0.0 in ticks and 1.0 in ticks, "ratio axis lacks ticks 0 and 1: %s" % ticks
per_unit = ticks[0.0] - ticks[1.0]
ref = cls("ref-line", "line")
assert len(ref) == 1, "want one ref-line, have %d" % len(ref)
y1, y2 = float(ref[0].get("y1")), float(ref[0].get("y2"))
assert y1 == y2 and abs(y1 - ticks[1.0]) < 0.5, "ref-line at y %s/%s, tick 1.0 at %s" % (y1, y2, ticks[1.0])
assert any("1.0" in txt(e) for e in cls("ref-label")), "ref-line has no 1.0 label"

def y_exits(v):
    return decades[es[0]] - (math.log10(v) - es[0]) * per_decade
def y_ratio(v):
    return ticks[0.0] - min(v, max(ticks)) * per_unit

# Every measured row is a bar in both panels, its top where the axis says,
# with a whisker from the runs' min to their max over it when they differ.
TITLE = re.compile(r"(\S+) door, (\S+), (\S+) QD(\d+): (\S+) (exits/request|x host MB/s)")
whiskers = [(float(e.get("x1")), float(e.get("y1")), float(e.get("y2"))) for e in cls("whisker", "line")]
seen = set()
nwhiskers = 0
for e in cls("bar", "rect") + cls("zero-value", "circle"):
    t = e.find(NS + "title")
    assert t is not None, "bar without a title"
    m = TITLE.fullmatch(t.text)
    assert m, "bar title %r" % t.text
    key = (m.group(1), m.group(2), m.group(3), int(m.group(4)))
    exits = m.group(6) == "exits/request"
    assert key in rows, "bar %r is not in the table" % t.text
    epr, ratio = rows[key]
    seen.add((key, exits))
    lo, hi = spread[(key, exits)]
    assert lo <= (epr if exits else ratio) <= hi, "%r: median outside [%s-%s]" % (t.text, lo, hi)
    if e.tag == NS + "circle":
        assert exits and epr == 0, "0 marker for %r but the table says %s" % (t.text, epr)
        cx = float(e.get("cx"))
    else:
        top = float(e.get("y"))
        cx = float(e.get("x")) + float(e.get("width")) / 2
        if exits and epr > 0:
            want = y_exits(epr)
            assert abs(top - want) < 2, "%r: bar top %.1f, log axis says %.1f" % (t.text, top, want)
        elif not exits:  # a bar past the axis's end is cut there, and says so
            cut = "cut" in e.get("class").split()
            assert cut == (ratio > max(ticks)), "%r: cut=%s, axis ends at %s" % (t.text, cut, max(ticks))
            want = y_ratio(ratio)
            assert abs(top - want) < 1.5, "%r: bar top %.1f, linear axis says %.1f" % (t.text, top, want)
    ratio_top = min(ticks.values()) - 10  # the exits panel lies above it
    mine = [w for w in whiskers if abs(w[0] - cx) < 0.2 and (w[1] < ratio_top) == exits]
    if hi > lo:
        assert len(mine) == 1, "%r: want one whisker for [%s-%s], have %d" % (t.text, lo, hi, len(mine))
        y = y_exits if exits else y_ratio
        y_lo = y(lo) if lo > 0 or not exits else mine[0][1]  # 0 sits on the strip under the axis
        assert abs(mine[0][1] - y_lo) < 2 and abs(mine[0][2] - y(hi)) < 2, \
            "%r: whisker %.1f..%.1f, axis says %.1f..%.1f for [%s-%s]" % (t.text, mine[0][1], mine[0][2], y_lo, y(hi), lo, hi)
        nwhiskers += 1
    else:  # equal as printed (3 digits): at most a whisker too short to see
        y = y_exits if exits else y_ratio
        assert len(mine) <= 1 and all(abs(w[1] - y(lo)) < 2 and abs(w[2] - y(lo)) < 2 for w in mine), \
            "%r: a visible whisker but min == max (%s)" % (t.text, lo)
missing = {(k, x) for k in rows for x in (True, False)} - seen
assert not missing, "rows without a bar: %s" % sorted(missing)
assert nwhiskers > 0, "no whiskers at all over %d runs" % 3
print("%d rows, %d whiskers, decades 10^%d..10^%d" % (len(rows), nwhiskers, es[0], es[-1]))
EOF
}

# XML's special characters in the name: the subtitle (the command line) shows it.
SVG="$T/b&<1>.svg"
run --device blk --backend emu --seconds 0.05 --repeat 3 --fio none --plot "$SVG"
if [ "$rc" -ne 0 ]; then
	fail "blk run with --plot: exit $rc"; show_err
elif [ "$(tail -n 1 "$T/err")" != "pvbench: wrote $SVG" ]; then
	fail "last stderr line is not 'pvbench: wrote $SVG'"; show_err
elif [ ! -s "$SVG" ]; then
	fail "$SVG is missing or empty"
elif ! msg=$(check_svg "$SVG" "$T/out" 2>&1); then
	fail "the SVG: $msg"
else
	pass "the SVG ($msg)"
fi

if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS check(s) FAILED"
	exit 1
fi
echo "all checks passed"
