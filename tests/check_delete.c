/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The deletion path end to end: the program (its test build) against the
 * test homeserver, with old- and new-style delete statuses, failing and
 * hanging deletes, 429/5xx on the DELETE and on status polls, the breaker,
 * truncated listings, grace across runs, max_per_run ordering, stale
 * statistics caught by the re-verification, crashes around the DELETE, a
 * corrupt state file, the lock, and --apply with an edited CSV. Every test
 * checks that no room ever received more than one DELETE. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "suite.h"
#include "testlib.h"
#include "util.h"

#define TOKEN "sj-delete-S3CRET-4b1d"
#define FAST_POLL "SYNAPSE_JANITOR_TEST_POLL_MS=20,200"

struct t {
	struct fake_server fs;
	char *dir;
	char *policy;
	struct test_output out;
	struct json_object *decisions; /* room_id -> outcome of the last run */
	struct json_object *reasons;   /* room_id -> reason */
};

/* The most DELETEs any room received, over all tests of this process (each
 * test runs in a forked child, so it is also reported per test). */
static int64_t max_deletes_seen;

/* Each test runs in a forked child: the maximum goes through a file. */
static void note_max(int64_t c)
{
	const char *path = getenv("SJ_TEST_MAX_DELETES_FILE");
	FILE *f = path ? fopen(path, "a") : NULL;

	max_deletes_seen = c;
	if (f) {
		fprintf(f, "%lld\n", (long long)c);
		fclose(f);
	}
}

static int64_t read_max(const char *path)
{
	FILE *f = fopen(path, "r");
	long long v, max = 0;

	while (f && fscanf(f, "%lld", &v) == 1)
		if (v > max)
			max = v;
	if (f)
		fclose(f);
	return max;
}

static char *src_path(const char *rel)
{
	const char *top = getenv("top_srcdir");

	return xasprintf("%s/%s", top ? top : ".", rel);
}

/* The template, then dry_run and a delete: section with extra lines. */
static void write_policy(struct t *t, bool dry_run, const char *delete_extra)
{
	char *tmpl = src_path("tests/delete/policy.yaml");
	char *text = test_slurp(tmpl), *port = xasprintf("%d", t->fs.port), *a, *b, *full;

	ck_assert_ptr_nonnull(text);
	a = test_replace(text, "@PORT@", port);
	b = test_replace(a, "@DIR@", t->dir);
	full = xasprintf("%sdry_run: %s\ndelete:\n%s%s", b, dry_run ? "true" : "false",
			 delete_extra && strstr(delete_extra, "max_fraction") ? "" : "  max_fraction: 0.5\n",
			 delete_extra ? delete_extra : "  timeout: 10s\n");
	free(t->policy);
	t->policy = test_write_file(t->dir, "policy.yaml", full, 0600);
	free(tmpl), free(text), free(port), free(a), free(b), free(full);
}

static void start(struct t *t, const char *style)
{
	char *world = src_path("tests/delete/world.json");
	const char *args[] = { "--fixture", world, "--admin-token", TOKEN, "--delete-style", style, NULL };

	memset(t, 0, sizeof(*t));
	t->dir = test_tmpdir();
	ck_assert_int_eq(fake_start(&t->fs, args), 0);
	free(test_write_file(t->dir, "admin-token", TOKEN "\n", 0600));
	write_policy(t, false, NULL);
	free(world);
}

static void stop(struct t *t)
{
	fake_stop(&t->fs);
	test_output_free(&t->out);
	test_rmtree(t->dir);
	free(t->dir);
	free(t->policy);
	json_object_put(t->decisions);
	json_object_put(t->reasons);
}

/* The decisions of the last run (the JSONL is appended: take the lines of
 * the newest run_id). */
static void load_decisions(struct t *t)
{
	char *path = xasprintf("%s/decisions.jsonl", t->dir), why[300] = "";

	json_object_put(t->decisions);
	json_object_put(t->reasons);
	ck_assert_msg(test_load_decisions(path, &t->decisions, &t->reasons, why, sizeof(why)) == 0, "%s",
		      why);
	free(path);
}

static int run_args(struct t *t, const char *const *extra, const char *const *env)
{
	char *bin = xasprintf("%s/" TEST_PROGRAM, getenv("top_builddir") ? getenv("top_builddir") : ".");
	const char *argv[16] = { bin, "--log-target=console", "-c", t->policy };
	const char *envv[8] = { FAST_POLL };
	size_t n = 4, m = 1;
	int r;

	for (; extra && *extra; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	for (; env && *env && m < ARRAY_SIZE(envv) - 1; env++)
		envv[m++] = *env;
	envv[m] = NULL;
	test_output_free(&t->out);
	r = test_run(argv, envv, 60, &t->out);
	ck_assert_int_ge(r, 0);
	free(bin);
	load_decisions(t);
	return t->out.exit_status;
}

static int run_once(struct t *t, const char *flag)
{
	const char *extra[] = { "--once", flag, NULL };

	return run_args(t, extra, NULL);
}

static const char *outcome(struct t *t, const char *room)
{
	struct json_object *o;

	return json_object_object_get_ex(t->decisions, room, &o) ? json_object_get_string(o) : "none";
}

static const char *reason(struct t *t, const char *room)
{
	struct json_object *o;

	return json_object_object_get_ex(t->reasons, room, &o) && o ? json_object_get_string(o) : "";
}

#define assert_outcome(t, room, want)                                                           \
	ck_assert_msg(strcmp(outcome(t, room), want) == 0, "%s: %s (%s), want %s\n%s", room,      \
		      outcome(t, room), reason(t, room), want, (t)->out.err)

static int64_t stat_count(struct t *t, const char *endpoint)
{
	struct json_object *stats, *req, *v;
	int64_t n = 0;

	ck_assert_int_eq(fake_stats(&t->fs, &stats), 0);
	if (json_object_object_get_ex(stats, "requests", &req) && json_object_object_get_ex(req, endpoint, &v))
		n = json_object_get_int64(v);
	json_object_put(stats);
	return n;
}

/* DELETEs the server received for room; also checks that no room got more
 * than one, whatever happened. */
static int64_t deletes_of(struct t *t, const char *room)
{
	struct json_object *stats, *deletes, *v;
	int64_t n = 0;

	ck_assert_int_eq(fake_stats(&t->fs, &stats), 0);
	ck_assert(json_object_object_get_ex(stats, "deletes", &deletes));
	json_object_object_foreach(deletes, k, d) {
		int64_t c = json_object_get_int64(d);

		if (c > max_deletes_seen)
			note_max(c);
		ck_assert_msg(c <= 1, "room %s received %lld DELETEs", k, (long long)c);
	}
	if (room && json_object_object_get_ex(deletes, room, &v))
		n = json_object_get_int64(v);
	json_object_put(stats);
	return n;
}

static int64_t total_deletes(struct t *t)
{
	struct json_object *stats, *deletes;
	int64_t n = 0;

	deletes_of(t, NULL);
	ck_assert_int_eq(fake_stats(&t->fs, &stats), 0);
	json_object_object_get_ex(stats, "deletes", &deletes);
	json_object_object_foreach(deletes, k, v) {
		(void)k;
		n += json_object_get_int64(v);
	}
	json_object_put(stats);
	return n;
}

static long room_status(struct t *t, const char *room)
{
	char *esc = test_replace(room, "!", "%21"), *esc2 = test_replace(esc, ":", "%3A");
	char *url = xasprintf("%s/_synapse/admin/v1/rooms/%s", t->fs.url, esc2);
	long status = 0;

	ck_assert_int_eq(test_http("GET", url, NULL, TOKEN, &status, NULL), 0);
	free(url), free(esc), free(esc2);
	return status;
}

static char *state_text(struct t *t)
{
	char *path = xasprintf("%s/state.json", t->dir), *text = test_slurp(path);

	free(path);
	return text ? text : xstrdup("");
}

/* The phase of room's entry in the state file, "" when none. */
static char *state_phase(struct t *t, const char *room)
{
	char *text = state_text(t), *phase;
	struct json_object *o = json_tokener_parse(text), *dels, *d, *p;

	phase = xstrdup(o && json_object_object_get_ex(o, "deletes", &dels) &&
			json_object_object_get_ex(dels, room, &d) && json_object_object_get_ex(d, "phase", &p)
			? json_object_get_string(p) : "");
	json_object_put(o);
	free(text);
	return phase;
}

static void faults(struct t *t, const char *json)
{
	ck_assert_int_eq(fake_set_faults(&t->fs, json), 0);
}

static void assert_err(struct t *t, const char *text)
{
	ck_assert_msg(strstr(t->out.err, text), "stderr lacks \"%s\":\n%s", text, t->out.err);
}

/* ---- dry runs ---- */

START_TEST(test_dry_run_sends_no_delete)
{
	struct t t;

	start(&t, "old");
	/* --dry-run wins over dry_run: false */
	ck_assert_int_eq(run_once(&t, "--dry-run"), 0);
	assert_outcome(&t, "!old1:test.local", "would_delete");
	assert_outcome(&t, "!old3:test.local", "would_delete");
	assert_outcome(&t, "!pinned:test.local", "protected");
	assert_outcome(&t, "!quiet:test.local", "recorded");
	ck_assert_int_eq(stat_count(&t, "delete"), 0);
	ck_assert_int_eq(stat_count(&t, "members"), 0); /* a dry-run does not re-verify */
	/* and the policy's own dry_run */
	write_policy(&t, true, NULL);
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old2:test.local", "would_delete");
	assert_err(&t, "(dry-run, nothing deleted)");
	ck_assert_int_eq(stat_count(&t, "delete"), 0);
	ck_assert_int_eq(total_deletes(&t), 0);
	ck_assert_int_eq(room_status(&t, "!old1:test.local"), 200);
	stop(&t);
}
END_TEST

/* ---- real deletes ---- */

static const char *const styles[] = { "old", "new" };

START_TEST(test_delete_styles)
{
	struct t t;
	char *state, *bodies;
	struct json_object *stats, *b, *v;

	start(&t, styles[_i]);
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "deleted");
	assert_outcome(&t, "!old2:test.local", "deleted");
	assert_outcome(&t, "!old3:test.local", "deleted");
	/* the list and details said 0 local members, /members knows better */
	assert_outcome(&t, "!stale:test.local", "changed");
	ck_assert_ptr_nonnull(strstr(reason(&t, "!stale:test.local"), "1 local"));
	ck_assert_int_eq(deletes_of(&t, "!stale:test.local"), 0);
	assert_outcome(&t, "!pinned:test.local", "protected");
	ck_assert_int_eq(deletes_of(&t, "!pinned:test.local"), 0);
	ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), 1);
	ck_assert_int_eq(room_status(&t, "!old1:test.local"), 404);
	assert_err(&t, "3 deleted, 0 failed");
	/* the body: the policy's flags, never new_room_user_id */
	ck_assert_int_eq(fake_stats(&t.fs, &stats), 0);
	ck_assert(json_object_object_get_ex(stats, "delete_bodies", &b));
	ck_assert(json_object_object_get_ex(b, "!old2:test.local", &v));
	bodies = xstrdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	ck_assert_str_eq(bodies, "{\"purge\":true,\"block\":false,\"force_purge\":false}");
	json_object_put(stats);
	free(bodies);
	/* remembered as completed, with the delete_id */
	state = state_text(&t);
	ck_assert_ptr_nonnull(strstr(state, "\"!old1:test.local\""));
	ck_assert_ptr_nonnull(strstr(state, "completed"));
	free(state);
	/* a second run finds nothing more to delete */
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "none");
	assert_outcome(&t, "!stale:test.local", "changed");
	ck_assert_int_eq(total_deletes(&t), 3);
	stop(&t);
}
END_TEST

START_TEST(test_purge_false_forgotten)
{
	struct t t;

	start(&t, "new");
	write_policy(&t, false, "  purge: false\n  block: true\n  timeout: 10s\n");
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "deleted");
	ck_assert_int_eq(room_status(&t, "!old1:test.local"), 200); /* shut down, not purged */
	/* The room stays listed: the state file says it was deleted. */
	ck_assert_int_eq(run_once(&t, NULL), 0);
	ck_assert_str_ne(outcome(&t, "!old1:test.local"), "deleted");
	ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), 1);
	/* Even without the state file, the details say forgotten. */
	{
		char *path = xasprintf("%s/state.json", t.dir);

		unlink(path);
		free(path);
	}
	ck_assert_int_eq(run_once(&t, NULL), 0);
	ck_assert_str_ne(outcome(&t, "!old1:test.local"), "deleted");
	ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), 1);
	ck_assert_int_eq(total_deletes(&t), 3);
	stop(&t);
}
END_TEST

START_TEST(test_delete_fails)
{
	struct t t;
	char *phase;

	start(&t, styles[_i]);
	faults(&t, "{\"faults\":[{\"endpoint\":\"delete\",\"kind\":\"delete_fail\","
		   "\"room_id\":\"!old2:test.local\",\"count\":-1}]}");
	ck_assert_int_eq(run_once(&t, NULL), 1);
	assert_outcome(&t, "!old1:test.local", "deleted");
	assert_outcome(&t, "!old2:test.local", "failed");
	ck_assert_ptr_nonnull(strstr(reason(&t, "!old2:test.local"), "status failed"));
	if (_i == 0) /* old servers say why */
		ck_assert_ptr_nonnull(strstr(reason(&t, "!old2:test.local"), "database is locked"));
	assert_outcome(&t, "!old3:test.local", "deleted");
	assert_err(&t, "1 failed");
	ck_assert_int_eq(room_status(&t, "!old2:test.local"), 200);
	/* The server settled it: forgotten, so a later run may try again. */
	phase = state_phase(&t, "!old2:test.local");
	ck_assert_str_eq(phase, "");
	free(phase);
	phase = state_phase(&t, "!old1:test.local");
	ck_assert_str_eq(phase, "completed");
	free(phase);
	ck_assert_int_eq(deletes_of(&t, "!old2:test.local"), 1);
	stop(&t);
}
END_TEST

START_TEST(test_delete_never_completes)
{
	struct t t;
	char *phase;

	start(&t, styles[_i]);
	write_policy(&t, false, "  timeout: 2s\n");
	faults(&t, "{\"faults\":[{\"endpoint\":\"delete\",\"kind\":\"delete_hang\","
		   "\"room_id\":\"!old1:test.local\",\"count\":-1}]}");
	ck_assert_int_eq(run_once(&t, NULL), 1);
	assert_outcome(&t, "!old1:test.local", "failed");
	ck_assert_ptr_nonnull(strstr(reason(&t, "!old1:test.local"), "did not complete within 2s"));
	assert_outcome(&t, "!old2:test.local", "deleted");
	/* the delete_id is kept: the next run polls it and sends nothing */
	phase = state_phase(&t, "!old1:test.local");
	ck_assert_str_eq(phase, "pending");
	free(phase);
	ck_assert_int_eq(run_once(&t, NULL), 1);
	assert_outcome(&t, "!old1:test.local", "failed");
	ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), 1);
	stop(&t);
}
END_TEST

struct http_fault {
	const char *what;
	const char *faults;
	int want_exit;
	const char *old1;            /* outcome of !old1 in the first run */
	int64_t old1_deletes;        /* after the first run */
};

static const struct http_fault http_faults[] = {
	{ "429 on the DELETE is waited out",
	  "{\"faults\":[{\"endpoint\":\"delete\",\"kind\":\"429\",\"retry_after_ms\":50,\"count\":2}]}",
	  0, "deleted", 1 },
	{ "503 on status polls is retried",
	  "{\"faults\":[{\"endpoint\":\"delete_status\",\"kind\":\"status\",\"status\":503,\"count\":3}]}",
	  0, "deleted", 1 },
	{ "429 on status polls is waited out",
	  "{\"faults\":[{\"endpoint\":\"delete_status\",\"kind\":\"429\",\"retry_after_ms\":50,\"count\":4}]}",
	  0, "deleted", 1 },
	{ "resets on status polls are retried",
	  "{\"faults\":[{\"endpoint\":\"delete_status\",\"kind\":\"reset\",\"count\":2}]}",
	  0, "deleted", 1 },
	{ "status polls failing for good end in the timeout",
	  "{\"faults\":[{\"endpoint\":\"delete_status\",\"kind\":\"status\",\"status\":500,\"count\":-1}]}",
	  1, "failed", 1 },
	{ "500 on the DELETE: outcome unknown, not re-sent",
	  "{\"faults\":[{\"endpoint\":\"delete\",\"kind\":\"status\",\"status\":500,"
	  "\"room_id\":\"!old1:test.local\",\"count\":1}]}",
	  1, "failed", 0 },
	{ "a reset DELETE: outcome unknown, not re-sent",
	  "{\"faults\":[{\"endpoint\":\"delete\",\"kind\":\"reset\",\"room_id\":\"!old1:test.local\",\"count\":1}]}",
	  1, "failed", 0 },
	{ "a 502 proxy page on the DELETE: outcome unknown",
	  "{\"faults\":[{\"endpoint\":\"delete\",\"kind\":\"status\",\"status\":502,"
	  "\"room_id\":\"!old1:test.local\",\"count\":-1}]}",
	  1, "failed", 0 },
};

START_TEST(test_http_faults)
{
	const struct http_fault *c = &http_faults[_i];
	struct t t;
	int code;

	start(&t, "old");
	write_policy(&t, false, "  timeout: 6s\n");
	faults(&t, c->faults);
	code = run_once(&t, NULL);
	ck_assert_msg(code == c->want_exit, "%s: exit %d\n%s", c->what, code, t.out.err);
	assert_outcome(&t, "!old1:test.local", c->old1);
	ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), c->old1_deletes);
	assert_outcome(&t, "!old3:test.local", c->want_exit ? outcome(&t, "!old3:test.local") : "deleted");
	if (c->old1_deletes == 0)
		ck_assert_ptr_nonnull(strstr(reason(&t, "!old1:test.local"), "delete outcome unknown"));
	/* the next run, faults gone, settles everything, one DELETE per room */
	faults(&t, "{\"faults\":[]}");
	sleep(6); /* past delete.timeout: an unknown outcome may be re-sent */
	code = run_once(&t, NULL);
	ck_assert_msg(code == 0, "%s: second run exit %d\n%s", c->what, code, t.out.err);
	ck_assert_int_eq(room_status(&t, "!old1:test.local"), 404);
	deletes_of(&t, NULL);
	stop(&t);
}
END_TEST

/* A DELETE the server acted on while our request timed out: the lookup by
 * room finds it (old servers at once; current ones once it has started). */
START_TEST(test_lost_answer_acted_on)
{
	struct t t;
	int runs = 0;

	start(&t, styles[_i]);
	write_policy(&t, false, "  max_per_run: 1\n  timeout: 30s\n");
	faults(&t, "{\"faults\":[{\"endpoint\":\"delete\",\"kind\":\"hang\",\"ms\":2500,"
		   "\"room_id\":\"!old1:test.local\",\"count\":1}]}");
	ck_assert_int_eq(run_once(&t, NULL), 1);
	assert_outcome(&t, "!old1:test.local", "failed");
	ck_assert_ptr_nonnull(strstr(reason(&t, "!old1:test.local"), "delete outcome unknown"));
	sleep(1); /* the server now handles the DELETE it held */
	ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), 1);
	/* Next runs: resumed from the state file, never sent again. */
	do {
		run_once(&t, NULL);
		ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), 1);
	} while (strcmp(outcome(&t, "!old1:test.local"), "deleted") != 0 && ++runs < 4);
	assert_outcome(&t, "!old1:test.local", "deleted");
	ck_assert_int_eq(room_status(&t, "!old1:test.local"), 404);
	stop(&t);
}
END_TEST

/* ---- the caps ---- */

START_TEST(test_breaker)
{
	struct t t;

	start(&t, "old");
	write_policy(&t, false, "  max_fraction: 0.3\n  timeout: 10s\n");
	ck_assert_int_eq(run_once(&t, NULL), 1);
	/* 4 delete verdicts among 11 rooms: 36 % > 30 % */
	assert_outcome(&t, "!old1:test.local", "refused");
	assert_outcome(&t, "!stale:test.local", "refused");
	assert_err(&t, "breaker: 4 delete candidates among 11 rooms scanned");
	assert_err(&t, "ALERT");
	ck_assert_int_eq(stat_count(&t, "delete"), 0);
	ck_assert_int_eq(total_deletes(&t), 0);
	/* and a dry-run reports the same */
	ck_assert_int_eq(run_once(&t, "--dry-run"), 1);
	assert_outcome(&t, "!old1:test.local", "refused");
	stop(&t);
}
END_TEST

START_TEST(test_truncated_listing)
{
	struct t t;

	start(&t, "old");
	faults(&t, "{\"faults\":[{\"endpoint\":\"rooms_list\",\"kind\":\"total_mismatch\",\"n\":5,\"count\":-1}]}");
	ck_assert_int_eq(run_once(&t, NULL), 1);
	assert_outcome(&t, "!old1:test.local", "refused");
	assert_err(&t, "saw 11 of 16 rooms");
	ck_assert_int_eq(total_deletes(&t), 0);
	/* within max(2, 1 %): deletes go ahead */
	faults(&t, "{\"faults\":[{\"endpoint\":\"rooms_list\",\"kind\":\"total_mismatch\",\"n\":2,\"count\":-1}]}");
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "deleted");
	stop(&t);
}
END_TEST

START_TEST(test_grace_across_runs)
{
	struct t t;

	start(&t, "new");
	write_policy(&t, false, "  grace_period: 3s\n  timeout: 10s\n");
	/* a dry-run records the first sightings and reports the same */
	ck_assert_int_eq(run_once(&t, "--dry-run"), 0);
	assert_outcome(&t, "!old1:test.local", "deferred");
	ck_assert_ptr_nonnull(strstr(reason(&t, "!old1:test.local"), "grace period 3s"));
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "deferred");
	ck_assert_int_eq(total_deletes(&t), 0);
	sleep(3);
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "deleted");
	assert_outcome(&t, "!old3:test.local", "deleted");
	ck_assert_int_eq(total_deletes(&t), 3);
	stop(&t);
}
END_TEST

START_TEST(test_grace_forgets_non_candidates)
{
	struct t t;

	start(&t, "old");
	write_policy(&t, false, "  grace_period: 3s\n  timeout: 10s\n");
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old2:test.local", "deferred");
	/* someone local joins: no longer a candidate, its sighting is dropped */
	ck_assert_int_eq(fake_update_room(&t.fs, "!old2:test.local",
					  "{\"members\":[\"@alice:test.local\",\"@bob:remote.org\"]}"), 0);
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old2:test.local", "recorded");
	sleep(3);
	ck_assert_int_eq(fake_update_room(&t.fs, "!old2:test.local", "{\"members\":[\"@bob:remote.org\"]}"), 0);
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "deleted");
	assert_outcome(&t, "!old2:test.local", "deferred"); /* its grace starts over */
	stop(&t);
}
END_TEST

START_TEST(test_cap_ordering)
{
	struct t t;

	start(&t, "old");
	write_policy(&t, false, "  max_per_run: 1\n  timeout: 10s\n");
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "deleted"); /* 500 days: first */
	assert_outcome(&t, "!stale:test.local", "capped");  /* 400 days */
	assert_outcome(&t, "!old2:test.local", "capped");
	assert_outcome(&t, "!old3:test.local", "capped");
	ck_assert_int_eq(run_once(&t, NULL), 0);
	/* 400 days: re-verified, changed; the cap was already used for it */
	assert_outcome(&t, "!stale:test.local", "changed");
	assert_outcome(&t, "!old2:test.local", "capped");
	ck_assert_int_eq(run_once(&t, "--dry-run"), 0);
	assert_outcome(&t, "!stale:test.local", "would_delete"); /* a dry-run does not re-verify */
	assert_outcome(&t, "!old2:test.local", "capped");
	ck_assert_int_eq(total_deletes(&t), 1);
	stop(&t);
}
END_TEST

START_TEST(test_concurrency)
{
	struct t t;
	struct json_object *stats, *v;

	start(&t, "old");
	write_policy(&t, false, "  concurrency: 2\n  timeout: 10s\n");
	ck_assert_int_eq(run_once(&t, NULL), 0);
	ck_assert_int_eq(total_deletes(&t), 3);
	ck_assert_int_eq(fake_stats(&t.fs, &stats), 0);
	ck_assert(json_object_object_get_ex(stats, "max_concurrent", &v));
	ck_assert_int_le(json_object_get_int64(v), 4);
	json_object_put(stats);
	stop(&t);
}
END_TEST

/* ---- crash safety ---- */

static const char *const kill_points[] = { "delete-answered", "delete-saved" };

START_TEST(test_crash_around_the_state_write)
{
	const char *style = styles[_i / 2], *point = kill_points[_i % 2];
	char *env_kill = xasprintf("SYNAPSE_JANITOR_TEST_KILL_AT=%s", point), *phase;
	const char *env[] = { env_kill, NULL }, *extra[] = { "--once", NULL };
	struct t t;
	int runs = 0;

	start(&t, style);
	write_policy(&t, false, "  max_per_run: 1\n  timeout: 30s\n");
	ck_assert_int_eq(run_args(&t, extra, env), 128 + 9);
	ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), 1);
	/* before the save the intent is there without a delete_id; after, with it */
	phase = state_phase(&t, "!old1:test.local");
	ck_assert_str_eq(phase, _i % 2 ? "pending" : "requested");
	free(phase);
	/* restarted: the delete is resumed, never sent again */
	do {
		run_once(&t, NULL);
		ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), 1);
	} while (strcmp(outcome(&t, "!old1:test.local"), "deleted") != 0 && ++runs < 4);
	assert_outcome(&t, "!old1:test.local", "deleted");
	ck_assert_int_eq(room_status(&t, "!old1:test.local"), 404);
	free(env_kill);
	stop(&t);
}
END_TEST

/* SIGKILL while polling a slow status endpoint. */
START_TEST(test_crash_while_polling)
{
	struct t t;
	char *bin = xasprintf("%s/" TEST_PROGRAM, getenv("top_builddir") ? getenv("top_builddir") : ".");
	const char *argv[] = { bin, "--once", "--log-target=console", "-c", NULL, NULL };
	const char *env[] = { FAST_POLL, NULL };

	start(&t, styles[_i]);
	write_policy(&t, false, "  max_per_run: 1\n  timeout: 60s\n");
	argv[4] = t.policy;
	faults(&t, "{\"faults\":[{\"endpoint\":\"delete_status\",\"kind\":\"latency\",\"ms\":20000,\"count\":-1}]}");
	ck_assert_int_eq(test_run(argv, env, 3, &t.out), 0);
	ck_assert_int_eq(t.out.exit_status, 128 + 9); /* killed by the test's timeout */
	ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), 1);
	faults(&t, "{\"faults\":[]}");
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "deleted");
	ck_assert_ptr_nonnull(strstr(reason(&t, "!old1:test.local"), "earlier run"));
	ck_assert_int_eq(room_status(&t, "!old1:test.local"), 404);
	/* the resumed delete did not use up max_per_run */
	assert_outcome(&t, "!stale:test.local", "changed");
	ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), 1);
	free(bin);
	stop(&t);
}
END_TEST

START_TEST(test_corrupt_state)
{
	struct t t;
	DIR *d;
	struct dirent *e;
	int aside = 0;

	start(&t, "old");
	free(test_write_file(t.dir, "state.json", "{\"version\":1,\"candidates\":{", 0600));
	ck_assert_int_eq(run_once(&t, NULL), 1);
	assert_outcome(&t, "!old1:test.local", "refused");
	ck_assert_ptr_nonnull(strstr(reason(&t, "!old1:test.local"), "state file"));
	assert_err(&t, "moved aside");
	ck_assert_int_eq(total_deletes(&t), 0);
	d = opendir(t.dir);
	while ((e = readdir(d)))
		aside += strncmp(e->d_name, "state.json.corrupt-", 19) == 0;
	closedir(d);
	ck_assert_int_eq(aside, 1);
	/* the next run starts from the fresh state */
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "deleted");
	stop(&t);
}
END_TEST

START_TEST(test_second_process_locked_out)
{
	struct t t;
	struct state *s = NULL;
	char why[256], *path, pid[32];

	start(&t, "old");
	path = xasprintf("%s/state.json", t.dir);
	ck_assert_int_eq(state_open(path, wallclock_ms(), &s, why, sizeof(why)), 0);
	ck_assert_int_eq(run_once(&t, NULL), 1);
	snprintf(pid, sizeof(pid), "pid %ld", (long)getpid());
	assert_err(&t, pid);
	ck_assert_int_eq(stat_count(&t, "rooms_list"), 0);
	{
		const char *extra[] = { "--apply", "/nonexistent.csv", NULL };

		ck_assert_int_eq(run_args(&t, extra, NULL), 1);
		assert_err(&t, pid);
	}
	state_close(s);
	ck_assert_int_eq(run_once(&t, NULL), 0);
	free(path);
	stop(&t);
}
END_TEST

/* ---- --apply ---- */

/* The candidates CSV of a dry run, without drop_room's row, and with from
 * replaced by to in edit_room's row. */
static char *reviewed_csv(struct t *t, const char *drop_room, const char *edit_room, const char *from,
			  const char *to)
{
	char *path = xasprintf("%s/candidates.csv", t->dir), *text = test_slurp(path), *line, *save = NULL;
	struct buf out = { 0 };
	char *edited, *result;

	ck_assert_ptr_nonnull(text);
	/* rows are single lines here (no multi-line names in this world) */
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (drop_room && strstr(line, drop_room))
			continue;
		if (edit_room && strstr(line, edit_room)) {
			edited = test_replace(line, from, to);
			buf_printf(&out, "%s\n", edited);
			free(edited);
			continue;
		}
		buf_printf(&out, "%s\n", line);
	}
	result = test_write_file(t->dir, "reviewed.csv", out.data, 0600);
	buf_free(&out);
	free(text);
	free(path);
	return result;
}

START_TEST(test_apply)
{
	struct t t;
	char *csv;
	const char *extra[] = { "--apply", NULL, NULL, NULL };

	start(&t, "new");
	write_policy(&t, true, NULL); /* the policy stays in dry-run */
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old2:test.local", "would_delete");
	/* the admin keeps !old2 (removes its row); !old3 becomes active */
	csv = reviewed_csv(&t, "!old2:test.local", NULL, NULL, NULL);
	ck_assert_int_eq(fake_update_room(&t.fs, "!old3:test.local", "{\"last_event_days_ago\":1}"), 0);
	extra[1] = csv;

	/* --apply --dry-run shows what would happen, deletes nothing */
	extra[2] = "--dry-run";
	ck_assert_int_eq(run_args(&t, extra, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "would_delete");
	assert_outcome(&t, "!old3:test.local", "changed");
	ck_assert_int_eq(total_deletes(&t), 0);

	extra[2] = NULL;
	ck_assert_int_eq(run_args(&t, extra, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "deleted");
	assert_outcome(&t, "!old2:test.local", "none");     /* removed row: kept */
	assert_outcome(&t, "!old3:test.local", "changed");  /* became active */
	ck_assert_ptr_nonnull(strstr(reason(&t, "!old3:test.local"), "no longer matches"));
	assert_outcome(&t, "!stale:test.local", "changed"); /* /members shows a local user */
	assert_outcome(&t, "!quiet:test.local", "deleted"); /* a record rule's row, chosen by a human */
	assert_outcome(&t, "!pinned:test.local", "none");   /* protected rows are skipped */
	/* the summary counts the rows applied: nothing was scanned */
	ck_assert_msg(strstr(t.out.err, "applied ") && strstr(t.out.err, " CSV rows in "), "%s", t.out.err);
	ck_assert_ptr_null(strstr(t.out.err, "scanned 0 rooms"));
	ck_assert_int_eq(deletes_of(&t, "!old2:test.local"), 0);
	ck_assert_int_eq(deletes_of(&t, "!old3:test.local"), 0);
	ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), 1);
	/* applying the same file again deletes nothing twice */
	ck_assert_int_eq(run_args(&t, extra, NULL), 0);
	ck_assert_str_ne(outcome(&t, "!old1:test.local"), "deleted");
	ck_assert_int_eq(total_deletes(&t), 2);
	free(csv);
	stop(&t);
}
END_TEST

START_TEST(test_apply_bad_rows)
{
	struct t t;
	char *csv, *edited, *path;
	const char *extra[] = { "--apply", NULL, NULL };

	start(&t, "old");
	write_policy(&t, true, "  max_per_run: 1\n  timeout: 10s\n");
	ck_assert_int_eq(run_once(&t, NULL), 0);
	csv = reviewed_csv(&t, NULL, "!old2:test.local", ",abandoned,delete,", ",renamed-rule,delete,");
	/* a protected room added by hand, and a broken line */
	path = xstrdup(csv);
	{
		char *text = test_slurp(path);

		edited = xasprintf("%sr,2024-01-01T00:00:00Z,!pinned:test.local,,,,,,,,,,abandoned,delete,"
				   "would_delete,,\n\"unterminated\n", text);
		free(text);
	}
	free(test_write_file(t.dir, "reviewed.csv", edited, 0600));
	extra[1] = csv;
	ck_assert_int_eq(run_args(&t, extra, NULL), 1);
	assert_outcome(&t, "!old2:test.local", "refused");
	ck_assert_ptr_nonnull(strstr(reason(&t, "!old2:test.local"), "renamed-rule"));
	ck_assert_ptr_nonnull(strstr(reason(&t, "!old2:test.local"), "reviewed.csv:"));
	assert_outcome(&t, "!pinned:test.local", "refused");
	ck_assert_ptr_nonnull(strstr(reason(&t, "!pinned:test.local"), "protected"));
	assert_err(&t, "malformed CSV");
	/* max_per_run still holds; the rest of the file is carried out */
	assert_outcome(&t, "!old1:test.local", "deleted");
	assert_outcome(&t, "!old3:test.local", "capped");
	ck_assert_int_eq(deletes_of(&t, "!pinned:test.local"), 0);
	ck_assert_int_eq(total_deletes(&t), 1);
	free(edited);
	free(path);
	free(csv);
	stop(&t);
}
END_TEST

static Suite *delete_suite(void)
{
	Suite *s = suite_create("delete");
	TCase *tc = tcase_create("delete");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_dry_run_sends_no_delete);
	tcase_add_loop_test(tc, test_delete_styles, 0, 2);
	tcase_add_test(tc, test_purge_false_forgotten);
	tcase_add_loop_test(tc, test_delete_fails, 0, 2);
	tcase_add_loop_test(tc, test_delete_never_completes, 0, 2);
	tcase_add_loop_test(tc, test_http_faults, 0, (int)ARRAY_SIZE(http_faults));
	tcase_add_loop_test(tc, test_lost_answer_acted_on, 0, 2);
	tcase_add_test(tc, test_breaker);
	tcase_add_test(tc, test_truncated_listing);
	tcase_add_test(tc, test_grace_across_runs);
	tcase_add_test(tc, test_grace_forgets_non_candidates);
	tcase_add_test(tc, test_cap_ordering);
	tcase_add_test(tc, test_concurrency);
	tcase_add_loop_test(tc, test_crash_around_the_state_write, 0, 4);
	tcase_add_loop_test(tc, test_crash_while_polling, 0, 2);
	tcase_add_test(tc, test_corrupt_state);
	tcase_add_test(tc, test_second_process_locked_out);
	tcase_add_test(tc, test_apply);
	tcase_add_test(tc, test_apply_bad_rows);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	char max_file[] = "/tmp/check_delete-max.XXXXXX";
	int fd = mkstemp(max_file), status;

	if (fd < 0)
		return EXIT_FAILURE;
	close(fd);
	setenv("SJ_TEST_MAX_DELETES_FILE", max_file, 1);
	status = test_suite_main(delete_suite());
	max_deletes_seen = read_max(max_file);
	unlink(max_file);
	printf("max DELETEs per room seen: %lld\n", (long long)max_deletes_seen);
	return status == EXIT_SUCCESS && max_deletes_seen <= 1 ? EXIT_SUCCESS : EXIT_FAILURE;
}
