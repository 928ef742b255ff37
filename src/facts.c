/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "clock.h"
#include "facts.h"
#include "synapse.h"
#include "xmalloc.h"

/* activity: messages reads at most this many pages backwards (DESIGN.md §5). */
#define MESSAGE_PAGES 3
#define MESSAGE_PAGE_SIZE 100

struct fetch {
	struct http_client *http;
	struct room_facts *f;
	unsigned pending;          /* requests in flight for this room */
	unsigned message_pages;
	bool want_prior;           /* NEED_PRIOR_STATE: /context once the newest event is known */
	char no_event[256];        /* why forward_extremities named no event */
	int auth_error;
	char why[256];
	facts_done_fn done;
	void *ud;
};

struct lookup {
	struct fetch *fetch;
	struct fact_time *target;
	enum { LOOKUP_EXTREMITIES, LOOKUP_CREATED, LOOKUP_MESSAGES, LOOKUP_NEWEST_EVENT,
	       LOOKUP_CONTEXT } kind;
};


static void fetch_release(struct fetch *fe)
{
	if (--fe->pending > 0)
		return;
	fe->done(fe->ud, fe->auth_error, fe->why);
	free(fe);
}

static void on_response(const struct http_response *r, void *ud);
static void lookup_failed(struct lookup *lk, const char *fmt, ...) SJ_PRINTF(2, 3);

static void fetch_submit(struct fetch *fe, struct fact_time *target, int kind, char *path)
{
	struct lookup *lk = xmalloc(sizeof(*lk));

	*lk = (struct lookup){ .fetch = fe, .target = target, .kind = kind };
	fe->pending++;
	/* forward_extremities are most lookups: parsed once, as they arrive */
	if ((kind == LOOKUP_EXTREMITIES ? http_get_json(fe->http, path, true, NULL, on_response, lk) : http_get(fe->http, path, true, on_response, lk)) < 0) {
		lookup_failed(lk, "request could not be queued");
		free(lk);
		fetch_release(fe);
	}
	free(path);
}

static void submit_messages_page(struct fetch *fe, const char *from)
{
	fe->message_pages++;
	fetch_submit(fe, &fe->f->last_activity, LOOKUP_MESSAGES,
	       synapse_path_messages(fe->f->room_id, from, MESSAGE_PAGE_SIZE));
}

/* One /messages page: the newest message wins; reaching the room's first
 * event without one means the last activity is the creation; running out of
 * pages first is doubt (DESIGN.md §5). */
static void on_messages(struct fetch *fe, const struct http_response *r, struct fact_time *t)
{
	char err[160], *end = NULL;
	int64_t newest = -1, create_ts = -1;
	bool saw_create = false;

	if (synapse_parse_messages(r->body, r->body_len, &newest, &end, &saw_create, &create_ts,
				   err, sizeof(err)) < 0) {
		fact_time_unknown(t, "messages: %s", err);
	} else if (newest >= 0) {
		fact_time_known(t, newest);
	} else if (saw_create && create_ts >= 0) {
		fact_time_known(t, create_ts);
	} else if (!end) {
		fact_time_unknown(t, "messages: no message and no creation event");
	} else if (fe->message_pages >= MESSAGE_PAGES) {
		fact_time_unknown(t, "no message in the newest %d events", MESSAGE_PAGES * MESSAGE_PAGE_SIZE);
	} else {
		submit_messages_page(fe, end);
	}
	free(end);
}

static void prior_unknown(struct prior_state *p, const char *fmt, ...) SJ_PRINTF(2, 3);
static void prior_unknown(struct prior_state *p, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	prior_state_clear(p);
	p->state = FACT_UNKNOWN;
	p->problem = text;
}

/* The state before the last leave is read at the newest event (API.md),
 * which forward_extremities names. */
static void submit_context(struct fetch *fe)
{
	struct room_facts *f = fe->f;

	fe->want_prior = false;
	if (f->prior.state != FACT_UNFETCHED)
		return;
	if (!f->last_event_id) {
		prior_unknown(&f->prior, "state before the last leave: no event to read it at (%s)",
			      fe->no_event[0] ? fe->no_event : "forward_extremities named none");
		return;
	}
	fetch_submit(fe, NULL, LOOKUP_CONTEXT, synapse_path_context(f->room_id, f->last_event_id));
}

/* forward_extremities: the last activity (target NULL when only the newest
 * event was wanted) and that event's id. */
static void on_extremities(struct fetch *fe, struct fact_time *target, const struct http_response *r)
{
	struct room_facts *f = fe->f;
	struct fact_time t = { 0 };
	char err[160];

	free(f->last_event_id);
	f->last_event_id = NULL;
	if (synapse_forward_extremities_of(r, &t, &f->last_event_id, err, sizeof(err)) < 0)
		fact_time_unknown(&t, "forward_extremities: %s", err);
	if (t.state == FACT_UNKNOWN)
		snprintf(fe->no_event, sizeof(fe->no_event), "%s", t.problem ? t.problem : "");
	if (target)
		fact_time_copy(target, &t);
	fact_time_clear(&t);
}

static void on_body(struct lookup *lk, const struct http_response *r)
{
	struct fact_time *t = lk->target;
	char err[160];
	int64_t ts;

	switch (lk->kind) {
	case LOOKUP_EXTREMITIES:
		on_extremities(lk->fetch, t, r);
		break;
	case LOOKUP_NEWEST_EVENT:
		free(lk->fetch->f->last_event_id);
		lk->fetch->f->last_event_id = NULL;
		if (synapse_parse_event_id(r->body, r->body_len, &lk->fetch->f->last_event_id, err,
					   sizeof(err)) < 0)
			snprintf(lk->fetch->no_event, sizeof(lk->fetch->no_event), "timestamp_to_event: %s", err);
		break;
	case LOOKUP_CONTEXT:
		if (synapse_parse_context(r->body, r->body_len, &lk->fetch->f->prior, err, sizeof(err)) < 0)
			prior_unknown(&lk->fetch->f->prior, "state before the last leave: %s", err);
		break;
	case LOOKUP_CREATED:
		if (synapse_parse_timestamp_to_event(r->body, r->body_len, &ts, err, sizeof(err)) < 0)
			fact_time_unknown(t, "timestamp_to_event: %s", err);
		else
			fact_time_known(t, ts);
		break;
	case LOOKUP_MESSAGES:
		on_messages(lk->fetch, r, t);
		break;
	}
}

static const char *lookup_name(int kind)
{
	return kind == LOOKUP_EXTREMITIES ? "forward_extremities" :
	       kind == LOOKUP_CREATED ? "creation time" :
	       kind == LOOKUP_CONTEXT ? "state before the last leave" :
	       kind == LOOKUP_NEWEST_EVENT ? "newest event" : "messages";
}

/* A failed lookup: its fact is unknown, with the reason. */
static void lookup_failed(struct lookup *lk, const char *fmt, ...)
{
	struct room_facts *f = lk->fetch->f;
	va_list ap;
	char text[256];

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (lk->kind == LOOKUP_CONTEXT)
		prior_unknown(&f->prior, "%s", text);
	else if (lk->target)
		fact_time_unknown(lk->target, "%s", text);
	if (lk->kind == LOOKUP_EXTREMITIES || lk->kind == LOOKUP_NEWEST_EVENT)
		snprintf(lk->fetch->no_event, sizeof(lk->fetch->no_event), "%s", text);
}

static void on_response(const struct http_response *r, void *ud)
{
	struct lookup *lk = ud;
	struct fetch *fe = lk->fetch;
	enum synapse_result res;
	char why[200];

	res = synapse_classify(r, why, sizeof(why));
	if (res == SYNAPSE_OK) {
		on_body(lk, r);
	} else if (synapse_result_is_auth(res)) {
		fe->auth_error = -EACCES;
		snprintf(fe->why, sizeof(fe->why), "%s", why);
		lookup_failed(lk, "%s", why);
	} else if (res == SYNAPSE_NOT_FOUND && (lk->kind == LOOKUP_CREATED || lk->kind == LOOKUP_NEWEST_EVENT)) {
		lookup_failed(lk, "no events in the room");
	} else {
		lookup_failed(lk, "%s: %s", lookup_name(lk->kind), why);
	}
	if ((lk->kind == LOOKUP_EXTREMITIES || lk->kind == LOOKUP_NEWEST_EVENT) && fe->want_prior &&
	    !fe->auth_error)
		submit_context(fe);
	free(lk);
	fetch_release(fe);
}

void facts_fetch(struct http_client *http, enum activity_kind activity, struct room_facts *f,
		 unsigned need, facts_done_fn done, void *ud)
{
	struct fetch *fe = xcalloc(1, sizeof(*fe));
	bool extremities = false;

	*fe = (struct fetch){ .http = http, .f = f, .done = done, .ud = ud };
	fe->pending = 1; /* held until every lookup is submitted */
	if ((need & NEED_LAST_ACTIVITY) && f->last_activity.state == FACT_UNFETCHED) {
		if (activity == ACTIVITY_MESSAGES) {
			submit_messages_page(fe, NULL);
		} else {
			fetch_submit(fe, &f->last_activity, LOOKUP_EXTREMITIES,
				     synapse_path_room(f->room_id, "/forward_extremities"));
			extremities = true;
		}
	}
	if ((need & NEED_CREATED) && f->created.state == FACT_UNFETCHED)
		fetch_submit(fe, &f->created, LOOKUP_CREATED,
		       synapse_path_timestamp_to_event(f->room_id, 0, 'f'));
	if ((need & NEED_PRIOR_STATE) && f->prior.state == FACT_UNFETCHED) {
		fe->want_prior = true;
		if (f->last_event_id)
			submit_context(fe);
		else if (extremities)
			; /* its answer names the newest event */
		else if (activity == ACTIVITY_MESSAGES)
			/* activity: messages never reads forward_extremities */
			fetch_submit(fe, NULL, LOOKUP_NEWEST_EVENT,
				     synapse_path_timestamp_to_event(f->room_id, clock_wall_ms(), 'b'));
		else
			fetch_submit(fe, NULL, LOOKUP_EXTREMITIES,
				     synapse_path_room(f->room_id, "/forward_extremities"));
	}
	fetch_release(fe);
}
