/* SPDX-License-Identifier: GPL-3.0-or-later */
/* schedule_next_at() and the every:/randomized_delay helpers, table-driven.
 * Times in the tables carry their UTC offset, so each row says both the
 * local wall time and the instant without ambiguity. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"
#include "suite.h"

/* "2026-03-29T03:00:00+02:00" (or "...Z") -> seconds since the epoch. */
static time_t parse_instant(const char *s)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, n = 0;
	char sign = 'Z';

	ck_assert_msg(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6,
		      "bad instant %s", s);
	if (s[n] == '+' || s[n] == '-') {
		sign = s[n];
		ck_assert_msg(sscanf(s + n + 1, "%2d:%2d", &oh, &om) == 2, "bad offset %s", s);
	} else {
		ck_assert_msg(strcmp(s + n, "Z") == 0, "bad suffix %s", s);
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t off = (time_t)(oh * 3600 + om * 60);
	return timegm(&tm) - (sign == '-' ? -off : off);
}

static void format_utc(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct at_case {
	const char *what;
	const char *tz;
	const char *at;        /* "HH:MM HH:MM ..." */
	const char *now;
	const char *expected;  /* NULL: -1 */
};

static const struct at_case at_cases[] = {
	/* Plain days. */
	{ "later today", "Europe/Berlin", "03:30", "2026-01-15T03:00:00+01:00", "2026-01-15T03:30:00+01:00" },
	{ "passed: tomorrow", "Europe/Berlin", "03:30", "2026-01-15T10:00:00+01:00", "2026-01-16T03:30:00+01:00" },
	{ "now exactly at it: the next one", "Europe/Berlin", "03:30", "2026-01-15T03:30:00+01:00", "2026-01-16T03:30:00+01:00" },
	{ "one second before", "Europe/Berlin", "03:30", "2026-01-15T03:29:59+01:00", "2026-01-15T03:30:00+01:00" },
	{ "summer offset", "Europe/Berlin", "03:30", "2026-07-15T04:00:00+02:00", "2026-07-16T03:30:00+02:00" },
	/* Berlin spring forward, 2026-03-29 02:00 CET -> 03:00 CEST. */
	{ "gap: 02:30 runs at 03:00", "Europe/Berlin", "02:30", "2026-03-28T12:00:00+01:00", "2026-03-29T03:00:00+02:00" },
	{ "gap: 02:00 runs at 03:00", "Europe/Berlin", "02:00", "2026-03-29T01:59:00+01:00", "2026-03-29T03:00:00+02:00" },
	{ "gap: 02:59 runs at 03:00", "Europe/Berlin", "02:59", "2026-03-29T00:00:00+01:00", "2026-03-29T03:00:00+02:00" },
	{ "gap: after the gap run, next day", "Europe/Berlin", "02:30", "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00" },
	{ "gap: 02:30 and 03:00 merge", "Europe/Berlin", "02:30 03:00", "2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00" },
	{ "gap: merged times run once", "Europe/Berlin", "02:30 03:00", "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00" },
	/* Berlin fall back, 2026-10-25 03:00 CEST -> 02:00 CET. */
	{ "overlap: the first 02:30", "Europe/Berlin", "02:30", "2026-10-24T12:00:00+02:00", "2026-10-25T02:30:00+02:00" },
	{ "overlap: not the second 02:30", "Europe/Berlin", "02:30", "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00" },
	{ "overlap: between the two", "Europe/Berlin", "02:30", "2026-10-25T02:45:00+02:00", "2026-10-26T02:30:00+01:00" },
	{ "overlap: in the repeated hour", "Europe/Berlin", "02:30", "2026-10-25T02:10:00+01:00", "2026-10-26T02:30:00+01:00" },
	{ "overlap: unambiguous 01:30", "Europe/Berlin", "01:30", "2026-10-25T00:00:00+02:00", "2026-10-25T01:30:00+02:00" },
	{ "overlap: 03:30 after it", "Europe/Berlin", "03:30", "2026-10-25T02:30:00+01:00", "2026-10-25T03:30:00+01:00" },
	/* New York, 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST. */
	{ "NY gap: 02:15 runs at 03:00", "America/New_York", "02:15", "2026-03-07T23:00:00-05:00", "2026-03-08T03:00:00-04:00" },
	{ "NY gap: 03:00 itself", "America/New_York", "03:00", "2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00" },
	{ "NY overlap: the first 01:30", "America/New_York", "01:30", "2026-11-01T00:00:00-04:00", "2026-11-01T01:30:00-04:00" },
	{ "NY overlap: not the second", "America/New_York", "01:30", "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00" },
	{ "NY overlap: in the repeated hour", "America/New_York", "01:30", "2026-11-01T01:10:00-05:00", "2026-11-02T01:30:00-05:00" },
	/* Midnight and the end of the day. */
	{ "midnight", "America/New_York", "00:00", "2026-06-10T23:59:59-04:00", "2026-06-11T00:00:00-04:00" },
	{ "midnight exactly now", "America/New_York", "00:00", "2026-06-11T00:00:00-04:00", "2026-06-12T00:00:00-04:00" },
	{ "23:59", "America/New_York", "23:59", "2026-06-11T23:58:00-04:00", "2026-06-11T23:59:00-04:00" },
	{ "23:59 passed", "America/New_York", "23:59", "2026-06-11T23:59:30-04:00", "2026-06-12T23:59:00-04:00" },
	/* Several times. */
	{ "several: the noon one", "Europe/Berlin", "00:00 12:00 23:59", "2026-07-01T11:59:59+02:00", "2026-07-01T12:00:00+02:00" },
	{ "several: the evening one", "Europe/Berlin", "00:00 12:00 23:59", "2026-07-01T12:00:00+02:00", "2026-07-01T23:59:00+02:00" },
	{ "several: wraps to midnight", "Europe/Berlin", "00:00 12:00 23:59", "2026-07-01T23:59:00+02:00", "2026-07-02T00:00:00+02:00" },
	/* Rollovers. */
	{ "year rollover", "Europe/Berlin", "03:30", "2026-12-31T04:00:00+01:00", "2027-01-01T03:30:00+01:00" },
	{ "month rollover", "UTC", "06:00", "2026-02-28T07:00:00Z", "2026-03-01T06:00:00Z" },
	{ "leap day", "UTC", "06:00", "2028-02-28T07:00:00Z", "2028-02-29T06:00:00Z" },
	/* Other offsets. */
	{ "half-hour zone", "Asia/Kolkata", "00:00", "2026-05-01T00:00:00+05:30", "2026-05-02T00:00:00+05:30" },
	{ "30-minute DST gap", "Australia/Lord_Howe", "02:15", "2026-10-04T01:00:00+10:30", "2026-10-04T02:30:00+11:00" },
	/* Samoa skipped 2011-12-30 entirely: its 12:00 runs at the next valid
	 * minute, 2011-12-31 00:00, and the 31st still has its own 12:00. */
	{ "a skipped calendar day", "Pacific/Apia", "12:00", "2011-12-29T13:00:00-10:00", "2011-12-31T00:00:00+14:00" },
	{ "the day after the skipped one", "Pacific/Apia", "12:00", "2011-12-31T00:00:00+14:00", "2011-12-31T12:00:00+14:00" },
	/* No at: times. */
	{ "no at times", "UTC", "", "2026-01-01T00:00:00Z", NULL },
};

static unsigned parse_at(const char *s, unsigned *at)
{
	unsigned n = 0, h, m;
	int used;

	while (sscanf(s, " %u:%u%n", &h, &m, &used) == 2) {
		at[n++] = h * 60 + m;
		s += used;
	}
	return n;
}

START_TEST(test_next_at)
{
	const struct at_case *c = &at_cases[_i];
	unsigned at[8];
	struct policy p = { 0 };
	char got[32], want[32];
	time_t t;

	p.schedule.present = true;
	p.schedule.n_at = parse_at(c->at, at);
	p.schedule.at = p.schedule.n_at ? at : NULL;
	t = schedule_next_at(&p, parse_instant(c->now), c->tz);
	if (!c->expected) {
		ck_assert_msg(t == -1, "%s: got %lld, want -1", c->what, (long long)t);
		return;
	}
	format_utc(t, got, sizeof(got));
	format_utc(parse_instant(c->expected), want, sizeof(want));
	ck_assert_msg(strcmp(got, want) == 0, "%s (%s, at %s, now %s): got %s, want %s (%s)",
		      c->what, c->tz, c->at, c->now, got, want, c->expected);
}
END_TEST

/* The zone is switched for the call only: the caller's TZ comes back, and
 * NULL uses the process's zone. */
START_TEST(test_tz_restored)
{
	unsigned at[] = { 3 * 60 + 30 };
	struct policy p = { .schedule = { .present = true, .at = at, .n_at = 1 } };
	time_t now = parse_instant("2026-01-15T00:00:00Z");

	setenv("TZ", "America/New_York", 1);
	tzset();
	ck_assert_int_eq(schedule_next_at(&p, now, "Europe/Berlin"),
			 parse_instant("2026-01-15T03:30:00+01:00"));
	ck_assert_str_eq(getenv("TZ"), "America/New_York");
	/* NULL: the process's zone, which must still be New York. */
	ck_assert_int_eq(schedule_next_at(&p, now, NULL), parse_instant("2026-01-15T03:30:00-05:00"));

	unsetenv("TZ");
	tzset();
	schedule_next_at(&p, now, "Asia/Tokyo");
	ck_assert_ptr_null(getenv("TZ"));
}
END_TEST

struct every_case {
	uint64_t base, every, now, expected;
};

#define S UINT64_C(1000000)
static const struct every_case every_cases[] = {
	{ 0, 2 * S, 0, 2 * S },                 /* the first deadline */
	{ 10 * S, 2 * S, 11 * S, 12 * S },
	{ 10 * S, 2 * S, 12 * S, 14 * S },      /* exactly at one: strictly after */
	{ 10 * S, 2 * S, 12 * S - 1, 12 * S },
	{ 10 * S, 2 * S, 17 * S, 18 * S },      /* a long run: missed ones skipped */
	{ 100 * S, 86400 * S, 5 * S, 86500 * S }, /* now before base */
	{ 1, 3, 1, 4 },
	{ 5, 0, 5, UINT64_MAX },                /* no interval */
	{ UINT64_MAX - 10, 100, UINT64_MAX - 5, UINT64_MAX }, /* no overflow */
};

START_TEST(test_next_every)
{
	const struct every_case *c = &every_cases[_i];

	ck_assert_uint_eq(schedule_next_every(c->base, c->every, c->now), c->expected);
}
END_TEST

START_TEST(test_random_delay)
{
	ck_assert_uint_eq(schedule_random_delay(0, 12345), 0);
	ck_assert_uint_eq(schedule_random_delay(900, 0), 0);
	ck_assert_uint_eq(schedule_random_delay(900, 900 * S), 0);
	ck_assert_uint_eq(schedule_random_delay(900, 900 * S - 1), 900 * S - 1);
	ck_assert_uint_eq(schedule_random_delay(1, 1500000), 500000);
	/* Always below the delay, and spread over it. */
	uint64_t x = 88172645463325252ULL, lo = UINT64_MAX, hi = 0;

	for (int i = 0; i < 10000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t d = schedule_random_delay(60, x);

		ck_assert_uint_lt(d, 60 * S);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	ck_assert_uint_lt(lo, 1 * S);
	ck_assert_uint_gt(hi, 59 * S);
	/* A delay so large that microseconds would overflow is clamped. */
	ck_assert_uint_eq(schedule_random_delay(UINT64_MAX, 7), 7);
}
END_TEST

/* --- schedule_plan_at: the remembered slot across clock changes --------------
 * Each row: what the daemon remembers (the slot waited for with its delay,
 * the slot that ran last), the wall clock now (after whatever happened to
 * it), and what the plan must say. The policy's randomized_delay is 10 min;
 * a fresh delay is always 5 min (the random input), a remembered one 8 min,
 * so each row shows which it got. */

#define FRESH_DELAY 300
#define KEPT_DELAY 480

struct plan_case {
	const char *what;
	const char *tz;
	const char *at;
	const char *slot;        /* waited for, NULL: none */
	const char *last_run;    /* ran last, NULL: none */
	const char *now;
	const char *want_slot;
	unsigned want_delay;     /* FRESH_DELAY or KEPT_DELAY */
	bool due;                /* runs now */
};

#define B "Europe/Berlin"
static const struct plan_case plan_cases[] = {
	/* Nothing happens to the clock. */
	{ "start: the next slot, a fresh delay", B, "03:30", NULL, NULL,
	  "2026-01-15T01:00:00+01:00", "2026-01-15T03:30:00+01:00", FRESH_DELAY, false },
	{ "waiting: the same slot, the same delay", B, "03:30", "2026-01-15T03:30:00+01:00", NULL,
	  "2026-01-15T02:00:00+01:00", "2026-01-15T03:30:00+01:00", KEPT_DELAY, false },
	{ "in its delay: still waiting", B, "03:30", "2026-01-15T03:30:00+01:00", NULL,
	  "2026-01-15T03:35:00+01:00", "2026-01-15T03:30:00+01:00", KEPT_DELAY, false },
	{ "after the run: tomorrow, a fresh delay", B, "03:30", NULL, "2026-01-15T03:30:00+01:00",
	  "2026-01-15T03:45:00+01:00", "2026-01-16T03:30:00+01:00", FRESH_DELAY, false },
	{ "a slot that ran is never waited for", B, "03:30", "2026-01-15T03:30:00+01:00",
	  "2026-01-15T03:30:00+01:00", "2026-01-15T05:00:00+01:00", "2026-01-16T03:30:00+01:00",
	  FRESH_DELAY, false },

	/* The clock stepped forward (NTP, date -s) over the slot. */
	{ "forward step over the slot: it runs now, once", B, "03:30", "2026-01-15T03:30:00+01:00",
	  NULL, "2026-01-15T05:00:00+01:00", "2026-01-15T03:30:00+01:00", KEPT_DELAY, true },
	{ "forward step into its delay: at slot + delay", B, "03:30", "2026-01-15T03:30:00+01:00",
	  NULL, "2026-01-15T03:33:00+01:00", "2026-01-15T03:30:00+01:00", KEPT_DELAY, false },
	{ "forward step past slot + delay by a second", B, "03:30", "2026-01-15T03:30:00+01:00",
	  NULL, "2026-01-15T03:38:00+01:00", "2026-01-15T03:30:00+01:00", KEPT_DELAY, true },
	{ "forward step of five days: the one slot runs now", B, "03:30", "2026-01-15T03:30:00+01:00",
	  NULL, "2026-01-20T12:00:00+01:00", "2026-01-15T03:30:00+01:00", KEPT_DELAY, true },
	{ "forward step over two slots: the first runs now", B, "03:30 04:00",
	  "2026-01-15T03:30:00+01:00", NULL, "2026-01-15T05:00:00+01:00", "2026-01-15T03:30:00+01:00",
	  KEPT_DELAY, true },
	{ "... and after it, the next after now", B, "03:30 04:00", NULL, "2026-01-15T03:30:00+01:00",
	  "2026-01-15T05:01:00+01:00", "2026-01-16T03:30:00+01:00", FRESH_DELAY, false },
	{ "forward step before the slot: the same slot and delay", B, "03:30",
	  "2026-01-15T03:30:00+01:00", NULL, "2026-01-15T03:20:00+01:00", "2026-01-15T03:30:00+01:00",
	  KEPT_DELAY, false },

	/* Suspended across the slot, resumed later. */
	{ "suspend across the slot: resume runs it", B, "03:30", "2026-01-15T03:30:00+01:00", NULL,
	  "2026-01-15T07:12:00+01:00", "2026-01-15T03:30:00+01:00", KEPT_DELAY, true },
	{ "suspend across the slot, resumed within its delay", B, "03:30", "2026-01-15T03:30:00+01:00",
	  NULL, "2026-01-15T03:31:00+01:00", "2026-01-15T03:30:00+01:00", KEPT_DELAY, false },

	/* The clock stepped back. */
	{ "backward step after a run: not again", B, "03:30", NULL, "2026-01-15T03:30:00+01:00",
	  "2026-01-15T03:10:00+01:00", "2026-01-16T03:30:00+01:00", FRESH_DELAY, false },
	{ "backward step of a day after a run: not again", B, "03:30", NULL,
	  "2026-01-15T03:30:00+01:00", "2026-01-14T12:00:00+01:00", "2026-01-16T03:30:00+01:00",
	  FRESH_DELAY, false },
	{ "backward step while waiting for tomorrow's: kept", B, "03:30", "2026-01-16T03:30:00+01:00",
	  "2026-01-15T03:30:00+01:00", "2026-01-15T02:00:00+01:00", "2026-01-16T03:30:00+01:00",
	  KEPT_DELAY, false },
	{ "backward step in the delay window: the same slot, the same delay", B, "03:30",
	  "2026-01-15T03:30:00+01:00", NULL, "2026-01-15T03:20:00+01:00", "2026-01-15T03:30:00+01:00",
	  KEPT_DELAY, false },
	{ "backward step of two days, no run yet: the earlier slot", B, "03:30",
	  "2026-01-16T03:30:00+01:00", NULL, "2026-01-14T12:00:00+01:00", "2026-01-15T03:30:00+01:00",
	  FRESH_DELAY, false },

	/* A reload changed the at: times. */
	{ "reload: a slot not yet come is replaced", B, "04:00", "2026-01-15T03:30:00+01:00", NULL,
	  "2026-01-15T02:00:00+01:00", "2026-01-15T04:00:00+01:00", FRESH_DELAY, false },
	{ "reload: a slot whose time came still runs", B, "04:00", "2026-01-15T03:30:00+01:00", NULL,
	  "2026-01-15T03:32:00+01:00", "2026-01-15T03:30:00+01:00", KEPT_DELAY, false },

	/* DST, spring forward (Berlin 2026-03-29 02:00 CET -> 03:00 CEST). */
	{ "spring forward: 02:30 is waited for at 03:00", B, "02:30", NULL, NULL,
	  "2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", FRESH_DELAY, false },
	{ "spring forward: after that run, the next day's 02:30", B, "02:30", NULL,
	  "2026-03-29T03:00:00+02:00", "2026-03-29T03:20:00+02:00", "2026-03-30T02:30:00+02:00",
	  FRESH_DELAY, false },
	{ "spring forward: the wall clock jumps inside a 01:55 slot's delay", B, "01:55",
	  "2026-03-29T01:55:00+01:00", NULL, "2026-03-29T03:01:00+02:00", "2026-03-29T01:55:00+01:00",
	  KEPT_DELAY, false },
	{ "spring forward: suspended over the gap, runs on resume", B, "02:30",
	  "2026-03-29T03:00:00+02:00", NULL, "2026-03-29T04:00:00+02:00", "2026-03-29T03:00:00+02:00",
	  KEPT_DELAY, true },

	/* DST, fall back (Berlin 2026-10-25 03:00 CEST -> 02:00 CET). */
	{ "fall back: the first 02:30", B, "02:30", NULL, NULL,
	  "2026-10-25T01:00:00+02:00", "2026-10-25T02:30:00+02:00", FRESH_DELAY, false },
	{ "fall back: after it ran, not the second 02:30", B, "02:30", NULL,
	  "2026-10-25T02:30:00+02:00", "2026-10-25T02:35:00+02:00", "2026-10-26T02:30:00+01:00",
	  FRESH_DELAY, false },
	{ "fall back: in the repeated hour after the run", B, "02:30", NULL,
	  "2026-10-25T02:30:00+02:00", "2026-10-25T02:10:00+01:00", "2026-10-26T02:30:00+01:00",
	  FRESH_DELAY, false },
	{ "fall back: waiting in the delay while the hour repeats", B, "02:30",
	  "2026-10-25T02:30:00+02:00", NULL, "2026-10-25T02:05:00+01:00", "2026-10-25T02:30:00+02:00",
	  KEPT_DELAY, true },
	/* New York, 2026-11-01 02:00 EDT -> 01:00 EST, and a step back on top. */
	{ "NY fall back, the clock also stepped back an hour after the run", "America/New_York",
	  "01:30", NULL, "2026-11-01T01:30:00-04:00", "2026-11-01T00:40:00-04:00",
	  "2026-11-02T01:30:00-05:00", FRESH_DELAY, false },
	{ "NY spring forward: 02:15 waited for at 03:00, stepped over", "America/New_York", "02:15",
	  "2026-03-08T03:00:00-04:00", NULL, "2026-03-08T09:00:00-04:00", "2026-03-08T03:00:00-04:00",
	  KEPT_DELAY, true },
};
#undef B

static struct policy plan_policy(const char *at_text, unsigned *at)
{
	struct policy p = { 0 };

	p.schedule.present = true;
	p.schedule.n_at = parse_at(at_text, at);
	p.schedule.at = at;
	p.schedule.randomized_delay = 600;
	return p;
}

START_TEST(test_plan_at)
{
	const struct plan_case *c = &plan_cases[_i];
	struct schedule_memory m = SCHEDULE_MEMORY_INIT;
	unsigned at[8];
	struct policy p = plan_policy(c->at, at);
	time_t now = parse_instant(c->now), want_slot = parse_instant(c->want_slot);
	uint64_t deadline = 0, want_deadline;
	char got[32], want[32];

	if (c->slot) {
		m.slot = parse_instant(c->slot);
		m.delay_usec = KEPT_DELAY * S;
	}
	if (c->last_run)
		m.last_run_slot = parse_instant(c->last_run);
	ck_assert_int_eq(schedule_plan_at(&p, now, c->tz, FRESH_DELAY * S, &m, &deadline), 0);
	format_utc((time_t)m.slot, got, sizeof(got));
	format_utc(want_slot, want, sizeof(want));
	ck_assert_msg(m.slot == want_slot, "%s: slot %s, want %s (%s)", c->what, got, want, c->want_slot);
	ck_assert_msg(m.delay_usec == c->want_delay * S, "%s: delay %llu s, want %u s", c->what,
		      (unsigned long long)(m.delay_usec / S), c->want_delay);
	want_deadline = ((uint64_t)want_slot + c->want_delay) * S;
	ck_assert_msg(deadline == want_deadline, "%s: deadline off by %lld s", c->what,
		      (long long)((int64_t)deadline - (int64_t)want_deadline) / (long long)S);
	ck_assert_msg((deadline <= (uint64_t)now * S) == c->due, "%s: %s now", c->what,
		      c->due ? "does not run" : "runs");
	/* Once it ran, the same slot never comes back, whatever the clock. */
	schedule_slot_done(&m);
	ck_assert_int_eq(m.last_run_slot, want_slot);
	ck_assert_int_eq(schedule_plan_at(&p, now, c->tz, FRESH_DELAY * S, &m, &deadline), 0);
	ck_assert_int_gt(m.slot, want_slot);
	ck_assert_int_eq(schedule_plan_at(&p, want_slot - 86400, c->tz, FRESH_DELAY * S, &m, &deadline), 0);
	ck_assert_int_gt(m.slot, want_slot);
}
END_TEST

/* No at: times: nothing to plan. */
START_TEST(test_plan_no_times)
{
	struct schedule_memory m = SCHEDULE_MEMORY_INIT;
	struct policy p = { 0 };
	uint64_t deadline;

	ck_assert_int_eq(schedule_plan_at(&p, 1000000, "UTC", 0, &m, &deadline), -ERANGE);
}
END_TEST

/* Forty days of a clock that goes forward in steps of up to two hours (a
 * suspend, an NTP step) and now and then back by up to three: every
 * day's slot runs exactly once, none is skipped, none twice. */
START_TEST(test_plan_clock_walk)
{
	unsigned at[8];
	struct policy p = plan_policy("03:30", at);
	struct schedule_memory m = SCHEDULE_MEMORY_INIT;
	time_t start = parse_instant("2026-03-01T00:00:00+01:00"), now = start;
	time_t end = start + 40 * 86400;
	time_t ran[64];
	size_t n_ran = 0;
	uint64_t x = 0x9e3779b97f4a7c15ull, deadline;

	while (now < end) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ck_assert_int_eq(schedule_plan_at(&p, now, "Europe/Berlin", x, &m, &deadline), 0);
		if (deadline <= (uint64_t)now * S) {
			for (size_t i = 0; i < n_ran; i++)
				ck_assert_msg(ran[i] != (time_t)m.slot, "slot %lld ran twice", (long long)m.slot);
			ck_assert_uint_lt(n_ran, 64);
			ran[n_ran++] = (time_t)m.slot;
			schedule_slot_done(&m);
			continue;
		}
		if (x % 7 == 0)
			now -= (time_t)(x % (3 * 3600));
		else
			now += 1 + (time_t)(x % (2 * 3600));
	}
	/* Every 03:30 from the first to the last day (DST on 03-29 included). */
	for (int day = 0; day < 39; day++) {
		char when[40];
		time_t slot;
		bool found = false;

		snprintf(when, sizeof(when), "2026-03-%02dT03:30:00%s", 1 + day, 1 + day < 29 ? "+01:00" : "+02:00");
		if (1 + day > 31)
			snprintf(when, sizeof(when), "2026-04-%02dT03:30:00+02:00", 1 + day - 31);
		slot = parse_instant(when);
		for (size_t i = 0; i < n_ran; i++)
			found |= ran[i] == slot;
		ck_assert_msg(found, "the slot of %s never ran", when);
	}
}
END_TEST

static Suite *schedule_suite(void)
{
	Suite *s = suite_create("schedule");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_next_at, 0, (int)(sizeof(at_cases) / sizeof(at_cases[0])));
	tcase_add_test(tc, test_tz_restored);
	tcase_add_loop_test(tc, test_next_every, 0, (int)(sizeof(every_cases) / sizeof(every_cases[0])));
	tcase_add_test(tc, test_random_delay);
	tcase_add_loop_test(tc, test_plan_at, 0, (int)(sizeof(plan_cases) / sizeof(plan_cases[0])));
	tcase_add_test(tc, test_plan_no_times);
	tcase_add_test(tc, test_plan_clock_walk);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_suite_main(schedule_suite());
}
