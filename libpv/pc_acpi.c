/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PC platform's ACPI tables: hardware-reduced ACPI 6.0, written below
 * 1 MiB where a kernel without EFI also scans for the RSDP.
 *
 *   RSDP 0xe0000 -> XSDT -> FADT (HW_REDUCED_ACPI, sleep control/status
 *   and reset registers at PV_PC_ACPI_PORT, no 8042, no VGA, no CMOS RTC)
 *                        -> DSDT (\_S5 and COM1: PNP0501, 0x3f8, IRQ 4)
 *                -> MADT (a LAPIC per vCPU, the IOAPIC, LINT1 = NMI,
 *                   ISA IRQs 1-15 identity-mapped, edge, active high)
 *
 * With pc_legacy_pic the FADT is a full one instead (no HW_REDUCED_ACPI:
 * PM1a event and control blocks at PV_PC_PM1_EVT/CNT, SCI 9, no SMI
 * command, so already in ACPI mode; a FACS) and the MADT says PCAT_COMPAT:
 * Linux then keeps the 8259 PICs and ISA IRQs 0-15 under their own numbers.
 */
#include <string.h>

#include "internal.h"

#define RSDP_ADDR (PV_LX_ACPI_ADDR)
#define XSDT_ADDR (PV_LX_ACPI_ADDR + 0x40)
#define FADT_ADDR (PV_LX_ACPI_ADDR + 0x100)
#define MADT_ADDR (PV_LX_ACPI_ADDR + 0x300)
#define DSDT_ADDR (PV_LX_ACPI_ADDR + 0x800)
#define FACS_ADDR (PV_LX_ACPI_ADDR + 0x240)  /* 64-byte aligned, after the FADT */
#define HDR 36

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return (uint8_t)-s;
}

/* The common table header; the checksum is set by finish(). */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memset(t, 0, HDR);
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "LIBPV ", 6);
	memcpy(t + 16, "LIBPVPC ", 8);
	put32(t + 24, 1);
	memcpy(t + 28, "LPV ", 4);
	put32(t + 32, 1);
}

static void finish(uint8_t *t)
{
	uint32_t len;

	memcpy(&len, t + 4, 4);
	t[9] = 0;
	t[9] = checksum(t, len);
}

/* Generic address structure: an 8-bit register in I/O space. */
static void gas_io8(uint8_t *g, uint16_t port)
{
	memset(g, 0, 12);
	g[0] = 1; /* system I/O */
	g[1] = 8; /* bit width */
	g[3] = 1; /* byte access */
	put64(g + 4, port);
}

/* The same for a register of `bits` bits, accessed as a whole. */
static void gas_io(uint8_t *g, uint16_t port, uint8_t bits)
{
	gas_io8(g, port);
	g[1] = bits;
	g[3] = bits == 32 ? 3 : bits == 16 ? 2 : 1;
}

/* ---- AML: just enough to name \_S5 and describe COM1 ---- */
struct aml {
	uint8_t b[256];
	size_t n;
};

static void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->n + n <= sizeof(a->b)) {
		memcpy(a->b + a->n, p, n);
		a->n += n;
	}
}

/* op (1 or 2 bytes), PkgLength, then the body. */
static void aml_pkg(struct aml *a, const uint8_t *op, size_t oplen, const struct aml *body)
{
	size_t len = body->n + 1;
	uint8_t pl[2];

	aml_bytes(a, op, oplen);
	if (len < 0x40) {
		pl[0] = (uint8_t)len;
		aml_bytes(a, pl, 1);
	} else {
		len++; /* two-byte PkgLength: 0x4N, then bits 4-11 */
		pl[0] = (uint8_t)(0x40 | (len & 0xf));
		pl[1] = (uint8_t)(len >> 4);
		aml_bytes(a, pl, 2);
	}
	aml_bytes(a, body->b, body->n);
}

static size_t build_dsdt_aml(uint8_t *out)
{
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x04, 0x0a, 0x05, 0x00, 0x00, 0x00 };
	static const uint8_t hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01 }; /* EISAID PNP0501 */
	static const uint8_t uid[] = { 0x08, '_', 'U', 'I', 'D', 0x00 };
	static const uint8_t crs_res[] = {
		0x0a, 13,                                             /* buffer size */
		0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,       /* IO: 0x3f8, 8 ports */
		0x22, 0x10, 0x00,                                     /* IRQNoFlags: 4 */
		0x79, 0x00,                                           /* end tag */
	};
	static const uint8_t name_crs[] = { 0x08, '_', 'C', 'R', 'S' };
	static const uint8_t buffer_op[] = { 0x11 }, device_op[] = { 0x5b, 0x82 }, scope_op[] = { 0x10 };
	struct aml crs = { .n = 0 }, crsbuf = { .n = 0 }, dev = { .n = 0 }, devp = { .n = 0 }, scope = { .n = 0 },
		   all = { .n = 0 };

	aml_bytes(&crsbuf, crs_res, sizeof(crs_res));
	aml_bytes(&crs, name_crs, sizeof(name_crs));
	aml_pkg(&crs, buffer_op, 1, &crsbuf);
	aml_bytes(&dev, "COM1", 4);
	aml_bytes(&dev, hid, sizeof(hid));
	aml_bytes(&dev, uid, sizeof(uid));
	aml_bytes(&dev, crs.b, crs.n);
	aml_pkg(&devp, device_op, 2, &dev);
	aml_bytes(&scope, "\\_SB_", 5);
	aml_bytes(&scope, devp.b, devp.n);
	aml_bytes(&all, s5, sizeof(s5));
	aml_pkg(&all, scope_op, 1, &scope);
	memcpy(out, all.b, all.n);
	return all.n;
}

uint64_t pv__pc_acpi_build(struct pv_vm *vm)
{
	uint8_t *ram = vm->ram;
	uint8_t *rsdp = ram + RSDP_ADDR, *xsdt = ram + XSDT_ADDR, *fadt = ram + FADT_ADDR;
	uint8_t *madt = ram + MADT_ADDR, *dsdt = ram + DSDT_ADDR, *e;
	size_t aml;
	uint32_t mlen;

	memset(ram + PV_LX_ACPI_ADDR, 0, 0x100000 - PV_LX_ACPI_ADDR);

	aml = build_dsdt_aml(dsdt + HDR);
	header(dsdt, "DSDT", (uint32_t)(HDR + aml), 2);
	finish(dsdt);

	header(fadt, "FACP", 276, 6);
	put32(fadt + 40, (uint32_t)DSDT_ADDR);
	put16(fadt + 46, 9);                         /* SCI_INT (never raised) */
	put16(fadt + 109, 0x0024);                   /* IAPC_BOOT_ARCH: no VGA, no CMOS RTC, no 8042 */
	if (vm->pc_legacy_pic) {
		uint8_t *facs = ram + FACS_ADDR;

		memcpy(facs, "FACS", 4);
		put32(facs + 4, 64);
		facs[32] = 2;                        /* version */
		put32(fadt + 36, (uint32_t)FACS_ADDR); /* FIRMWARE_CTRL */
		put64(fadt + 132, FACS_ADDR);        /* X_FIRMWARE_CTRL */
		put32(fadt + 56, PV_PC_PM1_EVT);     /* PM1a_EVT_BLK */
		put32(fadt + 64, PV_PC_PM1_CNT);     /* PM1a_CNT_BLK */
		fadt[88] = 4;                        /* PM1_EVT_LEN */
		fadt[89] = 2;                        /* PM1_CNT_LEN */
		put16(fadt + 96, 101);               /* P_LVL2_LAT: no C2 */
		put16(fadt + 98, 1001);              /* P_LVL3_LAT: no C3 */
		gas_io(fadt + 148, PV_PC_PM1_EVT, 32); /* X_PM1a_EVT_BLK */
		gas_io(fadt + 172, PV_PC_PM1_CNT, 16); /* X_PM1a_CNT_BLK */
		/* RESET_REG_SUP, PWR_BUTTON and SLP_BUTTON (none as fixed features), WBINVD */
		put32(fadt + 112, 1u << 10 | 1u << 5 | 1u << 4 | 1u << 0);
	} else {
		put32(fadt + 112, 1u << 20 | 1u << 10); /* HW_REDUCED_ACPI, RESET_REG_SUP */
	}
	gas_io8(fadt + 116, PV_PC_ACPI_PORT + 2);    /* RESET_REG */
	fadt[128] = 1;                               /* RESET_VALUE */
	put64(fadt + 140, DSDT_ADDR);                /* X_DSDT */
	gas_io8(fadt + 244, PV_PC_ACPI_PORT);        /* SLEEP_CONTROL_REG */
	gas_io8(fadt + 256, PV_PC_ACPI_PORT + 1);    /* SLEEP_STATUS_REG */
	memcpy(fadt + 268, "libpv\0\0\0", 8);        /* hypervisor vendor identity */
	finish(fadt);

	mlen = HDR + 8 + 8 * vm->nr_vcpus + 12 + 6 + 10 * 15;
	header(madt, "APIC", mlen, 5);
	put32(madt + 36, 0xfee00000u);               /* local APIC address */
	put32(madt + 40, vm->pc_legacy_pic ? 1 : 0); /* PCAT_COMPAT: 8259s present */
	e = madt + HDR + 8;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++, e += 8) {
		e[0] = 0; /* processor local APIC */
		e[1] = 8;
		e[2] = (uint8_t)i; /* ACPI processor UID */
		e[3] = (uint8_t)i; /* APIC id = vCPU id, as KVM sets it */
		put32(e + 4, 1);   /* enabled */
	}
	e[0] = 1; /* I/O APIC */
	e[1] = 12;
	e[2] = 0;
	put32(e + 4, 0xfec00000u);
	put32(e + 8, 0); /* GSI base */
	e += 12;
	e[0] = 4; /* local APIC NMI: every processor, LINT1 */
	e[1] = 6;
	e[2] = 0xff;
	put16(e + 3, 0);
	e[5] = 1;
	e += 6;
	for (unsigned int irq = 1; irq < 16; irq++, e += 10) {
		/* Without a legacy PIC (hardware-reduced) Linux maps no ISA IRQ
		 * unless told: each one to its own GSI, edge, active high. */
		e[0] = 2;
		e[1] = 10;
		e[2] = 0; /* ISA */
		e[3] = (uint8_t)irq;
		put32(e + 4, irq);
		put16(e + 8, 0x5);
	}
	finish(madt);

	header(xsdt, "XSDT", HDR + 16, 1);
	put64(xsdt + HDR, FADT_ADDR);
	put64(xsdt + HDR + 8, MADT_ADDR);
	finish(xsdt);

	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "LIBPV ", 6);
	rsdp[15] = 2;               /* ACPI 2.0+ */
	put32(rsdp + 20, 36);       /* length */
	put64(rsdp + 24, XSDT_ADDR);
	rsdp[8] = checksum(rsdp, 20);
	rsdp[32] = checksum(rsdp, 36);
	return RSDP_ADDR;
}
