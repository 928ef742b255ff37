/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_DECIDE_H
#define SJ_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "room.h"

/* The pure decision (DESIGN.md §2, §6.2, §6.3): room facts + policy + now
 * -> verdict + reason. No I/O. Protections first, then rules in order, the
 * first rule whose conditions all hold decides. A costly fact is asked for
 * (VERDICT_NEED_FACTS) only when the rule being evaluated still matches on
 * everything else known. */

#define CLOCK_SKEW_MS (5 * 60 * 1000) /* a timestamp further in the future is doubt */

enum verdict_kind {
	VERDICT_KEEP,
	VERDICT_PROTECTED,
	VERDICT_RECORD,
	VERDICT_DELETE,
	VERDICT_KEEP_UNKNOWN,
	VERDICT_NEED_FACTS,
};

#define NEED_LAST_ACTIVITY 0x1u
#define NEED_CREATED       0x2u
/* The state before the last leave (room.h struct prior_state): asked for a
 * would-be delete candidate whose name or alias the list shows as null
 * while the policy protects by name or alias (DESIGN.md §6.13). */
#define NEED_PRIOR_STATE   0x4u

struct verdict {
	enum verdict_kind kind;
	const struct rule *rule;  /* RECORD, DELETE; else NULL */
	unsigned need;            /* NEED_FACTS: NEED_* bits */
	char reason[256];
};

/* An explanation of one decision (--explain): decide_room fills
 * it as it decides, from the same evaluation, so an explanation and a run
 * cannot disagree. It also evaluates, for the reader, the protections and
 * rules a run would not have looked at (reached false). */
enum trace_result {
	TRACE_HOLDS,    /* the protection or condition holds */
	TRACE_FAILS,    /* certainly not */
	TRACE_UNKNOWN,  /* a fact is unknown or in the future: doubt, never a match */
	TRACE_NEEDED,   /* a costly fact that was not fetched */
};

struct trace_item {
	char key[40];             /* "joined_local_members", "protect.names" */
	char want[160];           /* what the policy asks: "max 0", "at least 90d" */
	char value[240];          /* the room's fact, with server text unescaped */
	enum trace_result result;
};

struct trace_rule {
	const struct rule *rule;
	struct trace_item *items; /* its conditions, in the order decide checks them */
	size_t n_items;
	enum trace_result result; /* HOLDS: every condition holds */
	bool reached;             /* a run evaluates it: nothing before it decided */
};

struct decide_trace {
	/* Set when the list row was unusable: nothing else was evaluated. */
	bool row_unusable;
	struct trace_item *protections; /* every protection, in order */
	size_t n_protections;
	/* The name and alias protections against the state before the last
	 * leave, when a delete verdict needed them (NEED_PRIOR_STATE). */
	bool prior_checked;
	struct trace_item *prior;
	size_t n_prior;
	struct trace_rule *rules;       /* every rule, in order */
	size_t n_rules;
};

void decide_trace_free(struct decide_trace *t);
/* A costly time fact as the trace and --explain show it: "N days ago
 * (WHEN)", "WHEN, in the future (N s ahead)", "unknown: why" or "not
 * fetched". */
void decide_time_text(const struct fact_time *t, int64_t now_ms, char *buf, size_t len);

struct decide_context {
	const struct policy *policy;
	int64_t now_ms;
	/* Room ids that exact protect.aliases resolved to this run, sorted by strcmp. */
	char *const *protected_ids;
	size_t n_protected_ids;
	/* When set, the one rule evaluated instead of the policy's list (the
	 * re-verification of an --apply row, which names its rule). */
	const struct rule *only_rule;
	/* --explain: filled by decide_room when set (freed and refilled by
	 * each call). NULL in a run. */
	struct decide_trace *trace;
};

void decide_room(const struct decide_context *ctx, const struct room_facts *f, struct verdict *out);

/* The protections alone: true, with out a PROTECTED verdict and its reason,
 * when one covers the room. */
bool decide_protected(const struct decide_context *ctx, const struct room_facts *f,
		      struct verdict *out);

/* Whole days between t and now (floor), for records; -1 when unknown. */
int64_t decide_inactive_days(const struct room_facts *f, int64_t now_ms);

#endif
