/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_SCHEDULE_H
#define SJ_SCHEDULE_H

#include <stdint.h>
#include <time.h>

#include "policy.h"

/* The next scheduled run for schedule.at (local wall-clock times), as a pure
 * function of the policy, the current time and the time zone (NULL = the
 * process's TZ). DST: a time that does not exist that day runs at the next
 * valid minute; a time that occurs twice runs once (the first).
 * Returns the next run strictly after now, in seconds since the epoch,
 * or -1 when the policy has no at: times. */
time_t schedule_next_at(const struct policy *p, time_t now, const char *tz);

#endif
