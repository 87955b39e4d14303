/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The emulated NE2000 on the switch, against itself and against the PV
 * device: the same datagrams (random sizes up to the MTU, content and UDP
 * checksums checked) through every pair of doors.  An NE2000 has no flow
 * control: what its ring cannot hold is dropped, and the test checks that
 * every loss is one the devices counted.  Both backends.
 */
#include <string.h>

#include <pv/ne2k.h>
#include <pv/net.h>

#include "common.h"
#include "netvm.h"

static int attach_ne2k(struct netvm *v, void *opaque)
{
	struct pv_ne2k_config c = { .sw = opaque };

	return pv_ne2k_attach(v->vm, &c, (struct pv_ne2k **)&v->dev);
}

static int attach_pv(struct netvm *v, void *opaque)
{
	struct pv_netback_config c = { .sw = opaque, .poll_ns = 50000 };

	return pv_netback_attach(v->vm, &c, &v->nb);
}

static unsigned int received(const struct netvm *v, unsigned int *lost)
{
	const char *p = strstr(v->out, "recv ok");
	unsigned int frames = 0;
	unsigned long long bytes;

	*lost = 0;
	cr_assert_not_null(p, "%s", v->out);
	cr_assert_geq(sscanf(p, "recv ok frames=%u bytes=%llu gso=0 lost=%u", &frames, &bytes, lost), 2, "%s", p);
	return frames;
}

BACKEND_TEST(ne2k, ne2k_to_ne2k, .timeout = 240)
{
	struct pv_netswitch *sw = NULL;
	struct netvm a = { 0 }, r = { 0 };
	struct pv_ne2k_stats sr, sa;
	unsigned int frames, lost;

	cr_assert_eq(pv_netswitch_create(NULL, &sw), 0);
	netvm_init(&r, b, NE2K_GUEST, "recv 40 4", attach_ne2k, sw);
	netvm_init(&a, b, NE2K_GUEST, "send 40 4", attach_ne2k, sw);
	netvm_run_all((struct netvm *[]){ &r, &a }, 2);
	cr_log_info("receiver: %s\nsender: %s", r.out, a.out);
	netvm_assert_ok(&r);
	netvm_assert_ok(&a);
	frames = received(&r, &lost);
	cr_assert_gt(frames, 0);
	cr_assert_eq(frames + lost, 40);
	pv_ne2k_stats(r.dev, &sr);
	pv_ne2k_stats(a.dev, &sa);
	cr_assert_geq(sr.rx_dropped, lost, "every loss is counted");
	cr_assert_geq(sa.tx_frames, 40);
	cr_assert_gt(r.st.exits[PV_EXIT_PIO], 5ull * frames, "an emulated NIC costs port I/O per frame");
	netvm_destroy(&a);
	netvm_destroy(&r);
	pv_netswitch_put(sw);
}

BACKEND_TEST(ne2k, pv_to_ne2k, .timeout = 240)
{
	struct pv_netswitch *sw = NULL;
	struct netvm a = { 0 }, r = { 0 };
	unsigned int frames, lost, sent = 0, dropped = 0;

	cr_assert_eq(pv_netswitch_create(NULL, &sw), 0);
	netvm_init(&r, b, NE2K_GUEST, "recv 40 6", attach_ne2k, sw);
	netvm_init(&a, b, NET_GUEST, "send 40 6 0 lossy", attach_pv, sw);
	netvm_run_all((struct netvm *[]){ &r, &a }, 2);
	cr_log_info("receiver: %s\nsender: %s", r.out, a.out);
	netvm_assert_ok(&r);
	netvm_assert_ok(&a);
	frames = received(&r, &lost);
	cr_assert(sscanf(strstr(a.out, "send ok"), "send ok frames=%u dropped=%u", &sent, &dropped) == 2, "%s", a.out);
	cr_assert_gt(frames, 0);
	cr_assert_eq(frames + lost, 40);
	cr_assert_eq(dropped, lost, "the sender was told of every frame the NE2000 dropped");
	netvm_destroy(&a);
	netvm_destroy(&r);
	pv_netswitch_put(sw);
}

BACKEND_TEST(ne2k, ne2k_to_pv, .timeout = 240)
{
	struct pv_netswitch *sw = NULL;
	struct netvm a = { 0 }, r = { 0 };
	unsigned int frames, lost;

	cr_assert_eq(pv_netswitch_create(NULL, &sw), 0);
	netvm_init(&r, b, NET_GUEST, "recv 40 8 0", attach_pv, sw);
	netvm_init(&a, b, NE2K_GUEST, "send 40 8", attach_ne2k, sw);
	netvm_run_all((struct netvm *[]){ &r, &a }, 2);
	cr_log_info("receiver: %s\nsender: %s", r.out, a.out);
	netvm_assert_ok(&r);
	netvm_assert_ok(&a);
	frames = received(&r, &lost);
	cr_assert_eq(frames, 40, "the PV door queues what it has no buffer for yet");
	netvm_destroy(&a);
	netvm_destroy(&r);
	pv_netswitch_put(sw);
}
