/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "act.h"
#include "buf.h"
#include "duration.h"
#include "log.h"
#include "message-ids.h"
#include "report.h"
#include "state.h"
#include "synapse.h"
#include "test-hooks.h"
#include "xmalloc.h"
#include "clock.h"
#include "verify.h"

/* ------------------------------------------------------------------ */
/* Carrying out the deletes: re-verify, DELETE v2, poll (DESIGN.md §6) */

#define STATUS_POLL_FIRST_MS 1000  /* API.md: poll with backoff, 1 s growing to 30 s */
#define STATUS_POLL_MAX_MS 30000

enum task_step {
	STEP_VERIFY,     /* re-verification lookups in flight */
	STEP_DELETE,     /* the DELETE in flight */
	STEP_LOOKUP,     /* by-room delete_status in flight */
	STEP_WAIT,       /* waiting for the next status poll */
	STEP_POLL,       /* a status poll in flight */
	STEP_CHECK_GONE, /* room details in flight: does the room still exist? */
};

/* Why a by-room lookup is made. */
enum lookup_cause {
	LOOKUP_LOST,      /* our DELETE's answer was lost (timeout, reset, 5xx) */
	LOOKUP_REFUSED,   /* the server answered the DELETE with an error */
	LOOKUP_RESUMED,   /* a request of an earlier run without a delete_id */
	LOOKUP_FORGOTTEN, /* the server no longer knows a delete_id (poll 404) */
};

struct act {
	const struct act_context *ctx;
	struct act_result *res;
	struct candidate *c;
	size_t n;
	size_t next;               /* next candidate to start */
	struct task *tasks;        /* started, not finished */
	unsigned active;           /* delete tasks counted against delete.concurrency */
	char *no_more;             /* why no further DELETE may be sent */
	bool stopped;              /* interrupted or the token refused */
	uint64_t poll_first_ms, poll_max_ms;
	bool *emitted;             /* per candidate: reported */
};

struct task {
	struct act *act;
	struct candidate *c;
	bool synthetic;            /* a resumed delete of a room not a candidate this run */
	bool resumed;              /* started by an earlier run */
	enum task_step step;
	enum lookup_cause cause;
	char cause_why[200];
	int64_t requested_ms;      /* wall clock */
	int64_t started_ms;        /* wall clock, the base of delete.timeout */
	int64_t next_poll_ms;      /* monotonic */
	uint64_t interval_ms;
	struct task *next;
};

/* The status polling's pace; only the test build (test-hooks.h) may
 * shorten it. */
static void load_test_hooks(struct act *a)
{
	a->poll_first_ms = a->ctx->poll_first_ms ? a->ctx->poll_first_ms : STATUS_POLL_FIRST_MS;
	a->poll_max_ms = a->ctx->poll_max_ms ? a->ctx->poll_max_ms : STATUS_POLL_MAX_MS;
	test_hooks_poll_ms(&a->poll_first_ms, &a->poll_max_ms);
}

static bool act_should_stop(void *ud)
{
	struct act *a = ud;

	if (!a->stopped && a->ctx->should_stop && a->ctx->should_stop(a->ctx->stop_ud)) {
		a->stopped = true;
		a->res->interrupted = true;
		snprintf(a->res->why, sizeof(a->res->why), "interrupted");
	}
	return a->stopped;
}

static void stop_auth(struct act *a, const char *why)
{
	if (a->stopped)
		return;
	a->stopped = true;
	a->res->auth_failed = true;
	snprintf(a->res->why, sizeof(a->res->why), "token refused: %s", why);
	log_event(LOG_ERR, MSGID_AUTH_REFUSED, NULL, 0, "token refused while deleting: %s", why);
}

static int save_state(struct act *a)
{
	int r = state_save(a->ctx->state, clock_wall_ms());

	if (r < 0)
		log_event(LOG_ERR, MSGID_STATE_CORRUPT, NULL, 0, "cannot write the state file %s: %s",
			  state_path(a->ctx->state), strerror(-r));
	return r;
}

static const char *room_of(const struct task *t)
{
	return t->c->facts.room_id;
}

/* Text the server chose (a delete id, a status), fit for a log line: the
 * buffer holds it escaped (report_append_printable). */
static const char *printable(struct buf *b, const char *s)
{
	buf_reset(b);
	buf_puts(b, "");
	report_append_printable(b, s ? s : "", 100);
	return b->data;
}

/* The outcome is final: report it at once (the journal is the audit trail
 * even if we crash later) and drop the task. OUTCOME_KEPT means "no outcome
 * for this room this run" (a resumed request that is not settled yet, or
 * one that may be sent again). */
static void task_finish(struct task *t, enum outcome o, const char *fmt, ...) SJ_PRINTF(3, 4);
static void task_finish(struct task *t, enum outcome o, const char *fmt, ...)
{
	struct act *a = t->act;
	struct task **pp;
	va_list ap;

	for (pp = &a->tasks; *pp && *pp != t; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = t->next;
	if (!t->resumed)
		a->active--;
	if (fmt) {
		char text[REASON_MAX];

		va_start(ap, fmt);
		vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
		candidate_set_outcome(t->c, o, "%s", text);
	} else {
		t->c->outcome = o;
	}
	if (o != OUTCOME_KEPT && !(t->synthetic && o == OUTCOME_DEFERRED)) {
		if (!t->synthetic)
			a->emitted[t->c - a->c] = true;
		a->ctx->emit(a->ctx->emit_ud, t->c);
	}
	if (t->synthetic) {
		candidate_clear(t->c);
		free(t->c);
	}
	free(t);
}

static struct task *task_new(struct act *a, struct candidate *c, bool resumed)
{
	struct task *t = xcalloc(1, sizeof(*t));

	t->act = a;
	t->c = c;
	t->resumed = resumed;
	t->requested_ms = t->started_ms = -1;
	t->next = a->tasks;
	a->tasks = t;
	if (!resumed)
		a->active++;
	return t;
}

static void set_delete_id(struct task *t, const char *id)
{
	if (t->c->delete_id && strcmp(t->c->delete_id, id) == 0)
		return;
	free(t->c->delete_id);
	t->c->delete_id = xstrdup(id);
}

static char *timeout_text(const struct act *a, char *buf, size_t len)
{
	duration_format(a->ctx->policy->delete.timeout, buf, len);
	return buf;
}

/* --- completion --- */

static void task_deleted(struct task *t, const char *how)
{
	struct act *a = t->act;

	state_delete_completed(a->ctx->state, room_of(t), clock_wall_ms());
	save_state(a);
	if (t->resumed || how)
		task_finish(t, OUTCOME_DELETED, "%s", how ? how : "the delete of an earlier run completed");
	else
		task_finish(t, OUTCOME_DELETED, NULL); /* the rule's reason stands */
}

/* The server settled it without deleting: a later run may try again. */
static void task_failed_forget(struct task *t, const char *why)
{
	state_delete_forget(t->act->ctx->state, room_of(t));
	save_state(t->act);
	task_finish(t, OUTCOME_FAILED, "%s", why);
}

/* --- polling --- */

static void poll_submit(struct task *t);
static void check_gone(struct task *t, enum lookup_cause cause, const char *why);

static void schedule_poll(struct task *t)
{
	struct act *a = t->act;

	t->step = STEP_WAIT;
	t->next_poll_ms = clock_mono_ms() + (int64_t)t->interval_ms;
	t->interval_ms = t->interval_ms * 2 > a->poll_max_ms ? a->poll_max_ms : t->interval_ms * 2;
}

static void start_polling(struct task *t, const char *delete_id, int64_t started_ms)
{
	set_delete_id(t, delete_id);
	t->started_ms = started_ms;
	t->interval_ms = t->act->poll_first_ms;
	schedule_poll(t);
}

/* Still running (or unknown): poll again, unless delete.timeout is over. */
static void poll_again(struct task *t, const char *status)
{
	struct act *a = t->act;
	char d[32];

	if (clock_wall_ms() >= clock_ms_after(t->started_ms, a->ctx->policy->delete.timeout)) {
		/* The delete_id stays in the state file: the next run polls it. */
		task_finish(t, OUTCOME_FAILED, "delete %s did not complete within %s (last status: %s); "
			    "it stays recorded and is polled again next run", t->c->delete_id,
			    timeout_text(a, d, sizeof(d)), status);
		return;
	}
	schedule_poll(t);
}

static void on_poll(const struct http_response *r, void *ud)
{
	struct task *t = ud;
	struct delete_status st = { 0 };
	enum synapse_result res;
	struct buf id = { 0 };
	char why[200], err[160];

	if (t->act->stopped)
		return;
	res = synapse_classify(r, why, sizeof(why));
	if (r->error == -EBUSY) {
		/* The homeserver asked for a pause longer than this run waits:
		 * the delete runs on; its id stays in the state file. */
		task_finish(t, OUTCOME_DEFERRED, "delete %s is still running: its status %s; the next "
			    "run resumes polling it", t->c->delete_id, why);
		return;
	}
	if (res == SYNAPSE_NOT_FOUND) {
		/* Old servers keep tasks in memory only (API.md): a restart
		 * forgets them. Whether the room still exists settles it. */
		check_gone(t, LOOKUP_FORGOTTEN, why);
	} else if (synapse_result_is_auth(res)) {
		stop_auth(t->act, why);
	} else if (res != SYNAPSE_OK) {
		log_warn("delete status of %s (delete %s): %s", room_of(t), printable(&id, t->c->delete_id), why);
		poll_again(t, why);
	} else if (synapse_parse_delete_status(r->body, r->body_len, &st, err, sizeof(err)) < 0) {
		log_warn("delete status of %s (delete %s): %s", room_of(t), printable(&id, t->c->delete_id), err);
		poll_again(t, err);
	} else if (st.state == DELETE_COMPLETE) {
		task_deleted(t, NULL);
	} else if (st.state == DELETE_FAILED) {
		char msg[240];

		snprintf(msg, sizeof(msg), "delete %s ended with status %s%s%s", t->c->delete_id,
			 st.status ? st.status : "failed", st.error ? ": " : "", st.error ? st.error : "");
		task_failed_forget(t, msg);
	} else {
		poll_again(t, st.status ? st.status : "running");
	}
	delete_status_clear(&st);
	buf_free(&id);
}

static void poll_submit(struct task *t)
{
	char *path = synapse_path_delete_status(t->c->delete_id);

	t->step = STEP_POLL;
	if (http_get(t->act->ctx->http, path, true, on_poll, t) < 0)
		poll_again(t, "request could not be queued");
	free(path);
}

/* --- settling a delete whose outcome is not known --- */

static void on_gone(const struct http_response *r, void *ud)
{
	struct task *t = ud;
	struct act *a = t->act;
	enum synapse_result res;
	char why[200], d[32], when[32], msg[240];

	if (a->stopped)
		return;
	res = synapse_classify(r, why, sizeof(why));
	if (synapse_result_is_auth(res)) {
		stop_auth(a, why);
		return;
	}
	if (res == SYNAPSE_NOT_FOUND) {
		snprintf(msg, sizeof(msg), "%s; the room no longer exists",
			 t->cause == LOOKUP_FORGOTTEN ? "the server no longer knows the delete" :
			 t->cause == LOOKUP_LOST ? "the DELETE's answer was lost" :
			 "a delete requested by an earlier run");
		task_deleted(t, msg);
		return;
	}
	switch (t->cause) {
	case LOOKUP_FORGOTTEN:
		if (res == SYNAPSE_OK) {
			snprintf(msg, sizeof(msg), "the server no longer knows delete %s and the room "
				 "still exists", t->c->delete_id);
			task_failed_forget(t, msg);
		} else {
			task_finish(t, OUTCOME_FAILED, "the server no longer knows delete %s and the room "
				    "could not be checked (%s); checked again next run", t->c->delete_id, why);
		}
		break;
	case LOOKUP_RESUMED:
		clock_format_rfc3339(t->requested_ms, when, sizeof(when));
		if (res == SYNAPSE_OK &&
		    clock_wall_ms() >= clock_ms_after(t->requested_ms, a->ctx->policy->delete.timeout)) {
			/* DESIGN.md §6.6: no task and the room still there a
			 * delete.timeout after the request: it may be sent again. */
			log_warn("%s: the delete requested at %s left no trace and the room still exists "
				 "after %s: it may be deleted again", room_of(t), when,
				 timeout_text(a, d, sizeof(d)));
			state_delete_forget(a->ctx->state, room_of(t));
			save_state(a);
			task_finish(t, OUTCOME_KEPT, NULL);
		} else {
			/* A current server hides a task that is still scheduled. */
			task_finish(t, OUTCOME_DEFERRED, "a delete requested at %s is not settled yet "
				    "(no task seen%s%s): not sent again before %s have passed", when,
				    res == SYNAPSE_OK ? "" : ", ", res == SYNAPSE_OK ? "" : why,
				    timeout_text(a, d, sizeof(d)));
		}
		break;
	case LOOKUP_LOST:
	case LOOKUP_REFUSED:
		task_finish(t, OUTCOME_FAILED, "delete outcome unknown (%s): no delete task found and %s; "
			    "settled next run", t->cause_why,
			    res == SYNAPSE_OK ? "the room still exists" : "the room could not be checked");
		break;
	}
}

static void check_gone(struct task *t, enum lookup_cause cause, const char *why)
{
	char *path = synapse_path_room(room_of(t), "");

	t->cause = cause;
	if (why && cause != LOOKUP_RESUMED)
		snprintf(t->cause_why, sizeof(t->cause_why), "%s", why);
	t->step = STEP_CHECK_GONE;
	if (http_get(t->act->ctx->http, path, true, on_gone, t) < 0)
		task_finish(t, OUTCOME_FAILED, "delete outcome unknown: the room could not be checked");
	free(path);
}

static void lookup_found(struct task *t, const struct delete_status *st)
{
	struct act *a = t->act;
	int64_t base = t->requested_ms >= 0 ? t->requested_ms : clock_wall_ms();

	if (st->state == DELETE_COMPLETE) {
		char msg[200];

		snprintf(msg, sizeof(msg), "delete %s completed (found by the room's delete status)",
			 st->delete_id ? st->delete_id : "(unnamed)");
		if (st->delete_id)
			set_delete_id(t, st->delete_id);
		task_deleted(t, msg);
		return;
	}
	/* A running task: the one our request started. Keep its id, poll it. */
	state_delete_started(a->ctx->state, room_of(t), st->delete_id, clock_wall_ms());
	save_state(a);
	{
		struct buf id = { 0 }, status = { 0 };

		log_info("%s: delete %s found by the room's delete status, status %s", room_of(t),
			 printable(&id, st->delete_id), printable(&status, st->status ? st->status : "?"));
		buf_free(&id);
		buf_free(&status);
	}
	start_polling(t, st->delete_id, base);
}

static void on_lookup(const struct http_response *r, void *ud)
{
	struct task *t = ud;
	struct act *a = t->act;
	struct delete_status *list = NULL;
	const struct delete_status *newest = NULL;
	enum synapse_result res;
	char why[200], err[160], msg[240];
	size_t n = 0;

	if (a->stopped)
		return;
	res = synapse_classify(r, why, sizeof(why));
	if (synapse_result_is_auth(res)) {
		stop_auth(a, why);
		return;
	}
	if (res == SYNAPSE_OK) {
		if (synapse_parse_room_delete_status(r->body, r->body_len, &list, &n, err, sizeof(err)) < 0) {
			res = SYNAPSE_NOT_JSON;
			snprintf(why, sizeof(why), "%s", err);
		} else if (n > 0) {
			newest = &list[n - 1]; /* newest last, as sent */
		}
	}
	if (newest && (newest->state == DELETE_COMPLETE ||
		       (newest->state == DELETE_RUNNING && newest->delete_id))) {
		lookup_found(t, newest);
	} else if (t->cause == LOOKUP_REFUSED) {
		snprintf(msg, sizeof(msg), "the server refused the DELETE: %s", t->cause_why);
		task_failed_forget(t, msg);
	} else if (res == SYNAPSE_OK || res == SYNAPSE_NOT_FOUND) {
		/* No running task (404: none, or one still hidden as scheduled). */
		check_gone(t, t->cause, NULL);
	} else if (t->cause == LOOKUP_RESUMED) {
		char when[32];

		clock_format_rfc3339(t->requested_ms, when, sizeof(when));
		task_finish(t, OUTCOME_DEFERRED, "a delete requested at %s is not settled yet (its "
			    "status could not be read: %s)", when, why);
	} else {
		task_finish(t, OUTCOME_FAILED, "delete outcome unknown (%s); the status lookup failed too "
			    "(%s); settled next run", t->cause_why, why);
	}
	for (size_t i = 0; i < n; i++)
		delete_status_clear(&list[i]);
	free(list);
}

static void lookup_submit(struct task *t, enum lookup_cause cause, const char *why)
{
	char *path = synapse_path_room_delete_status(room_of(t));

	t->cause = cause;
	if (why)
		snprintf(t->cause_why, sizeof(t->cause_why), "%s", why);
	t->step = STEP_LOOKUP;
	if (http_get(t->act->ctx->http, path, true, on_lookup, t) < 0)
		task_finish(t, OUTCOME_FAILED, "delete outcome unknown: the status lookup could not be queued");
	free(path);
}

/* --- the DELETE --- */

static void log_delete_started(struct task *t)
{
	char *fields[] = {
		xasprintf("ROOM_ID=%s", room_of(t)),
		xasprintf("DELETE_ID=%s", t->c->delete_id),
		xasprintf("RULE=%s", t->c->rule ? t->c->rule->name : ""),
	};

	struct buf id = { 0 };

	log_event(LOG_NOTICE, MSGID_DELETE_STARTED, (const char *const *)fields, ARRAY_SIZE(fields),
		  "delete started %s delete_id=%s", room_of(t), printable(&id, t->c->delete_id));
	buf_free(&id);
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		free(fields[i]);
}

static void on_delete_answer(const struct http_response *r, void *ud)
{
	struct task *t = ud;
	struct act *a = t->act;
	enum synapse_result res;
	char why[200], err[160], *id = NULL;

	if (a->stopped)
		return; /* cancelled: the intent stays recorded, the next run settles it */
	res = synapse_classify(r, why, sizeof(why));
	if (r->error == -EBUSY && (r->status == 0 || r->status == 429)) {
		/* Never sent, or refused with a 429: the server did not act on
		 * it, and asked for a pause longer than this run waits. */
		state_delete_forget(a->ctx->state, room_of(t));
		save_state(a);
		task_finish(t, OUTCOME_DEFERRED, "the DELETE was not sent: %s; the next run tries again", why);
		return;
	}
	if (res == SYNAPSE_OK &&
	    synapse_parse_delete_started(r->body, r->body_len, &id, err, sizeof(err)) == 0) {
		test_hooks_kill_point("delete-answered");
		state_delete_started(a->ctx->state, room_of(t), id, clock_wall_ms());
		save_state(a);
		test_hooks_kill_point("delete-saved");
		set_delete_id(t, id);
		log_delete_started(t);
		start_polling(t, id, clock_wall_ms());
		free(id);
		return;
	}
	if (res == SYNAPSE_OK) {
		snprintf(why, sizeof(why), "unusable answer: %s", err);
		res = SYNAPSE_NOT_JSON;
	}
	if (synapse_result_is_auth(res)) {
		/* 401/403: the server did not act on it. */
		char msg[240];

		stop_auth(a, why);
		snprintf(msg, sizeof(msg), "the DELETE was refused: %s", why);
		task_failed_forget(t, msg);
		return;
	}
	log_warn("DELETE %s: %s; looking up the room's delete status (it is never sent twice)",
		 room_of(t), why);
	if (r->status >= 400 && r->status < 500 && (res == SYNAPSE_HTTP_ERROR || res == SYNAPSE_NOT_FOUND))
		lookup_submit(t, LOOKUP_REFUSED, why);  /* answered: e.g. "already in progress" */
	else
		lookup_submit(t, LOOKUP_LOST, why);     /* DESIGN.md §6.9 */
}

static void send_delete(struct task *t)
{
	struct act *a = t->act;
	const struct policy *p = a->ctx->policy;
	char *path, *body, why[300];
	int r;

	/* Intent before action (DESIGN.md §6.6). */
	t->requested_ms = clock_wall_ms();
	state_delete_requested(a->ctx->state, room_of(t), t->requested_ms);
	r = save_state(a);
	if (r < 0) {
		state_delete_forget(a->ctx->state, room_of(t));
		snprintf(why, sizeof(why), "the state file could not be written (%s): no DELETE is sent "
			 "this run", strerror(-r));
		free(a->no_more);
		a->no_more = xstrdup(why);
		task_finish(t, OUTCOME_FAILED, "not sent: %s", why);
		return;
	}
	/* Never new_room_user_id: it would create a room and move the members. */
	body = xasprintf("{\"purge\":%s,\"block\":%s,\"force_purge\":%s}", p->delete.purge ? "true" : "false",
			 p->delete.block ? "true" : "false", p->delete.force_purge ? "true" : "false");
	path = synapse_path_delete(room_of(t));
	t->step = STEP_DELETE;
	r = http_delete(a->ctx->http, path, body, on_delete_answer, t);
	free(path);
	free(body);
	if (r < 0) {
		state_delete_forget(a->ctx->state, room_of(t));
		save_state(a);
		task_finish(t, OUTCOME_FAILED, "the DELETE could not be queued: %s", strerror(-r));
	}
}

/* --- re-verification --- */

/* The size guard once more on the size the details give now (a room can
 * grow after the scan). A scheduled run holds a room that is too large
 * back; --apply deletes it, since a person chose it, but says how large it
 * is. Returns true when the task is finished. */
static bool verified_too_large(struct task *t, const struct room_facts *fresh)
{
	struct act *a = t->act;
	const struct policy *p = a->ctx->policy;
	char why[REASON_MAX], *fields[2];

	if (fresh->state_events >= 0)
		t->c->facts.state_events = fresh->state_events;
	if (!act_too_large(p, &t->c->facts, why, sizeof(why)))
		return false;
	if (!a->ctx->apply_mode) {
		task_finish(t, OUTCOME_DEFERRED, "re-verified: %s", why);
		return true;
	}
	fields[0] = xasprintf("ROOM_ID=%s", room_of(t));
	fields[1] = xasprintf("STATE_EVENTS=%lld", (long long)t->c->facts.state_events);
	if (t->c->facts.state_events < 0)
		log_event(LOG_NOTICE, NULL, (const char *const *)fields, ARRAY_SIZE(fields),
			  "%s: the number of state events is unknown (delete.max_state_events %u): %s as --apply asked",
			  room_of(t), p->delete.max_state_events, a->ctx->dry_run ? "would be deleted" : "deleting it");
	else
		log_event(LOG_NOTICE, NULL, (const char *const *)fields, ARRAY_SIZE(fields),
			  "%s: %lld state events, larger than delete.max_state_events (%u): %s as --apply asked; "
			  "Synapse may need long for it", room_of(t), (long long)t->c->facts.state_events,
			  p->delete.max_state_events, a->ctx->dry_run ? "would be deleted" : "deleting it");
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		free(fields[i]);
	return false;
}

static void on_verified(void *ud, enum verify_result r, const char *why, const struct room_facts *fresh)
{
	struct task *t = ud;
	struct act *a = t->act;
	struct room_facts *f = &t->c->facts;

	if (a->stopped)
		return;
	/* The records show what the decision was taken on. */
	if (fresh->joined_members >= 0) {
		f->joined_members = fresh->joined_members;
		f->joined_local_members = fresh->joined_local_members;
	}
	if (fresh->last_activity.state == FACT_KNOWN)
		fact_time_copy(&f->last_activity, &fresh->last_activity);
	switch (r) {
	case VERIFY_OK:
		if (verified_too_large(t, fresh))
			return;
		if (a->ctx->dry_run)
			task_finish(t, OUTCOME_WOULD_DELETE, "re-verified: %s", why);
		else if (a->no_more)
			task_finish(t, OUTCOME_REFUSED, "%s", a->no_more);
		else
			send_delete(t);
		return;
	case VERIFY_CHANGED:
		task_finish(t, OUTCOME_CHANGED, "re-verified: %s", why);
		return;
	case VERIFY_PROTECTED:
		task_finish(t, a->ctx->apply_mode ? OUTCOME_REFUSED : OUTCOME_CHANGED, "%s", why);
		return;
	case VERIFY_GONE:
		task_finish(t, OUTCOME_CHANGED, "the room no longer exists (details: 404): nothing to delete");
		return;
	case VERIFY_FORGOTTEN:
		task_finish(t, OUTCOME_CHANGED, "%s: not deleted again", why);
		return;
	case VERIFY_DOUBT:
		task_finish(t, OUTCOME_KEPT_UNKNOWN, "re-verification failed, kept: %s", why);
		return;
	case VERIFY_AUTH:
		stop_auth(a, why);
		return;
	}
}

static void start_delete(struct act *a, struct candidate *c)
{
	struct task *t = task_new(a, c, false);
	struct verify_request rq = {
		.http = a->ctx->http,
		.decide = a->ctx->decide,
		.server_name = a->ctx->server_name,
		.facts = &c->facts,
		.rule = c->rule,
		.only_rule = a->ctx->apply_mode,
	};

	t->step = STEP_VERIFY;
	verify_room(&rq, on_verified, t); /* may finish t at once */
}

/* --- resuming the deletes of earlier runs (DESIGN.md §6.6) --- */

static struct candidate *find_candidate(struct act *a, const char *room_id)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->c[i].facts.room_id && strcmp(a->c[i].facts.room_id, room_id) == 0)
			return &a->c[i];
	return NULL;
}

static void resume_one(struct act *a, const struct state_delete *d)
{
	struct candidate *c = find_candidate(a, d->room_id);
	struct task *t;
	bool synthetic = !c;

	if (!c) {
		c = xcalloc(1, sizeof(*c));
		room_facts_clear(&c->facts);
		c->facts.room_id = xstrdup(d->room_id);
	}
	t = task_new(a, c, true);
	t->synthetic = synthetic;
	t->requested_ms = d->requested_ms;
	if (d->phase == STATE_PENDING) {
		/* Each run polls a resumed delete for up to delete.timeout:
		 * a long purge is not "failed" again after one poll. */
		start_polling(t, d->delete_id, clock_wall_ms());
		t->next_poll_ms = clock_mono_ms(); /* the first poll at once */
	} else {
		lookup_submit(t, LOOKUP_RESUMED, NULL);
	}
}

static void resume_all(struct act *a)
{
	const struct state_delete *d;
	size_t n = state_deletes(a->ctx->state, &d);
	struct state_delete *copy = xcalloc(n + 1, sizeof(*copy));
	size_t k = 0;

	/* Copied: settling one changes the state's arrays. */
	for (size_t i = 0; i < n; i++) {
		if (d[i].phase == STATE_COMPLETED)
			continue;
		copy[k] = d[i];
		copy[k].room_id = xstrdup(d[i].room_id);
		copy[k].delete_id = xstrdup(d[i].delete_id);
		k++;
	}
	if (k)
		log_info("resuming %zu delete%s of earlier runs", k, k == 1 ? "" : "s");
	for (size_t i = 0; i < k; i++) {
		resume_one(a, &copy[i]);
		free(copy[i].room_id);
		free(copy[i].delete_id);
	}
	free(copy);
}

/* --- the loop --- */

static void start_tasks(struct act *a)
{
	unsigned limit = a->ctx->policy->delete.concurrency ? a->ctx->policy->delete.concurrency : 1;

	while (!a->stopped && a->active < limit && a->next < a->n) {
		struct candidate *c = &a->c[a->next++];

		if (c->outcome == OUTCOME_WOULD_DELETE)
			start_delete(a, c);
	}
}

/* Submits the polls that are due; returns the earliest future one, or -1. */
static int64_t poll_due(struct act *a)
{
	int64_t now = clock_mono_ms(), soonest = -1;

	for (struct task *t = a->tasks; t; t = t->next) {
		if (t->step != STEP_WAIT)
			continue;
		if (t->next_poll_ms <= now)
			poll_submit(t);
		else if (soonest < 0 || t->next_poll_ms < soonest)
			soonest = t->next_poll_ms;
	}
	return soonest;
}

static void wait_until(struct act *a, int64_t when)
{
	int64_t left;

	while (!act_should_stop(a) && (left = when - clock_mono_ms()) > 0) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = (left > 100 ? 100 : left) * 1000000L };

		nanosleep(&ts, NULL);
	}
}

static bool more_to_start(const struct act *a)
{
	for (size_t i = a->next; i < a->n; i++)
		if (a->c[i].outcome == OUTCOME_WOULD_DELETE)
			return true;
	return false;
}

/* Until every task has finished, or the run is stopped. */
static void drive(struct act *a, bool start)
{
	for (;;) {
		int64_t soonest;

		if (start)
			start_tasks(a);
		soonest = poll_due(a);
		if (act_should_stop(a))
			break;
		if (http_pending(a->ctx->http) > 0) {
			http_run(a->ctx->http, act_should_stop, a);
			continue;
		}
		if (soonest >= 0) {
			wait_until(a, soonest);
			continue;
		}
		if (!a->tasks && !(start && more_to_start(a)))
			break;
		if (a->tasks && !(start && more_to_start(a))) {
			/* Every live task has a request in flight or a poll
			 * due; reaching here would be a bug: do not spin. */
			log_error("deletes: %s stalled", room_of(a->tasks));
			break;
		}
	}
}

/* Interrupted or the token refused: what is unfinished is left for the
 * next run, which resumes any delete in flight from the state file. */
static void abandon_rest(struct act *a)
{
	const char *why = a->res->auth_failed ? "the token was refused" : "the run was interrupted";

	if (!a->stopped)
		return;
	http_cancel_all(a->ctx->http);
	while (a->tasks) {
		struct task *t = a->tasks;

		if (t->c->delete_id || t->step == STEP_DELETE || t->step == STEP_LOOKUP)
			task_finish(t, OUTCOME_DEFERRED, "%s while the delete was in progress; the next "
				    "run resumes it from the state file", why);
		else if (t->resumed)
			task_finish(t, OUTCOME_KEPT, NULL);
		else
			task_finish(t, OUTCOME_DEFERRED, "%s before the room was deleted", why);
	}
}

static void log_breaker(const struct act_result *res)
{
	log_event(LOG_ALERT, MSGID_BREAKER_TRIPPED, NULL, 0, "%s", res->why);
}

static void emit_rest(struct act *a, bool include_would_delete)
{
	for (size_t i = 0; i < a->n; i++) {
		struct candidate *c = &a->c[i];

		if (a->emitted[i] || c->outcome == OUTCOME_KEPT ||
		    (c->outcome == OUTCOME_WOULD_DELETE && !include_would_delete))
			continue;
		a->emitted[i] = true;
		a->ctx->emit(a->ctx->emit_ud, c);
	}
}

void act_run(const struct act_context *ctx, struct candidate *c, size_t n, struct act_result *res)
{
	struct act a = { .ctx = ctx, .res = res, .c = c, .n = n };
	const char *why;
	bool execute;

	memset(res, 0, sizeof(*res));
	a.emitted = xcalloc(n + 1, sizeof(bool));
	load_test_hooks(&a);
	/* Sorted once before anything points into the array (act_plan sorts
	 * again: a total order, so nothing moves). */
	act_sort(c, n);
	if (ctx->state) {
		resume_all(&a);
		drive(&a, false);
		abandon_rest(&a);
	}
	if (!a.stopped) {
		act_plan(ctx, c, n, clock_wall_ms(), res);
		if (res->breaker_tripped)
			log_breaker(res);
	}
	if (ctx->state && save_state(&a) < 0 && !ctx->dry_run)
		a.no_more = xasprintf("the state file %s could not be written", state_path(ctx->state));
	/* A scheduled dry-run ends here; --apply --dry-run re-verifies. */
	execute = !a.stopped && (!ctx->dry_run || ctx->apply_mode);
	emit_rest(&a, !execute);
	if (execute) {
		drive(&a, true);
		abandon_rest(&a);
	}
	if (a.stopped) {
		why = res->auth_failed ? "the token was refused" : "the run was interrupted";
		for (size_t i = 0; i < n; i++)
			if (c[i].outcome == OUTCOME_KEPT ||
			    (c[i].outcome == OUTCOME_WOULD_DELETE && !a.emitted[i]))
				candidate_set_outcome(&c[i], OUTCOME_DEFERRED, "%s before the room's turn", why);
	}
	emit_rest(&a, true);
	free(a.emitted);
	free(a.no_more);
}
