/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The emulated NE2000 (see <pv/ne2k.h>): the "emulated I/O" door of the
 * network comparison.  A transmitted frame is copied out of the NIC's
 * buffer RAM into one of a few bounce slots (it must outlive the port
 * queue of a receiver that has no buffer yet) and forwarded to the switch,
 * or written to the TAP.  Received frames are copied into the receive
 * ring in buffer RAM by whoever delivers them (a sender's thread, or the
 * TAP reader thread), under the device lock; the vCPU reads them out
 * through the data port.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <pv/device.h>
#include <pv/ne2k.h>

#include "netdev.h"

#define MEM_SIZE 0x8000u
#define RAM_START 0x4000u
#define FRAME_MAX 1518u
#define TX_SLOTS 8u

/* CR */
#define CR_STP 0x01
#define CR_STA 0x02
#define CR_TXP 0x04
#define CR_RD_MASK 0x38
#define CR_RD_READ 0x08
#define CR_RD_WRITE 0x10
/* ISR */
#define ISR_PRX 0x01
#define ISR_PTX 0x02
#define ISR_OVW 0x10
#define ISR_RDC 0x40
#define ISR_RST 0x80
/* RCR */
#define RCR_AB 0x04
#define RCR_AM 0x08
#define RCR_PRO 0x10

struct txbounce {
	struct pvnet_frame f;
	struct pv_ne2k *d;
	atomic_bool busy;
	uint8_t buf[FRAME_MAX];
};

struct pv_ne2k {
	struct pv_vm *vm;
	pthread_mutex_t lock;
	struct pv_netswitch *sw;
	int swport, tapfd, stop_efd;
	pthread_t reader;
	bool reader_started;
	uint16_t iobase;
	uint8_t mac[6];
	uint8_t cr, isr, imr, dcr, rcr, tcr, tsr, rsr;
	uint8_t pstart, pstop, bnry, tpsr, curr, par[6], mar[8];
	uint16_t tbcr, rsar, rbcr;
	bool tx_pending;         /* CR.TXP waits for a free bounce slot */
	uint8_t mem[MEM_SIZE];
	struct txbounce tx[TX_SLOTS];
	struct pv_ne2k_stats st;
};

static void reset(struct pv_ne2k *d)
{
	d->cr = CR_STP | 0x20;
	d->isr = ISR_RST;
	d->imr = d->rcr = d->tcr = d->tsr = d->rsr = 0;
	d->dcr = 0;
	d->pstart = d->pstop = d->bnry = d->tpsr = d->curr = 0;
	d->tbcr = d->rsar = d->rbcr = 0;
	d->tx_pending = false;
}

/* Buffer RAM and PROM as the remote DMA sees them. */
static uint8_t mem_read(const struct pv_ne2k *d, uint16_t a)
{
	a &= MEM_SIZE - 1;
	if (a < 32)
		return d->mem[a];
	return a >= RAM_START ? d->mem[a] : 0xff;
}

static void mem_write(struct pv_ne2k *d, uint16_t a, uint8_t v)
{
	a &= MEM_SIZE - 1;
	if (a >= RAM_START)
		d->mem[a] = v;
}

/* ---- receive ---- */

static bool accepts(const struct pv_ne2k *d, const uint8_t *dst)
{
	if (d->rcr & RCR_PRO)
		return true;
	if (!memcmp(dst, "\xff\xff\xff\xff\xff\xff", 6))
		return d->rcr & RCR_AB;
	if (dst[0] & 1)
		return d->rcr & RCR_AM; /* every multicast: the MAR hash is not modelled */
	return !memcmp(dst, d->par, 6);
}

/* Put a frame of len bytes (gathered from iov) into the ring (lock held).
 * Returns PVSW_DELIVERED or PVSW_DROPPED. */
static int ring_put(struct pv_ne2k *d, const struct iovec *iov, unsigned int niov, uint32_t len, const uint8_t *dst)
{
	unsigned int start = d->pstart, stop = d->pstop, pages, avail, next, p;
	uint32_t total = len + 4, off = 0;

	if (!(d->cr & CR_STA) || (d->cr & CR_STP) || len > FRAME_MAX || len < 14 || start < 0x40 || stop > 0x80 ||
	    start >= stop || d->curr < start || d->curr >= stop) {
		d->st.rx_dropped++;
		return PVSW_DROPPED;
	}
	if (!accepts(d, dst)) {
		d->st.rx_filtered++;
		return PVSW_DROPPED;
	}
	pages = (total + 255) / 256;
	/* free pages from CURR up to (not including) BNRY, around the ring */
	avail = d->bnry > d->curr ? (unsigned int)(d->bnry - d->curr) : stop - d->curr + (d->bnry - start);
	if (d->bnry < start || d->bnry >= stop)
		avail = stop - start;
	if (pages >= avail) {
		d->isr |= ISR_OVW;
		d->st.rx_dropped++;
		return PVSW_DROPPED;
	}
	next = d->curr + pages;
	if (next >= stop)
		next = start + (next - stop);
	p = (unsigned int)d->curr * 256;
	{
		uint8_t hdr[4] = { 0x01, (uint8_t)next, (uint8_t)total, (uint8_t)(total >> 8) };

		for (int i = 0; i < 4; i++)
			d->mem[p + (unsigned int)i] = hdr[i];
	}
	p += 4;
	for (unsigned int i = 0; i < niov; i++) {
		const uint8_t *s = iov[i].iov_base;

		for (size_t k = 0; k < iov[i].iov_len && off < len;) {
			size_t room = stop * 256u - p, n = iov[i].iov_len - k;

			if (n > room)
				n = room;
			memcpy(d->mem + p, s + k, n);
			k += n;
			off += (uint32_t)n;
			p += (unsigned int)n;
			if (p >= stop * 256u)
				p = start * 256u;
		}
	}
	d->curr = (uint8_t)next;
	d->rsr = 0x01;
	d->isr |= ISR_PRX;
	d->st.rx_frames++;
	d->st.rx_bytes += len;
	return PVSW_DELIVERED;
}

static int port_deliver(void *dev, struct pvnet_frame *f)
{
	struct pv_ne2k *d = dev;
	int r;

	if (f->hdr.gso_type != PVNET_GSO_NONE) {
		pthread_mutex_lock(&d->lock);
		d->st.rx_dropped++; /* an NE2000 cannot take GSO frames */
		pthread_mutex_unlock(&d->lock);
		return PVSW_DROPPED;
	}
	if ((f->hdr.flags & PVNET_HDR_F_NEEDS_CSUM) && f->len <= FRAME_MAX) {
		/* The guest has no checksum offload: complete it in a private
		 * copy first (a second copy, for these frames only). */
		uint8_t tmp[FRAME_MAX];
		struct iovec iov = { tmp, f->len };

		pvnet__copy_out(tmp, f);
		pvnet__rx_fixup(tmp, f->len, &f->hdr, 0);
		pthread_mutex_lock(&d->lock);
		r = ring_put(d, &iov, 1, f->len, f->eth);
		pthread_mutex_unlock(&d->lock);
		return r;
	}
	pthread_mutex_lock(&d->lock);
	r = ring_put(d, f->iov, f->niov, f->len, f->eth);
	pthread_mutex_unlock(&d->lock);
	return r;
}

static const struct pvsw_port_ops ne2k_port_ops = { .deliver = port_deliver, .flush = NULL };

/* ---- transmit ---- */

static void tx_done(struct pvnet_frame *f)
{
	struct txbounce *t = (struct txbounce *)f;

	atomic_store(&t->busy, false);
}

/*
 * CR.TXP (lock held on entry and exit; dropped around the forward).  Every
 * bounce slot is busy while receivers still queue this NIC's earlier frames
 * (a PV receiver without posted buffers): the frame then stays in the NIC,
 * CR.TXP stays set and PTX is not raised, as on a NIC whose transmitter is
 * busy, and each register read of the waiting driver tries again
 * (retry_transmit).  Nothing is dropped for want of a slot.
 */
static void transmit(struct pv_ne2k *d)
{
	uint32_t len = d->tbcr, a = (uint32_t)d->tpsr * 256;
	struct txbounce *t = NULL;

	d->tsr = 0x01;
	d->tx_pending = false;
	d->cr &= (uint8_t)~CR_TXP;
	if (len < 14 || len > FRAME_MAX || a < RAM_START || a + len > MEM_SIZE) {
		d->st.tx_dropped++;
		d->isr |= ISR_PTX;
		return;
	}
	for (unsigned int i = 0; i < TX_SLOTS; i++) {
		bool idle = false;

		if (atomic_compare_exchange_strong(&d->tx[i].busy, &idle, true)) {
			t = &d->tx[i];
			break;
		}
	}
	if (!t) {
		d->tx_pending = true;
		d->cr |= CR_TXP;
		return;
	}
	memcpy(t->buf, d->mem + a, len);
	d->st.tx_frames++;
	d->st.tx_bytes += len;
	d->isr |= ISR_PTX; /* the frame has left the NIC's memory */
	pthread_mutex_unlock(&d->lock);
	if (d->sw) {
		memset(&t->f, 0, sizeof(t->f));
		t->f.len = len;
		t->f.niov = 1;
		t->f.iov[0] = (struct iovec){ t->buf, len };
		memcpy(t->f.eth, t->buf, 14);
		t->f.src = (unsigned int)d->swport;
		t->f.done = tx_done;
		atomic_store(&t->f.refs, 1);
		pvsw__forward(d->sw, &t->f);
		pvnet__frame_put(&t->f);
	} else {
		struct pvnet_hdr h = { 0 };
		struct iovec iov[2] = { { &h, sizeof(h) }, { t->buf, len } };

		if (writev(d->tapfd, iov, 2) < 0) {
			pthread_mutex_lock(&d->lock);
			d->st.tx_dropped++;
			pthread_mutex_unlock(&d->lock);
		}
		atomic_store(&t->busy, false);
	}
	pthread_mutex_lock(&d->lock);
}

/* ---- registers ---- */

static void dma_step(struct pv_ne2k *d, bool rd)
{
	d->rsar++;
	/* a remote read wraps around the receive ring, as on the DP8390 */
	if (rd && d->pstop > d->pstart && d->rsar == (uint16_t)(d->pstop * 256))
		d->rsar = (uint16_t)(d->pstart * 256);
	if (d->rsar >= MEM_SIZE)
		d->rsar = 0;
	if (d->rbcr && --d->rbcr == 0)
		d->isr |= ISR_RDC;
}

/* A transmit waiting for a bounce slot goes out once one is free. */
static void retry_transmit(struct pv_ne2k *d)
{
	if (d->tx_pending && (d->cr & CR_STA))
		transmit(d);
}

static uint8_t reg_read(struct pv_ne2k *d, unsigned int r)
{
	unsigned int page = d->cr >> 6;

	retry_transmit(d);
	if (r == 0)
		return d->cr;
	if (page == 1)
		return r == 7 ? d->curr : r < 7 ? d->par[r - 1] : d->mar[r - 8];
	switch (r) {
	case 3:
		return d->bnry;
	case 4:
		return d->tsr;
	case 7:
		return d->isr;
	case 8:
		return (uint8_t)d->rsar;
	case 9:
		return (uint8_t)(d->rsar >> 8);
	case 0xc:
		return d->rsr;
	default:
		return 0;
	}
}

static void reg_write(struct pv_ne2k *d, unsigned int r, uint8_t v)
{
	unsigned int page = d->cr >> 6;

	if (r == 0) {
		d->cr = v;
		if (v & CR_STA)
			d->cr &= (uint8_t)~CR_STP;
		if (v & CR_STP)
			d->isr |= ISR_RST;
		if ((v & CR_RD_MASK) == 0x20 || (v & CR_RD_MASK) == 0)
			d->cr = (uint8_t)((d->cr & ~CR_RD_MASK) | 0x20); /* abort/complete DMA */
		if ((v & CR_TXP) && (d->cr & CR_STA))
			transmit(d); /* clears CR.TXP when the frame has left */
		else if (d->tx_pending)
			d->cr |= CR_TXP; /* still waiting: the driver cannot cancel it */
		return;
	}
	if (page == 1) {
		if (r == 7)
			d->curr = v;
		else if (r < 7)
			d->par[r - 1] = v;
		else
			d->mar[r - 8] = v;
		return;
	}
	if (page != 0)
		return;
	switch (r) {
	case 1: d->pstart = v; break;
	case 2: d->pstop = v; break;
	case 3: d->bnry = v; break;
	case 4: d->tpsr = v; break;
	case 5: d->tbcr = (uint16_t)((d->tbcr & 0xff00) | v); break;
	case 6: d->tbcr = (uint16_t)((d->tbcr & 0xff) | v << 8); break;
	case 7: d->isr &= (uint8_t)~v; break; /* write 1 to clear */
	case 8: d->rsar = (uint16_t)((d->rsar & 0xff00) | v); break;
	case 9: d->rsar = (uint16_t)((d->rsar & 0xff) | v << 8); break;
	case 0xa: d->rbcr = (uint16_t)((d->rbcr & 0xff00) | v); break;
	case 0xb: d->rbcr = (uint16_t)((d->rbcr & 0xff) | v << 8); break;
	case 0xc: d->rcr = v; break;
	case 0xd: d->tcr = v; break;
	case 0xe: d->dcr = v; break;
	case 0xf: d->imr = v; break;
	}
}

static int pio(void *opaque, struct pv_vcpu *v, uint64_t addr, void *data, unsigned int size, bool is_write)
{
	struct pv_ne2k *d = opaque;
	unsigned int off = (unsigned int)(addr - d->iobase);
	uint8_t *b = data;

	(void)v;
	pthread_mutex_lock(&d->lock);
	if (off == 0x10) { /* remote DMA data port: size bytes */
		unsigned int rd = d->cr & CR_RD_MASK;

		for (unsigned int i = 0; i < size; i++) {
			if (is_write) {
				if (rd == CR_RD_WRITE && d->rbcr)
					mem_write(d, d->rsar, b[i]);
			} else {
				b[i] = rd == CR_RD_READ && d->rbcr ? mem_read(d, d->rsar) : 0xff;
			}
			if ((rd == CR_RD_READ || rd == CR_RD_WRITE) && d->rbcr)
				dma_step(d, rd == CR_RD_READ);
		}
	} else if (off == 0x1f) {
		if (!is_write)
			reset(d), b[0] = 0;
		for (unsigned int i = 1; !is_write && i < size; i++)
			b[i] = 0;
	} else if (off < 0x10) {
		for (unsigned int i = 0; i < size; i++) {
			if (is_write)
				reg_write(d, off, b[i]);
			else
				b[i] = reg_read(d, off);
		}
	} else if (!is_write) {
		memset(b, 0xff, size);
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* ---- the TAP reader ---- */

static void *tap_reader(void *arg)
{
	struct pv_ne2k *d = arg;
	uint8_t *buf = malloc(12 + 65550);
	int r0 = pv_vm_sandbox_thread(d->vm);

	if (r0 < 0) {
		fprintf(stderr, "libpv: ne2k: cannot load the sandbox filter (%s); TAP reader stopped\n", strerror(-r0));
		free(buf);
		return NULL;
	}
	while (buf) {
		struct pollfd p[2] = { { d->tapfd, POLLIN, 0 }, { d->stop_efd, POLLIN, 0 } };
		ssize_t n;

		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			break;
		n = read(d->tapfd, buf, 12 + 65550);
		if (n <= 12)
			continue;
		{
			struct iovec iov = { buf + 12, (size_t)n - 12 };

			pthread_mutex_lock(&d->lock);
			ring_put(d, &iov, 1, (uint32_t)(n - 12), buf + 12);
			pthread_mutex_unlock(&d->lock);
		}
	}
	free(buf);
	return NULL;
}

/* ---- lifecycle ---- */

static int ne2k_start(void *dev)
{
	struct pv_ne2k *d = dev;

	if (d->sw) {
		d->swport = pvsw__join(d->sw, &ne2k_port_ops, d, d->mac);
		return d->swport < 0 ? d->swport : 0;
	}
	d->stop_efd = eventfd(0, EFD_CLOEXEC);
	if (d->stop_efd < 0)
		return -errno;
	if (pthread_create(&d->reader, NULL, tap_reader, d) != 0)
		return -EAGAIN;
	d->reader_started = true;
	return 0;
}

static void ne2k_stop(void *dev)
{
	struct pv_ne2k *d = dev;

	if (d->sw && d->swport >= 0)
		pvsw__leave(d->sw, (unsigned int)d->swport); /* our queued frames are settled */
	d->swport = -1;
	if (d->reader_started) {
		uint64_t one = 1;

		if (write(d->stop_efd, &one, sizeof(one)) < 0)
			perror("libpv: ne2k stop");
		pthread_join(d->reader, NULL);
		d->reader_started = false;
	}
}

static void ne2k_destroy(void *dev)
{
	struct pv_ne2k *d = dev;

	ne2k_stop(d);
	if (d->stop_efd >= 0)
		close(d->stop_efd);
	if (d->tapfd >= 0)
		close(d->tapfd);
	pvsw__put(d->sw);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static const struct pv_device_ops ne2k_ops = {
	.name = "ne2k", .start = ne2k_start, .stop = ne2k_stop, .destroy = ne2k_destroy,
};

int pv_ne2k_attach(struct pv_vm *vm, const struct pv_ne2k_config *cfg, struct pv_ne2k **out)
{
	static const uint8_t zero[6];
	struct pv_ne2k *d;
	int r;

	if (out)
		*out = NULL;
	if (!vm || !cfg || !out || !cfg->sw == !cfg->tap || (cfg->tap && (!cfg->tap[0] || strlen(cfg->tap) >= 16)))
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->vm = vm;
	d->swport = d->tapfd = d->stop_efd = -1;
	d->iobase = cfg->iobase ? cfg->iobase : 0x300;
	pthread_mutex_init(&d->lock, NULL);
	memcpy(d->mac, cfg->mac, 6);
	if (!memcmp(d->mac, zero, 6)) {
		unsigned int dom = pv_vm_domid(vm);
		uint8_t m[6] = { 0x52, 0x54, 0x00, 0x01, (uint8_t)dom, (uint8_t)(dom >> 8) };

		memcpy(d->mac, m, 6);
	}
	for (int i = 0; i < 16; i++)
		d->mem[i * 2] = d->mem[i * 2 + 1] = i < 6 ? d->mac[i] : (i == 14 || i == 15) ? 0x57 : 0;
	for (unsigned int i = 0; i < TX_SLOTS; i++)
		d->tx[i].d = d;
	reset(d);
	if (cfg->tap) {
		r = pvnet__tap_open(cfg->tap, 1, &d->tapfd);
		if (r < 0) {
			pthread_mutex_destroy(&d->lock);
			free(d);
			return r;
		}
	} else {
		d->sw = cfg->sw;
		pvsw__get(d->sw);
	}
	r = pv_vm_add_device(vm, &ne2k_ops, d);
	if (r < 0) {
		ne2k_destroy(d);
		return r;
	}
	r = pv_vm_add_pio(vm, "ne2k", d->iobase, 32, pio, d);
	if (r < 0)
		return r;
	*out = d;
	return 0;
}

void pv_ne2k_stats(struct pv_ne2k *d, struct pv_ne2k_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	*st = d->st;
	pthread_mutex_unlock(&d->lock);
}
