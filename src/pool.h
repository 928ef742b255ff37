/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_POOL_H
#define SJ_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "act.h"

/* The delete candidates of a scheduled run, held in memory that does not
 * grow with their number: a run deletes at most delete.max_per_run rooms,
 * so it keeps the best of them (longest inactive first, act_compare) and
 * the rooms the state file knows a delete of; every other candidate is
 * held back now (the size guard and the grace period: deferred;
 * beyond the best: capped) and
 * written to a temporary file with that outcome, to be reported after the
 * plan, as refused instead if the plan refuses the whole run. */

struct pool {
	const struct act_context *ctx;  /* policy, state */
	struct candidate *kept;         /* [0, n_best): the best, a max-heap by act_compare; */
	size_t n_best;                  /* [n_best, n_kept): rooms the state file knows */
	size_t n_kept, cap_kept;
	FILE *spill;                    /* the others, NULL until the first */
	uint64_t n_spilled;
	uint64_t total;                 /* every candidate offered */
};

void pool_init(struct pool *p, const struct act_context *ctx);
/* Takes c (its contents are moved: c is left cleared). now_ms: the grace
 * period's clock. Returns 0, or a negative errno when the temporary file
 * fails (the run must fail: the candidate could not be reported). */
int pool_offer(struct pool *p, struct candidate *c, int64_t now_ms);
/* The candidates held in memory, for act_run (still owned by the pool). */
struct candidate *pool_kept(struct pool *p, size_t *n);
/* Reports every candidate held back, with its outcome, or refused with
 * refusal when not NULL. 0 or a negative errno. */
int pool_report(struct pool *p, const char *refusal, void (*emit)(void *ud, struct candidate *c),
		void *ud);
void pool_free(struct pool *p);

#endif
