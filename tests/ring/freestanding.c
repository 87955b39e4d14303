/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <pv/abi/ring.h> in a freestanding program: built like a guest (-ffreestanding
 * -fno-builtin -nostdlib -mno-red-zone, no libc at all) but as a static Linux
 * executable with its own _start, so that it can run as a test.  It drives
 * both directions of a ring pair across the 32-bit index wrap and exits 0.
 */
#include <pv/abi/ring.h>
#include <pv/abi/net.h> /* the device ABIs must stay freestanding too */
#include <pv/abi/blk.h>

/* GCC may call these even in freestanding code (a guest's SDK provides them). */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

void *memcpy(void *dst, const void *src, size_t n)
{
	volatile uint8_t *d = dst;
	const uint8_t *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	volatile uint8_t *d = dst;

	while (n--)
		*d++ = (uint8_t)c;
	return dst;
}

static long sys3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ __volatile__("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

static void say(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	sys3(1, 1, (long)s, (long)n); /* write(1, s, n) */
}

static uint8_t ring_mem[4096 * 4] __attribute__((aligned(4096)));

static int run(void)
{
	struct pv_ring_params prm = { 64, 24, 32, 16 };
	struct pv_ring_prod gp, hp;
	struct pv_ring_cons hc, gc;
	uint64_t e[3], r[2];
	uint32_t seq = 0, got = 0, rsp = 0;
	int notified = 0;

	if (pv_ring_pair_size(&prm) > sizeof(ring_mem) ||
	    pv_ring_pair_init(ring_mem, sizeof(ring_mem), &prm, 0xffffff00u) != 0 ||
	    pv_ring_pair_check(ring_mem, sizeof(ring_mem), &prm) != 0)
		return 1;
	if (pv_ring_prod_attach(&gp, ring_mem, &prm, PV_RING_REQ) || pv_ring_cons_attach(&hc, ring_mem, &prm, PV_RING_REQ) ||
	    pv_ring_prod_attach(&hp, ring_mem, &prm, PV_RING_RSP) || pv_ring_cons_attach(&gc, ring_mem, &prm, PV_RING_RSP))
		return 2;
	while (got < 1000) {
		while (seq < 1000 && pv_ring_space(&gp) > 0) {
			e[0] = seq;
			e[1] = ~(uint64_t)seq;
			e[2] = seq * 7u;
			seq++;
			if (pv_ring_produce(&gp, e, sizeof(e)) != 0)
				return 3;
		}
		notified += pv_ring_push(&gp);
		while (pv_ring_consume(&hc, e, sizeof(e)) == 1) {
			if (e[0] != got || e[1] != ~(uint64_t)got || e[2] != got * 7u)
				return 4;
			got++;
			r[0] = e[0];
			r[1] = 1;
			if (pv_ring_produce(&hp, r, sizeof(r)) != 0)
				return 5;
			if (pv_ring_space(&hp) == 0) {
				pv_ring_push(&hp);
				while (pv_ring_consume(&gc, r, sizeof(r)) == 1)
					if (r[0] != rsp++)
						return 6;
				pv_ring_release(&gc);
			}
		}
		pv_ring_release(&hc);
		if (pv_ring_final_check(&hc) != 0)
			return 7;
	}
	pv_ring_push(&hp);
	while (pv_ring_consume(&gc, r, sizeof(r)) == 1)
		if (r[0] != rsp++)
			return 8;
	if (rsp != 1000 || notified < 1 || hc.cons != 0xffffff00u + 1000u)
		return 9;
	return 0;
}

void ring_freestanding_main(void);
__attribute__((noreturn, used)) void ring_freestanding_main(void)
{
	int rc = run();

	say(rc == 0 ? "pv/ring.h freestanding: ok\n" : "pv/ring.h freestanding: FAILED\n");
	sys3(60, rc, 0, 0); /* exit(rc) */
	for (;;)
		;
}

__asm__(".text\n"
	".globl _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %rsp\n"
	"	call ring_freestanding_main\n"
	"	hlt\n");
