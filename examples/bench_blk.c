/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvbench --device blk: the same disk through two doors, the PV block
 * device and its emulated ATA twin, and the host's own io_uring on the same
 * file for the ratio.  Exit counts per request are the headline.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pv/ata.h>
#include <pv/blk.h>

#include "bench.h"
#include "bench_plot.h"

#define MARKER 0x6f0
#define IMAGE_SIZE (256ull << 20)

struct workload {
	const char *name;
	unsigned int bs, qd;
	bool write, random, flush;
};

static const struct workload workloads[] = {
	{ "seqwrite-1m", 1u << 20, 1, true, false, false },
	{ "seqread-1m", 1u << 20, 1, false, false, false },
	{ "randread-4k", 4096, 1, false, true, false },
	{ "randread-4k", 4096, 32, false, true, false },
	{ "flush", 4096, 1, true, false, true },
};
#define NR_WORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the disk ---- */

static char tmp_path[256];

static void remove_tmp(void)
{
	if (tmp_path[0])
		unlink(tmp_path);
}

/* A temporary image filled with data (holes would read unrealistically fast). */
static const char *temp_image(void)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp";
	static char chunk[1 << 20];
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "%s/pvbench-XXXXXX.img", dir);
	fd = mkstemps(tmp_path, 4);
	if (fd < 0) {
		fprintf(stderr, "pvbench: cannot create a temporary image in %s: %s\n", dir, strerror(errno));
		tmp_path[0] = 0;
		return NULL;
	}
	atexit(remove_tmp);
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (char)(i * 7 + 1);
	for (uint64_t off = 0; off < IMAGE_SIZE; off += sizeof(chunk)) {
		if (pwrite(fd, chunk, sizeof(chunk), (off_t)off) != (ssize_t)sizeof(chunk)) {
			fprintf(stderr, "pvbench: cannot fill %s: %s\n", tmp_path, strerror(errno));
			close(fd);
			return NULL;
		}
	}
	fdatasync(fd);
	close(fd);
	return tmp_path;
}

/* ---- results ---- */

struct result {
	const char *door;
	const struct workload *w;
	const char *backend;     /* NULL for the host */
	unsigned long long requests;
	double seconds;
	struct pv_stats st;
	bool have_stats;
};

static double mbps(const struct result *r)
{
	return r->seconds > 0 ? (double)r->requests * r->w->bs / r->seconds / 1e6 : 0;
}

static double iops(const struct result *r)
{
	return r->seconds > 0 ? (double)r->requests / r->seconds : 0;
}

/* A KVM binary statistic of the run, -1 if absent (emu backend). */
static long long kvm_stat(const struct pv_stats *st, const char *name)
{
	for (unsigned int i = 0; i < st->nr_kvm; i++)
		if (!strcmp(st->kvm[i].name, name))
			return (long long)st->kvm[i].value;
	return -1;
}

static void print_row(const struct bench_opts *o, const struct result *r, const struct result *host)
{
	double ratio = host && mbps(host) > 0 ? mbps(r) / mbps(host) : -1;
	double epr = r->have_stats && r->requests ? (double)r->st.exits_total / (double)r->requests : 0;

	if (o->plot)
		bench_plot_add(o->plot, &(struct bench_plot_row){ r->door, r->w->name, r->w->qd, r->backend,
								  r->have_stats ? epr : -1, mbps(r), ratio });
	if (o->json) {
		printf("{\"device\":\"blk\",\"door\":\"%s\",\"workload\":\"%s\",\"qd\":%u,\"backend\":%s%s%s,"
		       "\"requests\":%llu,",
		       r->door, r->w->name, r->w->qd, r->backend ? "\"" : "", r->backend ? r->backend : "null",
		       r->backend ? "\"" : "", r->requests);
		if (r->have_stats) {
			printf("\"exits_total\":%llu,\"exits_by_reason\":{", (unsigned long long)r->st.exits_total);
			for (int i = 0; i < PV_EXIT__COUNT; i++)
				printf("%s\"%s\":%llu", i ? "," : "", pv_exit_reason_name(i),
				       (unsigned long long)r->st.exits[i]);
			printf("},\"exits_per_request\":%.4f,", epr);
			/* KVM's own count: also in-kernel exits the guest did not
			 * cause (host interrupts), and on some hosts doorbells */
			printf("\"kvm_exits\":");
			if (kvm_stat(&r->st, "exits") >= 0)
				printf("%lld,", kvm_stat(&r->st, "exits"));
			else
				printf("null,");
		} else {
			printf("\"exits_total\":null,\"exits_by_reason\":null,\"exits_per_request\":null,");
		}
		printf("\"mb_per_s\":%.1f,\"iops\":%.0f,\"host_ratio\":", mbps(r), iops(r));
		if (ratio >= 0)
			printf("%.3f}\n", ratio);
		else
			printf("null}\n");
	} else {
		printf("%-9s %-12s %3u %-5s %9llu ", r->door, r->w->name, r->w->qd, r->backend ? r->backend : "-",
		       r->requests);
		if (r->have_stats)
			printf("%9llu %10.4f ", (unsigned long long)r->st.exits_total, epr);
		else
			printf("%9s %10s ", "-", "-");
		printf("%9.1f %9.0f ", mbps(r), iops(r));
		if (ratio >= 0)
			printf("%7.3f\n", ratio);
		else
			printf("%7s\n", "-");
	}
	fflush(stdout);
}

static void blk_header(const struct bench_opts *o)
{
	(void)o;
	printf("%-9s %-12s %3s %-5s %9s %9s %10s %9s %9s %7s\n", "door", "workload", "qd", "bknd", "requests",
	       "exits", "exits/req", "MB/s", "IOPS", "/host");
}

/* ---- the host door: io_uring on the same file ---- */

/* Where a workload's host run left off, so a second half continues it. */
struct host_pos {
	uint64_t seq, rng;
};

static int host_run(const char *path, const struct workload *w, double seconds, struct host_pos *pos,
		    struct result *r)
{
	struct io_uring ring;
	unsigned int qd = w->qd, inflight = 0;
	uint64_t cap, seq = pos->seq, rng = pos->rng ? pos->rng : 12345;
	unsigned char *buf;
	double t0, end;
	struct stat st;
	int fd, ret = -1;

	fd = open(path, (w->write ? O_RDWR : O_RDONLY) | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		fd = open(path, (w->write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return -1;
	cap = (uint64_t)st.st_size / w->bs;
	if (posix_memalign((void **)&buf, 4096, (size_t)qd * w->bs) || io_uring_queue_init(qd * 2 + 2, &ring, 0) < 0) {
		close(fd);
		return -1;
	}
	memset(buf, 0x5a, (size_t)qd * w->bs);
	memset(r, 0, sizeof(*r));
	r->door = "host";
	r->w = w;
	t0 = now_s();
	end = t0 + seconds;
	for (;;) {
		struct io_uring_cqe *cqe;

		while (inflight < qd && now_s() < end) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			unsigned int slot = (unsigned int)(r->requests + inflight) % qd;
			uint64_t blk;

			if (w->random) {
				rng = rng * 6364136223846793005ull + 1442695040888963407ull;
				blk = (rng >> 17) % cap;
			} else {
				blk = seq;
				seq = seq + 1 >= cap ? 0 : seq + 1;
			}
			if (w->write)
				io_uring_prep_write(sqe, fd, buf + (size_t)slot * w->bs, w->bs, blk * w->bs);
			else
				io_uring_prep_read(sqe, fd, buf + (size_t)slot * w->bs, w->bs, blk * w->bs);
			if (w->flush) {
				sqe->flags |= IOSQE_IO_LINK;
				sqe = io_uring_get_sqe(&ring);
				io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
				io_uring_sqe_set_data64(sqe, 1);
			}
			inflight++;
		}
		if (!inflight)
			break;
		io_uring_submit_and_wait(&ring, 1);
		while (io_uring_peek_cqe(&ring, &cqe) == 0) {
			bool is_flush = cqe->user_data == 1;

			io_uring_cqe_seen(&ring, cqe);
			if (w->flush ? is_flush : true) {
				inflight--;
				r->requests++;
			}
		}
	}
	r->seconds = now_s() - t0;
	pos->seq = seq;
	pos->rng = rng;
	ret = 0;
	io_uring_queue_exit(&ring);
	free(buf);
	close(fd);
	return ret;
}

/* ---- the guest doors ---- */

struct guest_run {
	struct pv_vm *vm;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t stop_gpa;
	bool started, ended, finished;
	double t0, t1;
	struct pv_stats st;
	int status, r;
};

static int marker(void *opaque, struct pv_vcpu *v, uint64_t addr, void *data, unsigned int size, bool is_write)
{
	struct guest_run *g = opaque;
	uint32_t val = 0;

	(void)v, (void)addr;
	if (!is_write)
		return 0;
	memcpy(&val, data, size < 4 ? size : 4);
	pthread_mutex_lock(&g->lock);
	if (val && !g->started) {
		g->stop_gpa = val;
		g->started = true;
		pv_vm_stats_reset(g->vm); /* set-up exits are not the workload's */
		g->t0 = now_s();
	} else if (!val && g->started && !g->ended) {
		g->t1 = now_s();
		pv_vm_stats(g->vm, -1, &g->st);
		/* This marker exit is not the workload's either. */
		g->st.exits[PV_EXIT_PIO]--;
		g->st.exits_total--;
		g->ended = true;
	}
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	return 0;
}

static void *vm_thread(void *arg)
{
	struct guest_run *g = arg;

	g->r = pv_vm_run(g->vm, &g->status);
	pthread_mutex_lock(&g->lock);
	g->finished = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

static int guest_run(enum pv_backend b, const char *path, const char *door, const struct workload *w, double seconds,
		     struct result *res)
{
	static struct bench_console con;
	struct pv_vm_config cfg = { .ram_size = 64u << 20, .backend = b, .console = bench_console,
				    .console_opaque = &con };
	struct pv_blkback_config bc = { .path = path, .poll_ns = 200000 };
	struct guest_run g = { .r = 0 };
	struct pv_blkback *blk = NULL;
	struct pv_ata_config ac = { .path = path };
	struct pv_ata *ata = NULL;
	char cmd[128], elf[512];
	unsigned long long n = 0, errs = 0;
	pthread_t t;
	int r;

	con.len = 0;
	con.buf[0] = 0;
	snprintf(cmd, sizeof(cmd), "%s %s %u %u", door, w->name, w->qd, 42u);
	cfg.cmdline = cmd;
	pthread_mutex_init(&g.lock, NULL);
	pthread_cond_init(&g.cond, NULL);
	r = pv_vm_create(&cfg, &g.vm);
	if (r < 0) {
		fprintf(stderr, "pvbench: %s\n", pv_last_error());
		return -1;
	}
	r = pv_vm_load_elf(g.vm, bench_guest_path("blkbench", elf, sizeof(elf)));
	if (r == 0)
		r = pv_vm_add_pio(g.vm, "marker", MARKER, 4, marker, &g);
	if (r == 0 && !strcmp(door, "pv"))
		r = pv_blkback_attach(g.vm, &bc, &blk);
	if (r == 0 && !strcmp(door, "emulated"))
		r = pv_ata_attach(g.vm, &ac, &ata);
	if (r < 0) {
		fprintf(stderr, "pvbench: %s door: %s\n", door, r == -ENOSYS ? "not available" : strerror(-r));
		goto out;
	}
	pthread_create(&t, NULL, vm_thread, &g);
	pthread_mutex_lock(&g.lock);
	while (!g.started && !g.finished)
		pthread_cond_wait(&g.cond, &g.lock);
	pthread_mutex_unlock(&g.lock);
	if (g.started) {
		struct timespec ts = { .tv_sec = (time_t)seconds, .tv_nsec = (long)((seconds - (time_t)seconds) * 1e9) };
		volatile uint32_t *stop;

		nanosleep(&ts, NULL);
		stop = pv_gpa_ptr(g.vm, g.stop_gpa, 4);
		if (stop && g.stop_gpa % 4 == 0)
			__atomic_store_n(stop, 1, __ATOMIC_SEQ_CST);
		else
			pv_vm_stop(g.vm);
	}
	pthread_join(t, NULL);
	if (g.r < 0 || g.status || !g.ended || sscanf(con.buf, "requests=%llu errors=%llu", &n, &errs) != 2) {
		fprintf(stderr, "pvbench: %s %s on %s failed: %s %s\n", door, w->name, bench_backend_name(b),
			g.r < 0 ? pv_vm_error(g.vm) : "", con.buf);
		r = -1;
		goto out;
	}
	if (errs)
		fprintf(stderr, "pvbench: %s %s: %llu requests failed\n", door, w->name, errs);
	memset(res, 0, sizeof(*res));
	res->door = !strcmp(door, "pv") ? "pv" : "emulated";
	res->w = w;
	res->backend = bench_backend_name(b);
	res->requests = n;
	res->seconds = g.t1 - g.t0;
	res->st = g.st;
	res->have_stats = true;
	r = 0;
out:
	pv_vm_destroy(g.vm); /* and its disk */
	return r;
}

/* ---- the device ---- */

static const char *disk_path(const struct bench_opts *o)
{
	static const char *path;

	if (!path)
		path = o->disk ? o->disk : temp_image();
	return path;
}

/*
 * Each workload's host figure is taken in two halves, just before and just
 * after the guest's PV run, so that a drift in the disk's speed (common on
 * virtual disks) weighs on both sides of the ratio alike.  With several
 * backends every backend gets its own host rows.
 */
static int blk_run(enum pv_backend b, const struct bench_opts *o)
{
	static struct host_pos pos[NR_WORKLOADS];
	double secs = o->seconds > 0 ? o->seconds : 1.0;
	const char *path = disk_path(o);
	bool ata_missing = false;
	int failed = 0;

	if (!path)
		return -1;
	for (size_t i = 0; i < NR_WORKLOADS; i++) {
		const struct workload *w = &workloads[i];
		struct result host, half, pv, em;
		bool have_host, have_pv;

		if (o->progress)
			fprintf(stderr, "pvbench: %s %s qd%u: host io_uring, pv, host io_uring%s...\n",
				bench_backend_name(b), w->name, w->qd, w->qd == 1 && !ata_missing ? ", emulated" : "");
		have_host = host_run(path, w, secs / 2, &pos[i], &host) == 0;
		have_pv = guest_run(b, path, "pv", w, secs, &pv) == 0;
		if (have_host && host_run(path, w, secs / 2, &pos[i], &half) == 0) {
			host.requests += half.requests;
			host.seconds += half.seconds;
		} else {
			have_host = false;
		}
		if (have_host)
			print_row(o, &host, NULL);
		else
			fprintf(stderr, "pvbench: host %s failed: %s\n", w->name, strerror(errno));
		if (have_pv)
			print_row(o, &pv, have_host ? &host : NULL);
		failed += !have_host + !have_pv;
		if (w->qd > 1 || ata_missing)
			continue; /* ATA PIO has no queue */
		if (guest_run(b, path, "emulated", w, secs, &em) == 0) {
			print_row(o, &em, have_host ? &host : NULL);
		} else {
			failed++;
			ata_missing = true; /* the door is missing: say it once */
		}
	}
	return failed ? -1 : 0;
}

const struct bench_device bench_blk = { "blk", blk_header, blk_run };
