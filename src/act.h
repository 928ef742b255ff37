/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_ACT_H
#define SJ_ACT_H

#include <stdbool.h>
#include <stdint.h>

#include "decide.h"
#include "http.h"
#include "room.h"

/* Acting on the delete verdicts of a run (DESIGN.md §6): caps, grace,
 * re-verification, DELETE v2 and polling, each with its outcome. */

struct candidate {
	struct room_facts facts;
	const struct rule *rule;
	char reason[256];
	enum outcome outcome;
	char *delete_id;            /* set once a delete was started */
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
	/* Set when this run must not delete (alias resolution failed, ...). */
	const char *forbid_deletes;
	/* Reports each candidate once its outcome is final. */
	void (*emit)(void *ud, struct candidate *c);
	void *emit_ud;
	bool (*should_stop)(void *ud);
	void *stop_ud;
};

struct act_result {
	bool breaker_tripped;           /* max_fraction or truncated listing: exit 1 */
	bool auth_failed;
	bool interrupted;
	char why[256];
};

/* Decides the outcome of every candidate and carries out the deletes.
 * Candidates are reordered (longest inactive first). */
void act_run(const struct act_context *ctx, struct candidate *c, size_t n, struct act_result *res);

void candidate_clear(struct candidate *c);

#endif
