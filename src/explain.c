/* SPDX-License-Identifier: GPL-3.0-or-later */
/* --explain ROOM: why the next run would keep, record or delete
 * one room. The decision is decide.c's own (its trace), the plan is
 * act-plan.c's own, the re-verification is verify.c's own: an explanation
 * and a run cannot disagree. Nothing is written and no DELETE is sent. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "clock.h"
#include "duration.h"
#include "exit-codes.h"
#include "explain.h"
#include "facts.h"
#include "http.h"
#include "run.h"
#include "state.h"
#include "synapse.h"
#include "xmalloc.h"

/* ---- the conclusion ------------------------------------------------------ */

static void set_outcome(struct explanation *x, enum outcome o, const char *fmt, ...) SJ_PRINTF(3, 4);
static void set_outcome(struct explanation *x, enum outcome o, const char *fmt, ...)
{
	va_list ap;

	x->outcome = o;
	va_start(ap, fmt);
	vsnprintf(x->outcome_reason, sizeof(x->outcome_reason), fmt, ap);
	va_end(ap);
}

/* The size guard and the grace period, said even when they let the room
 * through. */
static void plan_texts(struct explanation *x)
{
	const struct policy *p = x->policy;
	const struct room_facts *f = x->facts;
	char why[REASON_MAX], g[32], when[32];
	int64_t first;

	if (act_too_large(p, f, why, sizeof(why)))
		snprintf(x->size_text, sizeof(x->size_text), "%s", why);
	else if (p->delete.has_max_state_events)
		snprintf(x->size_text, sizeof(x->size_text), "%" PRId64 " state events, at most %u for a "
			 "scheduled run: passes", f->state_events, p->delete.max_state_events);
	else
		snprintf(x->size_text, sizeof(x->size_text), "none (delete.max_state_events is not set)");
	if (p->delete.grace_period == 0) {
		snprintf(x->grace_text, sizeof(x->grace_text), "none (delete.grace_period 0s)");
		return;
	}
	duration_format(p->delete.grace_period, g, sizeof(g));
	first = x->state ? state_candidate_first_seen(x->state, x->room_id) : -1;
	if (first < 0) {
		snprintf(x->grace_text, sizeof(x->grace_text), "%s; not a delete candidate in the state file yet: "
			 "the next run records it and waits %s", g, g);
		return;
	}
	clock_format_rfc3339(clock_ms_after(first, p->delete.grace_period), when, sizeof(when));
	snprintf(x->grace_text, sizeof(x->grace_text), "%s; deletable from %s", g, when);
}

/* A delete verdict: what a run does with it for this room alone. */
static void conclude_delete(struct explanation *x)
{
	const struct verdict *v = x->verdict;
	struct act_context ctx = { .policy = x->policy, .state = (struct state *)x->state };
	struct candidate c = { 0 };

	plan_texts(x);
	if (x->forbid_deletes) {
		set_outcome(x, OUTCOME_REFUSED, "no deletes this run: %s", x->forbid_deletes);
		return;
	}
	if (!x->state) {
		set_outcome(x, OUTCOME_REFUSED, "the state file cannot be used (%s): a run deletes nothing",
			    x->state_problem);
		return;
	}
	/* act-plan.c's own checks, on a shallow copy that owns nothing but
	 * the reason they write. The state is read only: no sighting is
	 * recorded. */
	c.facts = *x->facts;
	c.rule = v->rule;
	if (act_plan_hold(&ctx, &c, x->now_ms)) {
		x->held = true;
		set_outcome(x, c.outcome, "%s", c.reason ? c.reason : "held back");
		free(c.reason);
		return;
	}
	free(c.reason);
	x->needs_verify = true;
	if (x->dry_run) {
		set_outcome(x, OUTCOME_WOULD_DELETE, "%s", v->reason);
		return;
	}
	if (!x->verified) {
		set_outcome(x, OUTCOME_DELETED, "%s; if the re-verification before the DELETE agrees", v->reason);
		return;
	}
	switch (x->verify_result) {
	case VERIFY_OK:
		set_outcome(x, OUTCOME_DELETED, "%s", v->reason);
		return;
	case VERIFY_CHANGED:
	case VERIFY_PROTECTED:
	case VERIFY_GONE:
	case VERIFY_FORGOTTEN:
		set_outcome(x, OUTCOME_CHANGED, "re-verified: %s", x->verify_why);
		return;
	case VERIFY_DOUBT:
		set_outcome(x, OUTCOME_KEPT_UNKNOWN, "re-verification failed, kept: %s", x->verify_why);
		return;
	case VERIFY_AUTH:
		set_outcome(x, OUTCOME_FAILED, "the token was refused: %s", x->verify_why);
		return;
	}
}

void explain_conclude(struct explanation *x)
{
	const struct verdict *v = x->verdict;

	x->held = false;
	x->needs_verify = false;
	x->size_text[0] = x->grace_text[0] = '\0';
	if (!x->found || !v) {
		set_outcome(x, OUTCOME_KEPT, "the homeserver does not list this room: a run does not see it");
		return;
	}
	switch (v->kind) {
	case VERDICT_KEEP:
		set_outcome(x, OUTCOME_KEPT, "%s", v->reason);
		return;
	case VERDICT_PROTECTED:
		set_outcome(x, OUTCOME_PROTECTED, "%s", v->reason);
		return;
	case VERDICT_KEEP_UNKNOWN:
		set_outcome(x, OUTCOME_KEPT_UNKNOWN, "%s", v->reason);
		return;
	case VERDICT_NEED_FACTS:
		/* Every fact was asked for: one still missing is doubt. */
		set_outcome(x, OUTCOME_KEPT_UNKNOWN, "%s, which could not be gathered", v->reason);
		return;
	case VERDICT_RECORD:
		set_outcome(x, OUTCOME_RECORDED, "%s", v->reason);
		return;
	case VERDICT_DELETE:
		conclude_delete(x);
		return;
	}
}

/* ---- the text -------------------------------------------------------------- */

/* Text that may come from the server (names, aliases, ids), made safe for
 * a terminal: control characters as \xNN, cut after 200 bytes. Quotes stay
 * as they are: nothing here is quoted. */
static void put_text(struct buf *b, const char *s)
{
	size_t n = 0;

	if (!s) {
		buf_puts(b, "null");
		return;
	}
	for (; *s && n < 200; s++, n++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			buf_printf(b, "\\x%02x", c);
		else
			buf_putc(b, (char)c);
	}
	if (*s)
		buf_puts(b, "...");
}

static void source_line(struct buf *b, const char *source)
{
	buf_printf(b, "  From %s:\n", source);
}

static void fact_line(struct buf *b, const char *name, const char *value)
{
	buf_printf(b, "    %-22s ", name);
	put_text(b, value);
	buf_putc(b, '\n');
}

static void count_text(char *buf, size_t len, int64_t n)
{
	if (n < 0)
		snprintf(buf, len, "unknown");
	else
		snprintf(buf, len, "%" PRId64, n);
}

static void render_facts(const struct explanation *x, struct buf *b)
{
	const struct room_facts *f = x->facts;
	char v[320];

	buf_puts(b, "\nFacts, and where each came from:\n");
	source_line(b, "the room details, GET /_synapse/admin/v1/rooms/<id> (the statistics the room list shows)");
	fact_line(b, "name", f->name);
	fact_line(b, "canonical_alias", f->canonical_alias);
	fact_line(b, "creator", f->creator);
	fact_line(b, "room_type", f->room_type_known ? (f->room_type ? f->room_type : "null (an ordinary room)") :
		  "unknown (not sent by this server)");
	fact_line(b, "join_rule", f->join_rule ? f->join_rule : "null: unknown (no local member left?)");
	fact_line(b, "room_version", f->room_version ? f->room_version : "unknown");
	fact_line(b, "federatable", tri_name(f->is_federatable));
	fact_line(b, "public", f->is_public == TRI_TRUE ? "true (in the room directory)" : tri_name(f->is_public));
	fact_line(b, "encrypted", f->encryption ? f->encryption : "no");
	count_text(v, sizeof(v), f->state_events);
	fact_line(b, "state_events", v);
	count_text(v, sizeof(v), f->joined_members);
	fact_line(b, "joined_members", v);
	count_text(v, sizeof(v), f->joined_local_members);
	fact_line(b, "joined_local_members", v);
	fact_line(b, "forgotten", tri_name(x->forgotten));

	source_line(b, "GET .../members, counted as the re-verification before a DELETE counts them");
	if (x->members_total >= 0)
		snprintf(v, sizeof(v), "%" PRId64 " joined, %" PRId64 " of them on %s", x->members_total,
			 x->members_local, x->server_name ? x->server_name : "?");
	else
		snprintf(v, sizeof(v), "unknown: %s", x->members_problem[0] ? x->members_problem : "not fetched");
	fact_line(b, "members", v);

	source_line(b, x->policy->activity == ACTIVITY_EVENTS ?
		    "forward_extremities, the newest event this server received (activity: events)" :
		    "/messages, the newest m.room.message or m.room.encrypted (activity: messages)");
	decide_time_text(&f->last_activity, x->now_ms, v, sizeof(v));
	fact_line(b, "last activity", v);
	source_line(b, "timestamp_to_event from 0, the room's first event");
	decide_time_text(&f->created, x->now_ms, v, sizeof(v));
	fact_line(b, "created", v);

	if (f->prior.state == FACT_UNFETCHED) {
		source_line(b, "nowhere: the room details give its name and alias");
		fact_line(b, "before the last leave", "not needed");
	} else if (f->prior.state == FACT_UNKNOWN) {
		source_line(b, "GET .../context at the newest event");
		snprintf(v, sizeof(v), "unknown: %s", f->prior.problem ? f->prior.problem : "no data");
		fact_line(b, "before the last leave", v);
	} else {
		struct buf t = { 0 };

		buf_puts(&t, "GET .../context/");
		put_text(&t, x->last_event_id ? x->last_event_id : "?");
		buf_puts(&t, ", the room state at its newest event");
		source_line(b, t.data);
		buf_reset(&t);
		buf_printf(&t, "name %s, aliases ", f->prior.name ? f->prior.name : "null");
		for (size_t i = 0; i < f->prior.n_aliases; i++)
			buf_printf(&t, "%s%s", i ? ", " : "", f->prior.aliases[i]);
		if (!f->prior.n_aliases)
			buf_puts(&t, "none");
		fact_line(b, "before the last leave", t.data);
		buf_free(&t);
	}
}

static void render_state(const struct explanation *x, struct buf *b)
{
	const struct state_delete *d;
	char when[32], v[400];
	int64_t first;

	buf_printf(b, "  From the state file %s, read only:\n", x->state_path ? x->state_path : "?");
	if (!x->state) {
		fact_line(b, "state", x->state_problem);
		return;
	}
	first = state_candidate_first_seen(x->state, x->room_id);
	if (first >= 0) {
		clock_format_rfc3339(first, when, sizeof(when));
		snprintf(v, sizeof(v), "a delete candidate since %s", when);
	} else {
		snprintf(v, sizeof(v), "not a delete candidate of an earlier run");
	}
	fact_line(b, "first seen", v);
	d = state_delete_find(x->state, x->room_id);
	if (!d) {
		snprintf(v, sizeof(v), "none");
	} else if (d->phase == STATE_COMPLETED) {
		clock_format_rfc3339(d->completed_ms, when, sizeof(when));
		snprintf(v, sizeof(v), "completed at %s%s%s", when, d->delete_id ? ", delete " : "",
			 d->delete_id ? d->delete_id : "");
	} else {
		clock_format_rfc3339(d->requested_ms, when, sizeof(when));
		snprintf(v, sizeof(v), "%s since %s%s%s", d->phase == STATE_PENDING ? "pending" : "requested", when,
			 d->delete_id ? ", delete " : "", d->delete_id ? d->delete_id : "");
	}
	fact_line(b, "delete", v);
}

static const char *result_word(enum trace_result r, bool protection)
{
	switch (r) {
	case TRACE_HOLDS:
		return "holds";
	case TRACE_FAILS:
		return protection ? "no" : "fails";
	case TRACE_UNKNOWN:
		return "unknown";
	case TRACE_NEEDED:
		return "not fetched";
	}
	return "?";
}

static void render_item(struct buf *b, const struct trace_item *it, bool protection, const char *indent)
{
	buf_printf(b, "%s%-8s %-27s ", indent, result_word(it->result, protection), it->key);
	put_text(b, it->want);
	buf_puts(b, "; room: ");
	put_text(b, it->value);
	buf_putc(b, '\n');
}

static void render_trace(const struct explanation *x, struct buf *b)
{
	const struct decide_trace *t = x->trace;
	const struct rule *decider = NULL;

	if (t->row_unusable) {
		buf_puts(b, "\nThe room's row is unusable, so nothing else is checked: ");
		put_text(b, x->verdict->reason);
		buf_putc(b, '\n');
		return;
	}
	buf_puts(b, "\nProtections (checked before the rules; the first that holds decides):\n");
	for (size_t i = 0; i < t->n_protections; i++)
		render_item(b, &t->protections[i], true, "  ");
	if (x->verdict->kind == VERDICT_RECORD || x->verdict->kind == VERDICT_DELETE ||
	    x->verdict->kind == VERDICT_NEED_FACTS)
		decider = x->verdict->rule;
	buf_puts(b, "\nRules (in order; the first whose conditions all hold decides):\n");
	if (t->n_rules == 0)
		buf_puts(b, "  (none: every room that is not protected is kept)\n");
	for (size_t i = 0; i < t->n_rules; i++) {
		const struct trace_rule *tr = &t->rules[i];
		const char *status;

		switch (tr->result) {
		case TRACE_HOLDS:
			status = "matches";
			break;
		case TRACE_FAILS:
			status = "does not match";
			break;
		case TRACE_UNKNOWN:
			status = "cannot match: a fact is unknown (doubt)";
			break;
		default:
			status = "needs a fact that was not fetched";
			break;
		}
		buf_printf(b, "  %zu. %s (%s): %s", i + 1, tr->rule->name,
			   tr->rule->action == RULE_ACTION_DELETE ? "delete" : "record", status);
		if (tr->rule == decider && tr->reached)
			buf_puts(b, ", and decides");
		else if (!tr->reached)
			buf_puts(b, x->verdict->kind == VERDICT_PROTECTED ? " (not evaluated by a run: protected)" :
				 " (not evaluated by a run: an earlier rule decided)");
		buf_putc(b, '\n');
		for (size_t j = 0; j < tr->n_items; j++)
			render_item(b, &tr->items[j], false, "       ");
	}
	if (t->prior_checked) {
		buf_puts(b, "\nProtections against the state before the last local member left "
			    "(the list shows no name or alias):\n");
		for (size_t i = 0; i < t->n_prior; i++)
			render_item(b, &t->prior[i], true, "  ");
	}
}

static void render_verdict(const struct explanation *x, struct buf *b)
{
	const struct policy *p = x->policy;
	const struct verdict *v = x->verdict;

	buf_printf(b, "\nVerdict of the next run: %s", report_outcome_name(x->outcome));
	if (v && v->rule && (x->outcome != OUTCOME_KEPT && x->outcome != OUTCOME_PROTECTED))
		buf_printf(b, " (rule %s)", v->rule->name);
	buf_puts(b, "\n  ");
	put_text(b, x->outcome_reason);
	buf_putc(b, '\n');
	if (x->outcome == OUTCOME_KEPT && x->found)
		buf_puts(b, "  (a plain keep is written to the records only with records.all_rooms: true)\n");
	if (!v || v->kind != VERDICT_DELETE)
		return;
	if (x->held || x->outcome == OUTCOME_REFUSED || x->outcome == OUTCOME_CHANGED ||
	    x->outcome == OUTCOME_KEPT_UNKNOWN) {
		buf_puts(b, "  candidate:    ");
		put_text(b, v->reason);
		buf_putc(b, '\n');
	}
	buf_printf(b, "  size guard:   %s\n", x->size_text);
	buf_printf(b, "  grace period: %s\n", x->grace_text);
	if (x->verified) {
		buf_printf(b, "  re-verified now (GET only): %s",
			   x->verify_result == VERIFY_OK ? "the rule still matches" : "");
		if (x->verify_result != VERIFY_OK)
			put_text(b, x->verify_why);
		buf_putc(b, '\n');
	}
	if (x->dry_run)
		buf_printf(b, "  dry-run:      nothing is deleted (%s)%s\n",
			   x->forced_dry_run ? "--dry-run" : "dry_run: true in the policy",
			   x->needs_verify ? "; a deleting run re-verifies the room just before its DELETE" : "");
	if (x->outcome != OUTCOME_REFUSED)
		buf_printf(b, "  decided per run, from all its candidates:\n"
			   "    the breaker (more candidates than delete.max_fraction %g of the rooms scanned,\n"
			   "    or an incomplete listing) refuses every delete of the run, before the checks above;\n"
			   "    delete.max_per_run (%u, the longest inactive first) caps the deletes after them\n",
			   p->delete.max_fraction, p->delete.max_per_run);
}

void explain_render(const struct explanation *x, struct buf *b)
{
	char now[32];

	clock_format_rfc3339(x->now_ms, now, sizeof(now));
	buf_puts(b, "Room ");
	put_text(b, x->room_id);
	buf_printf(b, ", explained at %s by the policy %s\n", now, x->policy->path ? x->policy->path : "?");
	if (!x->found) {
		buf_puts(b, "\nNo room details: ");
		put_text(b, x->details_problem);
		buf_puts(b, "\n\nWhat the state file knows:\n");
		render_state(x, b);
		buf_puts(b, "\nVerdict of the next run: none: a run sees only the rooms the room list shows\n");
		return;
	}
	render_facts(x, b);
	render_state(x, b);
	if (x->forbid_deletes) {
		buf_puts(b, "\nNote: a run now would delete nothing: ");
		put_text(b, x->forbid_deletes);
		buf_putc(b, '\n');
	}
	if (x->trace && x->verdict)
		render_trace(x, b);
	render_verdict(x, b);
}

/* ---- gathering ------------------------------------------------------------ */

struct gather {
	struct explanation x;
	struct run_probe probe;
	struct room_facts facts;
	struct decide_trace trace;
	struct verdict verdict;
	struct state *state;
	int auth_error;
	char auth_why[256];
	bool failed;               /* a lookup failed: exit 1 */
};

static void on_details(const struct http_response *r, void *ud)
{
	struct gather *g = ud;
	enum synapse_result res;
	char why[200], err[160];

	res = synapse_classify(r, why, sizeof(why));
	if (res == SYNAPSE_NOT_FOUND) {
		snprintf(g->x.details_problem, sizeof(g->x.details_problem),
			 "the homeserver does not know this room (%s)", why);
	} else if (res != SYNAPSE_OK) {
		snprintf(g->x.details_problem, sizeof(g->x.details_problem), "room details: %s", why);
		if (synapse_result_is_auth(res))
			g->auth_error = -EACCES;
	} else if (synapse_parse_room_details(r->body, r->body_len, &g->facts, &g->x.forgotten, err,
					      sizeof(err)) < 0) {
		snprintf(g->x.details_problem, sizeof(g->x.details_problem), "room details: %s", err);
	} else if (strcmp(g->facts.room_id, g->x.room_id) != 0) {
		snprintf(g->x.details_problem, sizeof(g->x.details_problem),
			 "room details: the answer is about another room id");
		room_facts_clear(&g->facts);
	} else {
		g->x.found = true;
	}
}

static void on_members(const struct http_response *r, void *ud)
{
	struct gather *g = ud;
	enum synapse_result res;
	char why[200], err[160];

	res = synapse_classify(r, why, sizeof(why));
	if (res != SYNAPSE_OK)
		snprintf(g->x.members_problem, sizeof(g->x.members_problem), "%s", why);
	else if (synapse_parse_members(r->body, r->body_len, g->probe.server_name, &g->x.members_total,
				       &g->x.members_local, err, sizeof(err)) < 0)
		snprintf(g->x.members_problem, sizeof(g->x.members_problem), "%s", err);
}

static void on_facts(void *ud, int auth_error, const char *why)
{
	struct gather *g = ud;

	if (auth_error) {
		g->auth_error = auth_error;
		snprintf(g->auth_why, sizeof(g->auth_why), "%s", why);
	}
}

static void on_verified(void *ud, enum verify_result r, const char *why, const struct room_facts *fresh)
{
	struct gather *g = ud;

	(void)fresh;
	g->x.verified = true;
	g->x.verify_result = r;
	snprintf(g->x.verify_why, sizeof(g->x.verify_why), "%s", why);
}

static int gather_submit(struct gather *g, const char *suffix, http_done_fn fn)
{
	char *path = synapse_path_room(g->x.room_id, suffix);
	int r = http_get(g->probe.http, path, true, fn, g);

	free(path);
	return r;
}

/* Details and members, then every costly fact: nothing lazily here. */
static int gather_facts(struct gather *g, const struct explain_options *o)
{
	unsigned need = NEED_LAST_ACTIVITY | NEED_CREATED;
	int r;

	g->x.members_total = g->x.members_local = -1;
	g->x.forgotten = TRI_UNKNOWN;
	if (gather_submit(g, "", on_details) < 0 || gather_submit(g, "/members", on_members) < 0)
		return -ENOMEM;
	r = http_run(g->probe.http, o->should_stop, o->stop_ud);
	if (r < 0 || !g->x.found)
		return r < 0 ? r : 0;
	/* The state before the last leave, where the list has no name or alias. */
	if (!g->facts.name || !g->facts.canonical_alias)
		need |= NEED_PRIOR_STATE;
	facts_fetch(g->probe.http, o->policy->activity, &g->facts, need, on_facts, g);
	return http_run(g->probe.http, o->should_stop, o->stop_ud);
}

static void read_state(struct gather *g, const struct policy *p)
{
	char why[300];
	int r = state_open_readonly(p->state_file, &g->state, why, sizeof(why));

	if (r < 0) {
		snprintf(g->x.state_problem, sizeof(g->x.state_problem), "%s%s", why,
			 r == -EBADMSG ? " (a run would move it aside and delete nothing)" :
					 " (a run would stop and delete nothing)");
		g->failed = true;
	}
	g->x.state = g->state;
}

static bool fact_missing(const struct room_facts *f)
{
	return f->last_activity.state != FACT_KNOWN || f->created.state != FACT_KNOWN ||
	       f->prior.state == FACT_UNKNOWN;
}

int explain_room(const struct explain_options *o, FILE *out)
{
	struct gather *g = xcalloc(1, sizeof(*g));
	struct decide_context dctx;
	struct buf text = { 0 };
	int code = EXIT_OK, r;

	if (!room_id_valid(o->room_id)) {
		fprintf(stderr, "synapse-janitor: --explain: not a room id (expected '!' and up to 254 more "
			"bytes without spaces): %s\n", o->room_id);
		free(g);
		return EXIT_USAGE;
	}
	room_facts_clear(&g->facts);
	g->x.policy = o->policy;
	g->x.room_id = o->room_id;
	g->x.state_path = o->policy->state_file;
	g->x.forced_dry_run = o->force_dry_run;
	g->x.dry_run = o->force_dry_run || o->policy->dry_run;
	g->x.members_total = g->x.members_local = -1;
	r = run_probe_open(o->policy, o->token, o->should_stop, o->stop_ud, &g->probe);
	if (r < 0) {
		fprintf(out, "Room %s: not explained: the homeserver check failed: %s\n", o->room_id,
			g->probe.failure[0] ? g->probe.failure : strerror(-r));
		code = EXIT_RUN_FAILED;
		goto out;
	}
	g->x.server_name = g->probe.server_name;
	g->x.forbid_deletes = g->probe.forbid_deletes;
	r = gather_facts(g, o);
	g->x.now_ms = clock_wall_ms();
	g->x.facts = &g->facts;
	g->x.last_event_id = g->facts.last_event_id;
	read_state(g, o->policy);
	if (r < 0 || g->auth_error)
		code = EXIT_RUN_FAILED;
	if (g->x.found) {
		dctx = (struct decide_context){
			.policy = o->policy,
			.now_ms = g->x.now_ms,
			.protected_ids = g->probe.protected_ids,
			.n_protected_ids = g->probe.n_protected_ids,
			.trace = &g->trace,
		};
		decide_room(&dctx, &g->facts, &g->verdict);
		g->x.trace = &g->trace;
		g->x.verdict = &g->verdict;
		explain_conclude(&g->x);
		if (g->x.needs_verify && r == 0 && !g->auth_error) {
			/* What a deleting run checks just before its DELETE, with
			 * the same code (GET requests only). */
			struct verify_request rq = {
				.http = g->probe.http,
				.decide = &dctx,
				.server_name = g->probe.server_name,
				.facts = &g->facts,
				.rule = g->verdict.rule,
			};

			dctx.trace = NULL;
			verify_room(&rq, on_verified, g);
			if (http_run(g->probe.http, o->should_stop, o->stop_ud) < 0)
				code = EXIT_RUN_FAILED;
			explain_conclude(&g->x);
		}
		if (g->x.members_problem[0] || fact_missing(&g->facts))
			code = EXIT_RUN_FAILED;
	} else {
		explain_conclude(&g->x);
		code = EXIT_RUN_FAILED;
	}
	if (g->failed)
		code = EXIT_RUN_FAILED;
	explain_render(&g->x, &text);
	if (code != EXIT_OK)
		buf_printf(&text, "\nIncomplete: %s; what is known is shown above.\n",
			   !g->x.found ? "the room is unknown to the homeserver or its details could not be read" :
			   g->auth_error ? "the token was refused" : "a lookup failed or found nothing");
	fputs(text.data, out);
out:
	buf_free(&text);
	decide_trace_free(&g->trace);
	room_facts_clear(&g->facts);
	state_close(g->state);
	run_probe_close(&g->probe);
	free(g);
	return code;
}
