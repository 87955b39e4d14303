/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * echo: a host echo backend for a guest's ring pair, and the small host
 * devices the ring examples need.  Used by pvbench --device ring and by the
 * tests; the frontends are examples/guests/pingpong.c and vm2vm.c.
 *
 * Echo backend (echo_attach)
 * --------------------------
 * The guest (frontend) owns everything shared: it builds a ring pair in its
 * RAM with pv_ring_pair_init (PV_RING_REQ guest -> host, PV_RING_RSP host ->
 * guest, equal entry sizes of at least sizeof(struct echo_msg)), grants the
 * ring's pages to domain 0 (PV_DOMID_MONITOR) read-write under one grant
 * reference, registers its event page, and connects through the config
 * device below.  The backend maps the grant (all pages, every check made,
 * pinned while it runs so the guest cannot revoke it), validates the ring
 * header into a private copy (pv_ring_pair_check) and starts one thread for
 * the ring pair.  The thread waits for requests (adaptive polling, then the
 * event index and a sleep on the port's eventfd), copies each request out
 * (pv_ring_consume), validates the copy and answers with an identical
 * response (an invalid request gets magic ECHO_MSG_BAD), at most `budget`
 * requests per round.  Both directions use notification suppression: the
 * guest is notified (pv_evtchn_notify) only when a push or release says so.
 * A ring the guest breaks (impossible producer index, error reported by the
 * guest) stops the backend with an error: its grant is released, the state
 * register reads the negative errno, the guest is notified; the monitor and
 * other VMs go on.
 *
 * Config device, ECHO_PIO_BASE (16 ports, 32-bit accesses only)
 *   +0 ECHO_REG_PORT     read: the monitor's event-channel port (doorbell it)
 *                        write: grant reference of the ring pair
 *   +4 ECHO_REG_CONNECT  read: state: 0 running, -ENOTCONN (-107) before a
 *                        connect, or the negative errno that stopped the
 *                        backend (failed connect, broken ring)
 *                        write: page count of the grant: connect now (the
 *                        state is up to date when the write returns); one
 *                        connection per backend (a second gets -EBUSY)
 *   +8 ECHO_REG_MARK     write ECHO_MARK_START / ECHO_MARK_END around the
 *                        measured phase (exit statistics and time, see
 *                        struct echo_phase); read: ECHO_VERSION
 *
 * Pair device (echo_pair_attach), for two guests that talk through grants
 * and event channels without the monitor on the data path (vm2vm.c): the
 * same registers on both VMs, ECHO_PAIR_BASE (16 ports, 32-bit):
 *   +0 ECHO_PAIR_PEER    read: the other VM's domain id
 *   +4 ECHO_PAIR_PORT    write (first VM, "A"): its event-channel port for
 *                        the peer; read: that port, 0 until A wrote it
 *   +8 ECHO_PAIR_REF     write (A, before PORT): its grant reference for
 *                        the peer; read: that reference
 *  +12 ECHO_PAIR_MARK    as ECHO_REG_MARK, per VM
 *
 * Lifetime (<pv/device.h>): attach after pv_vm_load_elf and before
 * pv_vm_run; the VM owns both devices.  When the run ends the backend's
 * thread is joined and its grant released; read the statistics, then
 * pv_vm_destroy frees the device.  The pair device is owned by both VMs and
 * freed with the second one destroyed.
 */
#ifndef PV_EXAMPLES_ECHO_H
#define PV_EXAMPLES_ECHO_H

#include <stdbool.h>
#include <stdint.h>

#include <pv/pv.h>

#include "echo_abi.h"

/* Largest ring pair the backend maps, in pages. */
#define ECHO_MAX_PAGES 4096u

/* Exit statistics and time of a phase a guest marked. */
struct echo_phase {
	bool started, done;
	uint64_t ns;          /* host time from the start mark to the end mark */
	struct pv_stats st;   /* the VM's exits in between (doorbells settled;
			       * the end mark's own exit is not counted) */
};

struct echo_opts {
	uint16_t pio_base;    /* 0: ECHO_PIO_BASE */
	bool poll;            /* adaptive polling before sleeping */
	uint64_t poll_ns;     /* poll window; 0: 100 us on emu, 2 ms on kvm */
	unsigned int budget;  /* requests per round before answering; 0: 64 */
};

struct echo_stats {
	uint64_t requests;    /* requests consumed */
	uint64_t bad;         /* of which invalid (answered with ECHO_MSG_BAD) */
	uint64_t notifies;    /* pv_evtchn_notify calls */
	uint64_t waits, polled, sleeps; /* adaptive waits; work found while polling; eventfd sleeps */
	int state;            /* as ECHO_REG_CONNECT reads */
	char why[160];        /* what stopped the backend, "" if nothing did */
	struct echo_phase phase;
};

struct echo;

/* Register the config device and a monitor event channel on vm (opts may
 * be NULL).  Returns 0 and *out (valid until pv_vm_destroy), or a negative
 * errno. */
int echo_attach(struct pv_vm *vm, const struct echo_opts *opts, struct echo **out);
void echo_get_stats(struct echo *e, struct echo_stats *st);

struct echo_pair;

/* Register the pair device on a (the granting side, "A") and b; *out is
 * valid until both VMs are destroyed. */
int echo_pair_attach(struct pv_vm *a, struct pv_vm *b, struct echo_pair **out);
/* The phase VM `which` (0: a, 1: b) marked. */
void echo_pair_phase(const struct echo_pair *p, unsigned int which, struct echo_phase *ph);

#endif
