/* SPDX-License-Identifier: GPL-3.0-or-later */
/* state.c: round trip, atomic replace, corrupt files moved aside, the lock,
 * the 30-day memory of completed deletes, grace bookkeeping. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "room.h"
#include "state.h"
#include "suite.h"
#include "xmalloc.h"
#include "buf.h"
#include "file.h"

#define DAY_MS (24LL * 3600 * 1000)
#define NOW_MS 1800000000000LL

static char *dir;
static char *path;

static void setup(void)
{
	char tmpl[] = "/tmp/check_state.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	dir = xstrdup(tmpl);
	path = xasprintf("%s/state.json", dir);
}

static void teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char *p;

		if (e->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
	free(path);
}

static char *slurp(const char *p)
{
	char *data = NULL;
	size_t len;
	int r = file_read_capped(p, 64u << 20, &data, &len);

	return r == 0 ? data : NULL;
}

static void put(const char *p, const char *text)
{
	ck_assert_int_eq(file_write_atomic(p, text, strlen(text), 0600), 0);
}

/* Names of the files in dir starting with prefix. */
static int count_files(const char *prefix, char **first)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		if (n++ == 0 && first)
			*first = xasprintf("%s/%s", dir, e->d_name);
	}
	closedir(d);
	return n;
}

static struct state *open_ok(int64_t now)
{
	struct state *s = NULL;
	char why[256];
	int r = state_open(path, now, &s, why, sizeof(why));

	ck_assert_msg(r == 0, "state_open: %d %s", r, why);
	ck_assert_ptr_nonnull(s);
	return s;
}

START_TEST(test_missing_file_is_empty)
{
	struct state *s = open_ok(NOW_MS);
	const struct state_delete *d;

	ck_assert_uint_eq(state_candidate_count(s), 0);
	ck_assert_uint_eq(state_deletes(s, &d), 0);
	ck_assert_str_eq(state_path(s), path);
	state_close(s);
	ck_assert_int_eq(access(path, F_OK), -1); /* opening does not write */
}
END_TEST

START_TEST(test_round_trip)
{
	struct state *s = open_ok(NOW_MS);
	const struct state_delete *d;

	ck_assert_int_eq(state_candidate_seen(s, "!b:x", NOW_MS - 5000), NOW_MS - 5000);
	ck_assert_int_eq(state_candidate_seen(s, "!a:x", NOW_MS - 7000), NOW_MS - 7000);
	state_delete_requested(s, "!req:x", NOW_MS - 100);
	state_delete_requested(s, "!pend:x", NOW_MS - 300);
	state_delete_started(s, "!pend:x", "del-\"quoted\"/1", NOW_MS - 200);
	state_delete_requested(s, "!done:x", NOW_MS - 900);
	state_delete_started(s, "!done:x", "del-2", NOW_MS - 800);
	state_delete_completed(s, "!done:x", NOW_MS - 700);
	ck_assert_int_eq(state_save(s, NOW_MS), 0);
	state_close(s);

	s = open_ok(NOW_MS);
	ck_assert_uint_eq(state_candidate_count(s), 2);
	ck_assert_int_eq(state_candidate_first_seen(s, "!a:x"), NOW_MS - 7000);
	ck_assert_int_eq(state_candidate_first_seen(s, "!b:x"), NOW_MS - 5000);
	ck_assert_int_eq(state_candidate_first_seen(s, "!c:x"), -1);
	ck_assert_uint_eq(state_deletes(s, &d), 3);

	d = state_delete_find(s, "!req:x");
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(d->phase, STATE_REQUESTED);
	ck_assert_int_eq(d->requested_ms, NOW_MS - 100);
	ck_assert_ptr_null(d->delete_id);

	d = state_delete_find(s, "!pend:x");
	ck_assert_int_eq(d->phase, STATE_PENDING);
	ck_assert_str_eq(d->delete_id, "del-\"quoted\"/1");
	ck_assert_int_eq(d->requested_ms, NOW_MS - 300);
	ck_assert_int_eq(d->started_ms, NOW_MS - 200);

	d = state_delete_find(s, "!done:x");
	ck_assert_int_eq(d->phase, STATE_COMPLETED);
	ck_assert_int_eq(d->completed_ms, NOW_MS - 700);
	ck_assert_str_eq(d->delete_id, "del-2");
	ck_assert_ptr_null(state_delete_find(s, "!other:x"));
	state_close(s);
}
END_TEST

START_TEST(test_atomic_replace)
{
	struct state *s = open_ok(NOW_MS);
	char *before, *after, *aside = NULL;
	struct stat st1, st2;
	FILE *old;

	state_candidate_seen(s, "!first:x", NOW_MS);
	ck_assert_int_eq(state_save(s, NOW_MS), 0);
	ck_assert_int_eq(stat(path, &st1), 0);
	ck_assert_int_eq(st1.st_mode & 0777, 0600);
	before = slurp(path);
	old = fopen(path, "r"); /* a reader of the old version */
	ck_assert_ptr_nonnull(old);

	state_candidate_seen(s, "!second:x", NOW_MS);
	ck_assert_int_eq(state_save(s, NOW_MS), 0);
	ck_assert_int_eq(stat(path, &st2), 0);
	/* replaced by rename: a new inode, the old reader still sees the old
	 * content in full */
	ck_assert_uint_ne(st1.st_ino, st2.st_ino);
	{
		struct buf b = { 0 };
		char chunk[4096];
		size_t n;

		while ((n = fread(chunk, 1, sizeof(chunk), old)) > 0)
			buf_append(&b, chunk, n);
		ck_assert_str_eq(b.data, before);
		buf_free(&b);
	}
	fclose(old);
	after = slurp(path);
	ck_assert_ptr_nonnull(strstr(after, "!second:x"));
	ck_assert_ptr_null(strstr(before, "!second:x"));
	/* no temporary file left behind: only the state and its lock */
	ck_assert_int_eq(count_files("state.json", &aside), 2);
	free(aside);
	state_close(s);
	free(before);
	free(after);
}
END_TEST

static const char *const corrupt_cases[] = {
	/* version 2: the arrays, entry by entry */
	"{\"version\":2,\"deletes\":{},\"candidates\":[[\"!a:x\"]]}",
	"{\"version\":2,\"deletes\":{},\"candidates\":[[\"!a:x\",1],[\"!a:x\",2]]}",
	"{\"version\":2,\"deletes\":{},\"candidates\":[[\"not a room\",1]]}",
	"{\"version\":2,\"deletes\":{},\"candidates\":{}}",
	"{\"version\":2,\"deletes\":{},\"candidates\":[],\"quiet_activity\":\"events\","
	"\"quiet\":[[\"00000000000000ff\",1,2]]}",
	"{\"version\":2,\"deletes\":{},\"candidates\":[],\"quiet_activity\":\"events\","
	"\"quiet\":[[\"00000000000000ff\",1,2,3],[\"0000000000000001\",1,2,3]]}",
	"{\"version\":2,\"deletes\":{},\"candidates\":[],\"quiet\":[[\"00000000000000ff\",1,2,3]]}",
	"{\"version\":2,\"deletes\":{},\"candidates\":[],\"quiet_activity\":\"events\","
	"\"quiet\":[[\"zz\",1,2,3]]}",
	"{\"version\":3,\"deletes\":{},\"candidates\":[]}",
	"{\"version\":1,\"candidates\":{},\"deletes\":{}", /* truncated */
	"", /* empty */
	"garbage",
	"{\"version\":1,\"candidates\":{},\"deletes\":{}} trailing",
	"{\"version\":2,\"candidates\":{},\"deletes\":{}}",
	"{\"version\":1,\"candidates\":{\"!a:x\":\"12\"},\"deletes\":{}}",
	"{\"version\":1,\"candidates\":{\"!a:x\":-5},\"deletes\":{}}",
	"{\"version\":1,\"candidates\":[],\"deletes\":{}}",
	"{\"version\":1,\"candidates\":{}}",
	"{\"version\":1,\"candidates\":{},\"deletes\":{\"!a:x\":{\"phase\":\"pending\",\"requested\":1,\"started\":2}}}",
	"{\"version\":1,\"candidates\":{},\"deletes\":{\"!a:x\":{\"phase\":\"done\",\"completed\":1}}}",
	"{\"version\":1,\"candidates\":{},\"deletes\":{\"!a:x\":{\"phase\":\"completed\"}}}",
	"{\"version\":1,\"candidates\":{},\"deletes\":{\"!a:x\":{\"phase\":\"requested\",\"requested\":1.5}}}",
	"{\"version\":1,\"candidates\":{},\"deletes\":{\"!a:x\":{\"phase\":\"pending\",\"delete_id\":7,\"requested\":1,\"started\":2}}}",
	"[1,2,3]",
	"{'version':1}",
};

START_TEST(test_corrupt_moved_aside)
{
	const char *text = corrupt_cases[_i];
	struct state *s = NULL;
	char why[256], *aside = NULL, *kept, *want;
	int r;

	put(path, text);
	r = state_open(path, NOW_MS, &s, why, sizeof(why));
	ck_assert_msg(r == -EBADMSG, "case %d: %d", _i, r);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(state_candidate_count(s), 0);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(count_files("state.json.corrupt-", &aside), 1);
	want = xasprintf("%s.corrupt-%lld", path, NOW_MS / 1000);
	ck_assert_str_eq(aside, want);
	ck_assert_ptr_nonnull(strstr(why, want));
	kept = slurp(aside);
	ck_assert_str_eq(kept, text); /* kept intact for the admin */
	/* the fresh state still works and is saved where the old one was */
	state_candidate_seen(s, "!n:x", NOW_MS);
	ck_assert_int_eq(state_save(s, NOW_MS), 0);
	state_close(s);
	s = open_ok(NOW_MS);
	ck_assert_int_eq(state_candidate_first_seen(s, "!n:x"), NOW_MS);
	state_close(s);
	free(kept);
	free(want);
	free(aside);
}
END_TEST

/* A file that cannot be read is not a corrupt file (DESIGN.md §6.12): the
 * open fails with the errno, names the path, and nothing is moved aside,
 * so the pending deletes and the 30-day memory survive for the next run. */
START_TEST(test_unreadable_left_alone)
{
	struct state *s = NULL;
	char why[256];
	struct stat st;

	/* A directory where the file should be: read() fails with EISDIR. */
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(state_open(path, NOW_MS, &s, why, sizeof(why)), -EISDIR);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(why, path) && strstr(why, strerror(EISDIR)), "why: %s", why);
	ck_assert_int_eq(count_files("state.json.corrupt-", NULL), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	rmdir(path);
}
END_TEST

/* Past the size cap a file is not read whole: not proof of damage either. */
START_TEST(test_too_large_left_alone)
{
	struct state *s = NULL;
	char why[256];
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ftruncate(fileno(f), (off_t)(257u << 20)), 0); /* sparse */
	fclose(f);
	ck_assert_int_eq(state_open(path, NOW_MS, &s, why, sizeof(why)), -EFBIG);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(why, path));
	ck_assert_int_eq(count_files("state.json.corrupt-", NULL), 0);
	ck_assert_int_eq(access(path, F_OK), 0);
}
END_TEST

/* A version 1 file (the candidates as an object) is still read, and saved
 * as version 2. */
START_TEST(test_version_1_read)
{
	struct state *s;
	char *text;

	put(path, "{\"version\":1,\"candidates\":{\"!a:x\":100,\"!b:x\":200},"
		  "\"deletes\":{\"!c:x\":{\"phase\":\"completed\",\"completed\":300}}}");
	s = open_ok(NOW_MS);
	ck_assert_int_eq(state_candidate_first_seen(s, "!a:x"), 100);
	ck_assert_int_eq(state_candidate_first_seen(s, "!b:x"), 200);
	ck_assert_ptr_nonnull(state_delete_find(s, "!c:x"));
	ck_assert_int_eq(state_save(s, 400), 0);
	state_close(s);
	text = slurp(path);
	ck_assert_ptr_nonnull(strstr(text, "\"version\": 2"));
	ck_assert_ptr_nonnull(strstr(text, "[\"!a:x\", 100]"));
	free(text);
	s = open_ok(NOW_MS);
	ck_assert_int_eq(state_candidate_first_seen(s, "!b:x"), 200);
	state_close(s);
}
END_TEST

/* Quiet rooms: what is remembered comes back while the counts and the
 * activity setting are the same; what was neither recalled nor remembered
 * in a run is forgotten at its save. */
START_TEST(test_quiet_rooms)
{
	struct state *s = open_ok(NOW_MS);
	int64_t ms = -1;

	ck_assert(!state_quiet_recall(s, "!q:x", "events", 3, 10, &ms));
	state_quiet_remember(s, "!q:x", "events", 1000, 3, 10);
	state_quiet_remember(s, "!r:x", "events", 2000, 1, 5);
	state_quiet_remember(s, "!neg:x", "events", -2, 1, 5);  /* nonsense: not kept */
	state_quiet_remember(s, "!none:x", "events", STATE_QUIET_NO_EVENTS, 0, 3);
	ck_assert_int_eq(state_save(s, NOW_MS), 0);
	state_close(s);

	s = open_ok(NOW_MS);
	ck_assert(state_quiet_recall(s, "!q:x", "events", 3, 10, &ms));
	ck_assert_int_eq(ms, 1000);
	ck_assert(!state_quiet_recall(s, "!q:x", "events", 4, 10, &ms));    /* someone joined */
	ck_assert(!state_quiet_recall(s, "!q:x", "events", 3, 11, &ms));    /* the state changed */
	ck_assert(!state_quiet_recall(s, "!q:x", "messages", 3, 10, &ms));  /* another setting */
	ck_assert(!state_quiet_recall(s, "!neg:x", "events", 1, 5, &ms));
	ck_assert(state_quiet_recall(s, "!none:x", "events", 0, 3, &ms)); /* no events, still */
	ck_assert_int_eq(ms, STATE_QUIET_NO_EVENTS);
	/* !r:x is not asked for this run: it left the listing */
	ck_assert_int_eq(state_save(s, NOW_MS), 0);
	state_close(s);

	s = open_ok(NOW_MS);
	ck_assert(state_quiet_recall(s, "!q:x", "events", 3, 10, &ms));
	ck_assert(!state_quiet_recall(s, "!r:x", "events", 1, 5, &ms));
	state_close(s);
}
END_TEST

/* The quiet rooms saved are the file's recalled ones merged with those
 * remembered this run, each once; a room both recalled and looked up
 * again keeps what the lookup found. */
START_TEST(test_quiet_rooms_merged)
{
	static const char *const ids[] = { "!a:x", "!b:x", "!c:x", "!d:x", "!e:x" };
	struct state *s = open_ok(NOW_MS);
	char hex[32], *text;
	int64_t ms = 0;

	for (int i = 0; i < 4; i++)
		state_quiet_remember(s, ids[i], "events", 1000 + i, 1, 5);
	ck_assert_int_eq(state_save(s, NOW_MS), 0);
	state_close(s);

	s = open_ok(NOW_MS);
	ck_assert(state_quiet_recall(s, "!a:x", "events", 1, 5, &ms));
	ck_assert(state_quiet_recall(s, "!c:x", "events", 1, 5, &ms));
	ck_assert(state_quiet_recall(s, "!d:x", "events", 1, 5, &ms));
	state_quiet_remember(s, "!e:x", "events", 5000, 1, 5);
	state_quiet_remember(s, "!c:x", "events", 3333, 1, 5);
	state_quiet_remember(s, "!e:x", "events", 5000, 1, 5);
	ck_assert_int_eq(state_save(s, NOW_MS), 0);
	/* saved twice in a run: the same */
	ck_assert_int_eq(state_save(s, NOW_MS), 0);
	state_close(s);

	text = slurp(path);
	for (int i = 0; i < 5; i++) {
		const char *at;

		snprintf(hex, sizeof(hex), "\"%016llx\"", (unsigned long long)room_id_hash(ids[i]));
		at = strstr(text, hex);
		ck_assert_msg(i == 1 ? !at : at && !strstr(at + 1, hex), "%s: %s", ids[i], text);
	}
	free(text);
	s = open_ok(NOW_MS);
	ck_assert(state_quiet_recall(s, "!a:x", "events", 1, 5, &ms));
	ck_assert_int_eq(ms, 1000);
	ck_assert(!state_quiet_recall(s, "!b:x", "events", 1, 5, &ms));
	ck_assert(state_quiet_recall(s, "!c:x", "events", 1, 5, &ms));
	ck_assert_int_eq(ms, 3333);
	ck_assert(state_quiet_recall(s, "!d:x", "events", 1, 5, &ms));
	ck_assert_int_eq(ms, 1003);
	ck_assert(state_quiet_recall(s, "!e:x", "events", 1, 5, &ms));
	ck_assert_int_eq(ms, 5000);
	state_close(s);
}
END_TEST

START_TEST(test_unusable_path)
{
	struct state *s = NULL;
	char why[256], *p = xasprintf("%s/no/such/dir/state.json", dir);
	int r = state_open(p, NOW_MS, &s, why, sizeof(why));

	ck_assert_int_eq(r, -ENOENT);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(why, "no/such/dir"));
	free(p);
}
END_TEST

START_TEST(test_lock_contention)
{
	struct state *s = open_ok(NOW_MS), *s2 = NULL;
	char why[256], pid[32];
	pid_t child;
	int status;

	/* Another open file description in this process is excluded too. */
	ck_assert_int_eq(state_open(path, NOW_MS, &s2, why, sizeof(why)), -EBUSY);
	ck_assert_ptr_null(s2);
	snprintf(pid, sizeof(pid), "pid %ld", (long)getpid());
	ck_assert_msg(strstr(why, pid), "why: %s", why);

	/* And another process. */
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		struct state *c = NULL;
		char w[256];
		int r = state_open(path, NOW_MS, &c, w, sizeof(w));

		_exit(r == -EBUSY && strstr(w, pid) ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	state_close(s);
	s2 = open_ok(NOW_MS); /* released on close */
	state_close(s2);
}
END_TEST

/* --explain reads the state without the lock, while a run holds it, and
 * can never write it, move it aside or create the lock file. */
START_TEST(test_readonly_open)
{
	struct state *s = open_ok(NOW_MS), *ro = NULL;
	char why[256], *lock = xasprintf("%s.lock", path), *before, *after;

	state_candidate_seen(s, "!c:x", NOW_MS - DAY_MS);
	state_delete_started(s, "!p:x", "d-7", NOW_MS);
	ck_assert_int_eq(state_save(s, NOW_MS), 0);
	before = slurp(path);
	/* the run keeps its lock: the read-only open does not wait for it */
	ck_assert_int_eq(state_open_readonly(path, &ro, why, sizeof(why)), 0);
	ck_assert_int_eq(state_candidate_first_seen(ro, "!c:x"), NOW_MS - DAY_MS);
	ck_assert_str_eq(state_delete_find(ro, "!p:x")->delete_id, "d-7");
	/* changes stay in memory: never saved */
	state_candidate_seen(ro, "!new:x", NOW_MS);
	ck_assert_int_eq(state_save(ro, NOW_MS), -EROFS);
	state_close(ro);
	after = slurp(path);
	ck_assert_str_eq(after, before);
	/* the run's lock is still held */
	ck_assert_int_eq(state_open(path, NOW_MS, &ro, why, sizeof(why)), -EBUSY);
	state_close(s);
	free(before);
	free(after);

	/* a missing file: empty, and nothing is created, not even the lock */
	unlink(path);
	unlink(lock);
	ck_assert_int_eq(state_open_readonly(path, &ro, why, sizeof(why)), 0);
	ck_assert_uint_eq(state_candidate_count(ro), 0);
	state_close(ro);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(access(lock, F_OK), -1);

	/* a corrupt file is reported and left where it is */
	put(path, "{\"version\":1,\"candidates\":{}");
	ro = (struct state *)1;
	ck_assert_int_eq(state_open_readonly(path, &ro, why, sizeof(why)), -EBADMSG);
	ck_assert_ptr_eq(ro, (struct state *)1);
	ck_assert_ptr_nonnull(strstr(why, path));
	ck_assert_int_eq(count_files("state.json.corrupt-", NULL), 0);
	ck_assert_int_eq(access(path, F_OK), 0);

	/* unreadable: the errno, nothing moved */
	unlink(path);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(state_open_readonly(path, &ro, why, sizeof(why)), -EISDIR);
	ck_assert_int_eq(count_files("state.json.corrupt-", NULL), 0);
	rmdir(path);
	free(lock);
}
END_TEST

START_TEST(test_completed_expire_after_30_days)
{
	struct state *s = open_ok(NOW_MS);
	const struct state_delete *d;

	state_delete_completed(s, "!old:x", NOW_MS - 31 * DAY_MS);
	state_delete_completed(s, "!edge:x", NOW_MS - 30 * DAY_MS);
	state_delete_completed(s, "!recent:x", NOW_MS - 29 * DAY_MS);
	/* pending deletes never expire, however old */
	state_delete_started(s, "!stuck:x", "d1", NOW_MS - 90 * DAY_MS);
	ck_assert_int_eq(state_save(s, NOW_MS), 0);
	ck_assert_ptr_null(state_delete_find(s, "!old:x"));
	state_close(s);

	s = open_ok(NOW_MS);
	ck_assert_uint_eq(state_deletes(s, &d), 3);
	ck_assert_ptr_null(state_delete_find(s, "!old:x"));
	ck_assert_ptr_nonnull(state_delete_find(s, "!edge:x"));
	ck_assert_ptr_nonnull(state_delete_find(s, "!recent:x"));
	ck_assert_int_eq(state_delete_find(s, "!stuck:x")->phase, STATE_PENDING);
	/* a day later the edge one goes too */
	ck_assert_int_eq(state_save(s, NOW_MS + DAY_MS), 0);
	ck_assert_ptr_null(state_delete_find(s, "!edge:x"));
	ck_assert_ptr_nonnull(state_delete_find(s, "!recent:x"));
	state_close(s);
}
END_TEST

START_TEST(test_grace_bookkeeping)
{
	struct state *s = open_ok(NOW_MS);
	const char *still[] = { "!c:x", "!a:x", "!new:x" };

	ck_assert_int_eq(state_candidate_seen(s, "!a:x", NOW_MS - 3 * DAY_MS), NOW_MS - 3 * DAY_MS);
	/* a later sighting keeps the first one */
	ck_assert_int_eq(state_candidate_seen(s, "!a:x", NOW_MS), NOW_MS - 3 * DAY_MS);
	state_candidate_seen(s, "!b:x", NOW_MS - DAY_MS);
	state_candidate_seen(s, "!c:x", NOW_MS - 2 * DAY_MS);
	ck_assert_uint_eq(state_candidate_count(s), 3);
	/* !b stopped being a candidate: forgotten; its grace starts over */
	state_candidates_retain(s, still, ARRAY_SIZE(still));
	ck_assert_uint_eq(state_candidate_count(s), 2);
	ck_assert_int_eq(state_candidate_first_seen(s, "!b:x"), -1);
	ck_assert_int_eq(state_candidate_first_seen(s, "!c:x"), NOW_MS - 2 * DAY_MS);
	ck_assert_int_eq(state_candidate_seen(s, "!b:x", NOW_MS), NOW_MS);
	/* a completed delete ends the candidacy */
	state_delete_completed(s, "!a:x", NOW_MS);
	ck_assert_int_eq(state_candidate_first_seen(s, "!a:x"), -1);
	state_candidates_retain(s, NULL, 0);
	ck_assert_uint_eq(state_candidate_count(s), 0);
	state_close(s);
}
END_TEST

START_TEST(test_delete_transitions)
{
	struct state *s = open_ok(NOW_MS);
	const struct state_delete *d;

	state_delete_requested(s, "!r:x", NOW_MS);
	state_delete_started(s, "!r:x", "id1", NOW_MS + 10);
	d = state_delete_find(s, "!r:x");
	ck_assert_int_eq(d->phase, STATE_PENDING);
	ck_assert_int_eq(d->requested_ms, NOW_MS);
	ck_assert_int_eq(d->started_ms, NOW_MS + 10);
	/* a delete found by the by-room lookup after a lost answer */
	state_delete_started(s, "!r:x", "id2", NOW_MS + 20);
	ck_assert_str_eq(state_delete_find(s, "!r:x")->delete_id, "id2");
	state_delete_forget(s, "!r:x");
	ck_assert_ptr_null(state_delete_find(s, "!r:x"));
	state_delete_forget(s, "!never:x"); /* harmless */
	ck_assert_uint_eq(state_deletes(s, &d), 0);
	state_close(s);
}
END_TEST

START_TEST(test_many_rooms_sorted)
{
	struct state *s = open_ok(NOW_MS);
	char id[32];

	for (int i = 999; i >= 0; i--) {
		snprintf(id, sizeof(id), "!r%d:x", (i * 7919) % 1000);
		state_candidate_seen(s, id, NOW_MS - i);
		if (i % 3 == 0)
			state_delete_requested(s, id, NOW_MS - i);
	}
	ck_assert_uint_eq(state_candidate_count(s), 1000);
	ck_assert_int_eq(state_save(s, NOW_MS), 0);
	state_close(s);
	s = open_ok(NOW_MS);
	ck_assert_uint_eq(state_candidate_count(s), 1000);
	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "!r%d:x", (i * 7919) % 1000);
		ck_assert_int_eq(state_candidate_first_seen(s, id), NOW_MS - i);
		ck_assert((state_delete_find(s, id) != NULL) == (i % 3 == 0));
	}
	state_close(s);
}
END_TEST

static Suite *state_suite(void)
{
	Suite *su = suite_create("state");
	TCase *tc = tcase_create("state");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_missing_file_is_empty);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_atomic_replace);
	tcase_add_loop_test(tc, test_corrupt_moved_aside, 0, (int)ARRAY_SIZE(corrupt_cases));
	tcase_add_test(tc, test_unreadable_left_alone);
	tcase_add_test(tc, test_too_large_left_alone);
	tcase_add_test(tc, test_unusable_path);
	tcase_add_test(tc, test_version_1_read);
	tcase_add_test(tc, test_quiet_rooms);
	tcase_add_test(tc, test_quiet_rooms_merged);
	tcase_add_test(tc, test_lock_contention);
	tcase_add_test(tc, test_readonly_open);
	tcase_add_test(tc, test_completed_expire_after_30_days);
	tcase_add_test(tc, test_grace_bookkeeping);
	tcase_add_test(tc, test_delete_transitions);
	tcase_add_test(tc, test_many_rooms_sorted);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return test_suite_main(state_suite());
}
