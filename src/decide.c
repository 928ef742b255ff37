/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdarg.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "clock.h"
#include "duration.h"
#include "buf.h"
#include "macro.h"
#include "xmalloc.h"

#define MS_PER_DAY (86400 * 1000LL)

/* The result of one condition of a rule. */
enum cond { COND_YES, COND_NO, COND_UNKNOWN, COND_NEED };

struct rule_eval {
	bool failed;           /* some condition is certainly false */
	bool doubtful;         /* some condition could not be evaluated */
	unsigned need;         /* costly facts still to fetch */
	char doubt[200];       /* the first condition that could not be evaluated */
	struct buf why;        /* the conditions that held, for the reason */
	struct trace_rule *tr; /* --explain: each condition as evaluated, or NULL */
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

/* ---- the trace (--explain) ------------------------------------------- */

static void trace_item_fill(struct trace_item *it, const char *key, enum trace_result r,
			    const char *want, const char *value)
{
	snprintf(it->key, sizeof(it->key), "%s", key);
	snprintf(it->want, sizeof(it->want), "%s", want ? want : "");
	snprintf(it->value, sizeof(it->value), "%s", value ? value : "");
	it->result = r;
}

static struct trace_item *trace_push(struct trace_item **items, size_t *n)
{
	*items = xreallocarray(*items, *n + 1, sizeof(**items));
	memset(&(*items)[*n], 0, sizeof(**items));
	return &(*items)[(*n)++];
}

void decide_trace_free(struct decide_trace *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_rules; i++)
		free(t->rules[i].items);
	free(t->rules);
	free(t->protections);
	free(t->prior);
	memset(t, 0, sizeof(*t));
}

static const char *str_or_null(const char *s)
{
	return s ? s : "null";
}

/* A list of the policy, for the "want" column: "a, b, c" (cut when long). */
static void list_text(const struct string_list *l, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	if (l->n == 0)
		snprintf(buf, len, "(none)");
	for (size_t i = 0; i < l->n && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", l->items[i]);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static void range_text(const struct count_range *r, char *buf, size_t len)
{
	if (r->max == INT64_MAX)
		snprintf(buf, len, "min %lld", (long long)r->min);
	else if (r->min == 0)
		snprintf(buf, len, "max %lld", (long long)r->max);
	else
		snprintf(buf, len, "min %lld, max %lld", (long long)r->min, (long long)r->max);
}

/* ---- protections ------------------------------------------------------ */

enum protection {
	PROT_ROOMS,
	PROT_RESOLVED,
	PROT_ALIASES,
	PROT_NAMES,
	PROT_CREATORS,
	PROT_PUBLIC,
	PROT_SPACES,
	PROT__MAX,
};

/* One protection: true, with why set to the verdict's reason, when it
 * covers the room. */
static bool protection_holds(enum protection which, const struct decide_context *ctx,
			     const struct room_facts *f, char *why, size_t len)
{
	const struct policy *p = ctx->policy;
	const char *pat = NULL;

	switch (which) {
	case PROT_ROOMS:
		if (!in_list(&p->protect.rooms, f->room_id))
			return false;
		snprintf(why, len, "room id is listed in protect.rooms");
		return true;
	case PROT_RESOLVED:
		if (!ctx->n_protected_ids ||
		    !bsearch(f->room_id, ctx->protected_ids, ctx->n_protected_ids, sizeof(char *), compare_ids))
			return false;
		snprintf(why, len, "an alias in protect.aliases resolves to this room");
		return true;
	case PROT_ALIASES:
		if (!(pat = first_glob_match(&p->protect.aliases, f->canonical_alias)))
			return false;
		snprintf(why, len, "alias %s matches protect.aliases \"%s\"", f->canonical_alias, pat);
		return true;
	case PROT_NAMES:
		if (!(pat = first_glob_match(&p->protect.names, f->name)))
			return false;
		snprintf(why, len, "name matches protect.names \"%s\"", pat);
		return true;
	case PROT_CREATORS:
		if (!(pat = first_glob_match(&p->protect.creators, f->creator)))
			return false;
		snprintf(why, len, "creator %s matches protect.creators \"%s\"", f->creator, pat);
		return true;
	case PROT_PUBLIC:
		if (!p->protect.is_public || f->is_public != TRI_TRUE)
			return false;
		snprintf(why, len, "listed in the public room directory (protect.public)");
		return true;
	case PROT_SPACES:
		if (!p->protect.spaces || !f->room_type || strcmp(f->room_type, "m.space") != 0)
			return false;
		snprintf(why, len, "room is a space (protect.spaces)");
		return true;
	case PROT__MAX:
		break;
	}
	return false;
}

/* What --explain shows of one protection: what it covers and the fact it
 * was checked against. */
static void trace_protection(struct decide_trace *t, enum protection which, const struct decide_context *ctx,
			     const struct room_facts *f, bool holds)
{
	static const char *const keys[PROT__MAX] = {
		[PROT_ROOMS] = "protect.rooms",
		[PROT_RESOLVED] = "protect.aliases (resolved)",
		[PROT_ALIASES] = "protect.aliases",
		[PROT_NAMES] = "protect.names",
		[PROT_CREATORS] = "protect.creators",
		[PROT_PUBLIC] = "protect.public",
		[PROT_SPACES] = "protect.spaces",
	};
	const struct policy *p = ctx->policy;
	char want[160], value[240];

	switch (which) {
	case PROT_ROOMS:
		list_text(&p->protect.rooms, want, sizeof(want));
		snprintf(value, sizeof(value), "room id %s", f->room_id);
		break;
	case PROT_RESOLVED:
		snprintf(want, sizeof(want), "the room ids its exact aliases resolve to (%zu)",
			 ctx->n_protected_ids);
		snprintf(value, sizeof(value), "room id %s", f->room_id);
		break;
	case PROT_ALIASES:
		list_text(&p->protect.aliases, want, sizeof(want));
		snprintf(value, sizeof(value), "canonical alias %s", str_or_null(f->canonical_alias));
		break;
	case PROT_NAMES:
		list_text(&p->protect.names, want, sizeof(want));
		snprintf(value, sizeof(value), "name %s", str_or_null(f->name));
		break;
	case PROT_CREATORS:
		list_text(&p->protect.creators, want, sizeof(want));
		snprintf(value, sizeof(value), "creator %s", str_or_null(f->creator));
		break;
	case PROT_PUBLIC:
		snprintf(want, sizeof(want), "%s", p->protect.is_public ? "rooms in the public directory" : "off");
		snprintf(value, sizeof(value), "public %s", tri_name(f->is_public));
		break;
	case PROT_SPACES:
		snprintf(want, sizeof(want), "%s", p->protect.spaces ? "rooms of type m.space" : "off");
		snprintf(value, sizeof(value), "room_type %s", str_or_null(f->room_type));
		break;
	case PROT__MAX:
		return;
	}
	trace_item_fill(trace_push(&t->protections, &t->n_protections), keys[which],
			holds ? TRACE_HOLDS : TRACE_FAILS, want, value);
}

/* Protections use list-row facts only, so a protected room costs no lookup
 * (DESIGN.md §5), and no rule can override them (§6.3). The first that
 * holds gives the reason; --explain looks at every one. */
bool decide_protected(const struct decide_context *ctx, const struct room_facts *f, struct verdict *v)
{
	bool found = false;

	memset(v, 0, sizeof(*v));
	for (int i = 0; i < PROT__MAX; i++) {
		char why[sizeof(v->reason)];
		bool holds = protection_holds((enum protection)i, ctx, f, why, sizeof(why));

		if (ctx->trace)
			trace_protection(ctx->trace, (enum protection)i, ctx, f, holds);
		if (holds && !found) {
			found = true;
			v->kind = VERDICT_PROTECTED;
			set_reason(v, "%s", why);
		}
		if (found && !ctx->trace)
			break;
	}
	return found;
}

/* ---- rules -------------------------------------------------------------- */

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

/* Records one condition for --explain (nothing when not tracing). */
static void trace_cond(struct rule_eval *e, const char *key, enum cond c, const char *want,
		       const char *value)
{
	static const enum trace_result results[] = {
		[COND_YES] = TRACE_HOLDS, [COND_NO] = TRACE_FAILS,
		[COND_UNKNOWN] = TRACE_UNKNOWN, [COND_NEED] = TRACE_NEEDED,
	};

	if (e->tr)
		trace_item_fill(trace_push(&e->tr->items, &e->tr->n_items), key, results[c], want, value);
}

/* The condition could not be evaluated: doubt, never a match. */
static enum cond doubt_on(struct rule_eval *e, const char *what)
{
	note_doubt(e, "%s unknown", what);
	e->doubtful = true;
	return COND_UNKNOWN;
}

static void eval_count(struct rule_eval *e, const char *key, const char *what,
		       const struct count_range *r, int64_t value)
{
	char want[64], have[32];
	enum cond c;

	if (!r->set)
		return;
	if (value < 0) {
		/* Unknown never satisfies a condition. */
		c = doubt_on(e, what);
	} else if (value < r->min || value > r->max) {
		e->failed = true;
		c = COND_NO;
	} else {
		add_why(e, "%lld %s", (long long)value, what);
		c = COND_YES;
	}
	if (e->tr) {
		range_text(r, want, sizeof(want));
		if (value < 0)
			snprintf(have, sizeof(have), "unknown");
		else
			snprintf(have, sizeof(have), "%lld", (long long)value);
		trace_cond(e, key, c, want, have);
	}
}

/* A yes/no condition on a fact the list row always gives (a missing one is
 * a row problem, decided before any rule). */
static void eval_tri(struct rule_eval *e, const char *key, const char *what, enum tri want, bool have)
{
	enum cond c = COND_YES;

	if (want == TRI_UNKNOWN)
		return;
	if (have != (want == TRI_TRUE)) {
		e->failed = true;
		c = COND_NO;
	} else {
		add_why(e, "%s%s", have ? "" : "not ", what);
	}
	trace_cond(e, key, c, tri_name(want), have ? "true" : "false");
}

/* A yes/no condition on a fact the row may lack: unknown is doubt. */
static void eval_tri_fact(struct rule_eval *e, const char *key, enum tri want, enum tri have)
{
	enum cond c = COND_YES;

	if (want == TRI_UNKNOWN)
		return;
	if (have == TRI_UNKNOWN)
		c = doubt_on(e, key);
	else if (have != want) {
		e->failed = true;
		c = COND_NO;
	} else {
		add_why(e, "%s%s", have == TRI_TRUE ? "" : "not ", key);
	}
	trace_cond(e, key, c, tri_name(want), tri_name(have));
}

/* A glob on a string fact. null: no_value_is_doubt says whether null is a
 * fact of its own (a room without a name: the condition fails) or stands
 * for "not known" (doubt). */
static void eval_glob(struct rule_eval *e, const char *key, const char *what, const char *pattern,
		      const char *s, bool null_is_doubt)
{
	enum cond c = COND_YES;

	if (!pattern)
		return;
	if (!s && null_is_doubt) {
		c = doubt_on(e, what);
	} else if (!glob_match(pattern, s)) {
		e->failed = true;
		c = COND_NO;
	} else {
		add_why(e, "%s matches \"%s\"", what, pattern);
	}
	trace_cond(e, key, c, pattern, str_or_null(s));
}

/* join_rule: the room's join rule is one of those listed. null (once every
 * local member left, the list no longer says it) is doubt. */
static void eval_join_rule(struct rule_eval *e, const struct rule *r, const struct room_facts *f)
{
	char want[160] = "";
	enum cond c = COND_YES;

	if (!r->join_rules)
		return;
	if (!f->join_rule) {
		c = doubt_on(e, "join_rule");
	} else if (!(policy_join_rule_bit(f->join_rule) & r->join_rules)) {
		e->failed = true;
		c = COND_NO;
	} else {
		add_why(e, "join rule %s", f->join_rule);
	}
	if (e->tr) {
		for (unsigned i = 0, n = 0; i < JOIN_RULE__MAX; i++)
			if (r->join_rules & JOIN_RULE_BIT(i))
				snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s", n++ ? " or " : "",
					 policy_join_rule_name((enum join_rule)i));
		trace_cond(e, "join_rule", c, want, f->join_rule ? f->join_rule : "null (unknown)");
	}
}

/* room_type: a glob, or null for an ordinary room. A row without the field
 * (an old server) is doubt. */
static void eval_room_type(struct rule_eval *e, const struct rule *r, const struct room_facts *f)
{
	enum cond c = COND_YES;

	if (!r->has_room_type)
		return;
	if (!f->room_type_known) {
		c = doubt_on(e, "room_type");
	} else if (!r->room_type_glob ? f->room_type != NULL : !glob_match(r->room_type_glob, f->room_type)) {
		e->failed = true;
		c = COND_NO;
	} else {
		add_why(e, "room type %s", str_or_null(f->room_type));
	}
	trace_cond(e, "room_type", c, r->room_type_glob ? r->room_type_glob : "null (an ordinary room)",
		   f->room_type_known ? str_or_null(f->room_type) : "unknown (not in the room list)");
}

void decide_time_text(const struct fact_time *t, int64_t now_ms, char *buf, size_t len)
{
	char when[32];

	switch (t->state) {
	case FACT_UNFETCHED:
		snprintf(buf, len, "not fetched");
		return;
	case FACT_UNKNOWN:
		snprintf(buf, len, "unknown: %s", t->problem && t->problem[0] ? t->problem : "no data");
		return;
	case FACT_KNOWN:
		break;
	}
	clock_format_rfc3339(t->ms, when, sizeof(when));
	if (t->ms > now_ms + CLOCK_SKEW_MS)
		snprintf(buf, len, "%s, in the future (%lld s ahead)", when, (long long)((t->ms - now_ms) / 1000));
	else
		snprintf(buf, len, "%lld days ago (%s)",
			 (long long)((t->ms > now_ms ? 0 : now_ms - t->ms) / MS_PER_DAY), when);
}

/* An age condition on a costly fact: "at least min_age seconds ago". A time
 * beyond the clock-skew allowance in the future is doubt (DESIGN.md §6.2). */
static enum cond eval_age_fact(struct rule_eval *e, const char *what, const struct fact_time *t,
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

static enum cond eval_age(struct rule_eval *e, const char *key, const char *what, const struct fact_time *t,
			  uint64_t min_age, int64_t now_ms, unsigned need_bit)
{
	enum cond c = eval_age_fact(e, what, t, min_age, now_ms, need_bit);
	char d[32], want[48], have[240];

	if (e->tr) {
		duration_format(min_age, d, sizeof(d));
		snprintf(want, sizeof(want), "at least %s ago", d);
		decide_time_text(t, now_ms, have, sizeof(have));
		trace_cond(e, key, c, want, have);
	}
	return c;
}

static void eval_cheap(struct rule_eval *e, const struct rule *r, const struct room_facts *f)
{
	eval_count(e, "joined_local_members", "local members", &r->joined_local_members, f->joined_local_members);
	eval_count(e, "joined_members", "members", &r->joined_members, f->joined_members);
	eval_tri(e, "public", "public", r->is_public, f->is_public == TRI_TRUE);
	eval_tri(e, "encrypted", "encrypted", r->is_encrypted, f->encryption != NULL);
	eval_glob(e, "name", "name", r->name_glob, f->name, false);
	eval_glob(e, "alias", "alias", r->alias_glob, f->canonical_alias, false);
	eval_glob(e, "creator", "creator", r->creator_glob, f->creator, false);
	eval_join_rule(e, r, f);
	eval_room_type(e, r, f);
	eval_count(e, "state_events", "state events", &r->state_events, f->state_events);
	eval_glob(e, "room_version", "room version", r->version_glob, f->room_version, true);
	eval_tri_fact(e, "federatable", r->is_federatable, f->is_federatable);
}

/* Returns true when the rule decides the room (match, or facts needed).
 * With tr (--explain) every condition is evaluated and recorded, also
 * those a run skips once a cheap one failed; the verdict is the same. */
static bool eval_rule(const struct rule *r, const struct room_facts *f, int64_t now_ms,
		      struct verdict *v, char *doubt, size_t doubtlen, struct trace_rule *tr)
{
	struct rule_eval e = { .tr = tr };
	enum cond a = COND_YES, c = COND_YES;
	bool decided = false;

	eval_cheap(&e, r, f);
	if (e.failed && !tr)
		goto out;
	if (r->has_inactive_for)
		a = eval_age(&e, "inactive_for", "last activity", &f->last_activity, r->inactive_for, now_ms,
			     NEED_LAST_ACTIVITY);
	if (r->has_older_than)
		c = eval_age(&e, "older_than", "created", &f->created, r->older_than, now_ms, NEED_CREATED);
	if (e.failed || a == COND_NO || c == COND_NO) {
		/* certainly no match: no doubt either */
		if (tr)
			tr->result = TRACE_FAILS;
		goto out;
	}
	if (e.doubtful || a == COND_UNKNOWN || c == COND_UNKNOWN) {
		/* The rule cannot match: fetching its other facts would be waste. */
		if (!doubt[0])
			snprintf(doubt, doubtlen, "rule %s: %s", r->name, e.doubt);
		if (tr)
			tr->result = TRACE_UNKNOWN;
	} else if (e.need) {
		v->kind = VERDICT_NEED_FACTS;
		v->need = e.need;
		v->rule = r;
		set_reason(v, "rule %s needs more facts", r->name);
		decided = true;
		if (tr)
			tr->result = TRACE_NEEDED;
	} else {
		v->kind = r->action == RULE_ACTION_DELETE ? VERDICT_DELETE : VERDICT_RECORD;
		v->rule = r;
		set_reason(v, "rule %s: %s", r->name, e.why.len ? e.why.data : "all conditions hold");
		decided = true;
		if (tr)
			tr->result = TRACE_HOLDS;
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

static void trace_prior(const struct decide_context *ctx, const char *key, enum trace_result r,
			const char *want, const char *value)
{
	struct decide_trace *t = ctx->trace;

	if (t)
		trace_item_fill(trace_push(&t->prior, &t->n_prior), key, r, want, value);
}

/* Both protections are looked at when tracing; the first that holds gives
 * the reason. */
static bool prior_protected(const struct decide_context *ctx, const struct prior_state *prior, struct verdict *v)
{
	const struct policy *p = ctx->policy;
	const char *pat, *hit = NULL;
	char want[160], value[240];
	bool found = false;

	if ((pat = first_glob_match(&p->protect.names, prior->name))) {
		set_reason(v, "name before the last local member left matches protect.names \"%s\"", pat);
		v->kind = VERDICT_PROTECTED;
		found = true;
	}
	if (ctx->trace) {
		list_text(&p->protect.names, want, sizeof(want));
		snprintf(value, sizeof(value), "name %s", str_or_null(prior->name));
		trace_prior(ctx, "protect.names", found ? TRACE_HOLDS : TRACE_FAILS, want, value);
	}
	if (found && !ctx->trace)
		return true;
	for (size_t i = 0; i < prior->n_aliases && !hit; i++)
		if ((pat = first_glob_match(&p->protect.aliases, prior->aliases[i]))) {
			hit = prior->aliases[i];
			if (!found)
				set_reason(v, "alias %s before the last local member left matches protect.aliases \"%s\"",
					   prior->aliases[i], pat);
			v->kind = VERDICT_PROTECTED;
		}
	if (ctx->trace) {
		size_t used = 0;

		value[0] = '\0';
		for (size_t i = 0; i < prior->n_aliases && used < sizeof(value); i++) {
			int n = snprintf(value + used, sizeof(value) - used, "%s%s", i ? ", " : "aliases ",
					 prior->aliases[i]);

			if (n > 0)
				used += (size_t)n;
		}
		if (!prior->n_aliases)
			snprintf(value, sizeof(value), "no alias");
		list_text(&p->protect.aliases, want, sizeof(want));
		trace_prior(ctx, "protect.aliases", hit ? TRACE_HOLDS : TRACE_FAILS, want, value);
	}
	return found || hit;
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
	if (ctx->trace)
		ctx->trace->prior_checked = true;
	switch (f->prior.state) {
	case FACT_UNFETCHED:
		v->kind = VERDICT_NEED_FACTS;
		v->need = NEED_PRIOR_STATE;
		set_reason(v, "rule %s needs the state before the last leave", rule->name);
		trace_prior(ctx, "state before the last leave", TRACE_NEEDED, "", "not fetched");
		return;
	case FACT_UNKNOWN:
		snprintf(why, sizeof(why), "%s", f->prior.problem ? f->prior.problem : "no data");
		memset(v, 0, sizeof(*v));
		v->kind = VERDICT_KEEP_UNKNOWN;
		set_reason(v, "rule %s matches, but the name and alias protections cannot be checked: %s",
			   rule->name, why);
		trace_prior(ctx, "state before the last leave", TRACE_UNKNOWN, "", why);
		return;
	case FACT_KNOWN:
		if (prior_protected(ctx, &f->prior, v))
			v->rule = NULL;
		return;
	}
}

/* The rules of this decision: the policy's, or --apply's one. */
static size_t rules_of(const struct decide_context *ctx, const struct rule **rules)
{
	if (ctx->only_rule) {
		*rules = ctx->only_rule;
		return 1;
	}
	*rules = ctx->policy->rules;
	return ctx->policy->n_rules;
}

static struct trace_rule *trace_rule_at(const struct decide_context *ctx, size_t i, bool reached)
{
	struct trace_rule *tr;

	if (!ctx->trace || i >= ctx->trace->n_rules)
		return NULL;
	tr = &ctx->trace->rules[i];
	tr->reached = reached;
	return tr;
}

static void trace_start(const struct decide_context *ctx)
{
	struct decide_trace *t = ctx->trace;
	const struct rule *rules;
	size_t n;

	if (!t)
		return;
	decide_trace_free(t);
	n = rules_of(ctx, &rules);
	t->rules = xcalloc(n + 1, sizeof(*t->rules));
	t->n_rules = n;
	for (size_t i = 0; i < n; i++)
		t->rules[i].rule = &rules[i];
}

/* The rules in order; returns how many a run evaluated. */
static size_t decide_rules(const struct decide_context *ctx, const struct room_facts *f, struct verdict *v)
{
	char doubt[sizeof(v->reason)] = "";
	const struct rule *rules;
	size_t n = rules_of(ctx, &rules);

	for (size_t i = 0; i < n; i++)
		if (eval_rule(&rules[i], f, ctx->now_ms, v, doubt, sizeof(doubt), trace_rule_at(ctx, i, true))) {
			check_prior_state(ctx, f, v);
			return i + 1;
		}
	if (doubt[0]) {
		v->kind = VERDICT_KEEP_UNKNOWN;
		set_reason(v, "%s", doubt);
	} else {
		v->kind = VERDICT_KEEP;
		set_reason(v, "no rule matches");
	}
	return n;
}

/* --explain: the rules a run did not reach, evaluated for the reader only. */
static void trace_unreached(const struct decide_context *ctx, const struct room_facts *f, size_t from)
{
	const struct rule *rules;
	size_t n;

	if (!ctx->trace || ctx->trace->row_unusable)
		return;
	n = rules_of(ctx, &rules);
	for (size_t i = from; i < n; i++) {
		struct verdict scratch = { 0 };
		char doubt[sizeof(scratch.reason)] = "";

		eval_rule(&rules[i], f, ctx->now_ms, &scratch, doubt, sizeof(doubt), trace_rule_at(ctx, i, false));
	}
}

void decide_room(const struct decide_context *ctx, const struct room_facts *f, struct verdict *v)
{
	size_t reached = 0;

	trace_start(ctx);
	memset(v, 0, sizeof(*v));
	if (f->row_problem) {
		v->kind = VERDICT_KEEP_UNKNOWN;
		set_reason(v, "room list row unusable: %s", f->row_problem);
		if (ctx->trace)
			ctx->trace->row_unusable = true;
	} else if (!decide_protected(ctx, f, v)) {
		reached = decide_rules(ctx, f, v);
	}
	trace_unreached(ctx, f, reached);
}

int64_t decide_inactive_days(const struct room_facts *f, int64_t now_ms)
{
	if (f->last_activity.state != FACT_KNOWN || f->last_activity.ms > now_ms + CLOCK_SKEW_MS)
		return -1;
	if (f->last_activity.ms >= now_ms)
		return 0;
	return (now_ms - f->last_activity.ms) / MS_PER_DAY;
}
