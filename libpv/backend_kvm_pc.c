/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The KVM backend's PC platform (<pv/linux.h>): in-kernel irqchip and PIT,
 * CPUID with KVM's and libpv's hypervisor leaves, the MSRs and LAPIC LINT
 * pins firmware would set, and vCPU 0's 64-bit boot-protocol entry state.
 * The other vCPUs keep KVM's reset state: the guest starts them with
 * INIT/SIPI through its LAPIC, which KVM handles.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"

#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE    0x2ff
#define APIC_LVT0            0x350
#define APIC_LVT1            0x360
#define APIC_MODE_NMI        0x400
#define APIC_MODE_EXTINT     0x700
#define PC_BOOT_STACK        0x8ff0ull

int pv__kvm_pc_vm_init(struct pv_vm *vm, int vmfd)
{
	struct kvm_pit_config pit = { .flags = 0 };

	if (ioctl(vmfd, KVM_CREATE_IRQCHIP, 0) < 0) {
		int r = -errno;

		pv__set_error(vm, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return r;
	}
	if (ioctl(vmfd, KVM_CREATE_PIT2, &pit) < 0) {
		int r = -errno;

		pv__set_error(vm, "KVM_CREATE_PIT2: %s", strerror(errno));
		return r;
	}
	return 0;
}

int pv__kvm_pc_irq_line(int vmfd, unsigned int gsi, int level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = (uint32_t)level };

	return ioctl(vmfd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

static int pc_cpuid(struct pv_vcpu *v, int kvm_fd, int fd)
{
	const unsigned int max = 256;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + max * sizeof(struct kvm_cpuid_entry2));
	bool deadline = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	unsigned int n = 0;
	int r;

	if (!c)
		return -ENOMEM;
	c->nent = max - 2;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		r = -errno;
		free(c);
		return r;
	}
	for (unsigned int i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if ((e->function & 0xffffff00u) == PV_CPUID_BASE)
			continue; /* ours, below */
		switch (e->function) {
		case 1:
			e->ecx |= 1u << 31; /* hypervisor */
			if (deadline)
				e->ecx |= 1u << 24;
			e->ebx = (e->ebx & 0x00ffffffu) | v->id << 24; /* initial APIC id */
			break;
		case 0xb:
		case 0x1f:
			e->edx = v->id; /* x2APIC id */
			break;
		}
		c->entries[n++] = *e;
	}
	c->entries[n++] = (struct kvm_cpuid_entry2){
		.function = PV_CPUID_BASE, .eax = PV_CPUID_BASE + 1,
		.ebx = PV_CPUID_SIG_EBX, .ecx = PV_CPUID_SIG_ECX, .edx = PV_CPUID_SIG_EDX,
	};
	c->entries[n++] = (struct kvm_cpuid_entry2){
		.function = PV_CPUID_BASE + 1, .eax = PV_ABI_VERSION, .ebx = (uint32_t)(PV_FEATURES0 | PV_F_EVTCHN_IRQ),
	};
	c->nent = n;
	r = ioctl(fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
	free(c);
	return r;
}

static int pc_msrs(int fd)
{
	static const struct kvm_msr_entry e[2] = {
		{ .index = MSR_IA32_MISC_ENABLE, .data = 1 },       /* fast strings */
		{ .index = MSR_MTRR_DEF_TYPE, .data = 0x800 | 6 },  /* MTRRs on, write-back */
	};
	/* struct kvm_msrs ends in a flexible array: header and entries in one buffer */
	union {
		struct kvm_msrs h;
		uint8_t buf[sizeof(struct kvm_msrs) + sizeof(e)];
	} m;
	int r;

	memset(&m, 0, sizeof(m));
	m.h.nmsrs = 2;
	memcpy(m.h.entries, e, sizeof(e));
	r = ioctl(fd, KVM_SET_MSRS, &m);

	return r < 0 ? -errno : r == 2 ? 0 : -EINVAL;
}

static int pc_lapic(int fd)
{
	struct kvm_lapic_state s;
	uint32_t lvt;

	if (ioctl(fd, KVM_GET_LAPIC, &s) < 0)
		return -errno;
	memcpy(&lvt, s.regs + APIC_LVT0, 4);
	lvt = (lvt & ~0x700u) | APIC_MODE_EXTINT;
	memcpy(s.regs + APIC_LVT0, &lvt, 4);
	memcpy(&lvt, s.regs + APIC_LVT1, 4);
	lvt = (lvt & ~0x700u) | APIC_MODE_NMI;
	memcpy(s.regs + APIC_LVT1, &lvt, 4);
	return ioctl(fd, KVM_SET_LAPIC, &s) < 0 ? -errno : 0;
}

int pv__kvm_pc_vcpu_init(struct pv_vcpu *v, int kvm_fd, int fd)
{
	int r = pc_cpuid(v, kvm_fd, fd);

	if (r < 0) {
		pv__set_error(v->vm, "KVM_SET_CPUID2: %s", strerror(-r));
		return r;
	}
	r = pc_msrs(fd);
	if (r < 0) {
		pv__set_error(v->vm, "KVM_SET_MSRS: %s", strerror(-r));
		return r;
	}
	r = pc_lapic(fd);
	if (r < 0)
		pv__set_error(v->vm, "KVM_SET_LAPIC: %s", strerror(-r));
	return r;
}

static void flat(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type, .present = 1,
		.dpl = 0, .db = code ? 0 : 1, .s = 1, .l = code ? 1 : 0, .g = 1,
	};
}

int pv__kvm_pc_boot_regs(struct pv_vcpu *v, int fd)
{
	struct kvm_sregs sr;
	struct kvm_regs r = { 0 };

	if (v->id != 0)
		return 0; /* an AP: reset state until the guest's INIT/SIPI */
	if (ioctl(fd, KVM_GET_SREGS, &sr) < 0)
		return -errno;
	flat(&sr.cs, PV_LX_SEL_CODE, 11, true);
	flat(&sr.ds, PV_LX_SEL_DATA, 3, false);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	sr.tr = (struct kvm_segment){ .base = 0, .limit = 0x67, .selector = PV_LX_SEL_TSS, .type = 11, .present = 1 };
	sr.gdt.base = PV_LX_GDT_ADDR;
	sr.gdt.limit = PV_LX_GDT_LIMIT;
	sr.idt.base = 0;
	sr.idt.limit = 0;
	sr.cr0 = PV_LX_CR0;
	sr.cr3 = PV_LX_PT_ADDR;
	sr.cr4 = PV_LX_CR4;
	sr.efer = PV_EFER;
	if (ioctl(fd, KVM_SET_SREGS, &sr) < 0)
		return -errno;
	r.rip = v->boot.rip;
	r.rsi = v->boot.rsi;
	r.rsp = r.rbp = PC_BOOT_STACK;
	r.rflags = 2;
	return ioctl(fd, KVM_SET_REGS, &r) < 0 ? -errno : 0;
}
