/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "netvm.h"

static void console(void *opaque, const char *buf, size_t len)
{
	struct netvm *v = opaque;

	if (len > sizeof(v->out) - 1 - v->len)
		len = sizeof(v->out) - 1 - v->len;
	memcpy(v->out + v->len, buf, len);
	v->len += len;
	v->out[v->len] = 0;
}

void netvm_init(struct netvm *v, enum pv_backend b, const char *elf, const char *cmdline, netvm_attach_fn fn,
		void *opaque)
{
	struct pv_vm_config c = { .ram_size = 32u << 20, .backend = b, .vcpus = v->vcpus, .console = console,
				  .console_opaque = v };
	int r;

	snprintf(v->cmdline, sizeof(v->cmdline), "%s", cmdline);
	c.cmdline = v->cmdline;
	r = pv_vm_create(&c, &v->vm);
	cr_assert_eq(r, 0, "pv_vm_create: %s", pv_last_error());
	r = pv_vm_load_elf(v->vm, elf);
	cr_assert_eq(r, 0, "load %s: %s", elf, pv_vm_error(v->vm));
	if (fn) {
		r = fn(v, opaque);
		cr_assert_eq(r, 0, "attach: %s", strerror(-r));
	}
}

static void *runner(void *arg)
{
	struct netvm *v = arg;

	v->r = pv_vm_run(v->vm, &v->status);
	snprintf(v->err, sizeof(v->err), "%s", pv_vm_error(v->vm));
	pv_vm_stats(v->vm, -1, &v->st);
	return NULL;
}

void netvm_run_all(struct netvm *const vs[], unsigned int n)
{
	pthread_t t[8];

	cr_assert_leq(n, 8);
	for (unsigned int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, runner, vs[i]);
	for (unsigned int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

void netvm_assert_ok(const struct netvm *v)
{
	cr_assert_eq(v->r, 0, "run: %d %s\n%s", v->r, v->err, v->out);
	cr_assert_eq(v->status, 0, "guest exited %d:\n%s", v->status, v->out);
}

void netvm_destroy(struct netvm *v)
{
	pv_vm_destroy(v->vm);
	v->vm = NULL;
}
