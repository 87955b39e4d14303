#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# linux_blk.sh: pvblk.ko in Debian's stock kernel on libpv (a PV disk of
# pvrun --disk).  Runs inside the realkvm bed, one L1 boot for every check:
#
#   linux_blk.sh PVRUN CACHE_DIR PVCORE_KO PVBLK_KO BLKLOAD
#
# The disk image lives on ext4 (a loop device in L1's tmpfs), so discard,
# write-zeroes and O_DIRECT reach a real file system.  Its layout:
#   0-64 MiB   an ext4 file system made here (mkfs.ext4)
#   80 MiB     2 MiB the guest writes through both queues and reads back
#   84 MiB     1 MiB of 0xff the guest discards
#   86 MiB     1 MiB of 0xff the guest zeroes (BLKZEROOUT: write-zeroes)
#   88 MiB     1 MiB written with O_DIRECT + fsync before pvrun is killed
#   90 MiB     64 KiB written through pata_legacy, read through pvblk.ko
# Four guest boots: rw (2 vCPUs: queues, data, discard, zeroes, a file
# system, rmmod/insmod), ata (pata_legacy on the emulated ATA disk of the
# same image), ro (the image read-only through pvblk.ko) and durable
# (kill -9 after fsync).  Each check prints "ok NAME" or "FAIL NAME: why"; the exit
# status is the number of failures.  LINUX_DEBUG=1 shows the guest's output.
set -uo pipefail
pvrun=${1:?usage: linux_blk.sh PVRUN CACHE_DIR PVCORE_KO PVBLK_KO BLKLOAD}
cache=${2:?}; pvcore_ko=${3:?}; pvblk_ko=${4:?}; blkload=${5:?}
kernel=$(compgen -G "$cache/linux-image-6.1.0-*-amd64/boot/vmlinuz-*" | sort -V | tail -n1)
[[ -f $kernel ]] || { echo "FAIL setup: no kernel in $cache"; exit 1; }
for ko in "$pvcore_ko" "$pvblk_ko"; do
    [[ $(head -c 4 "$ko") == $'\x7fELF' ]] || { echo "FAIL setup: $(head -n1 "$ko")"; exit 1; }
done
work=$(mktemp -d /tmp/linux-blk.XXXXXX)
cleanup() { mountpoint -q "$work/fs" && umount "$work/fs"; rm -rf "$work"; }
trap cleanup EXIT
fails=0
ok() { echo "ok $1"; }
shown=""  # the boot whose output a failure has shown
bad() {
    echo "FAIL $1: $2"; fails=$((fails + 1))
    [[ $shown == "$boot_name" ]] && return; shown=$boot_name
    for f in "$work"/out "$work"/err; do
        [[ -s $f ]] && { echo "--- $(basename "$f") of boot $boot_name (last 40 lines)"; tail -n 40 "$f"; }
    done
}
MB=$((1 << 20))
boot_name=setup

# ---- the disk image on ext4 --------------------------------------------------------
mkdir -p "$work/fs"
truncate -s 512M "$work/fs.img"
if mkfs.ext4 -q -F "$work/fs.img" && mount -o loop "$work/fs.img" "$work/fs"; then
    img=$work/fs/disk.img
else
    echo "note: no ext4 on a loop device here: the image is on tmpfs (no write-zeroes, no O_DIRECT)"
    img=$work/disk.img
fi
truncate -s 96M "$img"
mkfs.ext4 -q -F -E nodiscard "$img" 64M || { echo "FAIL setup: mkfs.ext4"; exit 1; }
ff() { head -c "$MB" /dev/zero | tr '\0' '\377' | dd of="$img" bs=1M seek="$1" conv=notrunc status=none; }
ff 84; ff 86
region_sum() { dd if="$img" bs=1M skip="$1" count="$2" status=none | sha256sum | cut -c1-64; }
nonzero() { dd if="$img" bs=1M skip="$1" count=1 status=none | tr -d '\000' | wc -c; }  # of MiB $1
is_zero() { [[ $(nonzero "$1") == 0 ]]; }

# ---- the initramfs: busybox, ext4's and pata_legacy's modules, pvcore.ko, pvblk.ko, blkload
cat > "$work/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
say() { echo "LIBPV $*"; }
arg() { for w in $(cat /proc/cmdline); do case $w in "$1"=*) echo "${w#*=}" ;; esac; done; }
status() { printf "\\$(printf %o "$1")" | dd of=/dev/port bs=1 seek=1540 count=1 2>/dev/null; }
MB=1048576
load() { for m in $(cat /mods/$1); do insmod /mods/$m.ko || say "FAIL insmod $m"; done; }
load ext4
if [ "$(arg pvtest)" = ata ]; then
    load ata
    for i in $(seq 150); do [ -b /dev/sda ] && break; sleep 0.2; done
    say "ata $(cat /sys/block/sda/size 2>/dev/null) $(cat /sys/block/sda/device/model 2>/dev/null | tr ' ' _)"
    [ "$(timeout 60 dd if=/dev/sda bs=1M count=2 skip=80 iflag=direct 2>/dev/null | sha256sum | cut -c1-64)" = "$(arg sum)" ] &&
        say ata-read-ok
    # 64 KiB: a PIO write exits once per 16-bit word (rep outsw), ~33k exits here
    dd if=/dev/urandom of=/tmp/pat bs=64k count=1 2>/dev/null
    timeout 120 dd if=/tmp/pat of=/dev/sda bs=64k seek=$((90 * 16)) oflag=direct conv=fsync 2>/dev/null &&
        say "ata-wrote $(sha256sum < /tmp/pat | cut -c1-64)"
    grep -E ' 14: ' /proc/interrupts | sed 's/^/LIBPV irq14 /'
    status 0; poweroff -f
fi
if ! insmod /pvcore.ko || ! insmod /pvblk.ko; then
    say insmod-failed; dmesg | grep -E 'pv(core|blk)'; poweroff -f
fi
say loaded "$(dmesg | grep 'pvblk: pvda')"
D=/sys/block/pvda
case $(arg pvtest) in
rw)
    say "queues $(ls -d $D/mq/[0-9]* | wc -l) ro=$(cat $D/ro) wc=$(cat $D/queue/write_cache | tr ' ' _)" \
        "fua=$(cat $D/queue/fua) discard=$(cat $D/queue/discard_max_bytes) zeroes=$(cat $D/queue/write_zeroes_max_bytes)"
    dd if=/dev/urandom of=/tmp/pat bs=1M count=2 2>/dev/null
    taskset -c 0 dd if=/tmp/pat of=/dev/pvda bs=1M count=1 seek=80 oflag=direct 2>/dev/null &&
    taskset -c 1 dd if=/tmp/pat of=/dev/pvda bs=1M count=1 skip=1 seek=81 oflag=direct 2>/dev/null &&
    taskset -c 1 dd if=/dev/pvda of=/tmp/back bs=1M count=2 skip=80 iflag=direct 2>/dev/null &&
    cmp /tmp/pat /tmp/back && say raw-ok "$(sha256sum < /tmp/pat | cut -c1-64)"
    taskset -c 0 blkload run /dev/pvda randread-4k 32 1000 & a=$!
    taskset -c 1 blkload run /dev/pvda randread-4k 32 1000 && wait $a && say qd32-ok
    blkdiscard -o $((84 * MB)) -l $MB /dev/pvda && say discard-ok
    blkload zero /dev/pvda $((86 * MB)) $MB && say zero-ok
    say "after-discard $(dd if=/dev/pvda bs=1M count=1 skip=84 iflag=direct 2>/dev/null | tr -d '\000' | wc -c)" \
        "$(dd if=/dev/pvda bs=1M count=1 skip=86 iflag=direct 2>/dev/null | tr -d '\000' | wc -c)"
    if mount -t ext4 /dev/pvda /mnt; then
        dd if=/dev/urandom of=/mnt/big bs=1M count=4 2>/dev/null
        mkdir /mnt/dir && cp /tmp/pat /mnt/dir/pat && echo small-file > /mnt/small
        sync
        say "files $(sha256sum /mnt/big | cut -c1-64) $(sha256sum /mnt/dir/pat | cut -c1-64)"
        umount /mnt && say umount-ok
    fi
    rmmod pvblk && say "$(dmesg | grep -o 'requests per queue: [0-9 ]*' | tail -n1)" &&
    insmod /pvblk.ko && [ "$(dd if=/dev/pvda bs=1M count=2 skip=80 iflag=direct 2>/dev/null |
        sha256sum | cut -c1-64)" = "$(sha256sum < /tmp/pat | cut -c1-64)" ] && say reload-ok
    rmmod pvblk && rmmod pvcore && dmesg | grep -q 'pvcore: unloaded' && say unload-ok
    dmesg | grep -E 'pv(blk|core): .*(not outstanding|unknown status|broken|still in use|failed|cannot)' |
        grep -v 'module verification failed' |
        sed 's/^/LIBPV dmesg /' ;;
ro)
    say "ro=$(cat $D/ro)"
    [ "$(dd if=/dev/pvda bs=1M count=2 skip=80 iflag=direct 2>/dev/null | sha256sum | cut -c1-64)" = "$(arg sum)" ] &&
        say read-ok
    [ "$(dd if=/dev/pvda bs=64k count=1 skip=$((90 * 16)) iflag=direct 2>/dev/null | sha256sum | cut -c1-64)" = "$(arg atasum)" ] &&
        say ata-data-ok
    dd if=/dev/zero of=/dev/pvda bs=4096 count=1 seek=$((90 * 256)) oflag=direct 2>/dev/null || say write-refused
    blkdiscard -o $((84 * MB)) -l $MB /dev/pvda 2>/dev/null || say discard-refused
    dd if=/dev/pvda of=/dev/null bs=1M count=8 iflag=direct 2>/dev/null && say read-after-ok
    rmmod pvblk && rmmod pvcore && say unload-ok ;;
durable)
    dd if=/dev/urandom of=/tmp/pat bs=1M count=1 2>/dev/null
    dd if=/tmp/pat of=/dev/pvda bs=1M seek=88 oflag=direct conv=fsync 2>/dev/null &&
        say "synced $(sha256sum < /tmp/pat | cut -c1-64)"
    while :; do sleep 1; done ;;
esac
status 0
poweroff -f
EOF
"$(dirname "${BASH_SOURCE[0]}")/mkinitrd.sh" "$work/initrd.cpio" "$cache" "$work/init" ext4:crc32c_generic,ext4 \
    ata:pata_legacy,sd_mod "$pvcore_ko=pvcore.ko" "$pvblk_ko=pvblk.ko" "$blkload=bin/blkload" ||
    { echo "FAIL setup: mkinitrd.sh"; exit 1; }
append="console=ttyS0 panic=-1 pci=off quiet"

# boot NAME CPUS DISK-ARGS PVTEST [EXTRA-APPEND]: pvrun with stdout/stderr in files, status in $rc
boot() {
    rc=0 boot_name=$1
    # shellcheck disable=SC2086 # DISK-ARGS: "--disk PATH" or "--ata PATH"
    timeout "${boot_timeout:-300}" "$pvrun" --kernel "$kernel" --initrd "$work/initrd.cpio" --cpus "$2" --mem 512 $3 \
        --stats-json "$work/stats-$1.json" --append "$append pvtest=$4 ${5:-}" \
        < /dev/null > "$work/out" 2> "$work/err" || rc=$?
    sed -i 's/\r$//' "$work/out"
    [[ -z ${LINUX_DEBUG:-} ]] || { echo "--- $1 output"; cat "$work/out" "$work/err"; }
}
has() { grep -q "^LIBPV $1" "$work/out"; }
field() { sed -n "s/^LIBPV $1 //p" "$work/out" | head -n1; }

# ---- rw: 2 vCPUs, 2 queues ----------------------------------------------------------
boot rw 2 "--disk $img" rw
if [[ $rc != 0 ]] || has insmod-failed; then bad load "pvrun exited $rc"
else
    ok "load ($(field loaded | sed 's/.*pvblk: //'))"
    q=$(field queues)
    if [[ $q == "2 ro=0 wc=write_back fua=1 "* && $q != *discard=0* && $q != *zeroes=0* ]]; then ok "config ($q)"
    else bad config "queues/limits: $q"; fi
    sum=$(field raw-ok)
    if [[ -n $sum && $(region_sum 80 2) == "$sum" ]]; then ok "raw (2 MiB through both queues read back in the guest and on the host)"
    else bad raw "guest: '${sum:-no match}', host: $(region_sum 80 2)"; fi
    has qd32-ok && ok "qd32 (1000 random 4 KiB reads at QD32 on each queue at once)" || bad qd32 "blkload failed"
    read -r h0 h1 <<< "$(field 'requests per queue:')"
    if [[ ${h0:-0} =~ ^[0-9]+$ && ${h1:-0} =~ ^[0-9]+$ ]] && ((h0 > 0 && h1 > 0)); then
        ok "multiqueue (requests per queue: $h0, $h1)"
    else bad multiqueue "requests per queue: ${h0:-?} ${h1:-?}"; fi
    if has discard-ok && is_zero 84; then ok "discard (reads as zeroes on the host)"
    else bad discard "guest $(has discard-ok && echo ok || echo failed), non-zero bytes read in the guest (discarded, zeroed): $(field after-discard); on the host: $(nonzero 84), $(nonzero 86)"; fi
    if has zero-ok && is_zero 86; then ok "write-zeroes (BLKZEROOUT: zeroes on the host)"
    else bad write-zeroes "guest $(has zero-ok && echo ok || echo failed); host zero: $(is_zero 86 && echo yes || echo no)"; fi
    read -r bsum psum <<< "$(field files)"
    if ! has umount-ok; then bad ext4 "mount, write or umount failed in the guest"
    elif ! fsck=$(e2fsck -fn "$img" 2>&1); then bad ext4 "e2fsck -fn: $fsck"
    elif [[ $(debugfs -R "cat /big" "$img" 2>/dev/null | sha256sum | cut -c1-64) != "$bsum" ||
            $(debugfs -R "cat /dir/pat" "$img" 2>/dev/null | sha256sum | cut -c1-64) != "$psum" ||
            $(debugfs -R "cat /small" "$img" 2>/dev/null) != small-file ]]; then bad ext4 "files differ on the host"
    else ok "ext4 (mounted, written, e2fsck -fn clean, 3 files match on the host)"; fi
    has reload-ok && ok "reload (rmmod, insmod, the data still reads back)" || bad reload "rmmod/insmod failed"
    has unload-ok && ok "unload (rmmod pvblk pvcore: the monitor holds no grant)" || bad unload "rmmod failed"
    if grep -q '^LIBPV dmesg' "$work/out"; then bad dmesg "$(grep '^LIBPV dmesg' "$work/out" | head -n3)"; fi
    fl=$(grep -o '"block.0.fl.reqs":[0-9]*' "$work/stats-rw.json" | cut -d: -f2)
    if (( ${fl:-0} > 0 )); then ok "flush (${fl} flushes reached the backend)"; else bad flush "no flush: $(cat "$work/stats-rw.json")"; fi
fi

# ---- ata: the same image through pata_legacy on the emulated ATA disk ----------------
# (reads what pvblk.ko wrote; writes what the read-only boot then reads through pvblk.ko)
if [[ -n ${sum:-} ]]; then
    boot_timeout=300 boot ata 1 "--ata $img" ata "sum=$sum"
    asum=$(field ata-wrote)
    if [[ $rc != 0 ]]; then bad pata-legacy "pvrun exited $rc"
    elif ! has ata-read-ok; then bad pata-legacy "pvblk.ko's data does not read back through pata_legacy: $(field ata)"
    elif [[ -z $asum || $(dd if="$img" bs=64k skip=$((90 * 16)) count=1 status=none | sha256sum | cut -c1-64) != "$asum" ]]; then
        bad pata-legacy "a write through pata_legacy is not in the image"
    else
        ok "pata-legacy (disk $(field ata); pvblk.ko's 2 MiB read back, 64 KiB written; IRQ 14: $(field irq14 | awk '{print $2}'))"
    fi
fi

# ---- ro: the same image read-only ---------------------------------------------------
if [[ -n ${sum:-} ]]; then
    before=$(sha256sum "$img" | cut -c1-64)
    boot ro 1 "--disk $img,ro" ro "sum=$sum atasum=${asum:-none}"
    if [[ $rc != 0 ]] || has insmod-failed; then bad read-only "pvrun exited $rc"
    elif ! has 'ro=1' || ! has read-ok || ! has write-refused || ! has discard-refused || ! has read-after-ok ||
         ! has unload-ok; then bad read-only "$(grep '^LIBPV' "$work/out" | tr '\n' ' ')"
    elif [[ $(sha256sum "$img" | cut -c1-64) != "$before" ]]; then bad read-only "the image changed"
    else ok "read-only (reads work, a write and a discard are refused, the module unloads, the image is unchanged)"; fi
    if [[ -n ${asum:-} ]]; then
        has ata-data-ok && ok "ata-to-pv (pata_legacy's write reads back through pvblk.ko)" ||
            bad ata-to-pv "pata_legacy's write does not read back through pvblk.ko"
    fi
fi

# ---- durable: kill -9 of the monitor after the guest's fsync -------------------------
rc=0 boot_name=durable
"$pvrun" --kernel "$kernel" --initrd "$work/initrd.cpio" --mem 512 --disk "$img" \
    --append "$append pvtest=durable" < /dev/null > "$work/out" 2> "$work/err" &
pid=$!
for ((i = 0; i < 400; i++)); do grep -q '^LIBPV synced' "$work/out" && break; sleep 1; done
kill -9 $pid; wait $pid 2>/dev/null
sed -i 's/\r$//' "$work/out"
dsum=$(field synced)
if [[ -z $dsum ]]; then bad durable "the guest did not report its fsync"
elif [[ $(region_sum 88 1) != "$dsum" ]]; then bad durable "the data is not in the image after kill -9"
else ok "durable (1 MiB written with O_DIRECT and fsync is in the image after kill -9)"; fi

exit $fails
