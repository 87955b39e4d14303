/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvcore_host: the monitor side of pvcore.ko's self-test (linux.sh).
 *
 *   pvcore_host KERNEL INITRD APPEND
 *
 * Boots Linux on the PC platform with a monitor port whose number goes on
 * the command line (pvport=N).  Each doorbell of the guest is answered with
 * pv_evtchn_notify, which reaches the guest as an interrupt; on the first
 * one the monitor finds the page pvcore granted it (the first reference
 * that maps and reads "pvcore-guest") and writes "pvcore-monitor" at offset
 * 64.  After the guest powered off (having unloaded pvcore) the grant must
 * be gone and the port's event page detached.  Prints one PVCORE-HOST line;
 * exit status 0 when all of that held and the guest's status was 0.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <pv/linux.h>

static struct pv_vm *vm;
static int port, efd;
static atomic_bool done;
static uint64_t events;
static int ref = -1;

static void *answer(void *arg)
{
	(void)arg;
	while (!atomic_load(&done)) {
		struct pollfd p = { .fd = efd, .events = POLLIN };
		int64_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = pv_evtchn_ack(vm, (unsigned int)port);
		if (n <= 0)
			continue;
		events += (uint64_t)n;
		for (uint32_t r = 1; ref < 0 && r < 256; r++) {
			char buf[13];

			if (pv_grant_copy_from(vm, PV_DOMID_MONITOR, r, 0, buf, sizeof(buf)) == 0 &&
			    !memcmp(buf, "pvcore-guest", sizeof(buf)) &&
			    pv_grant_copy_to(vm, PV_DOMID_MONITOR, r, 64, "pvcore-monitor", 15) == 0)
				ref = (int)r;
		}
		pv_evtchn_notify(vm, (unsigned int)port);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct pv_vm_config cfg = { .ram_size = 256ull << 20, .backend = PV_BACKEND_KVM, .platform = PV_PLATFORM_PC };
	char cmdline[1024], buf[16];
	struct pv_stats st;
	pthread_t t;
	int r, status = -1, after_grant, after_notify;

	if (argc != 4) {
		fprintf(stderr, "usage: pvcore_host KERNEL INITRD APPEND\n");
		return 2;
	}
	if (pv_vm_create(&cfg, &vm) < 0) {
		fprintf(stderr, "pvcore_host: %s\n", pv_last_error());
		return 125;
	}
	port = pv_evtchn_alloc_monitor(vm, &efd);
	snprintf(cmdline, sizeof(cmdline), "%s pvport=%d", argv[3], port);
	if (port < 0 || pv_vm_load_linux(vm, argv[1], argv[2], cmdline) < 0) {
		fprintf(stderr, "pvcore_host: %s\n", pv_vm_error(vm));
		return 125;
	}
	pthread_create(&t, NULL, answer, NULL);
	r = pv_vm_run(vm, &status);
	atomic_store(&done, true);
	pthread_join(t, NULL);
	fflush(stdout);
	after_grant = ref > 0 ? pv_grant_copy_from(vm, PV_DOMID_MONITOR, (uint32_t)ref, 0, buf, 1) : 0;
	after_notify = pv_evtchn_notify(vm, (unsigned int)port);
	pv_vm_stats(vm, -1, &st);
	printf("PVCORE-HOST run=%d status=%d events=%llu interrupts=%llu grant=%d after-unload: grant-copy=%d "
	       "notify=%d\n", r, status, (unsigned long long)events, (unsigned long long)st.interrupts, ref,
	       after_grant, after_notify);
	if (r < 0)
		fprintf(stderr, "pvcore_host: %s\n", pv_vm_error(vm));
	pv_vm_destroy(vm);
	/* Every event the guest got came as an interrupt the monitor raised. */
	return r == 0 && status == 0 && ref > 0 && after_grant < 0 && after_notify == -ENXIO &&
	       st.interrupts >= 10000 ? 0 : 1;
}
