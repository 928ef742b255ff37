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

/* What the daemon remembers of an at: schedule from one plan to the next:
 * the slot it waits for, with the randomized delay chosen for it, and the
 * slot that ran last. A plan is a pure function of this, the policy and
 * the clock, so every clock change is a table row in check_schedule. */
struct schedule_memory {
	int64_t slot;           /* the slot waited for, seconds since the epoch; -1 none */
	uint64_t delay_usec;    /* its randomized delay */
	int64_t last_run_slot;  /* the slot that ran last; -1 none */
};
#define SCHEDULE_MEMORY_INIT { .slot = -1, .delay_usec = 0, .last_run_slot = -1 }

/* Plan the next run of an at: schedule, at start, after each run and after
 * every change of the wall clock (NTP step, date -s, resume from suspend):
 * - the slot waited for, once its time has come, stays until it runs: at
 *   its time plus its delay, or now when that has passed too (a clock
 *   stepped forward over it, or a suspend across it, does not skip it);
 * - otherwise the slot is the first at: time after both now and the slot
 *   that ran last (a clock stepped back after a run does not run that
 *   slot again), with its delay kept when it is the slot already waited
 *   for, else a fresh one from random (schedule_random_delay).
 * *deadline_usec is when to run, in CLOCK_REALTIME microseconds; at or
 * before now means now. Returns 0, or -ERANGE when there is no next slot
 * (no at: times). */
int schedule_plan_at(const struct policy *p, time_t now, const char *tz, uint64_t random,
		     struct schedule_memory *m, uint64_t *deadline_usec);

/* The slot waited for ran (or went by during another run): it is never
 * planned again. */
void schedule_slot_done(struct schedule_memory *m);

/* The next deadline of an every: schedule, in microseconds of the same clock
 * as base and now: the first base + k * every (k >= 1) strictly after now, so
 * runs missed while one was running are skipped, not caught up.
 * UINT64_MAX when every is 0. */
uint64_t schedule_next_every(uint64_t base_usec, uint64_t every_usec, uint64_t now_usec);

/* The randomized delay for one run: random mapped into [0, delay), in
 * microseconds; 0 when delay_sec is 0. */
uint64_t schedule_random_delay(uint64_t delay_sec, uint64_t random);

#endif
