#!/bin/sh
# The installed tree is enough: `meson install --destdir`, then build the
# README's monitor and a freestanding guest that includes every installed
# guest header against that tree only (pkg-config), check every host header
# compiles on its own, check no installed library points into the build or
# source tree, and run the guest under the monitor.
# usage: install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1 src=$2
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
meson install -C "$build" --destdir "$d/root" --no-rebuild --quiet >/dev/null
pc=$(dirname "$(find "$d/root" -name libpv.pc | head -n 1)")
[ -d "$pc" ] || { echo "install: no libpv.pc installed"; exit 1; }
inc=$(find "$d/root" -type d -path '*/include/pv' | head -n 1)
export PKG_CONFIG_SYSROOT_DIR="$d/root" PKG_CONFIG_PATH="$pc"

# Host headers, one translation unit each, strict.
for h in $(cd "$inc" && ls *.h); do
	printf '#include <pv/%s>\n#include <pv/%s>\nint main(void) { return 0; }\n' "$h" "$h" > "$d/h.c"
	cc -std=gnu11 -Wall -Wextra -Werror $(pkg-config --cflags libpv) -c "$d/h.c" -o "$d/h.o" ||
		{ echo "install: <pv/$h> does not compile alone"; exit 1; }
done

# The monitor, from a copy of its source (no path into the source tree).
cp "$src/examples/minimal-monitor.c" "$d/monitor.c"
emu=libpv-emu
pkg-config --exists libpv-emu || emu=
# shellcheck disable=SC2086
cc -std=gnu11 -Wall -Wextra -Werror "$d/monitor.c" $(pkg-config --cflags --libs libpv $emu) -o "$d/monitor"

# A guest including every installed guest-side header.
{
	for h in $(cd "$inc" && ls abi/*.h guest/*.h); do echo "#include <pv/$h>"; done
	cat <<'C'
int pv_main(const struct pv_boot_info *bi)
{
	pv_printf("installed guest, ABI v%u\n", bi->abi_version);
	return bi->abi_version == PV_ABI_VERSION ? 0 : 1;
}
C
} > "$d/guest.c"
# shellcheck disable=SC2046
cc $(pkg-config --cflags libpv-guest) "$d/guest.c" $(pkg-config --libs libpv-guest) -o "$d/guest.elf"

# Nothing installed may reach back into the build or the source tree.
for lib in $(find "$d/root" -name '*.so*' -type f); do
	if readelf -d "$lib" | grep -E 'RPATH|RUNPATH' | grep -qE "$(cd "$build" && pwd)|$(cd "$src" && pwd)"; then
		echo "install: $lib has a run path into the build or source tree"; exit 1
	fi
done

libdir=$(dirname "$(find "$d/root" -name 'libpv.so' | head -n 1)")

# A libpv-emu built against an unpacked Unicorn (-Dunicorn_root) carries its
# own copy, found through RUNPATH $ORIGIN/libpv-emu: the installed library
# must resolve Unicorn from the install prefix, not from the source tree.
emulib=$(find "$d/root" -name 'libpv-emu.so.*' -type f | head -n 1)
if [ -n "$emulib" ] && [ -n "$(find "$d/root" -path '*/libpv-emu/libunicorn.so.2')" ]; then
	readelf -d "$emulib" | grep -E 'RUNPATH' | grep -qF '[$ORIGIN/libpv-emu]' ||
		{ echo "install: $emulib lacks RUNPATH \$ORIGIN/libpv-emu"; readelf -d "$emulib" | grep PATH; exit 1; }
	got=$(env -u LD_LIBRARY_PATH ldd "$emulib" | awk '$1 == "libunicorn.so.2" { print $3 }')
	case "$got" in
	"$libdir"/libpv-emu/libunicorn.so.2) ;;
	*) echo "install: installed libpv-emu resolves Unicorn to '$got', not $libdir/libpv-emu/"; exit 1 ;;
	esac
	echo "install: libpv-emu resolves Unicorn from $got"
fi

out=$(LD_LIBRARY_PATH="$libdir" "$d/monitor" "$d/guest.elf" 2>&1) || { echo "install: monitor failed: $out"; exit 1; }
echo "$out"
echo "$out" | grep -q '^installed guest, ABI v1$' || { echo "install: no output from the guest"; exit 1; }
echo "$out" | grep -q '^guest exited with 0 after ' || { echo "install: unexpected summary"; exit 1; }
