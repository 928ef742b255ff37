/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdarg.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "duration.h"
#include "buf.h"
#include "macro.h"

#define MS_PER_DAY (86400 * 1000LL)

/* The result of one condition of a rule. */
enum cond { COND_YES, COND_NO, COND_UNKNOWN, COND_NEED };

struct rule_eval {
	bool failed;           /* some condition is certainly false */
	bool doubtful;         /* some condition could not be evaluated */
	unsigned need;         /* costly facts still to fetch */
	char doubt[200];       /* the first condition that could not be evaluated */
	struct buf why;        /* the conditions that held, for the reason */
};

static void set_reason(struct verdict *v, const char *fmt, ...) SJ_PRINTF(2, 3);
static void set_reason(struct verdict *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

/* fnmatch() glob match of a possibly-NULL string (NULL never matches). */
static bool glob_match(const char *pattern, const char *s)
{
	return pattern && s && fnmatch(pattern, s, 0) == 0;
}

static int compare_ids(const void *key, const void *elem)
{
	return strcmp(key, *(char *const *)elem);
}

static const char *first_glob_match(const struct string_list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (glob_match(l->items[i], s))
			return l->items[i];
	return NULL;
}

static bool in_list(const struct string_list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

/* Protections use list-row facts only, so a protected room costs no lookup
 * (DESIGN.md §5), and no rule can override them (§6.3). */
bool decide_protected(const struct decide_context *ctx, const struct room_facts *f, struct verdict *v)
{
	const struct policy *p = ctx->policy;
	const char *pat;

	memset(v, 0, sizeof(*v));
	if (in_list(&p->protect.rooms, f->room_id)) {
		set_reason(v, "room id is listed in protect.rooms");
	} else if (ctx->n_protected_ids &&
		   bsearch(f->room_id, ctx->protected_ids, ctx->n_protected_ids,
			   sizeof(char *), compare_ids)) {
		set_reason(v, "an alias in protect.aliases resolves to this room");
	} else if ((pat = first_glob_match(&p->protect.aliases, f->canonical_alias))) {
		set_reason(v, "alias %s matches protect.aliases \"%s\"", f->canonical_alias, pat);
	} else if ((pat = first_glob_match(&p->protect.names, f->name))) {
		set_reason(v, "name matches protect.names \"%s\"", pat);
	} else if ((pat = first_glob_match(&p->protect.creators, f->creator))) {
		set_reason(v, "creator %s matches protect.creators \"%s\"", f->creator, pat);
	} else if (p->protect.is_public && f->is_public == TRI_TRUE) {
		set_reason(v, "listed in the public room directory (protect.public)");
	} else if (p->protect.spaces && f->room_type && strcmp(f->room_type, "m.space") == 0) {
		set_reason(v, "room is a space (protect.spaces)");
	} else {
		return false;
	}
	v->kind = VERDICT_PROTECTED;
	return true;
}

static void note_doubt(struct rule_eval *e, const char *fmt, ...) SJ_PRINTF(2, 3);
static void note_doubt(struct rule_eval *e, const char *fmt, ...)
{
	va_list ap;

	if (e->doubt[0])
		return;
	va_start(ap, fmt);
	vsnprintf(e->doubt, sizeof(e->doubt), fmt, ap);
	va_end(ap);
}

static void add_why(struct rule_eval *e, const char *fmt, ...) SJ_PRINTF(2, 3);
static void add_why(struct rule_eval *e, const char *fmt, ...)
{
	va_list ap;
	char part[160];

	va_start(ap, fmt);
	vsnprintf(part, sizeof(part), fmt, ap);
	va_end(ap);
	if (e->why.len)
		buf_puts(&e->why, ", ");
	buf_puts(&e->why, part);
}

static void eval_count(struct rule_eval *e, const char *what, const struct count_range *r,
		       int64_t value)
{
	if (!r->set)
		return;
	if (value < 0) {
		/* Unknown never satisfies a condition. */
		note_doubt(e, "%s unknown", what);
		e->doubtful = true;
		return;
	}
	if (value < r->min || value > r->max) {
		e->failed = true;
		return;
	}
	add_why(e, "%lld %s", (long long)value, what);
}

static void eval_tri(struct rule_eval *e, const char *what, enum tri want, bool have)
{
	if (want == TRI_UNKNOWN)
		return;
	if (have != (want == TRI_TRUE)) {
		e->failed = true;
		return;
	}
	add_why(e, "%s%s", have ? "" : "not ", what);
}

static void eval_glob(struct rule_eval *e, const char *what, const char *pattern, const char *s)
{
	if (!pattern)
		return;
	if (!glob_match(pattern, s)) {
		e->failed = true;
		return;
	}
	add_why(e, "%s matches \"%s\"", what, pattern);
}

/* An age condition on a costly fact: "at least min_age seconds ago". A time
 * beyond the clock-skew allowance in the future is doubt (DESIGN.md §6.2). */
static enum cond eval_age(struct rule_eval *e, const char *what, const struct fact_time *t,
			  uint64_t min_age, int64_t now_ms, unsigned need_bit)
{
	int64_t age_ms;
	char d[32];

	switch (t->state) {
	case FACT_UNFETCHED:
		e->need |= need_bit;
		return COND_NEED;
	case FACT_UNKNOWN:
		note_doubt(e, "%s unknown: %s", what, t->problem && t->problem[0] ? t->problem : "no data");
		return COND_UNKNOWN;
	case FACT_KNOWN:
		break;
	}
	if (t->ms > now_ms + CLOCK_SKEW_MS) {
		note_doubt(e, "%s is in the future (%lld s ahead)", what,
			   (long long)((t->ms - now_ms) / 1000));
		return COND_UNKNOWN;
	}
	age_ms = t->ms > now_ms ? 0 : now_ms - t->ms;
	if ((uint64_t)age_ms / 1000 < min_age)
		return COND_NO;
	duration_format(min_age, d, sizeof(d));
	if (need_bit == NEED_LAST_ACTIVITY)
		add_why(e, "inactive for %lld days (>= %s)", (long long)(age_ms / MS_PER_DAY), d);
	else
		add_why(e, "%s %lld days ago (>= %s)", what, (long long)(age_ms / MS_PER_DAY), d);
	return COND_YES;
}

static void eval_cheap(struct rule_eval *e, const struct rule *r, const struct room_facts *f)
{
	eval_count(e, "local members", &r->joined_local_members, f->joined_local_members);
	eval_count(e, "members", &r->joined_members, f->joined_members);
	eval_tri(e, "public", r->is_public, f->is_public == TRI_TRUE);
	eval_tri(e, "encrypted", r->is_encrypted, f->encryption != NULL);
	eval_glob(e, "name", r->name_glob, f->name);
	eval_glob(e, "alias", r->alias_glob, f->canonical_alias);
	eval_glob(e, "creator", r->creator_glob, f->creator);
}

/* Returns true when the rule decides the room (match, or facts needed). */
static bool eval_rule(const struct rule *r, const struct room_facts *f, int64_t now_ms,
		      struct verdict *v, char *doubt, size_t doubtlen)
{
	struct rule_eval e = { 0 };
	enum cond a = COND_YES, c = COND_YES;
	bool decided = false;

	eval_cheap(&e, r, f);
	if (e.failed)
		goto out;
	if (r->has_inactive_for)
		a = eval_age(&e, "last activity", &f->last_activity, r->inactive_for, now_ms,
			     NEED_LAST_ACTIVITY);
	if (r->has_older_than)
		c = eval_age(&e, "created", &f->created, r->older_than, now_ms, NEED_CREATED);
	if (a == COND_NO || c == COND_NO)
		goto out; /* certainly no match: no doubt either */
	if (e.doubtful || a == COND_UNKNOWN || c == COND_UNKNOWN) {
		/* The rule cannot match: fetching its other facts would be waste. */
		if (!doubt[0])
			snprintf(doubt, doubtlen, "rule %s: %s", r->name, e.doubt);
	} else if (e.need) {
		v->kind = VERDICT_NEED_FACTS;
		v->need = e.need;
		v->rule = r;
		set_reason(v, "rule %s needs more facts", r->name);
		decided = true;
	} else {
		v->kind = r->action == RULE_ACTION_DELETE ? VERDICT_DELETE : VERDICT_RECORD;
		v->rule = r;
		set_reason(v, "rule %s: %s", r->name, e.why.len ? e.why.data : "all conditions hold");
		decided = true;
	}
out:
	buf_free(&e.why);
	return decided;
}

/* Name and alias protections are blind to a room the list shows without
 * them (every local member left: API.md); a room about to be deleted is
 * checked against the state before the last leave instead. */
static bool needs_prior_state(const struct policy *p, const struct room_facts *f)
{
	return (!f->name && p->protect.names.n > 0) || (!f->canonical_alias && p->protect.aliases.n > 0);
}

static bool prior_protected(const struct policy *p, const struct prior_state *prior, struct verdict *v)
{
	const char *pat;

	if ((pat = first_glob_match(&p->protect.names, prior->name))) {
		set_reason(v, "name before the last local member left matches protect.names \"%s\"", pat);
		v->kind = VERDICT_PROTECTED;
		return true;
	}
	for (size_t i = 0; i < prior->n_aliases; i++)
		if ((pat = first_glob_match(&p->protect.aliases, prior->aliases[i]))) {
			set_reason(v, "alias %s before the last local member left matches protect.aliases \"%s\"",
				   prior->aliases[i], pat);
			v->kind = VERDICT_PROTECTED;
			return true;
		}
	return false;
}

/* A delete verdict stands only once the protections hold for the state
 * before the last leave too: unknown state is doubt (DESIGN.md §6.13). */
static void check_prior_state(const struct decide_context *ctx, const struct room_facts *f,
			      struct verdict *v)
{
	const struct rule *rule = v->rule;
	char why[sizeof(v->reason)];

	/* --apply deletes a record rule's rows too (only_rule): they are
	 * checked the same way. */
	if (!(v->kind == VERDICT_DELETE || (ctx->only_rule && v->kind == VERDICT_RECORD)) ||
	    !needs_prior_state(ctx->policy, f))
		return;
	switch (f->prior.state) {
	case FACT_UNFETCHED:
		v->kind = VERDICT_NEED_FACTS;
		v->need = NEED_PRIOR_STATE;
		set_reason(v, "rule %s needs the state before the last leave", rule->name);
		return;
	case FACT_UNKNOWN:
		snprintf(why, sizeof(why), "%s", f->prior.problem ? f->prior.problem : "no data");
		memset(v, 0, sizeof(*v));
		v->kind = VERDICT_KEEP_UNKNOWN;
		set_reason(v, "rule %s matches, but the name and alias protections cannot be checked: %s",
			   rule->name, why);
		return;
	case FACT_KNOWN:
		if (prior_protected(ctx->policy, &f->prior, v))
			v->rule = NULL;
		return;
	}
}

void decide_room(const struct decide_context *ctx, const struct room_facts *f, struct verdict *v)
{
	char doubt[sizeof(v->reason)] = "";

	memset(v, 0, sizeof(*v));
	if (f->row_problem) {
		v->kind = VERDICT_KEEP_UNKNOWN;
		set_reason(v, "room list row unusable: %s", f->row_problem);
		return;
	}
	if (decide_protected(ctx, f, v))
		return;
	if (ctx->only_rule) {
		if (eval_rule(ctx->only_rule, f, ctx->now_ms, v, doubt, sizeof(doubt))) {
			check_prior_state(ctx, f, v);
			return;
		}
	} else {
		for (size_t i = 0; i < ctx->policy->n_rules; i++)
			if (eval_rule(&ctx->policy->rules[i], f, ctx->now_ms, v, doubt, sizeof(doubt))) {
				check_prior_state(ctx, f, v);
				return;
			}
	}
	if (doubt[0]) {
		v->kind = VERDICT_KEEP_UNKNOWN;
		set_reason(v, "%s", doubt);
	} else {
		v->kind = VERDICT_KEEP;
		set_reason(v, "no rule matches");
	}
}

int64_t decide_inactive_days(const struct room_facts *f, int64_t now_ms)
{
	if (f->last_activity.state != FACT_KNOWN || f->last_activity.ms > now_ms + CLOCK_SKEW_MS)
		return -1;
	if (f->last_activity.ms >= now_ms)
		return 0;
	return (now_ms - f->last_activity.ms) / MS_PER_DAY;
}
