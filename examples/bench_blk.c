/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvbench --device blk: the same disk through two doors, the PV block
 * device and its emulated ATA twin, and the host's own io_uring on the same
 * file for the ratio.  Exit counts per request are the headline.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
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
#include "bench_blk.h"
#include "bench_plot.h"

#define MARKER 0x6f0
#define IMAGE_SIZE (256ull << 20)

static const struct workload workloads[] = {
	{ "seqwrite-1m", 1u << 20, 1, true, false, false },
	{ "seqread-1m", 1u << 20, 1, false, false, false },
	{ "randread-4k", 4096, 1, false, true, false },
	{ "randread-4k", 4096, 32, false, true, false },
	{ "flush", 4096, 1, true, false, true },
};
#define NR_WORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

bool bench_blk_workload(const char *name)
{
	for (size_t i = 0; i < NR_WORKLOADS; i++)
		if (!strcmp(workloads[i].name, name))
			return true;
	return false;
}

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

/* ---- results: one row per door, the median of its runs and their spread ---- */

#define MAX_REPEAT 25

struct row {
	const char *door;    /* host, fio, pv, emulated */
	const char *backend; /* NULL for the host and fio */
	const struct workload *w;
	unsigned int n;      /* runs tried */
	struct run run[MAX_REPEAT];
	bool ok[MAX_REPEAT]; /* run i was measured */
	const struct row *host; /* the ratio's baseline, paired run by run; NULL = none */
};

/* The median and the range of some figures. */
struct spread {
	double med, min, max;
	unsigned int n; /* 0: no figures */
};

static double mbps(const struct row *r, unsigned int i)
{
	const struct run *u = &r->run[i];

	return u->seconds > 0 ? (double)u->requests * r->w->bs / u->seconds / 1e6 : 0;
}

static double iops(const struct row *r, unsigned int i)
{
	return r->run[i].seconds > 0 ? (double)r->run[i].requests / r->run[i].seconds : 0;
}

/* < 0: not counted */
static double exits_per_request(const struct row *r, unsigned int i)
{
	const struct run *u = &r->run[i];

	return u->have_stats && u->requests ? (double)u->exits_total / (double)u->requests : -1;
}

/* Run i against the host's run i; < 0: no baseline. */
static double host_ratio(const struct row *r, unsigned int i)
{
	const struct row *h = r->host;

	return h && i < h->n && h->ok[i] && mbps(h, i) > 0 ? mbps(r, i) / mbps(h, i) : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The spread of (fig) over the measured runs of (r), leaving out negative figures. */
static struct spread spread(const struct row *r, double (*fig)(const struct row *, unsigned int))
{
	double v[MAX_REPEAT];
	struct spread s = { 0, 0, 0, 0 };

	for (unsigned int i = 0; i < r->n; i++)
		if (r->ok[i] && fig(r, i) >= 0)
			v[s.n++] = fig(r, i);
	if (!s.n)
		return s;
	qsort(v, s.n, sizeof(v[0]), cmp_double);
	s.min = v[0];
	s.max = v[s.n - 1];
	s.med = s.n % 2 ? v[s.n / 2] : (v[s.n / 2 - 1] + v[s.n / 2]) / 2;
	return s;
}

const char *bench_num(char *buf, size_t n, double v)
{
	int mag, dec;

	if (!isfinite(v) || v == 0) {
		snprintf(buf, n, "%s", isfinite(v) ? "0" : "null");
		return buf;
	}
	snprintf(buf, n, "%.3g", v);
	v = strtod(buf, NULL); /* rounded first: 9.996 is 10.0, not 10.00 */
	mag = (int)floor(log10(fabs(v)));
	dec = 2 - mag;
	if (dec > 0)
		snprintf(buf, n, "%.*f", dec, v);
	else
		snprintf(buf, n, "%.0f", v);
	return buf;
}

/* JSON: "key":median,"key_min":min,"key_max":max (null without figures). */
static void json_spread(const char *key, struct spread s)
{
	char a[32], b[32], c[32];

	if (!s.n)
		printf("\"%s\":null,\"%s_min\":null,\"%s_max\":null,", key, key, key);
	else
		printf("\"%s\":%s,\"%s_min\":%s,\"%s_max\":%s,", key, bench_num(a, sizeof(a), s.med), key,
		       bench_num(b, sizeof(b), s.min), key, bench_num(c, sizeof(c), s.max));
}

/* Table: the median, then [min-max] (a dash without figures). */
static void table_spread(struct spread s, int width)
{
	char a[32], b[32], c[32], range[80];

	if (!s.n) {
		printf(" %*s %-15s", width, "-", "");
		return;
	}
	snprintf(range, sizeof(range), "[%s-%s]", bench_num(b, sizeof(b), s.min), bench_num(c, sizeof(c), s.max));
	printf(" %*s %-15s", width, bench_num(a, sizeof(a), s.med), range);
}

static void json_row(const struct row *r, struct spread epr, struct spread mb, struct spread io, struct spread ratio)
{
	unsigned long long requests = 0, exits = 0, by[PV_EXIT__COUNT] = { 0 };
	long long kvm = -1;
	double seconds = 0;
	unsigned int runs = 0;
	char a[32], b[32], c[32], d[32], e[32];

	for (unsigned int i = 0; i < r->n; i++) {
		const struct run *u = &r->run[i];

		if (!r->ok[i])
			continue;
		runs++;
		requests += u->requests;
		seconds += u->seconds;
		exits += u->exits_total;
		for (int k = 0; k < PV_EXIT__COUNT; k++)
			by[k] += u->exits[k];
		if (u->kvm_exits >= 0)
			kvm = (kvm < 0 ? 0 : kvm) + u->kvm_exits;
	}
	printf("{\"device\":\"blk\",\"door\":\"%s\",\"workload\":\"%s\",\"qd\":%u,\"backend\":%s%s%s,\"repeat\":%u,"
	       "\"requests\":%llu,\"seconds\":%s,",
	       r->door, r->w->name, r->w->qd, r->backend ? "\"" : "", r->backend ? r->backend : "null",
	       r->backend ? "\"" : "", runs, requests, bench_num(a, sizeof(a), seconds));
	if (epr.n) { /* totals over the runs; the per-request figures are medians */
		printf("\"exits_total\":%llu,\"exits_by_reason\":{", exits);
		for (int k = 0; k < PV_EXIT__COUNT; k++)
			printf("%s\"%s\":%llu", k ? "," : "", pv_exit_reason_name(k), by[k]);
		printf("},");
		json_spread("exits_per_request", epr);
		/* KVM's own count: also in-kernel exits the guest did not
		 * cause (host interrupts), and on some hosts doorbells */
		if (kvm >= 0)
			printf("\"kvm_exits\":%lld,", kvm);
		else
			printf("\"kvm_exits\":null,");
	} else {
		printf("\"exits_total\":null,\"exits_by_reason\":null,");
		json_spread("exits_per_request", epr);
	}
	json_spread("mb_per_s", mb);
	json_spread("iops", io);
	json_spread("host_ratio", ratio);
	printf("\"runs\":[");
	for (unsigned int i = 0, first = 1; i < r->n; i++) {
		const struct run *u = &r->run[i];

		if (!r->ok[i])
			continue;
		printf("%s{\"requests\":%llu,\"seconds\":%s,\"mb_per_s\":%s,\"iops\":%s,\"exits_per_request\":%s,"
		       "\"host_ratio\":%s",
		       first ? "" : ",", u->requests, bench_num(a, sizeof(a), u->seconds),
		       bench_num(b, sizeof(b), mbps(r, i)), bench_num(c, sizeof(c), iops(r, i)),
		       exits_per_request(r, i) >= 0 ? bench_num(d, sizeof(d), exits_per_request(r, i)) : "null",
		       host_ratio(r, i) >= 0 ? bench_num(e, sizeof(e), host_ratio(r, i)) : "null");
		if (!strcmp(r->door, "pv")) /* the guest's side of the queue */
			printf(",\"guest_kicks\":%llu,\"guest_blocks\":%llu", u->kicks, u->blocks);
		printf("}");
		first = 0;
	}
	printf("]}\n");
}

/* Print (r) as a JSON line or a table row and add it to the plot; false if it has no runs. */
static bool print_row(const struct bench_opts *o, const struct row *r)
{
	struct spread epr = spread(r, exits_per_request), mb = spread(r, mbps), io = spread(r, iops);
	struct spread ratio = spread(r, host_ratio);
	unsigned long long requests = 0;
	unsigned int runs = 0;

	if (!mb.n)
		return false;
	for (unsigned int i = 0; i < r->n; i++)
		if (r->ok[i]) {
			runs++;
			requests += r->run[i].requests;
		}
	if (o->plot) {
		struct bench_plot_row p = { r->door, r->w->name, r->w->qd, r->backend, -1, -1, -1, mb.med, mb.min,
					    mb.max, -1, -1, -1 };

		if (epr.n)
			p.exits_per_request = epr.med, p.exits_min = epr.min, p.exits_max = epr.max;
		if (ratio.n)
			p.host_ratio = ratio.med, p.ratio_min = ratio.min, p.ratio_max = ratio.max;
		bench_plot_add(o->plot, &p);
	}
	if (o->json) {
		json_row(r, epr, mb, io, ratio);
	} else {
		char n[32];

		printf("%-8s %-12s %3u %-4s %4u %9llu", r->door, r->w->name, r->w->qd, r->backend ? r->backend : "-",
		       runs, requests);
		table_spread(epr, 9);
		table_spread(mb, 7);
		printf(" %7s", bench_num(n, sizeof(n), io.med));
		table_spread(ratio, 6);
		printf("\n");
	}
	fflush(stdout);
	return true;
}

static void blk_header(const struct bench_opts *o)
{
	(void)o;
	printf("%-8s %-12s %3s %-4s %4s %9s %9s %-15s %7s %-15s %7s %6s %-15s\n", "door", "workload", "qd", "bknd",
	       "runs", "requests", "exits/req", "[min-max]", "MB/s", "[min-max]", "IOPS", "/host", "[min-max]");
}

/* A KVM binary statistic of the run, -1 if absent (emu backend). */
static long long kvm_stat(const struct pv_stats *st, const char *name)
{
	for (unsigned int i = 0; i < st->nr_kvm; i++)
		if (!strcmp(st->kvm[i].name, name))
			return (long long)st->kvm[i].value;
	return -1;
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
		     struct run *res)
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
	unsigned long long n = 0, errs = 0, kicks = 0, blocks = 0;
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
	if (g.r < 0 || g.status || !g.ended ||
	    sscanf(con.buf, "requests=%llu errors=%llu kicks=%llu blocks=%llu", &n, &errs, &kicks, &blocks) != 4) {
		fprintf(stderr, "pvbench: %s %s on %s failed: %s %s\n", door, w->name, bench_backend_name(b),
			g.r < 0 ? pv_vm_error(g.vm) : "", con.buf);
		r = -1;
		goto out;
	}
	if (errs)
		fprintf(stderr, "pvbench: %s %s: %llu requests failed\n", door, w->name, errs);
	memset(res, 0, sizeof(*res));
	res->requests = n;
	res->seconds = g.t1 - g.t0;
	res->have_stats = true;
	res->exits_total = g.st.exits_total;
	memcpy(res->exits, g.st.exits, sizeof(res->exits));
	res->kvm_exits = kvm_stat(&g.st, "exits");
	res->kicks = kicks;
	res->blocks = blocks;
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

static bool selected(const struct bench_opts *o, const struct workload *w)
{
	return !o->workload || !strcmp(o->workload, w->name);
}

/*
 * fio's rows (fio[i] for workloads[i]), all from one fio process: (o->fio)
 * NULL = "fio" when installed, "none" = no rows.  Returns the number of
 * failures to count (fio named by --fio that failed).
 */
static int fio_rows(const struct bench_opts *o, const char *path, unsigned int reps, double secs,
		    struct row fio[NR_WORKLOADS])
{
	static struct run runs[NR_WORKLOADS * MAX_REPEAT];
	const struct workload *w[NR_WORKLOADS];
	size_t idx[NR_WORKLOADS];
	unsigned int nw = 0;
	int got;

	if (o->fio && !strcmp(o->fio, "none"))
		return 0;
	for (size_t i = 0; i < NR_WORKLOADS; i++)
		if (selected(o, &workloads[i])) {
			idx[nw] = i;
			w[nw++] = &workloads[i];
		}
	if (o->progress)
		fprintf(stderr, "pvbench: fio: %u workload%s x %u run%s...\n", nw, nw == 1 ? "" : "s", reps,
			reps == 1 ? "" : "s");
	got = bench_fio_run(o->fio, path, w, nw, secs, reps, runs);
	if (got == 0 && !o->json)
		fprintf(stderr, "pvbench: no fio rows: fio is not installed (--fio none: do not look)\n");
	if (got <= 0)
		return got < 0 && o->fio; /* asked for by name: it must work */
	for (unsigned int k = 0; k < nw; k++) {
		struct row *f = &fio[idx[k]];

		f->n = reps;
		for (unsigned int i = 0; i < reps; i++) {
			f->run[i] = runs[k * reps + i];
			f->ok[i] = true;
		}
	}
	return 0;
}

/*
 * Each workload runs (repeat) times.  Every run's host figure is taken in
 * two halves, just before and just after the guest's PV run, so that a drift
 * in the disk's speed weighs on both sides of the ratio alike; the emulated
 * door follows.  Each guest run is compared with the host run it sits in.
 * With several backends every backend gets its own host rows; fio, which
 * does not depend on the backend, runs once, first, with the first backend
 * (all its runs in one process: its start-up costs most of a second).
 */
static int blk_run(enum pv_backend b, const struct bench_opts *o)
{
	static struct host_pos pos[NR_WORKLOADS];
	static struct row host, pv, em, fio[NR_WORKLOADS]; /* large */
	static bool fio_ran;
	unsigned int reps = o->repeat ? o->repeat : 3;
	double secs = o->seconds > 0 ? o->seconds : 0.3;
	const char *path = disk_path(o);
	bool ata_missing = false, with_fio = !fio_ran;
	int failed = 0;

	if (!path)
		return -1;
	if (reps > MAX_REPEAT)
		reps = MAX_REPEAT;
	if (with_fio) {
		fio_ran = true;
		failed += fio_rows(o, path, reps, secs, fio);
	}
	for (size_t i = 0; i < NR_WORKLOADS; i++) {
		const struct workload *w = &workloads[i];
		bool ata = w->qd == 1 && !ata_missing; /* ATA PIO has no queue */
		bool em_once = false;

		if (!selected(o, w))
			continue;
		host = (struct row){ .door = "host", .w = w, .n = reps };
		pv = (struct row){ .door = "pv", .backend = bench_backend_name(b), .w = w, .n = reps, .host = &host };
		em = (struct row){ .door = "emulated", .backend = pv.backend, .w = w, .n = reps, .host = &host };
		fio[i].door = "fio";
		fio[i].w = w;
		fio[i].host = &host;
		if (o->progress)
			fprintf(stderr, "pvbench: %s %s qd%u: %u x (host io_uring, pv, host io_uring%s)...\n",
				bench_backend_name(b), w->name, w->qd, reps, ata ? ", emulated" : "");
		for (unsigned int k = 0; k < reps; k++) {
			struct run half;

			host.ok[k] = bench_host_run(path, w, secs / 2, &pos[i], &host.run[k]) == 0;
			pv.ok[k] = guest_run(b, path, "pv", w, secs, &pv.run[k]) == 0;
			if (host.ok[k] && bench_host_run(path, w, secs / 2, &pos[i], &half) == 0) {
				host.run[k].requests += half.requests;
				host.run[k].seconds += half.seconds;
			} else {
				if (host.ok[k])
					fprintf(stderr, "pvbench: host %s failed: %s\n", w->name, strerror(errno));
				host.ok[k] = false;
			}
			if (ata && !em_once)
				em.ok[k] = guest_run(b, path, "emulated", w, secs, &em.run[k]) == 0;
			if (ata && !em_once && !em.ok[k]) {
				ata = false;
				ata_missing = true; /* the door is missing: say it once */
				failed++;
			}
			/* One request outlasted the run by seconds (a 1 MiB PIO write
			 * on a slow backend): more runs would only repeat it. */
			if (ata && !em_once && em.run[k].requests <= 1 && em.run[k].seconds > 2 * secs + 1) {
				em_once = true;
				em.n = k + 1;
				if (o->progress && k + 1 < reps)
					fprintf(stderr, "pvbench: %s %s: one emulated request took %.1f s: no more "
						"emulated runs of it\n", bench_backend_name(b), w->name, em.run[k].seconds);
			}
			failed += !host.ok[k] + !pv.ok[k];
		}
		print_row(o, &host);
		if (with_fio)
			print_row(o, &fio[i]);
		print_row(o, &pv);
		if (w->qd == 1)
			print_row(o, &em);
	}
	return failed ? -1 : 0;
}

const struct bench_device bench_blk = { "blk", blk_header, blk_run };
