/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Grant tables and event channels, guest and monitor together: every check,
 * safe revocation, reuse after revocation, doorbells, floods. */
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

struct ctx {
	struct pv_vm *vm;
	int port, efd;
	int step_ok[8];
	char why[8][200];
	int64_t acked[8];
};

#define CHECK(step, cond)                                                                              \
	do {                                                                                           \
		if (!(cond) && c->step_ok[step]) {                                                     \
			c->step_ok[step] = 0;                                                          \
			snprintf(c->why[step], sizeof(c->why[step]), "line %d: %s", __LINE__, #cond);  \
		}                                                                                      \
	} while (0)

static int checkpoint(void *opaque, struct pv_vcpu *v, uint64_t addr, void *data, unsigned int size, bool is_write)
{
	struct ctx *c = opaque;
	uint32_t step = 0;
	void *p;

	(void)v, (void)addr;
	if (!is_write)
		return 0;
	memcpy(&step, data, size < 4 ? size : 4);
	if (step >= 8)
		return 0;
	c->step_ok[step] = 1;
	switch (step) {
	case 1: {
		struct pv_grant_op ops[3] = {
			{ .ref = 2, .len = 16 }, { .ref = 3, .len = 16 }, { .ref = 5, .offset = 4000, .len = 200 },
		};
		char buf[16];

		CHECK(1, pv_grant_map(c->vm, 0, 1, 0, 13, true, &p) == 0 && !strcmp(p, "granted data"));
		if (c->step_ok[1])
			strcpy(p, "written by host"); /* and keep ref 1 pinned */
		CHECK(1, pv_grant_map(c->vm, 0, 2, 0, 16, true, &p) == -EPERM); /* read-only */
		CHECK(1, pv_grant_copy_from(c->vm, 0, 2, 0, buf, 5) == 0 && !memcmp(buf, "writt", 5));
		CHECK(1, pv_grant_copy_to(c->vm, 0, 2, 0, "x", 1) == -EPERM);
		CHECK(1, pv_grant_map(c->vm, 0, 3, 0, 16, false, &p) == -EFAULT); /* frame outside RAM */
		CHECK(1, pv_grant_map(c->vm, 0, 4, 0, 16, false, &p) == -EPERM);  /* granted to domain 99 */
		CHECK(1, pv_grant_map(c->vm, 7, 1, 0, 16, false, &p) == -EPERM);  /* wrong user */
		CHECK(1, pv_grant_map(c->vm, 0, 99, 0, 16, false, &p) == -EINVAL); /* forged ref */
		CHECK(1, pv_grant_map(c->vm, 0, 0xffffffffu, 0, 16, false, &p) == -EINVAL);
		CHECK(1, pv_grant_map(c->vm, 0, 7, 0, 16, false, &p) == -EPERM); /* never granted */
		CHECK(1, pv_grant_map(c->vm, 0, 1, 4000, 200, false, &p) == -EFAULT); /* past the page */
		CHECK(1, pv_grant_map(c->vm, 0, 1, ~0ull - 10, 100, false, &p) == -EFAULT); /* wraps */
		CHECK(1, pv_grant_map(c->vm, 0, 6, 0, 16, false, &p) == -EFAULT); /* runs past RAM */
		CHECK(1, pv_grant_map_batch(c->vm, 0, ops, 3) == 2);
		CHECK(1, ops[0].status == 0 && ops[1].status == -EFAULT && ops[2].status == 0);
		pv_grant_unmap_batch(c->vm, ops, 3);
		break;
	}
	case 2:
		pv_grant_unmap(c->vm, 1);
		break;
	case 3:
		CHECK(3, pv_grant_map(c->vm, 0, 1, 0, 16, false, &p) == -EPERM); /* revoked */
		break;
	case 4:
		CHECK(4, pv_grant_map(c->vm, 0, 1, 0, 12, false, &p) == 0 && !strcmp(p, "second page"));
		if (c->step_ok[4])
			pv_grant_unmap(c->vm, 1);
		break;
	case 5:
		c->acked[5] = pv_evtchn_ack(c->vm, (unsigned int)c->port);
		CHECK(5, pv_evtchn_ack(c->vm, (unsigned int)c->port) == 0);
		CHECK(5, pv_evtchn_notify(c->vm, (unsigned int)c->port) == 0);
		CHECK(5, pv_evtchn_notify(c->vm, 3) == -EINVAL);
		break;
	case 6:
		c->acked[6] = pv_evtchn_ack(c->vm, (unsigned int)c->port);
		break;
	}
	return 0;
}

static struct ctx ctx;

static int setup(struct pv_vm *vm, void *opaque)
{
	struct ctx *c = opaque;
	static char cmd[16];

	c->vm = vm;
	c->port = pv_evtchn_alloc_monitor(vm, &c->efd);
	if (c->port < 0)
		return c->port;
	return pv_vm_add_pio(vm, "checkpoint", 0x620, 4, checkpoint, c);
	(void)cmd;
}

BACKEND_TEST(grants, grants_revocation_and_events_on, .timeout = 60)
{
	static struct run r;
	struct run_opts o = { .setup = setup, .opaque = &ctx, .cmdline = "1" };

	memset(&ctx, 0, sizeof(ctx));
	run_guest(b, TEST_GUEST("grants"), &o, &r);
	cr_assert_eq(ctx.port, 1, "the first monitor port is 1 (the guest's command line says so)");
	cr_assert_eq(r.r, 0, "%s\n%s", r.err, r.out);
	for (int s = 1; s <= 6; s++)
		cr_assert(ctx.step_ok[s], "host step %d: %s\n%s", s, ctx.why[s], r.out);
	cr_assert(strstr(r.out, "setup=0\n"), "%s", r.out);
	cr_assert(strstr(r.out, "end_in_use=-16\n"), "revoking a pinned grant must fail with EBUSY: %s", r.out);
	cr_assert(strstr(r.out, "end_out_of_range=-22\n"), "%s", r.out);
	cr_assert(strstr(r.out, "end_released=0\n"), "%s", r.out);
	cr_assert(strstr(r.out, "shared=written by host\n"), "%s", r.out);
	cr_assert(strstr(r.out, "evtchn_setup=0\n"), "%s", r.out);
	cr_assert(strstr(r.out, "send=0\n"), "%s", r.out);
	cr_assert(strstr(r.out, "pending=1\n"), "%s", r.out);
	cr_assert(strstr(r.out, "block=0\n"), "%s", r.out);
	cr_assert(strstr(r.out, "block_after_clear=-110\n"), "%s", r.out);
	cr_assert(strstr(r.out, "guest_close_monitor_port=-1\n"), "%s", r.out);
	/* 5 doorbells + 1 send; then 1000 sends + 1000 doorbells, coalesced in one counter. */
	cr_assert_eq(ctx.acked[5], 6);
	cr_assert_eq(ctx.acked[6], 2000);
	cr_assert_eq(r.st.exits[PV_EXIT_DOORBELL], 1005, "doorbells counted: %llu",
		     (unsigned long long)r.st.exits[PV_EXIT_DOORBELL]);
	cr_assert_eq(r.st.hypercalls[PV_HC_EVTCHN_SEND], 1001);
	cr_assert_eq(r.st.pio_unclaimed, 1, "the doorbell to a non-monitor port");
}
