#!/bin/sh
# libpv quick start: installs what it needs from Debian, builds, and runs.
#   ./quickstart.sh bench   the main job: the block exit-count benchmark (pvbench --device blk)
#   ./quickstart.sh test    every test: normal build, no-KVM run, sandboxed run, ASan+UBSan build, fuzzers (clang)
# Idempotent; run as root on Debian 12 (or with the packages already there).
set -eu
cd "$(dirname "$0")"

PACKAGES="gcc libc6-dev meson ninja-build pkg-config python3 libunicorn-dev liburing-dev libcriterion-dev libfuse3-dev libseccomp-dev
          spin qemu-system-x86 busybox-static cpio util-linux fio clang libclang-rt-14-dev libvirt-dev libvirt-daemon libvirt-clients libxml2-dev libxml2-utils iptables iproute2 iputils-ping make"

install_packages() {
	missing=""
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "quickstart: missing packages:$missing (run as root to install them)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends $missing
}

# Debian 13's Unicorn 2.1 unpacked into .cache/unicorn (scripts/unicorn21.sh:
# no system package changes); without it the build uses the system's 2.0.1,
# which works but emulates guest stores ~20x slower.
unicorn_opt() {
	if u=$(scripts/unicorn21.sh); then
		echo "-Dunicorn_root=$u"
	else
		echo "quickstart: could not fetch Unicorn 2.1; building with the system's Unicorn" >&2
		echo "-Dunicorn_root="
	fi
}

# build DIR [meson options...]
build() {
	dir=$1; shift
	if [ -f "$dir/build.ninja" ]; then
		meson configure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@"
	fi
	ninja -C "$dir"
}

# Print "N passed, N failed[, N skipped]" from meson's JSON logs.
summary() {
	python3 - "$@" <<'PY'
import json, sys
p = f = s = 0
for log in sys.argv[1:]:
    try:
        lines = open(log).read().splitlines()
    except OSError:
        continue
    for line in lines:
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            p += 1
        elif r == "SKIP":
            s += 1
        else:
            f += 1
print(f"{p} passed, {f} failed" + (f", {s} skipped" if s else ""))
sys.exit(1 if f or p == 0 else 0)
PY
}

case "${1:-}" in
bench)
	install_packages
	build build -Dwerror=true "$(unicorn_opt)"
	echo "== pvbench --device blk: one disk, the PV door and the emulated ATA door, exits per request"
	build/examples/pvbench --device blk --plot build/pvbench-blk.svg
	;;
test)
	install_packages
	status=0
	uopt=$(unicorn_opt)
	build build -Dwerror=true "$uopt"
	meson test -C build --print-errorlogs --num-processes 2 || status=1
	logs="build/meson-logs/testlog.json"
	# Once more without /dev/kvm: the suite must pass on the emulation backend alone.
	if [ -e /dev/kvm ] && [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
		echo "== core suite with /dev/kvm hidden"
		unshare -m sh -c 'mount --bind /dev/null /dev/kvm &&
			meson test -C build --suite core --print-errorlogs --num-processes 2 --logbase nokvm' || status=1
		logs="$logs build/meson-logs/nokvm.json"
	fi
	# Once more with every VM sandboxed (seccomp allowlists per thread role).
	echo "== core suite sandboxed (PV_SANDBOX=kill)"
	PV_SANDBOX=kill meson test -C build --suite core --print-errorlogs --num-processes 2 --logbase sandbox || status=1
	logs="$logs build/meson-logs/sandbox.json"
	echo "== ASan+UBSan build"
	build build-asan -Dwerror=true -Dsanitize=true -Db_lundef=false "$uopt"
	meson test -C build-asan --suite core --print-errorlogs --num-processes 2 || status=1
	logs="$logs build-asan/meson-logs/testlog.json"
	# The libFuzzer harnesses (tests/fuzz), each for a bounded time.
	echo "== fuzzers (clang, libFuzzer + ASan + UBSan), ${FUZZ_SECONDS:-15} s each"
	(CC=clang; export CC; build build-fuzz -Dwerror=true -Dfuzz=true) || status=1
	FUZZ_SECONDS=${FUZZ_SECONDS:-15} FUZZ_ARTIFACTS="$PWD/build-fuzz/fuzz-artifacts" \
		meson test -C build-fuzz --suite fuzz --print-errorlogs --num-processes 1 || status=1
	logs="$logs build-fuzz/meson-logs/testlog.json"
	summary $logs || status=1
	exit $status
	;;
*)
	echo "usage: ./quickstart.sh bench|test" >&2
	exit 2
	;;
esac
