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

struct decide_context {
	const struct policy *policy;
	int64_t now_ms;
	/* Room ids that exact protect.aliases resolved to this run, sorted by strcmp. */
	char *const *protected_ids;
	size_t n_protected_ids;
	/* When set, the one rule evaluated instead of the policy's list (the
	 * re-verification of an --apply row, which names its rule). */
	const struct rule *only_rule;
};

void decide_room(const struct decide_context *ctx, const struct room_facts *f, struct verdict *out);

/* The protections alone: true, with out a PROTECTED verdict and its reason,
 * when one covers the room. */
bool decide_protected(const struct decide_context *ctx, const struct room_facts *f,
		      struct verdict *out);

/* Whole days between t and now (floor), for records; -1 when unknown. */
int64_t decide_inactive_days(const struct room_facts *f, int64_t now_ms);

#endif
