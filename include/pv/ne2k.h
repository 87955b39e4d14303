/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The emulated twin of the PV network device: an NE2000-compatible NIC
 * (DP8390 core) on ISA ports, on the same backends as <pv/net.h> (the
 * in-process switch or a TAP).  What a polling guest driver needs:
 *
 *   ports iobase + 0x00..0x0f  DP8390 registers, pages 0 and 1 (CR, PSTART,
 *                              PSTOP, BNRY, TPSR, TBCR, ISR, RSAR, RBCR,
 *                              RCR, TCR, DCR, IMR; PAR, CURR, MAR)
 *         iobase + 0x10        remote-DMA data port (8-, 16- or 32-bit)
 *         iobase + 0x1f        reset (a read resets the NIC)
 *   memory  32 bytes of address PROM at 0 (each byte doubled, as NE2000s in
 *           word mode show it), 16 KiB of buffer RAM at 0x4000-0x7fff
 *   transmit  CR.TXP sends TBCR bytes from page TPSR; ISR.PTX when done
 *   receive   frames accepted by RCR (own address, broadcast with AB,
 *           multicast with AM, all with PRO) land in the ring PSTART..PSTOP
 *           at CURR with the 4-byte header (status, next page, length);
 *           ISR.PRX; a full ring drops the frame (ISR.OVW, counted)
 *   No interrupts: guests poll ISR.  Frames longer than 1518 bytes are
 *   neither sent nor taken.  Every register value the guest writes is
 *   bounded before it indexes the buffer RAM.
 */
#ifndef PV_NE2K_H
#define PV_NE2K_H

#include <stdint.h>

#include "net.h"
#include "pv.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pv_ne2k;

struct pv_ne2k_config {
	struct pv_netswitch *sw;  /* the switch, or NULL with tap set */
	const char *tap;          /* a TAP interface (attached, or created); not kept */
	uint8_t mac[6];           /* all zero: 52:54:00:01:DD:00 from the domain id */
	uint16_t iobase;          /* 0: 0x300 */
};

struct pv_ne2k_stats {
	uint64_t tx_frames, tx_bytes, tx_dropped; /* dropped: bad length, or the backend refused */
	uint64_t rx_frames, rx_bytes;
	uint64_t rx_dropped;       /* ring full or receiver stopped */
	uint64_t rx_filtered;      /* not for this address under RCR */
};

/*
 * Attach an NE2000 to vm (before pv_vm_run), on 32 ports from iobase.  The
 * VM owns it (<pv/device.h>); it joins its switch when the VM starts and
 * leaves when it stops.  Returns 0, -EINVAL (NULL argument, both or neither
 * backend), -EEXIST (ports taken), -EBUSY (the VM runs), or the errno of
 * opening the TAP.
 */
int pv_ne2k_attach(struct pv_vm *vm, const struct pv_ne2k_config *cfg, struct pv_ne2k **out);

/* Counters (zeros for NULL). */
void pv_ne2k_stats(struct pv_ne2k *d, struct pv_ne2k_stats *st);

#ifdef __cplusplus
}
#endif
#endif
