/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvrun: the example libpv monitor.  Runs a guest ELF with the devices its
 * options name (a table below: each device flag is one row); the guest's
 * console goes to stdout and its exit status becomes pvrun's.  Exit
 * statistics go to stderr (--stats) or a JSON file (--stats-json).
 *
 * With --domain FILE.xml the VM is a libvirt domain definition instead
 * (pvrun_domain.h: validated by libvirt, refused by name where libpv cannot
 * honour it); --print-domain writes the VM of a command line as domain XML.
 *
 * Exit status: the guest's; 2 for bad usage or refused domain XML; 125
 * when the VM cannot be set up (backend, memory, ELF, libvirt storage);
 * 126 when the guest faulted; 159 when a sandboxed thread made a forbidden
 * system call.
 *
 * With --kernel it boots Linux on the PC platform instead (<pv/linux.h>):
 * the serial console is the terminal, the power-off status is pvrun's, and
 * SIGINT/SIGTERM/SIGHUP stop the VM (exit 128 + N).  The PC platform's
 * threads are not confined yet: such a VM runs without the sandbox.
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
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include <pv/ata.h>
#include <pv/blk.h>
#include <pv/linux.h>
#include <pv/pv.h>
#ifdef PV_HAVE_EMU
#include <pv/emu.h>
#endif

#include "pvrun_domain.h"

#define EXIT_USAGE PVRUN_EXIT_USAGE
#define EXIT_SETUP PVRUN_EXIT_SETUP
#define EXIT_FAULT 126

static const char usage[] =
	"usage: pvrun [--backend auto|kvm|emu] [--mem MiB] [--cpus N] [--cmdline STR]\n"
	"             [--disk PATH[,ro]] [--ata PATH[,ro]] [--net tap=NAME[,door=pv|ne2k][,mac=MAC]]\n"
	"             [--stats] [--stats-json FILE] [--print-domain]\n"
	"             [--no-sandbox] GUEST.elf\n"
	"       pvrun --domain FILE.xml [--connect URI] [--stats] [--stats-json FILE] [--print-domain]\n"
	"       pvrun --kernel BZIMAGE [--initrd FILE] [--append STR] [--cpus N] [--mem MiB] ...\n"
	"Run a libpv guest.  Its console goes to stdout; its exit status is pvrun's.\n"
	"With --kernel, boot Linux on the PC platform (kvm only): the serial console\n"
	"(ttyS0) is the terminal, and the status of the guest's power-off is pvrun's.\n"
	"  --kernel BZIMAGE   a Linux kernel (bzImage, boot protocol 2.12 or later)\n"
	"  --initrd FILE      its initramfs\n"
	"  --append STR       its command line (default \"console=ttyS0 panic=-1 pci=off\":\n"
	"                     the PC platform has no PCI, and probing for it costs exits)\n"
	"  --backend B        kvm, emu (Unicorn) or auto (kvm if usable; default)\n"
	"  --mem MiB          guest RAM, an even number of MiB from 4 to 65536 (default 64)\n"
	"  --cpus N           vCPUs, 1 to 64 (default 1)\n"
	"  --cmdline STR      guest command line\n"
	"  --disk PATH[,ro]   a PV disk (raw image or block device), read-only with ,ro\n"
	"  --ata PATH[,ro]    the emulated ATA disk (primary channel), read-only with ,ro;\n"
	"                     with --kernel, Linux's pata_legacy drives it (the PC then has\n"
	"                     full ACPI and 8259 PICs, for its ISA IRQ 14)\n"
	"  --net tap=NAME[,door=pv|ne2k][,mac=MAC]\n"
	"                     a network device on TAP NAME (attached, or created: needs\n"
	"                     CAP_NET_ADMIN): the PV device (default) or the emulated NE2000\n"
	"  --stats            print exit counts by reason to stderr at exit\n"
	"  --stats-json FILE  write exit counts as JSON to FILE (with libvirt's statistics names under \"libvirt\")\n"
	"  --domain FILE.xml  run the libvirt domain FILE.xml describes (no other VM options then)\n"
	"  --connect URI      the libvirt whose storage pools hold the domain's volumes\n"
	"  --print-domain     print the VM as libvirt domain XML instead of running it\n"
	"  --no-sandbox       run the VM's threads without their seccomp filters\n"
	"Exit status: the guest's; 2 bad usage or refused XML; 125 VM setup failed; 126 guest fault;\n"
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

/* The VM's sandbox: libpv's seccomp filters in kill mode unless --no-sandbox. */
static enum pv_sandbox sandbox_mode = PV_SANDBOX_KILL;

/* --kernel: Linux on the PC platform. */
#define LINUX_APPEND "console=ttyS0 panic=-1 pci=off" /* --append's default */
static const char *lx_kernel, *lx_initrd, *lx_append = LINUX_APPEND;
static bool lx_mem_given;

/* SIGINT, SIGTERM and SIGHUP stop a Linux VM (pv_vm_stop may not be called
 * from a handler: a thread waits for them), so the statistics are written. */
static int stop_signal;
static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pv_vm *stop_vm; /* NULL once the VM is being destroyed */

static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

static void *signal_thread(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	stop_signals(&set);
	while (sigwait(&set, &sig) == 0) {
		pthread_mutex_lock(&stop_lock);
		if (stop_vm) {
			stop_signal = sig;
			pv_vm_stop(stop_vm);
		}
		pthread_mutex_unlock(&stop_lock);
	}
	return NULL;
}

/* ---- device flags: one row per device a user can attach ---- */

static int attach_disk(struct pv_vm *vm, struct pvrun_disk *d)
{
	struct pv_blkback_config c = { .path = d->path, .read_only = d->read_only, .poll_ns = 50000 };

	return pv_blkback_attach(vm, &c, (struct pv_blkback **)&d->dev);
}

static int attach_ata(struct pv_vm *vm, struct pvrun_disk *d)
{
	struct pv_ata_config c = { .path = d->path, .read_only = d->read_only };

	return pv_ata_attach(vm, &c, (struct pv_ata **)&d->dev);
}

static const struct dev_flag {
	const char *name;     /* the option, without "--" */
	enum pvrun_bus bus;   /* its bus in domain XML */
	const char *target;   /* and its name there */
	int (*attach)(struct pv_vm *vm, struct pvrun_disk *d);
} dev_flags[] = {
	{ "disk", PVRUN_BUS_VIRTIO, "vda", attach_disk },
	{ "ata", PVRUN_BUS_IDE, "hda", attach_ata },
};
#define NR_DEV_FLAGS (sizeof(dev_flags) / sizeof(dev_flags[0]))
#define DEV_OPT_BASE 1000 /* getopt value of dev_flags[0] */

static const struct dev_flag *flag_of(enum pvrun_bus bus)
{
	for (size_t i = 0; i < NR_DEV_FLAGS; i++)
		if (dev_flags[i].bus == bus)
			return &dev_flags[i];
	return NULL;
}

/* "PATH[,ro]" into d; false if it is not that. */
static bool parse_dev_arg(const char *s, struct pvrun_disk *d)
{
	size_t n = strlen(s);
	struct stat sb;

	d->read_only = n >= 3 && !strcmp(s + n - 3, ",ro");
	if (d->read_only)
		n -= 3;
	if (n == 0 || n >= sizeof(d->path))
		return false;
	memcpy(d->path, s, n);
	d->path[n] = 0;
	d->type = stat(d->path, &sb) == 0 && S_ISBLK(sb.st_mode) ? PVRUN_SRC_BLOCK : PVRUN_SRC_FILE;
	return true;
}

/* "tap=NAME[,door=pv|ne2k][,mac=MAC]" into nic; false if it is not that. */
static bool parse_net_arg(const char *s, struct pvrun_nic *nic)
{
	char buf[256], *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	*nic = (struct pvrun_nic){ .type = PVRUN_NET_ETHERNET, .named = true };
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned int m[6];
		char end;

		if (!strncmp(t, "tap=", 4) && t[4] && strlen(t + 4) < sizeof(nic->tap)) {
			strcpy(nic->tap, t + 4);
		} else if (!strcmp(t, "door=pv")) {
			nic->ne2k = false;
		} else if (!strcmp(t, "door=ne2k")) {
			nic->ne2k = true;
		} else if (!strncmp(t, "mac=", 4) &&
			   sscanf(t + 4, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &end) == 6) {
			for (int i = 0; i < 6; i++)
				nic->mac[i] = (uint8_t)m[i];
			nic->has_mac = true;
		} else {
			return false;
		}
	}
	snprintf(nic->where, sizeof(nic->where), "--net");
	return *nic->tap != 0;
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
	if (st->interrupts)
		fprintf(stderr, "%-24s %12llu\n", "interrupts raised", (unsigned long long)st->interrupts);
	for (unsigned int i = 0; i < st->nr_kvm; i++)
		if (st->kvm[i].value)
				fprintf(stderr, "  kvm  %-19s %12llu\n", st->kvm[i].name,
					(unsigned long long)st->kvm[i].value);
	fprintf(stderr, "%-24s %12.3f ms\n%-24s %12.3f ms\n%-24s %12.3f ms\n", "create to guest entry",
		st->startup_ns / 1e6, "guest run", st->run_ns / 1e6, "vCPU threads' CPU time", st->cpu_ns / 1e6);
}

static int write_json(struct pv_vm *vm, const struct pvrun_spec *spec, const struct pv_stats *st, int run,
		      const char *path)
{
	char buf[8192], lv[16384] = "{}";
	FILE *f;
	int n = pv_stats_json(st, buf, sizeof(buf));

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
#ifdef PV_HAVE_LIBVIRT
	n = pvrun_libvirt_stats(vm, spec, run, lv, sizeof(lv));
	if (n < 0 || (size_t)n >= sizeof(lv))
		return -1;
#else
	(void)spec;
	(void)run;
#endif
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "{\"backend\":\"%s\",\"stats\":%s,\"libvirt\":%s}\n", pv_vm_backend(vm), buf, lv);
	return fclose(f);
}

/* The console sink of <serial type='file'>. */
static void console_to_file(void *opaque, const char *buf, size_t len)
{
	fwrite(buf, 1, len, opaque);
	fflush(opaque);
}

/* After the VM is gone: TAPs that stay leave the bridges pvrun put them on. */
static void detach_nics(struct pvrun_spec *spec)
{
#ifdef PVRUN_HAVE_NET
	for (unsigned int i = 0; i < spec->nr_nics; i++)
		pvrun_nic_detach(&spec->nics[i]);
#else
	(void)spec;
#endif
}

/* Run the VM spec describes; returns pvrun's exit status. */
static int run(struct pvrun_spec *spec, bool stats, const char *json)
{
	struct pv_vm_config cfg = { .ram_size = spec->ram_size, .vcpus = spec->vcpus, .backend = spec->backend,
				    .sandbox = sandbox_mode, .cmdline = spec->has_cmdline ? spec->cmdline : NULL };
	FILE *con = NULL;
	struct pv_vm *vm;
	struct pv_stats st;
	int r, status = 0, sig = 0;
	struct termios tio_saved;
	bool tio_changed = false;

	if (spec->boot_linux) {
		cfg.platform = PV_PLATFORM_PC;
		cfg.console_stdin = true;
		/* pata_legacy takes the ATA disk's interrupt as ISA IRQ 14 */
		for (unsigned int i = 0; i < spec->nr_disks; i++)
			cfg.pc_legacy_pic |= spec->disks[i].bus == PVRUN_BUS_IDE;
		cfg.sandbox = PV_SANDBOX_OFF;
		cfg.cmdline = NULL;
	}
	if (*spec->console_file) {
		con = fopen(spec->console_file, "a");
		if (!con)
			return fail(EXIT_SETUP, "cannot open the console file: %s", strerror(errno));
		cfg.console = console_to_file;
		cfg.console_opaque = con;
	}
#ifdef PV_HAVE_EMU
	pv_emu_register();
#endif
	pv_set_log(hold_note);
	r = pv_vm_create(&cfg, &vm);
	if (r < 0) {
		if (con)
			fclose(con);
		return fail(EXIT_SETUP, "%s", pv_last_error());
	}
	r = spec->boot_linux ? pv_vm_load_linux(vm, spec->kernel, *spec->initrd ? spec->initrd : NULL,
					   spec->has_cmdline ? spec->cmdline : LINUX_APPEND)
			: pv_vm_load_elf(vm, spec->kernel);
	if (r < 0) {
		fprintf(stderr, "pvrun: cannot load %s: %s\n", spec->kernel, pv_vm_error(vm));
		goto setup_failed;
	}
	for (unsigned int i = 0; i < spec->nr_disks; i++) {
		struct pvrun_disk *d = &spec->disks[i];
		const struct dev_flag *fl = flag_of(d->bus);

		r = fl->attach(vm, d);
		if (r < 0) {
			fprintf(stderr, "pvrun: %s %s: %s\n", d->where, d->path, strerror(-r));
			goto setup_failed;
		}
	}
#ifdef PVRUN_HAVE_NET
	for (unsigned int i = 0; i < spec->nr_nics; i++) {
		char err[512];

		if (pvrun_nic_attach(vm, &spec->nics[i], i, err, sizeof(err)) < 0) {
			fprintf(stderr, "pvrun: %s\n", err);
			goto setup_failed;
		}
	}
#endif
	fputs(notes, stderr);
	pv_set_log(NULL);
	if (spec->boot_linux) {
		sigset_t set;
		pthread_t t;

		stop_signals(&set);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		stop_vm = vm;
		if (pthread_create(&t, NULL, signal_thread, NULL) == 0)
			pthread_detach(t);
		if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &tio_saved) == 0) {
			/* Keys go to the guest as typed; the guest echoes.  ^C still ends pvrun. */
			struct termios tio = tio_saved;

			tio.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
			tio.c_iflag &= ~(tcflag_t)ICRNL;
			tio_changed = tcsetattr(STDIN_FILENO, TCSANOW, &tio) == 0;
		}
	}
	r = pv_vm_run(vm, &status);
	if (tio_changed)
		tcsetattr(STDIN_FILENO, TCSANOW, &tio_saved);
	fflush(stdout);
	if (r < 0)
		fprintf(stderr, "pvrun: %s\n", pv_vm_error(vm));
	pv_vm_stats(vm, -1, &st);
	if (stats)
		print_stats(vm, &st);
	if (json && write_json(vm, spec, &st, r, json) < 0) {
		fprintf(stderr, "pvrun: cannot write %s: %s\n", json, strerror(errno));
		if (r == 0)
			r = -EIO, status = EXIT_SETUP;
	}
	pthread_mutex_lock(&stop_lock);
	stop_vm = NULL;
	sig = stop_signal;
	pthread_mutex_unlock(&stop_lock);
	pv_vm_destroy(vm);
	detach_nics(spec);
	if (con)
		fclose(con);
	if (r == -EFAULT)
		return EXIT_FAULT;
	if (r == -EINTR && sig)
		return 128 + sig;
	if (r < 0)
		return EXIT_SETUP;
	return status;

setup_failed:
	pv_vm_destroy(vm);
	detach_nics(spec);
	if (con)
		fclose(con);
	return EXIT_SETUP;
}

/* The name of a domain made from the command line: the guest's file name without ".elf". */
static void default_name(struct pvrun_spec *spec)
{
	const char *b = strrchr(spec->kernel, '/');
	size_t n;

	b = b ? b + 1 : spec->kernel;
	n = strlen(b);
	if (n > 4 && !strcmp(b + n - 4, ".elf"))
		n -= 4;
	snprintf(spec->name, sizeof(spec->name), "%.*s", (int)n, b);
}

int main(int argc, char **argv)
{
	static const struct option base_opts[] = {
		{ "backend", required_argument, 0, 'b' }, { "mem", required_argument, 0, 'm' },
		{ "cpus", required_argument, 0, 'c' },    { "cmdline", required_argument, 0, 'l' },
		{ "stats", no_argument, 0, 's' },         { "stats-json", required_argument, 0, 'j' },
		{ "domain", required_argument, 0, 'd' },  { "connect", required_argument, 0, 'C' },
		{ "print-domain", no_argument, 0, 'p' },  { "help", no_argument, 0, 'h' },
		{ "net", required_argument, 0, 'n' },
		{ "no-sandbox", no_argument, 0, 'S' },
		{ "kernel", required_argument, 0, 'k' },  { "initrd", required_argument, 0, 'i' },
		{ "append", required_argument, 0, 'a' },
	};
	struct option opts[sizeof(base_opts) / sizeof(base_opts[0]) + NR_DEV_FLAGS + 1];
	static struct pvrun_spec spec = { .ram_size = 64ull << 20, .vcpus = 1, .backend = PV_BACKEND_AUTO };
	const char *json = NULL, *domain = NULL, *uri = NULL, *vm_opt = NULL;
	bool stats = false, print = false;
	size_t nopts = 0;
	int r;
	unsigned long long n;
	int c;

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
			const struct dev_flag *fl = &dev_flags[c - DEV_OPT_BASE];
			struct pvrun_disk *d = &spec.disks[spec.nr_disks];

			for (unsigned int i = 0; i < spec.nr_disks; i++)
				if (spec.disks[i].bus == fl->bus)
					return fail(EXIT_USAGE, "--%s given twice (one such device per VM)", fl->name);
			if (!parse_dev_arg(optarg, d)) {
				fprintf(stderr, "pvrun: --%s %s: give PATH or PATH,ro\n", fl->name, optarg);
				return EXIT_USAGE;
			}
			d->bus = fl->bus;
			snprintf(d->target, sizeof(d->target), "%s", fl->target);
			snprintf(d->where, sizeof(d->where), "--%s", fl->name);
			spec.nr_disks++;
			vm_opt = fl->name;
			continue;
		}
		switch (c) {
		case 'b':
			if (!strcmp(optarg, "auto"))
				spec.backend = PV_BACKEND_AUTO;
			else if (!strcmp(optarg, "kvm"))
				spec.backend = PV_BACKEND_KVM;
			else if (!strcmp(optarg, "emu"))
				spec.backend = PV_BACKEND_EMU;
			else
				return fail(EXIT_USAGE, "unknown backend '%s' (use auto, kvm or emu)", optarg);
			vm_opt = "backend";
			break;
		case 'm':
			if (!parse_num(optarg, PV_RAM_MAX >> 20, &n) || n < (PV_RAM_MIN >> 20) || n % 2)
				return fail(EXIT_USAGE, "--mem %s: give an even number of MiB from 4 to 65536", optarg);
			spec.ram_size = n << 20;
			vm_opt = "mem";
			lx_mem_given = true;
			break;
		case 'c':
			if (!parse_num(optarg, PV_MAX_VCPUS, &n) || n == 0)
				return fail(EXIT_USAGE, "--cpus %s: give a number from 1 to 64", optarg);
			spec.vcpus = (unsigned int)n;
			vm_opt = "cpus";
			break;
		case 'l':
			if (strlen(optarg) >= sizeof(spec.cmdline))
				return fail(EXIT_USAGE, "%s", "--cmdline: longer than the guest command line allows");
			strcpy(spec.cmdline, optarg);
			spec.has_cmdline = true;
			vm_opt = "cmdline";
			break;
		case 'n':
#ifdef PVRUN_HAVE_NET
			for (unsigned int i = 0; i < spec.nr_nics; i++)
				if (spec.nics[i].ne2k == (strstr(optarg, "door=ne2k") != NULL))
					return fail(EXIT_USAGE, "%s", "--net: one PV and one NE2000 device per VM");
			if (spec.nr_nics == PVRUN_MAX_NICS || !parse_net_arg(optarg, &spec.nics[spec.nr_nics]))
				return fail(EXIT_USAGE, "--net %s: give tap=NAME[,door=pv|ne2k][,mac=MAC]", optarg);
			spec.nr_nics++;
			vm_opt = "net";
			break;
#else
			return fail(EXIT_USAGE, "%s", "--net: this tree has no network device");
#endif
		case 's':
			stats = true;
			break;
		case 'j':
			json = optarg;
			break;
		case 'd':
			domain = optarg;
			break;
		case 'C':
			uri = optarg;
			break;
		case 'p':
			print = true;
			break;
		case 'S':
			sandbox_mode = PV_SANDBOX_OFF;
			break;
		case 'k':
			lx_kernel = optarg;
			break;
		case 'i':
			lx_initrd = optarg;
			break;
		case 'a':
			lx_append = optarg;
			vm_opt = "append";
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
	if (domain) {
#ifdef PV_HAVE_LIBVIRT
		char err[8192];
		int r;

		if (vm_opt)
			return fail(EXIT_USAGE, "--%s: with --domain the domain XML is the whole VM", vm_opt);
		if (optind != argc)
			return fail(EXIT_USAGE, "%s: with --domain the guest is the XML's <os><kernel>", argv[optind]);
		r = pvrun_domain_load(domain, uri, &spec, err, sizeof(err));
		if (r) {
			fprintf(stderr, "pvrun: %s: %s\n", domain, err);
			return r;
		}
#else
		return fail(EXIT_USAGE, "--domain %s: pvrun was built without libvirt", domain);
#endif
	} else {
		if (uri)
			return fail(EXIT_USAGE, "--connect %s: only with --domain (it resolves the XML's volumes)", uri);
		if (lx_kernel && optind != argc)
			return fail(EXIT_USAGE, "%s", "--kernel boots Linux: give no guest ELF as well (see --help)");
		if (!lx_kernel && (lx_initrd || strcmp(lx_append, LINUX_APPEND)))
			return fail(EXIT_USAGE, "%s", "--initrd and --append go with --kernel (see --help)");
		if (!lx_kernel && optind != argc - 1)
			return fail(EXIT_USAGE, "%s", optind >= argc ? "no guest ELF given (see --help)"
								     : "give exactly one guest ELF (see --help)");
		snprintf(spec.kernel, sizeof(spec.kernel), "%s", lx_kernel ? lx_kernel : argv[optind]);
		default_name(&spec);
		if (lx_kernel) {
			if (spec.has_cmdline)
				return fail(EXIT_USAGE, "%s", "--cmdline goes with a guest ELF: Linux takes --append");
			if (strlen(lx_append) >= sizeof(spec.cmdline) ||
			    (lx_initrd && strlen(lx_initrd) >= sizeof(spec.initrd)))
				return fail(EXIT_USAGE, "%s", "--append or --initrd: too long");
			spec.boot_linux = true;
			snprintf(spec.initrd, sizeof(spec.initrd), "%s", lx_initrd ? lx_initrd : "");
			strcpy(spec.cmdline, lx_append);
			spec.has_cmdline = true;
			if (!lx_mem_given)
				spec.ram_size = 256ull << 20;
		}
	}
	if (print) {
#ifdef PV_HAVE_LIBVIRT
		if (stats || json)
			return fail(EXIT_USAGE, "%s", "--print-domain runs nothing: no --stats or --stats-json with it");
		pv_set_log(hold_note); /* the probe's notes are not the XML's */
		if (spec.backend == PV_BACKEND_AUTO) /* what auto picks here: libvirt has no "auto" */
			spec.backend = pv_backend_probe(PV_BACKEND_KVM, NULL, 0) == 0 ? PV_BACKEND_KVM : PV_BACKEND_EMU;
		return pvrun_domain_print(&spec, stdout) < 0 || fflush(stdout) ? EXIT_SETUP : 0;
#else
		return fail(EXIT_USAGE, "%s", "--print-domain: pvrun was built without libvirt");
#endif
	}
	return run(&spec, stats, json);
}
