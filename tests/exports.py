#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""libpv.so exports exactly the functions its installed host headers declare
(version node LIBPV_0.1), plus, in LIBPV_PRIVATE_0.1, exactly what libpv-emu
imports from it; libpv-emu.so exports exactly <pv/emu.h>.

usage: exports.py INCLUDE_DIR LIBPV_SO [LIBPV_EMU_SO]"""
import re
import subprocess
import sys

HOST_HEADERS = ["pv.h", "device.h", "blk.h", "ata.h", "net.h", "ne2k.h", "linux.h"]


def declared(path):
    text = open(path).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"^\s*#.*$", "", text, flags=re.M)
    # a declaration: a type, the name, an opening parenthesis (not "(*name)")
    return {name for ptr, name in re.findall(r"(\(\s*\*\s*)?\b(pv_\w+)\s*\(", text) if not ptr}


def dynsyms(lib, defined=True):
    flag = "--defined-only" if defined else "--undefined-only"
    out = subprocess.run(["nm", "-D", flag, lib], check=True, capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        name = line.split()[-1]
        if name.startswith("LIBPV"):
            continue  # the version nodes themselves
        base, _, node = name.partition("@")
        syms[base] = node.lstrip("@")
    return syms


def main():
    inc, libpv = sys.argv[1], sys.argv[2]
    emu = sys.argv[3] if len(sys.argv) > 3 else None
    bad = []
    api = set()
    for h in HOST_HEADERS:
        api |= declared(f"{inc}/pv/{h}")
    syms = dynsyms(libpv)
    public = {s for s, n in syms.items() if n == "LIBPV_0.1" and s != "LIBPV_0.1"}
    private = {s for s, n in syms.items() if n == "LIBPV_PRIVATE_0.1" and s != "LIBPV_PRIVATE_0.1"}
    other = {s for s, n in syms.items() if n not in ("LIBPV_0.1", "LIBPV_PRIVATE_0.1")}
    for s in sorted(api - public):
        bad.append(f"declared in a host header but not exported: {s}")
    for s in sorted(public - api):
        bad.append(f"exported but declared in no host header: {s}")
    for s in sorted(other):
        bad.append(f"exported outside the version nodes: {s} ({syms[s] or 'no version'})")
    if emu:
        imports = {s for s in dynsyms(emu, defined=False) if s.startswith("pv_")}
        for s in sorted(imports - public - private):
            bad.append(f"libpv-emu imports a symbol libpv does not export: {s}")
        for s in sorted(private - imports):
            bad.append(f"private node exports what libpv-emu does not use: {s}")
        emu_api = declared(f"{inc}/pv/emu.h")
        emu_syms = set(dynsyms(emu))
        if emu_syms != emu_api:
            bad.append(f"libpv-emu exports {sorted(emu_syms)}, <pv/emu.h> declares {sorted(emu_api)}")
    for b in bad:
        print("exports: " + b)
    print(f"exports: {len(public)} public, {len(private)} private symbols; {len(bad)} problems")
    return 1 if bad or not public else 0


if __name__ == "__main__":
    sys.exit(main())
