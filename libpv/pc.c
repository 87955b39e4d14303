/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PC platform's devices (<pv/linux.h>): a 16550A UART on COM1 (the
 * console, IRQ 4 on the in-kernel irqchip), the i8042's reset command, the
 * hardware-reduced ACPI sleep and reset registers, and the status port.
 * They are one device on the <pv/device.h> lifecycle: start begins reading
 * standard input (pv_vm_config.console_stdin), stop joins that thread.
 *
 * The UART also watches the console for a kernel panic: Linux prints
 * "Kernel panic - not syncing: WHY" and, once it has said everything,
 * "---[ end Kernel panic - not syncing: WHY ]---"; the second line ends the
 * VM with -EFAULT and the first in the error.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"
#include "pv/linux.h"

/* 16550A registers (offsets from PV_PC_COM1) and bits. */
#define UART_RX   0 /* read: receive buffer; write: transmit holding */
#define UART_IER  1
#define UART_IIR  2 /* read: interrupt identification; write: FIFO control */
#define UART_LCR  3
#define UART_MCR  4
#define UART_LSR  5
#define UART_MSR  6
#define UART_SCR  7
#define IER_RDI   0x01
#define IER_THRI  0x02
#define IIR_NONE  0x01
#define IIR_THRI  0x02
#define IIR_RDI   0x04
#define IIR_FIFO  0xc0
#define LCR_DLAB  0x80
#define MCR_LOOP  0x10
#define LSR_DR    0x01
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define RX_SIZE   256
#define LINE_MAX_ 240

struct pv_pc {
	struct pv_vm *vm;
	pthread_mutex_t lock;    /* the UART state below */
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thr_int;            /* "transmitter empty" interrupt pending */
	int irq_level;
	_Atomic uint16_t pm1_en;  /* pc_legacy_pic: PM1a enable, kept (ACPICA reads back GBL_EN) */
	uint8_t rx[RX_SIZE];
	unsigned int rx_head, rx_len;
	char line[LINE_MAX_ + 1], prev[LINE_MAX_ + 1], panic[LINE_MAX_ + 1];
	size_t line_len;
	pthread_t input;
	bool input_started;
	pthread_t panic_timer;   /* ends the VM if the panic message never ends */
	bool panic_timer_started;
	int stop_fd;             /* eventfd: stop reading stdin */
};

/* ---- UART ---- */

static uint8_t uart_iir(struct pv_pc *pc)
{
	uint8_t fifo = pc->fcr & 1 ? IIR_FIFO : 0;

	if ((pc->ier & IER_RDI) && pc->rx_len)
		return IIR_RDI | fifo;
	if ((pc->ier & IER_THRI) && pc->thr_int)
		return IIR_THRI | fifo;
	return IIR_NONE | fifo;
}

/* Raise or lower IRQ 4 to match the pending interrupts (edge in the IOAPIC:
 * the line goes down once the driver has drained them). */
static void uart_update_irq(struct pv_pc *pc)
{
	int level = !(uart_iir(pc) & IIR_NONE);

	if (level != pc->irq_level && pc->vm->ops->irq_line) {
		pc->irq_level = level;
		if (pc->vm->ops->irq_line(pc->vm, PV_PC_COM1_IRQ, level) == 0 && level)
			atomic_fetch_add(&pc->vm->interrupts, 1);
	}
}

int pv_vm_irq_line(struct pv_vm *vm, unsigned int irq, bool level)
{
	int r;

	if (!vm || irq > 15)
		return -EINVAL;
	if (vm->platform != PV_PLATFORM_PC || !vm->ops->irq_line)
		return -EOPNOTSUPP;
	r = vm->ops->irq_line(vm, irq, level);
	if (r == 0 && level)
		atomic_fetch_add(&vm->interrupts, 1);
	return r;
}

static void panic_end(struct pv_pc *pc)
{
	pv__vm_end(pc->vm, -EFAULT, 0, "guest kernel panic: %s (the line before it: %s)", pc->panic,
		   pc->prev[0] ? pc->prev : "none");
}

/* A panicking kernel normally ends its message with the "end Kernel panic"
 * line or resets; give it a second, then end the VM anyway. */
static void *panic_timer(void *arg)
{
	struct pv_pc *pc = arg;
	struct pollfd p = { .fd = pc->stop_fd, .events = POLLIN };

	if (poll(&p, 1, 1000) == 0) {
		pthread_mutex_lock(&pc->lock);
		panic_end(pc);
		pthread_mutex_unlock(&pc->lock);
	}
	return NULL;
}

static void panic_watch(struct pv_pc *pc)
{
	char *p;

	/* Skip the "[    1.234567] " time stamp. */
	p = pc->line[0] == '[' && strchr(pc->line, ']') ? strchr(pc->line, ']') + 1 : pc->line;
	while (*p == ' ')
		p++;
	if (!pc->panic[0] && strstr(p, "Kernel panic - not syncing")) {
		snprintf(pc->panic, sizeof(pc->panic), "%s", p);
		pc->panic_timer_started = pthread_create(&pc->panic_timer, NULL, panic_timer, pc) == 0;
		if (!pc->panic_timer_started)
			panic_end(pc);
	} else if (pc->panic[0] && strstr(p, "---[ end Kernel panic")) {
		panic_end(pc);
	}
	if (!pc->panic[0])
		snprintf(pc->prev, sizeof(pc->prev), "%s", p);
}

static void uart_tx(struct pv_pc *pc, uint8_t c)
{
	char ch = (char)c;

	pv__console_out(pc->vm, &ch, 1);
	if (c == '\n' || pc->line_len == LINE_MAX_) {
		pc->line[pc->line_len] = 0;
		panic_watch(pc);
		pc->line_len = 0;
	} else if (c != '\r') {
		pc->line[pc->line_len++] = ch;
	}
}

static void rx_put(struct pv_pc *pc, uint8_t c)
{
	if (pc->rx_len < RX_SIZE) {
		pc->rx[(pc->rx_head + pc->rx_len) % RX_SIZE] = c;
		pc->rx_len++;
	}
}

static int uart_io(void *opaque, struct pv_vcpu *vcpu, uint64_t addr, void *data, unsigned int size, bool write)
{
	struct pv_pc *pc = opaque;
	uint8_t *d = data, v = write ? d[0] : 0, r = 0;
	bool dlab;

	(void)vcpu;
	if (size != 1)
		return 0;
	pthread_mutex_lock(&pc->lock);
	dlab = pc->lcr & LCR_DLAB;
	switch (addr - PV_PC_COM1) {
	case UART_RX:
		if (dlab) {
			if (write)
				pc->dll = v;
			r = pc->dll;
		} else if (write) {
			if (pc->mcr & MCR_LOOP)
				rx_put(pc, v);
			else
				uart_tx(pc, v);
			pc->thr_int = true; /* sent at once: the holding register is empty again */
		} else if (pc->rx_len) {
			r = pc->rx[pc->rx_head];
			pc->rx_head = (pc->rx_head + 1) % RX_SIZE;
			pc->rx_len--;
		}
		break;
	case UART_IER:
		if (dlab) {
			if (write)
				pc->dlm = v;
			r = pc->dlm;
		} else {
			if (write) {
				if ((v & IER_THRI) && !(pc->ier & IER_THRI))
					pc->thr_int = true;
				pc->ier = v & 0x0f;
			}
			r = pc->ier;
		}
		break;
	case UART_IIR:
		if (write) {
			pc->fcr = v & 0xc9;
			if (v & 0x02) /* clear the receive FIFO */
				pc->rx_len = 0;
		} else {
			r = uart_iir(pc);
			if ((r & 0x0f) == IIR_THRI)
				pc->thr_int = false; /* reading the IIR acknowledges THRE */
		}
		break;
	case UART_LCR:
		if (write)
			pc->lcr = v;
		r = pc->lcr;
		break;
	case UART_MCR:
		if (write)
			pc->mcr = v & 0x1f;
		r = pc->mcr;
		break;
	case UART_LSR:
		r = LSR_THRE | LSR_TEMT | (pc->rx_len ? LSR_DR : 0);
		break;
	case UART_MSR:
		if (pc->mcr & MCR_LOOP) /* CTS <- RTS, DSR <- DTR, RI <- OUT1, DCD <- OUT2 */
			r = (uint8_t)((pc->mcr & 0x02) << 3 | (pc->mcr & 0x01) << 5 | (pc->mcr & 0x0c) << 4);
		else
			r = 0xb0; /* DCD, DSR, CTS */
		break;
	case UART_SCR:
		if (write)
			pc->scr = v;
		r = pc->scr;
		break;
	}
	uart_update_irq(pc);
	pthread_mutex_unlock(&pc->lock);
	if (!write)
		d[0] = r;
	return 0;
}

/* Standard input -> the receive FIFO, while there is room. */
static void *input_thread(void *arg)
{
	struct pv_pc *pc = arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = pc->stop_fd, .events = POLLIN }, { .fd = STDIN_FILENO, .events = POLLIN } };
		uint8_t buf[64];
		unsigned int room;
		ssize_t n;

		pthread_mutex_lock(&pc->lock);
		room = RX_SIZE - pc->rx_len;
		pthread_mutex_unlock(&pc->lock);
		if (poll(p, room ? 2 : 1, room ? -1 : 10) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (!room || !(p[1].revents & (POLLIN | POLLHUP)))
			continue;
		n = read(STDIN_FILENO, buf, room < sizeof(buf) ? room : sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break; /* end of input: the guest just sees no more */
		pthread_mutex_lock(&pc->lock);
		for (ssize_t i = 0; i < n; i++)
			rx_put(pc, buf[i]);
		uart_update_irq(pc);
		pthread_mutex_unlock(&pc->lock);
	}
	return NULL;
}

/* ---- i8042, ACPI registers, status port ---- */

void pv__pc_reset(struct pv_vm *vm, const char *why)
{
	pv__vm_end(vm, 0, atomic_load(&vm->pc_status), "the guest reset the machine (%s)", why);
}

static int i8042_io(void *opaque, struct pv_vcpu *vcpu, uint64_t addr, void *data, unsigned int size, bool write)
{
	struct pv_pc *pc = opaque;

	(void)vcpu;
	(void)size;
	/* Reads: no data, nothing pending, input buffer empty (so kb_wait ends). */
	if (write && addr == 0x64 && ((uint8_t *)data)[0] == 0xfe)
		pv__pc_reset(pc->vm, "i8042 reset command");
	return 0;
}

static int acpi_io(void *opaque, struct pv_vcpu *vcpu, uint64_t addr, void *data, unsigned int size, bool write)
{
	struct pv_pc *pc = opaque;
	uint8_t v = ((uint8_t *)data)[0];

	(void)vcpu;
	(void)size;
	if (!write)
		return 0; /* sleep status: WAK_STS clear */
	if (addr == PV_PC_ACPI_PORT && (v & 0x20) && ((v >> 2) & 7) == 5)
		pv__vm_end(pc->vm, 0, atomic_load(&pc->vm->pc_status), "the guest powered off (ACPI S5)");
	else if (addr == PV_PC_ACPI_PORT + 2 && v == 1)
		pv__pc_reset(pc->vm, "ACPI reset register");
	return 0;
}

/* PM1a (pc_legacy_pic): no events ever; the enable register keeps what is
 * written; control reads SCI_EN (ACPI mode) and takes SLP_TYP 5 with SLP_EN
 * as the power-off. */
static int pm1_io(void *opaque, struct pv_vcpu *vcpu, uint64_t addr, void *data, unsigned int size, bool write)
{
	struct pv_pc *pc = opaque;
	uint8_t *p = data;

	(void)vcpu;
	if (addr >= PV_PC_PM1_EVT + 2 && addr < PV_PC_PM1_EVT + 4) { /* PM1a_EN */
		unsigned int sh = (unsigned int)(addr - PV_PC_PM1_EVT - 2) * 8;
		uint16_t en = atomic_load(&pc->pm1_en);

		if (!write) {
			memset(p, 0, size);
			p[0] = (uint8_t)(en >> sh);
			if (size > 1 && !sh)
				p[1] = (uint8_t)(en >> 8);
			return 0;
		}
		en = (uint16_t)((en & ~(0xffu << sh)) | (unsigned int)p[0] << sh);
		if (size > 1 && !sh)
			en = (uint16_t)((en & 0xff) | (unsigned int)p[1] << 8);
		atomic_store(&pc->pm1_en, en);
		return 0;
	}
	if (!write) {
		memset(p, 0, size);
		if (addr == PV_PC_PM1_CNT)
			p[0] = 1; /* SCI_EN */
		return 0;
	}
	/* SLP_TYP is bits 10-12 and SLP_EN bit 13: the high byte */
	if ((addr == PV_PC_PM1_CNT + 1 || (addr == PV_PC_PM1_CNT && size >= 2)) &&
	    (p[addr == PV_PC_PM1_CNT ? 1 : 0] & 0x3c) == (0x20 | 5 << 2))
		pv__vm_end(pc->vm, 0, atomic_load(&pc->vm->pc_status), "the guest powered off (ACPI S5)");
	return 0;
}

static int status_io(void *opaque, struct pv_vcpu *vcpu, uint64_t addr, void *data, unsigned int size, bool write)
{
	struct pv_pc *pc = opaque;

	(void)vcpu;
	(void)addr;
	(void)size;
	if (write)
		atomic_store(&pc->vm->pc_status, ((uint8_t *)data)[0]);
	else
		((uint8_t *)data)[0] = (uint8_t)atomic_load(&pc->vm->pc_status);
	return 0;
}

/* ---- lifecycle ---- */

static int pc_start(void *dev)
{
	struct pv_pc *pc = dev;

	if (!pc->vm->console_stdin)
		return 0;
	if (pthread_create(&pc->input, NULL, input_thread, pc))
		return -EAGAIN;
	pc->input_started = true;
	return 0;
}

static void pc_stop(void *dev)
{
	struct pv_pc *pc = dev;
	uint64_t one = 1;

	if (write(pc->stop_fd, &one, sizeof(one)) < 0)
		return; /* an eventfd takes one write */
	if (pc->input_started)
		pthread_join(pc->input, NULL);
	if (pc->panic_timer_started)
		pthread_join(pc->panic_timer, NULL);
	pc->input_started = pc->panic_timer_started = false;
}

static void pc_destroy(void *dev)
{
	struct pv_pc *pc = dev;

	close(pc->stop_fd);
	pthread_mutex_destroy(&pc->lock);
	pc->vm->pc = NULL;
	free(pc);
}

static const struct pv_device_ops pc_ops = {
	.name = "pc",
	.start = pc_start,
	.stop = pc_stop,
	.destroy = pc_destroy,
};

int pv__pc_init(struct pv_vm *vm)
{
	struct pv_pc *pc = calloc(1, sizeof(*pc));
	int r;

	if (!pc)
		return -ENOMEM;
	pc->vm = vm;
	pc->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (pc->stop_fd < 0) {
		free(pc);
		return -errno;
	}
	pthread_mutex_init(&pc->lock, NULL);
	r = pv_vm_add_device(vm, &pc_ops, pc);
	if (r < 0) {
		pc_destroy(pc);
		return r;
	}
	vm->pc = pc;
	if ((r = pv_vm_add_pio(vm, "uart", PV_PC_COM1, 8, uart_io, pc)) < 0 ||
	    (r = pv_vm_add_pio(vm, "i8042-data", 0x60, 1, i8042_io, pc)) < 0 ||
	    (r = pv_vm_add_pio(vm, "i8042-cmd", 0x64, 1, i8042_io, pc)) < 0 ||
	    (r = pv_vm_add_pio(vm, "acpi", PV_PC_ACPI_PORT, 3, acpi_io, pc)) < 0 ||
	    (r = pv_vm_add_pio(vm, "status", PV_PC_STATUS_PORT, 1, status_io, pc)) < 0)
		return r;
	if (vm->pc_legacy_pic && ((r = pv_vm_add_pio(vm, "acpi-pm1", PV_PC_PM1_EVT, 4, pm1_io, pc)) < 0 ||
				  (r = pv_vm_add_pio(vm, "acpi-pm1-cnt", PV_PC_PM1_CNT, 2, pm1_io, pc)) < 0))
		return r;
	return 0;
}
