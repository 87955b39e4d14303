/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvrun and libvirt: domain XML in (validated by libvirt, mapped by
 * pvrun_map.c, volumes resolved through libvirt's storage API), domain XML
 * out, and libvirt's names for the statistics.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <pv/ata.h>
#include <pv/blk.h>

#include "pvrun_domain.h"
#ifdef PVRUN_HAVE_NET
#include <linux/sockios.h>
#include <pv/net.h>
#endif
#ifdef PVRUN_HAVE_NE2K
#include <pv/ne2k.h>
#endif

/* libvirt prints its errors unless told otherwise: we say them ourselves. */
static void quiet(void *opaque, virErrorPtr e)
{
	(void)opaque;
	(void)e;
}

/* libvirt's last error as one line. */
static const char *lv_error(char *buf, size_t n)
{
	const char *m = virGetLastErrorMessage();

	snprintf(buf, n, "%s", m ? m : "unknown error");
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return buf;
}

static char *read_file(const char *path, char *err, size_t n)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f) {
		snprintf(err, n, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);

			if (!nb || cap > (16u << 20)) {
				free(nb ? nb : buf);
				fclose(f);
				snprintf(err, n, "%s: too large", path);
				return NULL;
			}
			buf = nb;
		}
		size_t got = fread(buf + len, 1, 4096, f);

		len += got;
		if (got < 4096)
			break;
	}
	buf[len] = 0;
	fclose(f);
	return buf;
}

/*
 * Let libvirt validate xml: a define with VIR_DOMAIN_DEFINE_VALIDATE (its
 * parser and RelaxNG domain schema) on a private, in-process test:///default
 * connection, undefined again at once.  The test driver's own domain "test"
 * is removed first so that any name can be defined.
 */
static int validate(const char *xml, char *err, size_t n)
{
	char e[512];
	virConnectPtr c = virConnectOpen("test:///default");
	virDomainPtr d;

	if (!c) {
		snprintf(err, n, "cannot open libvirt's test:///default: %s", lv_error(e, sizeof(e)));
		return PVRUN_EXIT_SETUP;
	}
	d = virDomainLookupByName(c, "test");
	if (d) {
		virDomainDestroy(d);
		virDomainUndefine(d);
		virDomainFree(d);
	}
	d = virDomainDefineXMLFlags(c, xml, VIR_DOMAIN_DEFINE_VALIDATE);
	if (!d) {
		snprintf(err, n, "libvirt rejects it: %s", lv_error(e, sizeof(e)));
		virConnectClose(c);
		return PVRUN_EXIT_USAGE;
	}
	virDomainUndefine(d);
	virDomainFree(d);
	virConnectClose(c);
	return 0;
}

/* The format libvirt gives a volume (its XML's target/format/@type; "" when none). */
static void vol_format(virStorageVolPtr v, char *fmt, size_t n)
{
	char *xml = virStorageVolGetXMLDesc(v, 0);
	xmlDoc *doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "volume.xml", NULL, XML_PARSE_NONET) : NULL;
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;

	*fmt = 0;
	for (xmlNode *t = root ? root->children : NULL; t; t = t->next) {
		if (t->type != XML_ELEMENT_NODE || strcmp((const char *)t->name, "target"))
			continue;
		for (xmlNode *f = t->children; f; f = f->next) {
			if (f->type == XML_ELEMENT_NODE && !strcmp((const char *)f->name, "format")) {
				xmlChar *v2 = xmlGetProp(f, (const xmlChar *)"type");

				snprintf(fmt, n, "%s", v2 ? (const char *)v2 : "");
				xmlFree(v2);
			}
		}
	}
	xmlFreeDoc(doc);
	free(xml);
}

/* A <disk type='volume'>: pool and volume through libvirt's storage API on c. */
static int resolve_volume(virConnectPtr c, const char *uri, struct pvrun_disk *d, char *err, size_t n)
{
	char e[512], fmt[32];
	virStoragePoolPtr pool = virStoragePoolLookupByName(c, d->pool);
	virStorageVolPtr vol;
	virStorageVolInfo info;
	char *path;
	int r = PVRUN_EXIT_SETUP;

	if (!pool) {
		snprintf(err, n, "%s/source: no storage pool '%s' on %s (%s)", d->where, d->pool, uri,
			 lv_error(e, sizeof(e)));
		return r;
	}
	if (virStoragePoolIsActive(pool) != 1) {
		snprintf(err, n, "%s/source: storage pool '%s' on %s is not active", d->where, d->pool, uri);
		virStoragePoolFree(pool);
		return r;
	}
	vol = virStorageVolLookupByName(pool, d->volume);
	if (!vol) {
		snprintf(err, n, "%s/source: no volume '%s' in storage pool '%s' on %s", d->where, d->volume, d->pool,
			 uri);
		virStoragePoolFree(pool);
		return r;
	}
	vol_format(vol, fmt, sizeof(fmt));
	path = virStorageVolGetPath(vol);
	if (virStorageVolGetInfo(vol, &info) < 0 || !path) {
		snprintf(err, n, "%s/source: volume '%s': %s", d->where, d->volume, lv_error(e, sizeof(e)));
	} else if (info.type != VIR_STORAGE_VOL_FILE && info.type != VIR_STORAGE_VOL_BLOCK) {
		snprintf(err, n, "%s/source: volume '%s' is neither a file nor a block device", d->where, d->volume);
		r = PVRUN_EXIT_USAGE;
	} else if (*fmt && strcmp(fmt, "raw")) {
		snprintf(err, n, "%s/source: volume '%s' is %s: libpv reads raw images only", d->where, d->volume, fmt);
		r = PVRUN_EXIT_USAGE;
	} else if (strlen(path) >= sizeof(d->path)) {
		snprintf(err, n, "%s/source: volume path too long", d->where);
	} else {
		strcpy(d->path, path);
		r = 0;
	}
	free(path);
	virStorageVolFree(vol);
	virStoragePoolFree(pool);
	return r;
}

static int resolve_volumes(const char *uri, struct pvrun_spec *s, char *err, size_t n)
{
	virConnectPtr c = NULL;
	char e[512];
	int r = 0;

	for (unsigned int i = 0; i < s->nr_disks && !r; i++) {
		struct pvrun_disk *d = &s->disks[i];

		if (d->type != PVRUN_SRC_VOLUME)
			continue;
		if (!uri) {
			snprintf(err, n, "%s: a volume disk needs --connect URI (the libvirt that has pool '%s')",
				 d->where, d->pool);
			r = PVRUN_EXIT_USAGE;
			break;
		}
		if (!c && !(c = virConnectOpenReadOnly(uri))) {
			snprintf(err, n, "cannot connect to %s: %s", uri, lv_error(e, sizeof(e)));
			return PVRUN_EXIT_SETUP;
		}
		r = resolve_volume(c, uri, d, err, n);
	}
	if (c)
		virConnectClose(c);
	return r;
}

#ifdef PVRUN_HAVE_NET
/* <interface type='network'>: the network's bridge through libvirt's network API on uri. */
static int resolve_networks(const char *uri, struct pvrun_spec *s, char *err, size_t n)
{
	char e[512];

	for (unsigned int i = 0; i < s->nr_nics; i++) {
		struct pvrun_nic *nic = &s->nics[i];
		virConnectPtr c;
		virNetworkPtr net;
		char *br;
		int r = PVRUN_EXIT_SETUP;

		if (nic->type != PVRUN_NET_NETWORK)
			continue;
		if (!uri) {
			snprintf(err, n, "%s: a network interface needs --connect URI (the libvirt that has network '%s')",
				 nic->where, nic->network);
			return PVRUN_EXIT_USAGE;
		}
		c = virConnectOpenReadOnly(uri);
		if (!c) {
			snprintf(err, n, "cannot connect to %s: %s", uri, lv_error(e, sizeof(e)));
			return r;
		}
		net = virNetworkLookupByName(c, nic->network);
		br = net && virNetworkIsActive(net) == 1 ? virNetworkGetBridgeName(net) : NULL;
		if (!net)
			snprintf(err, n, "%s/source: no network '%s' on %s", nic->where, nic->network, uri);
		else if (virNetworkIsActive(net) != 1)
			snprintf(err, n, "%s/source: network '%s' on %s is not active", nic->where, nic->network, uri);
		else if (!br || strlen(br) >= sizeof(nic->bridge))
			snprintf(err, n, "%s/source: network '%s' has no bridge a TAP can join (%s)", nic->where,
				 nic->network, br ? "name too long" : lv_error(e, sizeof(e)));
		else
			strcpy(nic->bridge, br), r = 0;
		free(br);
		if (net)
			virNetworkFree(net);
		virConnectClose(c);
		if (r)
			return r;
	}
	return 0;
}
#endif

/* A Linux bzImage ("HdrS" at 0x202) is not a libpv ELF guest. */
static bool is_linux(const char *path)
{
	char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool linux_image = fd >= 0 && pread(fd, magic, 4, 0x202) == 4 && !memcmp(magic, "HdrS", 4);

	if (fd >= 0)
		close(fd);
	return linux_image;
}

int pvrun_domain_load(const char *file, const char *uri, struct pvrun_spec *s, char *err, size_t n)
{
	char *xml;
	xmlDoc *doc;
	int r;

	virSetErrorFunc(NULL, quiet);
	xml = read_file(file, err, n);
	if (!xml)
		return PVRUN_EXIT_USAGE;
	r = validate(xml, err, n);
	if (r) {
		free(xml);
		return r;
	}
	doc = xmlReadMemory(xml, (int)strlen(xml), file, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	free(xml);
	if (!doc) {
		snprintf(err, n, "not XML libxml2 can read");
		return PVRUN_EXIT_USAGE;
	}
	r = pvrun_map(doc, s, err, n) < 0 ? PVRUN_EXIT_USAGE : 0;
	xmlFreeDoc(doc);
	if (!r)
		s->boot_linux = is_linux(s->kernel);
	if (!r && !s->boot_linux && *s->initrd) {
		snprintf(err, n, "/domain/os/initrd: %s is a libpv ELF guest, which takes no initramfs", s->kernel);
		r = PVRUN_EXIT_USAGE;
	}
	if (!r)
		r = resolve_volumes(uri, s, err, n);
#ifdef PVRUN_HAVE_NET
	if (!r)
		r = resolve_networks(uri, s, err, n);
#endif
	return r;
}

/* ---- domain XML out ---- */

/* s with XML's five special characters escaped (buf must hold 6x). */
static const char *esc(const char *s, char *buf, size_t n)
{
	size_t o = 0;

	for (; *s && o + 7 < n; s++) {
		const char *r = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '\'' ? "&apos;"
			      : *s == '"' ? "&quot;" : NULL;

		if (r) {
			memcpy(buf + o, r, strlen(r));
			o += strlen(r);
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = 0;
	return buf;
}

/* An absolute path for libvirt (which wants them); path itself if it does not resolve. */
static const char *abs_path(const char *path, char *buf)
{
	return realpath(path, buf) ? buf : path;
}

int pvrun_domain_print(const struct pvrun_spec *s, FILE *f)
{
	static char e[6 * 4096 + 8], p[PATH_MAX];

	fprintf(f, "<domain type='%s'>\n", s->backend == PV_BACKEND_EMU ? "qemu" : "kvm");
	fprintf(f, "  <name>%s</name>\n", esc(s->name, e, sizeof(e)));
	if (*s->uuid)
		fprintf(f, "  <uuid>%s</uuid>\n", esc(s->uuid, e, sizeof(e)));
	fprintf(f, "  <memory unit='KiB'>%llu</memory>\n", (unsigned long long)(s->ram_size >> 10));
	fprintf(f, "  <currentMemory unit='KiB'>%llu</currentMemory>\n", (unsigned long long)(s->ram_size >> 10));
	fprintf(f, "  <vcpu placement='static'>%u</vcpu>\n", s->vcpus);
	fprintf(f, "  <os>\n    <type arch='x86_64'>hvm</type>\n");
	fprintf(f, "    <kernel>%s</kernel>\n", esc(abs_path(s->kernel, p), e, sizeof(e)));
	if (*s->initrd)
		fprintf(f, "    <initrd>%s</initrd>\n", esc(abs_path(s->initrd, p), e, sizeof(e)));
	if (s->has_cmdline)
		fprintf(f, "    <cmdline>%s</cmdline>\n", esc(s->cmdline, e, sizeof(e)));
	fprintf(f, "  </os>\n  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>destroy</on_reboot>\n"
		   "  <on_crash>destroy</on_crash>\n  <devices>\n");
	for (unsigned int i = 0; i < s->nr_disks; i++) {
		const struct pvrun_disk *d = &s->disks[i];
		static const char *const type[] = { "file", "block", "volume" };

		fprintf(f, "    <disk type='%s' device='disk'>\n      <driver type='raw'/>\n", type[d->type]);
		if (d->type == PVRUN_SRC_VOLUME) {
			fprintf(f, "      <source pool='%s'", esc(d->pool, e, sizeof(e)));
			fprintf(f, " volume='%s'/>\n", esc(d->volume, e, sizeof(e)));
		} else {
			fprintf(f, "      <source %s='%s'/>\n", d->type == PVRUN_SRC_FILE ? "file" : "dev",
				esc(abs_path(d->path, p), e, sizeof(e)));
		}
		fprintf(f, "      <target dev='%s' bus='%s'/>\n", esc(d->target, e, sizeof(e)),
			d->bus == PVRUN_BUS_VIRTIO ? "virtio" : "ide");
		if (d->read_only)
			fprintf(f, "      <readonly/>\n");
		fprintf(f, "    </disk>\n");
	}
	for (unsigned int i = 0; i < s->nr_nics; i++) {
		const struct pvrun_nic *nic = &s->nics[i];
		static const char *const type[] = { "network", "bridge", "ethernet" };

		fprintf(f, "    <interface type='%s'>\n", type[nic->type]);
		if (nic->type == PVRUN_NET_NETWORK)
			fprintf(f, "      <source network='%s'/>\n", esc(nic->network, e, sizeof(e)));
		else if (nic->type == PVRUN_NET_BRIDGE)
			fprintf(f, "      <source bridge='%s'/>\n", esc(nic->bridge, e, sizeof(e)));
		if (nic->has_mac)
			fprintf(f, "      <mac address='%02x:%02x:%02x:%02x:%02x:%02x'/>\n", nic->mac[0], nic->mac[1],
				nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5]);
		if (nic->named)
			fprintf(f, "      <target dev='%s'/>\n", esc(nic->tap, e, sizeof(e)));
		fprintf(f, "      <model type='%s'/>\n", nic->ne2k ? "ne2k_isa" : "virtio");
		if (nic->mtu)
			fprintf(f, "      <mtu size='%u'/>\n", nic->mtu);
		fprintf(f, "    </interface>\n");
	}
	if (*s->console_file) {
		esc(abs_path(s->console_file, p), e, sizeof(e));
		fprintf(f, "    <serial type='file'>\n      <source path='%s'/>\n      <target port='0'/>\n    </serial>\n", e);
		fprintf(f, "    <console type='file'>\n      <source path='%s'/>\n"
			   "      <target type='serial' port='0'/>\n    </console>\n", e);
	} else {
		fprintf(f, "    <serial type='stdio'>\n      <target port='0'/>\n    </serial>\n");
		fprintf(f, "    <console type='stdio'>\n      <target type='serial' port='0'/>\n    </console>\n");
	}
	fprintf(f, "    <memballoon model='none'/>\n  </devices>\n</domain>\n");
	return ferror(f) ? -EIO : 0;
}

/* ---- statistics under libvirt's names ---- */

#define APPEND(...)                                                                                  \
	do {                                                                                         \
		int n_ = snprintf(buf + (len < n ? len : n), len < n ? n - len : 0, __VA_ARGS__); \
		if (n_ > 0)                                                                          \
			len += (size_t)n_;                                                           \
	} while (0)

/* s as the inside of a JSON string. */
static const char *jesc(const char *s, char *buf, size_t n)
{
	size_t o = 0;

	for (; *s && o + 7 < n; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch < 0x20) {
			o += (size_t)snprintf(buf + o, n - o, "\\u%04x", ch);
		} else {
			buf[o++] = (char)ch;
		}
	}
	buf[o] = 0;
	return buf;
}

static uint64_t tv_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000000ull + (uint64_t)tv.tv_usec * 1000ull;
}

int pvrun_libvirt_stats(struct pv_vm *vm, const struct pvrun_spec *s, int run, char *buf, size_t n)
{
	/* virDomainState / virDomainShutoffReason: the VM has ended. */
	int reason = run == 0 ? VIR_DOMAIN_SHUTOFF_SHUTDOWN : run == -EFAULT ? VIR_DOMAIN_SHUTOFF_CRASHED
			 : run == -EINTR ? VIR_DOMAIN_SHUTOFF_DESTROYED : VIR_DOMAIN_SHUTOFF_FAILED;
	char e[6 * 4096 + 8];
	struct rusage ru;
	struct timespec ts;
	size_t len = 0;

	getrusage(RUSAGE_SELF, &ru);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	APPEND("{\"state.state\":%d,\"state.reason\":%d", VIR_DOMAIN_SHUTOFF, reason);
	APPEND(",\"cpu.time\":%llu,\"cpu.user\":%llu,\"cpu.system\":%llu",
	       (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec,
	       (unsigned long long)tv_ns(ru.ru_utime), (unsigned long long)tv_ns(ru.ru_stime));
	APPEND(",\"balloon.current\":%llu,\"balloon.maximum\":%llu", (unsigned long long)(s->ram_size >> 10),
	       (unsigned long long)(s->ram_size >> 10));
	APPEND(",\"vcpu.current\":%u,\"vcpu.maximum\":%u", s->vcpus, s->vcpus);
	for (unsigned int i = 0; i < pv_vm_vcpus(vm); i++) {
		struct pv_stats st;

		if (pv_vm_stats(vm, (int)i, &st) == 0)
			APPEND(",\"vcpu.%u.time\":%llu", i, (unsigned long long)st.cpu_ns);
	}
	APPEND(",\"block.count\":%u", s->nr_disks);
	for (unsigned int i = 0; i < s->nr_disks; i++) {
		const struct pvrun_disk *d = &s->disks[i];
		uint64_t c[5] = { 0 };

		if (d->bus == PVRUN_BUS_VIRTIO) {
			struct pv_blkback_stats b;

			pv_blkback_stats(d->dev, &b);
			c[0] = b.rd_reqs, c[1] = b.rd_bytes, c[2] = b.wr_reqs, c[3] = b.wr_bytes, c[4] = b.fl_reqs;
		} else {
			struct pv_ata_stats a;

			pv_ata_stats(d->dev, &a);
			c[0] = a.rd_reqs, c[1] = a.rd_bytes, c[2] = a.wr_reqs, c[3] = a.wr_bytes, c[4] = a.fl_reqs;
		}
		APPEND(",\"block.%u.name\":\"%s\"", i, jesc(d->target, e, sizeof(e)));
		APPEND(",\"block.%u.path\":\"%s\"", i, jesc(d->path, e, sizeof(e)));
		APPEND(",\"block.%u.rd.reqs\":%llu,\"block.%u.rd.bytes\":%llu", i, (unsigned long long)c[0], i,
		       (unsigned long long)c[1]);
		APPEND(",\"block.%u.wr.reqs\":%llu,\"block.%u.wr.bytes\":%llu", i, (unsigned long long)c[2], i,
		       (unsigned long long)c[3]);
		APPEND(",\"block.%u.fl.reqs\":%llu", i, (unsigned long long)c[4]);
	}
	APPEND(",\"net.count\":%u", s->nr_nics);
#ifdef PVRUN_HAVE_NET
	for (unsigned int i = 0; i < s->nr_nics; i++) {
		struct pv_netback_stats ns = { 0 };

		/* The guest's view, as libvirt's: rx is what the guest received. */
#ifdef PVRUN_HAVE_NE2K
		if (s->nics[i].ne2k) {
			struct pv_ne2k_stats es;

			pv_ne2k_stats(s->nics[i].dev, &es);
			ns.rx_bytes = es.rx_bytes, ns.rx_frames = es.rx_frames, ns.rx_dropped = es.rx_dropped;
			ns.tx_bytes = es.tx_bytes, ns.tx_frames = es.tx_frames, ns.tx_dropped = es.tx_dropped;
		} else
#endif
			pv_netback_stats(s->nics[i].dev, &ns);
		APPEND(",\"net.%u.name\":\"%s\"", i, jesc(s->nics[i].tap, e, sizeof(e)));
		APPEND(",\"net.%u.rx.bytes\":%llu,\"net.%u.rx.pkts\":%llu,\"net.%u.rx.errs\":%llu,\"net.%u.rx.drop\":%llu",
		       i, (unsigned long long)ns.rx_bytes, i, (unsigned long long)ns.rx_frames, i,
		       (unsigned long long)ns.rx_bad_buffers, i, (unsigned long long)ns.rx_dropped);
		APPEND(",\"net.%u.tx.bytes\":%llu,\"net.%u.tx.pkts\":%llu,\"net.%u.tx.errs\":%llu,\"net.%u.tx.drop\":%llu",
		       i, (unsigned long long)ns.tx_bytes, i, (unsigned long long)ns.tx_frames, i,
		       (unsigned long long)(ns.tx_invalid + ns.tx_unsupp), i, (unsigned long long)ns.tx_dropped);
	}
#endif
	APPEND("}");
	return (int)len;
}
