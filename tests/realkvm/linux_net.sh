#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# linux_net.sh: pvnet.ko in Debian's stock kernel on libpv (the PV network
# device of pvrun --net tap=NAME).  Runs inside the realkvm bed, in a network
# namespace of its own (unshare -n) that holds the TAP's host end:
#
#   linux_net.sh PVRUN CACHE_DIR PVCORE_KO PVNET_KO [CPUS]
#
# One guest boot: pvcore.ko and pvnet.ko load, the interface carries the
# monitor's MAC and MTU and comes up with carrier; the guest pings the host
# (64, 1472 and 8000 bytes: fragments), fetches 4 MiB over TCP from the
# host's httpd (receive) and serves 4 MiB that the host fetches (transmit,
# TSO when offered); the host pings the guest and learns the monitor's MAC;
# then rmmod, insmod and a ping again, and rmmod of both modules with every
# grant ended.  CPUS (default 1) vCPUs: as many queues, and a ping and a
# fetch from each vCPU.  Each check prints "ok NAME" or "FAIL NAME: why"; the exit
# status is the number of failures.  LINUX_DEBUG=1 shows the guest's output.
set -uo pipefail
pvrun=${1:?usage: linux_net.sh PVRUN CACHE_DIR PVCORE_KO PVNET_KO}
cache=${2:?}; pvcore_ko=${3:?}; pvnet_ko=${4:?}; cpus=${5:-1}
here=$(cd "$(dirname "$0")" && pwd)
kernel=$(compgen -G "$cache/linux-image-6.1.0-*-amd64/boot/vmlinuz-*" | sort -V | tail -n1)
[[ -f $kernel ]] || { echo "FAIL setup: no kernel in $cache"; exit 1; }
moddir=$(compgen -G "${kernel%/boot/*}/lib/modules/6.1.0-*-amd64") || { echo "FAIL setup: no modules"; exit 1; }
for ko in "$pvcore_ko" "$pvnet_ko"; do
    [[ $(head -c 4 "$ko") == $'\x7fELF' ]] || { echo "FAIL setup: $(head -n1 "$ko")"; exit 1; }
done
if [[ -z ${LINUX_NET_NS:-} ]]; then  # L1 loads no tun module of its own
    if [[ ! -c /dev/net/tun ]]; then
        grep -qw tun /proc/modules || busybox insmod "$moddir/kernel/drivers/net/tun.ko" ||
            { echo "FAIL setup: insmod tun"; exit 1; }
        mkdir -p /dev/net && { [[ -c /dev/net/tun ]] || mknod /dev/net/tun c 10 200; }
    fi
    LINUX_NET_NS=1 exec unshare -n bash "$0" "$@"
fi
work=$(mktemp -d /tmp/linux-net.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
fails=0
ok() { echo "ok $1"; }
bad() {
    echo "FAIL $1: $2"; fails=$((fails + 1))
    [[ -n ${shown:-} ]] && return; shown=1
    for f in "$work"/out "$work"/err; do
        [[ -s $f ]] && { echo "--- $(basename "$f") (last 40 lines)"; tail -n 40 "$f"; }
    done
}
MAC=52:54:00:12:34:56 TAP=pvt0

# ---- the initramfs: busybox, pvcore.ko, pvnet.ko --------------------------------------
cat > "$work/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
say() { echo "LIBPV $*"; }
status() { printf "\\$(printf %o "$1")" | dd of=/dev/port bs=1 seek=1540 count=1 2>/dev/null; }
if ! insmod /pvcore.ko || ! insmod /pvnet.ko; then
    say insmod-failed; dmesg | grep -E 'pv(core|net)'; status 1; poweroff -f
fi
say loaded "$(dmesg | grep 'pvnet: MAC' | tail -n1 | sed 's/.*pvnet: //')"
dev=$(ls /sys/class/net | grep -v '^lo$' | head -n1)
N=/sys/class/net/$dev
up() { ip addr add 10.0.0.2/24 dev $dev && ip link set $dev up; }
ip link set lo up; up
for i in $(seq 50); do [ "$(cat $N/carrier 2>/dev/null)" = 1 ] && break; sleep 0.1; done
say "dev $dev mac=$(cat $N/address) mtu=$(cat $N/mtu) queues=$(ls -d $N/queues/tx-* | wc -l) carrier=$(cat $N/carrier)"
ping -c 3 -w 60 -W 2 10.0.0.1 > /dev/null && say ping-ok
ping -c 2 -s 1472 -w 20 -W 2 10.0.0.1 > /dev/null && say ping-1472-ok
ping -c 2 -s 8000 -w 20 -W 2 10.0.0.1 > /dev/null && say ping-8000-ok
timeout 120 wget -q -O /tmp/big http://10.0.0.1:8080/big && say "fetched $(sha256sum < /tmp/big | cut -c1-64)"
n=$(nproc); all=yes
for c in $(seq 0 $((n - 1))); do  # every vCPU sends (on its own queue) and fetches
    taskset -c $c ping -c 2 -w 20 -W 2 10.0.0.1 > /dev/null || all=no
    [ "$(taskset -c $c timeout 120 wget -q -O - http://10.0.0.1:8080/big | sha256sum | cut -c1-64)" = \
      "$(sha256sum < /tmp/big | cut -c1-64)" ] || all=no
done
say "per-cpu $n $all"
mkdir /www && dd if=/dev/urandom of=/www/up bs=1M count=4 2>/dev/null
httpd -p 80 -h /www && say "serving $(sha256sum < /www/up | cut -c1-64)"
for i in $(seq 240); do wget -q -O /tmp/done http://10.0.0.1:8080/done 2>/dev/null && break; sleep 0.5; done
say "stats rx=$(cat $N/statistics/rx_packets) tx=$(cat $N/statistics/tx_packets)" \
    "rx_errors=$(cat $N/statistics/rx_errors) tx_errors=$(cat $N/statistics/tx_errors)"
killall httpd 2>/dev/null
if rmmod pvnet; then
    say "unloaded $(dmesg | grep 'pvnet: unloaded' | tail -n1 | sed 's/.*pvnet: unloaded //')"
    insmod /pvnet.ko && dev=$(ls /sys/class/net | grep -v '^lo$' | head -n1) && up &&
        ping -c 2 -w 30 -W 2 10.0.0.1 > /dev/null && say reload-ok
fi
rmmod pvnet && rmmod pvcore && dmesg | grep -q 'pvcore: unloaded' && say unload-ok
dmesg | grep -E 'pv(net|core)' | grep -E 'not posted|not in flight|status|broken|still in use|failed|cannot' |
    grep -v 'module verification failed' | sed 's/^/LIBPV dmesg /'
status 0
poweroff -f
EOF
"$here/mkinitrd.sh" "$work/initrd.cpio" "$cache" "$work/init" "$pvcore_ko=pvcore.ko" "$pvnet_ko=pvnet.ko" ||
    { echo "FAIL setup: mkinitrd.sh"; exit 1; }
mkdir -p "$work/www"
head -c $((4 << 20)) /dev/urandom > "$work/www/big"
bigsum=$(sha256sum < "$work/www/big" | cut -c1-64)

# ---- the boot ---------------------------------------------------------------------------
append="console=ttyS0 panic=-1 pci=off quiet"
timeout 600 "$pvrun" --kernel "$kernel" --initrd "$work/initrd.cpio" --cpus "$cpus" --mem 512 \
    --net "tap=$TAP,mac=$MAC" --append "$append" < /dev/null > "$work/out" 2> "$work/err" &
pvpid=$!
pids+=("$pvpid")
for ((i = 0; i < 100; i++)); do ip link show "$TAP" > /dev/null 2>&1 && break; sleep 0.1; done
ip link set lo up
ip link set "$TAP" up && ip addr add 10.0.0.1/24 dev "$TAP" || bad setup "no TAP $TAP"
busybox httpd -f -p 10.0.0.1:8080 -h "$work/www" &
pids+=($!)
has() { grep -q "^LIBPV $1" "$work/out"; }
field() { sed 's/\r$//' "$work/out" | sed -n "s/^LIBPV $1 //p" | head -n1; }
for ((i = 0; i < 500; i++)); do
    has serving && break
    kill -0 "$pvpid" 2>/dev/null || break
    sleep 1
done
if has serving; then
    if ping -c 3 -w 30 -W 2 10.0.0.2 > /dev/null; then
        neigh=$(ip neigh show 10.0.0.2 dev "$TAP" | awk '{print $3}')
        [[ $neigh == "$MAC" ]] && ok "host-ping (3 answers; the neighbour entry holds the monitor's MAC)" ||
            bad host-ping "the neighbour entry holds '$neigh', not $MAC"
    else bad host-ping "no answer to ping from the TAP's namespace"; fi
    if timeout 120 busybox wget -q -O "$work/up" http://10.0.0.2/up; then
        upsum=$(sha256sum < "$work/up" | cut -c1-64)
        [[ $upsum == "$(field serving)" ]] && ok "transmit (4 MiB over TCP from the guest, content matches)" ||
            bad transmit "the 4 MiB from the guest differ"
    else bad transmit "wget from the guest failed"; fi
fi
touch "$work/www/done"
wait "$pvpid"; rc=$?
sed -i 's/\r$//' "$work/out"
[[ -z ${LINUX_DEBUG:-} ]] || { echo "--- output"; cat "$work/out" "$work/err"; }
if [[ $rc != 0 ]] || has insmod-failed; then bad boot "pvrun exited $rc"; fi
if has loaded; then ok "load ($(field loaded))"; else bad load "pvnet.ko did not load"; fi
d=$(field dev)
if [[ $d == *" mac=$MAC mtu=1500 queues=$cpus carrier=1" ]]; then ok "interface ($d)"
else bad interface "'$d': want mac=$MAC mtu=1500 queues=$cpus carrier=1"; fi
[[ $(field per-cpu) == "$cpus yes" ]] && ok "per-cpu (a ping and a 4 MiB fetch from each of $cpus vCPUs)" ||
    bad per-cpu "'$(field per-cpu)'"
has ping-ok && ok "guest-ping (3 answers from the host)" || bad guest-ping "no answer from the host"
has ping-1472-ok && ok "ping-1472 (full-size frames)" || bad ping-1472 "no answer"
has ping-8000-ok && ok "ping-8000 (fragmented both ways)" || bad ping-8000 "no answer"
[[ $(field fetched) == "$bigsum" ]] && ok "receive (4 MiB over TCP into the guest, content matches)" ||
    bad receive "fetched '$(field fetched)', want $bigsum"
st=$(field stats)
[[ $st == *"rx_errors=0 tx_errors=0" ]] && ok "counters ($st)" || bad counters "$st"
per=$(field unloaded | sed -n 's/.*per queue: *\([0-9/ ]*\)).*/\1/p')
busy=0; for qs in $per; do [[ ${qs%/*} -gt 0 && ${qs#*/} -gt 0 ]] && busy=$((busy + 1)); done
((busy == cpus)) && ok "queues (rx/tx packets per queue: $per)" || bad queues "not every queue carried traffic: '$per'"
has reload-ok && ok "reload (rmmod pvnet: $(field unloaded); insmod, ping again)" || bad reload "rmmod/insmod/ping failed"
has unload-ok && ok "unload (rmmod pvnet pvcore: the monitor holds no grant)" || bad unload "rmmod failed"
if grep -q '^LIBPV dmesg' "$work/out"; then bad dmesg "$(grep '^LIBPV dmesg' "$work/out" | head -n3)"; fi
exit $fails
