#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pvrun --domain --connect against a real libvirtd of the test's own: started
# in a mount and network namespace the test creates (libvirt's state and
# configuration directories are private tmpfs there, so the host's libvirt
# is not touched), with only the storage driver, its socket in the test's
# directory.  A directory storage pool with a raw volume is defined through
# virsh; a domain XML whose disk is that volume runs on each backend, and
# the guest's data lands in the volume's file; a missing volume, an inactive
# pool and a round trip through --print-domain are checked on the daemon.
# With NET_GUEST (tests/net's echo guest; pvrun has the PV net device) the
# daemon also runs its network driver with an isolated network: a guest
# whose interface is that network gets a TAP on the network's bridge, answers
# ARP and ping and echoes UDP sent from the bridge side, and its TAP is gone when the VM ends; a
# bridge interface joins a TAP that existed before, which stays and leaves
# the bridge.
# With NE2K_GUEST as well, the same through an <model type='ne2k_isa'/>.
#   usage: libvirtd.sh PVRUN XDOOR_GUEST SLEEP_GUEST [NET_GUEST [NE2K_GUEST]]
# Exit 77 (skipped) with the reason when libvirtd cannot be started here.
set -u
PVRUN=$1 XDOOR=$2 SLEEP=$3 NETG=${4:-} NE2KG=${5:-}
DRIVERS=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver
skip() { echo "SKIP: $*"; exit 77; }

if [ -z "${PV_LIBVIRTD_INSIDE:-}" ]; then
	[ "$(id -u)" = 0 ] || skip "needs root: libvirtd runs in private mount and network namespaces"
	command -v libvirtd >/dev/null || skip "no libvirtd (Debian package libvirt-daemon)"
	command -v virsh >/dev/null || skip "no virsh (Debian package libvirt-clients)"
	[ -e "$DRIVERS/libvirt_driver_storage.so" ] || skip "no libvirt storage driver in $DRIVERS"
	unshare -mn true 2>/dev/null || skip "cannot create mount and network namespaces (unshare -mn)"
	PV_LIBVIRTD_INSIDE=1 exec unshare -mn --propagation private "$0" "$@"
fi

T=$(mktemp -d) || exit 1
LVPID=
cleanup() { [ -n "$LVPID" ] && kill "$LVPID" 2>/dev/null && wait "$LVPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
FAILS=0
fail() { echo "FAIL: $*"; sed 's/^/    stderr: /' "$T/err"; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
run() { "$PVRUN" "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
one_line() { [ "$(grep -c '' "$T/err")" -eq 1 ] && grep -q '^pvrun: ' "$T/err"; }

# libvirt's state and configuration: private and empty in this namespace.
for d in /etc/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt /run/libvirt; do
	[ -d "$d" ] && { mount -t tmpfs pvtest "$d" || skip "cannot mount a tmpfs on $d"; }
done
mkdir -p "$T/drv" "$T/run" "$T/pool"
ln -s "$DRIVERS/libvirt_driver_storage.so" "$T/drv/"
NETSKIP=
if [ -z "$NETG" ]; then NETSKIP="no PV net device in this tree"
elif ! command -v iptables >/dev/null; then NETSKIP="no iptables (libvirt's network driver sets firewall rules; Debian package iptables)"
elif ! [ -e /dev/net/tun ]; then NETSKIP="no /dev/net/tun"
elif ! command -v ip >/dev/null; then NETSKIP="no ip (iproute2)"
elif ! command -v ping >/dev/null; then NETSKIP="no ping (iputils-ping)"
else ln -s "$DRIVERS/libvirt_driver_network.so" "$T/drv/"; fi
cat >"$T/libvirtd.conf" <<EOF
unix_sock_dir = "$T/run"
auth_unix_rw = "none"
auth_unix_ro = "none"
EOF
LIBVIRT_DRIVER_DIR=$T/drv libvirtd --config "$T/libvirtd.conf" --pid-file "$T/libvirtd.pid" >"$T/libvirtd.log" 2>&1 &
LVPID=$!
URI="storage:///system?socket=$T/run/libvirt-sock"
NETURI="network:///system?socket=$T/run/libvirt-sock"
for _ in $(seq 100); do
	virsh -q -c "$URI" pool-list --all >/dev/null 2>&1 && break
	kill -0 "$LVPID" 2>/dev/null || skip "libvirtd exited: $(tail -3 "$T/libvirtd.log" | tr '\n' ' ')"
	sleep 0.2
done
virsh -q -c "$URI" pool-list --all >/dev/null 2>&1 || skip "libvirtd did not answer in 20 s: $(tail -3 "$T/libvirtd.log" | tr '\n' ' ')"
echo "libvirtd $LVPID answers on $URI"

if ! virsh -q -c "$URI" pool-define-as pvpool dir --target "$T/pool" >"$T/err" 2>&1 ||
   ! virsh -q -c "$URI" pool-start pvpool >"$T/err" 2>&1 ||
   ! virsh -q -c "$URI" vol-create-as pvpool disk.img 4M --format raw >"$T/err" 2>&1; then
	fail "cannot define the pool and volume"; exit 1
fi
VOLPATH=$(virsh -q -c "$URI" vol-path --pool pvpool disk.img)
[ "$VOLPATH" = "$T/pool/disk.img" ] || { fail "vol-path says '$VOLPATH'"; exit 1; }
pass "pool pvpool (dir) with volume disk.img at $VOLPATH"

# domain TYPE CMDLINE POOL VOLUME: a domain whose PV disk is a libvirt volume
domain() {
	cat <<EOF
<domain type='$1'>
  <name>volguest</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>$XDOOR</kernel><cmdline>$2</cmdline></os>
  <devices>
    <disk type='volume' device='disk'>
      <driver type='raw'/>
      <source pool='$3' volume='$4'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
EOF
}

seed=20
for BACKEND in emu kvm; do
	TYPE=qemu
	if [ "$BACKEND" = kvm ]; then
		TYPE=kvm
		"$PVRUN" --backend kvm "$XDOOR" >/dev/null 2>"$T/err" </dev/null
		if grep -q 'backend kvm unusable' "$T/err"; then
			echo "skip: kvm ($(cat "$T/err"))"; continue
		fi
	fi
	seed=$((seed + 1))
	domain $TYPE "pv write $seed 0:8 2000:64" pvpool disk.img >"$T/vol.xml"
	run --domain "$T/vol.xml" --connect "$URI" --stats-json "$T/vol.json"
	if [ "$rc" -ne 0 ] || ! grep -qx ok "$T/out"; then fail "$BACKEND: volume disk: exit $rc: $(cat "$T/out")"
	else pass "$BACKEND: a <disk type='volume'> resolved through libvirtd runs"; fi
	got=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["libvirt"]; print(s["block.0.path"], s["block.0.wr.reqs"], s["block.0.wr.bytes"])' "$T/vol.json" 2>&1)
	if [ "$got" != "$VOLPATH 2 36864" ]; then fail "$BACKEND: stats of the volume: $got"
	else pass "$BACKEND: block.0.path is the volume's path, 2 writes of 36864 bytes"; fi
	# The data is in the volume's file: read back through the other door, by path.
	run --backend $BACKEND --ata "$VOLPATH,ro" --cmdline "ata check $seed 0:8 2000:64" "$XDOOR"
	if [ "$rc" -ne 0 ] || ! grep -qx ok "$T/out"; then fail "$BACKEND: the volume's file lacks the guest's data: $(cat "$T/out")"
	else pass "$BACKEND: the guest's writes are in the volume's file"; fi
done
if [ "$(dd if="$VOLPATH" bs=512 skip=2000 count=1 2>/dev/null | tr -d '\0' | wc -c)" -eq 0 ]; then
	fail "sector 2000 of the volume is still zero"
else pass "sector 2000 of $VOLPATH holds data"; fi

# Round trip: the volume stays a volume.
run --domain "$T/vol.xml" --connect "$URI" --print-domain
cp "$T/out" "$T/rt.xml"
if [ "$rc" -ne 0 ] || ! grep -q "<source pool='pvpool' volume='disk.img'/>" "$T/rt.xml" ||
   ! virt-xml-validate "$T/rt.xml" domain >/dev/null 2>&1; then fail "--print-domain of a volume disk: exit $rc"
else pass "--print-domain keeps the volume (pool and name), valid XML"; fi
run --domain "$T/rt.xml" --connect "$URI" --print-domain
if ! cmp -s "$T/out" "$T/rt.xml"; then fail "volume round trip differs"; else pass "volume XML round-trips"; fi

# Clear errors from the daemon.
domain qemu "pv check 1 0:1" pvpool nosuch.img >"$T/nosuch.xml"
run --domain "$T/nosuch.xml" --connect "$URI"
if [ "$rc" -ne 125 ] || ! one_line || ! grep -q "no volume 'nosuch.img' in storage pool 'pvpool'" "$T/err"; then fail "missing volume: exit $rc"
else pass "missing volume: $(sed "s|$T/||g" "$T/err")"; fi
domain qemu "pv check 1 0:1" nopool disk.img >"$T/nopool.xml"
run --domain "$T/nopool.xml" --connect "$URI"
if [ "$rc" -ne 125 ] || ! one_line || ! grep -q "no storage pool 'nopool'" "$T/err"; then fail "missing pool: exit $rc"
else pass "missing pool: $(sed "s|$T/||g" "$T/err")"; fi
if [ -z "$NE2KG" ]; then # an emulated NIC: not yet (and no interface at all without the PV net device)
	sed "s|</devices>|<interface type='network'><source network='default'/><model type='ne2k_isa'/></interface></devices>|" "$T/vol.xml" >"$T/ne2k.xml"
	run --domain "$T/ne2k.xml" --connect "$URI"
	if [ "$rc" -ne 2 ] || ! one_line || ! grep -q "/domain/devices/interface.*not supported yet" "$T/err"; then fail "ne2k interface: exit $rc"
	else pass "ne2k interface: $(sed "s|$T/||g" "$T/err")"; fi
fi
virsh -q -c "$URI" pool-destroy pvpool >/dev/null 2>&1
run --domain "$T/vol.xml" --connect "$URI"
if [ "$rc" -ne 125 ] || ! one_line || ! grep -q "storage pool 'pvpool' on .* is not active" "$T/err"; then fail "inactive pool: exit $rc"
else pass "inactive pool: $(sed "s|$T/||g" "$T/err")"; fi
run --domain "$T/vol.xml" --connect "qemu+unix:///system?socket=$T/run/nosuch-sock"
if [ "$rc" -ne 125 ] || ! one_line || ! grep -q "cannot connect to" "$T/err"; then fail "unreachable libvirt: exit $rc"
else pass "unreachable libvirt: $(sed "s|$T/||g" "$T/err")"; fi
# ---- networks ----
if [ -n "$NETSKIP" ]; then
	echo "skip: networks ($NETSKIP)"
	echo "$FAILS failed"
	[ "$FAILS" -eq 0 ]
	exit
fi
ip link set lo up
cat >"$T/net.xml" <<EOF
<network><name>pvnet</name><bridge name='pvbr0' stp='off'/></network>
EOF
if ! virsh -q -c "$NETURI" net-define "$T/net.xml" >"$T/err" 2>&1 || ! virsh -q -c "$NETURI" net-start pvnet >"$T/err" 2>&1; then
	fail "cannot define and start the isolated network"
	echo "$FAILS failed"; exit 1
fi
ip addr add 10.0.0.1/24 dev pvbr0 && ip link set pvbr0 up
pass "isolated network pvnet (no forwarding) on bridge $(virsh -q -c "$NETURI" net-info pvnet | awk '/^Bridge:/{print $2}')"

# netdomain TYPE KERNEL CMDLINE INTERFACE-XML
netdomain() {
	cat <<EOF
<domain type='$1'>
  <name>netguest</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>$2</kernel><cmdline>$3</cmdline></os>
  <devices>
    $4
  </devices>
</domain>
EOF
}
# brif TAP: is TAP a port of pvbr0 (netlink: /sys shows the host's namespace)
brif() { ip -o link show master pvbr0 2>/dev/null | grep -q "^[0-9]*: $1[:@]"; }
# wait_brif TAP: until TAP is a port of pvbr0 (10 s)
wait_brif() {
	for _ in $(seq 100); do brif "$1" && return 0; sleep 0.1; done
	return 1
}

MAC=52:54:00:00:00:02
for BACKEND in emu kvm emu:ne2k_isa kvm:ne2k_isa; do
	MODEL=virtio GUEST=$NETG
	case $BACKEND in *:ne2k_isa)
		[ -n "$NE2KG" ] || { echo "skip: ne2k_isa (no NE2000 in this tree)"; continue; }
		MODEL=ne2k_isa GUEST=$NE2KG BACKEND=${BACKEND%:*};;
	esac
	TYPE=qemu
	if [ "$BACKEND" = kvm ]; then
		TYPE=kvm
		"$PVRUN" --backend kvm "$XDOOR" >/dev/null 2>"$T/err" </dev/null
		if grep -q 'backend kvm unusable' "$T/err"; then
			echo "skip: kvm ($(cat "$T/err"))"; continue
		fi
	fi
	BACKEND="$BACKEND $MODEL"
	netdomain $TYPE "$GUEST" "echo 1000 1 0" \
		"<interface type='network'><source network='pvnet'/><mac address='$MAC'/><model type='$MODEL'/></interface>" \
		>"$T/ifnet.xml"
	"$PVRUN" --domain "$T/ifnet.xml" --connect "$NETURI" --stats-json "$T/net.json" >"$T/out" 2>"$T/err" </dev/null &
	pid=$!
	tap=pvtap$pid
	if ! wait_brif "$tap"; then
		fail "$BACKEND: no TAP $tap on bridge pvbr0: $(ip -o link show master pvbr0)"; kill $pid; wait $pid; continue
	fi
	pass "$BACKEND: the interface's TAP $tap is a port of network pvnet's bridge pvbr0"
	# ping from the bridge side, ARP first (3 answers within 20 s: the guest may still be starting)
	ip neigh del 10.0.0.2 dev pvbr0 2>/dev/null
	if ping -c 3 -w 20 -W 2 10.0.0.2 >/dev/null && ip neigh show 10.0.0.2 dev pvbr0 | grep -q "lladdr $MAC"; then
		pass "$BACKEND: the guest answers ARP and ping from the bridge side"
	else fail "$BACKEND: no answer to ping through the bridge: $(ip neigh show dev pvbr0)"; fi
	ip neigh replace 10.0.0.2 lladdr $MAC dev pvbr0 nud permanent
	if python3 - <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.0.1", 4000))
s.settimeout(0.5)
for i in range(60):
    msg = b"libvirt-echo-%d" % i
    s.sendto(msg, ("10.0.0.2", 7))
    try:
        data, _ = s.recvfrom(2048)
    except socket.timeout:
        continue
    if data == msg:
        s.sendto(b"quit", ("10.0.0.2", 7))
        sys.exit(0)
sys.exit(1)
PY
	then pass "$BACKEND: the guest answers UDP sent from the bridge side"
	else fail "$BACKEND: no UDP echo through the bridge"; kill $pid; fi
	wait $pid; rc=$?
	if [ "$rc" -ne 0 ] || ! grep -q "echo ok.* ping=[1-9]" "$T/out"; then fail "$BACKEND: the echo guest: exit $rc: $(cat "$T/out")"
	else pass "$BACKEND: $(cat "$T/out")"; fi
	if ip link show "$tap" >/dev/null 2>&1; then fail "$BACKEND: TAP $tap outlived the VM"
	else pass "$BACKEND: TAP $tap is gone with the VM"; fi
	got=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["libvirt"]; print(s["net.count"], s["net.0.name"], s["net.0.rx.pkts"] >= 2, s["net.0.tx.pkts"] >= 2, s["net.0.tx.bytes"] > 0)' "$T/net.json" 2>&1)
	if [ "$got" != "1 $tap True True True" ]; then fail "$BACKEND: net stats: $got"
	else pass "$BACKEND: net.0.name, rx.pkts, tx.pkts, tx.bytes under libvirt's names"; fi
done

# Round trip of an interface: network, MAC and model stay.
run --domain "$T/ifnet.xml" --connect "$NETURI" --print-domain
cp "$T/out" "$T/ifrt.xml"
if [ "$rc" -ne 0 ] || ! grep -q "<source network='pvnet'/>" "$T/ifrt.xml" || ! grep -q "<mac address='$MAC'/>" "$T/ifrt.xml" ||
   ! virt-xml-validate "$T/ifrt.xml" domain >/dev/null 2>&1; then fail "--print-domain of an interface: exit $rc"
else pass "--print-domain keeps the interface (network, MAC, virtio), valid XML"; fi
run --domain "$T/ifrt.xml" --connect "$NETURI" --print-domain
if ! cmp -s "$T/out" "$T/ifrt.xml"; then fail "interface round trip differs"; else pass "interface XML round-trips"; fi

# type='bridge' with a TAP that was there before: it joins, and stays after, out of the bridge.
ip tuntap add dev pvpers0 mode tap vnet_hdr
netdomain qemu "$SLEEP" "1500" \
	"<interface type='bridge'><source bridge='pvbr0'/><target dev='pvpers0'/><model type='virtio'/></interface>" >"$T/ifbr.xml"
"$PVRUN" --domain "$T/ifbr.xml" >"$T/out" 2>"$T/err" </dev/null &
pid=$!
if wait_brif pvpers0; then pass "bridge interface: the existing TAP pvpers0 joins pvbr0"; else fail "bridge interface: pvpers0 not on pvbr0"; fi
wait $pid; rc=$?
if [ "$rc" -ne 0 ] || ! ip link show pvpers0 >/dev/null 2>&1 || brif pvpers0; then
	fail "bridge interface: exit $rc; after the VM pvpers0 must stay, out of the bridge"
else pass "bridge interface: pvpers0 stays after the VM (it was not pvrun's) and has left pvbr0"; fi

# Clear errors: no such network, no --connect, an inactive network.
netdomain qemu "$SLEEP" 1 "<interface type='network'><source network='nosuch'/><model type='virtio'/></interface>" >"$T/nonet.xml"
run --domain "$T/nonet.xml" --connect "$NETURI"
if [ "$rc" -ne 125 ] || ! one_line || ! grep -q "no network 'nosuch'" "$T/err"; then fail "missing network: exit $rc"
else pass "missing network: $(sed "s|$T/||g" "$T/err")"; fi
run --domain "$T/nonet.xml"
if [ "$rc" -ne 2 ] || ! one_line || ! grep -q "needs --connect URI" "$T/err"; then fail "network without --connect: exit $rc"
else pass "network without --connect: $(sed "s|$T/||g" "$T/err")"; fi
virsh -q -c "$NETURI" net-destroy pvnet >/dev/null 2>&1
run --domain "$T/ifnet.xml" --connect "$NETURI"
if [ "$rc" -ne 125 ] || ! one_line || ! grep -q "network 'pvnet' on .* is not active" "$T/err"; then fail "inactive network: exit $rc"
else pass "inactive network: $(sed "s|$T/||g" "$T/err")"; fi
echo "$FAILS failed"
[ "$FAILS" -eq 0 ]
