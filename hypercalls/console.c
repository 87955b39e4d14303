/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PV_HC_CONSOLE_WRITE: copy the guest's bytes out, then hand them to the sink. */
#include <string.h>

#include "hypercalls.h"

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
	pv__console_out(vm, buf, len);
	return len;
}
