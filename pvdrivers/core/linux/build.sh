#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build.sh CACHE OUT INCLUDE SRC: build pvcore.ko (into OUT) out of tree
# against Debian's headers for the kernel the realkvm tests boot (the version
# the linux-image-amd64 metapackage depends on, as tests/realkvm/realkvm.sh
# fetches it).  The headers are fetched with apt-get download + dpkg -x into
# CACHE (never installed); their Makefile's absolute include is pointed there.
# Offline or without the headers, OUT becomes a one-line note saying why (the
# default build must not need the network); the test that loads it reports it.
set -uo pipefail
cache=$1 out=$2 inc=$3 src=$4
fail() { echo "pvcore.ko not built: $*" > "$out"; echo "build.sh: $*" >&2; exit 0; }
mkdir -p "$cache" && cache=$(cd "$cache" && pwd)
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
cp "$src"/Kbuild "$src"/pvcore.c "$src"/pvcore.h "$b/"
make -s -C "$hdr/tree/usr/src/linux-headers-$ver" M="$b" PV_INCLUDE="$inc" modules >&2 ||
    fail "make against linux-headers-$ver failed"
cp "$b/pvcore.ko" "$out"
