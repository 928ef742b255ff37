/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The plan of a run's deletes, before any request (DESIGN.md §6.5): the
 * order, the breaker, the truncated listing, the state history, the size
 * guard, the grace period and max_per_run. Pure but for the state file's
 * sightings. */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "duration.h"
#include "state.h"
#include "xmalloc.h"
#include "clock.h"

void candidate_clear(struct candidate *c)
{
	room_facts_clear(&c->facts);
	free(c->delete_id);
	free(c->reason);
	memset(c, 0, sizeof(*c));
}

void candidate_set_reason(struct candidate *c, const char *fmt, ...)
{
	char text[REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	free(c->reason);
	c->reason = xstrdup(text);
}

/* ------------------------------------------------------------------ */
/* The plan: ordering, breaker, truncation, grace, cap (DESIGN.md §6.5) */

bool act_breaker_trips(uint64_t delete_verdicts, uint64_t scanned, double max_fraction)
{
	uint64_t millionths;

	if (!(max_fraction >= 0.0)) /* NaN: nothing can be shown safe */
		return delete_verdicts > 0;
	if (max_fraction >= 1.0)
		return delete_verdicts > scanned;
	/* n > f * scanned, in integers: 0.1 * 30 must be exactly 3. */
	millionths = (uint64_t)llround(max_fraction * 1e6);
	return (unsigned __int128)delete_verdicts * 1000000u > (unsigned __int128)millionths * scanned;
}

bool act_listing_truncated(int64_t first_total, uint64_t seen, uint64_t deleted)
{
	uint64_t total, missing;

	if (first_total < 0)
		return true;
	total = (uint64_t)first_total;
	if (seen >= total)
		return false;
	missing = total - seen;
	missing = missing > deleted ? missing - deleted : 0;
	/* missing > max(2, total / 100), without rounding: 100 * missing > total */
	return missing > 2 && missing * 100 > total;
}

static int64_t activity_key(const struct candidate *c)
{
	const struct room_facts *f = &c->facts;

	return f->last_activity.state == FACT_KNOWN ? f->last_activity.ms : INT64_MAX;
}

static int64_t created_key(const struct candidate *c)
{
	return c->facts.created.state == FACT_KNOWN ? c->facts.created.ms : INT64_MAX;
}

int act_compare(const struct candidate *a, const struct candidate *b)
{
	int64_t x = activity_key(a), y = activity_key(b);

	if (x == y) {
		x = created_key(a);
		y = created_key(b);
	}
	if (x != y)
		return x < y ? -1 : 1;
	return strcmp(a->facts.room_id ? a->facts.room_id : "", b->facts.room_id ? b->facts.room_id : "");
}

static int compare_candidates(const void *pa, const void *pb)
{
	return act_compare(pa, pb);
}

void act_sort(struct candidate *c, size_t n)
{
	if (n > 1)
		qsort(c, n, sizeof(*c), compare_candidates);
}

void candidate_set_outcome(struct candidate *c, enum outcome o, const char *fmt, ...)
{
	char text[REASON_MAX];
	va_list ap;
	int n = 0;

	if (c->source_line)
		n = snprintf(text, sizeof(text), "line %u: ", c->source_line);
	va_start(ap, fmt);
	vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	va_end(ap);
	candidate_set_reason(c, "%s", text);
	c->outcome = o;
}

static void refuse_all(struct candidate *c, size_t n, const char *why)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].outcome == OUTCOME_KEPT)
			candidate_set_outcome(&c[i], OUTCOME_REFUSED, "%s", why);
}

/* Why this run must delete nothing, or NULL: the breaker, the listing,
 * forbid_deletes, no state. */
static const char *plan_refusal(const struct act_context *ctx, size_t n, char *why, size_t len)
{
	const struct policy *p = ctx->policy;

	if (!ctx->apply_mode && act_breaker_trips(n, ctx->rooms_scanned, p->delete.max_fraction)) {
		snprintf(why, len, "breaker: %zu delete candidates among %llu rooms scanned exceed "
			 "max_fraction %g; nothing is deleted", n,
			 (unsigned long long)ctx->rooms_scanned, p->delete.max_fraction);
		return why;
	}
	if (!ctx->apply_mode &&
	    act_listing_truncated(ctx->first_total, ctx->rooms_scanned, ctx->recently_deleted)) {
		if (ctx->first_total < 0)
			snprintf(why, len, "truncated listing: the room list announced no total_rooms, "
				 "saw %llu rooms; nothing is deleted", (unsigned long long)ctx->rooms_scanned);
		else
			snprintf(why, len, "truncated listing: saw %llu of %lld rooms; nothing is deleted",
				 (unsigned long long)ctx->rooms_scanned, (long long)ctx->first_total);
		return why;
	}
	if (ctx->forbid_deletes) {
		snprintf(why, len, "no deletes this run: %s", ctx->forbid_deletes);
		return why;
	}
	if (!ctx->state) {
		snprintf(why, len, "no deletes without a usable state file");
		return why;
	}
	return NULL;
}

static void record_sightings(const struct act_context *ctx, struct candidate *c, size_t n,
			     int64_t now_ms)
{
	const char **ids;
	size_t k = 0;

	if (!ctx->state || ctx->apply_mode)
		return;
	if (ctx->sightings_recorded) {
		state_candidates_forget_unseen(ctx->state);
		return;
	}
	ids = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		if (c[i].outcome == OUTCOME_DELETED)
			continue; /* a resumed delete completed: no longer a candidate */
		ids[k] = c[i].facts.room_id;
		state_candidate_seen(ctx->state, ids[k++], now_ms);
	}
	/* A room that stopped being a candidate is forgotten: its grace
	 * period starts over when it comes back. */
	state_candidates_retain(ctx->state, ids, k);
	free(ids);
}

/* Earlier deletes of the room (DESIGN.md §6.6): one that completed is never
 * repeated, one still unsettled is waited for. */
static bool plan_history(const struct act_context *ctx, struct candidate *c)
{
	const struct state_delete *d = state_delete_find(ctx->state, c->facts.room_id);
	char when[32];

	if (!d)
		return false;
	if (d->phase == STATE_COMPLETED) {
		clock_format_rfc3339(d->completed_ms, when, sizeof(when));
		candidate_set_outcome(c, OUTCOME_CHANGED, "already deleted at %s%s%s: not deleted again", when,
			    d->delete_id ? " by delete " : "", d->delete_id ? d->delete_id : "");
	} else {
		clock_format_rfc3339(d->requested_ms, when, sizeof(when));
		candidate_set_outcome(c, OUTCOME_DEFERRED, "a delete requested at %s is not settled yet%s%s: "
			    "not sent again", when, d->delete_id ? "; delete " : "",
			    d->delete_id ? d->delete_id : "");
	}
	return true;
}

bool act_plan_grace(const struct act_context *ctx, struct candidate *c, int64_t now_ms)
{
	uint64_t grace = ctx->policy->delete.grace_period;
	int64_t first, due;
	char since[32], from[32], g[32];

	if (ctx->apply_mode || grace == 0)
		return false;
	first = state_candidate_first_seen(ctx->state, c->facts.room_id);
	if (first < 0)
		first = now_ms;
	due = clock_ms_after(first, grace);
	if (now_ms >= due)
		return false;
	clock_format_rfc3339(first, since, sizeof(since));
	clock_format_rfc3339(due, from, sizeof(from));
	duration_format(grace, g, sizeof(g));
	candidate_set_outcome(c, OUTCOME_DEFERRED, "grace period %s: a candidate since %s, deletable from %s",
		    g, since, from);
	return true;
}

void act_set_capped(const struct act_context *ctx, struct candidate *c)
{
	candidate_set_outcome(c, OUTCOME_CAPPED, "max_per_run %u reached: left for a later run",
			      ctx->policy->delete.max_per_run);
}

bool act_too_large(const struct policy *p, const struct room_facts *f, char *why, size_t len)
{
	if (!p->delete.has_max_state_events)
		return false;
	if (f->state_events < 0) {
		snprintf(why, len, "state_events unknown, so delete.max_state_events (%u) cannot be checked: "
			 "delete it by hand or with --apply", p->delete.max_state_events);
		return true;
	}
	if (f->state_events <= (int64_t)p->delete.max_state_events)
		return false;
	snprintf(why, len, "%lld state events, larger than delete.max_state_events (%u): delete it by hand "
		 "or with --apply", (long long)f->state_events, p->delete.max_state_events);
	return true;
}

static bool plan_size(const struct act_context *ctx, struct candidate *c)
{
	char why[REASON_MAX];

	if (ctx->apply_mode || !act_too_large(ctx->policy, &c->facts, why, sizeof(why)))
		return false;
	candidate_set_outcome(c, OUTCOME_DEFERRED, "%s", why);
	return true;
}

bool act_plan_hold(const struct act_context *ctx, struct candidate *c, int64_t now_ms)
{
	return plan_history(ctx, c) || plan_size(ctx, c) || act_plan_grace(ctx, c, now_ms);
}

void act_plan(const struct act_context *ctx, struct candidate *c, size_t n, int64_t now_ms,
	      struct act_result *res)
{
	unsigned max = ctx->policy->delete.max_per_run, chosen = 0;
	const char *refusal;
	char why[sizeof(res->why)];

	act_sort(c, n);
	record_sightings(ctx, c, n, now_ms);
	refusal = n || ctx->candidates_total ?
		  plan_refusal(ctx, ctx->candidates_total > n ? ctx->candidates_total : n, why, sizeof(why)) :
		  NULL;
	if (refusal) {
		refuse_all(c, n, refusal);
		res->breaker_tripped = true;
		snprintf(res->why, sizeof(res->why), "%s", refusal);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (c[i].outcome != OUTCOME_KEPT)
			continue; /* settled before the plan (a resumed delete) */
		if (act_plan_hold(ctx, &c[i], now_ms))
			continue;
		if (chosen >= max) {
			act_set_capped(ctx, &c[i]);
			continue;
		}
		chosen++;
		c[i].outcome = OUTCOME_WOULD_DELETE;
	}
}
