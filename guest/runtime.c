/* SPDX-License-Identifier: MIT */
/* The guest SDK runtime: start-up, console, and the little libc a kernel needs. */
#include <pv/guest/sdk.h>

const struct pv_boot_info *pv_boot;

static char outbuf[512];
static size_t outlen;

void pv_flush(void)
{
	if (outlen)
		pv_console_write(outbuf, outlen);
	outlen = 0;
}

static void putc_buf(char c)
{
	outbuf[outlen++] = c;
	if (c == '\n' || outlen == sizeof(outbuf))
		pv_flush();
}

void pv_puts(const char *s)
{
	while (*s)
		putc_buf(*s++);
}

__attribute__((noreturn)) void pv_halt(int status)
{
	pv_flush();
	pv_exit(status);
}

const char *pv_cmdline(void)
{
	return pv_boot ? (const char *)(uintptr_t)pv_boot->cmdline : "";
}

unsigned long long pv_tsc_ticks(unsigned long long ns)
{
	unsigned long long khz = pv_boot && pv_boot->tsc_khz ? pv_boot->tsc_khz : 2000000;

	/* ns * khz / 10^6 without overflow for any ns below ~2^44 (4.8 h) */
	return ns / 1000000 * khz + ns % 1000000 * khz / 1000000;
}

void pv__start(const struct pv_boot_info *bi, unsigned long vcpu);
void pv__start(const struct pv_boot_info *bi, unsigned long vcpu)
{
	(void)vcpu;
	pv_boot = bi;
	pv_halt(pv_main(bi));
}

/* ---- formatting ---- */

struct out {
	char *buf;
	size_t size, len;
};

static void emit(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void emit_num(struct out *o, unsigned long long v, unsigned base, int upper, int neg, int width, int zero,
		     int left)
{
	char tmp[24];
	int n = 0, pad;
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	pad = width - n - neg;
	if (neg && zero)
		emit(o, '-');
	while (!left && pad-- > 0)
		emit(o, zero ? '0' : ' ');
	if (neg && !zero)
		emit(o, '-');
	while (n)
		emit(o, tmp[--n]);
	while (left && pad-- > 0)
		emit(o, ' ');
}

int pv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		int width = 0, prec = -1, zero = 0, left = 0, lng = 0;

		if (*fmt != '%') {
			emit(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '0')
				zero = 1;
			else if (*fmt == '-')
				left = 1;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (*fmt == '.') {
			prec = 0;
			while (*++fmt >= '0' && *fmt <= '9')
				prec = prec * 10 + (*fmt - '0');
		}
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			long long v = lng ? va_arg(ap, long long) : va_arg(ap, int);
			unsigned long long m = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

			emit_num(&o, m, 10, 0, v < 0, width, zero, left);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			unsigned long long v = lng ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);

			emit_num(&o, v, *fmt == 'u' ? 10 : 16, *fmt == 'X', 0, width, zero, left);
			break;
		}
		case 'p':
			emit(&o, '0');
			emit(&o, 'x');
			emit_num(&o, (unsigned long long)(uintptr_t)va_arg(ap, void *), 16, 0, 0, width, zero, left);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			int n = 0;

			if (!s)
				s = "(null)";
			while (s[n] && (prec < 0 || n < prec))
				n++;
			for (int i = n; !left && i < width; i++)
				emit(&o, ' ');
			for (int i = 0; i < n; i++)
				emit(&o, s[i]);
			for (int i = n; left && i < width; i++)
				emit(&o, ' ');
			break;
		}
		case 'c':
			emit(&o, (char)va_arg(ap, int));
			break;
		case '%':
			emit(&o, '%');
			break;
		default:
			emit(&o, '%');
			if (*fmt)
				emit(&o, *fmt);
			else
				fmt--;
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = 0;
	return (int)o.len;
}

int pv_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = pv_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int pv_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = pv_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pv_puts(buf);
	return n;
}

/* ---- string functions (the compiler may also emit calls to these) ---- */

/*
 * Word at a time: under the emulation backend every guest store is a trip
 * through the store slow path, so 8-byte stores make copies ~8x cheaper.
 * Unaligned 8-byte accesses are fine on x86-64.
 */
typedef unsigned long __attribute__((may_alias, aligned(1))) pv_word;

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	for (; n >= sizeof(pv_word); n -= sizeof(pv_word), d += sizeof(pv_word), s += sizeof(pv_word))
		*(pv_word *)d = *(const pv_word *)s;
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n >= sizeof(pv_word)) {
		n -= sizeof(pv_word);
		*(pv_word *)(d + n) = *(const pv_word *)(s + n);
	}
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	pv_word w = 0x0101010101010101ul * (unsigned char)c;

	for (; n >= sizeof(pv_word); n -= sizeof(pv_word), d += sizeof(pv_word))
		*(pv_word *)d = w;
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			break;
	}
	return 0;
}

int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, (size_t)-1);
}

unsigned long long pv_strtoull(const char *s, const char **end)
{
	unsigned long long v = 0;
	unsigned base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (;; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			break;
		v = v * base + d;
	}
	if (end)
		*end = s;
	return v;
}
