/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PV net device end to end: nettest guests (tests/net/nettest.c) in
 * VMs of this process, joined by an in-process switch: UDP of random sizes
 * up to the MTU and 64 KiB GSO frames with content checks, bad descriptors
 * answered and counted while the peer keeps working, several queues, and a
 * flooding sender held to its share of a port queue.
 * Both backends.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	cr_assert(strstr(a.out, "bad connects refused"), "%s", a.out);
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

/* ---- one sender cannot take another's share of a port queue ---- */

static atomic_int go_send, go_sink;

static int go_port(void *opaque, struct pv_vcpu *v, uint64_t addr, void *data, unsigned int size, bool is_write)
{
	uint32_t val = (uint32_t)atomic_load((atomic_int *)opaque);

	(void)v, (void)addr;
	if (!is_write)
		memcpy(data, &val, size < 4 ? size : 4);
	return 0;
}

static int attach_pv_go_send(struct netvm *v, void *opaque)
{
	int r = attach_pv(v, opaque);

	return r ? r : pv_vm_add_pio(v->vm, "go", 0x6f4, 4, go_port, &go_send);
}

static int attach_pv_go_sink(struct netvm *v, void *opaque)
{
	int r = attach_pv(v, opaque);

	return r ? r : pv_vm_add_pio(v->vm, "go", 0x6f4, 4, go_port, &go_sink);
}

static void *run_one(void *arg)
{
	netvm_run_all((struct netvm *[]){ arg }, 1);
	return NULL;
}

static void wait_for(bool (*cond)(void *), void *arg, const char *what)
{
	for (int i = 0; i < 6000 && !cond(arg); i++)
		usleep(10000);
	cr_assert(cond(arg), "timed out waiting for %s", what);
}

static bool connected3(void *arg)
{
	struct netvm **v = arg;

	return pv_netback_queues(v[0]->nb) && pv_netback_queues(v[1]->nb) && pv_netback_queues(v[2]->nb);
}

static bool all_settled(void *arg)
{
	struct pv_netswitch_stats st;

	pv_netswitch_stats(arg, &st);
	return st.queued + st.drops >= 64 + 8;
}

BACKEND_TEST(net, flooder_gets_only_its_share_of_a_port_queue, .timeout = 240)
{
	struct pv_netswitch *sw = new_switch(16);
	struct netvm sink = { 0 }, a = { 0 }, c = { 0 };
	struct pv_netback_stats sa, sc, sb;
	unsigned int da = 0, dc = 0, na = 0, nc = 0;
	char cmd[128];
	pthread_t t[3];

	atomic_store(&go_send, 0);
	atomic_store(&go_sink, 0);
	netvm_init(&sink, b, NET_GUEST, "sink 16 1 0", attach_pv_go_sink, sw);
	snprintf(cmd, sizeof(cmd), "send 64 1 0 to=%u", pv_vm_domid(sink.vm));
	netvm_init(&a, b, NET_GUEST, cmd, attach_pv_go_send, sw);
	snprintf(cmd, sizeof(cmd), "send 8 2 0 to=%u", pv_vm_domid(sink.vm));
	netvm_init(&c, b, NET_GUEST, cmd, attach_pv_go_send, sw);
	pthread_create(&t[0], NULL, run_one, &sink);
	pthread_create(&t[1], NULL, run_one, &a);
	pthread_create(&t[2], NULL, run_one, &c);
	wait_for(connected3, (struct netvm *[]){ &sink, &a, &c }, "three connected devices");
	atomic_store(&go_send, 1);          /* both send into a queue of 16 */
	wait_for(all_settled, sw, "every frame queued or dropped");
	atomic_store(&go_sink, 1);          /* the sink takes what was queued */
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	cr_log_info("sink: %s\na: %s\nc: %s", sink.out, a.out, c.out);
	netvm_assert_ok(&sink);
	netvm_assert_ok(&a);
	netvm_assert_ok(&c);
	cr_assert(strstr(sink.out, "sink"));
	{
		const char *p = strstr(sink.out, "sink") + 4;
		unsigned int d, k;

		while (sscanf(p, " %u=%u", &d, &k) == 2) {
			if (d == pv_vm_domid(a.vm))
				na = k;
			if (d == pv_vm_domid(c.vm))
				nc = k;
			p = strchr(p + 1, ' ') ? strchr(p + 1, ' ') : p + strlen(p);
		}
	}
	cr_assert_eq(nc, 8, "the quiet sender kept its share: %s", sink.out);
	cr_assert_eq(na, 8, "the flooder got only its share: %s", sink.out);
	cr_assert(sscanf(strstr(a.out, "send ok"), "send ok frames=64 dropped=%u", &da) == 1, "%s", a.out);
	cr_assert(sscanf(strstr(c.out, "send ok"), "send ok frames=8 dropped=%u", &dc) == 1, "%s", c.out);
	cr_assert_eq(da, 56);
	cr_assert_eq(dc, 0);
	pv_netback_stats(a.nb, &sa);
	pv_netback_stats(c.nb, &sc);
	pv_netback_stats(sink.nb, &sb);
	cr_assert_eq(sa.tx_dropped, 56);
	cr_assert_eq(sb.rx_dropped, 56, "the sink's queue counted the drops");
	cr_assert_eq(sc.tx_frames, 8);
	netvm_destroy(&a);
	netvm_destroy(&c);
	netvm_destroy(&sink);
	pv_netswitch_put(sw);
}

/* DISCONNECT ends the sender's queues while the monitor holds its posted
 * buffers: every grant then ends (a backend still holding a ring or buffer
 * would make that PV_EBUSY), a second CONNECT works and the data flows; the
 * counters keep the first connection's frame. */
BACKEND_TEST(net, disconnect_then_connect_again, .timeout = 240)
{
	struct pv_netswitch *sw = new_switch(0);
	struct netvm a = { 0 }, r = { 0 };
	struct pv_netback_stats sa;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "recv 16 9 %u", OFFLOADS);
	netvm_init(&r, b, NET_GUEST, cmd, attach_pv, sw);
	snprintf(cmd, sizeof(cmd), "send 16 9 %u disconnect peer=%u", OFFLOADS, pv_vm_domid(r.vm));
	netvm_init(&a, b, NET_GUEST, cmd, attach_pv, sw);
	netvm_run_all((struct netvm *[]){ &r, &a }, 2);
	cr_log_info("receiver: %s\nsender: %s", r.out, a.out);
	netvm_assert_ok(&r);
	netvm_assert_ok(&a);
	cr_assert(strstr(a.out, "disconnect=0\nreconnected=0\n"), "%s", a.out);
	cr_assert_eq(pv_netback_queues(a.nb), 1);
	cr_assert_eq(pv_netback_features(a.nb), OFFLOADS);
	pv_netback_stats(a.nb, &sa);
	/* the END, at least one HELLO and the 16 datagrams */
	cr_assert_geq(sa.tx_frames, 18, "tx_frames %llu", (unsigned long long)sa.tx_frames);
	netvm_destroy(&a);
	netvm_destroy(&r);
	pv_netswitch_put(sw);
}
