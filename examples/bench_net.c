/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvbench --device net: two VMs in this process, UDP bulk from one to the
 * other through the in-process switch (examples/guests/netbench.c).  The
 * receiver marks the timed window; exits of both VMs in it are counted
 * per packet received, with the switch's host copies per packet and byte.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pv/ne2k.h>
#include <pv/net.h>

#include "bench.h"

#define MARKER 0x6f0

struct net_workload {
	const char *door, *name, *arg;
	unsigned int frame_bytes;
	unsigned long long count_emu, count_kvm;
};

static const struct net_workload workloads[] = {
	{ "pv", "vm2vm-udp", "udp", 1514, 40000, 4000 },
	{ "pv", "vm2vm-gso", "gso", 64042, 4000, 400 },
	{ "ne2k", "vm2vm-udp", "udp ne2k", 1514, 4000, 1000 },
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct side {
	struct pv_vm *vm;
	struct pv_netback *nb;
	struct pv_ne2k *ne;
	struct bench_console con;
	int r, status;
};

struct window {
	pthread_mutex_t lock;
	struct side *s[2];
	struct pv_netswitch *sw;
	bool started, ended;
	double t0, t1;
	struct pv_stats st[2];
	struct pv_netswitch_stats sw1;     /* at the end of the run */
	unsigned long long delivered, delivered_bytes; /* rx frames of both devices */
	unsigned long long drops;          /* NE2000: frames its ring could not take */
};

static int marker(void *opaque, struct pv_vcpu *v, uint64_t addr, void *data, unsigned int size, bool is_write)
{
	struct window *w = opaque;
	uint32_t val = 0;

	(void)v, (void)addr;
	if (!is_write)
		return 0;
	memcpy(&val, data, size < 4 ? size : 4);
	pthread_mutex_lock(&w->lock);
	if (val && !w->started) {
		w->started = true;
		pv_vm_stats_reset(w->s[0]->vm);
		pv_vm_stats_reset(w->s[1]->vm);
		w->t0 = now_s();
	} else if (!val && w->started && !w->ended) {
		w->t1 = now_s();
		pv_vm_stats(w->s[0]->vm, -1, &w->st[0]);
		pv_vm_stats(w->s[1]->vm, -1, &w->st[1]);
		w->st[0].exits[PV_EXIT_PIO]--; /* this marker exit is not the workload's */
		w->st[0].exits_total--;
		w->ended = true;
	}
	pthread_mutex_unlock(&w->lock);
	return 0;
}

static void *vm_thread(void *arg)
{
	struct side *s = arg;

	s->r = pv_vm_run(s->vm, &s->status);
	return NULL;
}

static void net_header(const struct bench_opts *o)
{
	(void)o;
	printf("%-5s %-10s %-5s %8s %9s %10s %12s %9s %9s %10s %7s\n", "door", "workload", "bknd", "frame", "packets",
	       "exits", "exits/pkt", "Mbit/s", "pps", "copies/B", "drops");
}

static int make_vm(enum pv_backend b, struct side *s, const char *cmd, struct pv_netswitch *sw, struct window *w,
		   bool mark, bool ne2k)
{
	struct pv_vm_config cfg = { .ram_size = 64u << 20, .backend = b, .cmdline = cmd, .console = bench_console,
				    .console_opaque = &s->con };
	struct pv_netback_config nc = { .sw = sw, .poll_ns = 200000 };
	char elf[512];
	int r;

	r = pv_vm_create(&cfg, &s->vm);
	if (r < 0) {
		fprintf(stderr, "pvbench: %s\n", pv_last_error());
		return r;
	}
	r = pv_vm_load_elf(s->vm, bench_guest_path("netbench", elf, sizeof(elf)));
	if (r == 0 && !ne2k)
		r = pv_netback_attach(s->vm, &nc, &s->nb);
	if (r == 0 && ne2k)
		r = pv_ne2k_attach(s->vm, &(struct pv_ne2k_config){ .sw = sw }, &s->ne);
	if (r == 0 && mark)
		r = pv_vm_add_pio(s->vm, "marker", MARKER, 4, marker, w);
	if (r < 0)
		fprintf(stderr, "pvbench: net guest: %s\n", strerror(-r));
	return r;
}

static void print_row(const struct bench_opts *o, const char *backend, const struct net_workload *wl,
		      const struct window *w, unsigned long long pkts, unsigned long long bytes, unsigned long long drops)
{
	double secs = w->t1 - w->t0, mbit = secs > 0 ? (double)bytes * 8 / secs / 1e6 : 0;
	double pps = secs > 0 ? (double)pkts / secs : 0;
	unsigned long long exits = w->st[0].exits_total + w->st[1].exits_total;
	/* host copies against what the devices delivered, over the whole run
	 * (control frames included): both are host-side counts */
	double cpp = w->delivered ? (double)w->sw1.copies / (double)w->delivered : 0;
	double cpb = w->delivered_bytes ? (double)w->sw1.bytes_copied / (double)w->delivered_bytes : 0;
	double epp = pkts ? (double)exits / (double)pkts : 0;

	if (o->json) {
		printf("{\"device\":\"net\",\"door\":\"%s\",\"workload\":\"%s\",\"backend\":\"%s\",\"frame_bytes\":%u,"
		       "\"packets\":%llu,\"bytes\":%llu,\"exits_total\":%llu,\"exits_by_reason\":{",
		       wl->door, wl->name, backend, wl->frame_bytes, pkts, bytes, exits);
		for (int i = 0; i < PV_EXIT__COUNT; i++)
			printf("%s\"%s\":%llu", i ? "," : "", pv_exit_reason_name(i),
			       (unsigned long long)(w->st[0].exits[i] + w->st[1].exits[i]));
		printf("},\"exits_per_packet\":%.4f,\"copies_per_packet\":%.4f,\"copies_per_byte\":%.4f,"
		       "\"mbit_per_s\":%.1f,\"pps\":%.0f,\"drops\":%llu}\n",
		       epp, cpp, cpb, mbit, pps, drops);
	} else {
		printf("%-5s %-10s %-5s %8u %9llu %10llu %12.4f %9.1f %9.0f %10.4f %7llu\n", wl->door, wl->name, backend,
		       wl->frame_bytes, pkts, exits, epp, mbit, pps, cpb, drops);
		printf("      exits by reason:");
		for (int i = 0; i < PV_EXIT__COUNT; i++)
			if (w->st[0].exits[i] + w->st[1].exits[i])
				printf(" %s=%.4f/pkt", pv_exit_reason_name(i),
				       pkts ? (double)(w->st[0].exits[i] + w->st[1].exits[i]) / (double)pkts : 0);
		printf("\n");
	}
	fflush(stdout);
}

static int run_one(enum pv_backend b, const struct bench_opts *o, const struct net_workload *wl)
{
	unsigned long long count = b == PV_BACKEND_KVM ? wl->count_kvm : wl->count_emu;
	struct side rx = { .r = 0 }, tx = { .r = 0 };
	struct window w = { .s = { &rx, &tx } };
	unsigned long long pkts = 0, bytes = 0, lost = 0, bad = 0, sent = 0, dropped = 0;
	char rcmd[64], tcmd[64];
	pthread_t t[2];
	int r = -1;

	if (o->count) /* scaled like the defaults */
		count = count * o->count / workloads[0].count_emu ? count * o->count / workloads[0].count_emu : 1;
	pthread_mutex_init(&w.lock, NULL);
	if (pv_netswitch_create(NULL, &w.sw) < 0)
		return -1;
	snprintf(rcmd, sizeof(rcmd), "recv %llu 0 %s", count, wl->arg);
	bool ne2k = !strcmp(wl->door, "ne2k");

	if (make_vm(b, &rx, rcmd, w.sw, &w, true, ne2k) < 0)
		goto out;
	snprintf(tcmd, sizeof(tcmd), "send %llu %u %s", count, pv_vm_domid(rx.vm), wl->arg);
	if (make_vm(b, &tx, tcmd, w.sw, &w, false, ne2k) < 0)
		goto out;
	pthread_create(&t[0], NULL, vm_thread, &rx);
	pthread_create(&t[1], NULL, vm_thread, &tx);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	pv_netswitch_stats(w.sw, &w.sw1);
	if (!ne2k) {
		struct pv_netback_stats a, c;

		pv_netback_stats(rx.nb, &a);
		pv_netback_stats(tx.nb, &c);
		w.delivered = a.rx_frames + c.rx_frames;
		w.delivered_bytes = a.rx_bytes + c.rx_bytes;
	} else { /* the NE2000 also copies each sent frame into a bounce slot */
		struct pv_ne2k_stats a, c;

		pv_ne2k_stats(rx.ne, &a);
		pv_ne2k_stats(tx.ne, &c);
		w.delivered = a.rx_frames + c.rx_frames;
		w.delivered_bytes = a.rx_bytes + c.rx_bytes;
		w.sw1.copies += a.tx_frames + c.tx_frames;
		w.sw1.bytes_copied += a.tx_bytes + c.tx_bytes;
		w.drops = a.rx_dropped + c.rx_dropped;
	}
	if (rx.r < 0 || tx.r < 0 || rx.status || tx.status || !w.ended ||
	    sscanf(rx.con.buf, "frames=%llu bytes=%llu lost=%llu bad=%llu", &pkts, &bytes, &lost, &bad) != 4 ||
	    sscanf(tx.con.buf, "sent=%llu dropped=%llu", &sent, &dropped) != 2) {
		fprintf(stderr, "pvbench: net %s on %s failed: %s %s | %s %s\n", wl->name, bench_backend_name(b),
			rx.r < 0 ? pv_vm_error(rx.vm) : "", rx.con.buf, tx.r < 0 ? pv_vm_error(tx.vm) : "", tx.con.buf);
		goto out;
	}
	if (bad)
		fprintf(stderr, "pvbench: net %s: %llu datagrams with wrong content\n", wl->name, bad);
	print_row(o, bench_backend_name(b), wl, &w, pkts, bytes, ne2k ? w.drops : dropped);
	r = bad ? -1 : 0;
out:
	pv_vm_destroy(tx.vm);
	pv_vm_destroy(rx.vm);
	pv_netswitch_put(w.sw);
	pthread_mutex_destroy(&w.lock);
	return r;
}

/* ---- the TAP round trip ---- */

/* Give TAP `name` 10.0.0.1/24 and bring it up (in our own namespace). */
static int tap_up(const char *name)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *a = (struct sockaddr_in *)&ifr.ifr_addr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	a->sin_family = AF_INET;
	inet_pton(AF_INET, "10.0.0.1", &a->sin_addr);
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
		r = -errno;
	inet_pton(AF_INET, "255.255.255.0", &a->sin_addr);
	if (!r && ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
		r = -errno;
	if (!r && ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		r = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!r && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		r = -errno;
	close(s);
	return r;
}

/*
 * UDP round trips between this process and a guest echoing on a TAP, in a
 * network namespace of our own (the TAP and its traffic stay there).
 * Needs root; otherwise says why and prints no row.
 */
static int tap_rtt(enum pv_backend b, const struct bench_opts *o)
{
	static const struct net_workload wl = { "pv", "tap-rtt", "udp", 106, 2000, 200 };
	static bool in_netns;
	unsigned long long n = b == PV_BACKEND_KVM ? wl.count_kvm : wl.count_emu, done = 0;
	struct pv_vm_config cfg = { .ram_size = 64u << 20, .backend = b, .cmdline = "echo 0 0 udp",
				    .console = bench_console };
	struct pv_netback_config nc = { .tap = "pvbench0", .poll_ns = 200000 };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(7) };
	struct side g = { .r = 0 };
	struct window w = { .s = { &g, &g } };
	unsigned char buf[64] = "ping", got[2048];
	char elf[512];
	pthread_t t;
	int s = -1, r = -1;

	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
		fprintf(stderr, "pvbench: no tap-rtt row: a TAP in a network namespace needs root and /dev/net/tun\n");
		return 0;
	}
	if (!in_netns && unshare(CLONE_NEWNET) != 0) {
		fprintf(stderr, "pvbench: no tap-rtt row: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 0;
	}
	in_netns = true;
	if (o->count)
		n = n * o->count / workloads[0].count_emu ? n * o->count / workloads[0].count_emu : 1;
	cfg.console_opaque = &g.con;
	if (pv_vm_create(&cfg, &g.vm) < 0) {
		fprintf(stderr, "pvbench: %s\n", pv_last_error());
		return -1;
	}
	if (pv_vm_load_elf(g.vm, bench_guest_path("netbench", elf, sizeof(elf))) < 0 ||
	    pv_netback_attach(g.vm, &nc, &g.nb) < 0 || tap_up("pvbench0") < 0) {
		fprintf(stderr, "pvbench: tap-rtt set-up failed: %s\n", strerror(errno));
		goto out;
	}
	pthread_create(&t, NULL, vm_thread, &g);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, "10.0.0.2", &to.sin_addr);
	for (unsigned long long i = 0, tries = 0; done < n + 1 && tries < n + 200; tries++, i++) {
		struct pollfd p = { s, POLLIN, 0 };

		if (sendto(s, buf, sizeof(buf), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			break;
		if (poll(&p, 1, 1000) == 1 && recv(s, got, sizeof(got), 0) == (ssize_t)sizeof(buf)) {
			if (done++ == 0) { /* ARP and start-up are not the workload's */
				pv_vm_stats_reset(g.vm);
				w.t0 = now_s();
			}
		}
	}
	w.t1 = now_s();
	pv_vm_stats(g.vm, -1, &w.st[0]);
	memset(&w.st[1], 0, sizeof(w.st[1]));
	memcpy(buf, "quit", 4);
	sendto(s, buf, sizeof(buf), 0, (struct sockaddr *)&to, sizeof(to));
	pthread_join(t, NULL);
	if (g.r < 0 || g.status || done < n + 1) {
		fprintf(stderr, "pvbench: tap-rtt on %s failed after %llu round trips: %s %s\n", bench_backend_name(b),
			done, g.r < 0 ? pv_vm_error(g.vm) : "", g.con.buf);
		goto out;
	}
	done--; /* the first one started the clock */
	w.sw1.copies = 0; /* no host copy: the kernel moves frames between the TAP and guest buffers */
	w.delivered = done;
	print_row(o, bench_backend_name(b), &wl, &w, done, done * 2 * wl.frame_bytes, 0);
	if (!o->json)
		printf("      round trip: %.1f us\n", done ? (w.t1 - w.t0) / (double)done * 1e6 : 0);
	r = 0;
out:
	if (s >= 0)
		close(s);
	pv_vm_destroy(g.vm);
	return r;
}

static int net_run(enum pv_backend b, const struct bench_opts *o)
{
	int failed = 0;

	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		if (o->progress)
			fprintf(stderr, "pvbench: %s net %s: %s...\n", bench_backend_name(b), workloads[i].name,
				workloads[i].door);
		failed += run_one(b, o, &workloads[i]) < 0;
	}
	if (o->progress)
		fprintf(stderr, "pvbench: %s net tap-rtt: pv...\n", bench_backend_name(b));
	failed += tap_rtt(b, o) < 0;
	return failed ? -1 : 0;
}

const struct bench_device bench_net = { "net", net_header, net_run };
