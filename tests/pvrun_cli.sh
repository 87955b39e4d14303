#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pvrun's command-line contract (examples/pvrun.c, pvrun --help):
#   usage: pvrun_cli.sh PVRUN GUEST_DIR      exit 0 = every check passed
# Refusals print exactly one "pvrun: " line on stderr and exit 2 (usage) or
# 125 (setup); guests run on the emu backend; stats table and JSON; an
# unusable /dev/kvm (bind-mounted /dev/null, as root); kvm vs emu when usable.
set -u
if [ $# -ne 2 ]; then
	echo "usage: $0 PVRUN GUEST_DIR" >&2
	exit 2
fi
PVRUN=$1
GUESTS=$2
HELLO=$GUESTS/hello.elf
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
FAILS=0

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
WRAP=() # a command pvrun runs under (the mount namespace below)
# run ARGS...: pvrun's stdout in $T/out, stderr in $T/err, status in $rc
run() { ${WRAP[@]+"${WRAP[@]}"} "$PVRUN" "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
show_err() { sed 's/^/    stderr: /' "$T/err"; }

# refuse WANT_RC DESC ARGS...: a bad invocation.
refuse() {
	local want=$1 desc=$2 lines
	shift 2
	run "$@"
	lines=$(grep -c '' "$T/err")
	if [ "$rc" -ne "$want" ]; then
		fail "$desc: exit $rc, want $want"; show_err
	elif [ "$lines" -ne 1 ]; then
		fail "$desc: $lines lines on stderr, want exactly 1"; show_err
	elif ! grep -q '^pvrun: ' "$T/err"; then
		fail "$desc: stderr line does not start with 'pvrun: '"; show_err
	elif [ -s "$T/out" ]; then
		fail "$desc: wrote to stdout: $(head -c 200 "$T/out")"
	else
		pass "$desc (exit $rc: $(cat "$T/err"))"
	fi
}

for g in hello exitcode fault; do
	[ -f "$GUESTS/$g.elf" ] || { echo "FAIL: guest $GUESTS/$g.elf not built"; exit 1; }
done

# ---- --help ----
run --help
if [ "$rc" -ne 0 ]; then fail "--help: exit $rc"; show_err
elif ! grep -q '^usage: pvrun ' "$T/out"; then fail "--help: no 'usage: pvrun' on stdout"
elif [ -s "$T/err" ]; then fail "--help: wrote to stderr"; show_err
else pass "--help"; fi

# ---- confinement: inherited descriptors closed, no core dumps, no new privileges ----
run --backend emu "$HELLO"
if [ "$rc" -ne 0 ]; then fail "sandboxed run: exit $rc"; show_err; else pass "sandboxed run (default)"; fi
run --backend emu --no-sandbox "$HELLO"
if [ "$rc" -ne 0 ]; then fail "--no-sandbox: exit $rc"; show_err; else pass "--no-sandbox"; fi
# Look at pvrun while its console write waits on a full pipe (stdout), with
# descriptor 7 inherited: closed, NoNewPrivs set, no core files.
mkfifo "$T/fifo"
exec 8<>"$T/fifo"
head -c 65536 /dev/zero >&8
"$PVRUN" --backend emu "$HELLO" >&8 2>/dev/null 7>"$T/inherited" &
pid=$!
for _ in $(seq 50); do grep -q '^NoNewPrivs:.*1' /proc/$pid/status 2>/dev/null && break; sleep 0.1; done
sleep 0.3
fds=$(ls /proc/$pid/fd 2>/dev/null | sort -n | tr '\n' ' ')
nnp=$(awk '/^NoNewPrivs/ {print $2}' /proc/$pid/status 2>/dev/null)
core=$(awk '/^Max core file size/ {print $5}' /proc/$pid/limits 2>/dev/null)
kill $pid 2>/dev/null; wait $pid 2>/dev/null
exec 8>&-
if [ "$nnp" != 1 ]; then fail "confinement: NoNewPrivs=$nnp"
elif [ "$core" != 0 ]; then fail "confinement: core file limit $core"
elif echo " $fds" | grep -q ' 7 '; then fail "confinement: inherited descriptor 7 still open (fds $fds)"
else pass "confinement: no_new_privs, no core files, inherited descriptor closed (fds $fds)"; fi

# ---- usage errors: 2 ----
refuse 2 "no ELF"
refuse 2 "two ELFs" --backend emu "$HELLO" "$HELLO"
refuse 2 "--mem 0" --backend emu --mem 0 "$HELLO"
refuse 2 "--mem 3 (odd)" --backend emu --mem 3 "$HELLO"
refuse 2 "--mem 999999999" --backend emu --mem 999999999 "$HELLO"
refuse 2 "--mem abc" --backend emu --mem abc "$HELLO"
refuse 2 "--cpus 0" --backend emu --cpus 0 "$HELLO"
refuse 2 "--cpus 65" --backend emu --cpus 65 "$HELLO"
refuse 2 "--cpus x" --backend emu --cpus x "$HELLO"
refuse 2 "--backend foo" --backend foo "$HELLO"
refuse 2 "unknown option --frob" --backend emu --frob "$HELLO"
refuse 2 "--mem without a value" --mem

# ---- setup errors: 125 ----
printf 'this is a text file, not an ELF\n' >"$T/notelf.txt"
mkdir "$T/adir"
refuse 125 "missing file (emu)" --backend emu "$T/missing.elf"
refuse 125 "non-ELF file (emu)" --backend emu "$T/notelf.txt"
refuse 125 "directory (emu)" --backend emu "$T/adir"
# The same as a user types them, with the default backend (auto).
refuse 125 "missing file (default backend)" "$T/missing.elf"
refuse 125 "non-ELF file (default backend)" "$T/notelf.txt"

# ---- guest runs on emu ----
run --backend emu "$HELLO"
cp "$T/out" "$T/hello.emu.out"
if [ "$rc" -ne 0 ]; then fail "emu hello: exit $rc"; show_err
elif ! grep -q 'Hello from a libpv guest' "$T/out"; then fail "emu hello: stdout lacks greeting: $(cat "$T/out")"
else pass "emu hello"; fi

run --backend emu --cmdline 42 "$GUESTS/exitcode.elf"
if [ "$rc" -ne 42 ]; then fail "emu exitcode 42: exit $rc"; show_err; else pass "emu exitcode --cmdline 42"; fi

run --backend emu "$GUESTS/fault.elf"
if [ "$rc" -ne 126 ]; then fail "emu fault: exit $rc, want 126"; show_err
elif ! grep '#UD invalid opcode' "$T/err" | grep -q 'rip 0x'; then
	fail "emu fault: no stderr line naming '#UD invalid opcode' and 'rip 0x'"; show_err
else pass "emu fault ($(grep '#UD' "$T/err"))"; fi

run --backend emu --stats "$HELLO"
if [ "$rc" -ne 0 ]; then fail "--stats: exit $rc"; show_err
elif ! grep -q 'hypercall' "$T/err" || ! grep -q 'console_write' "$T/err"; then
	fail "--stats: table lacks 'hypercall'/'console_write'"; show_err
else pass "--stats table"; fi

# check_json FILE: the stats JSON pvrun wrote is sound.
check_json() {
	python3 - "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["stats"]
cw, ex, hc = s["hypercalls"]["console_write"], s["hypercalls"]["exit"], s["exits"]["hypercall"]
assert cw >= 1, "console_write %d < 1" % cw
assert hc == cw + ex, "exits.hypercall %d != console_write %d + exit %d" % (hc, cw, ex)
assert ex == 1, "hypercalls.exit %d != 1" % ex
assert d["backend"] in ("emu", "kvm"), d["backend"]
EOF
}
run --backend emu --stats-json "$T/emu.json" "$HELLO"
if [ "$rc" -ne 0 ]; then fail "--stats-json: exit $rc"; show_err
elif [ ! -s "$T/emu.json" ]; then fail "--stats-json: $T/emu.json not written"
elif ! msg=$(check_json "$T/emu.json" 2>&1); then fail "--stats-json: $msg"; cat "$T/emu.json"
else pass "--stats-json"; fi

# ---- an unusable /dev/kvm: bind /dev/null over it in a private mount namespace ----
# ns_run ARGS...: run inside the namespace; rc 99 = the namespace could not be set up.
NS=(unshare -m --propagation private sh -c 'mount --bind /dev/null /dev/kvm 2>/dev/null || exit 99; exec "$@"' sh)
ns_run() { WRAP=("${NS[@]}"); run "$@"; WRAP=(); }
if ! command -v unshare >/dev/null; then echo "SKIP unusable-kvm part: no unshare"
elif [ "$(id -u)" -ne 0 ]; then echo "SKIP unusable-kvm part: not root"
elif [ ! -e /dev/kvm ]; then echo "SKIP unusable-kvm part: no /dev/kvm to mount over"
else
	ns_run --backend kvm "$HELLO"
	if [ "$rc" -eq 99 ]; then echo "SKIP unusable-kvm part: cannot bind-mount in a mount namespace"
	else
		if [ "$rc" -ne 125 ]; then fail "kvm unusable: exit $rc, want 125"; show_err
		elif [ "$(grep -c '' "$T/err")" -ne 1 ] || ! grep -q '^pvrun: .*kvm' "$T/err"; then
			fail "kvm unusable: want one 'pvrun: ' line mentioning kvm"; show_err
		else pass "--backend kvm, kvm unusable ($(cat "$T/err"))"; fi

		ns_run --backend auto "$HELLO"
		if [ "$rc" -ne 0 ]; then fail "auto, kvm unusable: exit $rc"; show_err
		elif ! grep -q 'Hello from a libpv guest' "$T/out"; then fail "auto, kvm unusable: no greeting"
		elif ! grep -q 'emulation backend' "$T/err"; then fail "auto, kvm unusable: no note about the emulation backend"; show_err
		else pass "--backend auto falls back to emu ($(cat "$T/err"))"; fi

		# Refusals stay one line when auto falls back to emu.
		WRAP=("${NS[@]}")
		refuse 125 "missing file, auto, kvm unusable" "$T/missing.elf"
		refuse 2 "--cpus 0, auto, kvm unusable" --cpus 0 "$HELLO"
		WRAP=()
	fi
fi

# ---- kvm, when usable: same output and exit counts as emu ----
if [ -n "${PV_TEST_BACKENDS:-}" ] && [[ $PV_TEST_BACKENDS != *kvm* ]]; then
	echo "SKIP kvm part: PV_TEST_BACKENDS=$PV_TEST_BACKENDS"
elif [ ! -e /dev/kvm ]; then
	echo "SKIP kvm part: no /dev/kvm"
else
	run --backend kvm --stats-json "$T/kvm.json" "$HELLO"
	if [ "$rc" -eq 125 ] && grep -q 'unusable' "$T/err"; then
		echo "SKIP kvm part: $(cat "$T/err")"
	elif [ "$rc" -ne 0 ]; then fail "kvm hello: exit $rc"; show_err
	elif ! cmp -s "$T/out" "$T/hello.emu.out"; then
		fail "kvm hello: stdout differs from emu"; diff "$T/hello.emu.out" "$T/out"
	elif ! msg=$(check_json "$T/kvm.json" 2>&1); then fail "kvm --stats-json: $msg"
	elif ! msg=$(python3 -c 'import json,sys
e, k = (json.load(open(f))["stats"]["exits"] for f in sys.argv[1:])
assert e == k, "exits differ: emu %s kvm %s" % (e, k)' "$T/emu.json" "$T/kvm.json" 2>&1); then
		fail "kvm vs emu: $msg"
	else pass "kvm hello: same stdout and exit counts as emu"; fi
fi

if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS check(s) FAILED"
	exit 1
fi
echo "all checks passed"
