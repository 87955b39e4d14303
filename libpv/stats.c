/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exit statistics: per-vCPU counters summed on demand, JSON, library notes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static const char *const reason_names[PV_EXIT__COUNT] = {
	[PV_EXIT_HYPERCALL] = "hypercall", [PV_EXIT_PIO] = "pio",     [PV_EXIT_MMIO] = "mmio",
	[PV_EXIT_HLT] = "hlt",             [PV_EXIT_DOORBELL] = "doorbell", [PV_EXIT_FAULT] = "fault",
	[PV_EXIT_OTHER] = "other",
};

const char *pv_exit_reason_name(enum pv_exit_reason r)
{
	return (unsigned int)r < PV_EXIT__COUNT ? reason_names[r] : "unknown";
}

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* CPU time of v's thread so far: final once it has ended, read from its
 * clock while it runs (vm->lock keeps it from being joined meanwhile). */
static uint64_t vcpu_cpu_ns(struct pv_vm *vm, struct pv_vcpu *v)
{
	struct timespec ts;
	clockid_t cid;
	uint64_t ns = 0;

	pthread_mutex_lock(&vm->lock);
	if (v->cpu_done)
		ns = v->cpu_ns;
	else if (atomic_load(&v->in_thread) && !pthread_getcpuclockid(v->thread, &cid) &&
		 !clock_gettime(cid, &ts))
		ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	pthread_mutex_unlock(&vm->lock);
	return ns;
}

static void add_vcpu(struct pv_vm *vm, struct pv_vcpu *v, struct pv_stats *st)
{
	st->cpu_ns += vcpu_cpu_ns(vm, v);
	for (int r = 0; r < PV_EXIT__COUNT; r++)
		st->exits[r] += LOAD(v->cnt.exits[r]);
	for (int i = 0; i < PV_HC_NR; i++)
		st->hypercalls[i] += LOAD(v->cnt.hypercalls[i]);
	st->hypercalls_unknown += LOAD(v->cnt.hypercalls_unknown);
	st->pio_unclaimed += LOAD(v->cnt.pio_unclaimed);
	for (unsigned int i = 0; i < vm->nr_devs; i++)
		st->devs[i].exits += LOAD(v->cnt.devs[i]);
	if (vm->ops->vcpu_kvm_stats)
		vm->ops->vcpu_kvm_stats(v, st);
}

static void raw_stats(struct pv_vm *vm, int vcpu, struct pv_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->nr_devs = vm->nr_devs;
	for (unsigned int i = 0; i < vm->nr_devs; i++) {
		memcpy(st->devs[i].name, vm->devs[i].name, sizeof(st->devs[i].name));
		st->devs[i].mmio = vm->devs[i].mmio;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		if (vcpu < 0 || (unsigned int)vcpu == i)
			add_vcpu(vm, &vm->vcpus[i], st);
	if (vcpu < 0) { /* doorbells (counted when acknowledged) and interrupts are per VM */
		st->exits[PV_EXIT_DOORBELL] += atomic_load(&vm->doorbells);
		st->interrupts = atomic_load(&vm->interrupts);
	}
}

int pv_vm_stats(struct pv_vm *vm, int vcpu, struct pv_stats *st)
{
	const struct pv_stats *b;

	if (!vm || !st || (vcpu >= 0 && (unsigned int)vcpu >= vm->nr_vcpus))
		return -EINVAL;
	b = &vm->base;
	raw_stats(vm, vcpu, st);
	if (vcpu < 0) { /* a reset applies to the VM-wide view */
		for (int r = 0; r < PV_EXIT__COUNT; r++)
			st->exits[r] -= b->exits[r];
		for (int i = 0; i < PV_HC_NR; i++)
			st->hypercalls[i] -= b->hypercalls[i];
		st->hypercalls_unknown -= b->hypercalls_unknown;
		st->pio_unclaimed -= b->pio_unclaimed;
		st->interrupts -= b->interrupts;
		st->cpu_ns -= b->cpu_ns;
		for (unsigned int i = 0; i < st->nr_devs && i < b->nr_devs; i++)
			st->devs[i].exits -= b->devs[i].exits;
		for (unsigned int i = 0; i < st->nr_kvm; i++)
			for (unsigned int k = 0; k < b->nr_kvm; k++)
				if (!strcmp(st->kvm[i].name, b->kvm[k].name))
					st->kvm[i].value -= b->kvm[k].value;
	}
	for (int r = 0; r < PV_EXIT__COUNT; r++)
		st->exits_total += st->exits[r];
	if (vm->t_entry) {
		st->startup_ns = vm->t_entry - vm->t_create;
		st->run_ns = (vm->t_end ? vm->t_end : pv__now_ns()) - vm->t_entry;
	}
	return 0;
}

void pv_vm_stats_reset(struct pv_vm *vm)
{
	if (vm)
		raw_stats(vm, -1, &vm->base);
}

#define APPEND(...)                                                                        \
	do {                                                                               \
		int n_ = snprintf(buf + (len < size ? len : size), len < size ? size - len : 0, \
				  __VA_ARGS__);                                            \
		if (n_ > 0)                                                                \
			len += (size_t)n_;                                                 \
	} while (0)

static const char *const hc_names[PV_HC_NR] = {
	[PV_HC_VERSION] = "version", [PV_HC_FEATURES] = "features", [PV_HC_CONSOLE_WRITE] = "console_write",
	[PV_HC_EXIT] = "exit", [PV_HC_TIME] = "time", [PV_HC_YIELD] = "yield", [PV_HC_BLOCK] = "block",
	[PV_HC_VCPU_UP] = "vcpu_up", [PV_HC_FAULT] = "fault", [PV_HC_GRANT_SETUP] = "grant_setup",
	[PV_HC_GRANT_END] = "grant_end", [PV_HC_GRANT_COPY] = "grant_copy", [PV_HC_EVTCHN_SETUP] = "evtchn_setup",
	[PV_HC_EVTCHN_ALLOC] = "evtchn_alloc", [PV_HC_EVTCHN_BIND] = "evtchn_bind",
	[PV_HC_EVTCHN_SEND] = "evtchn_send", [PV_HC_EVTCHN_CLOSE] = "evtchn_close",
	[PV_HC_EVTCHN_BIND_IRQ] = "evtchn_bind_irq", [PV_HC_EVTCHN_MASK] = "evtchn_mask",
	[PV_HC_DETACH] = "detach",
};

const char *pv_hypercall_name(unsigned int nr)
{
	return nr < PV_HC_NR ? hc_names[nr] : NULL;
}

int pv_stats_json(const struct pv_stats *st, char *buf, size_t size)
{
	size_t len = 0;
	const char *sep = "";

	if (!st || (!buf && size))
		return -EINVAL;
	APPEND("{\"exits_total\":%llu,\"exits\":{", (unsigned long long)st->exits_total);
	for (int r = 0; r < PV_EXIT__COUNT; r++)
		APPEND("%s\"%s\":%llu", r ? "," : "", reason_names[r], (unsigned long long)st->exits[r]);
	APPEND("},\"hypercalls\":{");
	for (unsigned int i = 0; i < PV_HC_NR; i++)
		APPEND("%s\"%s\":%llu", i ? "," : "", pv_hypercall_name(i), (unsigned long long)st->hypercalls[i]);
	APPEND(",\"unknown\":%llu},\"devices\":{", (unsigned long long)st->hypercalls_unknown);
	for (unsigned int i = 0; i < st->nr_devs; i++) {
		APPEND("%s\"%s\":{\"type\":\"%s\",\"exits\":%llu}", sep, st->devs[i].name, st->devs[i].mmio ? "mmio" : "pio",
		       (unsigned long long)st->devs[i].exits);
		sep = ",";
	}
	APPEND("},\"pio_unclaimed\":%llu,\"interrupts\":%llu,\"startup_ns\":%llu,\"run_ns\":%llu,\"cpu_ns\":%llu,"
	       "\"kvm\":{", (unsigned long long)st->pio_unclaimed, (unsigned long long)st->interrupts,
	       (unsigned long long)st->startup_ns,
	       (unsigned long long)st->run_ns, (unsigned long long)st->cpu_ns);
	for (unsigned int i = 0; i < st->nr_kvm; i++)
		APPEND("%s\"%s\":%llu", i ? "," : "", st->kvm[i].name, (unsigned long long)st->kvm[i].value);
	APPEND("}}");
	return (int)len;
}

/* ---- notes ---- */

static void (*log_fn)(const char *msg);

void pv_set_log(void (*fn)(const char *msg))
{
	log_fn = fn;
}

void pv__note(const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_fn)
		log_fn(msg);
	else
		fprintf(stderr, "libpv: %s\n", msg);
}
