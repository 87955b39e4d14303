/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The KVM execution backend. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "../hypercalls/hypercalls.h"

/* Signal used to kick a vCPU thread out of KVM_RUN. */

static int kvm_fd = -1;
static int kvm_run_size;
static bool kvm_sync_regs;
static char kvm_why[160];
static pthread_once_t kvm_once = PTHREAD_ONCE_INIT;

struct kvm_vm_be {
	int fd;
};

struct kvm_stat_desc {
	char name[48];
	uint32_t offset;
};

struct kvm_vcpu_be {
	int fd;
	struct kvm_run *run;
	int stats_fd;
	uint64_t stats_data_off;
	unsigned int nr_stats;
	struct kvm_stat_desc stats[PV_STATS_MAX_KVM];
};

static void kick_handler(int sig)
{
	(void)sig;
}

static void kvm_open_once(void)
{
	struct sigaction sa;
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(kvm_why, sizeof(kvm_why), "/dev/kvm: %s", strerror(errno));
		return;
	}
	if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		snprintf(kvm_why, sizeof(kvm_why), "/dev/kvm: unsupported KVM API version");
		close(fd);
		return;
	}
	kvm_run_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm_run_size <= 0 || ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0) {
		snprintf(kvm_why, sizeof(kvm_why), "/dev/kvm: lacks user memory regions");
		close(fd);
		return;
	}
	kvm_sync_regs = (ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) & KVM_SYNC_X86_REGS) != 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler; /* no SA_RESTART: KVM_RUN returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(PV_KICK_SIGNAL, &sa, NULL);
	kvm_fd = fd;
	if (access("/sys/module/kvm_pvm", F_OK) == 0)
		pv__note("KVM is software-nested here (kvm_pvm): guest kernel-mode code is emulated by the host "
			 "kernel, so it runs far slower than on hardware KVM; exit counts are exact");
}

static int kvm_probe(char *why, size_t n)
{
	pthread_once(&kvm_once, kvm_open_once);
	if (kvm_fd < 0) {
		snprintf(why, n, "%s", kvm_why);
		return -ENODEV;
	}
	return 0;
}

static int kvm_vm_init(struct pv_vm *vm)
{
	struct kvm_vm_be *be = calloc(1, sizeof(*be));
	struct kvm_userspace_memory_region mr = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = vm->ram_size,
		.userspace_addr = (uint64_t)(uintptr_t)vm->ram,
	};

	if (!be)
		return -ENOMEM;
	vm->be = be;
	be->fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (be->fd < 0) {
		int r = -errno;

		pv__set_error(vm, "KVM_CREATE_VM: %s", strerror(errno));
		return r;
	}
	/* Intel needs a TSS area for real mode before vCPUs exist; harmless elsewhere. */
	ioctl(be->fd, KVM_SET_TSS_ADDR, 0xfffbd000ul);
	if (ioctl(be->fd, KVM_SET_USER_MEMORY_REGION, &mr) < 0) {
		int r = -errno;

		pv__set_error(vm, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
		return r;
	}
	return vm->platform == PV_PLATFORM_PC ? pv__kvm_pc_vm_init(vm, be->fd) : 0;
}

static void kvm_vm_fini(struct pv_vm *vm)
{
	struct kvm_vm_be *be = vm->be;

	if (!be)
		return;
	if (be->fd >= 0)
		close(be->fd);
	free(be);
	vm->be = NULL;
}

/* Remember where the cumulative exit counters of the binary stats are. */
static void stats_init(struct kvm_vcpu_be *be)
{
	struct kvm_stats_header h;
	size_t dsz;
	char *d;

	be->stats_fd = ioctl(be->fd, KVM_GET_STATS_FD, NULL);
	if (be->stats_fd < 0)
		return;
	if (pread(be->stats_fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || h.num_desc > 4096)
		goto none;
	dsz = sizeof(struct kvm_stats_desc) + h.name_size;
	d = malloc(dsz * h.num_desc);
	if (!d)
		goto none;
	if (pread(be->stats_fd, d, dsz * h.num_desc, h.desc_offset) == (ssize_t)(dsz * h.num_desc)) {
		for (uint32_t i = 0; i < h.num_desc && be->nr_stats < PV_STATS_MAX_KVM; i++) {
			struct kvm_stats_desc *x = (void *)(d + i * dsz);

			if ((x->flags & KVM_STATS_TYPE_MASK) != KVM_STATS_TYPE_CUMULATIVE || x->size != 1 ||
			    (!strstr(x->name, "exits") && strcmp(x->name, "insn_emulation") && strcmp(x->name, "hypercalls")))
				continue;
			snprintf(be->stats[be->nr_stats].name, sizeof(be->stats[0].name), "%s", x->name);
			be->stats[be->nr_stats++].offset = x->offset;
		}
	}
	be->stats_data_off = h.data_offset;
	free(d);
	return;
none:
	close(be->stats_fd);
	be->stats_fd = -1;
}

static void kvm_vcpu_stats(struct pv_vcpu *v, struct pv_stats *st)
{
	struct kvm_vcpu_be *be = v->be;

	for (unsigned int i = 0; be && be->stats_fd >= 0 && i < be->nr_stats; i++) {
		uint64_t val = 0;
		unsigned int k;

		if (pread(be->stats_fd, &val, 8, (off_t)(be->stats_data_off + be->stats[i].offset)) != 8)
			continue;
		for (k = 0; k < st->nr_kvm && strcmp(st->kvm[k].name, be->stats[i].name); k++)
			;
		if (k == st->nr_kvm) {
			if (st->nr_kvm == PV_STATS_MAX_KVM)
				continue;
			snprintf(st->kvm[k].name, sizeof(st->kvm[k].name), "%s", be->stats[i].name);
			st->kvm[k].value = 0;
			st->nr_kvm++;
		}
		st->kvm[k].value += val;
	}
}

static int set_cpuid(int fd)
{
	int n = 128;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
	int r;

	if (!c)
		return -ENOMEM;
	c->nent = n;
	r = ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c);
	if (r == 0)
		r = ioctl(fd, KVM_SET_CPUID2, c);
	r = r < 0 ? -errno : 0;
	free(c);
	return r;
}

static int kvm_vcpu_init(struct pv_vcpu *v)
{
	struct kvm_vm_be *vbe = v->vm->be;
	struct kvm_vcpu_be *be = calloc(1, sizeof(*be));
	int r;

	if (!be)
		return -ENOMEM;
	be->stats_fd = -1;
	v->be = be;
	be->fd = ioctl(vbe->fd, KVM_CREATE_VCPU, v->id);
	if (be->fd < 0) {
		r = -errno;
		pv__set_error(v->vm, "KVM_CREATE_VCPU: %s", strerror(errno));
		return r;
	}
	be->run = mmap(NULL, (size_t)kvm_run_size, PROT_READ | PROT_WRITE, MAP_SHARED, be->fd, 0);
	if (be->run == MAP_FAILED) {
		be->run = NULL;
		r = -errno;
		pv__set_error(v->vm, "mmap of kvm_run: %s", strerror(errno));
		return r;
	}
	if (v->vm->platform == PV_PLATFORM_PC) {
		r = pv__kvm_pc_vcpu_init(v, kvm_fd, be->fd);
		if (r < 0)
			return r;
		stats_init(be);
		return 0;
	}
	r = set_cpuid(be->fd);
	if (r < 0) {
		pv__set_error(v->vm, "KVM_SET_CPUID2: %s", strerror(-r));
		return r;
	}
	stats_init(be);
	return 0;
}

static void kvm_vcpu_fini(struct pv_vcpu *v)
{
	struct kvm_vcpu_be *be = v->be;

	if (!be)
		return;
	if (be->run)
		munmap(be->run, (size_t)kvm_run_size);
	if (be->stats_fd >= 0)
		close(be->stats_fd);
	if (be->fd >= 0)
		close(be->fd);
	free(be);
	v->be = NULL;
}

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type, .present = 1,
		.dpl = 0, .db = code ? 0 : 1, .s = 1, .l = code ? 1 : 0, .g = 1,
	};
}

static int set_boot_regs(struct pv_vcpu *v)
{
	struct kvm_vcpu_be *be = v->be;
	struct kvm_sregs sr;
	struct kvm_regs r = { 0 };

	if (ioctl(be->fd, KVM_GET_SREGS, &sr) < 0)
		return -errno;
	seg(&sr.cs, PV_SEL_CODE, 11, true);
	seg(&sr.ds, PV_SEL_DATA, 3, false);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	sr.tr = (struct kvm_segment){ .base = PV_TSS_ADDR, .limit = 103, .selector = PV_SEL_TSS, .type = 11, .present = 1 };
	sr.gdt.base = PV_GDT_ADDR;
	sr.gdt.limit = PV_GDT_LIMIT;
	sr.idt.base = PV_IDT_ADDR;
	sr.idt.limit = 256 * 16 - 1;
	sr.cr0 = PV_CR0;
	sr.cr3 = PV_PT_ADDR;
	sr.cr4 = PV_CR4;
	sr.efer = PV_EFER;
	if (ioctl(be->fd, KVM_SET_SREGS, &sr) < 0)
		return -errno;
	r.rip = v->boot.rip;
	r.rsp = v->boot.rsp;
	r.rdi = v->boot.rdi;
	r.rsi = v->boot.rsi;
	r.rflags = 2;
	if (ioctl(be->fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}

/* Registers at the current exit: the sync area, or one ioctl without it. */
static struct kvm_regs *exit_regs(struct kvm_vcpu_be *be, struct kvm_regs *tmp)
{
	if (kvm_sync_regs)
		return &be->run->s.regs.regs;
	if (ioctl(be->fd, KVM_GET_REGS, tmp) < 0)
		memset(tmp, 0, sizeof(*tmp));
	return tmp;
}

static void handle_io(struct pv_vcpu *v, struct kvm_vcpu_be *be)
{
	struct kvm_run *run = be->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	if (run->io.port == PV_HC_PORT && out && run->io.size == 4 && run->io.count == 1) {
		struct kvm_regs tmp, *r = exit_regs(be, &tmp);
		uint64_t a[4] = { r->rdi, r->rsi, r->r8, r->r9 };

		uint32_t nr;

		memcpy(&nr, data, 4); /* the number is the value written */
		r->rax = pv__hypercall(v, nr, a);
		if (kvm_sync_regs)
			run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
		else
			ioctl(be->fd, KVM_SET_REGS, r);
		return;
	}
	if (run->io.port == PV_DOORBELL_PORT && out && run->io.size == 4 && run->io.count == 1) {
		uint32_t val;

		memcpy(&val, data, 4); /* a doorbell KVM did not match: not a monitor port */
		pv__doorbell(v, val);
		return;
	}
	if (run->io.port == PV_NULL_PORT && out) {
		pv__count(v, PV_EXIT_PIO);
		PV_INC(v->cnt.pio_unclaimed);
		return;
	}
	/* A string instruction exits once for up to a page of data. */
	pv__pio(v, run->io.port, data, run->io.size, run->io.count, out);
}

static void kvm_vcpu_run(struct pv_vcpu *v)
{
	struct kvm_vcpu_be *be = v->be;
	struct kvm_run *run = be->run;
	struct kvm_regs tmp;
	int r = v->vm->platform == PV_PLATFORM_PC ? pv__kvm_pc_boot_regs(v, be->fd) : set_boot_regs(v);

	if (r < 0) {
		pv__vm_end(v->vm, -EIO, 0, "vCPU %u: cannot set registers: %s", v->id, strerror(-r));
		return;
	}
	if (kvm_sync_regs)
		run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	while (!pv__stopping(v->vm)) {
		if (ioctl(be->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				run->immediate_exit = 0;
				pv__count(v, PV_EXIT_OTHER);
				continue;
			}
			pv__fault(v, "KVM_RUN failed: %s (rip 0x%llx)", strerror(errno),
				  (unsigned long long)exit_regs(be, &tmp)->rip);
			break;
		}
		run->kvm_dirty_regs = 0;
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			handle_io(v, be);
			break;
		case KVM_EXIT_MMIO:
			pv__mmio(v, run->mmio.phys_addr, run->mmio.data, run->mmio.len, run->mmio.is_write,
				 exit_regs(be, &tmp)->rip);
			break;
		case KVM_EXIT_HLT:
			pv__hlt(v, exit_regs(be, &tmp)->rip);
			break;
		case KVM_EXIT_SHUTDOWN:
			if (v->vm->platform == PV_PLATFORM_PC) {
				pv__pc_reset(v->vm, "triple fault");
				break;
			}
			pv__fault(v, "triple fault (rip 0x%llx)", (unsigned long long)exit_regs(be, &tmp)->rip);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			pv__fault(v, "KVM internal error, suberror %u (rip 0x%llx)", run->internal.suberror,
				  (unsigned long long)exit_regs(be, &tmp)->rip);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			pv__fault(v, "VM entry failed, hardware reason 0x%llx",
				  (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			break;
		case KVM_EXIT_INTR:
			pv__count(v, PV_EXIT_OTHER);
			break;
		default:
			pv__fault(v, "unexpected KVM exit reason %u (rip 0x%llx)", run->exit_reason,
				  (unsigned long long)exit_regs(be, &tmp)->rip);
			break;
		}
	}
}

static void kvm_vcpu_kick(struct pv_vcpu *v)
{
	struct kvm_vcpu_be *be = v->be;

	if (!be || !be->run)
		return;
	/* The thread sets in_thread before it reads vm->stopping, and we set
	 * stopping before we read in_thread: either it sees stopping, or we
	 * signal it.  immediate_exit covers a signal that lands just before
	 * KVM_RUN. */
	__atomic_store_n(&be->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (atomic_load(&v->in_thread))
		pthread_kill(v->thread, PV_KICK_SIGNAL);
}

static int ioeventfd(struct pv_vm *vm, unsigned int port, int efd, uint32_t flags)
{
	struct kvm_vm_be *be = vm->be;
	struct kvm_ioeventfd io = {
		.datamatch = port,
		.addr = PV_DOORBELL_PORT,
		.len = 4,
		.fd = efd,
		.flags = KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH | flags,
	};

	return ioctl(be->fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

static int kvm_doorbell_add(struct pv_vm *vm, unsigned int port, int efd)
{
	return ioeventfd(vm, port, efd, 0);
}

static void kvm_doorbell_del(struct pv_vm *vm, unsigned int port, int efd)
{
	ioeventfd(vm, port, efd, KVM_IOEVENTFD_FLAG_DEASSIGN);
}

static uint32_t kvm_tsc_khz(struct pv_vm *vm)
{
	struct kvm_vcpu_be *be = vm->vcpus[0].be;
	int khz = be ? ioctl(be->fd, KVM_GET_TSC_KHZ) : -1;

	return khz > 0 ? (uint32_t)khz : 0;
}

static int kvm_irq_line(struct pv_vm *vm, unsigned int gsi, int level)
{
	struct kvm_vm_be *be = vm->be;

	return pv__kvm_pc_irq_line(be->fd, gsi, level);
}

static int kvm_irqfd_add(struct pv_vm *vm, unsigned int gsi, int efd)
{
	struct kvm_vm_be *be = vm->be;
	struct kvm_irqfd f = { .fd = (uint32_t)efd, .gsi = gsi };

	return ioctl(be->fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

const struct pv_backend_ops pv__kvm_ops = {
	.name = "kvm",
	.flags = PV_BACKEND_PC,
	.probe = kvm_probe,
	.vm_init = kvm_vm_init,
	.vm_fini = kvm_vm_fini,
	.vcpu_init = kvm_vcpu_init,
	.vcpu_fini = kvm_vcpu_fini,
	.vcpu_run = kvm_vcpu_run,
	.vcpu_kick = kvm_vcpu_kick,
	.vcpu_kvm_stats = kvm_vcpu_stats,
	.doorbell_add = kvm_doorbell_add,
	.doorbell_del = kvm_doorbell_del,
	.tsc_khz = kvm_tsc_khz,
	.irq_line = kvm_irq_line,
	.irqfd_add = kvm_irqfd_add,
};
