/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvbench --soak SECONDS: several VMs in one process for a long time.
 *
 * Four long-lived VMs run block workloads on their own disks for the whole
 * soak (the blkbench guest: PV random 4 KiB reads at QD8, PV 1 MiB writes
 * at QD2, PV write+flush, emulated-ATA random reads), while two neighbour
 * threads keep creating, running and destroying hostile VMs: the hostile
 * guest (hypercalls with hostile arguments), the abuse guest's grant-copy
 * storm and console spam (stopped after 300 ms), and the fault guest's
 * faults.  Every VM is sandboxed (kill mode) unless PV_SANDBOX says
 * otherwise.  Once a second the process's resident memory and open
 * descriptors are sampled; every 100 ms each long-lived VM's completed
 * requests are.
 *
 * The run fails when, after warm-up (a tenth of the run, 5 to 60 s), the
 * lowest RSS of the last third of the samples exceeds the lowest of the
 * first third by more than 8 MiB, or the fewest descriptors of the last
 * third exceed the most of the first third (lowest values: a neighbour
 * alive at a sample adds its memory and descriptors for a moment), or a
 * long-lived VM completes no request for more than a second.
 *
 * The disks are files in $TMPDIR (default /var/tmp), so a stall of the
 * host's disk is a stall here too (TMPDIR=/dev/shm leaves it out).
 *
 * Domain ids are never reused (a stale grant must not name a new VM), so
 * a process has PV_DOMID_SELF - 1 of them: the long-lived VMs keep theirs,
 * and neighbours are recycled at a bounded rate, at most 4 per second and
 * never more than the ids left allow for the whole run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pv/ata.h>
#include <pv/blk.h>
#include <pv/pv.h>

#include "bench.h"

#define NR_LONG 4
#define DISK_SIZE (64ull << 20)
#define MARKER 0x6f0
#define NEIGHBOURS 2
#define MAX_RATE 4.0
#define STALL_S 1.0
#define RSS_SLACK (8ull << 20)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

static void quiet_console(void *opaque, const char *buf, size_t len)
{
	(void)opaque, (void)buf, (void)len;
}

/* ---- the long-lived VMs ---- */

struct long_vm {
	const char *cmdline;
	bool ata;
	char disk[256];
	struct pv_vm *vm;
	struct pv_blkback *blk;
	struct pv_ata *atadev;
	pthread_t thread;
	_Atomic uint64_t stop_gpa;
	int r, status;
	uint64_t last;            /* requests at the last change */
	double last_t, max_stall;
	atomic_bool done;
};

static int marker(void *opaque, struct pv_vcpu *v, uint64_t addr, void *data, unsigned int size, bool is_write)
{
	struct long_vm *l = opaque;
	uint32_t val = 0;

	(void)v, (void)addr;
	if (is_write && size == 4) {
		memcpy(&val, data, 4);
		if (val)
			atomic_store(&l->stop_gpa, val);
	}
	return 0;
}

static uint64_t progress(struct long_vm *l)
{
	if (l->ata) {
		struct pv_ata_stats st;

		pv_ata_stats(l->atadev, &st);
		return st.commands;
	}
	struct pv_blkback_stats st;

	pv_blkback_stats(l->blk, &st);
	return st.requests;
}

static void *long_thread(void *arg)
{
	struct long_vm *l = arg;

	l->r = pv_vm_run(l->vm, &l->status);
	atomic_store(&l->done, true);
	return NULL;
}

static int make_disk(char *path, size_t n)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp";
	int fd;

	snprintf(path, n, "%s/pvsoak-XXXXXX.img", dir);
	fd = mkstemps(path, 4);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)DISK_SIZE) < 0) {
		close(fd);
		return -errno;
	}
	close(fd);
	return 0;
}

static int long_start(enum pv_backend b, struct long_vm *l)
{
	struct pv_vm_config cfg = { .ram_size = 32ull << 20, .backend = b, .cmdline = l->cmdline,
				    .console = quiet_console, .sandbox = PV_SANDBOX_KILL };
	char path[512];
	int r;

	r = make_disk(l->disk, sizeof(l->disk));
	if (r == 0)
		r = pv_vm_create(&cfg, &l->vm);
	if (r == 0)
		r = pv_vm_load_elf(l->vm, bench_guest_path("blkbench", path, sizeof(path)));
	if (r == 0)
		r = pv_vm_add_pio(l->vm, "marker", MARKER, 4, marker, l);
	if (r == 0 && l->ata) {
		struct pv_ata_config c = { .path = l->disk };

		r = pv_ata_attach(l->vm, &c, &l->atadev);
	} else if (r == 0) {
		struct pv_blkback_config c = { .path = l->disk, .poll_ns = 20000 };

		r = pv_blkback_attach(l->vm, &c, &l->blk);
	}
	if (r == 0)
		r = -pthread_create(&l->thread, NULL, long_thread, l);
	if (r < 0) {
		fprintf(stderr, "pvbench: soak: cannot start '%s': %s %s\n", l->cmdline, strerror(-r),
			l->vm ? pv_vm_error(l->vm) : pv_last_error());
		pv_vm_destroy(l->vm);
		l->vm = NULL;
	}
	return r;
}

static void long_stop(struct long_vm *l)
{
	uint64_t gpa = atomic_load(&l->stop_gpa);
	volatile uint32_t *w = gpa ? pv_gpa_ptr(l->vm, gpa, 4) : NULL;

	if (w && gpa % 4 == 0)
		__atomic_store_n(w, 1, __ATOMIC_SEQ_CST);
	else
		pv_vm_stop(l->vm);
	for (int i = 0; i < 50 && !atomic_load(&l->done); i++)
		sleep_s(0.1);
	if (!atomic_load(&l->done))
		pv_vm_stop(l->vm); /* it did not see the stop word */
	pthread_join(l->thread, NULL);
	pv_vm_destroy(l->vm);
	unlink(l->disk);
}

/* ---- the neighbours ---- */

struct neighbour {
	unsigned int idx;
	enum pv_backend b;
	double t_end, rate;       /* per neighbour thread */
	atomic_bool quit;
	pthread_mutex_t lock;
	struct pv_vm *cur;        /* guarded by lock */
	double cur_t0;
	uint64_t runs, failed;
};

static const struct {
	const char *guest, *cmdline;
	bool test_guest;          /* built under tests/ */
} kinds[] = {
	{ "hostile", NULL, true },     { "abuse", "copystorm", true }, { "fault", "ud2", false },
	{ "abuse", "spam", true },     { "fault", "outside", false },  { "fault", "null", false },
	{ "fault", "div0", false },    { "fault", "syscall", false },
};
#define NR_KINDS (sizeof(kinds) / sizeof(kinds[0]))

static const char *kind_path(unsigned int k, char *buf, size_t n)
{
	if (!kinds[k].test_guest)
		return bench_guest_path(kinds[k].guest, buf, n);
	snprintf(buf, n, "%s/%s.elf", getenv("PVBENCH_TEST_GUEST_DIR") ? getenv("PVBENCH_TEST_GUEST_DIR")
									: PVBENCH_TEST_GUEST_DIR,
		 kinds[k].guest);
	return buf;
}

static void *neighbour_thread(void *arg)
{
	struct neighbour *n = arg;
	double t0 = now_s();

	for (unsigned int i = n->idx; now_s() < n->t_end && !atomic_load(&n->quit); i += NEIGHBOURS) {
		struct pv_vm_config cfg = { .ram_size = 16ull << 20, .vcpus = 2, .backend = n->b,
					    .cmdline = kinds[i % NR_KINDS].cmdline, .console = quiet_console,
					    .sandbox = PV_SANDBOX_KILL };
		char path[512];
		struct pv_vm *vm;
		int st;

		/* Bounded rate: the id budget must last the run. */
		while ((double)n->runs >= (now_s() - t0) * n->rate && now_s() < n->t_end && !atomic_load(&n->quit))
			sleep_s(0.05);
		if (now_s() >= n->t_end || atomic_load(&n->quit))
			break;
		if (access(kind_path(i % NR_KINDS, path, sizeof(path)), R_OK) < 0)
			continue; /* a guest this build does not have */
		if (pv_vm_create(&cfg, &vm) < 0) {
			n->failed++;
			fprintf(stderr, "pvbench: soak: neighbour: %s\n", pv_last_error());
			break;
		}
		if (pv_vm_load_elf(vm, path) == 0) {
			pthread_mutex_lock(&n->lock);
			n->cur = vm;
			n->cur_t0 = now_s();
			pthread_mutex_unlock(&n->lock);
			pv_vm_run(vm, &st); /* whatever it does, it must end and leave nothing behind */
			pthread_mutex_lock(&n->lock);
			n->cur = NULL;
			pthread_mutex_unlock(&n->lock);
		} else {
			n->failed++;
		}
		pv_vm_destroy(vm);
		n->runs++;
	}
	return NULL;
}

/* ---- sampling ---- */

static uint64_t rss_bytes(void)
{
	unsigned long long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%llu %llu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static unsigned int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;

	if (!d)
		return 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ., .. and the directory's own descriptor */
}

static void soak_header(const struct bench_opts *o)
{
	(void)o;
}

static int soak_run(enum pv_backend b, const struct bench_opts *o)
{
	static struct long_vm longs[NR_LONG] = {
		{ .cmdline = "pv randread-4k 8 11" }, { .cmdline = "pv seqwrite-1m 2 12" },
		{ .cmdline = "pv flush 1 13" },        { .cmdline = "emulated randread-4k 1 14", .ata = true },
	};
	static struct neighbour nb[NEIGHBOURS];
	pthread_t nt[NEIGHBOURS];
	double secs = o->seconds > 0 ? o->seconds : 60, t0, warm, max_stall = 0;
	unsigned int nsamples = 0, cap = (unsigned int)secs + 8, stalled = 0;
	uint64_t *rss = calloc(cap, sizeof(*rss));
	unsigned int *fds = calloc(cap, sizeof(*fds));
	uint64_t ids_left = PV_DOMID_SELF - 1 - NR_LONG - 64, hostile = 0, hostile_failed = 0;
	double rate = (double)ids_left / secs;
	int started = 0, failed = 0;

	if (!rss || !fds)
		return -1;
	if (rate > MAX_RATE)
		rate = MAX_RATE;
	warm = secs / 10 < 5 ? 5 : secs / 10 > 60 ? 60 : secs / 10;
	if (warm > secs / 2)
		warm = secs / 2;
	for (int i = 0; i < NR_LONG; i++) {
		longs[i].vm = NULL;
		if (long_start(b, &longs[i]) < 0) {
			failed = 1;
			break;
		}
		started++;
	}
	t0 = now_s();
	for (unsigned int i = 0; !failed && i < NEIGHBOURS; i++) {
		nb[i] = (struct neighbour){ .idx = i, .b = b, .t_end = t0 + secs, .rate = rate / NEIGHBOURS };
		pthread_mutex_init(&nb[i].lock, NULL);
		pthread_create(&nt[i], NULL, neighbour_thread, &nb[i]);
	}
	for (int i = 0; i < started; i++)
		longs[i].last_t = t0;
	/* Every 100 ms: progress and neighbours that run too long; every second: RSS and descriptors. */
	for (unsigned int tick = 1; !failed && now_s() < t0 + secs; tick++) {
		double t;

		sleep_s(0.1);
		t = now_s();
		for (int i = 0; i < started; i++) {
			struct long_vm *l = &longs[i];
			uint64_t p = progress(l);

			if (atomic_load(&l->done)) {
				fprintf(stderr, "pvbench: soak: '%s' ended early: %s\n", l->cmdline, pv_vm_error(l->vm));
				failed = 1;
			}
			if (p != l->last || l->last == 0) { /* stalls count from the first request */
				l->last = p;
				l->last_t = t;
			} else if (t - l->last_t > l->max_stall) {
				l->max_stall = t - l->last_t;
				if (l->max_stall > STALL_S && o->progress)
					fprintf(stderr, "pvbench: soak: '%s' has completed nothing for %.1f s (at %.0f s)\n",
						l->cmdline, l->max_stall, t - t0);
			}
		}
		for (unsigned int i = 0; i < NEIGHBOURS; i++) {
			pthread_mutex_lock(&nb[i].lock);
			if (nb[i].cur && t - nb[i].cur_t0 > 0.3)
				pv_vm_stop(nb[i].cur);
			pthread_mutex_unlock(&nb[i].lock);
		}
		if (tick % 10 == 0 && nsamples < cap && t - t0 >= warm) {
			rss[nsamples] = rss_bytes();
			fds[nsamples] = open_fds();
			nsamples++;
		}
		if (o->progress && tick % 100 == 0)
			fprintf(stderr, "pvbench: soak: %.0f s, RSS %.1f MiB, %u descriptors, %llu neighbours\n", t - t0,
				rss_bytes() / 1048576.0, open_fds(),
				(unsigned long long)(nb[0].runs + nb[1].runs));
	}
	for (unsigned int i = 0; i < NEIGHBOURS && (started == NR_LONG); i++) {
		atomic_store(&nb[i].quit, true);
		pthread_join(nt[i], NULL);
		hostile += nb[i].runs;
		hostile_failed += nb[i].failed;
	}
	const char *stall_vm = "";

	for (int i = 0; i < started; i++) {
		if (longs[i].max_stall > max_stall) {
			max_stall = longs[i].max_stall;
			stall_vm = longs[i].cmdline;
		}
		if (longs[i].max_stall > STALL_S)
			stalled++;
	}
	{
		unsigned int third = nsamples / 3;
		uint64_t rss_first = UINT64_MAX, rss_last = UINT64_MAX, rss_max = 0;
		unsigned int fd_first_max = 0, fd_last_min = UINT32_MAX;
		uint64_t reqs = 0;
		bool grew_rss, grew_fds;

		for (unsigned int i = 0; i < nsamples; i++) {
			if (rss[i] > rss_max)
				rss_max = rss[i];
			if (i < third) {
				rss_first = rss[i] < rss_first ? rss[i] : rss_first;
				fd_first_max = fds[i] > fd_first_max ? fds[i] : fd_first_max;
			} else if (i >= nsamples - third) {
				rss_last = rss[i] < rss_last ? rss[i] : rss_last;
				fd_last_min = fds[i] < fd_last_min ? fds[i] : fd_last_min;
			}
		}
		for (int i = 0; i < started; i++)
			reqs += progress(&longs[i]);
		for (int i = 0; i < started; i++)
			long_stop(&longs[i]);
		grew_rss = third && rss_last > rss_first + RSS_SLACK;
		grew_fds = third && fd_last_min > fd_first_max;
		if (third == 0)
			fprintf(stderr, "pvbench: soak: too short to judge growth (%u samples after warm-up)\n", nsamples);
		failed |= grew_rss || grew_fds || stalled || hostile_failed || third == 0;
		if (o->json)
			printf("{\"device\":\"soak\",\"backend\":\"%s\",\"seconds\":%.0f,\"warmup_s\":%.0f,\"long_vms\":%d,"
			       "\"requests\":%llu,\"neighbours\":%llu,\"neighbour_failures\":%llu,"
			       "\"rss_first_mib\":%.1f,\"rss_last_mib\":%.1f,\"rss_max_mib\":%.1f,"
			       "\"fds_first_max\":%u,\"fds_last_min\":%u,\"max_stall_s\":%.3f,\"pass\":%s}\n",
			       bench_backend_name(b), secs, warm, started, (unsigned long long)reqs,
			       (unsigned long long)hostile, (unsigned long long)hostile_failed, rss_first / 1048576.0,
			       rss_last / 1048576.0, rss_max / 1048576.0, fd_first_max, fd_last_min, max_stall,
			       failed ? "false" : "true");
		else
			printf("soak %s: %.0f s (warm-up %.0f s), %d long-lived VMs, %llu requests, %llu neighbour VMs "
			       "(%llu failed to start)\n  RSS (lowest) first third %.1f MiB, last third %.1f MiB, "
			       "highest %.1f MiB%s\n  descriptors: first third at most %u, last third at least %u%s\n"
			       "  longest stall of a long-lived VM %.3f s ('%s')%s\n  %s\n",
			       bench_backend_name(b), secs, warm, started, (unsigned long long)reqs,
			       (unsigned long long)hostile, (unsigned long long)hostile_failed, rss_first / 1048576.0,
			       rss_last / 1048576.0, rss_max / 1048576.0, grew_rss ? " (GREW)" : "", fd_first_max,
			       fd_last_min, grew_fds ? " (GREW)" : "", max_stall, stall_vm, stalled ? " (STALLED)" : "",
			       failed ? "FAIL" : "PASS");
	}
	free(rss);
	free(fds);
	return failed ? -1 : 0;
}

const struct bench_device bench_soak = { "soak", soak_header, soak_run };
