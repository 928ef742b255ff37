/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_ACT_H
#define SJ_ACT_H

#include <stdbool.h>
#include <stdint.h>

#include "decide.h"
#include "http.h"
#include "report.h"
#include "room.h"
#include "macro.h"

/* Acting on the delete verdicts of a run (DESIGN.md §6): caps, grace,
 * re-verification, DELETE v2 and polling, each with its outcome. */

struct candidate {
	struct room_facts facts;
	const struct rule *rule;
	char *reason;               /* why it has its outcome (malloc'd) */
	enum outcome outcome;
	char *delete_id;            /* set once a delete was started */
	unsigned source_line;       /* --apply: the row's line in the CSV, else 0 */
};

struct state;

struct act_context {
	const struct policy *policy;
	const struct decide_context *decide;
	struct http_client *http;
	struct state *state;            /* NULL: no state file (then nothing is deleted) */
	const char *server_name;        /* ours, from whoami */
	bool dry_run;
	bool apply_mode;                /* --apply: no breaker, no grace (DESIGN.md §4) */
	uint64_t rooms_scanned;
	int64_t first_total;            /* total_rooms of the first list page, -1 unknown */
	uint64_t recently_deleted;      /* completed deletes in the state file (30 days) */
	/* The delete candidates of the run, when more than those passed to
	 * act_run (the pool holds the best max_per_run; 0: as many). */
	uint64_t candidates_total;
	bool sightings_recorded;        /* the pool recorded every candidate's sighting */
	/* Set when this run must not delete (alias resolution failed, ...). */
	const char *forbid_deletes;
	/* Reports each candidate once its outcome is final. */
	void (*emit)(void *ud, struct candidate *c);
	void *emit_ud;
	bool (*should_stop)(void *ud);
	void *stop_ud;
	/* Status polling: first interval and cap in ms (0: 1 s and 30 s,
	 * API.md); the tests shorten them. */
	uint64_t poll_first_ms;
	uint64_t poll_max_ms;
};

struct act_result {
	/* Nothing was deleted because it could not be done safely: max_fraction,
	 * a truncated listing, deletes forbidden this run: exit 1. */
	bool breaker_tripped;
	bool auth_failed;
	bool interrupted;
	char why[256];
};

/* Decides the outcome of every candidate and carries out the deletes.
 * Candidates are reordered (longest inactive first). */
void act_run(const struct act_context *ctx, struct candidate *c, size_t n, struct act_result *res);

void candidate_clear(struct candidate *c);
/* Replaces c->reason; the text is cut at REASON_MAX bytes. */
void candidate_set_reason(struct candidate *c, const char *fmt, ...) SJ_PRINTF(2, 3);
/* Sets the outcome and its reason (prefixed with the CSV line for --apply). */
void candidate_set_outcome(struct candidate *c, enum outcome o, const char *fmt, ...) SJ_PRINTF(3, 4);

#define REASON_MAX 256

/* The pure parts of act_run, for the tests. */

/* max_fraction (DESIGN.md §6.5): more delete verdicts than fraction x rooms
 * scanned (fractions are taken to 1e-6, exactly, no float rounding). */
bool act_breaker_trips(uint64_t delete_verdicts, uint64_t scanned, double max_fraction);
/* A truncated listing: the first page's total_rooms minus the distinct rooms
 * seen exceeds max(2, 1 % of it); an unknown total (-1) counts as truncated,
 * since completeness cannot be shown. Up to `deleted` missing rooms are
 * explained by the rooms this program deleted in the last 30 days: a
 * Synapse restart rewinds its room statistics and counts purged rooms in
 * total_rooms again, though the list no longer shows them. */
bool act_listing_truncated(int64_t first_total, uint64_t seen, uint64_t deleted);
/* Longest inactive first; unknown activity after known, by creation time;
 * ties by room id. compare is that order (< 0: a goes first). */
void act_sort(struct candidate *c, size_t n);
int act_compare(const struct candidate *a, const struct candidate *b);
/* The grace period holds c back: DEFERRED with the reason (never in
 * apply_mode). */
bool act_plan_grace(const struct act_context *ctx, struct candidate *c, int64_t now_ms);
/* CAPPED by max_per_run, with the reason. */
void act_set_capped(const struct act_context *ctx, struct candidate *c);
/* Applies the ordering, the breaker, the truncated-listing rule, the
 * forbid_deletes and state history checks, the size guard (not in
 * apply_mode), the grace period (recording first sightings unless
 * apply_mode) and max_per_run, in that order. Each
 * candidate whose outcome is still OUTCOME_KEPT ("undecided") gets
 * REFUSED, CHANGED, DEFERRED, CAPPED or WOULD_DELETE ("to delete"), with
 * the reason. Emits nothing. */
void act_plan(const struct act_context *ctx, struct candidate *c, size_t n, int64_t now_ms,
	      struct act_result *res);
/* The part of the plan that looks at one candidate alone, in this order:
 * an earlier delete in the state file (CHANGED or DEFERRED), the size
 * guard (DEFERRED; not in apply_mode), the grace period (DEFERRED; not in
 * apply_mode; reads first sightings, records none). True when it holds the
 * candidate back, with the outcome and reason set. ctx->state must be set.
 * act_plan uses it for each candidate; --explain for its one room. */
bool act_plan_hold(const struct act_context *ctx, struct candidate *c, int64_t now_ms);
/* The size guard (delete.max_state_events): true, with why, when
 * the room has more state events than the policy lets an unattended run
 * delete, or its size is unknown while the guard is set. A big delete holds
 * one of Synapse's 5 task slots for hours (API.md). */
bool act_too_large(const struct policy *p, const struct room_facts *f, char *why, size_t len);

#endif
