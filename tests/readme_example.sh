#!/bin/sh
# The README's "link libpv into your own monitor" example is
# examples/minimal-monitor.c verbatim, and it builds and runs a guest.
# usage: readme_example.sh README EXAMPLE_SOURCE MONITOR_BINARY GUEST
set -eu
readme=$1 src=$2 bin=$3 guest=$4
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
awk '/<!-- example:minimal-monitor -->/{f=1;next} f&&/^```c/{g=1;next} g&&/^```/{exit} g' "$readme" > "$tmp"
if ! cmp -s "$tmp" "$src"; then
	echo "README example differs from $src:"; diff "$tmp" "$src" || true; exit 1
fi
out=$("$bin" "$guest" 2>/dev/null)
echo "$out"
echo "$out" | grep -q '^Hello from a libpv guest' || { echo "no greeting from the guest"; exit 1; }
echo "$out" | grep -q '^guest exited with 0 after 2 exits (2 hypercalls) on ' || { echo "unexpected summary"; exit 1; }
