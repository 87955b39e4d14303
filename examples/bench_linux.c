/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvbench --device blk --guest linux: Debian's stock kernel on one disk
 * image through four doors, exits per request counted by KVM itself.
 *
 *   pv           pvrun --disk: pvblk.ko on libpv's PV block device
 *   emulated     pvrun --ata: pata_legacy on libpv's emulated ATA disk
 *   qemu-virtio  QEMU -enable-kvm -M pc, virtio-blk-pci (cache=none when
 *                the image takes O_DIRECT, else writeback)
 *   qemu-ide     QEMU -enable-kvm -M pc, its PIIX IDE (ata_piix)
 *
 * Each door is a child process whose console is two pipes; its guest's
 * /init (examples/guests/linux/pvbench-init.sh) runs the commands typed.
 * A window is: read the VM's counters in KVM's debugfs
 * (/sys/kernel/debug/kvm/PID-FD/), type one command, wait for its answer,
 * read them again.  Every door's exits are counted the same way.  The
 * background (console traffic of a window, timer ticks) is measured in the
 * same boot by two idle windows, "idle 0" (the fixed cost F of a window)
 * and "idle 1" (F plus one second of background B), and subtracted:
 * exits = window - F - B * (window time - idle 0 time).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#ifndef PVBENCH_LINUX_CACHE
#define PVBENCH_LINUX_CACHE "build/realkvm-cache"
#endif
#ifndef PVBENCH_LINUX_INITRD
#define PVBENCH_LINUX_INITRD "build/tests/realkvm/linux-bench.cpio"
#endif

extern char **environ;

/* KVM's per-VM counters we report, in debugfs file names. */
static const char *const kstat_names[] = { "exits", "io_exits", "mmio_exits", "halt_exits", "irq_exits",
					   "irq_window_exits", "request_irq_exits" };
#define NKSTAT (sizeof(kstat_names) / sizeof(kstat_names[0]))
static const char *const kstat_json[] = { "total", "io", "mmio", "hlt", "external_interrupt", "interrupt_window",
					  "request_irq" };

struct kstats {
	double v[NKSTAT];
};

struct door {
	const char *name;
	bool qemu;
};

static const struct door doors[] = {
	{ "pv", false }, { "emulated", false }, { "qemu-virtio", true }, { "qemu-ide", true },
};

struct work {
	const char *name;
	unsigned int qd;
	unsigned long long count; /* requests per window (--count sets them all) */
	unsigned long long pio;   /* the same for the emulated door's PIO (~5 exits a sector) */
};

static const struct work works[] = {
	{ "seqwrite-1m", 1, 50, 8 }, { "seqread-1m", 1, 50, 8 }, { "randread-4k", 1, 1000, 500 },
	{ "randread-4k", 32, 2000, 1000 }, { "flush", 1, 200, 200 },
};

struct child {
	pid_t pid;
	int in, out;          /* the guest's console input (we write), output (we read) */
	char buf[65536];
	size_t len;
	char dir[300];        /* its VM in KVM's debugfs */
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The next console line holding `want` within `timeout` seconds, copied
 * into line; 0, or -1 on timeout, end of output or a PVBENCH-ERROR. */
static int wait_line(struct child *c, const char *want, double timeout, char *line, size_t n)
{
	double end = now_s() + timeout;

	for (;;) {
		char *nl;

		while ((nl = memchr(c->buf, '\n', c->len))) {
			size_t l = (size_t)(nl - c->buf);
			int hit, err;

			c->buf[l] = 0;
			if (l && c->buf[l - 1] == '\r')
				c->buf[l - 1] = 0;
			hit = strstr(c->buf, want) != NULL;
			err = strstr(c->buf, "PVBENCH-ERROR") != NULL;
			if (hit || err) {
				size_t m = l < n - 1 ? l : n - 1;

				memcpy(line, c->buf, m);
				line[m] = 0;
			}
			memmove(c->buf, nl + 1, c->len - l - 1);
			c->len -= l + 1;
			if (err)
				return -1;
			if (hit)
				return 0;
		}
		double left = end - now_s();
		struct pollfd p = { c->out, POLLIN, 0 };

		if (left <= 0)
			return -1;
		if (c->len == sizeof(c->buf))
			c->len = 0; /* a line longer than the buffer: drop it */
		if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		ssize_t r = read(c->out, c->buf + c->len, sizeof(c->buf) - c->len);

		if (r <= 0)
			return -1;
		c->len += (size_t)r;
	}
}

static int type(struct child *c, const char *cmd)
{
	size_t n = strlen(cmd);

	return write(c->in, cmd, n) == (ssize_t)n ? 0 : -1;
}

static int spawn(struct child *c, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	int in[2], out[2], r;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	r = posix_spawnp(&c->pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	if (r) {
		close(in[1]);
		close(out[0]);
		return -r;
	}
	c->in = in[1];
	c->out = out[0];
	c->len = 0;
	return 0;
}

static void reap(struct child *c)
{
	for (int i = 0; i < 100; i++) { /* ~10 s to power off */
		if (waitpid(c->pid, NULL, WNOHANG) == c->pid)
			goto done;
		usleep(100000);
	}
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
done:
	close(c->in);
	close(c->out);
}

/* The child's VM in KVM's debugfs: PID-FD (the newest, should it have more). */
static int find_vm(struct child *c)
{
	char prefix[32];
	struct dirent *e;
	DIR *d = opendir("/sys/kernel/debug/kvm");

	if (!d && mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL) == 0)
		d = opendir("/sys/kernel/debug/kvm");
	if (!d)
		return -1;
	snprintf(prefix, sizeof(prefix), "%d-", (int)c->pid);
	c->dir[0] = 0;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix)))
			snprintf(c->dir, sizeof(c->dir), "/sys/kernel/debug/kvm/%s", e->d_name);
	closedir(d);
	return c->dir[0] ? 0 : -1;
}

static int read_kstats(const struct child *c, struct kstats *k)
{
	for (size_t i = 0; i < NKSTAT; i++) {
		char p[400];
		unsigned long long v = 0;
		FILE *f;

		snprintf(p, sizeof(p), "%s/%s", c->dir, kstat_names[i]);
		f = fopen(p, "r");
		if (!f || fscanf(f, "%llu", &v) != 1) {
			if (f)
				fclose(f);
			return -1;
		}
		fclose(f);
		k->v[i] = (double)v;
	}
	return 0;
}

/* One window: counters, command, answer, counters; *secs its length. */
static int window(struct child *c, const char *cmd, const char *answer, double timeout, struct kstats *d,
		  double *secs, char *line, size_t n)
{
	struct kstats a, b;
	double t0;

	if (read_kstats(c, &a) < 0)
		return -1;
	t0 = now_s();
	if (type(c, cmd) < 0 || wait_line(c, answer, timeout, line, n) < 0)
		return -1;
	*secs = now_s() - t0;
	if (read_kstats(c, &b) < 0)
		return -1;
	for (size_t i = 0; i < NKSTAT; i++)
		d->v[i] = b.v[i] - a.v[i];
	return 0;
}

struct linux_ctx {
	const struct bench_opts *o;
	char kernel[512], pvrun[512];
	const char *initrd, *disk;
	bool direct, qemu;
};

static void door_argv(const struct linux_ctx *x, const struct door *d, char *args[])
{
	static char append[256], drive[700];
	int i = 0;

	snprintf(append, sizeof(append), "console=ttyS0 panic=-1 quiet%s pvdoor=%s", d->qemu ? "" : " pci=off",
		 d->name);
	if (!d->qemu) {
		args[i++] = (char *)x->pvrun;
		args[i++] = "--kernel";
		args[i++] = (char *)x->kernel;
		args[i++] = "--initrd";
		args[i++] = (char *)x->initrd;
		args[i++] = "--mem";
		args[i++] = "512";
		args[i++] = !strcmp(d->name, "pv") ? "--disk" : "--ata";
		args[i++] = (char *)x->disk;
		args[i++] = "--append";
		args[i++] = append;
	} else {
		snprintf(drive, sizeof(drive), "file=%s,format=raw,cache=%s,%s", x->disk,
			 x->direct ? "none" : "writeback", !strcmp(d->name, "qemu-ide") ? "if=ide" : "if=virtio");
		args[i++] = "qemu-system-x86_64";
		args[i++] = "-enable-kvm";
		args[i++] = "-cpu";
		args[i++] = "host";
		args[i++] = "-M";
		args[i++] = "pc";
		args[i++] = "-m";
		args[i++] = "512";
		args[i++] = "-smp";
		args[i++] = "1";
		args[i++] = "-nodefaults";
		args[i++] = "-no-user-config";
		args[i++] = "-display";
		args[i++] = "none";
		args[i++] = "-serial";
		args[i++] = "stdio";
		args[i++] = "-kernel";
		args[i++] = (char *)x->kernel;
		args[i++] = "-initrd";
		args[i++] = (char *)x->initrd;
		args[i++] = "-append";
		args[i++] = append;
		args[i++] = "-drive";
		args[i++] = drive;
	}
	args[i] = NULL;
}

static void print_row(const struct linux_ctx *x, const struct door *d, const struct work *w, unsigned long long reqs,
		      const double *net, double mbps, double iops, const double *fixed, double per_s)
{
	double per = reqs ? net[0] / (double)reqs : 0;

	if (!x->o->json) {
		printf("%-12s %-12s %4u %7llu %9.3f %8.3f %8.3f %8.3f %8.3f %9.1f %9.0f\n", d->name, w->name, w->qd, reqs, per,
		       reqs ? net[1] / (double)reqs : 0, reqs ? net[2] / (double)reqs : 0,
		       reqs ? net[3] / (double)reqs : 0, reqs ? (net[4] + net[5]) / (double)reqs : 0, mbps, iops);
		fflush(stdout);
		return;
	}
	printf("{\"device\":\"blk\",\"guest\":\"linux\",\"backend\":\"kvm\",\"door\":\"%s\",\"workload\":\"%s\",\"qd\":%u,"
	       "\"requests\":%llu,\"exits_total\":%.0f,\"exits_per_request\":%.4f,\"kvm_exits_by_reason\":{",
	       d->name, w->name, w->qd, reqs, net[0], per);
	for (size_t i = 1; i < NKSTAT; i++)
		printf("%s\"%s\":%.0f", i > 1 ? "," : "", kstat_json[i], net[i]);
	printf(",\"other\":%.0f},\"mb_per_s\":%.2f,\"iops\":%.1f,\"direct\":%s,"
	       "\"background\":{\"per_window\":%.1f,\"per_second\":%.1f,\"subtracted\":true}}\n",
	       net[0] - net[1] - net[2] - net[3] - net[4] - net[5] - net[6], mbps, iops, x->direct ? "true" : "false",
	       fixed[0], per_s);
	fflush(stdout);
}

/* Boot one door, measure the background, run every workload, power off. */
static int run_door(const struct linux_ctx *x, const struct door *d)
{
	static struct child c;
	char *args[40], line[1024] = "";
	struct kstats f, b;
	double tf, tb, per_s[NKSTAT];
	int r = -1;

	door_argv(x, d, args);
	if (spawn(&c, args) < 0) {
		fprintf(stderr, "pvbench: %s: cannot start %s\n", d->name, args[0]);
		return -1;
	}
	if (wait_line(&c, "PVBENCH-READY", 900, line, sizeof(line)) < 0) {
		fprintf(stderr, "pvbench: %s: the guest did not get ready%s%s\n", d->name, *line ? ": " : "", line);
		goto out;
	}
	if (find_vm(&c) < 0) {
		fprintf(stderr, "pvbench: %s: no VM of pid %d in /sys/kernel/debug/kvm (debugfs, root)\n", d->name,
			(int)c.pid);
		goto out;
	}
	if (window(&c, "idle 0\n", "PVBENCH-IDLE", 60, &f, &tf, line, sizeof(line)) < 0 ||
	    window(&c, "idle 0\n", "PVBENCH-IDLE", 60, &f, &tf, line, sizeof(line)) < 0 || /* the second counts */
	    window(&c, "idle 1\n", "PVBENCH-IDLE", 60, &b, &tb, line, sizeof(line)) < 0) {
		fprintf(stderr, "pvbench: %s: idle windows failed\n", d->name);
		goto out;
	}
	for (size_t i = 0; i < NKSTAT; i++) {
		per_s[i] = tb > tf ? (b.v[i] - f.v[i]) / (tb - tf) : 0;
		if (per_s[i] < 0)
			per_s[i] = 0;
	}
	r = 0;
	for (size_t wi = 0; wi < sizeof(works) / sizeof(works[0]); wi++) {
		const struct work *w = &works[wi];
		unsigned long long count = x->o->count ? x->o->count : !strcmp(d->name, "emulated") ? w->pio : w->count;
		unsigned long long reqs = 0, bytes = 0, ns = 0, errs = 1;
		char cmd[128];
		struct kstats k;
		double secs, net[NKSTAT];
		const char *p;

		if (x->o->workload && strcmp(x->o->workload, w->name))
			continue;
		snprintf(cmd, sizeof(cmd), "run %s %u %llu\n", w->name, w->qd, count);
		if (window(&c, cmd, "PVBENCH-RESULT", 1800, &k, &secs, line, sizeof(line)) < 0) {
			fprintf(stderr, "pvbench: %s %s: no result\n", d->name, w->name);
			r = -1;
			break;
		}
		p = strstr(line, "requests=");
		if (!p || sscanf(p, "requests=%llu bytes=%llu ns=%llu errors=%llu", &reqs, &bytes, &ns, &errs) != 4 ||
		    errs) {
			fprintf(stderr, "pvbench: %s %s: %s\n", d->name, w->name, line);
			r = -1;
			continue;
		}
		for (size_t i = 0; i < NKSTAT; i++) {
			net[i] = k.v[i] - f.v[i] - per_s[i] * (secs > tf ? secs - tf : 0);
			if (net[i] < 0)
				net[i] = 0;
		}
		print_row(x, d, w, reqs, net, ns ? (double)bytes / (double)ns * 1e3 : 0,
			  ns ? (double)reqs / ((double)ns / 1e9) : 0, f.v, per_s[0]);
	}
	type(&c, "quit\n");
out:
	reap(&c);
	return r;
}

static bool on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[1024];

	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, prog);
		if (access(buf, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

/* Does the file system of path take O_DIRECT? */
static bool takes_direct(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECT);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int bench_linux(const struct bench_opts *o, const char *kernel, const char *initrd)
{
	struct linux_ctx x = { .o = o, .initrd = initrd ? initrd : PVBENCH_LINUX_INITRD };
	char tmp[] = "/var/tmp/pvbench-linux-XXXXXX", self[512];
	ssize_t n;
	int failed = 0, fd = -1;

	if (kernel) {
		snprintf(x.kernel, sizeof(x.kernel), "%s", kernel);
	} else {
		glob_t g;

		if (glob(PVBENCH_LINUX_CACHE "/linux-image-6.1.0-*-amd64/boot/vmlinuz-*", 0, NULL, &g) || !g.gl_pathc) {
			fprintf(stderr, "pvbench: no kernel in %s (tests/realkvm/realkvm.sh fetches Debian's; or give "
				"--kernel)\n", PVBENCH_LINUX_CACHE);
			return 1;
		}
		snprintf(x.kernel, sizeof(x.kernel), "%s", g.gl_pathv[g.gl_pathc - 1]);
		globfree(&g);
	}
	if (access(x.initrd, R_OK) < 0) {
		fprintf(stderr, "pvbench: no initramfs %s (build it: ninja -C build tests/realkvm/linux-bench.cpio)\n",
			x.initrd);
		return 1;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = 0;
	snprintf(x.pvrun, sizeof(x.pvrun), "%.*s/pvrun", (int)(strrchr(self, '/') - self), self);
	if (o->disk) {
		x.disk = o->disk;
	} else {
		fd = mkstemp(tmp);
		if (fd < 0 || ftruncate(fd, 256ll << 20) < 0) {
			fprintf(stderr, "pvbench: cannot make an image in /var/tmp: %s\n", strerror(errno));
			return 1;
		}
		x.disk = tmp;
	}
	x.direct = takes_direct(x.disk);
	x.qemu = on_path("qemu-system-x86_64");
	if (!o->json) {
		printf("Linux guest (%s), one vCPU, disk %s%s; KVM's exits per request in the workload window, the idle "
		       "background of the same boot subtracted\n", x.kernel, x.disk, x.direct ? "" : " (buffered: no O_DIRECT here)");
		printf("%-12s %-12s %4s %7s %9s %8s %8s %8s %8s %9s %9s\n", "door", "workload", "qd", "reqs", "exits/req",
		       "io", "mmio", "hlt", "irq+win", "MB/s", "IOPS");
	}
	for (size_t i = 0; i < sizeof(doors) / sizeof(doors[0]); i++) {
		if (o->door && strcmp(o->door, doors[i].name))
			continue;
		if (doors[i].qemu && !x.qemu) {
			fprintf(stderr, "pvbench: no qemu-system-x86_64: no %s rows\n", doors[i].name);
			continue;
		}
		if (run_door(&x, &doors[i]) < 0)
			failed++;
	}
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	return failed ? 1 : 0;
}
