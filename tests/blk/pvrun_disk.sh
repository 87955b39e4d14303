#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pvrun --disk and --ata: a user's own guest gets a disk without a monitor of
# their own.  Data written through pvrun's PV disk reads back through its ATA
# disk (and the image holds it); ,ro refuses writes; bad device arguments are
# one line and exit 2 or 125.
#   usage: pvrun_disk.sh PVRUN XDOOR_GUEST
set -u
PVRUN=$1 XDOOR=$2
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
FAILS=0
fail() { echo "FAIL: $*"; sed 's/^/    stderr: /' "$T/err"; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
run() { "$PVRUN" --backend "$BACKEND" "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
one_line() { [ "$(grep -c '' "$T/err")" -eq 1 ] && grep -q '^pvrun: ' "$T/err"; }

for BACKEND in emu kvm; do
	if [ "$BACKEND" = kvm ]; then
		# /dev/kvm may be missing, or present and not KVM (the no-KVM pass
		# binds /dev/null over it): ask pvrun itself.
		"$PVRUN" --backend kvm "$XDOOR" >/dev/null 2>"$T/err" </dev/null
		if grep -q 'backend kvm unusable' "$T/err"; then
			echo "skip: kvm ($(cat "$T/err"))"; continue
		fi
	fi
	img=$T/disk-$BACKEND.img
	truncate -s 4M "$img"
	run --disk "$img" --cmdline "pv write 11 0:8 2000:64" "$XDOOR"
	if [ "$rc" -ne 0 ] || ! grep -qx ok "$T/out"; then fail "$BACKEND --disk write: exit $rc: $(cat "$T/out")"
	else pass "$BACKEND --disk: PV write"; fi
	run --ata "$img,ro" --cmdline "ata check 11 0:8 2000:64" "$XDOOR"
	if [ "$rc" -ne 0 ] || ! grep -qx ok "$T/out"; then fail "$BACKEND --ata check: exit $rc: $(cat "$T/out")"
	else pass "$BACKEND --ata ,ro: reads what the PV disk wrote"; fi
	# The bytes are in the image itself: sector 2000 is not zero any more.
	if [ "$(dd if="$img" bs=512 skip=2000 count=1 2>/dev/null | tr -d '\0' | wc -c)" -eq 0 ]; then
		fail "$BACKEND: the image does not hold the write"
	else pass "$BACKEND: the image holds the data"; fi
	run --disk "$img,ro" --cmdline "pv write 12 0:8" "$XDOOR"
	if [ "$rc" -eq 0 ] || ! grep -q 'io error' "$T/out"; then fail "$BACKEND --disk ,ro accepted a write: exit $rc: $(cat "$T/out")"
	else pass "$BACKEND --disk ,ro: the write fails in the guest"; fi
	run --disk "$img" --cmdline "pv check 11 0:8" "$XDOOR"
	if [ "$rc" -ne 0 ]; then fail "$BACKEND: the refused write changed the disk: $(cat "$T/out")"
	else pass "$BACKEND: the refused write left the disk alone"; fi
done

BACKEND=emu
run --disk "$T/missing.img" "$XDOOR"
if [ "$rc" -ne 125 ] || ! one_line || ! grep -q 'missing.img' "$T/err"; then fail "--disk missing file: exit $rc"
else pass "--disk missing file: $(cat "$T/err")"; fi
run --ata "$T" "$XDOOR"
if [ "$rc" -ne 125 ] || ! one_line; then fail "--ata directory: exit $rc"; else pass "--ata directory: $(cat "$T/err")"; fi
run --disk ",ro" "$XDOOR"
if [ "$rc" -ne 2 ] || ! one_line; then fail "--disk ,ro without a path: exit $rc"; else pass "--disk ,ro: $(cat "$T/err")"; fi
run --disk "$T/a" --disk "$T/b" "$XDOOR"
if [ "$rc" -ne 2 ] || ! one_line; then fail "--disk twice: exit $rc"; else pass "--disk twice: $(cat "$T/err")"; fi
echo "$FAILS failed"
[ "$FAILS" -eq 0 ]
