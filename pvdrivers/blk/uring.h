/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PV block queues' io_uring rings, restricted: seccomp cannot see what
 * an io_uring does, so each ring is created disabled, told the only
 * operations and registrations the data path uses (IORING_REGISTER_
 * RESTRICTIONS), and only then enabled.  Any other operation completes
 * with -EACCES, whatever thread submits it.
 */
#ifndef PVBLK_URING_H
#define PVBLK_URING_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Create ring (entries) disabled with the data path's restrictions: SQE
 * operations READV, WRITEV, READ_FIXED, WRITE_FIXED, FSYNC, FALLOCATE,
 * POLL_ADD and TIMEOUT without SQE flags, and the registration
 * IORING_REGISTER_BUFFERS_UPDATE.  Registrations made before
 * pvblk__uring_enable are not restricted.  Returns 0 or a negative errno
 * (the ring is then not set up).
 */
int pvblk__uring_init(struct io_uring *ring, unsigned int entries);

/*
 * The same for another backend's ring: only the n SQE operations in ops
 * (no SQE flags) and, when update_buffers, IORING_REGISTER_BUFFERS_UPDATE.
 */
int pvblk__uring_init_ops(struct io_uring *ring, unsigned int entries, const uint8_t *ops, unsigned int n,
			  bool update_buffers);

/* Enable a ring from pvblk__uring_init: 0 or a negative errno. */
int pvblk__uring_enable(struct io_uring *ring);

#endif
