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
 * or -1 when the policy has no at: times.
 * With tz set it changes TZ for the duration of the call: not thread-safe. */
time_t schedule_next_at(const struct policy *p, time_t now, const char *tz);

/* The next deadline of an every: schedule, in microseconds of the same clock
 * as base and now: the first base + k * every (k >= 1) strictly after now, so
 * runs missed while one was running are skipped, not caught up.
 * UINT64_MAX when every is 0. */
uint64_t schedule_next_every(uint64_t base_usec, uint64_t every_usec, uint64_t now_usec);

/* The randomized delay for one run: random mapped into [0, delay), in
 * microseconds; 0 when delay_sec is 0. */
uint64_t schedule_random_delay(uint64_t delay_sec, uint64_t random);

#endif
