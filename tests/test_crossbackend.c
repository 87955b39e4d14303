/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The same guest gives the same console output and the same exit counts by
 * reason on both backends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* Domain ids count VMs in the process, so they differ between the runs. */
static void mask_domid(char *s)
{
	for (char *p = strstr(s, "domain "); p; p = strstr(p + 1, "domain "))
		for (char *d = p + 7; *d >= '0' && *d <= '9'; d++)
			*d = 'N';
}

static int setup_devices(struct pv_vm *vm, void *opaque);

static void same_on_both(const char *elf, const char *cmdline, bool devices)
{
	static struct run a, b; /* large: keep them off the stack */
	char mmio_cmd[32];
	struct run_opts o = { .cmdline = cmdline };

	REQUIRE_BACKEND(PV_BACKEND_EMU);
	REQUIRE_BACKEND(PV_BACKEND_KVM);
	if (devices) {
		snprintf(mmio_cmd, sizeof(mmio_cmd), "0x%llx", (unsigned long long)(32ull << 20));
		o.cmdline = mmio_cmd;
		o.setup = setup_devices;
	}
	run_guest(PV_BACKEND_EMU, elf, &o, &a);
	run_guest(PV_BACKEND_KVM, elf, &o, &b);
	mask_domid(a.out);
	mask_domid(b.out);
	cr_assert_eq(a.r, b.r, "%s: result emu %d (%s), kvm %d (%s)", elf, a.r, a.err, b.r, b.err);
	cr_assert_eq(a.status, b.status);
	cr_assert_str_eq(a.out, b.out, "%s: console differs", elf);
	cr_assert_str_eq(a.err, b.err, "%s: error message differs", elf);
	for (int r = 0; r < PV_EXIT__COUNT; r++)
		cr_assert_eq(a.st.exits[r], b.st.exits[r], "%s: %s exits: emu %llu, kvm %llu", elf,
			     pv_exit_reason_name(r), (unsigned long long)a.st.exits[r],
			     (unsigned long long)b.st.exits[r]);
	for (int i = 0; i < PV_HC_NR; i++)
		cr_assert_eq(a.st.hypercalls[i], b.st.hypercalls[i], "%s: hypercall %s", elf, pv_hypercall_name(i));
	cr_assert_eq(a.st.nr_devs, b.st.nr_devs);
	for (unsigned int i = 0; i < a.st.nr_devs; i++)
		cr_assert_eq(a.st.devs[i].exits, b.st.devs[i].exits, "%s: device %s", elf, a.st.devs[i].name);
	cr_assert_eq(a.st.pio_unclaimed, b.st.pio_unclaimed);
}

/* A latch: a write stores a value, a read returns it plus one. */
static int latch(void *opaque, struct pv_vcpu *v, uint64_t addr, void *data, unsigned int size, bool is_write)
{
	uint32_t *val = opaque;

	(void)v, (void)addr;
	if (is_write)
		memcpy(val, data, size < 4 ? size : 4);
	else {
		uint32_t x = *val + 1;

		memcpy(data, &x, size < 4 ? size : 4);
	}
	return 0;
}

static uint32_t pio_latch, mmio_latch;

static int setup_devices(struct pv_vm *vm, void *opaque)
{
	int r;

	(void)opaque;
	r = pv_vm_add_pio(vm, "latch", 0x600, 4, latch, &pio_latch);
	return r ? r : pv_vm_add_mmio(vm, "mmio-latch", 32ull << 20, 4096, latch, &mmio_latch);
}

Test(crossbackend, hello) { same_on_both(GUEST("hello"), NULL, false); }
Test(crossbackend, exitcode) { same_on_both(GUEST("exitcode"), "42", false); }
Test(crossbackend, compute) { same_on_both(GUEST("compute"), "5000", false); }
Test(crossbackend, fault_ud2) { same_on_both(GUEST("fault"), "ud2", false); }
Test(crossbackend, fault_null) { same_on_both(GUEST("fault"), "null", false); }
Test(crossbackend, fault_outside) { same_on_both(GUEST("fault"), "outside", false); }
Test(crossbackend, fault_outside_write) { same_on_both(GUEST("fault"), "outside-write", false); }
Test(crossbackend, fault_efer_lme) { same_on_both(GUEST("fault"), "efer-lme", false); }
Test(crossbackend, fault_fxrstor_mxcsr)
{
	if (getenv("PV_TEST_KVM_ON_TCG"))
		cr_skip_test("KVM runs on QEMU TCG here, whose FXRSTOR takes any MXCSR (hardware raises #GP)");
	same_on_both(GUEST("fault"), "fxrstor-mxcsr", false);
}
Test(crossbackend, sysinsn_ok) { same_on_both(GUEST("fault"), "sysinsn-ok", false); }
Test(crossbackend, fault_div0) { same_on_both(GUEST("fault"), "div0", false); }
Test(crossbackend, fault_syscall) { same_on_both(GUEST("fault"), "syscall", false); }
Test(crossbackend, hostile) { same_on_both(TEST_GUEST("hostile"), NULL, false); }
Test(crossbackend, devices) { same_on_both(TEST_GUEST("devices"), NULL, true); }
