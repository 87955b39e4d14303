#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Model-check ring/ring.pml, the ring notification protocol under x86-TSO.
#
#   spin_check.sh path/to/ring.pml
#
# For every configuration: spin -a, gcc pan.c, then a safety run (assertions:
# exactly once, in order, right content; deadlock = lost wake-up) and an
# LTL run (<> all consumed, acceptance cycles, watchdog off).  The correct
# configurations must pass both; the deliberately broken ones must fail with
# the expected error, which proves the model can find these bugs.
# Environment: SPIN (default spin), CC (default gcc), PAN_CFLAGS (-O0:
# compiling pan dominates the run time).  Exit 77 (skip) if
# spin is not installed.
set -u

pml=${1:?usage: spin_check.sh path/to/ring.pml}
SPIN=${SPIN:-spin}
CC=${CC:-gcc}
case $pml in /*) ;; *) pml=$(pwd)/$pml ;; esac

if ! command -v "$SPIN" >/dev/null 2>&1; then
	echo "spin not found: skipping (apt-get install spin)"
	exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pv-ring-spin.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM
cd "$work" || exit 1

failures=0

# build DEFINES CFLAGS: generate and compile a verifier into ./pan
build() {
	rm -f pan pan.* ./*.trail
	if ! "$SPIN" $1 -a "$pml" >spin.log 2>&1; then
		cat spin.log
		return 1
	fi
	if ! "$CC" ${PAN_CFLAGS:--O0} -w $2 -o pan pan.c >cc.log 2>&1; then
		cat cc.log
		return 1
	fi
}

# check NAME DEFINES EXPECT: EXPECT is "pass", or a pattern the failing
# safety run must print; the LTL run must then report an acceptance cycle
# unless the pattern is about the content assertions.
check() {
	name=$1 defs=$2 expect=$3

	if ! build "$defs" "-DNOCLAIM -DSAFETY"; then
		echo "FAIL $name: cannot build the safety verifier"
		failures=$((failures + 1))
		return
	fi
	./pan -m20000 >safety.log 2>&1
	serr=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' safety.log)
	sstates=$(sed -n 's/^ *\([0-9]*\) states, stored.*/\1/p' safety.log)

	if ! build "-DNO_WATCHDOG=1 $defs" ""; then
		echo "FAIL $name: cannot build the LTL verifier"
		failures=$((failures + 1))
		return
	fi
	./pan -a -m20000 >ltl.log 2>&1
	lerr=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' ltl.log)

	if [ "$expect" = pass ]; then
		if [ "$serr" = 0 ] && [ "$lerr" = 0 ] &&
		   ! grep -q "max search depth too small" safety.log ltl.log; then
			echo "ok   $name: safety and LTL hold ($sstates states)"
		else
			echo "FAIL $name: expected no error (safety errors=$serr, ltl errors=$lerr)"
			grep -E "violated|cycle|invalid|too small" safety.log ltl.log
			failures=$((failures + 1))
		fi
		return
	fi
	found=$(grep -E "pan:1:|assertion violated" safety.log | head -1)
	case $expect in
	*consumed*) lexp='assertion violated' ;;
	*) lexp='acceptance cycle' ;;
	esac
	if [ "${serr:-0}" != 0 ] && grep -q "$expect" safety.log && grep -q "$lexp" ltl.log; then
		echo "ok   $name: spin finds the bug as expected: $found"
	else
		echo "FAIL $name: spin should have found '$expect' (safety errors=$serr, ltl errors=$lerr)"
		failures=$((failures + 1))
	fi
}

echo "spin model: $pml"
# Correct configurations.
check "kvm (both fences real)"                 ""                           pass
check "emulated guest producer, host membarrier" "-DPFENCE=0 -DHEAVY=1"     pass
check "emulated guest consumer, sleep re-checks" "-DCFENCE=0 -DWAITCHECK=1" pass
check "both emulated-guest fixes together" "-DPFENCE=0 -DCFENCE=0 -DHEAVY=1 -DWAITCHECK=1" pass
# Deliberately broken variants: each must fail.
check "BROKEN: no re-check before sleeping"     "-DNO_RECHECK=1" 'lost_wakeup'
check "BROKEN: guest fence dropped, no membarrier" "-DPFENCE=0"  'lost_wakeup'
check "BROKEN: guest consumer fence dropped, plain sleep" "-DCFENCE=0" 'lost_wakeup'
check "BROKEN: prod published before the entry" "-DPUBLISH_EARLY=1" 'consumed\[v\]'

if [ $failures -ne 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all spin checks passed"
exit 0
