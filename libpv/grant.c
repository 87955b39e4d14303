/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Grant tables.  The guest's table lives in its RAM and is read, entry by
 * entry, only under the table lock when a backend starts using a grant; the
 * pin counts that make revocation safe live here, out of the guest's reach,
 * so nothing depends on guest atomics (which the emulation backend lacks).
 * Our monitor maps all guest RAM already: a grant check is a table lookup,
 * with no page-table change and no TLB shootdown.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define PAGE 4096ull

void pv__grants_init(struct pv_vm *vm)
{
	pthread_mutex_init(&vm->gt.lock, NULL);
}

void pv__grants_fini(struct pv_vm *vm)
{
	free(vm->gt.pins);
	pthread_mutex_destroy(&vm->gt.lock);
}

/* Check one access and pin it (caller holds gt.lock). */
static int map_locked(struct pv_vm *vm, unsigned int user, uint32_t ref, uint64_t offset, uint64_t len, bool write,
		      void **ptr)
{
	struct pv_grant_entry e;
	uint64_t pages = vm->ram_size / PAGE, span;

	if (!vm->gt.table || ref >= vm->gt.nr || len == 0)
		return -EINVAL;
	/* Copy the entry out of guest memory, then validate the copy. */
	memcpy(&e, (const void *)(vm->ram + vm->gt.table + (uint64_t)ref * sizeof(e)), sizeof(e));
	__asm__ __volatile__("" ::: "memory");
	if (!(e.flags & PV_GTF_PERMIT_ACCESS) || e.domid != user)
		return -EPERM;
	if (write && (e.flags & PV_GTF_READONLY))
		return -EPERM;
	if (e.npages == 0 || e.frame >= pages || e.npages > pages - e.frame)
		return -EFAULT;
	span = (uint64_t)e.npages * PAGE;
	if (offset > span || len > span - offset)
		return -EFAULT;
	if (vm->gt.pins[ref] == UINT32_MAX)
		return -EOVERFLOW;
	vm->gt.pins[ref]++;
	*ptr = vm->ram + e.frame * PAGE + offset;
	return 0;
}

int pv_grant_map(struct pv_vm *granter, unsigned int user, uint32_t ref, uint64_t offset, uint64_t len, bool write,
		 void **ptr)
{
	int r;

	if (!granter || !ptr)
		return -EINVAL;
	pthread_mutex_lock(&granter->gt.lock);
	r = map_locked(granter, user, ref, offset, len, write, ptr);
	pthread_mutex_unlock(&granter->gt.lock);
	return r;
}

void pv_grant_unmap(struct pv_vm *granter, uint32_t ref)
{
	pthread_mutex_lock(&granter->gt.lock);
	if (ref < granter->gt.nr && granter->gt.pins[ref])
		granter->gt.pins[ref]--;
	pthread_mutex_unlock(&granter->gt.lock);
}

int pv_grant_map_batch(struct pv_vm *granter, unsigned int user, struct pv_grant_op *ops, unsigned int n)
{
	int ok = 0;

	if (!granter || (!ops && n))
		return -EINVAL;
	pthread_mutex_lock(&granter->gt.lock);
	for (unsigned int i = 0; i < n; i++) {
		ops[i].status = map_locked(granter, user, ops[i].ref, ops[i].offset, ops[i].len, ops[i].write, &ops[i].ptr);
		ok += ops[i].status == 0;
	}
	pthread_mutex_unlock(&granter->gt.lock);
	return ok;
}

void pv_grant_unmap_batch(struct pv_vm *granter, const struct pv_grant_op *ops, unsigned int n)
{
	pthread_mutex_lock(&granter->gt.lock);
	for (unsigned int i = 0; i < n; i++)
		if (ops[i].status == 0 && ops[i].ref < granter->gt.nr && granter->gt.pins[ops[i].ref])
			granter->gt.pins[ops[i].ref]--;
	pthread_mutex_unlock(&granter->gt.lock);
}

int pv_grant_copy_from(struct pv_vm *granter, unsigned int user, uint32_t ref, uint64_t offset, void *buf,
		       uint64_t len)
{
	void *p;
	int r = pv_grant_map(granter, user, ref, offset, len, false, &p);

	if (r == 0) {
		memcpy(buf, p, len);
		pv_grant_unmap(granter, ref);
	}
	return r;
}

int pv_grant_copy_to(struct pv_vm *granter, unsigned int user, uint32_t ref, uint64_t offset, const void *buf,
		     uint64_t len)
{
	void *p;
	int r = pv_grant_map(granter, user, ref, offset, len, true, &p);

	if (r == 0) {
		memcpy(p, buf, len);
		pv_grant_unmap(granter, ref);
	}
	return r;
}

/* ---- hypercalls ---- */

long pv__grant_setup(struct pv_vm *vm, uint64_t table, uint64_t nr)
{
	uint32_t *pins;
	long r = 0;

	if (table % PAGE || nr == 0 || nr > PV_GRANT_MAX)
		return PV_EINVAL;
	if (!pv_gpa_ptr(vm, table, nr * sizeof(struct pv_grant_entry)))
		return PV_EFAULT;
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

long pv__grant_end(struct pv_vm *vm, uint64_t ref)
{
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

long pv__grant_copy(struct pv_vm *vm, uint64_t ops, uint64_t count)
{
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
