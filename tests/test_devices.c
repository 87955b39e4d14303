/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Device models get port I/O and MMIO, and each access is one exit. */
#include <stdio.h>
#include <string.h>

#include "common.h"

struct latch {
	uint32_t val;
	unsigned int reads, writes;
	uint64_t last_addr;
};

static int latch(void *opaque, struct pv_vcpu *v, uint64_t addr, void *data, unsigned int size, bool is_write)
{
	struct latch *l = opaque;
	uint32_t x;

	(void)v;
	l->last_addr = addr;
	if (is_write) {
		l->writes++;
		memcpy(&l->val, data, size < 4 ? size : 4);
	} else {
		l->reads++;
		x = l->val + 1;
		memcpy(data, &x, size < 4 ? size : 4);
	}
	return 0;
}

static struct latch pio, mmio;

static int setup(struct pv_vm *vm, void *opaque)
{
	int r;

	(void)opaque;
	memset(&pio, 0, sizeof(pio));
	memset(&mmio, 0, sizeof(mmio));
	r = pv_vm_add_pio(vm, "latch", 0x600, 4, latch, &pio);
	return r ? r : pv_vm_add_mmio(vm, "mmio-latch", 32ull << 20, 4096, latch, &mmio);
}

BACKEND_TEST(devices, pio_and_mmio_on)
{
	static struct run r;
	struct run_opts o = { .cmdline = "0x2000000", .setup = setup };

	run_guest(b, TEST_GUEST("devices"), &o, &r);
	cr_assert_eq(r.r, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "pio=42\nmmio=100\nunclaimed=ff\n");
	cr_assert_eq(pio.writes, 1);
	cr_assert_eq(pio.reads, 1);
	cr_assert_eq(mmio.writes, 1);
	cr_assert_eq(mmio.reads, 1);
	cr_assert_eq(mmio.last_addr, 32ull << 20);
	/* out + in + unclaimed inb; MMIO write + read; 3 lines + exit. */
	cr_assert_eq(r.st.exits[PV_EXIT_PIO], 3);
	cr_assert_eq(r.st.exits[PV_EXIT_MMIO], 2);
	cr_assert_eq(r.st.exits[PV_EXIT_HYPERCALL], 4);
	cr_assert_eq(r.st.nr_devs, 2);
	cr_assert_str_eq(r.st.devs[0].name, "latch");
	cr_assert_eq(r.st.devs[0].exits, 2);
	cr_assert_eq(r.st.devs[1].exits, 2);
	cr_assert_eq(r.st.pio_unclaimed, 1);
}

static int nop(void *o, struct pv_vcpu *v, uint64_t a, void *d, unsigned int s, bool w)
{
	(void)o, (void)v, (void)a, (void)d, (void)s, (void)w;
	return 0;
}

Test(devices, registration_is_checked)
{
	struct pv_vm_config cfg = { .ram_size = 16u << 20, .backend = PV_BACKEND_EMU };
	struct pv_vm *vm;

	REQUIRE_BACKEND(PV_BACKEND_EMU);
	cr_assert_eq(pv_vm_create(&cfg, &vm), 0);
	cr_assert_eq(pv_vm_add_pio(vm, "a", 0x600, 8, nop, NULL), 0);
	cr_assert_eq(pv_vm_add_pio(vm, "b", 0x604, 8, nop, NULL), -EEXIST);
	cr_assert_eq(pv_vm_add_pio(vm, "hc", PV_HC_PORT, 1, nop, NULL), -EEXIST);
	cr_assert_eq(pv_vm_add_pio(vm, "wrap", 0xfff0, 0x20, nop, NULL), -EINVAL);
	cr_assert_eq(pv_vm_add_pio(vm, "nofn", 0x700, 1, NULL, NULL), -EINVAL);
	cr_assert_eq(pv_vm_add_mmio(vm, "in-ram", 8u << 20, 4096, nop, NULL), -EINVAL);
	cr_assert_eq(pv_vm_add_mmio(vm, "unaligned", (32u << 20) + 1, 4096, nop, NULL), -EINVAL);
	cr_assert_eq(pv_vm_add_mmio(vm, "too-high", PV_MMIO_LIMIT, 4096, nop, NULL), -EINVAL);
	cr_assert_eq(pv_vm_add_mmio(vm, "m", 32u << 20, 8192, nop, NULL), 0);
	cr_assert_eq(pv_vm_add_mmio(vm, "m2", (32u << 20) + 4096, 4096, nop, NULL), -EEXIST);
	cr_assert_eq(pv_vm_add_pio(vm, "same-range-as-mmio-is-fine", 0x700, 1, nop, NULL), 0);
	pv_vm_destroy(vm);
}
