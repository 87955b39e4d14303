/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvrun: the example libpv monitor.  Runs a guest ELF with the devices its
 * options name (a table below: each device flag is one row); the guest's
 * console goes to stdout and its exit status becomes pvrun's.  Exit
 * statistics go to stderr (--stats) or a JSON file (--stats-json).
 *
 * Exit status: the guest's; 2 for bad usage; 125 when the VM cannot be set
 * up (backend, memory, ELF); 126 when the guest faulted; 159 when a
 * sandboxed thread made a forbidden system call.
 *
 * Confinement: before anything else pvrun sets no_new_privs (no exec of a
 * set-uid program gains rights; the seccomp filters need it), sets
 * RLIMIT_CORE to 0 (a crash leaves no core file with guest memory in it),
 * and closes every inherited descriptor above stderr.  The VM runs with
 * libpv's seccomp sandbox in kill mode (<pv/pv.h>) unless --no-sandbox;
 * PV_SANDBOX=off|kill|log in the environment overrides both.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <pv/ata.h>
#include <pv/blk.h>
#include <pv/pv.h>
#ifdef PV_HAVE_EMU
#include <pv/emu.h>
#endif

#define EXIT_USAGE 2
#define EXIT_SETUP 125
#define EXIT_FAULT 126

static const char usage[] =
	"usage: pvrun [--backend auto|kvm|emu] [--mem MiB] [--cpus N] [--cmdline STR]\n"
	"             [--disk PATH[,ro]] [--ata PATH[,ro]] [--stats] [--stats-json FILE] [--no-sandbox]\n"
	"             GUEST.elf\n"
	"Run a libpv guest.  Its console goes to stdout; its exit status is pvrun's.\n"
	"  --backend B        kvm, emu (Unicorn) or auto (kvm if usable; default)\n"
	"  --mem MiB          guest RAM, an even number of MiB from 4 to 65536 (default 64)\n"
	"  --cpus N           vCPUs, 1 to 64 (default 1)\n"
	"  --cmdline STR      guest command line\n"
	"  --disk PATH[,ro]   a PV disk (raw image or block device), read-only with ,ro\n"
	"  --ata PATH[,ro]    the emulated ATA disk (primary channel), read-only with ,ro\n"
	"  --stats            print exit counts by reason to stderr at exit\n"
	"  --stats-json FILE  write exit counts as JSON to FILE\n"
	"  --no-sandbox       run the VM's threads without their seccomp filters\n"
	"Exit status: the guest's; 2 bad usage; 125 VM setup failed; 126 guest fault;\n"
	"159 a sandboxed thread made a forbidden system call.\n";

static int fail(int code, const char *fmt, const char *arg)
{
	fprintf(stderr, "pvrun: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return code;
}

/* libpv's notes (backend choice) wait until the guest is loaded: a refusal
 * stays one line, and a run still says which backend it got. */
static char notes[1024];
static size_t notes_len;

static void hold_note(const char *msg)
{
	int n = snprintf(notes + notes_len, sizeof(notes) - notes_len, "libpv: %s\n", msg);

	if (n > 0 && (size_t)n < sizeof(notes) - notes_len)
		notes_len += (size_t)n;
}

static bool parse_num(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && !*end && *out <= max;
}

/* ---- device flags: one row per device a user can attach ---- */

struct dev_arg {
	char path[4096];
	bool read_only;
};

static int attach_disk(struct pv_vm *vm, const struct dev_arg *a)
{
	struct pv_blkback_config c = { .path = a->path, .read_only = a->read_only, .poll_ns = 50000 };
	struct pv_blkback *b;

	return pv_blkback_attach(vm, &c, &b);
}

static int attach_ata(struct pv_vm *vm, const struct dev_arg *a)
{
	struct pv_ata_config c = { .path = a->path, .read_only = a->read_only };
	struct pv_ata *ata;

	return pv_ata_attach(vm, &c, &ata);
}

static const struct dev_flag {
	const char *name;  /* the option, without "--" */
	int (*attach)(struct pv_vm *vm, const struct dev_arg *a);
} dev_flags[] = {
	{ "disk", attach_disk },
	{ "ata", attach_ata },
};
#define NR_DEV_FLAGS (sizeof(dev_flags) / sizeof(dev_flags[0]))
#define DEV_OPT_BASE 1000 /* getopt value of dev_flags[0] */

/* "PATH[,ro]" into a; false if it is not that. */
static bool parse_dev_arg(const char *s, struct dev_arg *a)
{
	size_t n = strlen(s);

	a->read_only = n >= 3 && !strcmp(s + n - 3, ",ro");
	if (a->read_only)
		n -= 3;
	if (n == 0 || n >= sizeof(a->path))
		return false;
	memcpy(a->path, s, n);
	a->path[n] = 0;
	return true;
}

/* What pvrun does to itself before it opens anything (see the top). */
static int confine(void)
{
	struct rlimit no_core = { 0, 0 };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || setrlimit(RLIMIT_CORE, &no_core) < 0)
		return -errno;
	if (close_range(3, ~0u, 0) < 0)
		return -errno;
	return 0;
}

static void print_stats(struct pv_vm *vm, const struct pv_stats *st)
{
	fprintf(stderr, "--- exits (backend %s) ---\n", pv_vm_backend(vm));
	fprintf(stderr, "%-24s %12llu\n", "total", (unsigned long long)st->exits_total);
	for (int r = 0; r < PV_EXIT__COUNT; r++)
		fprintf(stderr, "%-24s %12llu\n", pv_exit_reason_name(r), (unsigned long long)st->exits[r]);
	for (unsigned int i = 0; i < PV_HC_NR; i++)
		if (st->hypercalls[i])
			fprintf(stderr, "  hypercall %-14s %12llu\n", pv_hypercall_name(i),
				(unsigned long long)st->hypercalls[i]);
	if (st->hypercalls_unknown)
		fprintf(stderr, "  hypercall %-14s %12llu\n", "unknown", (unsigned long long)st->hypercalls_unknown);
	for (unsigned int i = 0; i < st->nr_devs; i++)
		fprintf(stderr, "  %-4s %-19s %12llu\n", st->devs[i].mmio ? "mmio" : "pio", st->devs[i].name,
			(unsigned long long)st->devs[i].exits);
	if (st->pio_unclaimed)
		fprintf(stderr, "  pio  %-19s %12llu\n", "unclaimed", (unsigned long long)st->pio_unclaimed);
	for (unsigned int i = 0; i < st->nr_kvm; i++)
		if (st->kvm[i].value)
				fprintf(stderr, "  kvm  %-19s %12llu\n", st->kvm[i].name,
					(unsigned long long)st->kvm[i].value);
	fprintf(stderr, "%-24s %12.3f ms\n%-24s %12.3f ms\n", "create to guest entry", st->startup_ns / 1e6,
		"guest run", st->run_ns / 1e6);
}

static int write_json(struct pv_vm *vm, const struct pv_stats *st, const char *path)
{
	char buf[8192];
	FILE *f;
	int n = pv_stats_json(st, buf, sizeof(buf));

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "{\"backend\":\"%s\",\"stats\":%s}\n", pv_vm_backend(vm), buf);
	return fclose(f);
}

int main(int argc, char **argv)
{
	static const struct option base_opts[] = {
		{ "backend", required_argument, 0, 'b' }, { "mem", required_argument, 0, 'm' },
		{ "cpus", required_argument, 0, 'c' },    { "cmdline", required_argument, 0, 'l' },
		{ "stats", no_argument, 0, 's' },         { "stats-json", required_argument, 0, 'j' },
		{ "help", no_argument, 0, 'h' },        { "no-sandbox", no_argument, 0, 'n' },
	};
	struct option opts[sizeof(base_opts) / sizeof(base_opts[0]) + NR_DEV_FLAGS + 1];
	static struct dev_arg dev_args[NR_DEV_FLAGS];
	bool dev_given[NR_DEV_FLAGS] = { false };
	size_t nopts = 0;
	struct pv_vm_config cfg = { .ram_size = 64ull << 20, .vcpus = 1, .backend = PV_BACKEND_AUTO,
				    .sandbox = PV_SANDBOX_KILL };
	const char *json = NULL;
	bool stats = false;
	unsigned long long n;
	struct pv_vm *vm;
	struct pv_stats st;
	int c, r, status = 0;

	for (size_t i = 0; i < sizeof(base_opts) / sizeof(base_opts[0]); i++)
		opts[nopts++] = base_opts[i];
	for (size_t i = 0; i < NR_DEV_FLAGS; i++)
		opts[nopts++] = (struct option){ dev_flags[i].name, required_argument, 0, DEV_OPT_BASE + (int)i };
	opts[nopts] = (struct option){ 0, 0, 0, 0 };
	r = confine();
	if (r < 0)
		return fail(EXIT_SETUP, "cannot confine pvrun: %s", strerror(-r));
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c >= DEV_OPT_BASE && c < DEV_OPT_BASE + (int)NR_DEV_FLAGS) {
			size_t i = (size_t)(c - DEV_OPT_BASE);

			if (dev_given[i]) {
				fprintf(stderr, "pvrun: --%s given twice (one such device per VM)\n", dev_flags[i].name);
				return EXIT_USAGE;
			}
			if (!parse_dev_arg(optarg, &dev_args[i])) {
				fprintf(stderr, "pvrun: --%s %s: give PATH or PATH,ro\n", dev_flags[i].name, optarg);
				return EXIT_USAGE;
			}
			dev_given[i] = true;
			continue;
		}
		switch (c) {
		case 'b':
			if (!strcmp(optarg, "auto"))
				cfg.backend = PV_BACKEND_AUTO;
			else if (!strcmp(optarg, "kvm"))
				cfg.backend = PV_BACKEND_KVM;
			else if (!strcmp(optarg, "emu"))
				cfg.backend = PV_BACKEND_EMU;
			else
				return fail(EXIT_USAGE, "unknown backend '%s' (use auto, kvm or emu)", optarg);
			break;
		case 'm':
			if (!parse_num(optarg, PV_RAM_MAX >> 20, &n) || n < (PV_RAM_MIN >> 20) || n % 2)
				return fail(EXIT_USAGE, "--mem %s: give an even number of MiB from 4 to 65536", optarg);
			cfg.ram_size = n << 20;
			break;
		case 'c':
			if (!parse_num(optarg, PV_MAX_VCPUS, &n) || n == 0)
				return fail(EXIT_USAGE, "--cpus %s: give a number from 1 to 64", optarg);
			cfg.vcpus = (unsigned int)n;
			break;
		case 'l':
			cfg.cmdline = optarg;
			break;
		case 's':
			stats = true;
			break;
		case 'j':
			json = optarg;
			break;
		case 'n':
			cfg.sandbox = PV_SANDBOX_OFF;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			if (optopt)
				fprintf(stderr, "pvrun: option -%c is unknown or needs a value (see --help)\n", optopt);
			else
				fprintf(stderr, "pvrun: option %s is unknown or needs a value (see --help)\n",
					argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return fail(EXIT_USAGE, "%s", optind >= argc ? "no guest ELF given (see --help)"
							     : "give exactly one guest ELF (see --help)");
#ifdef PV_HAVE_EMU
	pv_emu_register();
#endif
	pv_set_log(hold_note);
	r = pv_vm_create(&cfg, &vm);
	if (r < 0)
		return fail(EXIT_SETUP, "%s", pv_last_error());
	r = pv_vm_load_elf(vm, argv[optind]);
	if (r < 0) {
		fprintf(stderr, "pvrun: cannot load %s: %s\n", argv[optind], pv_vm_error(vm));
		pv_vm_destroy(vm);
		return EXIT_SETUP;
	}
	for (size_t i = 0; i < NR_DEV_FLAGS; i++) {
		if (!dev_given[i])
			continue;
		r = dev_flags[i].attach(vm, &dev_args[i]);
		if (r < 0) {
			fprintf(stderr, "pvrun: --%s %s: %s\n", dev_flags[i].name, dev_args[i].path, strerror(-r));
			pv_vm_destroy(vm);
			return EXIT_SETUP;
		}
	}
	fputs(notes, stderr);
	pv_set_log(NULL);
	r = pv_vm_run(vm, &status);
	fflush(stdout);
	if (r < 0)
		fprintf(stderr, "pvrun: %s\n", pv_vm_error(vm));
	pv_vm_stats(vm, -1, &st);
	if (stats)
		print_stats(vm, &st);
	if (json && write_json(vm, &st, json) < 0) {
		fprintf(stderr, "pvrun: cannot write %s: %s\n", json, strerror(errno));
		if (r == 0)
			r = -EIO, status = EXIT_SETUP;
	}
	pv_vm_destroy(vm);
	if (r == -EFAULT)
		return EXIT_FAULT;
	if (r < 0)
		return EXIT_SETUP;
	return status;
}
