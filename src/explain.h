/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_EXPLAIN_H
#define SJ_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "decide.h"
#include "policy.h"
#include "report.h"
#include "room.h"
#include "verify.h"

/* --explain ROOM: every fact of one room with where it came
 * from, each protection and each rule condition as decide.c evaluated it
 * (its trace), and the outcome the next run would reach. Read-only on
 * everything: GET requests only, the state file read without a lock and
 * never written, no records, no journal entries of a run. */

struct state;

/* Everything gathered about the room; the pure half of --explain. */
struct explanation {
	const struct policy *policy;
	const char *room_id;
	const char *state_path;        /* the policy's state file, for the text */
	int64_t now_ms;
	bool dry_run;                  /* the policy's, or --dry-run */
	bool forced_dry_run;           /* by --dry-run */

	/* The room details (the list row's facts: the same statistics). */
	bool found;
	char details_problem[256];     /* why not found: 404, a failed lookup */
	const struct room_facts *facts;
	enum tri forgotten;
	/* /members, counted as the re-verification counts them. */
	int64_t members_total, members_local;
	char members_problem[256];
	const char *server_name;
	const char *last_event_id;     /* where the state before the last leave was read */

	/* The state file, read only: NULL when it could not be read. */
	const struct state *state;
	char state_problem[400];

	/* decide_room on the facts, and what it looked at. */
	const struct decide_trace *trace;
	const struct verdict *verdict;

	/* Why a run now would delete nothing (clock check, an exact protected
	 * alias that could not be resolved), or NULL. */
	const char *forbid_deletes;

	/* The re-verification a deleting run makes before its DELETE, done
	 * now (read-only): only for a delete verdict the plan lets through. */
	bool verified;
	enum verify_result verify_result;
	char verify_why[256];

	/* Filled by explain_conclude. */
	enum outcome outcome;          /* what the next run would record */
	char outcome_reason[512];
	bool held;                     /* the plan holds the delete back */
	char size_text[256];           /* the size guard, for a delete verdict */
	char grace_text[256];
	bool needs_verify;             /* a delete verdict the plan lets through */
};

/* The outcome the next run would reach from what is gathered: the verdict,
 * then for a delete verdict the refusals that hold for a whole run, the
 * plan of act-plan.c for this one room (state history, size guard, grace
 * period), dry-run, and the re-verification. Pure. */
void explain_conclude(struct explanation *x);

/* The text for a person. Pure. */
void explain_render(const struct explanation *x, struct buf *out);

struct explain_options {
	const struct policy *policy;
	const char *token;
	const char *room_id;
	bool force_dry_run;            /* --dry-run */
	bool (*should_stop)(void *ud);
	void *stop_ud;
};

/* Gathers, decides and prints the explanation to out. Returns the exit
 * status: 0 explained, 1 the room is unknown to the homeserver or a lookup
 * failed (what is known is still printed), 2 for an invalid room id. */
int explain_room(const struct explain_options *o, FILE *out);

#endif
