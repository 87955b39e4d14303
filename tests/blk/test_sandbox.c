/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sandbox (libpv/sandbox.c): a forbidden system call from each thread
 * role is stopped, with EPERM in log mode and by ending the process (status
 * 159, a message naming the call and the role) in kill mode; the same call
 * works without the sandbox; io_uring rings of the PV block queues refuse
 * an operation outside their restriction.  The calls are made where each
 * role runs: a port handler on the vCPU thread, a function given to
 * pv_vm_device_call on the control thread, and a thread that function
 * starts and confines with pv_vm_sandbox_thread (a device thread).
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pv/device.h>
#include <pv/emu.h>

#include "../common.h"
#include "uring.h"

#define PORT 0x600
#define MMIO_BASE 0x40000000ull

enum probe { P_VCPU, P_CONTROL, P_DEVICE };

/* What a probe saw: errno of a forbidden call (0 if it worked), and of an
 * allowed one. */
struct probe_out {
	enum probe where;
	struct pv_vm *vm;
	int forbidden, allowed;
	bool ran;
};

/* The forbidden call of every role: an Internet socket. */
static int try_socket(int family)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static void *device_thread(void *arg)
{
	struct probe_out *p = arg;

	if (pv_vm_sandbox_thread(p->vm) < 0)
		return NULL;
	p->forbidden = try_socket(AF_INET);
	p->allowed = getpid() > 0 ? 0 : EINVAL;
	p->ran = true;
	return NULL;
}

static int on_control(void *arg)
{
	struct probe_out *p = arg;
	pthread_t t;
	int r;

	if (p->where == P_DEVICE) {
		r = pthread_create(&t, NULL, device_thread, p); /* the control thread may */
		if (r == 0)
			pthread_join(t, NULL);
		return -r;
	}
	p->forbidden = try_socket(AF_INET);
	p->allowed = try_socket(AF_UNIX); /* the one family the control list allows */
	p->ran = true;
	return 0;
}

static int port_fn(void *opaque, struct pv_vcpu *v, uint64_t addr, void *data, unsigned int size, bool is_write)
{
	struct probe_out *p = opaque;

	(void)v, (void)addr, (void)size;
	if (!is_write) {
		memset(data, 0, size);
		return 0;
	}
	if (p->where == P_VCPU) {
		p->forbidden = try_socket(AF_INET);
		p->allowed = getpid() > 0 ? 0 : EINVAL;
		p->ran = true;
	} else {
		pv_vm_device_call(p->vm, on_control, p);
	}
	return 0;
}

static int mmio_fn(void *opaque, struct pv_vcpu *v, uint64_t addr, void *data, unsigned int size, bool is_write)
{
	(void)opaque, (void)v, (void)addr, (void)data, (void)size, (void)is_write;
	return 0;
}

static void quiet(void *opaque, const char *buf, size_t len)
{
	(void)opaque, (void)buf, (void)len;
}

/* Run the devices guest with the probe at `where` under `mode`; returns pv_vm_run's result. */
static int run_probe(enum pv_backend b, enum pv_sandbox mode, struct probe_out *p)
{
	struct pv_vm_config cfg = { .ram_size = 16u << 20, .backend = b, .cmdline = "0x40000000",
				    .console = quiet, .sandbox = mode };
	struct pv_vm *vm;
	int st = 0, r;

	pv_emu_register();
	unsetenv("PV_SANDBOX"); /* the mode under test is the configuration's */
	r = pv_vm_create(&cfg, &vm);
	if (r < 0)
		return r;
	p->vm = vm;
	r = pv_vm_load_elf(vm, TEST_GUEST("devices"));
	if (r == 0)
		r = pv_vm_add_pio(vm, "probe", PORT, 4, port_fn, p);
	if (r == 0)
		r = pv_vm_add_mmio(vm, "probe-mmio", MMIO_BASE, 4096, mmio_fn, p);
	if (r == 0)
		r = pv_vm_run(vm, &st);
	pv_vm_destroy(vm);
	return r;
}

static void log_mode(enum pv_backend b, enum probe where)
{
	struct probe_out p = { .where = where }, open_ = { .where = where };

	cr_assert_eq(run_probe(b, PV_SANDBOX_LOG, &p), 0);
	cr_assert(p.ran, "the probe ran");
	cr_assert_eq(p.forbidden, EPERM, "socket(AF_INET) gave errno %d, not EPERM", p.forbidden);
	cr_assert_eq(p.allowed, 0, "an allowed call failed with errno %d", p.allowed);
	/* Without the sandbox the same call works: the refusal above is the filter's. */
	cr_assert_eq(run_probe(b, PV_SANDBOX_OFF, &open_), 0);
	cr_assert(open_.ran);
	cr_assert_eq(open_.forbidden, 0, "socket(AF_INET) without the sandbox: errno %d", open_.forbidden);
}

/* Kill mode in a child: the process ends with 159 and names call and role. */
static void kill_mode(enum pv_backend b, enum probe where, const char *role)
{
	int fds[2], status;
	char msg[4096] = "";
	size_t n = 0;
	ssize_t got;
	pid_t pid;

	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct probe_out p = { .where = where };

		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		run_probe(b, PV_SANDBOX_KILL, &p);
		_exit(p.ran ? 1 : 2); /* the probe must not get this far */
	}
	close(fds[1]);
	while (n < sizeof(msg) - 1 && (got = read(fds[0], msg + n, sizeof(msg) - 1 - n)) > 0)
		n += (size_t)got;
	msg[n] = 0;
	close(fds[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGSYS, "child status 0x%x, stderr: %s", status,
		  msg);
	cr_assert(strstr(msg, "forbidden system call socket (41)"), "stderr: %s", msg);
	cr_assert(strstr(msg, role), "stderr names the %s: %s", role, msg);
}

BACKEND_TEST(sandbox, vcpu_forbidden_call_fails_with_eperm_in_log_mode, .timeout = 60) { log_mode(b, P_VCPU); }
BACKEND_TEST(sandbox, control_forbidden_call_fails_with_eperm_in_log_mode, .timeout = 60)
{
	log_mode(b, P_CONTROL);
}
BACKEND_TEST(sandbox, device_forbidden_call_fails_with_eperm_in_log_mode, .timeout = 60)
{
	log_mode(b, P_DEVICE);
}
BACKEND_TEST(sandbox, vcpu_forbidden_call_ends_the_process_in_kill_mode, .timeout = 60)
{
	kill_mode(b, P_VCPU, "vCPU thread of domain");
}
BACKEND_TEST(sandbox, control_forbidden_call_ends_the_process_in_kill_mode, .timeout = 60)
{
	kill_mode(b, P_CONTROL, "control thread of domain");
}
BACKEND_TEST(sandbox, device_forbidden_call_ends_the_process_in_kill_mode, .timeout = 60)
{
	kill_mode(b, P_DEVICE, "device thread of domain");
}

/* PV_SANDBOX overrides the configuration; a bad value is refused. */
Test(sandbox, environment_overrides_the_configuration)
{
	struct pv_vm_config cfg = { .ram_size = 16u << 20, .backend = PV_BACKEND_EMU };
	struct pv_vm *vm;
	char why[200];

	if (!backend_usable(PV_BACKEND_EMU, why, sizeof(why)))
		cr_skip_test("emu backend unavailable (the check needs only VM creation): %s", why);
	setenv("PV_SANDBOX", "log", 1);
	cr_assert_eq(pv_vm_create(&cfg, &vm), 0);
	cr_assert_eq(pv_vm_sandbox(vm), PV_SANDBOX_LOG);
	pv_vm_destroy(vm);
	setenv("PV_SANDBOX", "off", 1);
	cfg.sandbox = PV_SANDBOX_KILL;
	cr_assert_eq(pv_vm_create(&cfg, &vm), 0);
	cr_assert_eq(pv_vm_sandbox(vm), PV_SANDBOX_OFF);
	pv_vm_destroy(vm);
	setenv("PV_SANDBOX", "sometimes", 1);
	cr_assert_eq(pv_vm_create(&cfg, &vm), -EINVAL);
	cr_assert(strstr(pv_last_error(), "PV_SANDBOX"), "%s", pv_last_error());
	unsetenv("PV_SANDBOX");
	cfg.sandbox = (enum pv_sandbox)7;
	cr_assert_eq(pv_vm_create(&cfg, &vm), -EINVAL);
	cr_assert_eq(pv_vm_sandbox(NULL), PV_SANDBOX_OFF);
}

/* A queue's ring runs what the data path uses and refuses anything else,
 * from any thread: seccomp cannot see inside io_uring. */
Test(sandbox, io_uring_refuses_an_operation_outside_its_restriction)
{
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	char buf[8] = "";
	struct iovec iov = { buf, sizeof(buf) };
	int fds[2], r;

	r = pvblk__uring_init(&ring, 8);
	if (r == -ENOSYS || r == -EPERM)
		cr_skip_test("io_uring unavailable here: %s", strerror(-r));
	cr_assert_eq(r, 0, "%s", strerror(-r));
	cr_assert_eq(pvblk__uring_enable(&ring), 0);
	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(write(fds[1], "payload", 8), 8);
	/* Allowed: a vectored read. */
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_readv(sqe, fds[0], &iov, 1, 0);
	cr_assert_eq(io_uring_submit_and_wait(&ring, 1), 1);
	cr_assert_eq(io_uring_wait_cqe(&ring, &cqe), 0);
	cr_assert_eq(cqe->res, 8, "readv: %d", cqe->res);
	cr_assert_str_eq(buf, "payload");
	io_uring_cqe_seen(&ring, cqe);
	/* Refused: opening a file, and a write of the pipe with an SQE flag. */
	for (int i = 0; i < 2; i++) {
		sqe = io_uring_get_sqe(&ring);
		if (i == 0) {
			io_uring_prep_openat(sqe, AT_FDCWD, "/etc/passwd", O_RDONLY, 0);
		} else {
			io_uring_prep_writev(sqe, fds[1], &iov, 1, 0);
			io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
		}
		r = io_uring_submit(&ring);
		cr_assert(r >= 0 || r == -EACCES, "submit: %d", r);
		cr_assert_eq(io_uring_wait_cqe(&ring, &cqe), 0);
		cr_assert_eq(cqe->res, -EACCES, "a refused operation (%d) completed with %d", i, cqe->res);
		io_uring_cqe_seen(&ring, cqe);
	}
	/* Registrations other than buffer updates are refused too. */
	cr_assert_eq(io_uring_register_files(&ring, fds, 2), -EACCES);
	io_uring_queue_exit(&ring);
	close(fds[0]);
	close(fds[1]);
}
