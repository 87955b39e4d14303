/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The in-process L2 switch.  Ports are devices (PV net queues, NE2000s) of
 * VMs in this process.  A frame from a port teaches the switch its source
 * address; a unicast frame to a learned address goes to that port, every
 * other one (broadcast, multicast, unknown) to all ports but the sender.
 * Delivery is the receiving device's business (its deliver op): it copies
 * the frame from the sender's memory into a buffer its guest posted, or
 * keeps a reference in its bounded queue until one is posted, or drops it.
 *
 * Locking: sw->lock is read-held while a frame is forwarded and write-held
 * while a port joins or leaves, so a leaving port sees no delivery after
 * pvsw__leave; the devices' own locks nest inside it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "netdev.h"

#define MAC_SLOTS 256u

struct port {
	const struct pvsw_port_ops *ops;
	void *dev;
	bool used;
};

struct mac_entry {
	uint8_t mac[6];
	bool used;
	unsigned int port;
};

struct pv_netswitch {
	pthread_rwlock_t lock;
	pthread_mutex_t mac_lock;
	atomic_uint refs;
	unsigned int port_queue;
	unsigned int nports;
	struct port ports[PVSW_MAX_PORTS];
	struct mac_entry macs[MAC_SLOTS];
	atomic_uint_fast64_t frames, flooded, deliveries, bytes_copied, queued, drops;
};

int pv_netswitch_create(const struct pv_netswitch_config *cfg, struct pv_netswitch **out)
{
	struct pv_netswitch *sw;

	if (!out)
		return -EINVAL;
	*out = NULL;
	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return -ENOMEM;
	pthread_rwlock_init(&sw->lock, NULL);
	pthread_mutex_init(&sw->mac_lock, NULL);
	atomic_init(&sw->refs, 1);
	sw->port_queue = cfg && cfg->port_queue ? cfg->port_queue : 256;
	if (sw->port_queue > 65536)
		sw->port_queue = 65536;
	*out = sw;
	return 0;
}

void pvsw__get(struct pv_netswitch *sw)
{
	atomic_fetch_add(&sw->refs, 1);
}

void pvsw__put(struct pv_netswitch *sw)
{
	if (sw && atomic_fetch_sub(&sw->refs, 1) == 1) {
		pthread_rwlock_destroy(&sw->lock);
		pthread_mutex_destroy(&sw->mac_lock);
		free(sw);
	}
}

void pv_netswitch_put(struct pv_netswitch *sw)
{
	pvsw__put(sw);
}

void pv_netswitch_stats(struct pv_netswitch *sw, struct pv_netswitch_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!sw)
		return;
	st->frames = atomic_load(&sw->frames);
	st->flooded = atomic_load(&sw->flooded);
	st->deliveries = atomic_load(&sw->deliveries);
	st->copies = st->deliveries; /* one copy per delivery, by construction */
	st->bytes_copied = atomic_load(&sw->bytes_copied);
	st->queued = atomic_load(&sw->queued);
	st->drops = atomic_load(&sw->drops);
	pthread_rwlock_rdlock(&sw->lock);
	st->ports = sw->nports;
	pthread_rwlock_unlock(&sw->lock);
}

unsigned int pvsw__port_queue(const struct pv_netswitch *sw)
{
	return sw->port_queue;
}

unsigned int pvsw__share(struct pv_netswitch *sw, unsigned int cap)
{
	unsigned int others = sw->nports > 1 ? sw->nports - 1 : 1, s = cap / others;

	return s < 8 ? (cap < 8 ? cap : 8) : s;
}

static unsigned int mac_hash(const uint8_t *m)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 6; i++)
		h = (h ^ m[i]) * 16777619u;
	return h % MAC_SLOTS;
}

/* Linear probing; a full table overwrites the home slot (a switch forgets). */
static void learn(struct pv_netswitch *sw, const uint8_t *mac, unsigned int port)
{
	unsigned int h = mac_hash(mac), i;

	if (mac[0] & 1)
		return; /* a group address is never a source */
	pthread_mutex_lock(&sw->mac_lock);
	for (i = 0; i < MAC_SLOTS; i++) {
		struct mac_entry *e = &sw->macs[(h + i) % MAC_SLOTS];

		if (!e->used || !memcmp(e->mac, mac, 6)) {
			memcpy(e->mac, mac, 6);
			e->used = true;
			e->port = port;
			break;
		}
	}
	if (i == MAC_SLOTS)
		sw->macs[h] = (struct mac_entry){ .used = true, .port = port, .mac = { mac[0], mac[1], mac[2], mac[3], mac[4], mac[5] } };
	pthread_mutex_unlock(&sw->mac_lock);
}

static int lookup(struct pv_netswitch *sw, const uint8_t *mac)
{
	unsigned int h = mac_hash(mac);
	int port = -1;

	pthread_mutex_lock(&sw->mac_lock);
	for (unsigned int i = 0; i < MAC_SLOTS; i++) {
		struct mac_entry *e = &sw->macs[(h + i) % MAC_SLOTS];

		if (!e->used)
			break;
		if (!memcmp(e->mac, mac, 6)) {
			port = (int)e->port;
			break;
		}
	}
	pthread_mutex_unlock(&sw->mac_lock);
	return port;
}

/* Forget every address of a port (it left). */
static void forget(struct pv_netswitch *sw, unsigned int port)
{
	pthread_mutex_lock(&sw->mac_lock);
	for (unsigned int i = 0; i < MAC_SLOTS; i++)
		if (sw->macs[i].used && sw->macs[i].port == port)
			sw->macs[i].port = UINT32_MAX; /* keeps probe chains intact */
	pthread_mutex_unlock(&sw->mac_lock);
}

int pvsw__join(struct pv_netswitch *sw, const struct pvsw_port_ops *ops, void *dev, const uint8_t mac[6])
{
	int port = -ENOSPC;

	pthread_rwlock_wrlock(&sw->lock);
	for (unsigned int i = 0; i < PVSW_MAX_PORTS; i++) {
		if (!sw->ports[i].used) {
			sw->ports[i] = (struct port){ .ops = ops, .dev = dev, .used = true };
			sw->nports++;
			port = (int)i;
			break;
		}
	}
	pthread_rwlock_unlock(&sw->lock);
	if (port >= 0)
		learn(sw, mac, (unsigned int)port);
	return port;
}

void pvsw__leave(struct pv_netswitch *sw, unsigned int port)
{
	if (port >= PVSW_MAX_PORTS)
		return;
	pthread_rwlock_wrlock(&sw->lock);
	if (sw->ports[port].used) {
		struct port p = sw->ports[port];

		sw->ports[port].used = false;
		sw->nports--;
		if (p.ops->flush)
			p.ops->flush(p.dev, UINT32_MAX); /* what waited for it */
		for (unsigned int i = 0; i < PVSW_MAX_PORTS; i++) /* what it left waiting elsewhere */
			if (sw->ports[i].used && sw->ports[i].ops->flush)
				sw->ports[i].ops->flush(sw->ports[i].dev, port);
	}
	pthread_rwlock_unlock(&sw->lock);
	forget(sw, port);
}

void pvsw__queued_done(struct pv_netswitch *sw, bool delivered, uint32_t bytes)
{
	if (delivered) {
		atomic_fetch_add(&sw->deliveries, 1);
		atomic_fetch_add(&sw->bytes_copied, bytes);
	} else {
		atomic_fetch_add(&sw->drops, 1);
	}
}

/* Deliver to one port; counts. */
static int deliver(struct pv_netswitch *sw, unsigned int port, struct pvnet_frame *f)
{
	struct port *p = &sw->ports[port];
	int r = p->ops->deliver(p->dev, f);

	if (r == PVSW_DELIVERED) {
		atomic_fetch_add(&sw->deliveries, 1);
		atomic_fetch_add(&sw->bytes_copied, f->len);
		atomic_store(&f->delivered, true);
	} else if (r == PVSW_QUEUED) {
		atomic_fetch_add(&sw->queued, 1);
	} else {
		atomic_fetch_add(&sw->drops, 1);
	}
	return r;
}

int pvsw__forward(struct pv_netswitch *sw, struct pvnet_frame *f)
{
	const uint8_t *dst = f->eth, *src = f->eth + 6;
	bool queued = false, delivered = false;
	int port, r;

	if (memcmp(src, "\0\0\0\0\0\0", 6))
		learn(sw, src, f->src);
	atomic_fetch_add(&sw->frames, 1);
	pthread_rwlock_rdlock(&sw->lock);
	port = (dst[0] & 1) ? -1 : lookup(sw, dst);
	if (port >= 0 && (unsigned int)port < PVSW_MAX_PORTS && sw->ports[port].used) {
		if ((unsigned int)port == f->src) {
			pthread_rwlock_unlock(&sw->lock);
			return PVSW_DELIVERED; /* to itself: a switch never sends back */
		}
		r = deliver(sw, (unsigned int)port, f);
		queued = r == PVSW_QUEUED;
		delivered = r == PVSW_DELIVERED;
	} else {
		atomic_fetch_add(&sw->flooded, 1);
		delivered = true; /* a flood reaching nobody is not a drop */
		for (unsigned int i = 0; i < PVSW_MAX_PORTS; i++) {
			if (!sw->ports[i].used || i == f->src)
				continue;
			r = deliver(sw, i, f);
			queued |= r == PVSW_QUEUED;
		}
	}
	pthread_rwlock_unlock(&sw->lock);
	if (queued)
		return PVSW_QUEUED;
	return delivered || atomic_load(&f->delivered) ? PVSW_DELIVERED : PVSW_DROPPED;
}
