/* SPDX-License-Identifier: MIT */
/* Guest driver for the emulated ATA PIO disk: not written yet. */
#include <pv/guest.h>
