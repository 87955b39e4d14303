/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PV net device on a TAP: each test moves its own process into a new
 * network namespace (unshare), where the device creates the TAP, so the
 * traffic and the interface stay there and vanish with the test.  The
 * nettest guest echoes UDP; the host side sends datagrams of several sizes
 * (checksums offloaded to the guest as NEEDS_CSUM and back), a UDP GSO
 * datagram (UDP_SEGMENT: one 64 KiB-class frame to the guest, segments
 * back to the host), and, with two queues, flows from many ports; ping
 * (ARP first) from the namespace gets the guest's answers.  Skipped,
 * with the reason, without root or /dev/net/tun.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pv/net.h>
#include <pv/abi/net.h>

#include "common.h"
#include "netvm.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

#define TAP "pvtap0"
#define OFFLOADS (PVNET_F_CSUM | PVNET_F_GUEST_CSUM | PVNET_F_HOST_USO | PVNET_F_GUEST_USO)

static void enter_netns(void)
{
	if (access("/dev/net/tun", R_OK | W_OK) != 0)
		cr_skip_test("no usable /dev/net/tun: %s", strerror(errno));
	if (unshare(CLONE_NEWNET) != 0)
		cr_skip_test("cannot create a network namespace (needs root): %s", strerror(errno));
}

static int attach_tap(struct netvm *v, void *opaque)
{
	struct pv_netback_config c = { .tap = TAP, .max_queues = v->queues, .poll_ns = 50000 };

	(void)opaque;
	return pv_netback_attach(v->vm, &c, &v->nb);
}

static void sh(const char *cmd)
{
	int r = system(cmd);

	cr_assert_eq(r, 0, "%s: %d", cmd, r);
}

/* Send len bytes from s to the guest's echo port until the same bytes come
 * back (the guest may not be connected yet at first). */
static void echo_once(int s, const unsigned char *buf, size_t len, bool segmented, size_t seg)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(7) };
	static unsigned char got[70000];

	inet_pton(AF_INET, "10.0.0.2", &to.sin_addr);
	for (int tries = 0; tries < 50; tries++) {
		struct pollfd p = { s, POLLIN, 0 };
		size_t have = 0;

		cr_assert_eq(sendto(s, buf, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len, "%s",
			     strerror(errno));
		while (have < len && poll(&p, 1, 200) == 1) {
			ssize_t n = recv(s, got + have, sizeof(got) - have, 0);

			cr_assert_gt(n, 0);
			if (segmented)
				cr_assert_leq((size_t)n, seg, "segments of at most gso_size come back: %zd", n);
			have += (size_t)n;
		}
		if (have == 0)
			continue;
		cr_assert_eq(have, len, "echo of %zu bytes brought %zu", len, have);
		cr_assert_eq(memcmp(got, buf, len), 0, "echoed content differs");
		return;
	}
	cr_assert_fail("no echo of %zu bytes", len);
}

static int udp_socket(unsigned short port)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(s, 0);
	inet_pton(AF_INET, "10.0.0.1", &me.sin_addr);
	cr_assert_eq(bind(s, (struct sockaddr *)&me, sizeof(me)), 0, "bind: %s", strerror(errno));
	return s;
}

static void *guest_thread(void *arg)
{
	netvm_run_all((struct netvm *[]){ arg }, 1);
	return NULL;
}

static void tap_echo(enum pv_backend b, unsigned int queues)
{
	struct netvm g = { .queues = queues };
	static unsigned char buf[65536];
	struct pv_netback_stats st;
	char cmd[256], mac[32];
	uint8_t m[6];
	pthread_t t;
	int s, n = 0;
	unsigned int ne = 0, nc = 0, ng = 0, np = 0;

	enter_netns();
	snprintf(cmd, sizeof(cmd), "echo 100000 1 %u queues=%u", OFFLOADS, queues);
	netvm_init(&g, b, NET_GUEST, cmd, attach_tap, NULL);
	pv_netback_mac(g.nb, m);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	sh("ip link set lo up && ip link set " TAP " up && ip addr add 10.0.0.1/24 dev " TAP);
	snprintf(cmd, sizeof(cmd), "ip neigh replace 10.0.0.2 lladdr %s dev " TAP " nud permanent", mac);
	sh(cmd);
	pthread_create(&t, NULL, guest_thread, &g);
	for (unsigned int i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 13 + 5);
	for (unsigned short port = 4000; port < 4000 + (queues > 1 ? 16 : 2); port++) {
		s = udp_socket(port);
		for (size_t len = 1; len <= 1472; len = len * 3 + 7)
			echo_once(s, buf, len, false, 0);
		close(s);
		n++;
	}
	/* ping from the namespace, with the neighbour entry gone: the kernel
	 * asks by ARP, the guest answers that and the echo requests
	 * (pv_net_answer), and the entry learnt holds the device's MAC. */
	cr_assert_eq(system("command -v ping > /dev/null"), 0, "no ping: Debian package iputils-ping (quickstart.sh)");
	snprintf(cmd, sizeof(cmd), "ip neigh del 10.0.0.2 dev " TAP " && ping -c 3 -W 2 10.0.0.2 > /dev/null && "
		 "ip neigh show 10.0.0.2 dev " TAP " | grep -q 'lladdr %s'", mac);
	sh(cmd);
	sh("ping -c 2 -W 2 -s 1472 10.0.0.2 > /dev/null"); /* a full 1500-byte IPv4 packet */
	/* One GSO datagram: the guest gets it whole (USO accepted) and sends it
	 * back whole with the same metadata; the TAP segments it for us. */
	s = udp_socket(5000);
	{
		int seg = 1000;

		cr_assert_eq(setsockopt(s, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof(seg)), 0, "%s", strerror(errno));
		echo_once(s, buf, 20000, true, 1000);
		seg = 0;
		setsockopt(s, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof(seg));
	}
	memcpy(buf, "quit", 4);
	{
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(7) };

		inet_pton(AF_INET, "10.0.0.2", &to.sin_addr);
		sendto(s, buf, 4, 0, (struct sockaddr *)&to, sizeof(to));
	}
	close(s);
	pthread_join(t, NULL);
	cr_log_info("guest: %s", g.out);
	netvm_assert_ok(&g);
	cr_assert(strstr(g.out, "echo ok"), "%s", g.out);
	cr_assert(sscanf(strstr(g.out, "echo ok"), "echo ok n=%u csum=%u gso=%u ping=%u", &ne, &nc, &ng, &np) == 4, "%s",
		  g.out);
	cr_assert_geq(np, 5, "the guest answered %u of the 5 echo requests: %s", np, g.out);
	cr_assert_gt(nc, 0, "no checksum offload reached the guest: %s", g.out);
	cr_assert_geq(ng, 1, "the GSO datagram did not reach the guest whole: %s", g.out);
	pv_netback_stats(g.nb, &st);
	cr_assert_geq(st.tx_gso, 1);
	cr_assert_geq(st.rx_frames, ne);
	cr_assert_eq(pv_netback_features(g.nb), OFFLOADS | (queues > 1 ? PVNET_F_MQ : 0));
	if (queues > 1) {
		struct pv_netback_stats q0, q1;

		cr_assert_eq(pv_netback_queue_stats(g.nb, 0, &q0), 0);
		cr_assert_eq(pv_netback_queue_stats(g.nb, 1, &q1), 0);
		cr_assert_gt(q0.rx_frames, 0, "queue 0 got nothing");
		cr_assert_gt(q1.rx_frames, 0, "queue 1 got nothing");
	}
	netvm_destroy(&g);
}

BACKEND_TEST(tap, udp_echo_offloads_in_netns, .timeout = 240)
{
	tap_echo(b, 1);
}

BACKEND_TEST(tap, two_queues_in_netns, .timeout = 240)
{
	tap_echo(b, 2);
}

Test(tap, attach_to_existing_tap)
{
	struct pv_vm_config vc = { .ram_size = 16u << 20, .backend = PV_BACKEND_EMU };
	struct pv_netback *nb;
	struct pv_vm *vm;
	char why[200];

	if (!backend_usable(PV_BACKEND_EMU, why, sizeof(why)))
		vc.backend = PV_BACKEND_KVM; /* no guest runs: either will do */
	enter_netns();
	sh("ip tuntap add dev pvtap7 mode tap vnet_hdr");
	cr_assert_eq(pv_vm_create(&vc, &vm), 0);
	cr_assert_eq(pv_netback_attach(vm, &(struct pv_netback_config){ .tap = "pvtap7", .max_queues = 1 }, &nb), 0);
	pv_vm_destroy(vm);
	sh("ip link show pvtap7 > /dev/null"); /* still there: it was not ours */
}
