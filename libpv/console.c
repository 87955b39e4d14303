/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest console output: the VM's sink, or stdout without holding up a stop. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <unistd.h>

#include "internal.h"

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

void pv__console_out(struct pv_vm *vm, const char *buf, size_t len)
{
	if (vm->console)
		vm->console(vm->console_opaque, buf, len);
	else
		write_stdout(vm, buf, len);
}
