/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "apply.h"
#include "http.h"
#include "log.h"
#include "exit-codes.h"
#include "message-ids.h"
#include "random.h"
#include "pool.h"
#include "records.h"
#include "report.h"
#include "run.h"
#include "scan.h"
#include "state.h"
#include "synapse.h"
#include "xmalloc.h"
#include "buf.h"
#include "clock.h"

struct run {
	const struct run_options *o;
	const struct policy *p;
	struct run_summary *s;
	bool dry_run;
	struct http_client *http;
	struct records *records;
	bool listed;                    /* every page read (or the --apply CSV parsed) */
	bool records_failed;            /* a records write failed: said once */
	struct state *state;            /* locked for the whole run */
	char *server_name;
	char **protected_ids;           /* resolved exact aliases, sorted */
	size_t n_protected_ids;
	char *forbid_deletes;           /* why this run must not delete, or NULL */
	char *clock_problem;            /* our clock and the server's disagree */
	struct pool pool;               /* delete verdicts, decided after the scan */
	int pool_error;                 /* a candidate could not be held back */
	int64_t now_ms;
};

/* --- one synchronous request, for the few calls before the scan --- */

struct sync_call {
	enum synapse_result result;
	char why[256];
	char *body;
	size_t len;
	int64_t server_date_ms;         /* the Date header, -1 absent */
	int64_t our_ms;                 /* our clock when the answer came */
};

static void on_sync_done(const struct http_response *r, void *ud)
{
	struct sync_call *c = ud;

	c->result = synapse_classify(r, c->why, sizeof(c->why));
	c->body = xstrndup(r->body, r->body_len);
	c->len = r->body_len;
	c->server_date_ms = r->date_ms;
	c->our_ms = clock_wall_ms();
}

static int get_sync(struct run *run, const char *path, bool auth, struct sync_call *c)
{
	int r;

	memset(c, 0, sizeof(*c));
	r = http_get(run->http, path, auth, on_sync_done, c);
	if (r < 0)
		return r;
	r = http_run(run->http, run->o->should_stop, run->o->stop_ud);
	if (r < 0 && !c->body)
		snprintf(c->why, sizeof(c->why), "interrupted");
	return r;
}

static void sync_call_free(struct sync_call *c)
{
	free(c->body);
	c->body = NULL;
}

static void run_fail(struct run *run, const char *fmt, ...) SJ_PRINTF(2, 3);
static void run_fail(struct run *run, const char *fmt, ...)
{
	va_list ap;

	if (run->s->failure[0])
		return;
	va_start(ap, fmt);
	vsnprintf(run->s->failure, sizeof(run->s->failure), fmt, ap);
	va_end(ap);
}

static const char *auth_advice(enum synapse_result r)
{
	switch (r) {
	case SYNAPSE_MISSING_TOKEN:
		return "the server saw no access token";
	case SYNAPSE_UNKNOWN_TOKEN:
		return "the access token is unknown or expired";
	case SYNAPSE_NOT_ADMIN:
		return "the access token does not belong to a server admin";
	default:
		return "the request failed";
	}
}

/* Every age is measured with our own clock; the server's Date header is the
 * only outside check we get (DESIGN.md §6.11). More than 5 minutes apart,
 * this run deletes nothing and fails. */
static void check_clock(struct run *run, const struct sync_call *c)
{
	char ours[32], theirs[32], *fields[4];
	int64_t skew = c->our_ms - c->server_date_ms;

	if (c->server_date_ms < 0) {
		log_warn("the homeserver's answer has no Date header: this machine's clock cannot be checked");
		return;
	}
	if (skew <= CLOCK_SKEW_MS && skew >= -CLOCK_SKEW_MS)
		return;
	clock_format_rfc3339(c->our_ms, ours, sizeof(ours));
	clock_format_rfc3339(c->server_date_ms, theirs, sizeof(theirs));
	run->clock_problem = xasprintf("this machine's clock says %s, the homeserver's Date header says %s "
				       "(%+lld s apart, more than 5 minutes)", ours, theirs,
				       (long long)(skew / 1000));
	fields[0] = xasprintf("RUN_ID=%s", run->s->run_id);
	fields[1] = xasprintf("OUR_TIME=%s", ours);
	fields[2] = xasprintf("SERVER_TIME=%s", theirs);
	fields[3] = xasprintf("SKEW_SECONDS=%lld", (long long)(skew / 1000));
	log_event(LOG_ERR, MSGID_CLOCK_SKEW, (const char *const *)fields, ARRAY_SIZE(fields),
		  "clock check failed: %s; no room is deleted this run", run->clock_problem);
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		free(fields[i]);
	if (!run->forbid_deletes)
		run->forbid_deletes = xasprintf("clock check failed: %s", run->clock_problem);
}

/* server_version (no auth: the URL; its Date header checks our clock in a
 * run), whoami (the token, our server name) and, when asked, one admin call
 * (admin rights). */
static int probe_server(struct run *run, bool admin_call)
{
	struct sync_call c;
	char *version = NULL, *user = NULL, err[160];
	int r = 0;

	if (get_sync(run, SYNAPSE_PATH_SERVER_VERSION, false, &c) == -ECANCELED) {
		run_fail(run, "%s: server_version: interrupted before an answer came", run->p->homeserver.url);
		r = -ECANCELED;
		goto out;
	}
	if (c.result != SYNAPSE_OK ||
	    synapse_parse_server_version(c.body, c.len, &version, err, sizeof(err)) < 0) {
		run_fail(run, "%s: server_version: %s", run->p->homeserver.url,
			 c.result == SYNAPSE_OK ? err : c.why);
		r = -EHOSTUNREACH;
		goto out;
	}
	{
		struct buf v = { 0 };

		buf_puts(&v, "");
		report_append_printable(&v, version, 80);
		log_info("homeserver %s runs Synapse %s", run->p->homeserver.url, v.data);
		buf_free(&v);
	}
	if (run->s->run_id[0])
		check_clock(run, &c);
	sync_call_free(&c);

	if (get_sync(run, SYNAPSE_PATH_WHOAMI, true, &c) == -ECANCELED) {
		run_fail(run, "whoami: interrupted before an answer came");
		r = -ECANCELED;
		goto out;
	}
	if (synapse_result_is_auth(c.result)) {
		run_fail(run, "token refused: %s (%s)", auth_advice(c.result), c.why);
		r = -EACCES;
		goto out;
	}
	if (c.result != SYNAPSE_OK || synapse_parse_whoami(c.body, c.len, &user, err, sizeof(err)) < 0 ||
	    !(run->server_name = synapse_server_name_of(user))) {
		run_fail(run, "whoami: %s", c.result == SYNAPSE_OK ? err : c.why);
		r = -EPROTO;
		goto out;
	}
	sync_call_free(&c);

	if (admin_call) {
		char *path = synapse_path_room_list(0, 1);

		r = get_sync(run, path, true, &c) == -ECANCELED ? -ECANCELED : 0;
		free(path);
		if (r == -ECANCELED) {
			run_fail(run, "admin API: interrupted before an answer came");
		} else if (synapse_result_is_auth(c.result)) {
			run_fail(run, "token refused: %s (%s)", auth_advice(c.result), c.why);
			r = -EACCES;
		} else if (c.result != SYNAPSE_OK) {
			run_fail(run, "admin API: %s", c.why);
			r = -EPROTO;
		}
	}
out:
	sync_call_free(&c);
	free(version);
	free(user);
	return r;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Exact protected aliases are resolved every run: names and aliases turn
 * null in the list once local members leave (DESIGN.md §5). A resolution
 * that fails for another reason than "not found" forbids deletes. */
static int resolve_protected_aliases(struct run *run)
{
	const struct string_list *aliases = &run->p->protect.aliases;

	run->protected_ids = xcalloc(aliases->n + 1, sizeof(char *));
	for (size_t i = 0; i < aliases->n; i++) {
		const char *alias = aliases->items[i];
		char *path, *room_id = NULL, err[160];
		struct sync_call c;

		if (!policy_alias_is_exact(alias))
			continue;
		path = synapse_path_directory(alias);
		get_sync(run, path, true, &c);
		free(path);
		if (c.result == SYNAPSE_OK &&
		    synapse_parse_directory(c.body, c.len, &room_id, err, sizeof(err)) == 0) {
			run->protected_ids[run->n_protected_ids++] = room_id;
		} else if (c.result == SYNAPSE_NOT_FOUND) {
			log_warn("protected alias %s does not resolve to a room", alias);
		} else if (synapse_result_is_auth(c.result)) {
			run_fail(run, "token refused: %s (%s)", auth_advice(c.result), c.why);
			sync_call_free(&c);
			return -EACCES;
		} else if (!run->forbid_deletes) {
			run->forbid_deletes = xasprintf("protected alias %s could not be resolved: %s",
							alias, c.result == SYNAPSE_OK ? err : c.why);
			log_warn("%s: no room will be deleted this run", run->forbid_deletes);
		}
		sync_call_free(&c);
	}
	qsort(run->protected_ids, run->n_protected_ids, sizeof(char *), compare_strings);
	return 0;
}

/* --- decisions: journal, console, records --- */

static void emit(struct run *run, const struct room_facts *f, const struct rule *rule,
		 enum outcome o, const char *reason, const char *delete_id)
{
	struct decision d = {
		.run_id = run->s->run_id,
		.time_ms = clock_wall_ms(),
		.room = f,
		.rule = rule,
		.outcome = o,
		.reason = reason,
		.delete_id = delete_id,
		.inactive_days = decide_inactive_days(f, run->now_ms),
		.dry_run = run->dry_run,
	};
	int r;

	run->s->counts[o]++;
	if (o != OUTCOME_KEPT || log_verbose())
		report_log_decision(&d);
	r = records_add(run->records, &d);
	if (r < 0 && !run->records_failed) {
		run->records_failed = true;
		log_error("writing the records failed: %s; the run goes on and fails at its end",
			  strerror(-r));
	}
}

static void on_verdict(void *ud, struct room_facts *f, const struct verdict *v)
{
	struct run *run = ud;
	struct candidate c;
	int r;

	switch (v->kind) {
	case VERDICT_KEEP:
		emit(run, f, NULL, OUTCOME_KEPT, v->reason, NULL);
		break;
	case VERDICT_PROTECTED:
		emit(run, f, NULL, OUTCOME_PROTECTED, v->reason, NULL);
		break;
	case VERDICT_KEEP_UNKNOWN:
		emit(run, f, NULL, OUTCOME_KEPT_UNKNOWN, v->reason, NULL);
		break;
	case VERDICT_RECORD:
		run->s->candidates++;
		emit(run, f, v->rule, OUTCOME_RECORDED, v->reason, NULL);
		break;
	case VERDICT_DELETE:
		/* Decided after the scan, when the caps can be applied. */
		run->s->candidates++;
		memset(&c, 0, sizeof(c));
		c.facts = *f;
		memset(f, 0, sizeof(*f));
		/* Held until the scan ends, so only what the plan and the records
		 * use: the re-verification reads the creator and the newest
		 * event anew. */
		free(c.facts.creator);
		c.facts.creator = NULL;
		free(c.facts.last_event_id);
		c.facts.last_event_id = NULL;
		prior_state_clear(&c.facts.prior);
		c.rule = v->rule;
		c.reason = xstrdup(v->reason);
		r = pool_offer(&run->pool, &c, run->now_ms);
		if (r < 0 && !run->pool_error) {
			run->pool_error = r;
			log_error("holding back a delete candidate failed: %s", strerror(-r));
		}
		break;
	case VERDICT_NEED_FACTS:
		break; /* scan.c resolves these before delivering */
	}
}

static void on_candidate(void *ud, struct candidate *c)
{
	emit(ud, &c->facts, c->rule, c->outcome, c->reason, c->delete_id);
}

/* --- the run --- */

static void make_run_id(char *buf, size_t len)
{
	snprintf(buf, len, "%016llx", (unsigned long long)random_u64());
}

static int http_open(struct run *run, const char *token)
{
	const struct policy *p = run->p;
	struct http_config cfg = {
		.base_url = p->homeserver.url,
		.token = token,
		.timeout_ms = (uint64_t)clock_ms_after(0, p->homeserver.timeout),
		.concurrency = p->homeserver.concurrency,
		.rate_limit = p->homeserver.rate_limit,
		.tls_verify = p->homeserver.tls_verify,
		.ca_file = p->homeserver.ca_file,
	};
	int r = http_client_new(&cfg, &run->http);

	if (r < 0)
		run_fail(run, "HTTP client: %s", strerror(-r));
	return r;
}

static void check_listing(struct run *run, const struct scan_result *sr)
{
	if (sr->first_total >= 0 && (uint64_t)sr->first_total != sr->rooms)
		log_warn("the room list announced %lld rooms, %llu distinct rooms were seen "
			 "(rooms created or deleted during the scan, or a truncated listing)",
			 (long long)sr->first_total, (unsigned long long)sr->rooms);
	if (sr->duplicates)
		log_info("%llu rows appeared twice (the list shifted during the scan)",
			 (unsigned long long)sr->duplicates);
	if (sr->bad_rows)
		log_warn("%llu room list rows had no usable room_id and were skipped",
			 (unsigned long long)sr->bad_rows);
	if (sr->recalled)
		log_info("%llu rooms without a local member took their last activity from the state file "
			 "(their counts had not changed)", (unsigned long long)sr->recalled);
}

static int do_scan(struct run *run, struct scan_result *sr)
{
	struct decide_context dctx = {
		.policy = run->p,
		.now_ms = run->now_ms,
		.protected_ids = run->protected_ids,
		.n_protected_ids = run->n_protected_ids,
	};
	struct scan_config cfg = {
		.http = run->http, .state = run->state, .decide = &dctx, .on_verdict = on_verdict, .ud = run,
	};
	struct act_context actx = {
		.policy = run->p,
		.decide = &dctx,
		.http = run->http,
		.state = run->state,
		.server_name = run->server_name,
		.dry_run = run->dry_run,
		.forbid_deletes = run->forbid_deletes,
		.emit = on_candidate,
		.emit_ud = run,
		.should_stop = run->o->should_stop,
		.stop_ud = run->o->stop_ud,
	};
	struct act_result ar;
	struct candidate *kept;
	size_t n_kept;
	int r;

	pool_init(&run->pool, &actx);
	r = scan_run(&cfg, run->o->should_stop, run->o->stop_ud, sr);
	run->s->scanned = sr->rooms;
	if (r < 0) {
		if (sr->auth_failed)
			run_fail(run, "token refused during the scan (is it still valid, and an admin's?): %s",
				 sr->error);
		else
			run_fail(run, "%s", sr->error);
		run->s->interrupted = sr->interrupted;
		return r;
	}
	run->listed = true;
	check_listing(run, sr);
	actx.rooms_scanned = sr->rooms;
	actx.first_total = sr->first_total;
	actx.recently_deleted = run->state ? state_completed_count(run->state) : 0;
	actx.candidates_total = run->pool.total;
	actx.sightings_recorded = true;
	kept = pool_kept(&run->pool, &n_kept);
	act_run(&actx, kept, n_kept, &ar);
	r = pool_report(&run->pool, ar.breaker_tripped ? ar.why : NULL, on_candidate, run);
	if (r < 0 || run->pool_error) {
		run_fail(run, "reporting the delete candidates held back failed: %s",
			 strerror(-(r < 0 ? r : run->pool_error)));
		return r < 0 ? r : run->pool_error;
	}
	if (ar.breaker_tripped || ar.auth_failed || ar.interrupted) {
		run_fail(run, "%s", ar.why);
		run->s->interrupted = ar.interrupted;
		return -ECANCELED;
	}
	if (run->s->counts[OUTCOME_FAILED]) {
		run_fail(run, "%llu deletes failed", (unsigned long long)run->s->counts[OUTCOME_FAILED]);
		return -EIO;
	}
	return 0;
}

/* --apply FILE (DESIGN.md §4): the rows an admin left in a candidates CSV,
 * each re-verified live against its rule and the current protections. */
static int do_apply(struct run *run)
{
	const char *file = run->o->apply_csv;
	struct decide_context dctx = {
		.policy = run->p,
		.now_ms = run->now_ms,
		.protected_ids = run->protected_ids,
		.n_protected_ids = run->n_protected_ids,
	};
	struct act_context actx = {
		.policy = run->p,
		.decide = &dctx,
		.http = run->http,
		.state = run->state,
		.server_name = run->server_name,
		.dry_run = run->dry_run,
		.apply_mode = true,
		.first_total = -1,
		.forbid_deletes = run->forbid_deletes,
		.emit = on_candidate,
		.emit_ud = run,
		.should_stop = run->o->should_stop,
		.stop_ud = run->o->stop_ud,
	};
	struct apply_rows rows = { 0 };
	struct act_result ar;
	char *data = NULL, err[512];
	size_t len = 0;
	int r = apply_read_file(file, &data, &len);

	if (r < 0) {
		run_fail(run, "--apply %s: %s", file, strerror(-r));
		return r;
	}
	r = apply_parse(run->p, file, data, len, &rows, err, sizeof(err));
	free(data);
	if (r < 0) {
		run_fail(run, "--apply: %s", err);
		return r;
	}
	run->listed = true;
	apply_refuse_protected(&dctx, file, &rows);
	log_info("--apply %s: %zu rows to act on, %zu refused, %zu skipped (kept, protected, in doubt)",
		 file, rows.n - rows.refused, rows.refused, rows.skipped);
	run->s->candidates = rows.n;
	run->s->applied = true;
	act_run(&actx, rows.c, rows.n, &ar);
	apply_rows_free(&rows);
	if (ar.breaker_tripped || ar.auth_failed || ar.interrupted) {
		run_fail(run, "%s", ar.why);
		run->s->interrupted = ar.interrupted;
		return -ECANCELED;
	}
	if (run->s->counts[OUTCOME_FAILED] || run->s->counts[OUTCOME_REFUSED]) {
		run_fail(run, "%llu deletes failed, %llu rows refused",
			 (unsigned long long)run->s->counts[OUTCOME_FAILED],
			 (unsigned long long)run->s->counts[OUTCOME_REFUSED]);
		return -EIO;
	}
	return 0;
}

/* One process at a time (DESIGN.md §6.6); a damaged state file cannot tell
 * grace periods or pending deletes, so that run deletes nothing. */
static int open_state(struct run *run)
{
	char why[512];
	int r = state_open(run->p->state_file, run->now_ms, &run->state, why, sizeof(why));

	if (r == -EBADMSG) {
		char *fields[] = { xasprintf("RUN_ID=%s", run->s->run_id) };

		log_event(LOG_ERR, MSGID_STATE_CORRUPT, (const char *const *)fields, 1,
			  "state file unusable: %s; nothing is deleted this run", why);
		free(fields[0]);
		run->forbid_deletes = xasprintf("the state file was unusable and was moved aside");
		return 0;
	}
	if (r < 0)
		run_fail(run, "state file: %s; nothing is deleted and the file is left as it is", why);
	return r;
}

static int open_records(struct run *run)
{
	int r = records_open(run->p, run->s->started_ms, &run->records);

	if (r < 0)
		run_fail(run, "cannot open the records (%s, %s): %s",
			 run->p->records.csv ? run->p->records.csv : "-",
			 run->p->records.jsonl ? run->p->records.jsonl : "-", strerror(-r));
	return r;
}

/* The CSV is put in place by every run that listed all the rooms, whatever
 * its exit status: after a tripped breaker or a failed delete the admin
 * needs it most. A run that did not finish listing leaves the previous CSV
 * as it was. The JSONL keeps every decision that was made, and reaches the
 * disk before the run ends. */
static void close_records(struct run *run)
{
	char *csv = xstrdup(records_csv_path(run->records));
	char why[512];
	int r = records_close(run->records, run->listed, why, sizeof(why));

	run->records = NULL;
	if (r < 0) {
		log_error("writing the records failed: %s", why);
		run_fail(run, "writing the records failed: %s", why);
		run->s->exit_code = EXIT_RUN_FAILED;
	} else if (csv && run->listed) {
		log_info("candidates written to %s", csv);
	} else if (csv) {
		log_warn("the run did not list every room: %s is left as the previous run wrote it", csv);
	}
	free(csv);
}

static void run_free(struct run *run)
{
	pool_free(&run->pool);
	for (size_t i = 0; i < run->n_protected_ids; i++)
		free(run->protected_ids[i]);
	free(run->protected_ids);
	free(run->forbid_deletes);
	free(run->clock_problem);
	free(run->server_name);
	http_client_free(run->http);
	state_close(run->state);
}

int run_once(const struct run_options *o, struct run_summary *s)
{
	struct run run = { .o = o, .p = o->policy, .s = s };
	struct scan_result sr = { 0 };
	int64_t t0 = clock_mono_ms();
	int r;

	memset(s, 0, sizeof(*s));
	make_run_id(s->run_id, sizeof(s->run_id));
	s->started_ms = run.now_ms = clock_wall_ms();
	/* --apply is an explicit human act: only --dry-run holds it back. */
	run.dry_run = o->force_dry_run || (!o->apply_csv && o->policy->dry_run);
	report_run_start(s, run.dry_run, run.p->path, run.p->homeserver.url);
	/* An I/O failure here means the run could not complete: exit 1 (a
	 * usage error, 2, is found before any run starts). */
	if (open_state(&run) < 0 || open_records(&run) < 0) {
		s->exit_code = EXIT_RUN_FAILED;
		goto out;
	}
	r = http_open(&run, o->token);
	if (r == 0)
		r = probe_server(&run, true);
	if (r == 0)
		r = resolve_protected_aliases(&run);
	if (r == 0)
		r = o->apply_csv ? do_apply(&run) : do_scan(&run, &sr);
	if (r == 0 && run.clock_problem) {
		/* No candidate was refused, but every age was judged on a clock
		 * that cannot be trusted: the run still fails. */
		run_fail(&run, "clock check failed: %s", run.clock_problem);
		r = -ERANGE;
	}
	s->completed = r == 0;
	s->exit_code = r == 0 ? EXIT_OK : EXIT_RUN_FAILED;
	close_records(&run);
out:
	s->requests = run.http ? http_requests_sent(run.http) : 0;
	s->duration_ms = (uint64_t)(clock_mono_ms() - t0);
	report_run_end(s, run.dry_run);
	run_free(&run);
	return s->exit_code;
}

int run_check_server(const struct policy *p, const char *token, bool (*should_stop)(void *ud),
		     void *stop_ud, char *why, size_t whylen)
{
	struct run_options o = { .policy = p, .token = token, .should_stop = should_stop,
				 .stop_ud = stop_ud };
	struct run_summary s = { 0 };
	struct run run = { .o = &o, .p = p, .s = &s };
	int r = http_open(&run, token);

	if (r == 0)
		r = probe_server(&run, true);
	snprintf(why, whylen, "%s", s.failure);
	run_free(&run);
	return r;
}

void run_warn_token_exposure(const struct policy *p)
{
	char why[600];

	if (http_token_exposure(p->homeserver.url, p->homeserver.tls_verify, why, sizeof(why)) > 0)
		log_warn("%s", why);
}

int run_probe_open(const struct policy *p, const char *token, bool (*should_stop)(void *ud),
		   void *stop_ud, struct run_probe *pr)
{
	struct run_options o = { .policy = p, .token = token, .should_stop = should_stop, .stop_ud = stop_ud };
	struct run_summary s = { 0 };
	struct run run = { .o = &o, .p = p, .s = &s };
	int r;

	memset(pr, 0, sizeof(*pr));
	/* A run id, so that the clock is checked as a run checks it. */
	snprintf(s.run_id, sizeof(s.run_id), "explain");
	run.now_ms = clock_wall_ms();
	r = http_open(&run, token);
	if (r == 0)
		r = probe_server(&run, true);
	if (r == 0)
		r = resolve_protected_aliases(&run);
	snprintf(pr->failure, sizeof(pr->failure), "%s", s.failure);
	/* What the probe found is handed over; the rest is freed. */
	pr->http = run.http;
	pr->server_name = run.server_name;
	pr->protected_ids = run.protected_ids;
	pr->n_protected_ids = run.n_protected_ids;
	pr->forbid_deletes = run.forbid_deletes;
	run.http = NULL;
	run.server_name = NULL;
	run.protected_ids = NULL;
	run.n_protected_ids = 0;
	run.forbid_deletes = NULL;
	run_free(&run);
	return r;
}

void run_probe_close(struct run_probe *pr)
{
	for (size_t i = 0; i < pr->n_protected_ids; i++)
		free(pr->protected_ids[i]);
	free(pr->protected_ids);
	free(pr->server_name);
	free(pr->forbid_deletes);
	http_client_free(pr->http);
	memset(pr, 0, sizeof(*pr));
}
