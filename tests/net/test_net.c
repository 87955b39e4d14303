/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PV net device end to end: nettest guests (tests/net/nettest.c) in
 * VMs of this process, joined by an in-process switch: UDP of random sizes
 * up to the MTU and 64 KiB GSO frames with content checks, bad descriptors
 * answered and counted while the peer keeps working, several queues.
 * Both backends.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <pv/net.h>
#include <pv/abi/net.h>

#include "common.h"
#include "netvm.h"

#define OFFLOADS (PVNET_F_CSUM | PVNET_F_GUEST_CSUM | PVNET_F_HOST_USO | PVNET_F_GUEST_USO)

static struct pv_netswitch *new_switch(unsigned int port_queue)
{
	struct pv_netswitch_config c = { .port_queue = port_queue };
	struct pv_netswitch *sw = NULL;

	cr_assert_eq(pv_netswitch_create(&c, &sw), 0);
	return sw;
}

static int attach_pv(struct netvm *v, void *opaque)
{
	struct pv_netback_config c = { .sw = opaque, .max_queues = v->queues, .poll_ns = 50000 };

	return pv_netback_attach(v->vm, &c, &v->nb);
}

BACKEND_TEST(net, vm2vm_udp_and_gso, .timeout = 240)
{
	struct pv_netswitch *sw = new_switch(0);
	struct netvm a = { 0 }, r = { 0 };
	struct pv_netswitch_stats ss;
	struct pv_netback_stats sa, sr;
	unsigned long long frames = 0, bytes = 0, gso = 0;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "recv 48 7 %u", OFFLOADS);
	netvm_init(&r, b, NET_GUEST, cmd, attach_pv, sw);
	snprintf(cmd, sizeof(cmd), "send 48 7 %u peer=%u", OFFLOADS, pv_vm_domid(r.vm));
	netvm_init(&a, b, NET_GUEST, cmd, attach_pv, sw);
	netvm_run_all((struct netvm *[]){ &r, &a }, 2);
	cr_log_info("receiver: %s\nsender: %s", r.out, a.out);
	netvm_assert_ok(&r);
	netvm_assert_ok(&a);
	cr_assert(sscanf(strstr(r.out, "recv ok"), "recv ok frames=%llu bytes=%llu gso=%llu", &frames, &bytes, &gso) == 3,
		  "%s", r.out);
	cr_assert_eq(frames, 48);
	cr_assert_eq(gso, 12, "every fourth frame is GSO: %llu", gso);
	pv_netback_stats(a.nb, &sa);
	pv_netback_stats(r.nb, &sr);
	pv_netswitch_stats(sw, &ss);
	cr_assert_geq(sr.rx_frames, 48);
	cr_assert_geq(sr.rx_bytes, bytes);
	cr_assert_eq(sa.tx_gso, 12);
	cr_assert_eq(sa.tx_invalid + sa.tx_unsupp + sa.tx_dropped, 0);
	/* one copy per delivered frame, and exactly the frame's bytes */
	cr_assert_eq(ss.copies, ss.deliveries);
	cr_assert_eq(ss.deliveries, sr.rx_frames + sa.rx_frames, "deliveries %llu", (unsigned long long)ss.deliveries);
	cr_assert_eq(ss.bytes_copied, sr.rx_bytes + sa.rx_bytes);
	cr_assert_eq(pv_netback_features(r.nb), OFFLOADS);
	netvm_destroy(&a);
	netvm_destroy(&r);
	pv_netswitch_stats(sw, &ss);
	cr_assert_eq(ss.ports, 0, "ports leave with their VMs");
	pv_netswitch_put(sw);
}

/* Without the receive offloads, GSO frames cannot reach the receiver and
 * partial checksums arrive completed: plain frames still flow. */
BACKEND_TEST(net, receiver_without_offloads, .timeout = 240)
{
	struct pv_netswitch *sw = new_switch(0);
	struct netvm a = { 0 }, r = { 0 };
	char cmd[128];

	netvm_init(&r, b, NET_GUEST, "recv 30 3 0", attach_pv, sw);
	snprintf(cmd, sizeof(cmd), "send 30 3 %u peer=%u", PVNET_F_CSUM, pv_vm_domid(r.vm));
	netvm_init(&a, b, NET_GUEST, cmd, attach_pv, sw);
	netvm_run_all((struct netvm *[]){ &r, &a }, 2);
	netvm_assert_ok(&r);
	netvm_assert_ok(&a);
	cr_assert_eq(pv_netback_features(r.nb), 0);
	netvm_destroy(&a);
	netvm_destroy(&r);
	pv_netswitch_put(sw);
}

BACKEND_TEST(net, bad_descriptors_answered_and_counted, .timeout = 240)
{
	struct pv_netswitch *sw = new_switch(0);
	struct netvm a = { 0 }, r = { 0 };
	struct pv_netback_stats sa, sr;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "recv 20 5 %u badbuf", OFFLOADS);
	netvm_init(&r, b, NET_GUEST, cmd, attach_pv, sw);
	snprintf(cmd, sizeof(cmd), "send 20 5 %u hostile peer=%u", PVNET_F_CSUM | PVNET_F_HOST_USO, pv_vm_domid(r.vm));
	netvm_init(&a, b, NET_GUEST, cmd, attach_pv, sw);
	netvm_run_all((struct netvm *[]){ &r, &a }, 2);
	netvm_assert_ok(&a);
	netvm_assert_ok(&r);
	cr_assert(strstr(a.out, "hostile descriptors answered"), "%s", a.out);
	cr_assert(strstr(r.out, "bad buffer returned invalid"), "%s", r.out);
	pv_netback_stats(a.nb, &sa);
	pv_netback_stats(r.nb, &sr);
	cr_assert_eq(sa.tx_invalid, 12, "tx_invalid %llu", (unsigned long long)sa.tx_invalid);
	cr_assert_eq(sa.tx_unsupp, 1);
	cr_assert_eq(sr.rx_bad_buffers, 1);
	cr_assert_geq(sr.rx_frames, 20);
	netvm_destroy(&a);
	netvm_destroy(&r);
	pv_netswitch_put(sw);
}

BACKEND_TEST(net, two_queues_each_carry_frames, .timeout = 240)
{
	struct pv_netswitch *sw = new_switch(0);
	struct netvm a = { .queues = 2 }, r = { .queues = 2 };
	struct pv_netback_stats q0, q1;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "recv 40 9 %u queues=2", OFFLOADS);
	netvm_init(&r, b, NET_GUEST, cmd, attach_pv, sw);
	snprintf(cmd, sizeof(cmd), "send 40 9 %u queues=2 peer=%u", OFFLOADS, pv_vm_domid(r.vm));
	netvm_init(&a, b, NET_GUEST, cmd, attach_pv, sw);
	netvm_run_all((struct netvm *[]){ &r, &a }, 2);
	netvm_assert_ok(&r);
	netvm_assert_ok(&a);
	cr_assert_eq(pv_netback_queues(a.nb), 2);
	cr_assert_eq(pv_netback_queues(r.nb), 2);
	cr_assert_eq(pv_netback_queue_stats(a.nb, 0, &q0), 0);
	cr_assert_eq(pv_netback_queue_stats(a.nb, 1, &q1), 0);
	cr_assert_geq(q0.tx_frames, 20);
	cr_assert_geq(q1.tx_frames, 20);
	cr_assert_eq(pv_netback_queue_stats(r.nb, 0, &q0), 0);
	cr_assert_eq(pv_netback_queue_stats(r.nb, 1, &q1), 0);
	cr_assert_geq(q0.rx_frames, 20, "queue 0 received %llu", (unsigned long long)q0.rx_frames);
	cr_assert_geq(q1.rx_frames, 20, "queue 1 received %llu", (unsigned long long)q1.rx_frames);
	cr_assert_eq(pv_netback_queue_stats(a.nb, 2, &q0), -ENOENT);
	netvm_destroy(&a);
	netvm_destroy(&r);
	pv_netswitch_put(sw);
}

Test(net, attach_refusals)
{
	struct pv_vm_config vc = { .ram_size = 16u << 20, .backend = PV_BACKEND_EMU };
	struct pv_netswitch *sw = new_switch(0);
	struct pv_netback *nb = NULL;
	struct pv_vm *vm;
	char why[200];

	if (!backend_usable(PV_BACKEND_EMU, why, sizeof(why)))
		vc.backend = PV_BACKEND_AUTO;
	cr_assert_eq(pv_vm_create(&vc, &vm), 0);
	cr_assert_eq(pv_netback_attach(vm, &(struct pv_netback_config){ 0 }, &nb), -EINVAL, "neither backend");
	cr_assert_eq(pv_netback_attach(vm, &(struct pv_netback_config){ .sw = sw, .tap = "x" }, &nb), -EINVAL);
	cr_assert_eq(pv_netback_attach(vm, &(struct pv_netback_config){ .sw = sw, .mtu = 20 }, &nb), -EINVAL);
	cr_assert_eq(pv_netback_attach(vm, &(struct pv_netback_config){ .tap = "" }, &nb), -EINVAL);
	cr_assert_eq(pv_netback_attach(NULL, &(struct pv_netback_config){ .sw = sw }, &nb), -EINVAL);
	cr_assert_eq(pv_netback_attach(vm, &(struct pv_netback_config){ .sw = sw }, &nb), 0);
	cr_assert_eq(pv_netback_attach(vm, &(struct pv_netback_config){ .sw = sw }, &nb), -EEXIST, "one port");
	cr_assert_eq(pv_netback_queues(NULL), 0);
	cr_assert_eq(pv_netback_queue_stats(NULL, 0, &(struct pv_netback_stats){ 0 }), -EINVAL);
	cr_assert_eq(pv_netswitch_create(NULL, NULL), -EINVAL);
	pv_netswitch_put(sw); /* the VM's device still holds it */
	pv_vm_destroy(vm);
}
