/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PV_HC_CONSOLE_WRITE: copy the guest's bytes out, then hand them to the sink. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "hypercalls.h"

static void write_stdout(const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* a closed stdout loses console output, not the VM */
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
		write_stdout(buf, len);
	return len;
}
