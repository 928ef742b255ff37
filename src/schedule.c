/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>

#include "clock.h"
#include "schedule.h"
#include "xmalloc.h"

#define USEC_PER_SEC UINT64_C(1000000)

/* How many days ahead to look: a zone may skip a whole calendar day
 * (Pacific/Apia did on 2011-12-30), so one or two are not enough. */
#define LOOKAHEAD_DAYS 8

/* Every UTC offset in use lies within these bounds (UTC-12 .. UTC+14, plus
 * some local-mean-time slack), so a wall time W occurs, if at all, within
 * [W - OFFSET_MAX, W - OFFSET_MIN]. */
#define OFFSET_MIN (-13 * 3600)
#define OFFSET_MAX (15 * 3600)

/* Wall-clock time of t in the current zone, as seconds since a "local
 * epoch" (timegm of the broken-down local time): comparable with the wall
 * times built below, whatever the offset. */
static int64_t local_epoch(time_t t)
{
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return INT64_MIN;
	return (int64_t)t + tm.tm_gmtoff;
}

/* The earliest instant at which the local wall clock shows W (a local-epoch
 * value), or, when W does not exist (a DST gap), the first instant after the
 * gap. The offsets in effect nearby are sampled hourly; each gives one
 * candidate instant W - offset, kept when it really shows W. */
static time_t resolve_wall(int64_t wall)
{
	int64_t best = INT64_MAX, off_lo = INT64_MAX, off_hi = INT64_MIN;

	for (int64_t probe = wall - OFFSET_MAX; probe <= wall - OFFSET_MIN; probe += 3600) {
		int64_t off = local_epoch((time_t)probe) - probe;
		int64_t t = wall - off;

		if (off < off_lo)
			off_lo = off;
		if (off > off_hi)
			off_hi = off;
		if (local_epoch((time_t)t) == wall && t < best)
			best = t;
	}
	if (best != INT64_MAX)
		return (time_t)best;

	/* A gap: the wall clock jumps over W somewhere in [W - off_hi,
	 * W - off_lo]; find the first instant showing W or later. */
	int64_t lo = wall - off_hi, hi = wall - off_lo;

	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;

		if (local_epoch((time_t)mid) >= wall)
			hi = mid;
		else
			lo = mid + 1;
	}
	/* "The next valid minute": a transition is normally on a minute; if
	 * not (old local mean times), round up to the next one. */
	int64_t sec = local_epoch((time_t)lo) % 60;

	if (sec < 0)
		sec += 60;
	return (time_t)(sec ? lo + (60 - sec) : lo);
}

static time_t next_at_in_current_zone(const struct policy *p, time_t now)
{
	struct tm today;

	if (!localtime_r(&now, &today))
		return -1;
	for (int day = 0; day < LOOKAHEAD_DAYS; day++) {
		for (size_t i = 0; i < p->schedule.n_at; i++) {
			struct tm w = {
				.tm_year = today.tm_year,
				.tm_mon = today.tm_mon,
				.tm_mday = today.tm_mday + day, /* timegm normalises */
				.tm_hour = (int)(p->schedule.at[i] / 60),
				.tm_min = (int)(p->schedule.at[i] % 60),
			};
			time_t t = resolve_wall((int64_t)timegm(&w));

			/* Resolved times grow with the wall time, so the
			 * first one after now is the answer. Taking the
			 * earliest occurrence makes a repeated hour run once:
			 * once it has passed, the second one is not "after". */
			if (t > now)
				return t;
		}
	}
	return -1;
}

time_t schedule_next_at(const struct policy *p, time_t now, const char *tz)
{
	char *saved = NULL;
	bool had_tz = false;
	time_t t;

	if (!p->schedule.at || p->schedule.n_at == 0)
		return -1;
	if (tz) {
		const char *old = getenv("TZ");

		had_tz = old != NULL;
		saved = xstrdup(old);
		setenv("TZ", tz, 1);
		tzset();
	}
	t = next_at_in_current_zone(p, now);
	if (tz) {
		if (had_tz)
			setenv("TZ", saved, 1);
		else
			unsetenv("TZ");
		tzset();
		free(saved);
	}
	return t;
}

int schedule_plan_at(const struct policy *p, time_t now, const char *tz, uint64_t random,
		     struct schedule_memory *m, uint64_t *deadline_usec)
{
	time_t from = now, next;

	/* A slot at or before the one that ran last is never waited for. */
	if (m->slot >= 0 && m->last_run_slot >= 0 && m->slot <= m->last_run_slot)
		m->slot = -1;
	if (m->slot < 0 || m->slot > (int64_t)now) {
		if (m->last_run_slot > (int64_t)from)
			from = (time_t)m->last_run_slot;
		next = schedule_next_at(p, from, tz);
		if (next < 0)
			return -ERANGE;
		if (m->slot != (int64_t)next) {
			m->slot = (int64_t)next;
			m->delay_usec = schedule_random_delay(p->schedule.randomized_delay, random);
		}
	}
	*deadline_usec = clock_usec_after(m->delay_usec, (uint64_t)m->slot);
	return 0;
}

void schedule_slot_done(struct schedule_memory *m)
{
	if (m->slot >= 0)
		m->last_run_slot = m->slot;
	m->slot = -1;
	m->delay_usec = 0;
}

uint64_t schedule_next_every(uint64_t base_usec, uint64_t every_usec, uint64_t now_usec)
{
	uint64_t k;

	if (every_usec == 0)
		return UINT64_MAX;
	if (now_usec < base_usec)
		return base_usec + every_usec;
	k = (now_usec - base_usec) / every_usec + 1;
	if (k > (UINT64_MAX - base_usec) / every_usec)
		return UINT64_MAX;
	return base_usec + k * every_usec;
}

uint64_t schedule_random_delay(uint64_t delay_sec, uint64_t random)
{
	if (delay_sec == 0)
		return 0;
	if (delay_sec > UINT64_MAX / USEC_PER_SEC)
		delay_sec = UINT64_MAX / USEC_PER_SEC;
	return random % (delay_sec * USEC_PER_SEC);
}
