/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_RANDOM_H
#define SJ_RANDOM_H

#include <stdint.h>

/* 64 random bits from getrandom(2), never blocking; should the kernel have
 * none yet, the clocks and the pid stand in. Not for secrets: run ids,
 * jitter and the schedule's randomized delay. */
uint64_t random_u64(void);

#endif
