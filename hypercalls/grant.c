/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Grant-table hypercalls: PV_HC_GRANT_SETUP, PV_HC_GRANT_END and
 * PV_HC_GRANT_COPY (see <pv/abi/core.h>).  The table's state and the host
 * side of grants (pv_grant_map...) are libpv/grant.c.
 */
#include <stdlib.h>
#include <string.h>

#include "hypercalls.h"

uint64_t pv_hc_grant_setup(struct pv_vcpu *v, const uint64_t a[4])
{
	struct pv_vm *vm = v->vm;
	uint64_t table = a[0], nr = a[1];
	uint32_t *pins;
	long r = 0;

	if (nr == 0 || nr > PV_GRANT_MAX)
		return PV_EINVAL;
	if (!pv__guest_shared(vm, table, nr * sizeof(struct pv_grant_entry), &r))
		return (uint64_t)r;
	pins = calloc(nr, sizeof(*pins));
	if (!pins)
		return PV_ENOMEM;
	pthread_mutex_lock(&vm->gt.lock);
	for (uint32_t i = 0; i < vm->gt.nr; i++)
		if (vm->gt.pins[i])
			r = PV_EBUSY; /* a backend still uses the old table */
	if (r == 0) {
		free(vm->gt.pins);
		vm->gt.pins = pins;
		vm->gt.table = table;
		vm->gt.nr = (uint32_t)nr;
		pins = NULL;
	}
	pthread_mutex_unlock(&vm->gt.lock);
	free(pins);
	return r;
}

uint64_t pv_hc_detach(struct pv_vcpu *v, const uint64_t a[4])
{
	struct pv_vm *vm = v->vm;
	long r = 0;

	(void)a;
	pthread_mutex_lock(&vm->gt.lock);
	for (uint32_t i = 0; i < vm->gt.nr; i++)
		if (vm->gt.pins[i])
			r = PV_EBUSY; /* a backend still uses a grant */
	if (r == 0) {
		free(vm->gt.pins);
		vm->gt.pins = NULL;
		vm->gt.table = 0;
		vm->gt.nr = 0;
	}
	pthread_mutex_unlock(&vm->gt.lock);
	if (r == 0)
		pv__evtchn_detach(vm);
	return (uint64_t)r;
}

uint64_t pv_hc_grant_end(struct pv_vcpu *v, const uint64_t a[4])
{
	struct pv_vm *vm = v->vm;
	uint64_t ref = a[0];
	long r = 0;

	pthread_mutex_lock(&vm->gt.lock);
	if (!vm->gt.table || ref >= vm->gt.nr) {
		r = PV_EINVAL;
	} else if (vm->gt.pins[ref]) {
		r = PV_EBUSY;
	} else {
		/* Clear the flags ourselves: from now on no map succeeds. */
		uint16_t zero = 0;

		memcpy(vm->ram + vm->gt.table + ref * sizeof(struct pv_grant_entry), &zero, sizeof(zero));
	}
	pthread_mutex_unlock(&vm->gt.lock);
	return r;
}

/* Resolve one end of a copy for domain `self` into a host pointer. */
static long copy_end(struct pv_vm *self, const struct pv_grant_copy_ptr *p, uint32_t len, bool write,
		     struct pv_vm **granter, void **ptr)
{
	*granter = NULL;
	if (p->domid == PV_DOMID_SELF) {
		if (p->addr + p->offset < p->addr)
			return PV_EFAULT;
		*ptr = pv_gpa_ptr(self, p->addr + p->offset, len);
		return *ptr ? 0 : PV_EFAULT;
	}
	if (p->addr > UINT32_MAX)
		return PV_EINVAL;
	*granter = p->domid == self->domid ? self : pv__domain(p->domid);
	if (!*granter)
		return PV_ENOENT;
	return pv_grant_map(*granter, self->domid, (uint32_t)p->addr, p->offset, len, write, ptr);
}

uint64_t pv_hc_grant_copy(struct pv_vcpu *v, const uint64_t a[4])
{
	struct pv_vm *vm = v->vm;
	uint64_t ops = a[0], count = a[1];
	struct pv_grant_copy_op *guest, op;
	long first = 0;

	if (count > 256 || ops % 8)
		return PV_EINVAL;
	guest = pv_gpa_ptr(vm, ops, count * sizeof(op));
	if (!guest)
		return PV_EFAULT;
	pv__domains_rdlock();
	for (uint64_t i = 0; i < count; i++) {
		struct pv_vm *gs = NULL, *gd = NULL;
		void *src = NULL, *dst = NULL;
		long r;

		memcpy(&op, &guest[i], sizeof(op)); /* copy, then validate the copy */
		if (op.len == 0 || op.len > 65536)
			r = PV_EINVAL;
		else if ((r = copy_end(vm, &op.src, op.len, false, &gs, &src)) == 0 &&
			 (r = copy_end(vm, &op.dst, op.len, true, &gd, &dst)) == 0)
			memmove(dst, src, op.len);
		if (gs && src)
			pv_grant_unmap(gs, (uint32_t)op.src.addr);
		if (gd && dst)
			pv_grant_unmap(gd, (uint32_t)op.dst.addr);
		guest[i].status = (int)r;
		if (r && !first)
			first = r;
	}
	pv__domains_unlock();
	return first;
}
