/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Restricted io_uring rings for the PV block queues (see uring.h). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "uring.h"

/* liburing 2.3 declares io_uring_register_restrictions and
 * io_uring_enable_rings but its library does not export them. */
static int uring_register(struct io_uring *ring, unsigned int op, const void *arg, unsigned int n)
{
	long r = syscall(__NR_io_uring_register, ring->ring_fd, op, arg, n);

	return r < 0 ? -errno : (int)r;
}

int pvblk__uring_init_ops(struct io_uring *ring, unsigned int entries, const uint8_t *ops, unsigned int nops,
			  bool update_buffers)
{
	struct io_uring_restriction res[IORING_OP_LAST + 1];
	unsigned int n = 0;
	int r;

	if (nops > IORING_OP_LAST)
		return -EINVAL;
	r = io_uring_queue_init(entries, ring, IORING_SETUP_R_DISABLED);
	if (r < 0)
		return r;
	memset(res, 0, sizeof(res));
	for (; n < nops; n++) {
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n].sqe_op = ops[n];
	}
	if (update_buffers) {
		res[n].opcode = IORING_RESTRICTION_REGISTER_OP;
		res[n++].register_op = IORING_REGISTER_BUFFERS_UPDATE;
	}
	r = uring_register(ring, IORING_REGISTER_RESTRICTIONS, res, n);
	if (r < 0)
		io_uring_queue_exit(ring);
	return r < 0 ? r : 0;
}

int pvblk__uring_init(struct io_uring *ring, unsigned int entries)
{
	static const uint8_t ops[] = { IORING_OP_READV,	     IORING_OP_WRITEV, IORING_OP_READ_FIXED,
				       IORING_OP_WRITE_FIXED, IORING_OP_FSYNC,  IORING_OP_FALLOCATE,
				       IORING_OP_POLL_ADD,    IORING_OP_TIMEOUT };

	return pvblk__uring_init_ops(ring, entries, ops, sizeof(ops), true);
}

int pvblk__uring_enable(struct io_uring *ring)
{
	int r = uring_register(ring, IORING_REGISTER_ENABLE_RINGS, NULL, 0);

	return r < 0 ? r : 0;
}
