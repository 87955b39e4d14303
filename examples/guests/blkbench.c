/* SPDX-License-Identifier: MIT */
/*
 * blkbench: one block workload through one door, for pvbench.
 * Command line: "DOOR WORKLOAD QD SEED" with DOOR pv or emulated and WORKLOAD
 * seqwrite-1m, seqread-1m, randread-4k or flush (a 4 KiB write then a
 * flush, as one request).  The guest writes the address of its stop word to
 * the marker port (0x6f0) when the timed phase starts, runs until the
 * monitor sets the word, writes 0 to the marker port, and prints
 * "requests=N errors=E".
 */
#include <pv/guest/blkfront.h>
#include <pv/guest/gnttab.h>
#include <pv/guest/sdk.h>

#define MARKER 0x6f0
#define POOL (4u << 20)

static unsigned char pool[POOL] __attribute__((aligned(4096)));
static unsigned char ring[64 * 1024] __attribute__((aligned(4096)));
static volatile unsigned int stop;
static struct pvblk_front f;

static void marker(unsigned int v)
{
	__asm__ __volatile__("outl %0, %1" : : "a"(v), "d"((unsigned short)MARKER) : "memory");
}

static unsigned long long rng;

static unsigned long long next_rand(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return rng >> 17;
}

struct wl {
	unsigned int op, bs;
	int random, flush;
};

static int parse(const char *w, struct wl *o)
{
	if (!strcmp(w, "seqwrite-1m"))
		*o = (struct wl){ PVBLK_OP_WRITE, 1u << 20, 0, 0 };
	else if (!strcmp(w, "seqread-1m"))
		*o = (struct wl){ PVBLK_OP_READ, 1u << 20, 0, 0 };
	else if (!strcmp(w, "randread-4k"))
		*o = (struct wl){ PVBLK_OP_READ, 4096, 1, 0 };
	else if (!strcmp(w, "flush"))
		*o = (struct wl){ PVBLK_OP_WRITE, 4096, 0, 1 };
	else
		return -1;
	return 0;
}

static unsigned long long pick(const struct wl *w, unsigned long long *seq, unsigned long long cap)
{
	unsigned long long nsect = w->bs / 512, s;

	if (w->random)
		return next_rand() % (cap / nsect) * nsect;
	s = *seq;
	*seq = s + nsect >= cap ? 0 : s + nsect;
	return s;
}

static int run_pv(const struct wl *w, unsigned int qd, unsigned long long *done, unsigned long long *errors)
{
	unsigned long long cap, seq = 0, id = 0;
	unsigned int slots = POOL / w->bs < qd ? POOL / w->bs : qd;
	struct pvblk_rsp rsp;
	long r;

	r = pvblk_front_init(&f, ring, sizeof(ring), 256, pool, POOL);
	if (r) {
		pv_printf("blkbench: pv init failed: %ld\n", r);
		return 1;
	}
	cap = f.cfg.capacity;
	marker((unsigned int)(unsigned long)&stop);
	for (;;) {
		while (!stop && f.inflight < slots) {
			unsigned int slot = (unsigned int)(id % slots);
			unsigned long long sector = pick(w, &seq, cap);

			if (pvblk_front_queue(&f, w->op, 0, sector, pool + (unsigned long)slot * w->bs, w->bs, 0,
					      id++))
				break;
			if (w->flush)
				pvblk_front_queue(&f, PVBLK_OP_FLUSH, 0, 0, 0, 0, 0, ~0ull);
		}
		pvblk_front_kick(&f);
		if (!f.inflight)
			break;
		r = pvblk_front_wait(&f, &rsp);
		if (r) {
			pv_printf("blkbench: wait failed: %ld\n", r);
			return 1;
		}
		if (rsp.status)
			(*errors)++;
		if (rsp.id != ~0ull)
			(*done)++;
	}
	return 0;
}

/* The emulated door: blkbench_ata.c. */
int blkbench_run_ata(unsigned int op, unsigned int bs, int random, int flush, volatile unsigned int *stop_word,
		     unsigned long long *done, unsigned long long *errors, void *buf,
		     unsigned long long (*pick)(int random, unsigned long long nsect, unsigned long long *seq,
						unsigned long long cap),
		     void (*start)(void));

static unsigned long long pick_for_ata(int random, unsigned long long nsect, unsigned long long *seq,
				       unsigned long long cap)
{
	struct wl w = { 0, (unsigned int)(nsect * 512), random, 0 };

	return pick(&w, seq, cap);
}

static void start_marker(void)
{
	marker((unsigned int)(unsigned long)&stop);
}

static int run_ata(const struct wl *w, unsigned long long *done, unsigned long long *errors)
{
	return blkbench_run_ata(w->op, w->bs, w->random, w->flush, &stop, done, errors, pool, pick_for_ata,
				start_marker);
}

int pv_main(const struct pv_boot_info *bi)
{
	const char *p = pv_cmdline(), *q;
	char door[16] = "", work[16] = "";
	unsigned long long done = 0, errors = 0;
	unsigned int i, qd;
	struct wl w;
	int r;

	(void)bi;
	for (i = 0; *p && *p != ' ' && i < sizeof(door) - 1; i++)
		door[i] = *p++;
	while (*p == ' ')
		p++;
	for (i = 0; *p && *p != ' ' && i < sizeof(work) - 1; i++)
		work[i] = *p++;
	qd = (unsigned int)pv_strtoull(p + 1, &q);
	rng = pv_strtoull(q + 1, 0) | 1;
	if (parse(work, &w) || qd == 0 || qd > 256) {
		pv_printf("blkbench: bad command line '%s'\n", pv_cmdline());
		return 2;
	}
	/* data for the writes, in the part of the pool the workload uses (each
	 * store costs under emulation) */
	for (unsigned long i2 = 0; i2 < POOL && i2 < (unsigned long)qd * w.bs; i2 += 64)
		pool[i2] = (unsigned char)i2;
	r = !strcmp(door, "emulated") ? run_ata(&w, &done, &errors) : run_pv(&w, qd, &done, &errors);
	marker(0);
	pv_printf("requests=%llu errors=%llu kicks=%llu blocks=%llu\n", done, errors, f.kicks, f.blocks);
	return r;
}
