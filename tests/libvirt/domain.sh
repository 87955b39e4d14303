#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pvrun --domain with libvirt's in-process test:///default (no daemon):
# a domain XML runs a guest whose disks are the XML's (PV and ATA doors),
# --stats-json carries libvirt's statistics names with the counts the guest
# caused, --print-domain round-trips through libvirt's schema and back into
# --domain, and XML that the schema rejects or that libpv cannot honour is
# refused in one line that names the element or attribute, exit 2.
# The README's domain XML example is valid and within what pvrun maps.
#   usage: domain.sh PVRUN XDOOR_GUEST HELLO_GUEST README
set -u
PVRUN=$1 XDOOR=$2 HELLO=$3 README=$4
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
FAILS=0
fail() { echo "FAIL: $*"; sed 's/^/    stderr: /' "$T/err"; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
run() { "$PVRUN" "$@" >"$T/out" 2>"$T/err" </dev/null; rc=$?; }
one_line() { [ "$(grep -c '' "$T/err")" -eq 1 ] && grep -q '^pvrun: ' "$T/err"; }
# json FILE KEY: the value of libvirt's statistic KEY in a --stats-json file
json() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["libvirt"].get(sys.argv[2], "absent"))' "$1" "$2"; }

command -v virt-xml-validate >/dev/null || { echo "virt-xml-validate missing (libvirt-clients)"; exit 1; }

# domain TYPE CMDLINE DISKS...: a domain XML on stdout
domain() {
	local type=$1 cmdline=$2
	shift 2
	cat <<EOF
<domain type='$type'>
  <name>xdoor</name>
  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
  <memory unit='MiB'>32</memory>
  <currentMemory unit='KiB'>32768</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$XDOOR</kernel>
    <cmdline>$cmdline</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
$(printf '%s\n' "$@")
    <serial type='stdio'><target port='0'/></serial>
    <console type='stdio'><target type='serial' port='0'/></console>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

for BACKEND in emu kvm; do
	TYPE=qemu
	if [ "$BACKEND" = kvm ]; then
		TYPE=kvm
		# /dev/kvm may be missing, or /dev/null bound over it: ask pvrun.
		"$PVRUN" --backend kvm "$HELLO" >/dev/null 2>"$T/err" </dev/null
		if grep -q 'backend kvm unusable' "$T/err"; then
			echo "skip: kvm ($(cat "$T/err"))"; continue
		fi
	fi
	img=$T/disk-$BACKEND.img
	truncate -s 4M "$img"
	# PV disk from the XML: two writes (8 + 64 sectors) and a flush.
	domain $TYPE "pv write 11 0:8 2000:64 flush" \
		"<disk type='file' device='disk'><driver type='raw'/><source file='$img'/><target dev='vda' bus='virtio'/></disk>" \
		>"$T/pv.xml"
	run --domain "$T/pv.xml" --stats-json "$T/pv.json"
	if [ "$rc" -ne 0 ] || ! grep -qx ok "$T/out"; then fail "$BACKEND: PV write from domain XML: exit $rc: $(cat "$T/out")"
	else pass "$BACKEND: a <disk bus='virtio'> is the PV disk"; fi
	got="$(json "$T/pv.json" block.count) $(json "$T/pv.json" block.0.name) $(json "$T/pv.json" block.0.wr.reqs)"
	got="$got $(json "$T/pv.json" block.0.wr.bytes) $(json "$T/pv.json" block.0.fl.reqs) $(json "$T/pv.json" block.0.rd.reqs)"
	if [ "$got" != "1 vda 2 36864 1 0" ]; then fail "$BACKEND: PV block stats: $got"
	else pass "$BACKEND: block.0.wr.reqs/wr.bytes/fl.reqs count the guest's requests ($got)"; fi
	if [ "$(json "$T/pv.json" vcpu.0.time)" -le 0 ] 2>/dev/null || [ "$(json "$T/pv.json" state.reason)" != 1 ] ||
	   [ "$(json "$T/pv.json" balloon.maximum)" != 32768 ] || [ "$(json "$T/pv.json" cpu.time)" -lt "$(json "$T/pv.json" vcpu.0.time)" ]; then
		fail "$BACKEND: vcpu/state/balloon stats: $(cat "$T/pv.json")"
	else pass "$BACKEND: vcpu.0.time $(json "$T/pv.json" vcpu.0.time) ns <= cpu.time, state shutoff/shutdown"; fi
	# The emulated ATA disk from the XML, read-only, reads what the PV disk wrote.
	domain $TYPE "ata check 11 0:8 2000:64" \
		"<disk type='file'><source file='$img'/><target dev='hda' bus='ide'/><readonly/></disk>" >"$T/ata.xml"
	run --domain "$T/ata.xml" --stats-json "$T/ata.json"
	if [ "$rc" -ne 0 ] || ! grep -qx ok "$T/out"; then fail "$BACKEND: ATA check from domain XML: exit $rc: $(cat "$T/out")"
	else pass "$BACKEND: a <disk bus='ide'> is the ATA disk and reads the PV disk's data"; fi
	got="$(json "$T/ata.json" block.0.name) $(json "$T/ata.json" block.0.rd.reqs) $(json "$T/ata.json" block.0.rd.bytes) $(json "$T/ata.json" block.0.wr.reqs)"
	if [ "$got" != "hda 2 36864 0" ]; then fail "$BACKEND: ATA block stats: $got"
	else pass "$BACKEND: ATA block.0.rd.reqs/rd.bytes ($got)"; fi
	# <readonly/> is honoured: a PV write fails in the guest.
	domain $TYPE "pv write 12 0:8" \
		"<disk type='file'><source file='$img'/><target dev='vda' bus='virtio'/><readonly/></disk>" >"$T/ro.xml"
	run --domain "$T/ro.xml"
	if [ "$rc" -eq 0 ] || ! grep -q 'io error' "$T/out"; then fail "$BACKEND: <readonly/> accepted a write: exit $rc"
	else pass "$BACKEND: <readonly/> refuses the guest's write"; fi
	# Round trip: command line -> XML (valid) -> --domain -> the same XML, the same run.
	run --print-domain --backend $BACKEND --mem 32 --cpus 2 --cmdline "pv check 11 0:8 2000:64" --disk "$img,ro" "$XDOOR"
	cp "$T/out" "$T/rt1.xml"
	if [ "$rc" -ne 0 ] || ! virt-xml-validate "$T/rt1.xml" domain >"$T/err" 2>&1; then fail "$BACKEND: --print-domain: exit $rc, not valid"
	else pass "$BACKEND: --print-domain is valid against libvirt's domain schema"; fi
	run --domain "$T/rt1.xml" --print-domain
	if ! cmp -s "$T/out" "$T/rt1.xml"; then fail "$BACKEND: --domain of --print-domain differs: $(diff "$T/rt1.xml" "$T/out")"
	else pass "$BACKEND: --print-domain --domain gives the same XML back"; fi
	if ! grep -q "<domain type='$TYPE'>" "$T/rt1.xml" || ! grep -q "<vcpu placement='static'>2<" "$T/rt1.xml"; then
		fail "$BACKEND: --print-domain lost the backend or the vCPUs: $(cat "$T/rt1.xml")"
	else pass "$BACKEND: --print-domain keeps backend ($TYPE) and vCPUs"; fi
	run --backend $BACKEND --mem 32 --cpus 2 --cmdline "pv check 11 0:8 2000:64" --disk "$img,ro" "$XDOOR"
	cp "$T/out" "$T/rt.cli"
	run --domain "$T/rt1.xml"
	if [ "$rc" -ne 0 ] || ! cmp -s "$T/out" "$T/rt.cli" || ! grep -qx ok "$T/out"; then fail "$BACKEND: the round-tripped XML runs differently: exit $rc"
	else pass "$BACKEND: the round-tripped XML runs as the command line did"; fi
done

# The rest does not depend on the backend.
img=$T/disk-emu.img
disk="<disk type='file'><source file='$img'/><target dev='vda' bus='virtio'/></disk>"
domain qemu "hi" "$disk" >"$T/base.xml"

# A console file: <serial type='file'> and <console> name one file.
sed "s|<serial type='stdio'><target port='0'/></serial>|<serial type='file'><source path='$T/con.txt'/><target port='0'/></serial>|;
     s|<console type='stdio'><target type='serial' port='0'/></console>|<console type='file'><source path='$T/con.txt'/><target type='serial' port='0'/></console>|;
     s|<kernel>$XDOOR</kernel>|<kernel>$HELLO</kernel>|" "$T/base.xml" >"$T/con.xml"
run --domain "$T/con.xml"
if [ "$rc" -ne 0 ] || [ -s "$T/out" ] || ! grep -q 'Hello from a libpv guest' "$T/con.txt" 2>/dev/null; then
	fail "<serial type='file'>: exit $rc, stdout '$(cat "$T/out")'"
else pass "<serial type='file'>: the console goes to the file, not stdout"; fi

# refuse SED-EXPRESSION EXPECTED-TEXT: the edited XML is refused naming EXPECTED-TEXT, exit 2
refuse() {
	sed "$1" "$T/base.xml" >"$T/bad.xml"
	run --domain "$T/bad.xml"
	if [ "$rc" -ne 2 ] || ! one_line || ! grep -qF -- "$2" "$T/err"; then fail "refuse '$1': exit $rc, want '$2'"
	else pass "refused: $(sed "s|$T/||" "$T/err")"; fi
}
# libvirt's schema and parser reject these
refuse "s|<memballoon model='none'/>|<bogus/>|" "libvirt rejects it"
refuse "s|<vcpu placement='static'>1|<vcpu placement='static'>one|" "libvirt rejects it"
refuse "s|</devices>|</devices|" "libvirt rejects it"
# valid for libvirt, not honoured by libpv: each by its path
refuse "s|<domain type='qemu'>|<domain type='xen'>|" "/domain/@type: 'xen'"
refuse "s|<name>|<title>t</title><name>|" "/domain/title: not supported by libpv"
refuse "s|<memory unit='MiB'>32|<memory unit='MiB'>33|" "/domain/memory: 33 MiB"
refuse "s|<currentMemory unit='KiB'>32768|<currentMemory unit='KiB'>16384|" "/domain/currentMemory: differs from <memory>"
refuse "s|<vcpu placement='static'>1|<vcpu placement='static' current='1'>2|" "/domain/vcpu/@current"
refuse "s|<vcpu placement='static'>|<vcpu placement='auto'>|" "/domain/vcpu/@placement"
refuse "s|<vcpu placement='static'>|<vcpu placement='static' cpuset='0'>|" "/domain/vcpu/@cpuset: not supported by libpv"
refuse "s|<kernel>|<initrd>/boot/initrd.img</initrd><kernel>|" "/domain/os/initrd: $XDOOR is a libpv ELF guest, which takes no initramfs"
refuse "s|<type arch='x86_64'>|<type arch='x86_64' machine='pc'>|" "/domain/os/type/@machine: not supported by libpv"
refuse "s|<kernel>[^<]*</kernel>||" "/domain/os: no <kernel>"
refuse "s|<kernel>[^<]*</kernel>|<boot dev='hd'/>|" "/domain/os/boot: not supported by libpv"
refuse "s|<on_reboot>destroy|<on_reboot>restart|" "/domain/on_reboot: 'restart'"
refuse "s|<on_crash>destroy|<on_crash>coredump-destroy|" "/domain/on_crash: 'coredump-destroy'"
refuse "s|<on_crash>destroy</on_crash>|<on_crash>destroy</on_crash><features><acpi/></features>|" "/domain/features: not supported by libpv"
refuse "s|bus='virtio'|bus='sata'|" "/domain/devices/disk/target/@bus: 'sata'"
refuse "s|dev='vda' bus='virtio'|dev='hdb' bus='ide'|" "/domain/devices/disk/target/@dev: 'hdb'"
refuse "s|<disk type='file'>|<disk type='file' device='cdrom'>|" "/domain/devices/disk/@device: 'cdrom'"
refuse "s|<disk type='file'>|<disk type='network'>|;s|<source file='[^']*'/>|<source protocol='nbd' name='x'><host name='h'/></source>|" "/domain/devices/disk/@type: 'network'"
refuse "s|<source file=|<driver type='qcow2'/><source file=|" "/domain/devices/disk/driver/@type: 'qcow2'"
refuse "s|<source file=|<driver name='qemu' type='raw'/><source file=|" "/domain/devices/disk/driver/@name: not supported by libpv"
refuse "s|bus='virtio'/>|bus='virtio'/><shareable/>|" "/domain/devices/disk/shareable: not supported by libpv"
refuse "s|<memballoon model='none'/>|${disk/vda/vdb}|" "/domain/devices/disk[2]: a second virtio disk"
refuse "s|<memballoon model='none'/>|<memballoon model='virtio'/>|" "/domain/devices/memballoon/@model: 'virtio'"
# Interfaces: until the PV net device is in the tree, none ("not supported
# yet"); with it, what libpv cannot honour is refused by path.
refuse "s|<memballoon model='none'/>|<interface type='network'><source network='default'/><model type='ne2k_isa'/></interface>|" \
	"/domain/devices/interface"
ne2k=yes
grep -q "libpv has no emulated NIC yet" "$T/err" && ne2k=no
if grep -q "libpv has no PV net device yet" "$T/err"; then
	echo "skip: interface mapping (no PV net device in this tree)"
else
	iface() { echo "s|<memballoon model='none'/>|<interface type='bridge'><source bridge='br0'/>$1</interface>|"; }
	refuse "$(iface "<model type='e1000'/>")" "/domain/devices/interface/model/@type: 'e1000'"
	refuse "$(iface "")" "/domain/devices/interface: no <model type='virtio'/>"
	refuse "$(iface "<model type='virtio'/><driver name='vhost'/>")" "/domain/devices/interface/driver: not supported by libpv"
	refuse "$(iface "<model type='virtio'/><mtu size='40'/>")" "/domain/devices/interface/mtu/@size"
	refuse "s|<memballoon model='none'/>|<interface type='user'><model type='virtio'/></interface>|" "/domain/devices/interface/@type: 'user'"
	refuse "s|<memballoon model='none'/>|<interface type='bridge'><source bridge='br0'/><model type='virtio'/></interface><interface type='bridge'><source bridge='br1'/><model type='virtio'/></interface>|" \
		"/domain/devices/interface[2]: a second virtio interface"
	if [ "$ne2k" = yes ]; then
		refuse "$(iface "<model type='ne2k_isa'/><mtu size='9000'/>")" "the NE2000's MTU is 1500"
	fi
fi
refuse "s|<memballoon model='none'/>|<graphics type='vnc'/>|" "/domain/devices/graphics: not supported by libpv"
refuse "s|<memballoon model='none'/>|<emulator>/usr/bin/qemu-system-x86_64</emulator>|" "/domain/devices/emulator: not supported by libpv"
refuse "s|<serial type='stdio'>|<serial type='pty'>|" "/domain/devices/serial/@type: 'pty'"
refuse "s|<target port='0'/></serial>|<target port='1'/></serial>|" "/domain/devices/serial/target/@port"
refuse "s|<console type='stdio'><target type='serial' port='0'/>|<console type='stdio'><target type='virtio' port='0'/>|" \
	"/domain/devices/console/target/@type: 'virtio'"

# A Linux kernel in <kernel> (a bzImage: "HdrS" at 0x202), with <initrd> and
# <cmdline>: mapped to the PC platform, printed back the same; the emu
# backend (domain type qemu) refuses the platform at create, exit 125.
head -c 4096 /dev/zero >"$T/bzImage"
printf 'HdrS' | dd of="$T/bzImage" bs=1 seek=514 conv=notrunc 2>/dev/null
: >"$T/initrd.img"
sed "s|<cmdline>[^<]*</cmdline>||; s|<kernel>[^<]*</kernel>|<kernel>$T/bzImage</kernel><initrd>$T/initrd.img</initrd><cmdline>console=ttyS0 quiet</cmdline>|" \
	"$T/base.xml" >"$T/linux.xml"
run --domain "$T/linux.xml" --print-domain
if [ "$rc" -ne 0 ] || ! grep -qF "<kernel>$T/bzImage</kernel>" "$T/out" || ! grep -qF "<initrd>$T/initrd.img</initrd>" "$T/out" ||
	! grep -qF "<cmdline>console=ttyS0 quiet</cmdline>" "$T/out"; then fail "Linux domain: --print-domain lost the kernel, initrd or cmdline: exit $rc"
else pass "Linux domain: kernel, initrd and cmdline round-trip"; fi
run --domain "$T/linux.xml"
if [ "$rc" -ne 125 ] || ! grep -q "cannot run the PC platform" "$T/err"; then fail "Linux domain on emu: exit $rc"
else pass "Linux domain on emu: $(grep -m1 'PC platform' "$T/err")"; fi

# Volumes: without --connect, and against test:///default's own storage pool.
vol="<disk type='volume'><source pool='default-pool' volume='nosuch.img'/><target dev='vda' bus='virtio'/></disk>"
sed "s|$disk|$vol|" "$T/base.xml" >"$T/vol.xml"
run --domain "$T/vol.xml"
if [ "$rc" -ne 2 ] || ! one_line || ! grep -q "needs --connect URI" "$T/err"; then fail "volume without --connect: exit $rc"
else pass "volume without --connect: $(cat "$T/err")"; fi
run --domain "$T/vol.xml" --connect test:///default
if [ "$rc" -ne 125 ] || ! one_line || ! grep -q "no volume 'nosuch.img' in storage pool 'default-pool'" "$T/err"; then fail "missing volume: exit $rc"
else pass "missing volume: $(cat "$T/err")"; fi
sed "s|default-pool|nopool|" "$T/vol.xml" >"$T/nopool.xml"
run --domain "$T/nopool.xml" --connect test:///default
if [ "$rc" -ne 125 ] || ! one_line || ! grep -q "no storage pool 'nopool'" "$T/err"; then fail "missing pool: exit $rc"
else pass "missing pool: $(cat "$T/err")"; fi

# The command line and the XML do not mix.
run --domain "$T/base.xml" --mem 64
if [ "$rc" -ne 2 ] || ! one_line || ! grep -q -- "--mem" "$T/err"; then fail "--domain with --mem: exit $rc"
else pass "--domain with --mem: $(cat "$T/err")"; fi
run --domain "$T/base.xml" "$XDOOR"
if [ "$rc" -ne 2 ] || ! one_line; then fail "--domain with a guest: exit $rc"; else pass "--domain with a guest: $(cat "$T/err")"; fi
run --connect test:///default "$XDOOR"
if [ "$rc" -ne 2 ] || ! one_line; then fail "--connect without --domain: exit $rc"; else pass "--connect without --domain: $(cat "$T/err")"; fi
run --domain "$T/base.xml" --print-domain --stats-json "$T/x.json"
if [ "$rc" -ne 2 ] || ! one_line; then fail "--print-domain with --stats-json: exit $rc"; else pass "--print-domain with --stats-json: $(cat "$T/err")"; fi
run --domain "$T/missing.xml"
if [ "$rc" -ne 2 ] || ! one_line; then fail "--domain missing file: exit $rc"; else pass "--domain missing file: $(cat "$T/err")"; fi
# The README's example: valid, and pvrun maps all of it (its pool is not on test:///default: 125).
awk '/^```xml/{f=1;next} f&&/^```/{exit} f' "$README" | sed "s|/path/to/build/tests/blk/xdoor.elf|$XDOOR|" >"$T/readme.xml"
run --domain "$T/readme.xml" --connect test:///default
if ! virt-xml-validate "$T/readme.xml" domain >/dev/null 2>&1 || [ "$rc" -ne 125 ] || ! grep -q "no storage pool 'pvpool'" "$T/err"; then
	fail "the README's domain XML: exit $rc"
else pass "the README's domain XML is valid and mapped (its pool is elsewhere)"; fi
echo "$FAILS failed"
[ "$FAILS" -eq 0 ]
