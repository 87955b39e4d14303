/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PV_HC_CONSOLE_WRITE: copy the guest's bytes out, then hand them to the sink. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "hypercalls.h"

/*
 * A stdout nobody reads (a full pipe) must not hold a vCPU past
 * pv_vm_stop: wait for room in slices of 100 ms, looking at the VM between
 * them, and write at most PIPE_BUF bytes once there is room, which a pipe
 * takes without blocking.  Output is lost when the VM stops or stdout is
 * closed; the VM is not.
 */
static void write_stdout(struct pv_vm *vm, const char *buf, size_t len)
{
	while (len && !pv__stopping(vm)) {
		struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };
		ssize_t n;
		int r = poll(&p, 1, 100);

		if (r < 0 && errno != EINTR)
			return;
		if (r <= 0)
			continue;
		if (p.revents & (POLLERR | POLLNVAL))
			return;
		n = write(STDOUT_FILENO, buf, len < PIPE_BUF ? len : PIPE_BUF);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

uint64_t pv_hc_console_write(struct pv_vcpu *v, const uint64_t a[4])
{
	struct pv_vm *vm = v->vm;
	char buf[PV_CONSOLE_MAX];
	uint64_t len = a[1];
	const void *src;

	if (len > PV_CONSOLE_MAX)
		return (uint64_t)(int64_t)PV_E2BIG;
	src = pv_gpa_ptr(vm, a[0], len);
	if (!src)
		return (uint64_t)(int64_t)PV_EFAULT;
	/* Copy first: another vCPU may change the buffer while we write it. */
	memcpy(buf, src, len);
	if (vm->console)
		vm->console(vm->console_opaque, buf, len);
	else
		write_stdout(vm, buf, len);
	return len;
}
