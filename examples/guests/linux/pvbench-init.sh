#!/bin/busybox sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# /init of pvbench's Linux guests (examples/bench_linux.c).  The command line's
# pvdoor= says which disk driver to load:
#   pv           pvcore.ko and pvblk.ko      /dev/pvda
#   emulated     pata_legacy (libpv's ATA)   /dev/sda
#   qemu-virtio  virtio_pci, virtio_blk      /dev/vda
#   qemu-ide     ata_piix (QEMU's PIIX IDE)  /dev/sda
# It prints PVBENCH-READY, then runs what pvbench types on the console, one
# command per line, with no echo (so each window's console traffic is only
# the command and one answer):
#   run WORKLOAD QD COUNT   blkload run DEV ...: "PVBENCH-RESULT blkload ..."
#   idle SECONDS            sleep: "PVBENCH-IDLE"
#   quit                    power off
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
arg() { for w in $(cat /proc/cmdline); do case $w in "$1"=*) echo "${w#*=}" ;; esac; done; }
load() { for m in $(cat "/mods/$1"); do insmod "/mods/$m.ko" || echo "PVBENCH-ERROR insmod $m"; done; }
case $(arg pvdoor) in
pv) insmod /pvcore.ko && insmod /pvblk.ko; dev=/dev/pvda ;;
emulated) load ata; dev=/dev/sda ;;
qemu-virtio) load virtio; dev=/dev/vda ;;
qemu-ide) load piix; dev=/dev/sda ;;
*) echo "PVBENCH-ERROR unknown pvdoor"; poweroff -f ;;
esac
for i in $(seq 600); do [ -b $dev ] && break; sleep 0.1; done
if [ ! -b $dev ]; then
    echo "PVBENCH-ERROR no $dev"; dmesg | tail -n 20; poweroff -f
fi
stty -echo
echo "PVBENCH-READY $dev"
while read -r cmd a b c; do
    case $cmd in
    run) echo "PVBENCH-RESULT $(blkload run $dev "$a" "$b" "$c" 2>&1 | tr '\n' ' ')" ;;
    idle) sleep "$a"; echo PVBENCH-IDLE ;;
    quit) break ;;
    esac
done
poweroff -f
