/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The device lifecycle of <pv/device.h>: the VM starts its devices in
 * creation order when it runs, stops them in reverse order when the run
 * ends, and destroys them in reverse order with itself.  A monitor that
 * never detaches a device leaks nothing and no device thread outlives guest
 * RAM (the ASan build runs these too).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pv/ata.h>
#include <pv/blk.h>
#include <pv/device.h>
#include <pv/emu.h>

#include "../../examples/echo.h"
#include "common.h"

#define ACK_PORT 0x6c0 /* blkio.c */

/* ---- order: three recording devices ---- */

struct rec {
	char log[128];         /* "s0 s1 s2 p2 ..." */
	int fail_start;        /* index whose start fails, -1: none */
	struct pv_vm *vm;
	uint64_t exits_at_start;
};

struct recdev {
	struct rec *r;
	int idx;
};

static void note(struct rec *r, char what, int idx)
{
	size_t n = strlen(r->log);

	snprintf(r->log + n, sizeof(r->log) - n, "%s%c%d", n ? " " : "", what, idx);
}

static int rec_start(void *dev)
{
	struct recdev *d = dev;
	struct pv_stats st;

	note(d->r, 's', d->idx);
	pv_vm_stats(d->r->vm, -1, &st);
	d->r->exits_at_start += st.exits_total;
	return d->idx == d->r->fail_start ? -EIO : 0;
}

static void rec_stop(void *dev)
{
	struct recdev *d = dev;

	note(d->r, 'p', d->idx);
}

static void rec_destroy(void *dev)
{
	struct recdev *d = dev;

	note(d->r, 'd', d->idx);
	free(d);
}

static const struct pv_device_ops rec_ops = {
	.name = "rec", .start = rec_start, .stop = rec_stop, .destroy = rec_destroy,
};

static void discard(void *opaque, const char *buf, size_t len)
{
	(void)opaque, (void)buf, (void)len;
}

static struct pv_vm *make_vm(enum pv_backend b, const char *elf, const char *cmdline)
{
	struct pv_vm_config cfg = { .ram_size = 16u << 20, .backend = b, .cmdline = cmdline, .console = discard };
	struct pv_vm *vm;

	pv_emu_register();
	cr_assert_eq(pv_vm_create(&cfg, &vm), 0, "%s", pv_last_error());
	cr_assert_eq(pv_vm_load_elf(vm, elf), 0, "%s", pv_vm_error(vm));
	return vm;
}

static void add_recs(struct pv_vm *vm, struct rec *r)
{
	for (int i = 0; i < 3; i++) {
		struct recdev *d = malloc(sizeof(*d));

		cr_assert_not_null(d);
		*d = (struct recdev){ .r = r, .idx = i };
		cr_assert_eq(pv_vm_add_device(vm, &rec_ops, d), 0);
	}
}

BACKEND_TEST(lifecycle, start_in_order_stop_and_destroy_in_reverse, .timeout = 60)
{
	struct rec r = { .fail_start = -1 };
	int status = -1;

	r.vm = make_vm(b, GUEST("hello"), NULL);
	add_recs(r.vm, &r);
	cr_assert_eq(pv_vm_run(r.vm, &status), 0, "%s", pv_vm_error(r.vm));
	cr_assert_eq(status, 0);
	cr_expect_eq(r.exits_at_start, 0, "a device started after the guest ran");
	cr_assert_str_eq(r.log, "s0 s1 s2 p2 p1 p0", "by the end of pv_vm_run");
	/* A device added after the run is refused; the caller keeps it. */
	cr_assert_eq(pv_vm_add_device(r.vm, &rec_ops, &r), -EBUSY);
	pv_vm_destroy(r.vm);
	cr_assert_str_eq(r.log, "s0 s1 s2 p2 p1 p0 d2 d1 d0", "stop once, destroy in reverse");
}

BACKEND_TEST(lifecycle, failed_start_ends_the_run_before_the_guest, .timeout = 60)
{
	struct rec r = { .fail_start = 1 };
	int status = -1;

	r.vm = make_vm(b, GUEST("hello"), NULL);
	add_recs(r.vm, &r);
	cr_assert_eq(pv_vm_run(r.vm, &status), -EIO);
	cr_assert(strstr(pv_vm_error(r.vm), "rec"), "error names the device: %s", pv_vm_error(r.vm));
	{
		struct pv_stats st;

		pv_vm_stats(r.vm, -1, &st);
		cr_assert_eq(st.exits_total, 0, "the guest ran");
	}
	cr_assert_str_eq(r.log, "s0 s1 p2 p1 p0");
	pv_vm_destroy(r.vm);
	cr_assert_str_eq(r.log, "s0 s1 p2 p1 p0 d2 d1 d0");
}

Test(lifecycle, bad_arguments_and_the_limit)
{
	struct rec r = { .fail_start = -1 };
	struct pv_vm *vm;
	unsigned int i;

	REQUIRE_BACKEND(PV_BACKEND_EMU);
	vm = make_vm(PV_BACKEND_EMU, GUEST("hello"), NULL);
	cr_assert_eq(pv_vm_add_device(NULL, &rec_ops, &r), -EINVAL);
	cr_assert_eq(pv_vm_add_device(vm, NULL, &r), -EINVAL);
	cr_assert_eq(pv_vm_add_device(vm, &rec_ops, NULL), -EINVAL);
	for (i = 0; i < PV_VM_MAX_DEVICES; i++) {
		struct recdev *d = malloc(sizeof(*d));

		*d = (struct recdev){ .r = &r, .idx = 9 };
		cr_assert_eq(pv_vm_add_device(vm, &rec_ops, d), 0, "device %u", i);
	}
	cr_assert_eq(pv_vm_add_device(vm, &rec_ops, &r), -ENOSPC);
	pv_vm_destroy(vm);
}

/* ---- real devices, never detached ---- */

static void image(char *path, size_t n, int *keep)
{
	char tmp[] = "/tmp/pvlife.XXXXXX";

	*keep = mkstemp(tmp);
	cr_assert_geq(*keep, 0);
	unlink(tmp);
	cr_assert_eq(ftruncate(*keep, 4 << 20), 0);
	snprintf(path, n, "/proc/self/fd/%d", *keep);
}

/* A VM that never runs, with a PV disk, an ATA disk and the echo backend:
 * destroying it closes every descriptor they opened. */
BACKEND_TEST(lifecycle, never_run_vm_destroys_its_devices, .timeout = 60)
{
	char path[64];
	int keep;
	unsigned int fds;
	struct pv_blkback *blk, *blk2 = (void *)1;
	struct pv_ata *ata;
	struct echo *e;
	struct pv_vm *vm;

	image(path, sizeof(path), &keep);
	fds = open_fds();
	vm = make_vm(b, GUEST("hello"), NULL);
	cr_assert_eq(pv_blkback_attach(vm, &(struct pv_blkback_config){ .path = path }, &blk), 0);
	/* A second PV disk on the same port is refused; the VM keeps and frees it. */
	cr_assert_eq(pv_blkback_attach(vm, &(struct pv_blkback_config){ .path = path }, &blk2), -EEXIST);
	cr_assert_null(blk2);
	cr_assert_eq(pv_ata_attach(vm, &(struct pv_ata_config){ .path = path, .read_only = true }, &ata), 0);
	cr_assert_eq(echo_attach(vm, NULL, &e), 0);
	cr_assert_gt(open_fds(), fds);
	pv_vm_destroy(vm);
	cr_assert_eq(open_fds(), fds, "descriptors leaked");
	close(keep);
}

/* ---- a connected PV disk busy with a guest that never ends ---- */

struct busy {
	struct pv_vm *vm;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool acked;
	int r, status;
};

static int ack(void *opaque, struct pv_vcpu *v, uint64_t addr, void *data, unsigned int size, bool is_write)
{
	struct busy *bz = opaque;

	(void)v, (void)addr, (void)data, (void)size;
	if (is_write) {
		pthread_mutex_lock(&bz->lock);
		bz->acked = true;
		pthread_cond_broadcast(&bz->cond);
		pthread_mutex_unlock(&bz->lock);
	}
	return 0;
}

static void *runner(void *arg)
{
	struct busy *bz = arg;

	bz->r = pv_vm_run(bz->vm, &bz->status);
	return NULL;
}

/* The guest connects the disk, writes and flushes, acknowledges, then keeps
 * the vCPU busy; the monitor stops the VM and destroys it with no detach.
 * Every descriptor and thread of the backend is gone afterwards, and under
 * ASan no queue thread touches the freed RAM. */
BACKEND_TEST(lifecycle, destroy_with_connected_disk_and_no_detach, .timeout = 120)
{
	struct busy bz = { .r = 1 };
	struct pv_blkback_stats st;
	struct pv_blkback *blk;
	char path[64];
	unsigned int fds;
	pthread_t t;
	int keep;

	image(path, sizeof(path), &keep);
	fds = open_fds();
	pthread_mutex_init(&bz.lock, NULL);
	pthread_cond_init(&bz.cond, NULL);
	bz.vm = make_vm(b, LIFECYCLE_GUEST, "durable 7");
	cr_assert_eq(pv_blkback_attach(bz.vm, &(struct pv_blkback_config){ .path = path, .poll_ns = 20000 }, &blk), 0);
	cr_assert_eq(pv_vm_add_pio(bz.vm, "ack", ACK_PORT, 4, ack, &bz), 0);
	cr_assert_eq(pthread_create(&t, NULL, runner, &bz), 0);
	pthread_mutex_lock(&bz.lock);
	while (!bz.acked)
		pthread_cond_wait(&bz.cond, &bz.lock);
	pthread_mutex_unlock(&bz.lock);
	cr_assert_eq(pv_blkback_queues(blk), 1, "the guest connected its queue");
	pv_vm_stop(bz.vm);
	pthread_join(t, NULL);
	cr_assert_eq(bz.r, -EINTR, "%s", pv_vm_error(bz.vm));
	/* The run has ended: the backend's threads are gone, its counters stay. */
	pv_blkback_stats(blk, &st);
	cr_assert_gt(st.requests, 0);
	pv_vm_destroy(bz.vm);
	cr_assert_eq(open_fds(), fds, "descriptors leaked");
	close(keep);
}
