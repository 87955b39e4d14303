/* SPDX-License-Identifier: MIT */
/*
 * Guest SDK: a polling driver for the emulated NE2000 (host side:
 * <pv/ne2k.h>).  Every register access is a port I/O, so each one is a VM
 * exit: this is the "emulated I/O" door the PV network device is compared
 * with.  Frames move through the remote-DMA data port with rep insw/outsw.
 */
#ifndef PV_GUEST_NE2K_H
#define PV_GUEST_NE2K_H

struct pv_ne2k_nic {
	unsigned short io;
	unsigned char mac[6];
	unsigned char next;      /* next receive page to read */
	unsigned char draining;  /* ISR.PRX seen: read frames until the ring is empty */
};

/* Reset and start the NIC at iobase (0: 0x300), reading its MAC address
 * from the PROM; broadcast frames are accepted.  0 or PV_EIO. */
long pv_ne2k_nic_init(struct pv_ne2k_nic *n, unsigned short iobase);

/* Send a frame of len bytes (14..1514; padded to 60).  0 or PV_EINVAL,
 * PV_EIO. */
long pv_ne2k_nic_send(struct pv_ne2k_nic *n, const void *frame, unsigned int len);

/* Take the next received frame into buf (max bytes): its length, 0 when
 * none has arrived, PV_EIO for a corrupt ring.  While idle a call costs one
 * register read (ISR.PRX). */
long pv_ne2k_nic_recv(struct pv_ne2k_nic *n, void *buf, unsigned int max);

#endif
