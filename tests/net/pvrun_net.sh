#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# pvrun --net tap=NAME: the nettest guest answers ping and echoes UDP from
# the host side of the TAP, in a network namespace this test makes (unshare -n), so the TAP
# and its traffic vanish with it.  Skipped without root or /dev/net/tun.
# Both doors: the PV device (nettest) and the NE2000 (ne2ktest).
# usage: pvrun_net.sh PVRUN NETTEST.elf NE2KTEST.elf
set -eu
pvrun=$1 guest=$2 ne2k=$3
if [ "$(id -u)" != 0 ]; then echo "SKIP: a network namespace needs root"; exit 77; fi
if [ ! -c /dev/net/tun ]; then echo "SKIP: no /dev/net/tun"; exit 77; fi
for door in pv ne2k; do
if [ $door = pv ]; then g=$guest; else g=$ne2k; fi
unshare -n sh -eu -c '
pvrun=$1 guest=$2 door=$3 out=$(mktemp)
trap "rm -f $out" EXIT
"$pvrun" --net tap=pvt0,mac=52:54:00:12:34:56,door=$door --cmdline "echo 1000 1 3" "$guest" > "$out" 2>&1 &
pid=$!
for i in $(seq 100); do ip link show pvt0 > /dev/null 2>&1 && break; sleep 0.1; done
ip link set lo up
ip link set pvt0 up
ip addr add 10.0.0.1/24 dev pvt0
ip neigh replace 10.0.0.2 lladdr 52:54:00:12:34:56 dev pvt0 nud permanent
# ping: 3 answers within 20 s (the guest may still be starting)
ping -c 3 -w 20 -W 2 10.0.0.2 > /dev/null || { cat "$out"; echo "pvrun --net door=$door: no answer to ping"; kill $pid; exit 1; }
python3 - << "PY"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.0.1", 4000))
s.settimeout(0.3)
for size in (1, 100, 1472):
    data = bytes((i * 7 + size) & 0xff for i in range(size))
    for attempt in range(60):
        s.sendto(data, ("10.0.0.2", 7))
        try:
            got = s.recv(2048)
        except socket.timeout:
            continue
        if got != data:
            sys.exit("echo of %d bytes differs" % size)
        break
    else:
        sys.exit("no echo of %d bytes" % size)
s.sendto(b"quit", ("10.0.0.2", 7))
PY
wait $pid || { cat "$out"; echo "pvrun failed"; exit 1; }
grep -q "echo ok.* ping=[1-9]" "$out" || { cat "$out"; exit 1; }
echo "pvrun --net door=$door: echo and ping through the TAP work"
' sh "$pvrun" "$g" $door
done
