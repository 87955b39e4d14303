// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pvrun's network interfaces, from --net or from a domain's <interface>:
 * the PV net device or the emulated NE2000 on a TAP, which may join a
 * bridge.  Needs no libvirt.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pvrun_domain.h"
#ifdef PVRUN_HAVE_NET
#include <linux/sockios.h>
#include <pv/net.h>
#ifdef PVRUN_HAVE_NE2K
#include <pv/ne2k.h>
#endif

/* Add (SIOCBRADDIF) or remove (SIOCBRDELIF) tap to or from bridge; bring tap up when adding. */
static int bridge_op(const char *bridge, const char *tap, bool add)
{
	struct ifreq ifr;
	int s = socket(AF_LOCAL, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;
	unsigned int idx = if_nametoindex(tap);

	if (s < 0)
		return -errno;
	if (!idx) {
		r = -errno;
		goto out;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", bridge);
	ifr.ifr_ifindex = (int)idx;
	if (ioctl(s, add ? SIOCBRADDIF : SIOCBRDELIF, &ifr) < 0) {
		r = -errno;
		goto out;
	}
	if (add) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tap);
		if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 || (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) < 0))
			r = -errno;
	}
out:
	close(s);
	return r;
}

int pvrun_nic_attach(struct pv_vm *vm, struct pvrun_nic *nic, unsigned int index, char *err, size_t n)
{
	struct pv_netback_config c = { .tap = nic->tap, .mtu = (uint16_t)nic->mtu, .poll_ns = 50000 };
	int r;

	if (!nic->named) /* pvrun's own TAPs: pvtapPID, pvtapPID.1 */
		snprintf(nic->tap, sizeof(nic->tap), index ? "pvtap%ld.%u" : "pvtap%ld", (long)getpid() % 100000000L,
			 index);
	if (nic->has_mac)
		memcpy(c.mac, nic->mac, 6);
#ifdef PVRUN_HAVE_NE2K
	if (nic->ne2k) {
		struct pv_ne2k_config nc = { .tap = nic->tap };

		memcpy(nc.mac, c.mac, 6);
		r = pv_ne2k_attach(vm, &nc, (struct pv_ne2k **)&nic->dev);
	} else
#endif
		r = pv_netback_attach(vm, &c, (struct pv_netback **)&nic->dev);
	if (r < 0) {
		snprintf(err, n, "%s: TAP %s: %s", nic->where, nic->tap, strerror(-r));
		return r;
	}
	if (*nic->bridge) {
		r = bridge_op(nic->bridge, nic->tap, true);
		if (r < 0) {
			snprintf(err, n, "%s: TAP %s cannot join bridge %s: %s", nic->where, nic->tap, nic->bridge,
				 strerror(-r));
			return r;
		}
		nic->bridged = true;
	}
	return 0;
}

void pvrun_nic_detach(struct pvrun_nic *nic)
{
	/* A TAP pvrun created went with the VM (and out of the bridge); one
	 * that was there before stays, and leaves the bridge it was put on. */
	if (nic->bridged && if_nametoindex(nic->tap))
		bridge_op(nic->bridge, nic->tap, false);
	nic->bridged = false;
}
#endif
