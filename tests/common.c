/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pv/emu.h>

#include "common.h"

const char *backend_name(enum pv_backend b)
{
	return b == PV_BACKEND_KVM ? "kvm" : b == PV_BACKEND_EMU ? "emu" : "auto";
}

static void quiet(const char *msg)
{
	(void)msg;
}

bool backend_usable(enum pv_backend b, char *why, size_t n)
{
	const char *only = getenv("PV_TEST_BACKENDS");

	if (only && !strstr(only, backend_name(b))) {
		snprintf(why, n, "PV_TEST_BACKENDS=%s", only);
		return false;
	}
	pv_set_log(quiet);
	pv_emu_register();
	return pv_backend_probe(b, why, n) == 0;
}

bool emu_on_unicorn20(void)
{
	unsigned int (*version)(unsigned int *, unsigned int *);
	unsigned int major = 0, minor = 0;

	pv_emu_register(); /* libpv-emu, and with it Unicorn, is loaded */
	*(void **)&version = dlsym(RTLD_DEFAULT, "uc_version");
	if (!version)
		return false;
	version(&major, &minor);
	return major == 2 && minor < 1;
}

static void capture(void *opaque, const char *buf, size_t len)
{
	struct run *r = opaque;

	if (len > sizeof(r->out) - 1 - r->len)
		len = sizeof(r->out) - 1 - r->len;
	memcpy(r->out + r->len, buf, len);
	r->len += len;
	r->out[r->len] = 0;
}


void run_guest(enum pv_backend b, const char *elf, const struct run_opts *o, struct run *out)
{
	static const struct run_opts none;
	struct pv_vm_config cfg;
	struct pv_vm *vm;

	if (!o)
		o = &none;
	memset(out, 0, sizeof(*out));
	pv_set_log(quiet);
	pv_emu_register();
	cfg = (struct pv_vm_config){
		.ram_size = o->mem ? o->mem : 16u << 20,
		.vcpus = o->vcpus,
		.backend = b,
		.cmdline = o->cmdline,
		.console = capture,
		.console_opaque = out,
	};
	out->r = pv_vm_create(&cfg, &vm);
	if (out->r < 0) {
		snprintf(out->err, sizeof(out->err), "%s", pv_last_error());
		return;
	}
	out->domid = pv_vm_domid(vm);
	out->r = pv_vm_load_elf(vm, elf);
	if (out->r == 0 && o->setup)
		out->r = o->setup(vm, o->opaque);
	if (out->r == 0)
		out->r = pv_vm_run(vm, &out->status);
	snprintf(out->err, sizeof(out->err), "%s", pv_vm_error(vm));
	pv_vm_stats(vm, -1, &out->st);
	if (o->after)
		o->after(vm, o->opaque);
	pv_vm_destroy(vm);
}

unsigned int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;

	cr_assert_not_null(d, "/proc/self/fd");
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}
