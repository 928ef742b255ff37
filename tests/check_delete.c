/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The deletion path end to end: the program (its test build) against the
 * test homeserver, with old- and new-style delete statuses, failing and
 * hanging deletes, 429/5xx on the DELETE and on status polls, the breaker,
 * truncated listings, grace across runs, max_per_run ordering, stale
 * statistics caught by the re-verification, crashes around the DELETE (and
 * the installed program, which cannot be told to crash), a corrupt state
 * file, the lock, and --apply with an edited CSV. Every test checks that
 * no room ever received more than one DELETE. */
#include "config.h"

#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "suite.h"
#include "testlib.h"
#include "xmalloc.h"
#include "buf.h"
#include "clock.h"

#define TOKEN "sj-delete-S3CRET-4b1d"
#define FAST_POLL "SYNAPSE_JANITOR_TEST_POLL_MS=20,200"

static const struct world_spec delete_world = {
	.name = "delete", .token = TOKEN, .unrecorded = "none", .env = { FAST_POLL },
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

/* The template, then dry_run and a delete: section with extra lines. */
static void write_policy(struct test_world *t, bool dry_run, const char *delete_extra)
{
	char *tail = xasprintf("dry_run: %s\ndelete:\n%s%s", dry_run ? "true" : "false",
			       delete_extra && strstr(delete_extra, "max_fraction") ? "" : "  max_fraction: 0.5\n",
			       delete_extra ? delete_extra : "  timeout: 10s\n");

	world_write_policy(t, NULL, tail);
	free(tail);
}

static void start(struct test_world *t, const char *style)
{
	const char *args[] = { "--delete-style", style, NULL };

	world_start(t, &delete_world, args);
	write_policy(t, false, NULL);
}

static int run_once(struct test_world *t, const char *flag)
{
	const char *extra[] = { "--once", flag, NULL };

	return world_run(t, extra, NULL);
}

#define assert_outcome(t, room, want)                                                           \
	ck_assert_msg(strcmp(world_outcome(t, room), want) == 0, "%s: %s (%s), want %s\n%s", room, \
		      world_outcome(t, room), world_reason(t, room), want, (t)->out.err)

/* DELETEs the server received for room; also checks that no room got more
 * than one, whatever happened. */
static int64_t deletes_of(struct test_world *t, const char *room)
{
	struct json_object *deletes = world_deletes(t), *v;
	int64_t n = 0;

	json_object_object_foreach(deletes, k, d) {
		int64_t c = json_object_get_int64(d);

		if (c > max_deletes_seen)
			note_max(c);
		ck_assert_msg(c <= 1, "room %s received %lld DELETEs", k, (long long)c);
	}
	if (room && json_object_object_get_ex(deletes, room, &v))
		n = json_object_get_int64(v);
	json_object_put(deletes);
	return n;
}

static int64_t total_deletes(struct test_world *t)
{
	deletes_of(t, NULL);
	return world_total_deletes(t);
}

static long room_status(struct test_world *t, const char *room)
{
	char *esc = test_replace(room, "!", "%21"), *esc2 = test_replace(esc, ":", "%3A");
	char *url = xasprintf("%s/_synapse/admin/v1/rooms/%s", t->fs.url, esc2);
	long status = 0;

	ck_assert_int_eq(test_http("GET", url, NULL, TOKEN, &status, NULL), 0);
	free(url), free(esc), free(esc2);
	return status;
}

/* After a run that left room's DELETE unsettled: runs again (4 times at
 * most) until room is deleted, checking after each run that its DELETE was
 * never sent again. */
static void resume_until_deleted(struct test_world *t, const char *room)
{
	int runs = 0;

	do {
		run_once(t, NULL);
		ck_assert_int_eq(deletes_of(t, room), 1);
	} while (strcmp(world_outcome(t, room), "deleted") != 0 && ++runs < 4);
	assert_outcome(t, room, "deleted");
	ck_assert_int_eq(room_status(t, room), 404);
}

static void faults(struct test_world *t, const char *json)
{
	ck_assert_int_eq(fake_set_faults(&t->fs, json), 0);
}

static void assert_err(struct test_world *t, const char *text)
{
	ck_assert_msg(strstr(t->out.err, text), "stderr lacks \"%s\":\n%s", text, t->out.err);
}

/* ---- dry runs ---- */

START_TEST(test_dry_run_sends_no_delete)
{
	struct test_world t;

	start(&t, "old");
	/* --dry-run wins over dry_run: false */
	ck_assert_int_eq(run_once(&t, "--dry-run"), 0);
	assert_outcome(&t, "!old1:test.local", "would_delete");
	assert_outcome(&t, "!old3:test.local", "would_delete");
	assert_outcome(&t, "!pinned:test.local", "protected");
	assert_outcome(&t, "!quiet:test.local", "recorded");
	ck_assert_int_eq(world_requests(&t, "delete"), 0);
	ck_assert_int_eq(world_requests(&t, "members"), 0); /* a dry-run does not re-verify */
	/* and the policy's own dry_run */
	write_policy(&t, true, NULL);
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old2:test.local", "would_delete");
	assert_err(&t, "(dry-run, nothing deleted)");
	ck_assert_int_eq(world_requests(&t, "delete"), 0);
	ck_assert_int_eq(total_deletes(&t), 0);
	ck_assert_int_eq(room_status(&t, "!old1:test.local"), 200);
	world_stop(&t);
}
END_TEST

/* ---- real deletes ---- */

static const char *const styles[] = { "old", "new" };

START_TEST(test_delete_styles)
{
	struct test_world t;
	char *state, *state_path, *bodies;
	struct json_object *stats, *b, *v;

	start(&t, styles[_i]);
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "deleted");
	assert_outcome(&t, "!old2:test.local", "deleted");
	assert_outcome(&t, "!old3:test.local", "deleted");
	/* the list and details said 0 local members, /members knows better */
	assert_outcome(&t, "!stale:test.local", "changed");
	ck_assert_ptr_nonnull(strstr(world_reason(&t, "!stale:test.local"), "1 local"));
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
	state_path = world_path(&t, "state.json");
	state = test_slurp(state_path);
	ck_assert_ptr_nonnull(state);
	ck_assert_ptr_nonnull(strstr(state, "\"!old1:test.local\""));
	ck_assert_ptr_nonnull(strstr(state, "completed"));
	free(state);
	free(state_path);
	/* a second run finds nothing more to delete */
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "none");
	assert_outcome(&t, "!stale:test.local", "changed");
	ck_assert_int_eq(total_deletes(&t), 3);
	world_stop(&t);
}
END_TEST

START_TEST(test_purge_false_forgotten)
{
	struct test_world t;

	start(&t, "new");
	write_policy(&t, false, "  purge: false\n  block: true\n  timeout: 10s\n");
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "deleted");
	ck_assert_int_eq(room_status(&t, "!old1:test.local"), 200); /* shut down, not purged */
	/* The room stays listed: the state file says it was deleted. */
	ck_assert_int_eq(run_once(&t, NULL), 0);
	ck_assert_str_ne(world_outcome(&t, "!old1:test.local"), "deleted");
	ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), 1);
	/* Even without the state file, the details say forgotten. */
	{
		char *path = world_path(&t, "state.json");

		unlink(path);
		free(path);
	}
	ck_assert_int_eq(run_once(&t, NULL), 0);
	ck_assert_str_ne(world_outcome(&t, "!old1:test.local"), "deleted");
	ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), 1);
	ck_assert_int_eq(total_deletes(&t), 3);
	world_stop(&t);
}
END_TEST

START_TEST(test_delete_fails)
{
	struct test_world t;
	char *phase;

	start(&t, styles[_i]);
	faults(&t, "{\"faults\":[{\"endpoint\":\"delete\",\"kind\":\"delete_fail\","
		   "\"room_id\":\"!old2:test.local\",\"count\":-1}]}");
	ck_assert_int_eq(run_once(&t, NULL), 1);
	assert_outcome(&t, "!old1:test.local", "deleted");
	assert_outcome(&t, "!old2:test.local", "failed");
	ck_assert_ptr_nonnull(strstr(world_reason(&t, "!old2:test.local"), "status failed"));
	if (_i == 0) /* old servers say why */
		ck_assert_ptr_nonnull(strstr(world_reason(&t, "!old2:test.local"), "database is locked"));
	assert_outcome(&t, "!old3:test.local", "deleted");
	assert_err(&t, "1 failed");
	ck_assert_int_eq(room_status(&t, "!old2:test.local"), 200);
	/* The server settled it: forgotten, so a later run may try again. */
	phase = world_state_phase(&t, "!old2:test.local");
	ck_assert_str_eq(phase, "");
	free(phase);
	phase = world_state_phase(&t, "!old1:test.local");
	ck_assert_str_eq(phase, "completed");
	free(phase);
	ck_assert_int_eq(deletes_of(&t, "!old2:test.local"), 1);
	world_stop(&t);
}
END_TEST

START_TEST(test_delete_never_completes)
{
	struct test_world t;
	char *phase;

	start(&t, styles[_i]);
	write_policy(&t, false, "  timeout: 2s\n");
	faults(&t, "{\"faults\":[{\"endpoint\":\"delete\",\"kind\":\"delete_hang\","
		   "\"room_id\":\"!old1:test.local\",\"count\":-1}]}");
	ck_assert_int_eq(run_once(&t, NULL), 1);
	assert_outcome(&t, "!old1:test.local", "failed");
	ck_assert_ptr_nonnull(strstr(world_reason(&t, "!old1:test.local"), "did not complete within 2s"));
	assert_outcome(&t, "!old2:test.local", "deleted");
	/* the delete_id is kept: the next run polls it and sends nothing */
	phase = world_state_phase(&t, "!old1:test.local");
	ck_assert_str_eq(phase, "pending");
	free(phase);
	ck_assert_int_eq(run_once(&t, NULL), 1);
	assert_outcome(&t, "!old1:test.local", "failed");
	ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), 1);
	world_stop(&t);
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
	struct test_world t;
	int code;

	start(&t, "old");
	write_policy(&t, false, "  timeout: 6s\n");
	faults(&t, c->faults);
	code = run_once(&t, NULL);
	ck_assert_msg(code == c->want_exit, "%s: exit %d\n%s", c->what, code, t.out.err);
	assert_outcome(&t, "!old1:test.local", c->old1);
	ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), c->old1_deletes);
	assert_outcome(&t, "!old3:test.local", c->want_exit ? world_outcome(&t, "!old3:test.local") : "deleted");
	if (c->old1_deletes == 0)
		ck_assert_ptr_nonnull(strstr(world_reason(&t, "!old1:test.local"), "delete outcome unknown"));
	/* the next run, faults gone, settles everything, one DELETE per room */
	faults(&t, "{\"faults\":[]}");
	sleep(6); /* past delete.timeout: an unknown outcome may be re-sent */
	code = run_once(&t, NULL);
	ck_assert_msg(code == 0, "%s: second run exit %d\n%s", c->what, code, t.out.err);
	ck_assert_int_eq(room_status(&t, "!old1:test.local"), 404);
	deletes_of(&t, NULL);
	world_stop(&t);
}
END_TEST

/* A DELETE the server acted on while our request timed out: the lookup by
 * room finds it (old servers at once; current ones once it has started). */
START_TEST(test_lost_answer_acted_on)
{
	struct test_world t;

	start(&t, styles[_i]);
	write_policy(&t, false, "  max_per_run: 1\n  timeout: 30s\n");
	faults(&t, "{\"faults\":[{\"endpoint\":\"delete\",\"kind\":\"hang\",\"ms\":2500,"
		   "\"room_id\":\"!old1:test.local\",\"count\":1}]}");
	ck_assert_int_eq(run_once(&t, NULL), 1);
	assert_outcome(&t, "!old1:test.local", "failed");
	ck_assert_ptr_nonnull(strstr(world_reason(&t, "!old1:test.local"), "delete outcome unknown"));
	sleep(1); /* the server now handles the DELETE it held */
	ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), 1);
	/* Next runs: resumed from the state file, never sent again. */
	resume_until_deleted(&t, "!old1:test.local");
	world_stop(&t);
}
END_TEST

/* ---- the caps ---- */

START_TEST(test_breaker)
{
	struct test_world t;

	start(&t, "old");
	write_policy(&t, false, "  max_fraction: 0.3\n  timeout: 10s\n");
	ck_assert_int_eq(run_once(&t, NULL), 1);
	/* 4 delete verdicts among 11 rooms: 36 % > 30 % */
	assert_outcome(&t, "!old1:test.local", "refused");
	assert_outcome(&t, "!stale:test.local", "refused");
	assert_err(&t, "breaker: 4 delete candidates among 11 rooms scanned");
	assert_err(&t, "ALERT");
	ck_assert_int_eq(world_requests(&t, "delete"), 0);
	ck_assert_int_eq(total_deletes(&t), 0);
	/* and a dry-run reports the same */
	ck_assert_int_eq(run_once(&t, "--dry-run"), 1);
	assert_outcome(&t, "!old1:test.local", "refused");
	world_stop(&t);
}
END_TEST

START_TEST(test_truncated_listing)
{
	struct test_world t;

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
	world_stop(&t);
}
END_TEST

START_TEST(test_grace_across_runs)
{
	struct test_world t;

	start(&t, "new");
	write_policy(&t, false, "  grace_period: 3s\n  timeout: 10s\n");
	/* a dry-run records the first sightings and reports the same */
	ck_assert_int_eq(run_once(&t, "--dry-run"), 0);
	assert_outcome(&t, "!old1:test.local", "deferred");
	ck_assert_ptr_nonnull(strstr(world_reason(&t, "!old1:test.local"), "grace period 3s"));
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "deferred");
	ck_assert_int_eq(total_deletes(&t), 0);
	sleep(3);
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "deleted");
	assert_outcome(&t, "!old3:test.local", "deleted");
	ck_assert_int_eq(total_deletes(&t), 3);
	world_stop(&t);
}
END_TEST

START_TEST(test_grace_forgets_non_candidates)
{
	struct test_world t;

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
	world_stop(&t);
}
END_TEST

START_TEST(test_cap_ordering)
{
	struct test_world t;

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
	world_stop(&t);
}
END_TEST

START_TEST(test_concurrency)
{
	struct test_world t;
	struct json_object *stats, *v;

	start(&t, "old");
	write_policy(&t, false, "  concurrency: 2\n  timeout: 10s\n");
	ck_assert_int_eq(run_once(&t, NULL), 0);
	ck_assert_int_eq(total_deletes(&t), 3);
	ck_assert_int_eq(fake_stats(&t.fs, &stats), 0);
	ck_assert(json_object_object_get_ex(stats, "max_concurrent", &v));
	ck_assert_int_le(json_object_get_int64(v), 4);
	json_object_put(stats);
	world_stop(&t);
}
END_TEST

/* ---- crash safety ---- */

static const char *const kill_points[] = { "delete-answered", "delete-saved" };

START_TEST(test_crash_around_the_state_write)
{
	const char *style = styles[_i / 2], *point = kill_points[_i % 2];
	char *env_kill = xasprintf("SYNAPSE_JANITOR_TEST_KILL_AT=%s", point), *phase;
	const char *env[] = { env_kill, NULL }, *extra[] = { "--once", NULL };
	struct test_world t;

	start(&t, style);
	write_policy(&t, false, "  max_per_run: 1\n  timeout: 30s\n");
	ck_assert_int_eq(world_run(&t, extra, env), 128 + 9);
	ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), 1);
	/* before the save the intent is there without a delete_id; after, with it */
	phase = world_state_phase(&t, "!old1:test.local");
	ck_assert_str_eq(phase, _i % 2 ? "pending" : "requested");
	free(phase);
	/* restarted: the delete is resumed, never sent again */
	resume_until_deleted(&t, "!old1:test.local");
	free(env_kill);
	world_stop(&t);
}
END_TEST

/* The installed program has no test hooks (src/test-hooks.h): told to
 * kill itself once the DELETE is answered, as the test build above does,
 * it carries the delete out and exits 0. */
START_TEST(test_installed_program_has_no_hooks)
{
	const char *env[] = { "SYNAPSE_JANITOR_TEST_KILL_AT=delete-answered", NULL }, *extra[] = { "--once", NULL };
	struct test_world t;

	start(&t, "old");
	t.program = INSTALLED_PROGRAM;
	write_policy(&t, false, "  max_per_run: 1\n  timeout: 30s\n");
	ck_assert_int_eq(world_run(&t, extra, env), 0);
	assert_outcome(&t, "!old1:test.local", "deleted");
	ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), 1);
	ck_assert_int_eq(room_status(&t, "!old1:test.local"), 404);
	world_stop(&t);
}
END_TEST

/* SIGKILL while polling a slow status endpoint. */
START_TEST(test_crash_while_polling)
{
	struct test_world t;
	const char *argv[] = { NULL, "--once", "--log-target=console", "-c", NULL, NULL };
	const char *env[] = { FAST_POLL, NULL };
	char *bin;

	start(&t, styles[_i]);
	write_policy(&t, false, "  max_per_run: 1\n  timeout: 60s\n");
	argv[0] = bin = test_build_path(t.program);
	argv[4] = t.policy;
	faults(&t, "{\"faults\":[{\"endpoint\":\"delete_status\",\"kind\":\"latency\",\"ms\":20000,\"count\":-1}]}");
	ck_assert_int_eq(test_run(argv, env, 3, &t.out), 0);
	ck_assert_int_eq(t.out.exit_status, 128 + 9); /* killed by the test's timeout */
	ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), 1);
	faults(&t, "{\"faults\":[]}");
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "deleted");
	ck_assert_ptr_nonnull(strstr(world_reason(&t, "!old1:test.local"), "earlier run"));
	ck_assert_int_eq(room_status(&t, "!old1:test.local"), 404);
	/* the resumed delete did not use up max_per_run */
	assert_outcome(&t, "!stale:test.local", "changed");
	ck_assert_int_eq(deletes_of(&t, "!old1:test.local"), 1);
	free(bin);
	world_stop(&t);
}
END_TEST

START_TEST(test_corrupt_state)
{
	struct test_world t;

	start(&t, "old");
	free(test_write_file(t.dir, "state.json", "{\"version\":1,\"candidates\":{", 0600));
	ck_assert_int_eq(run_once(&t, NULL), 1);
	assert_outcome(&t, "!old1:test.local", "refused");
	ck_assert_ptr_nonnull(strstr(world_reason(&t, "!old1:test.local"), "state file"));
	assert_err(&t, "moved aside");
	ck_assert_int_eq(total_deletes(&t), 0);
	ck_assert_int_eq(world_count_files(&t, "state.json.corrupt-"), 1);
	/* the next run starts from the fresh state */
	ck_assert_int_eq(run_once(&t, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "deleted");
	world_stop(&t);
}
END_TEST

START_TEST(test_second_process_locked_out)
{
	struct test_world t;
	struct state *s = NULL;
	char why[256], *path, pid[32];

	start(&t, "old");
	path = world_path(&t, "state.json");
	ck_assert_int_eq(state_open(path, clock_wall_ms(), &s, why, sizeof(why)), 0);
	ck_assert_int_eq(run_once(&t, NULL), 1);
	snprintf(pid, sizeof(pid), "pid %ld", (long)getpid());
	assert_err(&t, pid);
	ck_assert_int_eq(world_requests(&t, "rooms_list"), 0);
	{
		const char *extra[] = { "--apply", "/nonexistent.csv", NULL };

		ck_assert_int_eq(world_run(&t, extra, NULL), 1);
		assert_err(&t, pid);
	}
	state_close(s);
	ck_assert_int_eq(run_once(&t, NULL), 0);
	free(path);
	world_stop(&t);
}
END_TEST

/* ---- --apply ---- */

/* The candidates CSV of a dry run, without drop_room's row, and with from
 * replaced by to in edit_room's row. */
static char *reviewed_csv(struct test_world *t, const char *drop_room, const char *edit_room, const char *from,
			  const char *to)
{
	char *path = world_path(t, "candidates.csv"), *text = test_slurp(path), *line, *save = NULL;
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
	struct test_world t;
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
	ck_assert_int_eq(world_run(&t, extra, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "would_delete");
	assert_outcome(&t, "!old3:test.local", "changed");
	ck_assert_int_eq(total_deletes(&t), 0);

	extra[2] = NULL;
	ck_assert_int_eq(world_run(&t, extra, NULL), 0);
	assert_outcome(&t, "!old1:test.local", "deleted");
	assert_outcome(&t, "!old2:test.local", "none");     /* removed row: kept */
	assert_outcome(&t, "!old3:test.local", "changed");  /* became active */
	ck_assert_ptr_nonnull(strstr(world_reason(&t, "!old3:test.local"), "no longer matches"));
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
	ck_assert_int_eq(world_run(&t, extra, NULL), 0);
	ck_assert_str_ne(world_outcome(&t, "!old1:test.local"), "deleted");
	ck_assert_int_eq(total_deletes(&t), 2);
	free(csv);
	world_stop(&t);
}
END_TEST

START_TEST(test_apply_bad_rows)
{
	struct test_world t;
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
	ck_assert_int_eq(world_run(&t, extra, NULL), 1);
	assert_outcome(&t, "!old2:test.local", "refused");
	ck_assert_ptr_nonnull(strstr(world_reason(&t, "!old2:test.local"), "renamed-rule"));
	ck_assert_ptr_nonnull(strstr(world_reason(&t, "!old2:test.local"), "reviewed.csv:"));
	assert_outcome(&t, "!pinned:test.local", "refused");
	ck_assert_ptr_nonnull(strstr(world_reason(&t, "!pinned:test.local"), "protected"));
	assert_err(&t, "malformed CSV");
	/* max_per_run still holds; the rest of the file is carried out */
	assert_outcome(&t, "!old1:test.local", "deleted");
	assert_outcome(&t, "!old3:test.local", "capped");
	ck_assert_int_eq(deletes_of(&t, "!pinned:test.local"), 0);
	ck_assert_int_eq(total_deletes(&t), 1);
	free(edited);
	free(path);
	free(csv);
	world_stop(&t);
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
	tcase_add_test(tc, test_installed_program_has_no_hooks);
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
