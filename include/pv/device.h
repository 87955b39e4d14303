/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpv host API: the one lifecycle every device model has.
 *
 * A device model (the PV disk, the emulated ATA disk, a serial port, a
 * monitor's own device) is created by its attach function, which hands it
 * to its VM with pv_vm_add_device() before it registers anything else (its
 * ports, MMIO ranges, event channels).  From then on the VM owns it:
 *
 *   start    pv_vm_run calls it for every device, in creation order, before
 *            the first vCPU enters the guest;
 *   stop     called once, for every device (started or not), in reverse
 *            creation order, when the guest can no longer run: by pv_vm_run
 *            after every vCPU thread has ended, or by pv_vm_destroy for a VM
 *            that never ran.  It joins the device's threads and ends its use
 *            of guest memory (grants, rings); nothing of the device touches
 *            guest RAM after it returns;
 *   destroy  pv_vm_destroy calls it, in reverse creation order, after every
 *            device has stopped and before guest RAM and event channels go.
 *
 * So a monitor never detaches a device: it runs the VM, reads the device's
 * statistics, and destroys the VM.  A device's statistics and handle stay
 * valid until pv_vm_destroy.  If an attach function fails after
 * pv_vm_add_device succeeded, the VM still owns the device and destroys it
 * (the attach function returns the error and no handle).
 *
 * A device must not be shared by two VMs unless it keeps its own reference
 * count: each VM calls destroy once.
 */
#ifndef PV_DEVICE_H
#define PV_DEVICE_H

#include "pv.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pv_device_ops {
	const char *name;            /* for error messages, e.g. "pvblk" */
	/* Before the guest runs; a negative errno aborts pv_vm_run with it.
	 * May be NULL. */
	int (*start)(void *dev);
	/* The guest has stopped for good: join threads, release guest memory.
	 * May be NULL. */
	void (*stop)(void *dev);
	/* Free everything.  May be NULL. */
	void (*destroy)(void *dev);
};

/* At most this many devices per VM. */
#define PV_VM_MAX_DEVICES 32

/*
 * Give device `dev` with lifecycle `ops` (static storage) to vm.  Returns 0,
 * -EINVAL (NULL vm, ops or dev), -EBUSY once the VM has started running,
 * -ENOSPC beyond PV_VM_MAX_DEVICES.  On failure the caller still owns dev.
 */
int pv_vm_add_device(struct pv_vm *vm, const struct pv_device_ops *ops, void *dev);

/*
 * Run fn(arg) on vm's control thread and return what it returns.  A device
 * handler runs on a vCPU thread, whose sandbox list (<pv/pv.h>) allows no
 * new threads, eventfds or io_uring rings: a device creates them here (the
 * PV block backend connects its queues this way).  A thread created here
 * starts with the control thread's list and should narrow it with
 * pv_vm_sandbox_thread().  Without a sandbox, or outside a run, fn runs on
 * the calling thread.  One call at a time; fn must not wait for a vCPU.
 * -EINVAL for a NULL vm or fn.
 */
int pv_vm_device_call(struct pv_vm *vm, int (*fn)(void *arg), void *arg);

/*
 * Confine the calling thread, a device's own thread, with the sandbox list
 * of device queue threads (I/O on descriptors it already has, io_uring_enter,
 * futexes, memory without PROT_EXEC) when vm's sandbox is on; call it first
 * thing in the thread.  Returns 0 (also when the sandbox is off), -EINVAL
 * for a NULL vm, or a negative errno when the filter cannot be loaded.
 */
int pv_vm_sandbox_thread(struct pv_vm *vm);

/*
 * Set ISA interrupt line irq (0-15) of a PC-platform VM (<pv/linux.h>) to
 * level, as an ISA device drives its line: the in-kernel PIC and IOAPIC take
 * the rising edge.  Callable from device handlers.  Returns 0, -EINVAL (NULL
 * vm, irq above 15), -EOPNOTSUPP on a VM without interrupt controllers (the
 * freestanding platform: its guests poll), or the backend's error.
 */
int pv_vm_irq_line(struct pv_vm *vm, unsigned int irq, bool level);

#ifdef __cplusplus
}
#endif
#endif /* PV_DEVICE_H */
