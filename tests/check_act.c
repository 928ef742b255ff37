/* SPDX-License-Identifier: GPL-3.0-or-later */
/* act.c without the network: the breaker arithmetic, the truncated-listing
 * tolerance, longest-inactive-first ordering, grace and max_per_run, in the
 * order DESIGN.md §6.5 gives them, table-driven. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act.h"
#include "pool.h"
#include "state.h"
#include "suite.h"
#include "xmalloc.h"

#define DAY_MS (24LL * 3600 * 1000)
#define NOW_MS 1800000000000LL

struct breaker_case {
	uint64_t n, scanned;
	double fraction;
	bool trips;
};

static const struct breaker_case breaker_cases[] = {
	{ 0, 0, 0.10, false },
	{ 1, 0, 0.10, true },        /* candidates but nothing scanned */
	{ 3, 30, 0.10, false },      /* exactly 10 %: not more than */
	{ 4, 30, 0.10, true },
	{ 10, 100, 0.10, false },
	{ 11, 100, 0.10, true },
	{ 1, 10, 0.10, false },
	{ 2, 10, 0.10, true },
	{ 1, 5, 0.10, true },        /* a small server: 20 % */
	{ 29, 100, 0.29, false },    /* 0.29 * 100 is 28.999999999999996 in doubles */
	{ 30, 100, 0.29, true },
	{ 57, 100, 0.57, false },    /* 0.57 * 100 is 56.99999999999999 */
	{ 7, 100, 0.07, false },     /* 0.07 * 100 is 7.000000000000001 */
	{ 8, 100, 0.07, true },
	{ 1000000, 10000000, 0.10, false },
	{ 1000001, 10000000, 0.1, true },
	{ 1000002, 10000001, 0.10, true },
	{ 0, 5, 0.0, false },
	{ 1, 1000000, 0.0, true },   /* fraction 0: any candidate trips */
	{ 100, 100, 1.0, false },    /* fraction 1: never, short of more than all */
	{ 12034, 12034, 1.0, false },
	{ 1, 1, 0.999999, true },
	{ UINT64_C(4000000000), UINT64_C(40000000000), 0.10, false }, /* no overflow */
	{ UINT64_C(4000000001), UINT64_C(40000000000), 0.10, true },
};

START_TEST(test_breaker)
{
	const struct breaker_case *c = &breaker_cases[_i];

	ck_assert_msg(act_breaker_trips(c->n, c->scanned, c->fraction) == c->trips,
		      "%llu of %llu at %g: want %s", (unsigned long long)c->n,
		      (unsigned long long)c->scanned, c->fraction, c->trips ? "trip" : "no trip");
}
END_TEST

START_TEST(test_breaker_nan)
{
	ck_assert(act_breaker_trips(1, 100, NAN));
	ck_assert(!act_breaker_trips(0, 100, NAN));
}
END_TEST

struct trunc_case {
	int64_t total;
	uint64_t seen;
	bool truncated;
	uint64_t deleted;        /* completed deletes of the last 30 days */
};

static const struct trunc_case trunc_cases[] = {
	{ 0, 0, false, 0 },
	{ 10, 10, false, 0 },
	{ 10, 12, false, 0 },       /* rooms created mid-scan: more seen, fine */
	{ 10, 8, false, 0 },        /* 2 missing: the floor of the tolerance */
	{ 10, 7, true, 0 },         /* 3 missing */
	{ 3, 0, true, 0 },
	{ 2, 0, false, 0 },
	{ 200, 198, false, 0 },
	{ 200, 197, true, 0 },      /* 3 > max(2, 2) */
	{ 300, 297, false, 0 },     /* 3 = 1 % of 300: not more */
	{ 300, 296, true, 0 },
	{ 1000, 990, false, 0 },    /* 10 = 1 % */
	{ 1000, 989, true, 0 },
	{ 12034, 11914, false, 0 }, /* 120 missing < 120.34 */
	{ 12034, 11913, true, 0 },  /* 121 > 120.34 */
	{ 50000, 500, true, 0 },    /* a proxy cutting the list at one page */
	{ -1, 100, true, 0 },       /* no total_rooms: completeness cannot be shown */
	/* Synapse counts purged rooms again after a restart (it rewinds its
	 * room statistics): rooms deleted by us explain that many missing. */
	{ 27, 23, false, 4 },
	{ 27, 22, false, 4 },    /* one more missing: within the 2 of tolerance */
	{ 27, 20, true, 4 },     /* 3 more than deleted */
	{ 1000, 900, false, 95 },
	{ 1000, 900, false, 90 },/* 10 = 1 % beyond */
	{ 1000, 900, true, 89 },
	{ -1, 100, true, 1000 }, /* deletes explain nothing without a total */
	{ 10, 7, true, 0 },
};

START_TEST(test_truncated)
{
	const struct trunc_case *c = &trunc_cases[_i];

	ck_assert_msg(act_listing_truncated(c->total, c->seen, c->deleted) == c->truncated,
		      "total %lld seen %llu deleted %llu", (long long)c->total, (unsigned long long)c->seen,
		      (unsigned long long)c->deleted);
}
END_TEST

/* --- candidates and the plan --- */

static struct rule rule = { .name = "abandoned", .action = RULE_ACTION_DELETE };
static struct policy policy;
static char *dir;
static char *state_file;

static void plan_setup(void)
{
	char tmpl[] = "/tmp/check_act.XXXXXX";

	memset(&policy, 0, sizeof(policy));
	policy.rules = &rule;
	policy.n_rules = 1;
	policy.delete.max_per_run = 100;
	policy.delete.max_fraction = 0.5;
	policy.delete.concurrency = 1;
	policy.delete.timeout = 3600;
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	dir = xstrdup(tmpl);
	state_file = xasprintf("%s/state.json", dir);
}

static void plan_teardown(void)
{
	char *lock = xasprintf("%s.lock", state_file);

	unlink(state_file);
	unlink(lock);
	rmdir(dir);
	free(lock);
	free(state_file);
	free(dir);
}

/* Candidates named "!<n>:x" with last activity <days> ago (-1 unknown). */
static struct candidate *make(const int64_t *inactive_days, size_t n)
{
	struct candidate *c = xcalloc(n, sizeof(*c));

	for (size_t i = 0; i < n; i++) {
		room_facts_clear(&c[i].facts);
		c[i].facts.room_id = xasprintf("!%zu:x", i);
		c[i].rule = &rule;
		if (inactive_days[i] >= 0) {
			c[i].facts.last_activity.state = FACT_KNOWN;
			c[i].facts.last_activity.ms = NOW_MS - inactive_days[i] * DAY_MS;
		}
	}
	return c;
}

static void free_all(struct candidate *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		candidate_clear(&c[i]);
	free(c);
}

static struct state *open_state(void)
{
	struct state *s = NULL;
	char why[256];

	ck_assert_int_eq(state_open(state_file, NOW_MS, &s, why, sizeof(why)), 0);
	return s;
}

static struct act_context context(struct state *s, uint64_t scanned)
{
	struct act_context ctx = {
		.policy = &policy,
		.state = s,
		.rooms_scanned = scanned,
		.first_total = (int64_t)scanned,
	};

	return ctx;
}

static const struct candidate *by_id(const struct candidate *c, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].facts.room_id, id) == 0)
			return &c[i];
	ck_abort_msg("no %s", id);
	return NULL;
}

START_TEST(test_sort_longest_inactive_first)
{
	const int64_t days[] = { 100, -1, 400, 100, 250, -1 };
	struct candidate *c = make(days, ARRAY_SIZE(days));
	const char *want[] = { "!2:x", "!4:x", "!0:x", "!3:x", "!5:x", "!1:x" };

	/* unknown activity goes last, older creation first among them */
	c[1].facts.created = (struct fact_time){ .state = FACT_KNOWN, .ms = NOW_MS - 10 * DAY_MS };
	c[5].facts.created = (struct fact_time){ .state = FACT_KNOWN, .ms = NOW_MS - 900 * DAY_MS };
	act_sort(c, ARRAY_SIZE(days));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		ck_assert_str_eq(c[i].facts.room_id, want[i]);
	free_all(c, ARRAY_SIZE(days));
}
END_TEST

struct plan_case {
	const char *what;
	unsigned max_per_run;
	double max_fraction;
	uint64_t grace_s;
	uint64_t scanned;
	int64_t first_total;       /* 0: = scanned */
	bool forbid;
	bool apply_mode;
	bool no_state;
	int64_t seen_days_ago[6];  /* earlier first sighting; 0 = never seen */
	const char *want;          /* outcome letters in sorted order: W would_delete,
				    * C capped, D deferred, R refused */
	bool tripped;
};

/* Six candidates, inactive 600, 500, 400, 300, 200, 100 days (sorted order). */
static const struct plan_case plan_cases[] = {
	{ "all go", 100, 0.5, 0, 100, 0, false, false, false, { 0 }, "WWWWWW", false },
	{ "cap keeps the longest inactive", 2, 0.5, 0, 100, 0, false, false, false, { 0 }, "WWCCCC", false },
	{ "cap of one", 1, 0.5, 0, 100, 0, false, false, false, { 0 }, "WCCCCC", false },
	{ "breaker", 100, 0.05, 0, 100, 0, false, false, false, { 0 }, "RRRRRR", true },
	{ "breaker at the boundary holds", 100, 0.06, 0, 100, 0, false, false, false, { 0 }, "WWWWWW", false },
	{ "breaker beats grace and cap", 1, 0.01, 86400, 100, 0, false, false, false, { 0 }, "RRRRRR", true },
	{ "truncated listing", 100, 0.5, 0, 100, 104, false, false, false, { 0 }, "RRRRRR", true },
	{ "listing within tolerance", 100, 0.5, 0, 100, 102, false, false, false, { 0 }, "WWWWWW", false },
	{ "deletes forbidden", 100, 0.5, 0, 100, 0, true, false, false, { 0 }, "RRRRRR", true },
	{ "no state file", 100, 0.5, 0, 100, 0, false, false, true, { 0 }, "RRRRRR", true },
	{ "grace: nobody seen before", 100, 0.5, 86400, 100, 0, false, false, false, { 0 }, "DDDDDD", false },
	{ "grace: some waited long enough", 100, 0.5, 86400, 100, 0, false, false, false,
	  { 2, 0, 1, 0, 3, 0 }, "WDWDWD", false },
	{ "grace before cap", 1, 0.5, 86400, 100, 0, false, false, false,
	  { 0, 0, 2, 0, 3, 0 }, "DDWDCD", false },
	/* durations at and far beyond their maximum: no sum may wrap */
	{ "grace: 100 years", 100, 0.5, 36500ull * 86400, 100, 0, false, false, false,
	  { 2, 0, 1, 0, 3, 0 }, "DDDDDD", false },
	{ "grace: 9999999999999999s", 100, 0.5, 9999999999999999ull, 100, 0, false, false, false,
	  { 0 }, "DDDDDD", false },
	{ "grace: UINT64_MAX s", 100, 0.5, UINT64_MAX, 100, 0, false, false, false,
	  { 2, 0, 1, 0, 3, 0 }, "DDDDDD", false },
	{ "apply: no breaker, no grace, cap", 4, 0.01, 86400, 0, -1, false, true, false, { 0 }, "WWWWCC", false },
	{ "apply: forbidden still refuses", 4, 0.5, 0, 0, -1, true, true, false, { 0 }, "RRRRRR", true },
};

static char letter(enum outcome o)
{
	switch (o) {
	case OUTCOME_WOULD_DELETE:
		return 'W';
	case OUTCOME_CAPPED:
		return 'C';
	case OUTCOME_DEFERRED:
		return 'D';
	case OUTCOME_REFUSED:
		return 'R';
	default:
		return '?';
	}
}

START_TEST(test_plan)
{
	const struct plan_case *pc = &plan_cases[_i];
	const int64_t days[] = { 300, 500, 100, 600, 200, 400 }; /* shuffled */
	struct candidate *c = make(days, 6);
	struct state *s = pc->no_state ? NULL : open_state();
	struct act_context ctx = context(s, pc->scanned);
	struct act_result res = { 0 };
	char got[7] = "";

	policy.delete.max_per_run = pc->max_per_run;
	policy.delete.max_fraction = pc->max_fraction;
	policy.delete.grace_period = pc->grace_s;
	ctx.first_total = pc->first_total ? pc->first_total : (int64_t)pc->scanned;
	ctx.forbid_deletes = pc->forbid ? "alias resolution failed" : NULL;
	ctx.apply_mode = pc->apply_mode;
	/* seen_days_ago is given in sorted order: room "!3" is the oldest */
	for (size_t i = 0; i < 6 && s; i++) {
		static const char *const sorted[] = { "!3:x", "!1:x", "!5:x", "!0:x", "!4:x", "!2:x" };

		if (pc->seen_days_ago[i])
			state_candidate_seen(s, sorted[i], NOW_MS - pc->seen_days_ago[i] * DAY_MS);
	}
	act_plan(&ctx, c, 6, NOW_MS, &res);
	for (size_t i = 0; i < 6; i++)
		got[i] = letter(c[i].outcome);
	ck_assert_msg(strcmp(got, pc->want) == 0, "%s: got %s want %s", pc->what, got, pc->want);
	ck_assert_int_eq(res.breaker_tripped, pc->tripped);
	ck_assert_str_eq(c[0].facts.room_id, "!3:x"); /* longest inactive first */
	ck_assert_str_eq(c[5].facts.room_id, "!2:x");
	for (size_t i = 0; i < 6; i++)
		if (c[i].outcome != OUTCOME_WOULD_DELETE)
			ck_assert_msg(c[i].reason && c[i].reason[0], "%s: no reason for %s", pc->what, c[i].facts.room_id);
	if (pc->tripped)
		ck_assert_str_eq(c[0].reason, res.why);
	/* first sightings are recorded except by --apply */
	if (s)
		ck_assert_uint_eq(state_candidate_count(s), pc->apply_mode ? 0 : 6);
	state_close(s);
	free_all(c, 6);
}
END_TEST

/* A first sighting at the epoch itself is a sighting like any other. */
START_TEST(test_grace_from_the_epoch)
{
	const int64_t days[] = { 300 };
	struct candidate *c = make(days, 1);
	struct state *s = open_state();
	struct act_context ctx = context(s, 100);
	struct act_result res = { 0 };

	policy.delete.max_per_run = 10;
	policy.delete.max_fraction = 0.5;
	policy.delete.grace_period = 86400;
	ctx.first_total = 100;
	state_candidate_seen(s, c[0].facts.room_id, 0);
	act_plan(&ctx, c, 1, NOW_MS, &res);
	ck_assert_int_eq(c[0].outcome, OUTCOME_WOULD_DELETE);
	state_close(s);
	free_all(c, 1);
}
END_TEST

START_TEST(test_plan_reasons)
{
	const int64_t days[] = { 300, 200 };
	struct candidate *c;
	struct state *s = open_state();
	struct act_context ctx = context(s, 3);
	struct act_result res = { 0 };

	c = make(days, 2);
	policy.delete.max_fraction = 0.5;
	act_plan(&ctx, c, 2, NOW_MS, &res);
	ck_assert(res.breaker_tripped);
	ck_assert_ptr_nonnull(strstr(res.why, "2 delete candidates among 3 rooms"));
	free_all(c, 2);

	c = make(days, 2);
	ctx.rooms_scanned = 100;
	ctx.first_total = 200;
	act_plan(&ctx, c, 2, NOW_MS, &res);
	ck_assert_ptr_nonnull(strstr(res.why, "saw 100 of 200 rooms"));
	free_all(c, 2);

	c = make(days, 2);
	ctx.first_total = 100;
	policy.delete.grace_period = 3 * 86400;
	memset(&res, 0, sizeof(res));
	act_plan(&ctx, c, 2, NOW_MS + DAY_MS, &res);
	ck_assert(!res.breaker_tripped);
	ck_assert_int_eq(c[0].outcome, OUTCOME_DEFERRED);
	ck_assert_ptr_nonnull(strstr(c[0].reason, "grace period 3d"));
	free_all(c, 2);
	state_close(s);
}
END_TEST

/* Grace across runs: first seen, still waiting, then due; a room that
 * stops being a candidate starts over. */
START_TEST(test_grace_across_runs)
{
	const int64_t days[] = { 300, 200 };
	struct candidate *c;
	struct act_result res;
	struct state *s;
	struct act_context ctx;

	policy.delete.grace_period = 2 * 86400;
	for (int run = 0; run < 4; run++) {
		int64_t now = NOW_MS + run * DAY_MS;
		size_t n = run == 2 ? 1 : 2; /* run 2: room "!1" is not a candidate */

		s = open_state();
		ctx = context(s, 10);
		c = make(days, n);
		memset(&res, 0, sizeof(res));
		act_plan(&ctx, c, n, now, &res);
		switch (run) {
		case 0:
		case 1:
			ck_assert_int_eq(by_id(c, n, "!0:x")->outcome, OUTCOME_DEFERRED);
			ck_assert_int_eq(by_id(c, n, "!1:x")->outcome, OUTCOME_DEFERRED);
			break;
		case 2:
			ck_assert_int_eq(by_id(c, n, "!0:x")->outcome, OUTCOME_WOULD_DELETE);
			break;
		case 3:
			ck_assert_int_eq(by_id(c, n, "!0:x")->outcome, OUTCOME_WOULD_DELETE);
			/* forgotten in run 2: its grace started again */
			ck_assert_int_eq(by_id(c, n, "!1:x")->outcome, OUTCOME_DEFERRED);
			ck_assert_int_eq(state_candidate_first_seen(s, "!1:x"), now);
			break;
		}
		ck_assert_int_eq(state_save(s, now), 0);
		state_close(s);
		free_all(c, n);
	}
}
END_TEST

/* A room with an earlier delete in the state file is not planned again. */
START_TEST(test_plan_history)
{
	const int64_t days[] = { 300, 200, 100 };
	struct candidate *c = make(days, 3);
	struct state *s = open_state();
	struct act_context ctx = context(s, 10);
	struct act_result res = { 0 };

	policy.delete.max_per_run = 1;
	state_delete_completed(s, "!0:x", NOW_MS - DAY_MS);
	state_delete_started(s, "!1:x", "d-1", NOW_MS - DAY_MS);
	act_plan(&ctx, c, 3, NOW_MS, &res);
	ck_assert_int_eq(by_id(c, 3, "!0:x")->outcome, OUTCOME_CHANGED);
	ck_assert_ptr_nonnull(strstr(by_id(c, 3, "!0:x")->reason, "not deleted again"));
	ck_assert_int_eq(by_id(c, 3, "!1:x")->outcome, OUTCOME_DEFERRED);
	ck_assert_ptr_nonnull(strstr(by_id(c, 3, "!1:x")->reason, "d-1"));
	/* they do not use up max_per_run */
	ck_assert_int_eq(by_id(c, 3, "!2:x")->outcome, OUTCOME_WOULD_DELETE);
	state_close(s);
	free_all(c, 3);
}
END_TEST

/* Outcomes decided before the plan (a resumed delete) stay. */
START_TEST(test_plan_keeps_settled)
{
	const int64_t days[] = { 300, 200 };
	struct candidate *c = make(days, 2);
	struct state *s = open_state();
	struct act_context ctx = context(s, 10);
	struct act_result res = { 0 };

	policy.delete.max_per_run = 1;
	c[0].outcome = OUTCOME_DELETED;
	act_plan(&ctx, c, 2, NOW_MS, &res);
	ck_assert_int_eq(by_id(c, 2, "!0:x")->outcome, OUTCOME_DELETED);
	ck_assert_int_eq(by_id(c, 2, "!1:x")->outcome, OUTCOME_WOULD_DELETE);
	/* a deleted room is no longer a candidate in the state */
	ck_assert_int_eq(state_candidate_first_seen(s, "!0:x"), -1);
	state_close(s);
	free_all(c, 2);
}
END_TEST

START_TEST(test_plan_line_numbers)
{
	const int64_t days[] = { 300, 200 };
	struct candidate *c = make(days, 2);
	struct state *s = open_state();
	struct act_context ctx = context(s, 0);
	struct act_result res = { 0 };

	ctx.apply_mode = true;
	ctx.first_total = -1;
	policy.delete.max_per_run = 1;
	c[1].source_line = 7;
	act_plan(&ctx, c, 2, NOW_MS, &res);
	ck_assert_int_eq(by_id(c, 2, "!1:x")->outcome, OUTCOME_CAPPED);
	ck_assert_ptr_nonnull(strstr(by_id(c, 2, "!1:x")->reason, "line 7: max_per_run 1"));
	state_close(s);
	free_all(c, 2);
}
END_TEST

/* --- the pool: the best max_per_run in memory, the rest held back --- */

struct reported {
	struct candidate c[16];
	size_t n;
};

static void collect(void *ud, struct candidate *c)
{
	struct reported *r = ud;

	ck_assert_uint_lt(r->n, ARRAY_SIZE(r->c));
	r->c[r->n] = *c;
	memset(c, 0, sizeof(*c));
	r->n++;
}

static void reported_free(struct reported *r)
{
	for (size_t i = 0; i < r->n; i++)
		candidate_clear(&r->c[i]);
}

/* Offers candidates inactive days[i] ago (named "!<i>:x") to the pool. */
static void offer_all(struct pool *p, const int64_t *days, size_t n)
{
	struct candidate *c = make(days, n);

	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(pool_offer(p, &c[i], NOW_MS), 0);
	free_all(c, n);
}

START_TEST(test_pool_keeps_the_best)
{
	const int64_t days[] = { 300, 500, 100, 600, 200, 400, 50, 700 };
	struct state *s = open_state();
	struct act_context ctx = context(s, 100);
	struct reported rep = { .n = 0 };
	struct candidate *kept;
	struct pool p;
	size_t n;

	policy.delete.max_per_run = 3;
	pool_init(&p, &ctx);
	offer_all(&p, days, ARRAY_SIZE(days));
	kept = pool_kept(&p, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(p.total, 8);
	act_sort(kept, n);
	ck_assert_str_eq(kept[0].facts.room_id, "!7:x"); /* 700 days */
	ck_assert_str_eq(kept[1].facts.room_id, "!3:x"); /* 600 */
	ck_assert_str_eq(kept[2].facts.room_id, "!1:x"); /* 500 */
	ck_assert_int_eq(pool_report(&p, NULL, collect, &rep), 0);
	ck_assert_uint_eq(rep.n, 5);
	for (size_t i = 0; i < rep.n; i++) {
		ck_assert_int_eq(rep.c[i].outcome, OUTCOME_CAPPED);
		ck_assert_str_eq(rep.c[i].reason, "max_per_run 3 reached: left for a later run");
		ck_assert_ptr_eq(rep.c[i].rule, &rule);
		ck_assert_int_eq(rep.c[i].facts.last_activity.state, FACT_KNOWN);
	}
	/* every candidate was seen: the grace bookkeeping knows them all */
	ck_assert_uint_eq(state_candidate_count(s), 8);
	reported_free(&rep);
	pool_free(&p);
	state_close(s);
}
END_TEST

/* A refused run reports everything held back as refused, with why. */
START_TEST(test_pool_refused)
{
	const int64_t days[] = { 300, 500, 100 };
	struct state *s = open_state();
	struct act_context ctx = context(s, 100);
	struct reported rep = { .n = 0 };
	struct pool p;

	policy.delete.max_per_run = 1;
	pool_init(&p, &ctx);
	offer_all(&p, days, ARRAY_SIZE(days));
	ck_assert_int_eq(pool_report(&p, "breaker: too many", collect, &rep), 0);
	ck_assert_uint_eq(rep.n, 2);
	for (size_t i = 0; i < rep.n; i++) {
		ck_assert_int_eq(rep.c[i].outcome, OUTCOME_REFUSED);
		ck_assert_str_eq(rep.c[i].reason, "breaker: too many");
	}
	reported_free(&rep);
	pool_free(&p);
	state_close(s);
}
END_TEST

/* Under a grace period nothing new is held in memory; a room with a delete
 * of an earlier run always is, beside the best. */
START_TEST(test_pool_grace_and_known)
{
	const int64_t days[] = { 300, 500, 100 };
	struct state *s = open_state();
	struct act_context ctx = context(s, 100);
	struct reported rep = { .n = 0 };
	struct pool p;
	size_t n;

	policy.delete.max_per_run = 1;
	policy.delete.grace_period = 86400;
	state_delete_requested(s, "!2:x", NOW_MS - 1000);
	pool_init(&p, &ctx);
	offer_all(&p, days, ARRAY_SIZE(days));
	pool_kept(&p, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(p.kept[0].facts.room_id, "!2:x");
	ck_assert_int_eq(pool_report(&p, NULL, collect, &rep), 0);
	ck_assert_uint_eq(rep.n, 2);
	for (size_t i = 0; i < rep.n; i++) {
		ck_assert_int_eq(rep.c[i].outcome, OUTCOME_DEFERRED);
		ck_assert_ptr_nonnull(strstr(rep.c[i].reason, "grace period 1d"));
	}
	reported_free(&rep);
	pool_free(&p);
	state_close(s);
}
END_TEST

/* What is held back comes back with every fact a report shows. */
START_TEST(test_pool_round_trip)
{
	struct state *s = open_state();
	struct act_context ctx = context(s, 100);
	struct reported rep = { .n = 0 };
	struct candidate c = { 0 };
	struct pool p;

	policy.delete.max_per_run = 0;
	room_facts_clear(&c.facts);
	c.facts.room_id = xstrdup("!rt:x");
	c.facts.name = xstrdup("A \"name\",\nwith lines");
	c.facts.canonical_alias = xstrdup("#rt:x");
	c.facts.room_type = xstrdup("m.space");
	c.facts.encryption = xstrdup("m.megolm.v1.aes-sha2");
	c.facts.joined_members = 7;
	c.facts.joined_local_members = 0;
	c.facts.is_public = TRI_FALSE;
	fact_time_known(&c.facts.last_activity, NOW_MS - 400 * DAY_MS);
	fact_time_unknown(&c.facts.created, "HTTP 502");
	c.rule = &rule;
	pool_init(&p, &ctx);
	ck_assert_int_eq(pool_offer(&p, &c, NOW_MS), 0);
	ck_assert_int_eq(pool_report(&p, NULL, collect, &rep), 0);
	ck_assert_uint_eq(rep.n, 1);
	ck_assert_str_eq(rep.c[0].facts.room_id, "!rt:x");
	ck_assert_str_eq(rep.c[0].facts.name, "A \"name\",\nwith lines");
	ck_assert_str_eq(rep.c[0].facts.canonical_alias, "#rt:x");
	ck_assert_str_eq(rep.c[0].facts.room_type, "m.space");
	ck_assert_str_eq(rep.c[0].facts.encryption, "m.megolm.v1.aes-sha2");
	ck_assert_ptr_null(rep.c[0].facts.creator);
	ck_assert_int_eq(rep.c[0].facts.joined_members, 7);
	ck_assert_int_eq(rep.c[0].facts.joined_local_members, 0);
	ck_assert_int_eq(rep.c[0].facts.is_public, TRI_FALSE);
	ck_assert_int_eq(rep.c[0].facts.last_activity.state, FACT_KNOWN);
	ck_assert_int_eq(rep.c[0].facts.last_activity.ms, NOW_MS - 400 * DAY_MS);
	ck_assert_int_eq(rep.c[0].facts.created.state, FACT_UNKNOWN);
	ck_assert_str_eq(rep.c[0].facts.created.problem, "HTTP 502");
	ck_assert_int_eq(rep.c[0].outcome, OUTCOME_CAPPED);
	reported_free(&rep);
	pool_free(&p);
	candidate_clear(&c);
	state_close(s);
}
END_TEST

/* The size guard (delete.max_state_events): a scheduled run defers a
 * larger room, or one whose size is unknown; the limit itself passes; a
 * deferred room takes no max_per_run slot; --apply is not held back. */
static void set_sizes(struct candidate *c, size_t n, const int64_t *sizes)
{
	for (size_t i = 0; i < n; i++)
		c[i].facts.state_events = sizes[i];
}

START_TEST(test_plan_size_guard)
{
	const int64_t days[] = { 300, 200, 100, 50 };
	const int64_t sizes[] = { 51, 50, -1, 10 };
	struct candidate *c = make(days, 4);
	struct state *s = open_state();
	struct act_context ctx = context(s, 100);
	struct act_result res = { 0 };

	set_sizes(c, 4, sizes);
	policy.delete.max_per_run = 1;
	policy.delete.has_max_state_events = true;
	policy.delete.max_state_events = 50;
	act_plan(&ctx, c, 4, NOW_MS, &res);
	ck_assert(!res.breaker_tripped);
	ck_assert_int_eq(by_id(c, 4, "!0:x")->outcome, OUTCOME_DEFERRED);
	ck_assert_str_eq(by_id(c, 4, "!0:x")->reason,
			 "51 state events, larger than delete.max_state_events (50): delete it by hand or with --apply");
	ck_assert_int_eq(by_id(c, 4, "!1:x")->outcome, OUTCOME_WOULD_DELETE);
	ck_assert_int_eq(by_id(c, 4, "!2:x")->outcome, OUTCOME_DEFERRED);
	ck_assert_ptr_nonnull(strstr(by_id(c, 4, "!2:x")->reason, "state_events unknown"));
	ck_assert_int_eq(by_id(c, 4, "!3:x")->outcome, OUTCOME_CAPPED);
	/* a deferred room is still a candidate for the grace period */
	ck_assert_uint_eq(state_candidate_count(s), 4);
	free_all(c, 4);

	/* --apply: a person chose the rooms; the size does not hold them */
	c = make(days, 4);
	set_sizes(c, 4, sizes);
	ctx.apply_mode = true;
	ctx.first_total = -1;
	policy.delete.max_per_run = 4;
	memset(&res, 0, sizeof(res));
	act_plan(&ctx, c, 4, NOW_MS, &res);
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(c[i].outcome, OUTCOME_WOULD_DELETE);
	free_all(c, 4);

	/* no guard set: no size holds a room back, even an unknown one */
	c = make(days, 4);
	set_sizes(c, 4, sizes);
	ctx = context(s, 100);
	policy.delete.has_max_state_events = false;
	memset(&res, 0, sizeof(res));
	act_plan(&ctx, c, 4, NOW_MS, &res);
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(c[i].outcome, OUTCOME_WOULD_DELETE);
	free_all(c, 4);

	/* the earlier delete is said first, then the size, then the grace */
	c = make(days, 2);
	set_sizes(c, 2, sizes);
	policy.delete.has_max_state_events = true;
	policy.delete.grace_period = 86400;
	state_delete_completed(s, "!1:x", NOW_MS - DAY_MS);
	memset(&res, 0, sizeof(res));
	act_plan(&ctx, c, 2, NOW_MS, &res);
	ck_assert_int_eq(by_id(c, 2, "!0:x")->outcome, OUTCOME_DEFERRED);
	ck_assert_ptr_nonnull(strstr(by_id(c, 2, "!0:x")->reason, "larger than delete.max_state_events"));
	ck_assert_int_eq(by_id(c, 2, "!1:x")->outcome, OUTCOME_CHANGED);
	free_all(c, 2);
	state_close(s);
}
END_TEST

START_TEST(test_too_large)
{
	struct room_facts f = { 0 };
	char why[REASON_MAX] = "";

	room_facts_clear(&f);
	policy.delete.has_max_state_events = false;
	ck_assert(!act_too_large(&policy, &f, why, sizeof(why)));  /* no guard: unknown is fine */
	policy.delete.has_max_state_events = true;
	policy.delete.max_state_events = 0;
	ck_assert(act_too_large(&policy, &f, why, sizeof(why)));   /* guard: unknown is held back */
	ck_assert_ptr_nonnull(strstr(why, "state_events unknown, so delete.max_state_events (0) cannot be checked"));
	f.state_events = 0;
	ck_assert(!act_too_large(&policy, &f, why, sizeof(why)));
	f.state_events = 1;
	ck_assert(act_too_large(&policy, &f, why, sizeof(why)));
	policy.delete.max_state_events = 4000000000u;
	f.state_events = 4000000000LL;
	ck_assert(!act_too_large(&policy, &f, why, sizeof(why)));
	f.state_events = 4000000001LL;
	ck_assert(act_too_large(&policy, &f, why, sizeof(why)));
	ck_assert_str_eq(why, "4000000001 state events, larger than delete.max_state_events (4000000000): "
			 "delete it by hand or with --apply");
}
END_TEST

/* act_plan_hold alone, as --explain asks it for one room: it reads the
 * first sightings but records none. */
START_TEST(test_plan_hold_records_nothing)
{
	const int64_t days[] = { 300 };
	struct candidate *c = make(days, 1);
	struct state *s = open_state();
	struct act_context ctx = context(s, 10);

	policy.delete.grace_period = 86400;
	ck_assert(act_plan_hold(&ctx, c, NOW_MS));
	ck_assert_int_eq(c->outcome, OUTCOME_DEFERRED);
	ck_assert_uint_eq(state_candidate_count(s), 0);
	state_candidate_seen(s, "!0:x", NOW_MS - 2 * DAY_MS);
	c->outcome = OUTCOME_KEPT;
	ck_assert(!act_plan_hold(&ctx, c, NOW_MS));
	ck_assert_int_eq(c->outcome, OUTCOME_KEPT);
	state_close(s);
	free_all(c, 1);
}
END_TEST

/* A first sighting at time 0 is a time like any other, not "never". */
START_TEST(test_grace_first_seen_at_zero)
{
	const int64_t days[] = { 300 };
	struct candidate *c = make(days, 1);
	struct state *s = open_state();
	struct act_context ctx = context(s, 10);

	policy.delete.grace_period = 86400;
	state_candidate_seen(s, "!0:x", 0);
	ck_assert(!act_plan_hold(&ctx, c, NOW_MS));
	ck_assert_int_eq(c->outcome, OUTCOME_KEPT);
	state_close(s);
	free_all(c, 1);
}
END_TEST

static Suite *act_suite(void)
{
	Suite *su = suite_create("act");
	TCase *ta = tcase_create("arithmetic");
	TCase *tp = tcase_create("plan");

	tcase_add_loop_test(ta, test_breaker, 0, (int)ARRAY_SIZE(breaker_cases));
	tcase_add_test(ta, test_breaker_nan);
	tcase_add_loop_test(ta, test_truncated, 0, (int)ARRAY_SIZE(trunc_cases));
	suite_add_tcase(su, ta);
	tcase_add_checked_fixture(tp, plan_setup, plan_teardown);
	tcase_add_test(tp, test_sort_longest_inactive_first);
	tcase_add_loop_test(tp, test_plan, 0, (int)ARRAY_SIZE(plan_cases));
	tcase_add_test(tp, test_grace_from_the_epoch);
	tcase_add_test(tp, test_plan_reasons);
	tcase_add_test(tp, test_grace_across_runs);
	tcase_add_test(tp, test_plan_history);
	tcase_add_test(tp, test_plan_keeps_settled);
	tcase_add_test(tp, test_plan_line_numbers);
	tcase_add_test(tp, test_pool_keeps_the_best);
	tcase_add_test(tp, test_pool_refused);
	tcase_add_test(tp, test_pool_grace_and_known);
	tcase_add_test(tp, test_pool_round_trip);
	tcase_add_test(tp, test_plan_size_guard);
	tcase_add_test(tp, test_too_large);
	tcase_add_test(tp, test_plan_hold_records_nothing);
	tcase_add_test(tp, test_grace_first_seen_at_zero);
	suite_add_tcase(su, tp);
	return su;
}

int main(void)
{
	return test_suite_main(act_suite());
}
