#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build.sh CACHE OUTDIR INCLUDE SRCDIR...: build libpv's Linux modules out of
# tree against Debian's headers for the kernel the realkvm tests boot (the
# version the linux-image-amd64 metapackage depends on, as
# tests/realkvm/realkvm.sh fetches it).  Every SRCDIR holds one module's
# Kbuild and sources; they are built in one kbuild directory (the first,
# pvdrivers/core/linux, is pvcore, whose exports the others use, so modpost
# resolves them), and each NAME.ko lands in OUTDIR.  The headers are fetched
# with apt-get download + dpkg -x into CACHE (never installed); their
# Makefile's absolute include is pointed there.  Offline or without the
# headers, each OUTDIR/NAME.ko becomes a one-line note saying why (the default
# build must not need the network); the test that loads it reports it.
set -uo pipefail
cache=$1 outdir=$2 inc=$3; shift 3
srcs=("$@")
mods=()
for s in "${srcs[@]}"; do mods+=("$(sed -n 's/^obj-m *:= *\(.*\)\.o$/\1/p' "$s/Kbuild")"); done
fail() {
	for m in "${mods[@]}"; do echo "$m.ko not built: $*" > "$outdir/$m.ko"; done
	echo "build.sh: $*" >&2; exit 0
}
mkdir -p "$cache" "$outdir" && cache=$(cd "$cache" && pwd)
ver=$(compgen -G "$cache/linux-image-6.1.0-*-amd64" | sort -V | tail -n1 | sed 's|.*/linux-image-||' || true)
[[ -n $ver ]] || ver=$(apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: linux-image-\(6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n1)
[[ -n $ver ]] || fail "apt offers no linux-image-6.1.0-*-amd64"
hdr=$cache/headers-$ver
if [[ ! -f $hdr/done ]]; then
    exec {lock}>"$cache/.headers.lock"; flock "$lock"
    if [[ ! -f $hdr/done ]]; then
        rm -rf "$hdr" && mkdir -p "$hdr/dl"
        (cd "$hdr/dl" && apt-get download -q "linux-headers-$ver" "linux-headers-${ver%-amd64}-common" \
            linux-kbuild-6.1 >&2) || fail "apt-get download of the linux-headers-$ver packages failed"
        for d in "$hdr"/dl/*.deb; do dpkg -x "$d" "$hdr/tree" || fail "dpkg -x $d failed"; done
        sed -i "s|^include /usr/src/|include $hdr/tree/usr/src/|" "$hdr/tree/usr/src/linux-headers-$ver/Makefile"
        rm -rf "$hdr/dl" && touch "$hdr/done"
    fi
fi
b=$(mktemp -d) && trap 'rm -rf "$b"' EXIT
# One Kbuild naming every module; each module's own ccflags apply to all.
: > "$b/Kbuild"
for s in "${srcs[@]}"; do
    cat "$s/Kbuild" >> "$b/Kbuild"
    cp "$s"/*.c "$s"/*.h "$b/" 2>/dev/null
done
sed -i 's/^obj-m *:=/obj-m +=/; s/^ccflags-y *:=/ccflags-y +=/' "$b/Kbuild"
make -s -C "$hdr/tree/usr/src/linux-headers-$ver" M="$b" PV_INCLUDE="$inc" modules >&2 ||
    fail "make against linux-headers-$ver failed"
for m in "${mods[@]}"; do cp "$b/$m.ko" "$outdir/$m.ko"; done
