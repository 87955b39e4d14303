/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sandbox: a seccomp-bpf allowlist per thread role, built with
 * libseccomp and loaded by each thread of a VM on itself before it touches
 * guest state (no TSYNC: every thread gets exactly its role's list).
 *
 *   vCPU     runs the guest and, in its exits, the hypercalls and the
 *            device handlers (ATA disk I/O, doorbells, console);
 *   device   a device's queue threads (PV block: io_uring_enter, and the
 *            few io_uring registrations the data path makes);
 *   control  one per running VM: where a device creates what a vCPU may
 *            not (threads, eventfds, io_uring rings), on request
 *            (pv_vm_device_call).  A thread it creates inherits its list
 *            and then adds its own, so the two lists intersect.
 *
 * Arguments are filtered where the kernel lets a filter see them: ioctl
 * request numbers (the KVM calls of a running vCPU, TCGETS for stdio),
 * mmap/mprotect without PROT_EXEC, futex operations (wait and wake only),
 * clone only for threads (clone3, whose arguments a filter cannot read,
 * answers ENOSYS so that glibc falls back to clone), socket only AF_UNIX,
 * io_uring_register opcodes, tgkill only with libpv's kick signal to our
 * own process.  open and openat fail with EACCES without a trap: glibc's
 * malloc reads /sys/devices/system/cpu/online when a thread first needs an
 * arena, and copes when it cannot.  Anything else traps into a SIGSYS
 * handler that names the call and the role on stderr, then either ends the
 * process with status 159 (128 + SIGSYS; PV_SANDBOX_KILL) or makes the
 * call fail with EPERM and goes on (PV_SANDBOX_LOG, which says so once per
 * call).  A call made while SIGSYS is blocked (inside pthread_create, for
 * one) ends the process at once, without the message: the kernel forces
 * the signal's default action then.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <ucontext.h>
#include <unistd.h>

#include "internal.h"

#define V (1u << PV_ROLE_VCPU)
#define D (1u << PV_ROLE_DEVICE)
#define C (1u << PV_ROLE_CONTROL)
#define ALL (V | D | C)

static const char *const role_names[] = {
	[PV_ROLE_VCPU] = "vCPU",
	[PV_ROLE_DEVICE] = "device",
	[PV_ROLE_CONTROL] = "control",
};

/* What the calling thread is, for the SIGSYS handler (touched before the
 * filter is loaded, so the handler never allocates it).  role is
 * PV_ROLE_* + 1; 0 for a thread that inherited a list without loading its
 * own, which gets the mode of the last list loaded in the process. */
static __thread struct {
	int role;
	unsigned int domid;
	enum pv_sandbox mode;
} self __attribute__((tls_model("initial-exec")));
static enum pv_sandbox last_mode = PV_SANDBOX_KILL;

/* ---- the SIGSYS handler: async-signal-safe code only ---- */

#define NAMES_MAX 512
static char *names[NAMES_MAX];          /* syscall names, filled before any filter */
static uint8_t logged[NAMES_MAX];       /* PV_SANDBOX_LOG: said once per call */

struct msg {
	char buf[256];
	size_t n;
};

static void put(struct msg *m, const char *s)
{
	while (*s && m->n < sizeof(m->buf) - 1)
		m->buf[m->n++] = *s++;
}

static void put_u(struct msg *m, unsigned long v)
{
	char d[24];
	int i = 0;

	do
		d[i++] = (char)('0' + v % 10);
	while ((v /= 10) && i < 23);
	while (i-- > 0 && m->n < sizeof(m->buf) - 1)
		m->buf[m->n++] = d[i];
}

static void on_sigsys(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	int nr = si->si_syscall, saved = errno;
	struct msg m = { .n = 0 };
	bool log = (self.role ? self.mode : __atomic_load_n(&last_mode, __ATOMIC_RELAXED)) == PV_SANDBOX_LOG;

	(void)sig;
	if (log && nr >= 0 && nr < NAMES_MAX && __atomic_exchange_n(&logged[nr], 1, __ATOMIC_RELAXED)) {
		uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
		return;
	}
	put(&m, "libpv: sandbox: forbidden system call ");
	put(&m, nr >= 0 && nr < NAMES_MAX && names[nr] ? names[nr] : "?");
	put(&m, " (");
	put_u(&m, (unsigned long)nr);
	put(&m, ") from a ");
	if (self.role > 0 && self.role <= PV_ROLE__COUNT) {
		put(&m, role_names[self.role - 1]);
		put(&m, " thread of domain ");
		put_u(&m, self.domid);
	} else {
		put(&m, "thread started by a confined thread");
	}
	put(&m, log ? ": it fails with EPERM (log mode; said once per call)\n" : ": ending the process\n");
	(void)!write(STDERR_FILENO, m.buf, m.n);
	if (!log)
		syscall(SYS_exit_group, 128 + SIGSYS);
	uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
	errno = saved;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_err;

static void sandbox_init(void)
{
	struct sigaction sa;

	for (int nr = 0; nr < NAMES_MAX; nr++)
		names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		once_err = -errno;
}

/* ---- the lists ---- */

/* A syscall a role may make with any arguments. */
struct plain {
	int nr;
	unsigned int roles;
};

static const struct plain plain[] = {
	{ SCMP_SYS(read), ALL },
	{ SCMP_SYS(write), ALL },
	{ SCMP_SYS(readv), ALL },
	{ SCMP_SYS(writev), ALL },
	{ SCMP_SYS(pread64), V | D },        /* the ATA disk, zeroing partial blocks */
	{ SCMP_SYS(pwrite64), V | D },
	{ SCMP_SYS(fdatasync), V | D },
	{ SCMP_SYS(fsync), V | D },
	{ SCMP_SYS(close), C },               /* a CONNECT undone */
	{ SCMP_SYS(clock_gettime), ALL },
	{ SCMP_SYS(gettimeofday), ALL },
	{ SCMP_SYS(clock_nanosleep), ALL },
	{ SCMP_SYS(nanosleep), ALL },
	{ SCMP_SYS(sched_yield), ALL },       /* PV_HC_YIELD */
	{ SCMP_SYS(getpid), ALL },
	{ SCMP_SYS(gettid), ALL },
	{ SCMP_SYS(exit), ALL },
	{ SCMP_SYS(exit_group), ALL },
	{ SCMP_SYS(rt_sigreturn), ALL },
	{ SCMP_SYS(rt_sigprocmask), ALL },
	{ SCMP_SYS(restart_syscall), ALL },
	{ SCMP_SYS(sigaltstack), ALL },       /* thread exit under ASan */
	{ SCMP_SYS(madvise), ALL },           /* malloc, thread exit */
	{ SCMP_SYS(munmap), ALL },
	{ SCMP_SYS(mremap), ALL },
	{ SCMP_SYS(brk), ALL },
	{ SCMP_SYS(membarrier), ALL },        /* the rings' heavy barrier */
	{ SCMP_SYS(poll), ALL },
	{ SCMP_SYS(ppoll), ALL },
	{ SCMP_SYS(fstat), ALL },             /* stdio's first use */
	{ SCMP_SYS(newfstatat), ALL },
	{ SCMP_SYS(sched_getaffinity), ALL }, /* malloc's CPU count, when /sys is shut */
	{ SCMP_SYS(io_uring_enter), D },
	{ SCMP_SYS(io_uring_setup), C },
	{ SCMP_SYS(eventfd2), C },
	{ SCMP_SYS(set_robust_list), C },     /* a new thread starts under its creator's list */
	{ SCMP_SYS(rseq), C },
};

/* ioctl request numbers, per role. */
static const struct {
	unsigned long req;
	unsigned int roles;
} ioctls[] = {
	{ KVM_RUN, V },
	{ KVM_GET_REGS, V },
	{ KVM_SET_REGS, V },
	{ KVM_GET_SREGS, V },
	{ KVM_SET_SREGS, V },
	{ KVM_IOEVENTFD, C },       /* a monitor port's doorbell (pv_evtchn_alloc_monitor, _close) */
	{ TUNSETOFFLOAD, C },       /* PV net on a TAP: the offloads a CONNECT accepted */
	{ TUNSETQUEUE, C },         /* and the TAP queues it left unconnected */
	{ TCGETS, ALL },            /* stdio asks whether stdout is a terminal */
};

/* io_uring_register opcodes, per role. */
static const struct {
	unsigned int op;
	unsigned int roles;
} uring_regs[] = {
	{ IORING_REGISTER_BUFFERS_UPDATE, D | C }, /* a chunk of guest RAM, on first use */
	{ IORING_REGISTER_BUFFERS2, C },
	{ IORING_REGISTER_RESTRICTIONS, C },
	{ IORING_REGISTER_ENABLE_RINGS, C },
};

static const int futex_ops[] = {
	FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET,
	FUTEX_WAIT | FUTEX_PRIVATE_FLAG, FUTEX_WAKE | FUTEX_PRIVATE_FLAG,
	FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG,
	FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME,
	FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME,
};

/* Argument checks (spelt out: libseccomp's SCMP_A* macros leave fields unset). */
static struct scmp_arg_cmp eq(unsigned int arg, scmp_datum_t v)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = SCMP_CMP_EQ, .datum_a = v, .datum_b = 0 };
}

static struct scmp_arg_cmp masked(unsigned int arg, scmp_datum_t mask, scmp_datum_t v)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = mask, .datum_b = v };
}

static int add(scmp_filter_ctx ctx, int nr, unsigned int n, const struct scmp_arg_cmp *cmp)
{
	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);
}

static int add1(scmp_filter_ctx ctx, int nr, struct scmp_arg_cmp cmp)
{
	return add(ctx, nr, 1, &cmp);
}

static int build(scmp_filter_ctx ctx, enum pv__role role)
{
	/* The control list holds the device list: a thread the control thread
	 * starts runs under both (filters stack), so it may use only what is in
	 * each. */
	unsigned int bit = role == PV_ROLE_CONTROL ? C | D : 1u << role;
	int r = 0;

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]) && r == 0; i++)
		if (plain[i].roles & bit)
			r = add(ctx, plain[i].nr, 0, NULL);
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]) && r == 0; i++)
		if (ioctls[i].roles & bit)
			r = add1(ctx, SCMP_SYS(ioctl), eq(1, ioctls[i].req));
	for (size_t i = 0; i < sizeof(uring_regs) / sizeof(uring_regs[0]) && r == 0; i++)
		if (uring_regs[i].roles & bit)
			r = add1(ctx, SCMP_SYS(io_uring_register), eq(1, uring_regs[i].op));
	for (size_t i = 0; i < sizeof(futex_ops) / sizeof(futex_ops[0]) && r == 0; i++)
		r = add1(ctx, SCMP_SYS(futex), masked(1, 0xffffffffu, (unsigned int)futex_ops[i]));
	/* Memory: never executable. */
	if (r == 0)
		r = add1(ctx, SCMP_SYS(mmap), masked(2, PROT_EXEC, 0));
	if (r == 0)
		r = add1(ctx, SCMP_SYS(mprotect), masked(2, PROT_EXEC, 0));
	/* The kick that makes KVM_RUN return, to our own threads only. */
	if (r == 0 && (bit & (V | C))) {
		struct scmp_arg_cmp k[2] = { eq(0, (scmp_datum_t)getpid()), eq(2, (scmp_datum_t)PV_KICK_SIGNAL) };

		r = add(ctx, SCMP_SYS(tgkill), 2, k);
	}
	if (r == 0 && (bit & C)) {
		/* Threads only: CLONE_THREAD set; no new processes. */
		r = add1(ctx, SCMP_SYS(clone), masked(0, CLONE_THREAD, CLONE_THREAD));
		if (r == 0)
			r = add1(ctx, SCMP_SYS(socket), eq(0, AF_UNIX));
		if (r == 0) /* reading a limit (pthread_create's default stack), never setting one */
			r = add1(ctx, SCMP_SYS(prlimit64), eq(2, 0));
	}
	if (r == 0 && (bit & (C | D))) {
		/* A thread started here loads its own, narrower list: adding
		 * a filter only ever takes rights away. */
		r = add1(ctx, SCMP_SYS(prctl), eq(0, PR_SET_NO_NEW_PRIVS));
		if (r == 0)
			r = add1(ctx, SCMP_SYS(prctl), eq(0, PR_GET_NO_NEW_PRIVS));
		if (r == 0)
			r = add1(ctx, SCMP_SYS(seccomp), eq(0, SECCOMP_SET_MODE_FILTER));
	}
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
	return r;
}

/* ---- applying it ---- */

enum pv_sandbox pv__sandbox_mode(enum pv_sandbox asked, int *err)
{
	const char *e = getenv("PV_SANDBOX");

	*err = 0;
	if (!e || !*e)
		return asked;
	if (!strcmp(e, "off") || !strcmp(e, "0"))
		return PV_SANDBOX_OFF;
	if (!strcmp(e, "kill") || !strcmp(e, "1") || !strcmp(e, "on"))
		return PV_SANDBOX_KILL;
	if (!strcmp(e, "log"))
		return PV_SANDBOX_LOG;
	*err = -EINVAL;
	return asked;
}

int pv__sandbox_enter(struct pv_vm *vm, enum pv__role role)
{
	scmp_filter_ctx ctx;
	int r;

	if (vm->sandbox == PV_SANDBOX_OFF)
		return 0;
	pthread_once(&once, sandbox_init);
	if (once_err)
		return once_err;
	self.role = (int)role + 1;
	self.domid = vm->domid;
	self.mode = vm->sandbox;
	__atomic_store_n(&last_mode, vm->sandbox, __ATOMIC_RELAXED);
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return -ENOMEM;
	r = build(ctx, role);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r < 0 ? r : r > 0 ? -r : 0;
}

int pv_vm_sandbox_thread(struct pv_vm *vm)
{
	return vm ? pv__sandbox_enter(vm, PV_ROLE_DEVICE) : -EINVAL;
}

enum pv_sandbox pv_vm_sandbox(const struct pv_vm *vm)
{
	return vm ? vm->sandbox : PV_SANDBOX_OFF;
}

/* ---- the control thread ---- */

struct pv_control {
	struct pv_vm *vm;
	pthread_t thread;
	pthread_mutex_t calls;   /* one call at a time */
	pthread_mutex_t lock;    /* guards the rest */
	pthread_cond_t cond;
	int (*fn)(void *arg);
	void *arg;
	int result;
	bool pending, quit, ready;
	int err;                 /* the filter could not be loaded */
};

static void *control_thread(void *arg)
{
	struct pv_control *c = arg;
	int err = pv__sandbox_enter(c->vm, PV_ROLE_CONTROL);

	pthread_mutex_lock(&c->lock);
	c->err = err;
	c->ready = true;
	pthread_cond_broadcast(&c->cond);
	while (!err) {
		while (!c->pending && !c->quit)
			pthread_cond_wait(&c->cond, &c->lock);
		if (!c->pending)
			break;
		pthread_mutex_unlock(&c->lock);
		c->result = c->fn(c->arg);
		pthread_mutex_lock(&c->lock);
		c->pending = false;
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int pv__control_start(struct pv_vm *vm)
{
	struct pv_control *c;
	int r;

	if (vm->sandbox == PV_SANDBOX_OFF)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->vm = vm;
	pthread_mutex_init(&c->calls, NULL);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	r = -pthread_create(&c->thread, NULL, control_thread, c);
	if (r == 0) {
		pthread_mutex_lock(&c->lock);
		while (!c->ready)
			pthread_cond_wait(&c->cond, &c->lock);
		r = c->err;
		pthread_mutex_unlock(&c->lock);
		if (r < 0)
			pthread_join(c->thread, NULL);
	}
	if (r < 0) {
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
		pthread_mutex_destroy(&c->calls);
		free(c);
		return r;
	}
	vm->control = c;
	return 0;
}

void pv__control_stop(struct pv_vm *vm)
{
	struct pv_control *c = vm->control;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->quit = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	vm->control = NULL;
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->calls);
	free(c);
}

int pv_vm_device_call(struct pv_vm *vm, int (*fn)(void *arg), void *arg)
{
	struct pv_control *c;
	int r;

	if (!vm || !fn)
		return -EINVAL;
	c = vm->control;
	if (!c || pthread_equal(pthread_self(), c->thread))
		return fn(arg);
	pthread_mutex_lock(&c->calls);
	pthread_mutex_lock(&c->lock);
	c->fn = fn;
	c->arg = arg;
	c->pending = true;
	pthread_cond_broadcast(&c->cond);
	while (c->pending)
		pthread_cond_wait(&c->cond, &c->lock);
	r = c->result;
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&c->calls);
	return r;
}
