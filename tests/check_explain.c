/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The program against the test homeserver: --explain (read-only, its
 * verdict the run's), and the size guard in a scheduled run and in
 * --apply. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "suite.h"
#include "testlib.h"
#include "xmalloc.h"

#define TOKEN "sj-explain-S3CRET-41c7"

static const struct world_spec e2e_world = { .name = "e2e", .token = TOKEN, .unrecorded = "kept" };
static const struct world_spec delete_world = {
	/* delete-status polling shortened (a test hook of act.c) */
	.name = "delete", .token = TOKEN, .unrecorded = "kept", .env = { "SYNAPSE_JANITOR_TEST_POLL_MS=20,200" },
};

static void start(struct test_world *w, const struct world_spec *spec, const char *policy_tail)
{
	world_start(w, spec, NULL);
	world_write_policy(w, NULL, policy_tail);
}

/* Runs the program with up to three arguments; returns its status. */
static int janitor(struct test_world *w, const char *a1, const char *a2, const char *a3)
{
	const char *args[] = { a1, a2, a3, NULL };

	return world_run(w, args, NULL);
}

static int explain(struct test_world *w, const char *room_id)
{
	char *arg = xasprintf("--explain=%s", room_id);
	int r = janitor(w, arg, NULL, NULL);

	free(arg);
	return r;
}

/* The outcome on the "Verdict of the next run:" line (malloc'd). */
static char *verdict_of(const struct test_world *w)
{
	const char *v = strstr(w->out.out, "Verdict of the next run: ");

	ck_assert_msg(v, "no verdict:\n%s\n%s", w->out.out, w->out.err);
	v += strlen("Verdict of the next run: ");
	return xstrndup(v, strcspn(v, " \n:"));
}

static bool exists(const struct test_world *w, const char *name)
{
	char *p = world_path(w, name);
	bool r = access(p, F_OK) == 0;

	free(p);
	return r;
}

/* --- --explain --- */

/* For every room of the end-to-end world, --explain names the outcome the
 * fixture expects, and a dry run then records exactly that outcome. Read
 * only: no DELETE, no state file, no records, no lock file. */
START_TEST(test_explain_agrees_with_a_run)
{
	struct test_world w;
	struct json_object *rooms;

	start(&w, &e2e_world, NULL);
	ck_assert(json_object_object_get_ex(w.fixture, "rooms", &rooms));
	for (size_t i = 0; i < json_object_array_length(rooms); i++) {
		struct json_object *room = json_object_array_get_idx(rooms, i), *id, *expect;
		char *got;
		int status;

		json_object_object_get_ex(room, "room_id", &id);
		json_object_object_get_ex(room, "expect", &expect);
		status = explain(&w, json_object_get_string(id));
		got = verdict_of(&w);
		ck_assert_msg(strcmp(got, json_object_get_string(expect)) == 0, "%s: explained %s, expected %s\n%s",
			      json_object_get_string(id), got, json_object_get_string(expect), w.out.out);
		/* 0, or 1 when a fact could not be found (a room without events) */
		ck_assert_msg(status == 0 || (status == 1 && strcmp(got, "kept_unknown") == 0),
			      "%s: exit %d\n%s%s", json_object_get_string(id), status, w.out.out, w.out.err);
		ck_assert_msg(!strstr(w.out.out, TOKEN) && !strstr(w.out.err, TOKEN), "the token was printed");
		free(got);
	}
	ck_assert_int_eq(world_total_deletes(&w), 0);
	ck_assert(!exists(&w, "state.json"));
	ck_assert(!exists(&w, "state.json.lock"));
	ck_assert(!exists(&w, "decisions.jsonl"));
	ck_assert(!exists(&w, "candidates.csv"));

	/* the run reaches the same outcomes */
	ck_assert_int_eq(janitor(&w, "--once", NULL, NULL), 0);
	for (size_t i = 0; i < json_object_array_length(rooms); i++) {
		struct json_object *room = json_object_array_get_idx(rooms, i), *id, *expect;

		json_object_object_get_ex(room, "room_id", &id);
		json_object_object_get_ex(room, "expect", &expect);
		ck_assert_str_eq(world_outcome(&w, json_object_get_string(id)), json_object_get_string(expect));
	}
	world_stop(&w);
}
END_TEST

/* One delete candidate explained in full: the facts with their sources,
 * the protections, every rule with every condition, and the verdict with
 * grace, dry-run and the size guard. */
START_TEST(test_explain_a_candidate)
{
	struct test_world w;
	const char *o;

	start(&w, &delete_world, "dry_run: true\ndelete:\n  max_fraction: 0.5\n  grace_period: 7d\n  max_state_events: 1000\n");
	ck_assert_int_eq(explain(&w, "!old1:test.local"), 0);
	o = w.out.out;
	ck_assert_msg(strstr(o, "Room !old1:test.local, explained at "), "%s", o);
	ck_assert_msg(strstr(o, "  From the room details, GET /_synapse/admin/v1/rooms/<id>"), "%s", o);
	ck_assert_msg(strstr(o, "    joined_local_members   0\n"), "%s", o);
	ck_assert_msg(strstr(o, "    state_events           7\n"), "%s", o);
	ck_assert_msg(strstr(o, "    room_version           10\n"), "%s", o);
	ck_assert_msg(strstr(o, "    members                1 joined, 0 of them on test.local\n"), "%s", o);
	ck_assert_msg(strstr(o, "(activity: events):\n    last activity          "), "%s", o);
	ck_assert_msg(strstr(o, "    last activity          500 days ago ("), "%s", o);
	ck_assert_msg(strstr(o, "900 days ago ("), "%s", o);
	ck_assert_msg(strstr(o, "  From the state file "), "%s", o);
	ck_assert_msg(strstr(o, "    first seen             not a delete candidate of an earlier run\n"), "%s", o);
	ck_assert_msg(strstr(o, "  holds    protect.rooms") == NULL, "%s", o);
	ck_assert_msg(strstr(o, "  no       protect.rooms               !pinned:test.local; room: room id "
			     "!old1:test.local\n"), "%s", o);
	ck_assert_msg(strstr(o, "  1. abandoned (delete): matches, and decides\n"
			     "       holds    joined_local_members        max 0; room: 0\n"
			     "       holds    inactive_for                at least 90d ago; room: 500 days ago"),
		      "%s", o);
	ck_assert_msg(strstr(o, "  2. stale-small (record): matches (not evaluated by a run: an earlier rule decided)"),
		      "%s", o);
	ck_assert_msg(strstr(o, "Verdict of the next run: deferred (rule abandoned)\n"
			     "  grace period 1w: a candidate since "), "%s", o);
	ck_assert_msg(strstr(o, "  size guard:   7 state events, at most 1000 for a scheduled run: passes\n"), "%s", o);
	ck_assert_msg(strstr(o, "the next run records it and waits 1w"), "%s", o);
	ck_assert_msg(strstr(o, "  dry-run:      nothing is deleted (dry_run: true in the policy)"), "%s", o);
	ck_assert_msg(strstr(o, "decided per run, from all its candidates:"), "%s", o);
	ck_assert_int_eq(world_total_deletes(&w), 0);
	ck_assert(!exists(&w, "state.json"));

	/* after a dry run saw it, the state file gives its first sighting */
	ck_assert_int_eq(janitor(&w, "--once", NULL, NULL), 0);
	ck_assert_int_eq(explain(&w, "!old1:test.local"), 0);
	ck_assert_msg(strstr(w.out.out, "    first seen             a delete candidate since "), "%s", w.out.out);
	ck_assert_msg(strstr(w.out.out, "  grace period: 1w; deletable from "), "%s", w.out.out);
	world_stop(&w);
}
END_TEST

/* A run holds the state file's lock: --explain does not wait for it. */
START_TEST(test_explain_beside_a_run)
{
	struct test_world w;
	char *lock;
	int fd;

	start(&w, &delete_world, NULL);
	lock = world_path(&w, "state.json.lock");
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	ck_assert_int_eq(explain(&w, "!old3:test.local"), 0);
	ck_assert_msg(strstr(w.out.out, "Verdict of the next run: would_delete (rule abandoned)"), "%s", w.out.out);
	/* a run, by contrast, refuses to start beside it */
	ck_assert_int_eq(janitor(&w, "--once", NULL, NULL), 1);
	close(fd);
	free(lock);
	world_stop(&w);
}
END_TEST

/* Unknown rooms, bad ids, usage. */
START_TEST(test_explain_exit_status)
{
	struct test_world w;

	start(&w, &delete_world, NULL);
	ck_assert_int_eq(explain(&w, "!nope:test.local"), 1);
	ck_assert_msg(strstr(w.out.out, "No room details: the homeserver does not know this room (404"), "%s",
		      w.out.out);
	ck_assert_msg(strstr(w.out.out, "Verdict of the next run: none"), "%s", w.out.out);
	ck_assert_int_eq(explain(&w, "not-a-room"), 2);
	ck_assert_msg(strstr(w.out.err, "is not a room id"), "%s", w.out.err);
	ck_assert_int_eq(explain(&w, "!a b:test.local"), 2);
	ck_assert_int_eq(janitor(&w, "--explain=!old1:test.local", "--once", NULL), 2);
	ck_assert_int_eq(janitor(&w, "--explain=!old1:test.local", "--apply=x.csv", NULL), 2);
	ck_assert_int_eq(janitor(&w, "--explain", NULL, NULL), 2);
	/* a protected room: explained, exit 0 */
	ck_assert_int_eq(explain(&w, "!pinned:test.local"), 0);
	ck_assert_msg(strstr(w.out.out, "  holds    protect.rooms"), "%s", w.out.out);
	ck_assert_msg(strstr(w.out.out, "Verdict of the next run: protected\n  room id is listed in protect.rooms"),
		      "%s", w.out.out);
	ck_assert_msg(strstr(w.out.out, "(not evaluated by a run: protected)"), "%s", w.out.out);
	/* the stats lag: the re-verification would keep the room */
	world_write_policy(&w, NULL, "dry_run: false\n");
	ck_assert_int_eq(explain(&w, "!stale:test.local"), 0);
	ck_assert_msg(strstr(w.out.out, "Verdict of the next run: changed (rule abandoned)"), "%s", w.out.out);
	ck_assert_msg(strstr(w.out.out, "    members                2 joined, 1 of them on test.local"), "%s",
		      w.out.out);
	/* --dry-run wins over the policy */
	ck_assert_int_eq(janitor(&w, "--explain=!old3:test.local", "--dry-run", NULL), 0);
	ck_assert_msg(strstr(w.out.out, "Verdict of the next run: would_delete (rule abandoned)"), "%s", w.out.out);
	ck_assert_msg(strstr(w.out.out, "nothing is deleted (--dry-run)"), "%s", w.out.out);
	ck_assert_int_eq(world_total_deletes(&w), 0);
	/* the server unreachable: 1 */
	fake_stop(&w.fs);
	ck_assert_int_eq(explain(&w, "!old1:test.local"), 1);
	ck_assert_msg(strstr(w.out.out, "not explained: the homeserver check failed"), "%s", w.out.out);
	world_stop(&w);
}
END_TEST

/* --- the size guard --- */

/* A deleting scheduled run defers the rooms above delete.max_state_events
 * and says why in the journal (here the console) and the records; --apply
 * of the reviewed CSV deletes them and prints their size. */
START_TEST(test_size_guard)
{
	struct test_world w;
	char *csv_path, *csv, *reviewed;
	const char *want = "7 state events, larger than delete.max_state_events (6): delete it by hand or with --apply";

	/* !old1 and !old2: 7 state events; !old3: 6 */
	start(&w, &delete_world, "dry_run: false\ndelete:\n  max_fraction: 0.5\n  max_state_events: 6\n");
	ck_assert_int_eq(explain(&w, "!old1:test.local"), 0);
	ck_assert_msg(strstr(w.out.out, "Verdict of the next run: deferred (rule abandoned)\n  7 state events, larger"),
		      "%s", w.out.out);

	ck_assert_int_eq(janitor(&w, "--once", NULL, NULL), 0);
	ck_assert_str_eq(world_outcome(&w, "!old1:test.local"), "deferred");
	ck_assert_str_eq(world_outcome(&w, "!old2:test.local"), "deferred");
	ck_assert_str_eq(world_outcome(&w, "!old3:test.local"), "deleted");
	ck_assert_str_eq(world_reason(&w, "!old1:test.local"), want);
	/* (the list shows no name once every local member left) */
	ck_assert_msg(strstr(w.out.err, "deferred !old1:test.local rule=abandoned inactive=500d local=0: "), "%s",
		      w.out.err);
	ck_assert_msg(strstr(w.out.err, want), "%s", w.out.err);
	ck_assert_int_eq(world_total_deletes(&w), 1);

	/* the same in a dry run */
	ck_assert_int_eq(janitor(&w, "--once", "--dry-run", NULL), 0);
	ck_assert_str_eq(world_outcome(&w, "!old1:test.local"), "deferred");

	/* the reviewed CSV: --apply deletes them, saying how large they are */
	csv_path = world_path(&w, "candidates.csv");
	csv = test_slurp(csv_path);
	ck_assert_ptr_nonnull(csv);
	ck_assert_msg(strstr(csv, "!old1:test.local"), "%s", csv);
	reviewed = test_write_file(w.dir, "reviewed.csv", csv, 0600);
	ck_assert_int_eq(janitor(&w, "--apply", reviewed, NULL), 0);
	ck_assert_msg(strstr(w.out.err, "!old1:test.local: 7 state events, larger than delete.max_state_events (6): "
			     "deleting it as --apply asked"), "%s", w.out.err);
	ck_assert_str_eq(world_outcome(&w, "!old1:test.local"), "deleted");
	ck_assert_str_eq(world_outcome(&w, "!old2:test.local"), "deleted");
	ck_assert_str_eq(world_outcome(&w, "!quiet:test.local"), "deleted"); /* the record rule's row: the review */
	ck_assert_msg(world_total_deletes(&w) == 4, "%s", w.out.err); /* !old3 by the first run */

	/* and --explain of a deleted room: unknown now, the state file remembers */
	ck_assert_int_eq(explain(&w, "!old1:test.local"), 1);
	ck_assert_msg(strstr(w.out.out, "    delete                 completed at "), "%s", w.out.out);
	free(csv_path);
	free(csv);
	free(reviewed);
	world_stop(&w);
}
END_TEST

/* Rooms grow: the re-verification before the DELETE applies the guard to
 * the size the room details give then, not only to the list's. */
START_TEST(test_size_guard_on_verification)
{
	struct test_world w;
	/* the room details of !old3 as they are, but with 500 state events */
	static const char fault[] =
		"{\"faults\":[{\"endpoint\":\"room_details\",\"kind\":\"body\",\"room_id\":\"!old3:test.local\","
		"\"count\":-1,\"body\":\"{\\\"room_id\\\":\\\"!old3:test.local\\\",\\\"name\\\":null,"
		"\\\"canonical_alias\\\":null,\\\"joined_members\\\":0,\\\"joined_local_members\\\":0,"
		"\\\"version\\\":\\\"10\\\",\\\"creator\\\":\\\"@carol:test.local\\\",\\\"encryption\\\":null,"
		"\\\"federatable\\\":true,\\\"public\\\":false,\\\"join_rules\\\":null,\\\"state_events\\\":500,"
		"\\\"room_type\\\":null,\\\"forgotten\\\":false}\"}]}";

	start(&w, &delete_world, "dry_run: false\ndelete:\n  max_fraction: 0.5\n  max_state_events: 7\n");
	ck_assert_int_eq(fake_set_faults(&w.fs, fault), 0);
	ck_assert_int_eq(janitor(&w, "--once", NULL, NULL), 0);
	ck_assert_str_eq(world_outcome(&w, "!old3:test.local"), "deferred");
	ck_assert_str_eq(world_reason(&w, "!old3:test.local"), "re-verified: 500 state events, larger than "
			 "delete.max_state_events (7): delete it by hand or with --apply");
	ck_assert_str_eq(world_outcome(&w, "!old1:test.local"), "deleted");
	ck_assert_str_eq(world_outcome(&w, "!old2:test.local"), "deleted");
	ck_assert_int_eq(world_total_deletes(&w), 2);
	world_stop(&w);
}
END_TEST

static Suite *explain_suite(void)
{
	Suite *s = suite_create("explain");
	TCase *tc = tcase_create("explain");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_explain_agrees_with_a_run);
	tcase_add_test(tc, test_explain_a_candidate);
	tcase_add_test(tc, test_explain_beside_a_run);
	tcase_add_test(tc, test_explain_exit_status);
	tcase_add_test(tc, test_size_guard);
	tcase_add_test(tc, test_size_guard_on_verification);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_suite_main(explain_suite());
}
