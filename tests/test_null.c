/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every host API function has a defined answer for a NULL handle (the one
 * documented where it is declared) and never crashes; the sanitizer build
 * runs this too, so a member address taken before a NULL check fails here.
 */
#include <limits.h>
#include <string.h>

#include <pv/ata.h>
#include <pv/blk.h>
#include <pv/device.h>

#include "common.h"

static const struct pv_device_ops none_ops = { .name = "none" };

Test(null, vm_handle)
{
	struct pv_stats st;
	uint64_t size = 7;
	int efd = -1, status = 0;
	char buf[64];

	cr_assert_str_eq(pv_vm_error(NULL), "no VM");
	cr_assert_str_eq(pv_vm_backend(NULL), "");
	cr_assert_eq(pv_vm_guest_fences(NULL), false);
	cr_assert_eq(pv_vm_domid(NULL), 0);
	cr_assert_eq(pv_vm_vcpus(NULL), 0);
	cr_assert_null(pv_vm_ram(NULL, &size));
	cr_assert_eq(size, 0);
	cr_assert_null(pv_vm_ram(NULL, NULL));
	cr_assert_null(pv_gpa_ptr(NULL, 0x100000, 16));
	cr_assert_eq(pv_vm_stats(NULL, -1, &st), -EINVAL);
	pv_vm_stats_reset(NULL);
	cr_assert_eq(pv_vm_load_elf(NULL, "x"), -EINVAL);
	cr_assert_eq(pv_vm_load_elf_mem(NULL, buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(pv_vm_run(NULL, &status), -EINVAL);
	pv_vm_stop(NULL);
	pv_vm_destroy(NULL);
	cr_assert_eq(pv_vm_add_pio(NULL, "x", 0x700, 1, (pv_io_fn)1, NULL), -EINVAL);
	cr_assert_eq(pv_vm_add_mmio(NULL, "x", 1ull << 32, 4096, (pv_io_fn)1, NULL), -EINVAL);
	cr_assert_eq(pv_vm_add_device(NULL, &none_ops, buf), -EINVAL);
	cr_assert_eq(pv_vcpu_id(NULL), UINT_MAX);
	cr_assert_eq(pv_evtchn_alloc_monitor(NULL, &efd), -EINVAL);
	cr_assert_eq(pv_evtchn_ack(NULL, 1), -EINVAL);
	cr_assert_eq(pv_evtchn_notify(NULL, 1), -EINVAL);
	cr_assert_eq(pv_evtchn_close(NULL, 1), -EINVAL);
	cr_assert_eq(pv_vm_create(NULL, NULL), -EINVAL);
	cr_assert_eq(pv_stats_json(NULL, buf, sizeof(buf)), -EINVAL);
}

Test(null, grants)
{
	struct pv_grant_op op = { .ref = 0, .len = 8 };
	void *p = NULL;
	char buf[8];

	cr_assert_eq(pv_grant_map(NULL, 0, 0, 0, 8, false, &p), -EINVAL);
	pv_grant_unmap(NULL, 0);
	cr_assert_eq(pv_grant_map_batch(NULL, 0, &op, 1), -EINVAL);
	pv_grant_unmap_batch(NULL, &op, 1);
	cr_assert_eq(pv_grant_copy_from(NULL, 0, 0, 0, buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(pv_grant_copy_to(NULL, 0, 0, 0, buf, sizeof(buf)), -EINVAL);
}

Test(null, devices)
{
	struct pv_blkback_stats bst;
	struct pv_ata_stats ast;
	struct pv_blkback *b = (void *)1;
	struct pv_ata *a = (void *)1;

	memset(&bst, 0xff, sizeof(bst));
	pv_blkback_stats(NULL, &bst);
	cr_assert_eq(bst.requests, 0);
	cr_assert_eq(pv_blkback_queue_stats(NULL, 0, &bst), -EINVAL);
	cr_assert_eq(pv_blkback_queues(NULL), 0);
	cr_assert_eq(pv_blkback_direct(NULL), false);
	cr_assert_eq(pv_blkback_attach(NULL, &(struct pv_blkback_config){ .path = "/dev/null" }, &b), -EINVAL);
	cr_assert_null(b);
	memset(&ast, 0xff, sizeof(ast));
	pv_ata_stats(NULL, &ast);
	cr_assert_eq(ast.commands, 0);
	cr_assert_eq(pv_ata_attach(NULL, &(struct pv_ata_config){ .path = "/dev/null" }, &a), -EINVAL);
	cr_assert_null(a);
	cr_assert_eq(pv_vm_device_call(NULL, NULL, NULL), -EINVAL);
	cr_assert_eq(pv_vm_sandbox_thread(NULL), -EINVAL);
	cr_assert_eq(pv_vm_irq_line(NULL, 14, true), -EINVAL);
	cr_assert_eq(pv_vm_sandbox(NULL), PV_SANDBOX_OFF);
}

/* A VM but NULL arguments. */
Test(null, arguments)
{
	struct pv_vm_config cfg = { .ram_size = 16u << 20, .backend = PV_BACKEND_EMU };
	struct pv_blkback *b;
	struct pv_ata *a;
	struct pv_vm *vm;

	REQUIRE_BACKEND(PV_BACKEND_EMU);
	cr_assert_eq(pv_vm_create(&cfg, &vm), 0, "%s", pv_last_error());
	cr_assert_eq(pv_vm_load_elf(vm, NULL), -EINVAL);
	cr_assert_eq(pv_vm_stats(vm, -1, NULL), -EINVAL);
	cr_assert_eq(pv_blkback_attach(vm, NULL, &b), -EINVAL);
	cr_assert_eq(pv_blkback_attach(vm, &(struct pv_blkback_config){ .path = NULL }, &b), -EINVAL);
	cr_assert_eq(pv_ata_attach(vm, NULL, &a), -EINVAL);
	cr_assert_eq(pv_ata_attach(vm, &(struct pv_ata_config){ .path = "/dev/null" }, NULL), -EINVAL);
	cr_assert_eq(pv_evtchn_alloc_monitor(vm, NULL), -EINVAL);
	cr_assert_eq(pv_vm_add_pio(vm, "x", 0x700, 1, NULL, NULL), -EINVAL);
	cr_assert_eq(pv_vm_irq_line(vm, 16, true), -EINVAL);
	cr_assert_eq(pv_vm_irq_line(vm, 14, true), -EOPNOTSUPP, "a libpv-platform VM has no ISA interrupts");
	pv_vm_destroy(vm);
}
