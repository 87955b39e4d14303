/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvrun's configuration (struct pvrun_spec), and the libvirt side of it:
 * a domain XML file read into a spec (pvrun_domain_load), a spec written as
 * domain XML (pvrun_domain_print), and statistics under the names of
 * libvirt's domain statistics (pvrun_libvirt_stats).
 *
 * The supported subset of domain XML is pvrun_map.c's; anything outside it
 * is refused by its path in the document (one line, no guessing).
 */
#ifndef PVRUN_DOMAIN_H
#define PVRUN_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <pv/pv.h>

/* pvrun's exit statuses for a configuration that cannot be had. */
#define PVRUN_EXIT_USAGE 2   /* refused: bad command line or domain XML */
#define PVRUN_EXIT_SETUP 125 /* the VM cannot be set up (libvirt, storage, backend) */

enum pvrun_bus {
	PVRUN_BUS_VIRTIO, /* the PV disk (pv_blkback) */
	PVRUN_BUS_IDE,    /* the emulated ATA disk, primary master */
};

enum pvrun_source { PVRUN_SRC_FILE, PVRUN_SRC_BLOCK, PVRUN_SRC_VOLUME };

struct pvrun_disk {
	enum pvrun_bus bus;
	enum pvrun_source type;
	char path[4096];       /* the image or block device (a volume's, once resolved) */
	char pool[256], volume[256]; /* PVRUN_SRC_VOLUME */
	char target[32];       /* libvirt's target dev: vda, hda */
	char where[160];       /* the <disk> element's path in the XML, for messages */
	bool read_only;
	void *dev;             /* the attached device: struct pv_blkback or struct pv_ata */
};

#define PVRUN_MAX_DISKS 2 /* one per bus: libpv has one PV disk and one ATA disk */

/* libpv's network devices, when the tree has them (<pv/net.h>). */
#if defined(__has_include)
#if __has_include(<pv/net.h>)
#define PVRUN_HAVE_NET 1
#endif
#if __has_include(<pv/ne2k.h>)
#define PVRUN_HAVE_NE2K 1
#endif
#endif

enum pvrun_net_type { PVRUN_NET_NETWORK, PVRUN_NET_BRIDGE, PVRUN_NET_ETHERNET };

/* An <interface>: the PV net device (or the emulated NE2000) on a TAP, maybe on a bridge. */
struct pvrun_nic {
	enum pvrun_net_type type;
	char network[256];     /* PVRUN_NET_NETWORK: libvirt's network */
	char bridge[16];       /* the bridge the TAP joins (a network's, once resolved) */
	char tap[16];          /* the TAP: <target dev>, or pvrun's own name */
	bool named;            /* tap came from <target dev> */
	bool ne2k;             /* <model type='ne2k_isa'>: the emulated NE2000 */
	uint8_t mac[6];        /* all zero: libpv chooses */
	bool has_mac;
	unsigned int mtu;      /* 0: libpv's default */
	char where[160];       /* the <interface> element's path, for messages */
	bool bridged;          /* pvrun added the TAP to the bridge */
	void *dev;             /* struct pv_netback or struct pv_ne2k */
};

#define PVRUN_MAX_NICS 2 /* one PV net device and one NE2000 per VM */

struct pvrun_spec {
	char name[256];
	char uuid[40];         /* "" when none was given */
	enum pv_backend backend;
	uint64_t ram_size;     /* bytes */
	unsigned int vcpus;
	char kernel[4096];     /* the guest: a libpv ELF, or a Linux bzImage when boot_linux */
	bool boot_linux;       /* boot kernel as Linux on the PC platform (<pv/linux.h>) */
	char initrd[4096];     /* boot_linux: its initramfs ("" : none) */
	char cmdline[PV_CMDLINE_MAX]; /* the guest's command line (boot_linux: the kernel's) */
	bool has_cmdline;
	char console_file[4096]; /* console to this file ("" : stdout) */
	unsigned int nr_disks;
	struct pvrun_disk disks[PVRUN_MAX_DISKS];
	unsigned int nr_nics;
	struct pvrun_nic nics[PVRUN_MAX_NICS];
};

/*
 * Read the domain XML in file into *s: validated by libvirt itself (a define
 * with VIR_DOMAIN_DEFINE_VALIDATE on a private test:///default connection,
 * so nothing is defined anywhere), then mapped (pvrun_map); volumes are
 * resolved with libvirt's storage API on uri (may be NULL when the domain has
 * no volume), and so are networks (their bridge).  Returns 0, or PVRUN_EXIT_USAGE (invalid or refused XML) or
 * PVRUN_EXIT_SETUP (libvirt unreachable, no such pool or volume) with a
 * one-line reason in err.
 */
int pvrun_domain_load(const char *file, const char *uri, struct pvrun_spec *s, char *err, size_t n);

/*
 * Map a parsed domain document (a libxml2 xmlDoc, passed as void * so that
 * callers need no libxml2 headers) into *s.  Returns 0, or -EINVAL with
 * "PATH: reason" in err for the first element or attribute libpv cannot
 * honour.
 */
int pvrun_map(void *doc, struct pvrun_spec *s, char *err, size_t n);

/*
 * Attach nic, the index'th, to vm (before the run): its device on its TAP (created
 * when missing; it goes with the VM), which then joins nic->bridge, if any,
 * and is brought up.  Returns 0 or a negative errno with a reason in err.
 * pvrun_nic_detach takes an existing TAP it added out of the bridge again
 * (after the VM is destroyed).  Only with PVRUN_HAVE_NET.
 */
int pvrun_nic_attach(struct pv_vm *vm, struct pvrun_nic *nic, unsigned int index, char *err, size_t n);
void pvrun_nic_detach(struct pvrun_nic *nic);

/* Write s as a libvirt domain XML document (valid against libvirt's
 * domain schema) to f.  Returns 0 or -errno. */
int pvrun_domain_print(const struct pvrun_spec *s, FILE *f);

/*
 * Write libvirt's domain statistics for what libpv measured (state.*,
 * cpu.time/user/system, balloon.*, vcpu.*, block.*, net.count) as one JSON
 * object into buf (snprintf semantics).  run: pv_vm_run's result.
 */
int pvrun_libvirt_stats(struct pv_vm *vm, const struct pvrun_spec *s, int run, char *buf, size_t n);

#endif
