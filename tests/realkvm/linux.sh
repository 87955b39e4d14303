#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# linux.sh: Debian's stock kernel boots on libpv's PC platform (<pv/linux.h>).
# Runs inside the realkvm bed (one L1 boot for every check below):
#
#   linux.sh PVRUN CACHE_DIR PVCORE_KO PVCORE_HOST
#
# CACHE_DIR is realkvm.sh's cache (the kernel it fetched).  The initramfs is
# busybox-static and an /init that does what the command line's pvtest= says:
#   report  print LIBPV-NPROC and LIBPV-CMDLINE, power off with pvstatus=N
#   shell   the same, but run a shell on the console (input from pvrun's
#           stdin) before powering off
#   panic   crash the kernel (sysrq c)
#   hang    never power off
#   pvcore  load pvcore.ko with its self-test against monitor port pvport=N
#           (pvcore_host answers it), unload it
# Each check prints "ok NAME" or "FAIL NAME: why"; the exit status is the
# number of failures.  LINUX_BENCH=1 also times the boot against QEMU;
# LINUX_DEBUG=1 shows pvrun's stderr after each run.
set -uo pipefail
pvrun=${1:?usage: linux.sh PVRUN CACHE_DIR}
cache=${2:?usage: linux.sh PVRUN CACHE_DIR PVCORE_KO PVCORE_HOST}
pvcore_ko=${3:?usage: linux.sh PVRUN CACHE_DIR PVCORE_KO PVCORE_HOST}
pvcore_host=${4:?usage: linux.sh PVRUN CACHE_DIR PVCORE_KO PVCORE_HOST}
kernel=$(compgen -G "$cache/linux-image-6.1.0-*-amd64/boot/vmlinuz-*" | sort -V | tail -n1)
[[ -f $kernel ]] || { echo "FAIL setup: no kernel in $cache"; exit 1; }
[[ $(head -c 4 "$pvcore_ko") == $'\x7fELF' ]] || { echo "FAIL setup: $(head -n1 "$pvcore_ko")"; exit 1; }
work=$(mktemp -d /tmp/linux-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
fails=0
ok() { echo "ok $1"; }
bad() { echo "FAIL $1: $2"; fails=$((fails + 1)); for f in "$work"/out "$work"/err; do
        [[ -s $f ]] && { echo "--- $(basename "$f") (last 25 lines)"; tail -n 25 "$f"; }; done; }

# ---- the initramfs -------------------------------------------------------------
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys}
cp /bin/busybox "$root/bin/busybox"
cp "$pvcore_ko" "$root/pvcore.ko"
mknod "$root/dev/console" c 5 1
cat > "$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo LIBPV-INIT-START
arg() { for w in $(cat /proc/cmdline); do case $w in "$1"=*) echo "${w#*=}" ;; esac; done; }
status() { printf "\\$(printf %o "$1")" | dd of=/dev/port bs=1 seek=1540 count=1 2>/dev/null; }
case $(arg pvtest) in
report|shell)
    echo "LIBPV-NPROC $(nproc)"
    echo "LIBPV-CMDLINE $(cat /proc/cmdline)"
    if [ "$(arg pvtest)" = shell ]; then echo LIBPV-SHELL; sh; fi
    status "$(arg pvstatus)" ;;
panic)
    echo c > /proc/sysrq-trigger ;;
hang)
    while :; do sleep 1; done ;;
pvcore)
    if insmod /pvcore.ko selftest_port="$(arg pvport)"; then
        dmesg | grep 'pvcore:'
        rmmod pvcore && dmesg | grep 'pvcore: unloaded'
    else
        echo LIBPV-INSMOD-FAILED
        dmesg | grep 'pvcore:'
    fi ;;
esac
poweroff -f
EOF
chmod +x "$root/init"
(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) > "$work/initrd.cpio"

# run NAME PVRUN-ARGS...: pvrun with its stdout and stderr in files, its status in $rc.
run() {
    local name=$1; shift
    rc=0
    timeout 300 "$pvrun" "$@" > "$work/out" 2> "$work/err" < /dev/null || rc=$?
    sed -i 's/\r$//' "$work/out"
    [[ -z ${LINUX_DEBUG:-} ]] || { echo "--- $name stderr"; cat "$work/err"; }
    [[ $rc != 124 ]] || { bad "$name" "timed out"; return 1; }
}
append="console=ttyS0 panic=-1 pci=off quiet"

# check NAME CPUS STATUS: the report /init printed, the status pvrun returned.
check() {
    if [[ $rc != "$3" ]]; then bad "$1" "pvrun exited $rc, want $3"
    elif ! grep -q '^LIBPV-INIT-START' "$work/out"; then bad "$1" "no marker from /init"
    elif ! grep -qx "LIBPV-NPROC $2" "$work/out"; then bad "$1" "nproc is not $2"
    elif ! grep -q "^LIBPV-CMDLINE .*marker=libpv-$2" "$work/out"; then bad "$1" "command line lost"
    else return 0; fi
    return 1
}

# ---- 1 vCPU: a shell on the serial console runs what pvrun's stdin types --------
mkfifo "$work/in"
rc=0
timeout 300 "$pvrun" --kernel "$kernel" --initrd "$work/initrd.cpio" --cpus 1 \
    --append "$append pvtest=shell pvstatus=41 marker=libpv-1" < "$work/in" > "$work/out" 2> "$work/err" &
pid=$!
exec {keys}> "$work/in"
for ((i = 0; i < 300; i++)); do grep -q LIBPV-SHELL "$work/out" && break; sleep 1; done
sleep 1
echo 'echo typed-$((6 * 7)); exit' >&$keys
wait $pid || rc=$?
exec {keys}>&-
sed -i 's/\r$//' "$work/out"
if check boot-1 1 41; then
    if grep -q '^typed-42' "$work/out"; then ok "boot-1 (shell input, status $rc)"; else bad boot-1 "typed command did not run"; fi
fi

# ---- 2 vCPUs: nproc, command line, status, exit counts in the stats JSON ---------
run boot-2 --kernel "$kernel" --initrd "$work/initrd.cpio" --cpus 2 --stats-json "$work/stats.json" \
    --append "$append pvtest=report pvstatus=42 marker=libpv-2" &&
if check boot-2 2 42; then
    if ! grep -q '"uart":{"type":"pio","exits":[1-9]' "$work/stats.json"; then
        bad boot-2 "stats JSON counts no UART exits: $(cat "$work/stats.json")"
    elif ! grep -q '"interrupts":[1-9]' "$work/stats.json"; then  # the UART's, at least
        bad boot-2 "stats JSON counts no interrupts: $(cat "$work/stats.json")"
    else
        ok "boot-2 (status $rc, $(grep -o '"exits_total":[0-9]*' "$work/stats.json"), $(grep -o '"interrupts":[0-9]*' "$work/stats.json"))"
    fi
fi

# ---- a panic ends the VM non-zero, with the panic line -------------------------
run panic --kernel "$kernel" --initrd "$work/initrd.cpio" --stats --append "$append pvtest=panic" &&
if [[ $rc != 126 ]]; then bad panic "pvrun exited $rc, want 126"
elif ! grep -q 'guest kernel panic: Kernel panic - not syncing' "$work/err"; then bad panic "no panic message"
else ok "panic ($(grep -o 'guest kernel panic: [^(]*' "$work/err"))"; fi

# ---- a guest that does not power off: SIGTERM -> pv_vm_stop ends it -------------
# Seconds of wall time in this bed are far less of L1's (TCG on a loaded host):
# the bound is 5 s of wall time, and the figure is printed.
"$pvrun" --kernel "$kernel" --initrd "$work/initrd.cpio" --append "$append pvtest=hang" \
    < /dev/null > "$work/out" 2> "$work/err" &
pid=$!
sleep 10  # well into the boot: pvrun handles signals once the guest is loaded
mkfifo "$work/nap"; exec {nap}<> "$work/nap"  # read -t on it sleeps without a fork (the loop must not take the time it measures)
t0=$(date +%s%N); kill -TERM $pid; t1=""
for ((i = 0; i < 3000; i++)); do
    read -r line < "$work/err" && [[ $line == *"stopped by the monitor"* ]] && { t1=$(date +%s%N); break; }
    read -r -t 0.002 -u $nap line || true
done
rc=0; wait $pid || rc=$?
ms=$(( (${t1:-$(date +%s%N)} - t0) / 1000000 ))  # to pv_vm_run's return (VM teardown not counted)
if [[ $rc != 143 ]]; then bad stop "pvrun exited $rc, want 143"
elif ((ms >= 5000)); then bad stop "stopping took $ms ms"  # ~1/5 of L1's TCG time here: see the report
else ok "stop (pv_vm_stop after SIGTERM: $ms ms)"; fi

# ---- pvcore.ko: finds libpv, 10000 events through its interrupt, a grant ------
rc=0
timeout 300 "$pvcore_host" "$kernel" "$work/initrd.cpio" "$append pvtest=pvcore" > "$work/out" 2> "$work/err" || rc=$?
sed -i 's/\r$//' "$work/out"
if [[ $rc != 0 ]]; then bad pvcore "pvcore_host exited $rc: $(grep PVCORE-HOST "$work/out")"
elif ! grep -q 'pvcore: selftest ok: 10000 events' "$work/out"; then bad pvcore "no self-test result"
elif ! grep -q 'pvcore: unloaded' "$work/out"; then bad pvcore "rmmod failed"
else ok "pvcore ($(grep -o 'selftest ok: .*' "$work/out"); $(grep -o 'interrupts=[0-9]*' "$work/out"); $(grep -o 'after-unload: .*' "$work/out"))"; fi

# ---- QEMU's own KVM in the same L1: pvcore refuses to load; boot time, exits ----
kvm_exits() {  # KVM's global counters in L1's debugfs, one "name=value" per word
    local d=/sys/kernel/debug/kvm f
    [[ -d $d ]] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
    for f in exits io_exits mmio_exits halt_exits irq_exits irq_window_exits insn_emulation; do
        [[ -r $d/$f ]] && printf '%s=%s ' "$f" "$(cat "$d/$f")"
    done
}
# timed CMD...: run CMD (output in out); sets ms (from its start to /init's first
# line) and kexits (KVM's counters then: debugfs sums the live VMs only, so a
# bench guest hangs after the line and is stopped once they are read)
timed() {
    local t0 t1="" pid
    t0=$(date +%s%N); kexits=""
    "$@" < /dev/null > "$work/out" 2> "$work/err" &
    pid=$!
    while kill -0 $pid 2>/dev/null; do
        if [[ -z $t1 ]] && grep -q LIBPV-INIT-START "$work/out"; then
            t1=$(date +%s%N); kexits=$(kvm_exits)
            [[ -z ${stop_at_init:-} ]] || kill -TERM $pid
        fi
        sleep 0.05
        (( $(date +%s%N) - t0 > 300000000000 )) && { kill $pid; break; }
    done
    wait $pid 2>/dev/null
    ms=${t1:+$(( (t1 - t0) / 1000000 ))}
}
qemu_run() {  # MACHINE APPEND (exec: a TERM to the background job reaches QEMU)
    exec timeout 300 qemu-system-x86_64 -enable-kvm -cpu host -M "$1" -m 256 -smp 1 -nodefaults -no-user-config \
        -display none -no-reboot -serial stdio -kernel "$kernel" -initrd "$work/initrd.cpio" -append "$2"
}
timed qemu_run pc "$append pvtest=pvcore pvport=1"
sed -i 's/\r$//' "$work/out"
if ! grep -q LIBPV-INSMOD-FAILED "$work/out" || ! grep -q 'pvcore: not running on libpv' "$work/out"; then
    bad qemu-refuses-pvcore "pvcore loaded under QEMU or QEMU did not boot"
else ok "qemu-refuses-pvcore (QEMU -M pc: /init after ${ms:-?} ms; KVM then: $kexits)"; fi

if [[ -n ${LINUX_BENCH:-} ]]; then
    # Boot figures, 1 vCPU guests in an L1 with $(nproc) vCPUs: ms to /init's first line, KVM's exits.
    stop_at_init=1
    for i in 1 2; do
        timed "$pvrun" --kernel "$kernel" --initrd "$work/initrd.cpio" --stats-json "$work/stats.json" \
            --append "$append pvtest=hang"
        echo "bench libpv: ${ms:-?} ms; KVM at /init: $kexits; libpv at the stop: $(cat "$work/stats.json")"
        for m in microvm pc; do
            timed qemu_run $m "$append pvtest=hang"
            echo "bench qemu -M $m: ${ms:-?} ms; KVM at /init: $kexits"
        done
    done
    stop_at_init=""
fi

# ---- refusals: a corrupt kernel, a missing initramfs ----------------------------
head -c 4096 /dev/urandom > "$work/corrupt"
run corrupt --kernel "$work/corrupt" --initrd "$work/initrd.cpio" &&
if [[ $rc != 125 ]] || ! grep -q 'not a Linux bzImage' "$work/err"; then bad corrupt "exit $rc"
else ok corrupt; fi
run no-initrd --kernel "$kernel" --initrd "$work/nonexistent.cpio" &&
if [[ $rc != 125 ]] || ! grep -q 'nonexistent.cpio: No such file' "$work/err"; then bad no-initrd "exit $rc"
else ok no-initrd; fi

exit $fails
