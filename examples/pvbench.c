/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvbench: the libpv benchmark.  Exit counts are the headline; times are
 * given as ratios measured in the same run.  This file is the command line
 * and the hypercall device; the others live in bench_*.c.
 *
 * --device hypercall: per backend, the cost of one hypercall against a bare
 * port-I/O exit of the same backend (examples/guests/hcbench.c).
 * --device cpu (bench_cpu.c): compute workloads in a guest against the same
 * C code run natively.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pv/pv.h>
#ifdef PV_HAVE_EMU
#include <pv/emu.h>
#endif

#include "bench.h"
#include "bench_plot.h"

#ifndef PVBENCH_GUEST_DIR
#define PVBENCH_GUEST_DIR "examples/guests"
#endif

void bench_console(void *opaque, const char *buf, size_t len)
{
	struct bench_console *c = opaque;

	if (len > sizeof(c->buf) - 1 - c->len)
		len = sizeof(c->buf) - 1 - c->len;
	memcpy(c->buf + c->len, buf, len);
	c->len += len;
	c->buf[c->len] = 0;
}

const char *bench_guest_path(const char *name, char *buf, size_t n)
{
	const char *dir = getenv("PVBENCH_GUEST_DIR");

	snprintf(buf, n, "%s/%s.elf", dir ? dir : PVBENCH_GUEST_DIR, name);
	return buf;
}

const char *bench_backend_name(enum pv_backend b)
{
	return b == PV_BACKEND_KVM ? "kvm" : b == PV_BACKEND_EMU ? "emu" : "auto";
}

/* Run a guest to completion; console captured into *c. */
static int run(enum pv_backend b, const char *guest, const char *cmdline, struct bench_console *c,
	       struct pv_stats *st)
{
	struct pv_vm_config cfg = { .ram_size = 16u << 20, .backend = b, .cmdline = cmdline,
				    .console = bench_console, .console_opaque = c };
	char path[512];
	struct pv_vm *vm;
	int r, status = 0;

	r = pv_vm_create(&cfg, &vm);
	if (r < 0) {
		fprintf(stderr, "pvbench: %s\n", pv_last_error());
		return r;
	}
	r = pv_vm_load_elf(vm, bench_guest_path(guest, path, sizeof(path)));
	if (r == 0)
		r = pv_vm_run(vm, &status);
	if (r < 0)
		fprintf(stderr, "pvbench: %s: %s\n", path, pv_vm_error(vm));
	else if (status)
		fprintf(stderr, "pvbench: %s exited with %d: %s", path, status, c->buf), r = -EIO;
	if (st)
		pv_vm_stats(vm, -1, st);
	pv_vm_destroy(vm);
	return r;
}

static void hypercall_header(const struct bench_opts *o)
{
	(void)o;
	printf("%-8s %10s %14s %14s %10s %12s\n", "backend", "calls", "ns_per_call", "bare_exit_ns", "ratio",
	       "exits_total");
}

static int hypercall_run(enum pv_backend b, const struct bench_opts *o)
{
	unsigned long long calls = o->count ? o->count : b == PV_BACKEND_KVM ? 20000 : 1000000;
	bool json = o->json;
	struct bench_console c = { .len = 0 };
	struct pv_stats st;
	unsigned long long n, bare, hc;
	char cmd[32];
	double ns, bare_ns;

	snprintf(cmd, sizeof(cmd), "%llu", calls);
	if (run(b, "hcbench", cmd, &c, &st) < 0)
		return -1;
	if (sscanf(c.buf, "hcbench n=%llu bare_ns=%llu hc_ns=%llu", &n, &bare, &hc) != 3 || n == 0) {
		fprintf(stderr, "pvbench: unexpected hcbench output: %s", c.buf);
		return -1;
	}
	ns = (double)hc / (double)n;
	bare_ns = (double)bare / (double)n;
	if (json)
		printf("{\"device\":\"hypercall\",\"backend\":\"%s\",\"calls\":%llu,\"ns_per_call\":%.1f,"
		       "\"bare_exit_ns\":%.1f,\"overhead_ratio\":%.3f,\"exits_total\":%llu}\n",
		       b == PV_BACKEND_KVM ? "kvm" : "emu", n, ns, bare_ns, ns / bare_ns,
		       (unsigned long long)st.exits_total);
	else
		printf("%-8s %10llu %14.1f %14.1f %10.3f %12llu\n", b == PV_BACKEND_KVM ? "kvm" : "emu", n, ns, bare_ns,
		       ns / bare_ns, (unsigned long long)st.exits_total);
	return 0;
}

const struct bench_device bench_hypercall = { "hypercall", hypercall_header, hypercall_run };

static void quiet(const char *msg)
{
	(void)msg;
}

static const struct bench_device *const devices[] = { &bench_hypercall, &bench_ring, &bench_blk, &bench_cpu, &bench_net, &bench_soak };

static const char usage[] =
	"usage: pvbench [--device hypercall|ring|blk|cpu|net] [--backend all|auto|kvm|emu] [--json]\n"
	"               [--count N] [--seconds S] [--repeat N] [--workload W] [--disk PATH]\n"
	"               [--fio PROG|none] [--plot FILE.svg] [--soak S]\n"
	"               [--guest libpv|linux [--kernel BZIMAGE] [--initrd CPIO] [--door D]]\n"
	"  --device D     what to measure (default blk)\n"
	"  --backend B    all (every usable backend; default), auto, kvm or emu\n"
	"  --json         one JSON object per line\n"
	"  --count N      amount of work: hypercalls (default 20000 on kvm, 1000000 on emu),\n"
	"                 ring messages (default 20000 on emu, 2000 on kvm),\n"
	"                 net datagrams (default 40000 on emu, 4000 on kvm; a tenth for GSO),\n"
	"                 cpu repetitions, the best one counted (default 5 on emu, 1 on kvm)\n"
	"  --seconds S    blk: time per workload run (default 0.3)\n"
	"  --repeat N     blk: run each workload N times (1-25, default 3), each guest run between\n"
	"                 two host halves; figures are the median with the runs' min and max\n"
	"  --workload W   blk: only seqwrite-1m, seqread-1m, randread-4k (QD1 and QD32) or flush\n"
	"  --disk PATH    blk: raw image or block device (default: a temporary 256 MiB image)\n"
	"  --fio PROG     blk: the fio that measures the reference rows (default: fio, if installed);\n"
	"                 none: no fio rows\n"
	"  --soak S       run four block VMs beside hostile neighbours for S seconds; fail if RSS\n"
	"                 or open descriptors grow after warm-up or a VM stalls over 1 s\n"
	"  --plot FILE    blk: also draw exits per request and the host ratio as an SVG picture\n"
	"  --guest G      blk: libpv's own guests (default), or linux: Debian's stock kernel through\n"
	"                 pvblk.ko, pata_legacy on the emulated ATA disk and, with qemu-system-x86_64,\n"
	"                 QEMU's virtio-blk and IDE, exits per request from KVM's own counters (root,\n"
	"                 a KVM that boots Linux: here inside tests/realkvm/realkvm.sh); --count sets\n"
	"                 the requests per window, --workload and --disk apply\n"
	"  --kernel K     linux: the bzImage (default: the realkvm cache's Debian kernel)\n"
	"  --initrd I     linux: the initramfs (default: the build's tests/realkvm/linux-bench.cpio)\n"
	"  --door D       linux: only pv, emulated, qemu-virtio or qemu-ide\n";

/* The plot's subtitle: the command line that made it. */
static void command_line(int argc, char **argv, char *buf, size_t n)
{
	size_t len = (size_t)snprintf(buf, n, "pvbench");

	for (int i = 1; i < argc && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, " %s", argv[i]);
}

/* Draw the blk rows in (plot) to (f), opened as (path); 0 or -1. */
static int write_plot(FILE *f, const char *path, const struct bench_plot *plot, const char *subtitle)
{
	if (bench_plot_write(f, plot, subtitle) < 0 || fflush(f) != 0) {
		fprintf(stderr, "pvbench: --plot %s: %s\n", path, strerror(errno));
		fclose(f);
		return -1;
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "pvbench: --plot %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(stderr, "pvbench: wrote %s\n", path);
	return 0;
}

/* Nothing ran: leave no empty picture behind. */
static void discard_plot(FILE *f, const char *path)
{
	if (f) {
		fclose(f);
		unlink(path);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, 0, 'd' }, { "backend", required_argument, 0, 'b' },
		{ "json", no_argument, 0, 'j' },         { "count", required_argument, 0, 'n' },
		{ "calls", required_argument, 0, 'n' },  { "seconds", required_argument, 0, 's' },
		{ "disk", required_argument, 0, 'D' },   { "plot", required_argument, 0, 'p' },
		{ "repeat", required_argument, 0, 'r' }, { "fio", required_argument, 0, 'f' },
		{ "workload", required_argument, 0, 'w' },
		{ "help", no_argument, 0, 'h' },         { "soak", required_argument, 0, 'S' },
		{ "guest", required_argument, 0, 'g' },  { "kernel", required_argument, 0, 'K' },
		{ "initrd", required_argument, 0, 'I' }, { "door", required_argument, 0, 'o' },
		{ 0, 0, 0, 0 },
	};
	const char *backend = "all", *device = "blk", *plot_path = NULL, *kernel = NULL, *initrd = NULL;
	bool linux_guest = false;
	static struct bench_plot plot;
	char subtitle[512];
	FILE *plot_file = NULL;
	const struct bench_device *dev = NULL;
	struct bench_opts o = { .json = false };
	int c, ran = 0, failed = 0;
	unsigned long n;
	char *end;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			device = optarg;
			break;
		case 'b':
			backend = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'n':
			errno = 0;
			o.count = strtoull(optarg, &end, 10);
			if (errno || *end || o.count == 0 || o.count > 100000000 || *optarg == '-') {
				fprintf(stderr, "pvbench: --count %s: give a number from 1 to 100000000\n", optarg);
				return 2;
			}
			break;
		case 's':
			errno = 0;
			o.seconds = strtod(optarg, &end);
			if (errno || *end || !(o.seconds > 0 && o.seconds <= 3600)) {
				fprintf(stderr, "pvbench: --seconds %s: give a number of seconds from 0 to 3600\n", optarg);
				return 2;
			}
			break;
		case 'r':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || *optarg < '0' || *optarg > '9' || n == 0 || n > 25) {
				fprintf(stderr, "pvbench: --repeat %s: give a number of runs from 1 to 25\n", optarg);
				return 2;
			}
			o.repeat = (unsigned int)n;
			break;
		case 'f':
			if (!*optarg) {
				fprintf(stderr, "pvbench: --fio: give the fio program, or none\n");
				return 2;
			}
			o.fio = optarg;
			break;
		case 'w':
			if (!bench_blk_workload(optarg)) {
				fprintf(stderr, "pvbench: unknown workload '%s' (use seqwrite-1m, seqread-1m, randread-4k "
					"or flush)\n", optarg);
				return 2;
			}
			o.workload = optarg;
			break;
		case 'D':
			o.disk = optarg;
			break;
		case 'S':
			errno = 0;
			o.seconds = strtod(optarg, &end);
			if (errno || *end || !(o.seconds >= 10 && o.seconds <= 86400)) {
				fprintf(stderr, "pvbench: --soak %s: give a number of seconds from 10 to 86400\n", optarg);
				return 2;
			}
			device = "soak";
			if (!strcmp(backend, "all"))
				backend = "auto";
			break;
		case 'p':
			plot_path = optarg;
			break;
		case 'g':
			if (strcmp(optarg, "linux") && strcmp(optarg, "libpv")) {
				fprintf(stderr, "pvbench: unknown guest '%s' (use libpv or linux)\n", optarg);
				return 2;
			}
			linux_guest = !strcmp(optarg, "linux");
			break;
		case 'K':
			kernel = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "pv") && strcmp(optarg, "emulated") && strcmp(optarg, "qemu-virtio") &&
			    strcmp(optarg, "qemu-ide")) {
				fprintf(stderr, "pvbench: unknown door '%s' (use pv, emulated, qemu-virtio or qemu-ide)\n",
					optarg);
				return 2;
			}
			o.door = optarg;
			break;
		case 'I':
			initrd = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fprintf(stderr, "pvbench: option %s is unknown or needs a value (see --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "pvbench: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
		if (!strcmp(device, devices[i]->name))
			dev = devices[i];
	if (!dev) {
		fprintf(stderr, "pvbench: unknown device '%s' (use hypercall, ring, blk, cpu or net, or --soak)\n", device);
		return 2;
	}
	if (strcmp(backend, "all") && strcmp(backend, "auto") && strcmp(backend, "kvm") && strcmp(backend, "emu")) {
		fprintf(stderr, "pvbench: unknown backend '%s' (use all, auto, kvm or emu)\n", backend);
		return 2;
	}
	if ((o.repeat || o.fio || o.workload) && dev != &bench_blk) {
		fprintf(stderr, "pvbench: --%s is for --device blk only, not %s\n",
			o.repeat ? "repeat" : o.fio ? "fio" : "workload", dev->name);
		return 2;
	}
	if ((kernel || initrd || o.door) && !linux_guest) {
		fprintf(stderr, "pvbench: --%s is for --guest linux\n", kernel ? "kernel" : initrd ? "initrd" : "door");
		return 2;
	}
	if (linux_guest) {
		if (dev != &bench_blk || plot_path || o.repeat || o.fio || strcmp(backend, "all")) {
			fprintf(stderr, "pvbench: --guest linux is --device blk on kvm, without --plot, --repeat, --fio "
				"or --backend\n");
			return 2;
		}
		return bench_linux(&o, kernel, initrd);
	}
	if (plot_path && dev != &bench_blk) {
		fprintf(stderr, "pvbench: --plot draws --device blk only, not %s\n", dev->name);
		return 2;
	}
	if (plot_path) { /* before the run, so a bad path costs no benchmark */
		plot_file = fopen(plot_path, "w");
		if (!plot_file) {
			fprintf(stderr, "pvbench: --plot %s: %s\n", plot_path, strerror(errno));
			return 2;
		}
		o.plot = &plot;
		command_line(argc, argv, subtitle, sizeof(subtitle));
	}
	o.progress = !o.json;
#ifdef PV_HAVE_EMU
	pv_emu_register();
#endif
	if (o.json)
		pv_set_log(quiet);
	if (!o.json)
		dev->header(&o);
	for (int i = 0; i < 2; i++) {
		enum pv_backend b = i == 0 ? PV_BACKEND_KVM : PV_BACKEND_EMU;
		const char *name = bench_backend_name(b);
		char why[200];
		bool usable = pv_backend_probe(b, why, sizeof(why)) == 0;

		if (!strcmp(backend, "auto") && (ran || !usable))
			continue; /* auto: the first usable backend */
		if (strcmp(backend, "all") && strcmp(backend, "auto") && strcmp(backend, name))
			continue;
		if (!usable) {
			if (!strcmp(backend, name)) {
				fprintf(stderr, "pvbench: backend %s unusable: %s\n", name, why);
				discard_plot(plot_file, plot_path);
				return 1;
			}
			if (!o.json)
				fprintf(stderr, "pvbench: skipping %s: %s\n", name, why);
			continue;
		}
		ran++;
		if (dev->run(b, &o) < 0)
			failed++;
	}
	if (!ran) {
		fprintf(stderr, "pvbench: no usable backend\n");
		discard_plot(plot_file, plot_path);
		return 1;
	}
	if (plot_file && write_plot(plot_file, plot_path, &plot, subtitle) < 0)
		failed++;
	return failed ? 1 : 0;
}
