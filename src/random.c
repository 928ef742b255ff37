/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <sys/random.h>
#include <unistd.h>

#include "clock.h"
#include "random.h"

uint64_t random_u64(void)
{
	uint64_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
		return r;
	return clock_usec(CLOCK_MONOTONIC) ^ clock_usec(CLOCK_REALTIME) << 16 ^ (uint64_t)getpid() << 40;
}
