#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Write the seed corpora of the fuzz harnesses into corpus/NAME/ (the
# committed seeds come from here; rerun it after changing an input format).
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def put(harness, name, data):
    d = os.path.join(HERE, 'corpus', harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


# ---- elf: static ELF64 x86-64 executables ----
def elf(segments, entry, etype=2, extra=b''):
    """segments: (vaddr, data, memsz, flags) each; PT_LOAD = 1."""
    ph_off = 64
    data_off = ph_off + 56 * len(segments)
    phdrs, blobs = b'', b''
    for vaddr, data, memsz, flags in segments:
        off = data_off + len(blobs)
        phdrs += struct.pack('<IIQQQQQQ', 1, flags, off, vaddr, vaddr, len(data), memsz, 4096)
        blobs += data
    eh = b'\x7fELF' + bytes([2, 1, 1, 0]) + bytes(8)
    eh += struct.pack('<HHIQQQIHHHHHH', etype, 62, 1, entry, ph_off, 0, 0, 64, 56, len(segments), 64, 0, 0)
    return eh + phdrs + blobs + extra


code = bytes([0xb8, 3, 0, 0, 0, 0x31, 0xff, 0x66, 0xba, 0x00, 0x05, 0xef, 0xf4])  # exit(0) by hypercall
put('elf', 'one-segment', elf([(0x100000, code, 0x1000, 5)], 0x100000))
put('elf', 'text-data-bss', elf([(0x100000, code, 0x1000, 5), (0x101000, b'data' * 16, 0x4000, 6)], 0x100000))
put('elf', 'high-segment', elf([(0x300000, code, 0x2000, 7)], 0x300004))
put('elf', 'entry-outside', elf([(0x100000, code, 0x1000, 6)], 0x100000))
put('elf', 'truncated', elf([(0x100000, code * 8, 0x1000, 5)], 0x100000)[:150])
put('elf', 'overlap', elf([(0x100000, code, 0x2000, 5), (0x101000, code, 0x1000, 5)], 0x100000))

# ---- hypercall: calls (nr, who, forms, sizes=0xf, 4 x u64), then the window ----
WIN = 0x100000
HC = dict(version=0, features=1, console_write=2, exit=3, time=4, yield_=5, block=6, vcpu_up=7, fault=8,
          grant_setup=9, grant_end=10, grant_copy=11, evtchn_setup=12, evtchn_alloc=13, evtchn_bind=14,
          evtchn_send=15, evtchn_close=16, doorbell=17, notify=18)


def calls(lst, window):
    out = bytes([len(lst) - 1])
    for nr, who, args in lst:
        forms = 0
        raw = []
        for k, a in enumerate(args + [0] * (4 - len(args))):
            if isinstance(a, tuple):  # ('win', offset): a pointer into the window
                forms |= 1 << (2 * k)
                raw.append(a[1])
            else:
                raw.append(a)
        out += bytes([HC[nr], who, forms, 0xf]) + struct.pack('<4Q', *raw)
    return out + window


def grant(flags, domid, npages, frame):
    return struct.pack('<HHIQ', flags, domid, npages, frame)


def copy_ptr(addr, offset, domid):
    return struct.pack('<QIHH', addr, offset, domid, 0)


win = bytearray(0x4000)
win[0:16] = grant(1, 2, 1, (WIN >> 12) + 1)        # ref 0: VM 1's page 1 for domain 2
win[16:32] = grant(3, 2, 2, (WIN >> 12) + 2)       # ref 1: read-only, two pages
op = copy_ptr(0, 0, 1) + copy_ptr(WIN + 0x3000, 0, 0x7ff0) + struct.pack('<Ii', 64, 0)
win[0x2000:0x2000 + len(op)] = op
put('hypercall', 'grant-copy', calls([('grant_setup', 0, [('win', 0), 16]), ('grant_copy', 1, [('win', 0x2000), 1]),
                                      ('grant_end', 0, [0]), ('grant_end', 0, [1])], bytes(win)))
put('hypercall', 'events', calls([('evtchn_setup', 0, [('win', 0x1000)]), ('evtchn_alloc', 0, [2]),
                                  ('evtchn_setup', 1, [('win', 0x1000)]), ('evtchn_bind', 1, [1, 1]),
                                  ('evtchn_send', 1, [0]), ('evtchn_send', 0, [1]), ('block', 0, [1000]),
                                  ('doorbell', 0, [0]), ('notify', 0, [0]), ('evtchn_close', 0, [1])],
                                 bytes(0x2000)))
put('hypercall', 'core', calls([('version', 0, []), ('features', 0, [0]), ('console_write', 0, [('win', 0), 12]),
                                ('time', 2, []), ('yield_', 0, []), ('vcpu_up', 0, [1, ('win', 0), ('win', 0x8000), 7]),
                                ('block', 2, [5000, ('win', 0x10), 0]), ('exit', 0, [3]), ('fault', 1, [13, 0, WIN, 0])],
                               b'hello, fuzz!\n' + bytes(64)))

# ---- ring: pages, well-formed flag, shape, start, then ops (op, value) ----
def ring(shape_bits, start, ops):
    return bytes([3, 1]) + bytes(shape_bits) + struct.pack('<I', start) + b''.join(ops)


def op(code, v, wide=True):
    return bytes([code | (0x10 if wide else 0)]) + (struct.pack('<I', v) if wide else bytes([v & 0xff]))


# ops: 0 guest publishes, 4 avail, 5 consume, 6 release, 9 produce, 10 push, 8 space, 1 guest consumes, 7 final check
put('ring', 'echo', ring([4, 19, 4, 1], 0, [op(0, 3, False), op(4, 0), op(5, 0), op(5, 0), op(6, 0), op(9, 16), op(10, 0),
                                          op(1, 0, False), op(8, 0), op(7, 0), op(13, 1), op(11, 1)]))
put('ring', 'wrap', ring([3, 0, 3, 0], 0xfffffffe, [op(0, 8, False), op(5, 0), op(6, 0), op(0, 20, False), op(4, 0),
                                                     op(9, 8), op(9, 8), op(10, 0), op(2, 1), op(4, 0)]))
hdr = bytearray(128)
struct.pack_into('<IIII', hdr, 0, 0x31525650, 1, 0, 3 * 4096)
struct.pack_into('<III', hdr, 16, 16, 160, 4096)
struct.pack_into('<III', hdr, 28, 256, 16, 8192)
put('ring', 'raw-header', bytes([3, 0]) + bytes(hdr) + op(0, 2, False) + op(5, 0) + op(6, 0))

# ---- blkreq: cap flag, cap, ro, struct pvblk_req (160 bytes), grant table + pages ----
def req(op_, flags, nsegs, rid, sector, nsect, segs=(), indirect=None):
    r = struct.pack('<BBHIQQQ', op_, flags, nsegs, 0, rid, sector, nsect)
    if indirect:
        body = struct.pack('<II', *indirect)
    else:
        body = b''.join(struct.pack('<IIII', g, o, ln, 0) for g, o, ln in segs)
    return r + body + bytes(160 - len(r) - len(body))


table = bytearray(0x3000)
table[0:16] = grant(1, 0, 4, (WIN >> 12) + 1)      # ref 0: 4 pages for the monitor
table[16:32] = grant(3, 0, 1, (WIN >> 12) + 2)     # ref 1: read-only
ind = b''.join(struct.pack('<IIII', 0, 512 * i, 512, 0) for i in range(8))
table[0x2000:0x2000 + len(ind)] = ind
table[32:48] = grant(1, 0, 1, (WIN >> 12) + 2)     # ref 2: the indirect page
small = bytes([0]) + struct.pack('<I', 2048)[:3] + bytes([0])
put('blkreq', 'read-inline', small + req(0, 0, 2, 1, 8, 0, [(0, 0, 4096), (0, 4096, 512)]) + bytes(table))
put('blkreq', 'write-ro-grant', small + req(1, 1, 1, 2, 0, 0, [(1, 0, 4096)]) + bytes(table))
put('blkreq', 'indirect', small + req(0, 2, 8, 3, 100, 0, indirect=(2, 0)) + bytes(table))
put('blkreq', 'discard', small + req(3, 0, 0, 4, 2040, 8) + bytes(table))
put('blkreq', 'flush-ro', bytes([0]) + struct.pack('<I', 2048)[:3] + bytes([1]) + req(2, 0, 0, 5, 0, 0))


# ---- ata: (op, value) accesses; op = reg (0-7, 8+ ctl) | size << 4 | write << 6 | dword << 7 ----
def w8(reg, v):
    return bytes([reg | 0x40, v])


def rd(reg, size=1):
    return bytes([reg | ({1: 0, 2: 1, 4: 2}[size] << 4)])


def string(write, count, dword=False, data=b''):
    out = b''
    while count > 0:  # 64 elements at most per access
        n = min(count, 64)
        out += bytes([0x30 | (0x40 if write else 0) | (0x80 if dword else 0), n - 1]) + data[:n * (4 if dword else 2)]
        data = data[n * (4 if dword else 2):]
        count -= n
    return out


put('ata', 'identify', w8(6, 0xa0) + w8(7, 0xec) + rd(7) + string(False, 256) + rd(7))
put('ata', 'write-read', w8(6, 0xe0) + w8(2, 1) + w8(3, 5) + w8(4, 0) + w8(5, 0) + w8(7, 0x30) +
    string(True, 256, data=bytes(range(256)) * 2) + rd(7) + w8(2, 1) + w8(3, 5) + w8(7, 0x20) + string(False, 128, True) + rd(1))
put('ata', 'lba48-multiple', w8(6, 0x40) + w8(2, 4) + w8(7, 0xc6) + w8(2, 0) + w8(2, 8) + w8(3, 0) + w8(3, 0x70) +
    w8(4, 0) + w8(4, 0) + w8(5, 0) + w8(5, 0) + w8(7, 0x29) + string(False, 1024) + rd(7) + w8(8, 0x86) + rd(5))
put('ata', 'past-end', w8(6, 0xe0) + w8(2, 4) + w8(3, 0x7e) + w8(7, 0x20) + rd(1) + rd(3) + w8(7, 0xe7) + w8(7, 0x90) + rd(1))

# ---- linux: flags (1 initramfs, 2 command line), initramfs length, command line length, those, the bzImage ----
def bzimage(setup_sects=1, version=0x020f, loadflags=1, xloadflags=3, reloc=1, pref=0x200000, align=0x200000,
            init_size=0x100000, cmdline_size=2047, initrd_max=0x7fffffff, body=b'\xf4' * 0x400):
    img = bytearray(((setup_sects or 4) + 1) * 512)
    img[0x1f1] = setup_sects
    struct.pack_into('<H', img, 0x1fe, 0xaa55)
    img[0x200:0x202] = bytes([0xeb, 0x66])          # jmp over the header to 0x268
    img[0x202:0x206] = b'HdrS'
    struct.pack_into('<H', img, 0x206, version)
    img[0x211] = loadflags
    struct.pack_into('<I', img, 0x22c, initrd_max)
    struct.pack_into('<I', img, 0x230, align)
    img[0x234] = reloc
    struct.pack_into('<H', img, 0x236, xloadflags)
    struct.pack_into('<I', img, 0x238, cmdline_size)
    struct.pack_into('<Q', img, 0x258, pref)
    struct.pack_into('<I', img, 0x260, init_size)
    return bytes(img) + body


def linux(kernel, initrd=None, cmdline=None):
    rd, cl = initrd or b'', cmdline or b''
    return bytes([(1 if initrd is not None else 0) | (2 if cmdline is not None else 0)]) + \
        struct.pack('<HH', len(rd), len(cl)) + rd + cl + kernel


put('linux', 'minimal', linux(bzimage()))
put('linux', 'initrd-cmdline', linux(bzimage(), b'070701' + bytes(250), b'console=ttyS0 root=/dev/ram0'))
put('linux', 'fixed-1mib', linux(bzimage(setup_sects=4, reloc=0, xloadflags=1), None, b'quiet'))
put('linux', 'pref-16mib', linux(bzimage(pref=0x1000000)))
put('linux', 'setup-sects-0', linux(bzimage(setup_sects=0, init_size=0x280000), b'\x00' * 4096))
put('linux', 'old-protocol', linux(bzimage(version=0x020a)))
put('linux', 'no-64bit', linux(bzimage(xloadflags=0), None, b'x' * 3000))
put('linux', 'odd-align', linux(bzimage(pref=0x123456, align=0x10000, init_size=0), b'rd', b''))


# ---- netdesc: sender's accepted and mtu, receiver's, 16 grants (mode, npages, frame), tx request, rx request,
#      the data window ----
NET_WIN_PG = 0x101


def ngrant(npages, page, ro=False, domid=0, permit=True):
    return bytes([(1 if ro else 0) | (2 if domid else 0) | (0 if permit else 0x10), npages, page])


def ngrant_far(npages, frame):
    return bytes([0x80]) + struct.pack('<IQ', npages, frame)


def tx_req(total, segs, flags=0, gso=0, hdr_len=0, gso_size=0, csum_start=0, csum_offset=0, rid=1):
    r = struct.pack('<QIHH', rid, total, len(segs), 0)
    r += struct.pack('<BBHHHHH', flags, gso, hdr_len, gso_size, csum_start, csum_offset, 0) + bytes(4)
    r += b''.join(struct.pack('<IIII', g, o, ln, 0) for g, o, ln in segs)
    return r + bytes(304 - len(r))


def rx_req(gref, offset, ln, rid=9):
    return struct.pack('<QIIII', rid, gref, offset, ln, 0)


def grants(lst):
    lst = list(lst) + [ngrant(0, 0, permit=False)] * (16 - len(lst))
    return b''.join(lst)


# grants: 0 = tx pages 0-1 (read-only), 1 = tx page 4, 2 = rx pages 8-9 (rw), 3 = rx read-only, 4 = far,
# 5 = other domain
G = grants([ngrant(2, 0, ro=True), ngrant(1, 4), ngrant(2, 8), ngrant(1, 12, ro=True), ngrant_far(3, 1 << 40),
            ngrant(1, 16, domid=1)])
eth = bytes.fromhex('525400123456525400abcdef0800')
ip = bytes.fromhex('4500002e0000400040110000c0a80001c0a80002')
udp = bytes.fromhex('d431003500') + bytes([0x1a, 0, 0])
pkt = eth + ip + udp + b'fuzz me please!!!!'
data = bytearray(0x5000)
data[0:len(pkt)] = pkt
data[0x4000:0x4010] = b'second segment!!'
F_ALL = 0xfff
put('netdesc', 'plain', struct.pack('<IHIH', 0, 1500, 0, 1500) + G +
    tx_req(len(pkt), [(0, 0, len(pkt))]) + rx_req(2, 0, 2048) +
    bytes(data))
put('netdesc', 'two-segs', struct.pack('<IHIH', F_ALL, 1500, F_ALL, 1500) + G +
    tx_req(len(pkt) + 16, [(0, 0, len(pkt)), (1, 0, 16)]) +
    rx_req(2, 100, 4096) + bytes(data))
put('netdesc', 'csum-fixup', struct.pack('<IHIH', 1, 1500, 0, 1500) + G +
    tx_req(len(pkt), [(0, 0, len(pkt))], flags=1, csum_start=34, csum_offset=6) + rx_req(2, 0, 1600) + bytes(data))
put('netdesc', 'gso-tcp4', struct.pack('<IHIH', F_ALL, 1500, F_ALL, 1500) + G +
    tx_req(8000, [(0, 0, 8000)], flags=1, gso=1, hdr_len=54, gso_size=1448, csum_start=34, csum_offset=16) +
    rx_req(2, 0, 8192) + bytes(data))
put('netdesc', 'rx-small', struct.pack('<IHIH', 0, 1500, 0, 1500) + G +
    tx_req(len(pkt), [(0, 0, len(pkt))]) + rx_req(2, 0, 20) +
    bytes(data))
put('netdesc', 'rx-readonly', struct.pack('<IHIH', 0, 1500, 0, 1500) + G + tx_req(len(pkt), [(0, 0, len(pkt))]) +
    rx_req(3, 0, 2048) + bytes(data))
put('netdesc', 'bad-grants', struct.pack('<IHIH', 0, 1500, 0, 1500) + G +
    tx_req(64, [(4, 0, 16), (5, 0, 16), (0, 8190, 16), (1, 4095, 16)]) + rx_req(2, 0, 2048) + bytes(data))
put('netdesc', 'rx-overlap', struct.pack('<IHIH', 0, 1500, 0, 1500) + G + tx_req(len(pkt), [(2, 0, len(pkt))]) +
    rx_req(2, 0x10, 2048) + bytes(data))
print('seeds written under', os.path.join(HERE, 'corpus'), file=sys.stderr)
