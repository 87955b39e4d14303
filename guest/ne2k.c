/* SPDX-License-Identifier: MIT */
/* The guest SDK's polling NE2000 driver (see <pv/guest/ne2k.h>). */
#include <pv/guest/io.h>
#include <pv/guest/ne2k.h>
#include <pv/guest/sdk.h>

#define TX_PAGE 0x40
#define RX_START 0x46
#define RX_STOP 0x80

enum { CR = 0, PSTART = 1, PSTOP = 2, BNRY = 3, TPSR = 4, TBCR0 = 5, TBCR1 = 6, ISR = 7, RSAR0 = 8, RSAR1 = 9,
       RBCR0 = 10, RBCR1 = 11, RCR = 12, TCR = 13, DCR = 14, IMR = 15, DATA = 0x10, RESET = 0x1f };
#define CURR 7 /* page 1 */

static void rep_insw(unsigned short port, void *buf, unsigned long words)
{
	__asm__ __volatile__("rep insw" : "+D"(buf), "+c"(words) : "d"(port) : "memory");
}

static void rep_outsw(unsigned short port, const void *buf, unsigned long words)
{
	__asm__ __volatile__("rep outsw" : "+S"(buf), "+c"(words) : "d"(port) : "memory");
}

/* Remote DMA of count bytes at addr: set up, then the data port. */
static void dma_setup(struct pv_ne2k_nic *n, unsigned int addr, unsigned int count, unsigned char cmd)
{
	pv_outb(n->io + RBCR0, (unsigned char)count);
	pv_outb(n->io + RBCR1, (unsigned char)(count >> 8));
	pv_outb(n->io + RSAR0, (unsigned char)addr);
	pv_outb(n->io + RSAR1, (unsigned char)(addr >> 8));
	pv_outb(n->io + CR, cmd);
}

static int dma_wait(struct pv_ne2k_nic *n)
{
	for (int i = 0; i < 100000; i++)
		if (pv_inb(n->io + ISR) & 0x40) {
			pv_outb(n->io + ISR, 0x40);
			return 0;
		}
	return -1;
}

static void dma_read(struct pv_ne2k_nic *n, unsigned int addr, void *buf, unsigned int count)
{
	dma_setup(n, addr, (count + 1) & ~1u, 0x0a);
	rep_insw(n->io + DATA, buf, count / 2);
	if (count & 1) { /* the last word holds one byte of ours */
		unsigned short w = pv_inw(n->io + DATA);

		((unsigned char *)buf)[count - 1] = (unsigned char)w;
	}
	dma_wait(n);
}

long pv_ne2k_nic_init(struct pv_ne2k_nic *n, unsigned short iobase)
{
	unsigned char prom[32];

	n->io = iobase ? iobase : 0x300;
	pv_inb(n->io + RESET);
	pv_outb(n->io + CR, 0x21);          /* page 0, stop, no DMA */
	if (!(pv_inb(n->io + ISR) & 0x80))
		return PV_EIO;              /* no NIC answered the reset */
	pv_outb(n->io + DCR, 0x49);         /* word transfers */
	pv_outb(n->io + RBCR0, 0);
	pv_outb(n->io + RBCR1, 0);
	pv_outb(n->io + RCR, 0x20);         /* monitor while setting up */
	pv_outb(n->io + TCR, 0x02);         /* loopback */
	pv_outb(n->io + TPSR, TX_PAGE);
	pv_outb(n->io + PSTART, RX_START);
	pv_outb(n->io + PSTOP, RX_STOP);
	pv_outb(n->io + BNRY, RX_START);
	pv_outb(n->io + ISR, 0xff);
	pv_outb(n->io + IMR, 0);            /* polling */
	dma_read(n, 0, prom, 32);
	for (int i = 0; i < 6; i++)
		n->mac[i] = prom[i * 2];
	pv_outb(n->io + CR, 0x61);          /* page 1 */
	for (int i = 0; i < 6; i++)
		pv_outb(n->io + 1 + i, n->mac[i]);
	pv_outb(n->io + CURR, RX_START + 1);
	for (int i = 0; i < 8; i++)
		pv_outb(n->io + 8 + i, 0xff);
	pv_outb(n->io + CR, 0x22);          /* page 0, start */
	pv_outb(n->io + TCR, 0);
	pv_outb(n->io + RCR, 0x04);         /* accept broadcast */
	n->next = RX_START + 1;
	n->draining = 0;
	return 0;
}

long pv_ne2k_nic_send(struct pv_ne2k_nic *n, const void *frame, unsigned int len)
{
	static unsigned char pad[1514];
	unsigned int sendlen = len < 60 ? 60 : len;

	if (len < 14 || len > 1514)
		return PV_EINVAL;
	if (len < 60) {
		memset(pad, 0, 60);
		memcpy(pad, frame, len);
		frame = pad;
	}
	dma_setup(n, TX_PAGE * 256, (sendlen + 1) & ~1u, 0x12);
	rep_outsw(n->io + DATA, frame, (sendlen + 1) / 2);
	if (dma_wait(n))
		return PV_EIO;
	pv_outb(n->io + TPSR, TX_PAGE);
	pv_outb(n->io + TBCR0, (unsigned char)sendlen);
	pv_outb(n->io + TBCR1, (unsigned char)(sendlen >> 8));
	pv_outb(n->io + CR, 0x26);          /* transmit */
	for (int i = 0; i < 100000; i++) {
		if (pv_inb(n->io + ISR) & 0x02) {
			pv_outb(n->io + ISR, 0x02);
			return 0;
		}
	}
	return PV_EIO;
}

long pv_ne2k_nic_recv(struct pv_ne2k_nic *n, void *buf, unsigned int max)
{
	unsigned char hdr[4], curr, bnry;
	unsigned int len;

	if (!n->draining) { /* idle: one exit per look */
		if (!(pv_inb(n->io + ISR) & 0x01))
			return 0;
		pv_outb(n->io + ISR, 0x01); /* before draining: a later frame sets it again */
		n->draining = 1;
	}
	pv_outb(n->io + CR, 0x62);          /* page 1: CURR */
	curr = pv_inb(n->io + CURR);
	pv_outb(n->io + CR, 0x22);
	if (curr == n->next) {
		n->draining = 0;
		return 0;
	}
	dma_read(n, (unsigned int)n->next * 256, hdr, 4);
	len = (unsigned int)hdr[2] | (unsigned int)hdr[3] << 8;
	if (hdr[1] < RX_START || hdr[1] >= RX_STOP || len < 4 + 14 || len > 4 + 1518)
		return PV_EIO;
	len -= 4;
	if (len > max)
		len = max;
	dma_read(n, (unsigned int)n->next * 256 + 4, buf, len);
	n->next = hdr[1];
	bnry = (unsigned char)(n->next == RX_START ? RX_STOP - 1 : n->next - 1);
	pv_outb(n->io + BNRY, bnry);
	return (long)len;
}
