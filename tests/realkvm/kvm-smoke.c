/* kvm-smoke: checks that the KVM behind /dev/kvm counts exits exactly and
 * checks segments as hardware does. realkvm.sh runs it to prove the test bed.
 *   exits:      a real-mode guest writes a port N times, then halts: N KVM_EXIT_IO, then KVM_EXIT_HLT.
 *   ioeventfd:  the same with the port bound to an ioeventfd: one exit (HLT), eventfd count N.
 *   shutdown:   the guest enters protected mode and loads SS with a code-segment selector. Hardware
 *               raises #GP; with no IDT that triple-faults (KVM_EXIT_SHUTDOWN). (kvm_pvm passes
 *               this one too: the SS descriptor it accepted came in another way.)
 * Prints one line per check; exits 0 when all pass, 1 otherwise. */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define N_OUTS 100
#define PORT 0x10

struct vm {
	int fd, vcpu;
	struct kvm_run *run;
	uint8_t *mem;  /* 64 KiB of guest RAM at guest-physical 0 */
};

static int kvm;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* A VM with one vCPU in real mode at 0:0x1000, where (code, len) is copied. */
static void vm_new(struct vm *v, const uint8_t *code, size_t len)
{
	v->fd = ioctl(kvm, KVM_CREATE_VM, 0);
	if (v->fd < 0)
		die("KVM_CREATE_VM");
	v->mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (v->mem == MAP_FAILED)
		die("mmap");
	memcpy(v->mem + 0x1000, code, len);
	struct kvm_userspace_memory_region r = {
		.slot = 0, .memory_size = 0x10000, .userspace_addr = (uintptr_t)v->mem,
	};
	if (ioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	v->vcpu = ioctl(v->fd, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0)
		die("KVM_CREATE_VCPU");
	int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	v->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	if (v->run == MAP_FAILED)
		die("mmap kvm_run");
	struct kvm_sregs s;
	if (ioctl(v->vcpu, KVM_GET_SREGS, &s) < 0)
		die("KVM_GET_SREGS");
	s.cs.base = 0;
	s.cs.selector = 0;
	if (ioctl(v->vcpu, KVM_SET_SREGS, &s) < 0)
		die("KVM_SET_SREGS");
	struct kvm_regs g = { .rip = 0x1000, .rflags = 2 };
	if (ioctl(v->vcpu, KVM_SET_REGS, &g) < 0)
		die("KVM_SET_REGS");
}

/* Runs the vCPU to its next exit; returns the exit reason. */
static unsigned vm_run(struct vm *v)
{
	if (ioctl(v->vcpu, KVM_RUN, 0) < 0)
		die("KVM_RUN");
	return v->run->exit_reason;
}

static int is_our_out(const struct kvm_run *run)
{
	return run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
	       run->io.port == PORT && run->io.size == 1 && run->io.count == 1;
}

static int report(const char *check, int ok, const char *detail)
{
	printf("%s %s: %s\n", ok ? "ok  " : "FAIL", check, detail);
	return ok;
}

/* mov cx, N; mov dx, PORT; 1: out dx, al; dec cx; jnz 1b; hlt */
static const uint8_t outs_code[] = { 0xb9, N_OUTS, 0x00, 0xba, PORT, 0x00, 0xee, 0x49, 0x75, 0xfc, 0xf4 };

static int check_exits(void)
{
	struct vm v;
	char msg[128];
	unsigned outs = 0, reason;

	vm_new(&v, outs_code, sizeof outs_code);
	while ((reason = vm_run(&v)) == KVM_EXIT_IO && is_our_out(v.run))
		outs++;
	snprintf(msg, sizeof msg, "%u port exits then exit reason %u (want %d then %d)", outs, reason,
		 N_OUTS, KVM_EXIT_HLT);
	return report("exits", outs == N_OUTS && reason == KVM_EXIT_HLT, msg);
}

static int check_ioeventfd(void)
{
	struct vm v;
	char msg[128];
	uint64_t count = 0;

	vm_new(&v, outs_code, sizeof outs_code);
	int efd = eventfd(0, EFD_NONBLOCK);
	struct kvm_ioeventfd io = { .addr = PORT, .len = 1, .fd = efd, .flags = KVM_IOEVENTFD_FLAG_PIO };
	if (efd < 0 || ioctl(v.fd, KVM_IOEVENTFD, &io) < 0)
		die("KVM_IOEVENTFD");
	unsigned reason = vm_run(&v);
	if (read(efd, &count, sizeof count) != sizeof count)
		count = 0;
	snprintf(msg, sizeof msg, "first exit reason %u, eventfd count %llu (want %d, %d)", reason,
		 (unsigned long long)count, KVM_EXIT_HLT, N_OUTS);
	return report("ioeventfd", reason == KVM_EXIT_HLT && count == N_OUTS, msg);
}

static int check_shutdown(void)
{
	/* cli; lgdt [0x1100]; mov eax, cr0; or al, 1; mov cr0, eax; jmp 0x08:0x1013;
	 * mov ax, 0x08; mov ss, ax (#GP: SS must be a writable data segment); out PORT, al; hlt */
	static const uint8_t code[] = { 0xfa, 0x0f, 0x01, 0x16, 0x00, 0x11, 0x0f, 0x20, 0xc0,
					0x0c, 0x01, 0x0f, 0x22, 0xc0, 0xea, 0x13, 0x10, 0x08,
					0x00, 0xb8, 0x08, 0x00, 0x8e, 0xd0, 0xe6, PORT, 0xf4 };
	/* GDTR at 0x1100 (limit 15, base 0x1110); GDT: null, 16-bit code base 0 limit 64 KiB */
	static const uint8_t gdtr[] = { 0x0f, 0x00, 0x10, 0x11, 0x00, 0x00 };
	static const uint8_t gdt[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0x9a, 0, 0 };
	struct vm v;
	char msg[128];

	vm_new(&v, code, sizeof code);
	memcpy(v.mem + 0x1100, gdtr, sizeof gdtr);
	memcpy(v.mem + 0x1110, gdt, sizeof gdt);
	unsigned reason = vm_run(&v);
	snprintf(msg, sizeof msg, "exit reason %u%s (want %d, triple fault)", reason,
		 is_our_out(v.run) ? ": SS code-segment load was accepted" : "", KVM_EXIT_SHUTDOWN);
	return report("shutdown", reason == KVM_EXIT_SHUTDOWN, msg);
}

int main(void)
{
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	int ok = check_exits();
	ok &= check_ioeventfd();
	ok &= check_shutdown();
	return ok ? 0 : 1;
}
