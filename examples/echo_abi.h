/* SPDX-License-Identifier: MIT */
/*
 * The echo test device's guest-visible interface, shared by the host
 * backend (echo.c) and the guests (pingpong.c, vm2vm.c).  Freestanding.
 */
#ifndef PV_EXAMPLES_ECHO_ABI_H
#define PV_EXAMPLES_ECHO_ABI_H

#include <stdint.h>

#define ECHO_VERSION 1u

/* Config device of the echo backend (32-bit accesses). */
#define ECHO_PIO_BASE    0x640u
#define ECHO_REG_PORT    0u
#define ECHO_REG_CONNECT 4u
#define ECHO_REG_MARK    8u

/* Pair device of the vm2vm guests (set-up only, not on the data path). */
#define ECHO_PAIR_BASE   0x650u
#define ECHO_PAIR_PEER   0u
#define ECHO_PAIR_PORT   4u
#define ECHO_PAIR_REF    8u
#define ECHO_PAIR_MARK   12u

#define ECHO_MARK_START 1u
#define ECHO_MARK_END   2u

/* One message, request or response: 64 bytes, little-endian. */
#define ECHO_MSG_MAGIC 0x4f484345u /* "ECHO": a request, or its echo */
#define ECHO_MSG_BAD   0x21444142u /* "BAD!": answer to an invalid request */
#define ECHO_PAYLOAD_WORDS 6u
struct echo_msg {
	uint64_t seq;
	uint32_t magic;
	uint32_t len;                         /* payload bytes used, <= 48 */
	uint64_t payload[ECHO_PAYLOAD_WORDS];
};
_Static_assert(sizeof(struct echo_msg) == 64, "echo_msg is 64 bytes");

#endif
