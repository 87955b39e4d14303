/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Domain XML -> struct pvrun_spec.  The document has passed libvirt's own
 * validation; here every element and attribute is either honoured or
 * refused by its path ("/domain/devices/disk[2]/target/@bus: ..."), never
 * skipped.  The supported subset:
 *
 *   <domain type='kvm|qemu'>      kvm: the KVM backend; qemu: emulation (Unicorn)
 *     <name> <uuid>
 *     <memory unit=..> <currentMemory unit=..>   equal (no balloon), a multiple of 2 MiB, 4 MiB..64 GiB
 *     <vcpu placement='static' current=N>N</vcpu>  1..64, current == N
 *     <os> <type arch='x86_64'>hvm</type> <kernel> <initrd> <cmdline> </os>
 *                                    (a libpv ELF guest, or a Linux bzImage with its <initrd>)
 *     <on_poweroff|on_reboot|on_crash>destroy</...>  (the VM ends; libpv restarts nothing)
 *     <devices>
 *       <disk type='file|block|volume' device='disk'>
 *         <driver type='raw'/> <source file|dev|pool+volume/>
 *         <target dev='vdX' bus='virtio'/> (PV disk) or <target dev='hda' bus='ide'/> (ATA)
 *         <readonly/>
 *       <serial|console type='stdio|file'> <source path/> <target port='0' [type='serial']/>
 *                                    (port 0 is libpv's console)
 *       <interface type='network|bridge|ethernet'>   (with <pv/net.h>: one PV net device on a TAP,
 *                                    and with <pv/ne2k.h> one NE2000)
 *         <source network|bridge/> <model type='virtio|ne2k_isa'/> <mac address/> <target dev/> <mtu size/>
 *       <memballoon model='none'/>
 *     </devices>
 *
 * Without <pv/net.h> in the tree, <interface> is refused as not supported yet.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "pvrun_domain.h"

struct ctx {
	char *err;
	size_t n;
};

/* Store "PATH[/@attr]: reason" and return -EINVAL. */
__attribute__((format(printf, 4, 5))) static int refuse(struct ctx *c, xmlNode *node, const char *attr, const char *fmt, ...)
{
	xmlChar *path = xmlGetNodePath(node);
	int len = snprintf(c->err, c->n, "%s%s%s: ", path ? (const char *)path : "?", attr ? "/@" : "",
			   attr ? attr : "");
	va_list ap;

	xmlFree(path);
	if (len >= 0 && (size_t)len < c->n) {
		va_start(ap, fmt);
		vsnprintf(c->err + len, c->n - (size_t)len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool in(const char *s, const char *const *list)
{
	for (; list && *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

/* Refuse attributes outside attrs and child elements outside kids (NULL: none). */
static int check(struct ctx *c, xmlNode *node, const char *const *attrs, const char *const *kids)
{
	for (xmlAttr *a = node->properties; a; a = a->next)
		if (!in((const char *)a->name, attrs))
			return refuse(c, node, (const char *)a->name, "not supported by libpv");
	for (xmlNode *k = node->children; k; k = k->next)
		if (k->type == XML_ELEMENT_NODE && !in((const char *)k->name, kids))
			return refuse(c, k, NULL, "not supported by libpv");
	return 0;
}

/* Attribute name of node into buf ("" when absent); false if it does not fit. */
static bool attr(xmlNode *node, const char *name, char *buf, size_t n)
{
	xmlChar *v = xmlGetProp(node, (const xmlChar *)name);
	size_t len = v ? strlen((const char *)v) : 0;

	if (len >= n) {
		xmlFree(v);
		return false;
	}
	memcpy(buf, v ? (const char *)v : "", len + 1);
	xmlFree(v);
	return true;
}

/* Text of node, without surrounding white space, into buf. */
static bool text(xmlNode *node, char *buf, size_t n)
{
	xmlChar *v = xmlNodeGetContent(node);
	const char *s = v ? (const char *)v : "";
	size_t len;

	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\n' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		len--;
	if (len >= n) {
		xmlFree(v);
		return false;
	}
	memcpy(buf, s, len);
	buf[len] = 0;
	xmlFree(v);
	return true;
}

static bool is(xmlNode *node, const char *name)
{
	return node->type == XML_ELEMENT_NODE && !strcmp((const char *)node->name, name);
}

/* ---- memory and vCPUs ---- */

/* libvirt's memory units; the default is KiB. */
static int mem_bytes(struct ctx *c, xmlNode *node, uint64_t *out)
{
	static const struct {
		const char *name;
		uint64_t mul;
	} units[] = {
		{ "b", 1 },         { "bytes", 1 },      { "KB", 1000 },      { "k", 1024 },
		{ "KiB", 1024 },    { "MB", 1000000 },   { "M", 1 << 20 },    { "MiB", 1 << 20 },
		{ "GB", 1000000000 }, { "G", 1ull << 30 }, { "GiB", 1ull << 30 }, { "TB", 1000000000000ull },
		{ "T", 1ull << 40 }, { "TiB", 1ull << 40 },
	};
	static const char *const attrs[] = { "unit", NULL };
	char unit[16], val[32], *end;
	unsigned long long v;
	uint64_t mul = 0;
	int r = check(c, node, attrs, NULL);

	if (r < 0)
		return r;
	if (!attr(node, "unit", unit, sizeof(unit)))
		return refuse(c, node, "unit", "unknown unit");
	if (!*unit)
		strcpy(unit, "KiB");
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(unit, units[i].name))
			mul = units[i].mul;
	if (!mul)
		return refuse(c, node, "unit", "unit '%s' is not one pvrun knows", unit);
	errno = 0;
	if (!text(node, val, sizeof(val)) || !*val || (v = strtoull(val, &end, 10), errno || *end))
		return refuse(c, node, NULL, "not a number");
	if (v > PV_RAM_MAX / mul || v * mul < PV_RAM_MIN || (v * mul) % (2u << 20))
		return refuse(c, node, NULL, "%s %s: libpv needs a multiple of 2 MiB from 4 MiB to 64 GiB", val, unit);
	*out = v * mul;
	return 0;
}

static int map_vcpu(struct ctx *c, xmlNode *node, struct pvrun_spec *s)
{
	static const char *const attrs[] = { "placement", "current", NULL };
	char val[16], cur[16], place[16], *end;
	unsigned long v;
	int r = check(c, node, attrs, NULL);

	if (r < 0)
		return r;
	if (!text(node, val, sizeof(val)) || (v = strtoul(val, &end, 10), *end) || v < 1 || v > PV_MAX_VCPUS)
		return refuse(c, node, NULL, "libpv runs 1 to %d vCPUs", PV_MAX_VCPUS);
	if (attr(node, "placement", place, sizeof(place)) && *place && strcmp(place, "static"))
		return refuse(c, node, "placement", "'%s': libpv places no vCPUs (only 'static')", place);
	if (attr(node, "current", cur, sizeof(cur)) && *cur && strtoul(cur, NULL, 10) != v)
		return refuse(c, node, "current", "libpv starts every vCPU it has (current must equal %lu)", v);
	s->vcpus = (unsigned int)v;
	return 0;
}

/* ---- <os> ---- */

static int map_os(struct ctx *c, xmlNode *os, struct pvrun_spec *s)
{
	static const char *const kids[] = { "type", "kernel", "initrd", "cmdline", NULL };
	static const char *const type_attrs[] = { "arch", NULL };
	char v[64];
	int r = check(c, os, NULL, kids);

	if (r < 0)
		return r;
	for (xmlNode *k = os->children; k; k = k->next) {
		if (is(k, "type")) {
			if ((r = check(c, k, type_attrs, NULL)) < 0)
				return r;
			if (!text(k, v, sizeof(v)) || strcmp(v, "hvm"))
				return refuse(c, k, NULL, "'%s': libpv runs 'hvm' guests", v);
			if (attr(k, "arch", v, sizeof(v)) && *v && strcmp(v, "x86_64"))
				return refuse(c, k, "arch", "'%s': libpv runs x86_64 guests", v);
		} else if (is(k, "kernel")) {
			if ((r = check(c, k, NULL, NULL)) < 0)
				return r;
			if (!text(k, s->kernel, sizeof(s->kernel)) || !*s->kernel)
				return refuse(c, k, NULL, "give the guest ELF's path");
		} else if (is(k, "initrd")) {
			if ((r = check(c, k, NULL, NULL)) < 0)
				return r;
			if (!text(k, s->initrd, sizeof(s->initrd)) || !*s->initrd)
				return refuse(c, k, NULL, "give the initramfs's path");
		} else if (is(k, "cmdline")) {
			if ((r = check(c, k, NULL, NULL)) < 0)
				return r;
			if (!text(k, s->cmdline, sizeof(s->cmdline)))
				return refuse(c, k, NULL, "longer than libpv's %u bytes", PV_CMDLINE_MAX - 1);
			s->has_cmdline = true;
		}
	}
	if (!*s->kernel)
		return refuse(c, os, NULL, "no <kernel>: libpv boots a guest ELF directly (no firmware, no <boot>)");
	return 0;
}

/* ---- <disk> ---- */

static int map_disk(struct ctx *c, xmlNode *node, struct pvrun_spec *s)
{
	static const char *const attrs[] = { "type", "device", NULL };
	static const char *const kids[] = { "driver", "source", "target", "readonly", NULL };
	static const char *const driver_attrs[] = { "type", NULL };
	static const char *const target_attrs[] = { "dev", "bus", NULL };
	static const char *const file_attrs[] = { "file", NULL }, *const dev_attrs[] = { "dev", NULL },
				 *const vol_attrs[] = { "pool", "volume", NULL };
	struct pvrun_disk *d = &s->disks[s->nr_disks];
	char type[16], v[64], bus[16];
	bool have_source = false, have_target = false;
	xmlChar *path;
	int r = check(c, node, attrs, kids);

	if (r < 0)
		return r;
	memset(d, 0, sizeof(*d));
	path = xmlGetNodePath(node);
	snprintf(d->where, sizeof(d->where), "%s", path ? (const char *)path : "disk");
	xmlFree(path);
	attr(node, "type", type, sizeof(type));
	if (!strcmp(type, "file"))
		d->type = PVRUN_SRC_FILE;
	else if (!strcmp(type, "block"))
		d->type = PVRUN_SRC_BLOCK;
	else if (!strcmp(type, "volume"))
		d->type = PVRUN_SRC_VOLUME;
	else
		return refuse(c, node, "type", "'%s': libpv takes file, block and volume disks", type);
	if (attr(node, "device", v, sizeof(v)) && *v && strcmp(v, "disk"))
		return refuse(c, node, "device", "'%s': libpv has disks only", v);
	for (xmlNode *k = node->children; k; k = k->next) {
		if (is(k, "driver")) {
			if ((r = check(c, k, driver_attrs, NULL)) < 0)
				return r;
			if (attr(k, "type", v, sizeof(v)) && *v && strcmp(v, "raw"))
				return refuse(c, k, "type", "'%s': libpv reads raw images only", v);
		} else if (is(k, "source")) {
			const char *const *want = d->type == PVRUN_SRC_FILE    ? file_attrs
						  : d->type == PVRUN_SRC_BLOCK ? dev_attrs
									       : vol_attrs;
			if ((r = check(c, k, want, NULL)) < 0)
				return r;
			if (d->type == PVRUN_SRC_VOLUME) {
				if (!attr(k, "pool", d->pool, sizeof(d->pool)) || !*d->pool ||
				    !attr(k, "volume", d->volume, sizeof(d->volume)) || !*d->volume)
					return refuse(c, k, NULL, "give pool and volume");
			} else if (!attr(k, d->type == PVRUN_SRC_FILE ? "file" : "dev", d->path, sizeof(d->path)) ||
				   !*d->path) {
				return refuse(c, k, NULL, "give the %s", d->type == PVRUN_SRC_FILE ? "file" : "device");
			}
			have_source = true;
		} else if (is(k, "target")) {
			if ((r = check(c, k, target_attrs, NULL)) < 0)
				return r;
			if (!attr(k, "dev", d->target, sizeof(d->target)) || !attr(k, "bus", bus, sizeof(bus)))
				return refuse(c, k, NULL, "target too long");
			if (!*bus) /* libvirt's rule: the bus follows the name */
				strcpy(bus, !strncmp(d->target, "hd", 2) ? "ide" : !strncmp(d->target, "vd", 2) ? "virtio" : "");
			if (!strcmp(bus, "virtio")) {
				d->bus = PVRUN_BUS_VIRTIO;
				if (strncmp(d->target, "vd", 2))
					return refuse(c, k, "dev", "'%s': a virtio disk is vdX", d->target);
			} else if (!strcmp(bus, "ide")) {
				d->bus = PVRUN_BUS_IDE;
				if (strcmp(d->target, "hda"))
					return refuse(c, k, "dev", "'%s': libpv's ATA disk is the primary master, hda",
						      d->target);
			} else {
				return refuse(c, k, "bus", "'%s': libpv has virtio (the PV disk) and ide (ATA)", bus);
			}
			have_target = true;
		} else if (is(k, "readonly")) {
			if ((r = check(c, k, NULL, NULL)) < 0)
				return r;
			d->read_only = true;
		}
	}
	if (!have_source)
		return refuse(c, node, NULL, "no <source>: libpv has no empty drives");
	if (!have_target)
		return refuse(c, node, NULL, "no <target>");
	for (unsigned int i = 0; i < s->nr_disks; i++)
		if (s->disks[i].bus == d->bus)
			return refuse(c, node, NULL, "a second %s disk: libpv has one per VM",
				      d->bus == PVRUN_BUS_VIRTIO ? "virtio" : "ide");
	s->nr_disks++;
	return 0;
}

/* ---- <serial> and <console>: port 0 is libpv's console ---- */

static int map_chardev(struct ctx *c, xmlNode *node, bool console, char *file, size_t n)
{
	static const char *const attrs[] = { "type", NULL }, *const kids[] = { "source", "target", NULL };
	static const char *const src_attrs[] = { "path", NULL };
	static const char *const ser_target[] = { "port", NULL }, *const con_target[] = { "type", "port", NULL };
	char type[16], v[32];
	int r = check(c, node, attrs, kids);

	if (r < 0)
		return r;
	*file = 0;
	attr(node, "type", type, sizeof(type));
	if (strcmp(type, "stdio") && strcmp(type, "file"))
		return refuse(c, node, "type", "'%s': libpv's console goes to pvrun's stdout (stdio) or a file", type);
	for (xmlNode *k = node->children; k; k = k->next) {
		if (is(k, "source")) {
			if ((r = check(c, k, src_attrs, NULL)) < 0)
				return r;
			if (strcmp(type, "file"))
				return refuse(c, k, NULL, "a stdio console has no source");
			if (!attr(k, "path", file, n) || !*file)
				return refuse(c, k, "path", "give the file");
		} else if (is(k, "target")) {
			if ((r = check(c, k, console ? con_target : ser_target, NULL)) < 0)
				return r;
			if (attr(k, "port", v, sizeof(v)) && *v && strcmp(v, "0"))
				return refuse(c, k, "port", "libpv has one console, port 0");
			if (console && attr(k, "type", v, sizeof(v)) && *v && strcmp(v, "serial"))
				return refuse(c, k, "type", "'%s': libpv's console is serial port 0", v);
		}
	}
	if (!strcmp(type, "file") && !*file)
		return refuse(c, node, NULL, "a file console needs <source path=.../>");
	return 0;
}

#ifdef PVRUN_HAVE_NET
/* "52:54:00:12:34:56" into mac. */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return true;
}

static int map_interface(struct ctx *c, xmlNode *node, struct pvrun_spec *s)
{
	static const char *const attrs[] = { "type", NULL };
	static const char *const kids[] = { "source", "model", "mac", "target", "mtu", NULL };
	static const char *const net_src[] = { "network", NULL }, *const br_src[] = { "bridge", NULL };
	static const char *const model_attrs[] = { "type", NULL }, *const mac_attrs[] = { "address", NULL };
	static const char *const target_attrs[] = { "dev", NULL }, *const mtu_attrs[] = { "size", NULL };
	struct pvrun_nic *nic = &s->nics[s->nr_nics];
	char type[16], v[64];
	bool have_source = false, have_model = false;
	xmlChar *path;
	int r = check(c, node, attrs, kids);

	if (r < 0)
		return r;
	memset(nic, 0, sizeof(*nic));
	path = xmlGetNodePath(node);
	snprintf(nic->where, sizeof(nic->where), "%s", path ? (const char *)path : "interface");
	xmlFree(path);
	attr(node, "type", type, sizeof(type));
	if (!strcmp(type, "network"))
		nic->type = PVRUN_NET_NETWORK;
	else if (!strcmp(type, "bridge"))
		nic->type = PVRUN_NET_BRIDGE;
	else if (!strcmp(type, "ethernet"))
		nic->type = PVRUN_NET_ETHERNET;
	else
		return refuse(c, node, "type", "'%s': libpv takes network, bridge and ethernet interfaces (a TAP)", type);
	for (xmlNode *k = node->children; k; k = k->next) {
		if (is(k, "source")) {
			if (nic->type == PVRUN_NET_ETHERNET)
				return refuse(c, k, NULL, "an ethernet interface is its TAP (<target dev>), it has no source");
			if ((r = check(c, k, nic->type == PVRUN_NET_NETWORK ? net_src : br_src, NULL)) < 0)
				return r;
			if (nic->type == PVRUN_NET_NETWORK ? !attr(k, "network", nic->network, sizeof(nic->network))
							   : !attr(k, "bridge", nic->bridge, sizeof(nic->bridge)))
				return refuse(c, k, NULL, "name too long");
			have_source = *nic->network || *nic->bridge;
		} else if (is(k, "model")) {
			if ((r = check(c, k, model_attrs, NULL)) < 0)
				return r;
			attr(k, "type", v, sizeof(v));
#ifdef PVRUN_HAVE_NE2K
			nic->ne2k = !strcmp(v, "ne2k_isa");
#else
			if (!strcmp(v, "ne2k_isa"))
				return refuse(c, k, "type", "'ne2k_isa': not supported yet (libpv has no emulated NIC yet)");
#endif
			if (strcmp(v, "virtio") && !nic->ne2k)
				return refuse(c, k, "type", "'%s': libpv has virtio (the PV net device) and ne2k_isa", v);
			have_model = true;
		} else if (is(k, "mac")) {
			if ((r = check(c, k, mac_attrs, NULL)) < 0)
				return r;
			if (!attr(k, "address", v, sizeof(v)) || !parse_mac(v, nic->mac))
				return refuse(c, k, "address", "not a MAC address");
			nic->has_mac = true;
		} else if (is(k, "target")) {
			if ((r = check(c, k, target_attrs, NULL)) < 0)
				return r;
			if (!attr(k, "dev", nic->tap, sizeof(nic->tap)) || !*nic->tap)
				return refuse(c, k, "dev", "a TAP name has 1 to 15 characters");
			nic->named = true;
		} else if (is(k, "mtu")) {
			unsigned long m;

			if ((r = check(c, k, mtu_attrs, NULL)) < 0)
				return r;
			if (!attr(k, "size", v, sizeof(v)) || (m = strtoul(v, NULL, 10)) < 68 || m > 65535)
				return refuse(c, k, "size", "libpv takes an MTU from 68 to 65535");
			nic->mtu = (unsigned int)m;
		}
	}
	if (!have_source && nic->type != PVRUN_NET_ETHERNET)
		return refuse(c, node, NULL, "no <source %s=.../>", nic->type == PVRUN_NET_NETWORK ? "network" : "bridge");
	if (!have_model)
		return refuse(c, node, NULL, "no <model type='virtio'/>: libvirt's default NIC model is not libpv's");
	if (nic->ne2k && nic->mtu && nic->mtu != 1500)
		return refuse(c, node, NULL, "<mtu size='%u'>: the NE2000's MTU is 1500", nic->mtu);
	for (unsigned int i = 0; i < s->nr_nics; i++)
		if (s->nics[i].ne2k == nic->ne2k)
			return refuse(c, node, NULL, "a second %s interface: libpv has one per VM",
				      nic->ne2k ? "ne2k_isa" : "virtio");
	s->nr_nics++;
	return 0;
}
#endif

static int map_devices(struct ctx *c, xmlNode *devs, struct pvrun_spec *s)
{
	static const char *const kids[] = { "disk", "serial", "console", "interface", "memballoon", NULL };
	static const char *const balloon_attrs[] = { "model", NULL };
	char file[2][4096];
	xmlNode *chr[2] = { NULL, NULL };
	int r = check(c, devs, NULL, kids);

	if (r < 0)
		return r;
	for (xmlNode *k = devs->children; k; k = k->next) {
		if (is(k, "disk")) {
			if (s->nr_disks == PVRUN_MAX_DISKS)
				return refuse(c, k, NULL, "libpv has one virtio and one ide disk per VM");
			if ((r = map_disk(c, k, s)) < 0)
				return r;
		} else if (is(k, "serial") || is(k, "console")) {
			int i = is(k, "console");

			if (chr[i])
				return refuse(c, k, NULL, "libpv has one console");
			chr[i] = k;
			if ((r = map_chardev(c, k, i, file[i], sizeof(file[i]))) < 0)
				return r;
		} else if (is(k, "interface")) {
#ifdef PVRUN_HAVE_NET
			if (s->nr_nics == PVRUN_MAX_NICS)
				return refuse(c, k, NULL, "libpv has one virtio and one ne2k_isa interface per VM");
			if ((r = map_interface(c, k, s)) < 0)
				return r;
#else
			return refuse(c, k, NULL, "not supported yet (libpv has no PV net device yet)");
#endif
		} else if (is(k, "memballoon")) {
			char v[16];

			if ((r = check(c, k, balloon_attrs, NULL)) < 0)
				return r;
			if (!attr(k, "model", v, sizeof(v)) || strcmp(v, "none"))
				return refuse(c, k, "model", "'%s': libpv has no balloon (model='none')", v);
		}
	}
	/* <console> is the serial port's other name: both must say the same. */
	if (chr[0] && chr[1] && strcmp(file[0], file[1]))
		return refuse(c, chr[1], NULL, "differs from <serial> port 0: libpv has one console");
	if (chr[0] || chr[1])
		snprintf(s->console_file, sizeof(s->console_file), "%s", file[chr[0] ? 0 : 1]);
	return 0;
}

/* on_poweroff, on_reboot, on_crash: libpv's VM ends, it restarts nothing. */
static int map_lifecycle(struct ctx *c, xmlNode *node)
{
	char v[32];
	int r = check(c, node, NULL, NULL);

	if (r < 0)
		return r;
	if (!text(node, v, sizeof(v)) || strcmp(v, "destroy"))
		return refuse(c, node, NULL, "'%s': libpv ends the VM (only 'destroy')", v);
	return 0;
}

int pvrun_map(void *doc, struct pvrun_spec *s, char *err, size_t n)
{
	static const char *const attrs[] = { "type", NULL };
	static const char *const kids[] = { "name", "uuid", "memory", "currentMemory", "vcpu", "os",
					    "on_poweroff", "on_reboot", "on_crash", "devices", NULL };
	struct ctx c = { err, n };
	xmlNode *root = xmlDocGetRootElement(doc), *cur_mem = NULL;
	uint64_t cur = 0;
	char type[16];
	int r;

	memset(s, 0, sizeof(*s));
	s->vcpus = 1;
	if (!root || !is(root, "domain")) {
		snprintf(err, n, "not a <domain>");
		return -EINVAL;
	}
	if ((r = check(&c, root, attrs, kids)) < 0)
		return r;
	attr(root, "type", type, sizeof(type));
	if (!strcmp(type, "kvm"))
		s->backend = PV_BACKEND_KVM;
	else if (!strcmp(type, "qemu"))
		s->backend = PV_BACKEND_EMU;
	else
		return refuse(&c, root, "type", "'%s': libpv runs 'kvm' (KVM) or 'qemu' (emulation)", type);
	for (xmlNode *k = root->children; k; k = k->next) {
		if (is(k, "name") || is(k, "uuid")) {
			bool name = is(k, "name");

			if ((r = check(&c, k, NULL, NULL)) < 0)
				return r;
			if (!text(k, name ? s->name : s->uuid, name ? sizeof(s->name) : sizeof(s->uuid)))
				return refuse(&c, k, NULL, "too long");
		} else if (is(k, "memory")) {
			if ((r = mem_bytes(&c, k, &s->ram_size)) < 0)
				return r;
		} else if (is(k, "currentMemory")) {
			if ((r = mem_bytes(&c, k, &cur)) < 0)
				return r;
			cur_mem = k;
		} else if (is(k, "vcpu")) {
			if ((r = map_vcpu(&c, k, s)) < 0)
				return r;
		} else if (is(k, "os")) {
			if ((r = map_os(&c, k, s)) < 0)
				return r;
		} else if (is(k, "devices")) {
			if ((r = map_devices(&c, k, s)) < 0)
				return r;
		} else if (k->type == XML_ELEMENT_NODE) { /* on_poweroff, on_reboot, on_crash */
			if ((r = map_lifecycle(&c, k)) < 0)
				return r;
		}
	}
	if (cur_mem && cur != s->ram_size)
		return refuse(&c, cur_mem, NULL, "differs from <memory>: libpv has no balloon");
	if (!*s->kernel)
		return refuse(&c, root, NULL, "no <os><kernel>: libpv boots a guest ELF directly");
	return 0;
}
