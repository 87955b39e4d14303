#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# mkinitrd.sh OUT CACHE INIT [SET:MODULE,MODULE...]... [SRC=DEST]...
#
# An initramfs (newc cpio) for the Linux-guest tests and benchmark: busybox
# (static) with /init = INIT, /dev/console, /tmp and /mnt; each SET names
# modules of the stock kernel in CACHE (realkvm.sh's cache), copied to
# /mods with everything they depend on, in load order in /mods/SET (the
# package has no modules.dep: each module's own depends= field is read);
# each SRC=DEST copies a file into the image.
set -euo pipefail
out=${1:?usage: mkinitrd.sh OUT CACHE INIT [SET:MODULES]... [SRC=DEST]...}
cache=${2:?}; init=${3:?}; shift 3
kernel=$(compgen -G "$cache/linux-image-6.1.0-*-amd64/boot/vmlinuz-*" | sort -V | tail -n1) ||
    { echo "mkinitrd.sh: no kernel in $cache (realkvm.sh fetches it)" >&2; exit 1; }
moddir=$(compgen -G "${kernel%/boot/*}/lib/modules/6.1.0-*-amd64") || { echo "mkinitrd.sh: no modules" >&2; exit 1; }
root=$(mktemp -d) && trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,mnt,mods,tmp}
cp /bin/busybox "$root/bin/busybox"
cp "$init" "$root/init" && chmod +x "$root/init"
mknod "$root/dev/console" c 5 1
declare -A seen=()
add_module() {  # (name, set): the module after the ones it depends on, each set listing all it needs
    local n=${1//-/_} p d
    [[ -n ${seen[$2/$n]:-} ]] && return; seen[$2/$n]=1
    p=$(find "$moddir/kernel" -name "$n.ko" -o -name "${n//_/-}.ko" | head -n1)
    [[ -n $p ]] || { echo "mkinitrd.sh: module $n not in $moddir" >&2; exit 1; }
    for d in $(tr '\0' '\n' < "$p" | sed -n 's/^depends=//p' | tr , ' '); do add_module "$d" "$2"; done
    cp "$p" "$root/mods/$n.ko"; echo "$n" >> "$root/mods/$2"
}
IFS=$' \t\n,'
for a in "$@"; do
    case $a in
    *=*) mkdir -p "$root/$(dirname "${a#*=}")"; cp "${a%%=*}" "$root/${a#*=}" ;;
    *:*) : >> "$root/mods/${a%%:*}"; for m in ${a#*:}; do add_module "$m" "${a%%:*}"; done ;;  # IFS has ,
    *) echo "mkinitrd.sh: '$a' is neither SET:MODULES nor SRC=DEST" >&2; exit 1 ;;
    esac
done
(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) > "$out.partial" && mv "$out.partial" "$out"
