/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "synapse.h"
#include "xmalloc.h"
#include "clock.h"
#include "verify.h"

#define MAX_ROUNDS 3 /* decide, fetch, decide again: each round fetches only unfetched facts */

struct verify {
	struct verify_request rq;
	struct decide_context dctx;
	struct room_facts fresh;
	enum tri forgotten;
	int64_t members_total, members_local;
	unsigned pending;
	unsigned rounds;
	bool done_called;
	enum verify_result result; /* of the lookups, before deciding */
	char why[256];
	verify_done_fn done;
	void *ud;
};

static void finish(struct verify *v, enum verify_result r, const char *fmt, ...) SJ_PRINTF(3, 4);
static void finish(struct verify *v, enum verify_result r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	v->done(v->ud, r, v->why, &v->fresh);
	room_facts_clear(&v->fresh);
	free(v);
}

/* The first failure wins: GONE or AUTH over DOUBT. */
static void note(struct verify *v, enum verify_result r, const char *what, const char *why)
{
	if (v->result == VERIFY_OK || (v->result == VERIFY_DOUBT && r != VERIFY_DOUBT)) {
		v->result = r;
		snprintf(v->why, sizeof(v->why), "%s: %s", what, why);
	}
}

static void describe_fresh(const struct verify *v, char *buf, size_t len)
{
	const struct room_facts *f = &v->fresh;
	int64_t days = decide_inactive_days(f, v->dctx.now_ms);

	snprintf(buf, len, "now %lld members, %lld local%s", (long long)f->joined_members,
		 (long long)f->joined_local_members, f->is_public == TRI_TRUE ? ", public" : "");
	if (days >= 0)
		snprintf(buf + strlen(buf), len - strlen(buf), ", last activity %lld days ago",
			 (long long)days);
}

static void on_facts(void *ud, int auth_error, const char *why);

/* Decide again on the fresh facts; fetch what the rule still needs. */
static void decide_again(struct verify *v)
{
	const struct rule *rule = v->rq.rule;
	struct verdict vd;
	char now[160];

	decide_room(&v->dctx, &v->fresh, &vd);
	if (vd.kind == VERDICT_NEED_FACTS && ++v->rounds < MAX_ROUNDS) {
		facts_fetch(v->rq.http, v->dctx.policy->activity, &v->fresh, vd.need, on_facts, v);
		return;
	}
	describe_fresh(v, now, sizeof(now));
	switch (vd.kind) {
	case VERDICT_PROTECTED:
		finish(v, VERIFY_PROTECTED, "now protected: %s", vd.reason);
		return;
	case VERDICT_KEEP_UNKNOWN:
	case VERDICT_NEED_FACTS:
		finish(v, VERIFY_DOUBT, "%s", vd.reason);
		return;
	case VERDICT_DELETE:
	case VERDICT_RECORD:
		if (vd.rule == rule && (v->rq.only_rule || vd.kind == VERDICT_DELETE)) {
			finish(v, VERIFY_OK, "%s", vd.reason);
			return;
		}
		finish(v, VERIFY_CHANGED, "rule %s no longer decides the room (%s): %s",
		       rule->name, vd.reason, now);
		return;
	case VERDICT_KEEP:
		break;
	}
	finish(v, VERIFY_CHANGED, "rule %s no longer matches: %s", rule->name, now);
}

static void on_facts(void *ud, int auth_error, const char *why)
{
	struct verify *v = ud;

	if (auth_error) {
		finish(v, VERIFY_AUTH, "%s", why);
		return;
	}
	decide_again(v);
}

/* Both lookups are in: judge them, then decide. */
static void lookups_done(struct verify *v)
{
	if (v->result != VERIFY_OK) {
		finish(v, v->result, "%s", v->why);
		return;
	}
	if (v->forgotten == TRI_TRUE) {
		finish(v, VERIFY_FORGOTTEN, "the room details say forgotten: it was shut down earlier");
		return;
	}
	/* The stats tables lag: /members is the truth for the counts. */
	v->fresh.joined_members = v->members_total;
	v->fresh.joined_local_members = v->members_local;
	if (!v->fresh.room_id)
		v->fresh.room_id = xstrdup(v->rq.facts->room_id);
	/* The creation time does not change: the scan's is reused, but not a
	 * value read from an editable CSV. The last activity is fetched anew. */
	fact_time_clear(&v->fresh.last_activity);
	if (!v->rq.only_rule)
		fact_time_copy(&v->fresh.created, &v->rq.facts->created);
	else
		fact_time_clear(&v->fresh.created);
	decide_again(v);
}

static void release(struct verify *v)
{
	if (--v->pending == 0)
		lookups_done(v);
}

static void classify(struct verify *v, const struct http_response *r, const char *what, bool *ok)
{
	enum synapse_result res;
	char why[200];

	*ok = false;
	res = synapse_classify(r, why, sizeof(why));
	if (res == SYNAPSE_OK)
		*ok = true;
	else if (synapse_result_is_auth(res))
		note(v, VERIFY_AUTH, what, why);
	else if (res == SYNAPSE_NOT_FOUND && strcmp(what, "room details") == 0)
		note(v, VERIFY_GONE, what, "404: the room no longer exists");
	else
		note(v, VERIFY_DOUBT, what, why);
}

static void on_details(const struct http_response *r, void *ud)
{
	struct verify *v = ud;
	char err[160];
	bool ok;

	classify(v, r, "room details", &ok);
	if (ok && synapse_parse_room_details(r->body, r->body_len, &v->fresh, &v->forgotten, err,
					     sizeof(err)) < 0)
		note(v, VERIFY_DOUBT, "room details", err);
	else if (ok && strcmp(v->fresh.room_id, v->rq.facts->room_id) != 0)
		/* Facts about another room say nothing about this one. */
		note(v, VERIFY_DOUBT, "room details", "the answer is about another room id");
	release(v);
}

static void on_members(const struct http_response *r, void *ud)
{
	struct verify *v = ud;
	char err[160];
	bool ok;

	classify(v, r, "members", &ok);
	if (ok && synapse_parse_members(r->body, r->body_len, v->rq.server_name, &v->members_total,
					&v->members_local, err, sizeof(err)) < 0)
		note(v, VERIFY_DOUBT, "members", err);
	release(v);
}

static void verify_submit(struct verify *v, char *path, http_done_fn fn)
{
	v->pending++;
	if (http_get(v->rq.http, path, true, fn, v) < 0) {
		note(v, VERIFY_DOUBT, "lookup", "request could not be queued");
		v->pending--;
	}
	free(path);
}

void verify_room(const struct verify_request *rq, verify_done_fn done, void *ud)
{
	struct verify *v = xcalloc(1, sizeof(*v));

	v->rq = *rq;
	v->done = done;
	v->ud = ud;
	v->forgotten = TRI_UNKNOWN;
	v->dctx = *rq->decide;
	v->dctx.now_ms = clock_wall_ms();
	if (rq->only_rule)
		v->dctx.only_rule = rq->rule;
	room_facts_clear(&v->fresh);
	v->pending = 1; /* held until both lookups are submitted */
	verify_submit(v, synapse_path_room(rq->facts->room_id, ""), on_details);
	verify_submit(v, synapse_path_room(rq->facts->room_id, "/members"), on_members);
	release(v);
}
