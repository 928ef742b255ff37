/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The delete candidates a scheduled run holds (pool.h): memory bounded by
 * delete.max_per_run and the state file, not by the number of candidates. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "state.h"
#include "xmalloc.h"

void pool_init(struct pool *p, const struct act_context *ctx)
{
	memset(p, 0, sizeof(*p));
	p->ctx = ctx;
}

/* kept[0..n_best) is a heap with the worst (latest in act_compare's order)
 * on top, so a better candidate replaces it in O(log n). */
static bool worse(const struct candidate *a, const struct candidate *b)
{
	return act_compare(a, b) > 0;
}

static void swap(struct candidate *a, struct candidate *b)
{
	struct candidate t = *a;

	*a = *b;
	*b = t;
}

static void sift_up(struct candidate *h, size_t i)
{
	while (i > 0 && worse(&h[i], &h[(i - 1) / 2])) {
		swap(&h[i], &h[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
}

static void sift_down(struct candidate *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, top = i;

		if (l < n && worse(&h[l], &h[top]))
			top = l;
		if (r < n && worse(&h[r], &h[top]))
			top = r;
		if (top == i)
			return;
		swap(&h[i], &h[top]);
		i = top;
	}
}

/* Appends to kept; the best live at the front, the known rooms after them:
 * a new best moves the first known room to the end. */
static struct candidate *kept_slot(struct pool *p, bool best)
{
	if (p->n_kept == p->cap_kept) {
		p->cap_kept = p->cap_kept ? 2 * p->cap_kept : 16;
		p->kept = xreallocarray(p->kept, p->cap_kept, sizeof(*p->kept));
	}
	if (!best)
		return &p->kept[p->n_kept++];
	if (p->n_kept > p->n_best)
		p->kept[p->n_kept] = p->kept[p->n_best];
	p->n_kept++;
	return &p->kept[p->n_best++];
}

static int put(FILE *f, int64_t v)
{
	return fwrite(&v, sizeof(v), 1, f) == 1 ? 0 : -EIO;
}

static int get(FILE *f, int64_t *v)
{
	return fread(v, sizeof(*v), 1, f) == 1 ? 0 : -EIO;
}

/* Held back now, reported after the plan: written away, cleared here. */
static int spill(struct pool *p, struct candidate *c)
{
	const struct rule *rules = p->ctx->policy->rules;
	size_t reason_len = c->reason ? strlen(c->reason) : 0;
	int r;

	if (!p->spill && !(p->spill = tmpfile())) {
		r = -errno;
		goto out;
	}
	r = room_facts_write(p->spill, &c->facts);
	if (r == 0)
		r = put(p->spill, c->rule ? c->rule - rules : -1);
	if (r == 0)
		r = put(p->spill, c->outcome);
	if (r == 0)
		r = put(p->spill, (int64_t)reason_len);
	if (r == 0 && reason_len && fwrite(c->reason, 1, reason_len, p->spill) != reason_len)
		r = -EIO;
	if (r == 0)
		p->n_spilled++;
out:
	candidate_clear(c);
	return r;
}

int pool_offer(struct pool *p, struct candidate *c, int64_t now_ms)
{
	const struct act_context *ctx = p->ctx;
	unsigned max = ctx->policy->delete.max_per_run;
	struct state *st = ctx->state;

	p->total++;
	if (st)
		state_candidate_seen(st, c->facts.room_id, now_ms);
	if (st && state_delete_find(st, c->facts.room_id)) {
		/* a delete of an earlier run: settled by the plan */
		*kept_slot(p, false) = *c;
		memset(c, 0, sizeof(*c));
		return 0;
	}
	/* the size guard, the grace period */
	if (st && act_plan_hold(ctx, c, now_ms))
		return spill(p, c);
	if (p->n_best < max) {
		*kept_slot(p, true) = *c;
		memset(c, 0, sizeof(*c));
		sift_up(p->kept, p->n_best - 1);
		return 0;
	}
	if (max > 0 && worse(&p->kept[0], c)) {
		swap(&p->kept[0], c);
		sift_down(p->kept, p->n_best, 0);
	}
	act_set_capped(ctx, c);
	return spill(p, c);
}

struct candidate *pool_kept(struct pool *p, size_t *n)
{
	*n = p->n_kept;
	return p->kept;
}

static int read_one(struct pool *p, struct candidate *c)
{
	const struct policy *pol = p->ctx->policy;
	int64_t rule, outcome, reason_len;
	int r;

	memset(c, 0, sizeof(*c));
	r = room_facts_read(p->spill, &c->facts);
	if (r == 0)
		r = get(p->spill, &rule);
	if (r == 0)
		r = get(p->spill, &outcome);
	if (r == 0)
		r = get(p->spill, &reason_len);
	if (r < 0 || reason_len < 0 || reason_len > REASON_MAX || rule >= (int64_t)pol->n_rules)
		return r < 0 ? r : -EBADMSG;
	c->rule = rule >= 0 ? &pol->rules[rule] : NULL;
	c->outcome = (enum outcome)outcome;
	c->reason = xmalloc((size_t)reason_len + 1);
	c->reason[reason_len] = '\0';
	return reason_len && fread(c->reason, 1, (size_t)reason_len, p->spill) != (size_t)reason_len ? -EIO : 0;
}

int pool_report(struct pool *p, const char *refusal, void (*emit)(void *ud, struct candidate *c),
		void *ud)
{
	int r = 0;

	if (!p->spill)
		return 0;
	if (fflush(p->spill) != 0 || fseek(p->spill, 0, SEEK_SET) != 0)
		return -errno;
	for (uint64_t i = 0; i < p->n_spilled && r == 0; i++) {
		struct candidate c;

		r = read_one(p, &c);
		if (r == 0) {
			if (refusal)
				candidate_set_outcome(&c, OUTCOME_REFUSED, "%s", refusal);
			emit(ud, &c);
		}
		candidate_clear(&c);
	}
	return r;
}

void pool_free(struct pool *p)
{
	for (size_t i = 0; i < p->n_kept; i++)
		candidate_clear(&p->kept[i]);
	free(p->kept);
	if (p->spill)
		fclose(p->spill);
	memset(p, 0, sizeof(*p));
}
