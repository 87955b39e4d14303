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
	if (!granter)
		return;
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
	if (!granter || !ops)
		return;
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
	int r = buf || !len ? pv_grant_map(granter, user, ref, offset, len, false, &p) : -EINVAL;

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
	int r = buf || !len ? pv_grant_map(granter, user, ref, offset, len, true, &p) : -EINVAL;

	if (r == 0) {
		memcpy(p, buf, len);
		pv_grant_unmap(granter, ref);
	}
	return r;
}
