/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Helpers for tests that drive real processes: the test homeserver
 * (fake-synapse), plain HTTP requests, running a binary with its output
 * captured, temporary directories, and the world of the end-to-end
 * suites (struct test_world). */
#ifndef SJ_TESTLIB_H
#define SJ_TESTLIB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct json_object;

/* The program the end-to-end tests run: the test build, with the test
 * hooks (src/test-hooks.h) compiled in. And the program make install
 * installs, which has none. Both are in $top_builddir. */
#define TEST_PROGRAM "synapse-janitor-test"
#define INSTALLED_PROGRAM "synapse-janitor"

/* $top_srcdir/rel and $top_builddir/rel, malloc'd ("./rel" when the
 * variable is unset: a suite run by hand in the build directory). */
char *test_src_path(const char *rel);
char *test_build_path(const char *rel);

struct fake_server {
	pid_t pid;
	int port;
	char url[64]; /* "http://127.0.0.1:N" */
};

/* Spawns $top_builddir/fake-synapse (or ./fake-synapse) with --port 0 and
 * extra_args (NULL-terminated, may be NULL) and waits up to 10 s for its
 * "port N" line. Returns 0 or a negative errno. */
int fake_start(struct fake_server *fs, const char *const *extra_args);
/* SIGTERM and wait; a no-op when pid == 0. */
void fake_stop(struct fake_server *fs);
/* GET /_fake/stats, parsed; the caller puts *out. */
int fake_stats(const struct fake_server *fs, struct json_object **out);
/* The requests to endpoint the server counted (0 when none), or a
 * negative errno when the counters could not be read. */
int64_t fake_requests(const struct fake_server *fs, const char *endpoint);
/* POST /_fake/faults with that JSON ({"faults":[...]}). */
int fake_set_faults(const struct fake_server *fs, const char *json);
/* POST /_fake/reset: clears the faults and the counters. */
int fake_reset(const struct fake_server *fs);
/* POST /_fake/rooms/<id>: merges the JSON object into the room. */
int fake_update_room(const struct fake_server *fs, const char *room_id, const char *json);

/* One HTTP request through libcurl (no proxy). body may be NULL (no
 * body); token may be NULL (no Authorization header). *resp_body (may be
 * NULL) gets the malloc'd body. Returns 0, or a negative value when no
 * HTTP answer came (connection refused, reset, timeout...). */
int test_http(const char *method, const char *url, const char *body, const char *token, long *status,
	      char **resp_body);

struct test_output {
	char *out;
	char *err;
	int exit_status; /* exit code, or 128+signal */
	long signal_to_exit_ms; /* test_run_signal: from the signal to the exit, -1 if none sent */
};

/* Runs argv (argv[0] a path) with env_extra ("K=V", NULL-terminated, may be
 * NULL) added to the environment; captures stdout and stderr fully; kills
 * it after timeout_s. Returns 0 or a negative errno. */
int test_run(const char *const argv[], const char *const env_extra[], int timeout_s,
	     struct test_output *o);
/* test_run, and sends sig to the child once when(ud) first returns true
 * (asked about every 20 ms; when NULL: at once). For "stops promptly on
 * SIGTERM" tests: o->signal_to_exit_ms says how long the child took. */
int test_run_signal(const char *const argv[], const char *const env_extra[], int timeout_s, int sig,
		    bool (*when)(void *ud), void *ud, struct test_output *o);
void test_output_free(struct test_output *o); /* safe on a zeroed struct */
/* execv, or, for the program (TEST_PROGRAM or INSTALLED_PROGRAM) when
 * $SJ_TEST_WRAPPER is set, execvp of that command line ("valgrind -q ...")
 * followed by argv. Does not return. */
void test_execv(const char *const argv[]) __attribute__((noreturn));

char *test_tmpdir(void);          /* malloc'd path of a fresh directory */
void test_rmtree(const char *dir); /* NULL is a no-op */
/* s with every occurrence of from replaced by to (malloc'd); for filling
 * @PORT@/@DIR@ in test policies and editing CSV lines. */
char *test_replace(const char *s, const char *from, const char *to);
/* Writes dir/name with content and chmods it to mode; returns the path. */
char *test_write_file(const char *dir, const char *name, const char *content, mode_t mode);
/* The whole file (malloc'd, NUL-terminated), or NULL when it cannot be read. */
char *test_slurp(const char *path);

/* The decisions of the newest run in a decisions JSONL file, which runs
 * append to: *outcomes maps room_id to outcome, *reasons room_id to reason
 * (or null); the caller puts both. Returns 0, or -EBADMSG with why set when
 * a line is not a decision or a room was decided twice in one run. A
 * missing file gives two empty maps. */
int test_load_decisions(const char *path, struct json_object **outcomes, struct json_object **reasons,
			char *why, size_t whylen);

/* ---- the world of the end-to-end suites ---- */

/* What an end-to-end suite's world is made of. */
struct world_spec {
	const char *name;         /* tests/<name>/world.json, the fixture the test
				   * homeserver serves, and tests/<name>/policy.yaml,
				   * the policy template */
	const char *token;        /* the admin token the server accepts, in the token file */
	const char *unrecorded;   /* world_outcome of a room the newest run did not record */
	const char *env[4];       /* added to every run's environment; NULL-terminated */
};

/* One end-to-end test's world: the test homeserver serving the fixture, a
 * fresh directory holding the token file, the policy and everything the
 * program writes, and the newest run's output and decisions. The world_
 * functions fail the test (Check) when they cannot do their part. */
struct test_world {
	const struct world_spec *spec;
	struct fake_server fs;
	char *dir;
	char *policy;                  /* dir/policy.yaml, once written */
	const char *program;           /* in $top_builddir: TEST_PROGRAM unless a test says */
	struct json_object *fixture;   /* world.json, parsed */
	struct test_output out;        /* of the newest run */
	struct json_object *decisions; /* room_id -> outcome, of the newest run */
	struct json_object *reasons;   /* room_id -> reason (or null) */
};

/* Starts the test homeserver on the spec's fixture and token with
 * fake_args (NULL-terminated, may be NULL) added, makes the directory and
 * the token file (0600), and parses the fixture. No policy yet. */
void world_start(struct test_world *w, const struct world_spec *spec, const char *const *fake_args);
/* Stops the server (if still running) and removes everything. */
void world_stop(struct test_world *w);
/* Writes dir/policy.yaml (0600) from the template: @PORT@ and @DIR@
 * filled in, then each "@KEY@", "value" pair of subst (NULL-terminated,
 * may be NULL), then tail (may be NULL) appended. */
void world_write_policy(struct test_world *w, const char *const *subst, const char *tail);
/* dir/name, malloc'd. */
char *world_path(const struct test_world *w, const char *name);

/* Runs the program with "--log-target=console -c POLICY" and args
 * (NULL-terminated, may be NULL), with the spec's env and env
 * (NULL-terminated, may be NULL) added, for 60 s at most; then loads the
 * newest run's decisions from dir/decisions.jsonl (a room decided twice
 * fails the test). Returns the exit status (128+signal when killed). */
int world_run(struct test_world *w, const char *const *args, const char *const *env);
/* world_run, sending sig once when(ud) holds (see test_run_signal). */
int world_run_signal(struct test_world *w, const char *const *args, const char *const *env, int sig,
		     bool (*when)(void *ud), void *ud);
/* The newest run's outcome of room_id (spec->unrecorded when it has none)
 * and its reason ("" when none). */
const char *world_outcome(const struct test_world *w, const char *room_id);
const char *world_reason(const struct test_world *w, const char *room_id);

/* The test homeserver's counters: requests to endpoint; the DELETEs it
 * received, room_id -> count (the caller puts it); their sum. */
int64_t world_requests(const struct test_world *w, const char *endpoint);
struct json_object *world_deletes(const struct test_world *w);
int64_t world_total_deletes(const struct test_world *w);

/* The phase of room_id's entry in dir/state.json, "" when none (malloc'd). */
char *world_state_phase(const struct test_world *w, const char *room_id);
/* How many files of dir have names beginning with prefix. */
int world_count_files(const struct test_world *w, const char *prefix);
/* The admin token is in no output of the newest run and in no file of dir
 * but the token file. */
void world_assert_no_token(const struct test_world *w);

#endif
