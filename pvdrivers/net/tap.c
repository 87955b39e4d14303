/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Opening a TAP device for the net backends: one file per queue. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "netdev.h"

int pvnet__tap_open(const char *name, unsigned int nq, int fds[])
{
	int hdr = (int)sizeof(struct pvnet_hdr), r = 0;
	unsigned int i;

	for (i = 0; i < nq; i++) {
		struct ifreq ifr;
		int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC); /* blocking: io_uring polls it */

		if (fd < 0) {
			r = -errno;
			break;
		}
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (nq > 1 ? IFF_MULTI_QUEUE : 0);
		/* attaches to an existing TAP of that name, or creates it */
		if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
		    ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
			r = -errno;
			close(fd);
			break;
		}
		fds[i] = fd;
	}
	if (r < 0)
		while (i-- > 0) {
			close(fds[i]);
			fds[i] = -1;
		}
	return r;
}

int pvnet__tap_offload(int fd, uint32_t accepted)
{
	unsigned int o = pvnet__tun_offloads(accepted);

	if (ioctl(fd, TUNSETOFFLOAD, o) == 0)
		return 0;
	/* an older kernel without USO: the rest still helps */
	o &= ~0x60u;
	return ioctl(fd, TUNSETOFFLOAD, o) == 0 ? 0 : -errno;
}

int pvnet__tap_detach(int fd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_DETACH_QUEUE;
	return ioctl(fd, TUNSETQUEUE, &ifr) == 0 ? 0 : -errno;
}
