/* SPDX-License-Identifier: MIT */
/* Guest port I/O: each access is one trap to the hypervisor. */
#ifndef PV_IO_H
#define PV_IO_H

static inline void pv_outb(unsigned short port, unsigned char v)
{
	__asm__ __volatile__("outb %0, %w1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void pv_outw(unsigned short port, unsigned short v)
{
	__asm__ __volatile__("outw %0, %w1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void pv_outl(unsigned short port, unsigned int v)
{
	__asm__ __volatile__("outl %0, %w1" : : "a"(v), "Nd"(port) : "memory");
}

static inline unsigned char pv_inb(unsigned short port)
{
	unsigned char v;

	__asm__ __volatile__("inb %w1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline unsigned short pv_inw(unsigned short port)
{
	unsigned short v;

	__asm__ __volatile__("inw %w1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline unsigned int pv_inl(unsigned short port)
{
	unsigned int v;

	__asm__ __volatile__("inl %w1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

#endif
