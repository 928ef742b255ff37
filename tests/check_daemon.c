/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The daemon end to end, in the test build of the program: a real
 * NOTIFY_SOCKET (an AF_UNIX datagram socket bound here), a policy written
 * here, and a homeserver: the fake Synapse for runs, or a tiny in-process
 * server that refuses the token or never answers. Checks READY=1/STATUS=/
 * WATCHDOG=1/RELOADING=1/STOPPING=1, scheduled runs, SIGUSR1, SIGHUP with
 * a broken and a good policy and with a new token, SIGTERM mid-scan, the metrics file, and a
 * refused token.
 *
 * Exits 77 (skip) when the binary cannot load a policy (--check-config
 * fails), e.g. in a tree without the policy loader. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "suite.h"
#include "daemon.h"
#include "testlib.h"

/* --- Test environment ------------------------------------------------------ */

#define MAX_MSGS 512

struct notify_msg {
	double t;          /* seconds since the daemon was started */
	char text[512];
};

struct env {
	char dir[64];
	char policy[128], token_file[128], jsonl[128], csv[128], state[128], metrics[128];
	char log[128], sock_path[96];
	int sock;
	pid_t pid;
	double t0;
	struct notify_msg msgs[MAX_MSGS];
	size_t n_msgs;
	struct fake_server fake;
	char url[128];
	char token[128];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The test build: the daemon is the same as the installed one. */
static const char *binary(void)
{
	static char *path;

	if (!path)
		path = test_build_path(TEST_PROGRAM);
	return path;
}

static void write_file(const char *path, unsigned mode, const char *fmt, ...)
{
	va_list ap;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f;

	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	fchmod(fd, mode);
	f = fdopen(fd, "w");
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void env_init(struct env *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/check_daemon.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(e->dir));
#define P(field, name) snprintf(e->field, sizeof(e->field), "%s/" name, e->dir)
	P(policy, "policy.yaml");
	P(token_file, "admin-token");
	P(jsonl, "decisions.jsonl");
	P(csv, "candidates.csv");
	P(state, "state.json");
	P(metrics, "synapse-janitor.prom");
	P(log, "daemon.log");
	P(sock_path, "notify.sock");
#undef P
	e->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(e->sock, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", e->sock_path);
	ck_assert_int_eq(bind(e->sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	e->pid = -1;
}

static void env_cleanup(struct env *e)
{
	char cmd[128];

	if (e->pid > 0) {
		kill(e->pid, SIGKILL);
		waitpid(e->pid, NULL, 0);
	}
	fake_stop(&e->fake);
	close(e->sock);
	/* Keep the daemon's log for a failed test's reader. */
	if (getenv("KEEP_TMP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", e->dir);
	}
}

static void print_log(const struct env *e)
{
	char line[1024];
	FILE *f = fopen(e->log, "r");

	if (!f)
		return;
	fprintf(stderr, "--- daemon log (%s)\n", e->log);
	while (fgets(line, sizeof(line), f))
		fputs(line, stderr);
	fclose(f);
}

/* The policy: every room is recorded by one rule whose name says which
 * policy decided (so a run shows which policy it used). */
static void write_policy_timeout(const struct env *e, const char *rule, const char *schedule,
				 bool run_at_start, const char *timeout)
{
	write_file(e->policy, 0600,
		   "homeserver:\n"
		   "  url: %s\n"
		   "  token_file: %s\n"
		   "  timeout: %s\n"
		   "  page_size: 10\n"
		   "schedule:\n"
		   "  %s\n"
		   "  run_at_start: %s\n"
		   "dry_run: true\n"
		   "rules:\n"
		   "  - name: %s\n"
		   "    action: record\n"
		   "    match:\n"
		   "      joined_members: {min: 0}\n"
		   "records:\n"
		   "  csv: %s\n"
		   "  jsonl: %s\n"
		   "state_file: %s\n"
		   "metrics_file: %s\n",
		   e->url, e->token_file, timeout, schedule, run_at_start ? "true" : "false", rule,
		   e->csv, e->jsonl, e->state, e->metrics);
}

static void write_policy(const struct env *e, const char *rule, const char *schedule,
			 bool run_at_start)
{
	write_policy_timeout(e, rule, schedule, run_at_start, "2s");
}

/* allow_core: in the test directory, with no limit on core files (as if
 * the unit did not say LimitCORE=0): only the daemon itself keeps one from
 * being written. */
static void start_daemon_opts(struct env *e, const char *watchdog_usec, bool allow_core)
{
	write_file(e->token_file, 0600, "%s\n", e->token);
	e->t0 = now_s();
	e->pid = fork();
	ck_assert_int_ge(e->pid, 0);
	if (e->pid == 0) {
		int fd = open(e->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		char pid[32];

		if (allow_core) {
			struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

			if (chdir(e->dir) < 0 || setrlimit(RLIMIT_CORE, &rl) < 0)
				_exit(126);
		}
		dup2(fd, STDERR_FILENO);
		dup2(fd, STDOUT_FILENO);
		setenv("NOTIFY_SOCKET", e->sock_path, 1);
		unsetenv("JOURNAL_STREAM");
		unsetenv("CREDENTIALS_DIRECTORY");
		unsetenv("WATCHDOG_USEC");
		unsetenv("WATCHDOG_PID");
		if (watchdog_usec) {
			snprintf(pid, sizeof(pid), "%ld", (long)getpid());
			setenv("WATCHDOG_USEC", watchdog_usec, 1);
			setenv("WATCHDOG_PID", pid, 1);
		}
		const char *argv[] = { binary(), "-c", e->policy, "--log-target=console", NULL };

		test_execv(argv);
	}
}

static void start_daemon(struct env *e, const char *watchdog_usec)
{
	start_daemon_opts(e, watchdog_usec, false);
}

/* Receive notifications for up to timeout seconds; stop at the first one
 * containing want (NULL: keep going). Returns the message or NULL. */
static const struct notify_msg *pump(struct env *e, const char *want, double timeout)
{
	double end = now_s() + timeout;

	for (;;) {
		double left = end - now_s();
		struct pollfd pfd = { .fd = e->sock, .events = POLLIN };
		char buf[512];
		ssize_t n;

		if (left <= 0)
			return NULL;
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		n = recv(e->sock, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			continue;
		buf[n] = '\0';
		if (e->n_msgs < MAX_MSGS) {
			struct notify_msg *m = &e->msgs[e->n_msgs++];

			m->t = now_s() - e->t0;
			snprintf(m->text, sizeof(m->text), "%s", buf);
			if (want && strstr(buf, want))
				return m;
		}
	}
}

/* The first notification containing want received since message number
 * from (already received, or arriving within timeout). */
static const struct notify_msg *expect_since(struct env *e, size_t from, const char *want,
					     double timeout)
{
	const struct notify_msg *m = NULL;

	for (size_t i = from; i < e->n_msgs && !m; i++)
		if (strstr(e->msgs[i].text, want))
			m = &e->msgs[i];
	if (!m)
		m = pump(e, want, timeout);

	if (!m) {
		print_log(e);
		ck_abort_msg("no %s within %.1f s", want, timeout);
	}
	return m;
}

static const struct notify_msg *expect_notify(struct env *e, const char *want, double timeout)
{
	return expect_since(e, e->n_msgs, want, timeout);
}

/* Wait for the daemon to exit; returns the exit status, or -1 on timeout. */
static int wait_exit(struct env *e, double timeout, double *took)
{
	double start = now_s();
	int status;

	while (now_s() - start < timeout) {
		pid_t r = waitpid(e->pid, &status, WNOHANG);

		if (r == e->pid) {
			e->pid = -1;
			*took = now_s() - start;
			pump(e, NULL, 0.1); /* what it sent last */
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		pump(e, NULL, 0.01);
	}
	return -1;
}

/* The distinct run_ids in the decisions JSONL, and which rule names the
 * rows of the last run carry. */
struct runs {
	unsigned n;
	char last_run_id[64];
	char last_rule[64];
};

static struct runs read_runs(const struct env *e)
{
	struct runs r = { 0 };
	char line[8192], seen[64][64];
	FILE *f = fopen(e->jsonl, "r");

	if (!f)
		return r;
	while (fgets(line, sizeof(line), f)) {
		json_object *o = json_tokener_parse(line), *v;
		const char *id = NULL, *rule = NULL;

		if (!o)
			continue;
		if (json_object_object_get_ex(o, "run_id", &v) && json_object_is_type(v, json_type_string))
			id = json_object_get_string(v);
		if (json_object_object_get_ex(o, "rule", &v) && json_object_is_type(v, json_type_string))
			rule = json_object_get_string(v);
		if (id) {
			bool known = false;

			for (unsigned i = 0; i < r.n && i < 64; i++)
				known |= strcmp(seen[i], id) == 0;
			if (!known && r.n < 64)
				snprintf(seen[r.n++], sizeof(seen[0]), "%s", id);
			snprintf(r.last_run_id, sizeof(r.last_run_id), "%s", id);
			if (rule)
				snprintf(r.last_rule, sizeof(r.last_rule), "%s", rule);
		}
		json_object_put(o);
	}
	fclose(f);
	return r;
}

/* Wait until the JSONL shows at least n runs (serving notifications). */
static struct runs wait_runs(struct env *e, unsigned n, double timeout)
{
	double end = now_s() + timeout;
	struct runs r;

	do {
		r = read_runs(e);
		if (r.n >= n)
			return r;
		pump(e, NULL, 0.1);
	} while (now_s() < end);
	print_log(e);
	ck_abort_msg("%u runs after %.1f s, want %u", r.n, timeout, n);
	return r;
}

static void fake_up(struct env *e, unsigned rooms)
{
	char n[16];
	const char *args[] = { "--generate", n, "--seed", "42", NULL };

	snprintf(n, sizeof(n), "%u", rooms);
	ck_assert_int_eq(fake_start(&e->fake, args), 0);
	snprintf(e->url, sizeof(e->url), "%s", e->fake.url);
	snprintf(e->token, sizeof(e->token), "%s", "admin-secret-token");
}

static void fake_latency(struct env *e, unsigned ms)
{
	char spec[128];

	snprintf(spec, sizeof(spec),
		 "{\"faults\":[{\"endpoint\":\"any\",\"kind\":\"latency\",\"ms\":%u,\"count\":-1}]}", ms);
	ck_assert_int_eq(fake_set_faults(&e->fake, spec), 0);
}

/* --- A tiny homeserver for what the fake need not be used for --------------
 * It answers server_version like Synapse 1.68 (captures/002) and then
 * either refuses every token as Synapse does (captures/004: 401
 * M_UNKNOWN_TOKEN) or never answers at all (a hung server). */

enum mini_mode { MINI_REFUSE, MINI_HANG };

struct mini {
	int fd;
	int port;
	enum mini_mode mode;
	pthread_t thread;
	int held[64];
	int n_held;
};

static void mini_send(int c, const char *status, const char *body)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\nServer: Synapse/1.68.0\r\n\r\n", status, strlen(body));

	if (write(c, head, (size_t)n) < 0 || write(c, body, strlen(body)) < 0)
		return;
}

static void *mini_main(void *ud)
{
	struct mini *m = ud;

	for (;;) {
		char req[4096];
		ssize_t n;
		int c = accept(m->fd, NULL, NULL);

		if (c < 0)
			return NULL;
		n = read(c, req, sizeof(req) - 1);
		req[n > 0 ? n : 0] = '\0';
		if (strstr(req, "/_synapse/admin/v1/server_version")) {
			mini_send(c, "200 OK", "{\"server_version\":\"1.68.0\",\"python_version\":\"3.11.2\"}");
		} else if (m->mode == MINI_REFUSE) {
			mini_send(c, "401 Unauthorized",
				  "{\"errcode\":\"M_UNKNOWN_TOKEN\",\"error\":\"Invalid access token passed.\",\"soft_logout\":false}");
		} else if (m->n_held < 64) {
			m->held[m->n_held++] = c; /* never answered */
			continue;
		}
		close(c);
	}
}

static void mini_start(struct mini *m, enum mini_mode mode, struct env *e)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	memset(m, 0, sizeof(*m));
	m->mode = mode;
	m->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(m->fd, 0);
	ck_assert_int_eq(bind(m->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(m->fd, 16), 0);
	ck_assert_int_eq(getsockname(m->fd, (struct sockaddr *)&sa, &len), 0);
	m->port = ntohs(sa.sin_port);
	ck_assert_int_eq(pthread_create(&m->thread, NULL, mini_main, m), 0);
	snprintf(e->url, sizeof(e->url), "http://127.0.0.1:%d", m->port);
	snprintf(e->token, sizeof(e->token), "syt_not_a_valid_token");
}

static void mini_stop(struct mini *m)
{
	shutdown(m->fd, SHUT_RDWR);
	pthread_join(m->thread, NULL);
	close(m->fd);
	for (int i = 0; i < m->n_held; i++)
		close(m->held[i]);
}

/* --- Tests ------------------------------------------------------------------ */

static bool seen(const struct env *e, size_t from, const char *want, size_t *at)
{
	for (size_t i = from; i < e->n_msgs; i++) {
		if (strstr(e->msgs[i].text, want)) {
			if (at)
				*at = i;
			return true;
		}
	}
	return false;
}


/* READY=1 with the next run in STATUS=, runs every 2 s, watchdog pings at
 * half the period, the metrics file after a run, SIGTERM -> exit 0. */
START_TEST(test_schedule_watchdog_metrics)
{
	struct env e;
	const struct notify_msg *ready;
	struct runs r;
	double took, last = -1, max_gap = 0;
	unsigned pings = 0;
	char text[8192];
	FILE *f;
	size_t n;

	env_init(&e);
	fake_up(&e, 30);
	write_policy(&e, "policy-a", "every: 2s", false);
	start_daemon(&e, "1000000");
	ready = expect_notify(&e, "READY=1", 20);
	ck_assert_msg(strstr(ready->text, "STATUS=") && strstr(ready->text, "next run at"),
		      "READY without the next run: %s", ready->text);

	/* Watchdog pings for 2.5 s: about every 0.5 s. */
	pump(&e, NULL, 2.5);
	for (size_t i = 0; i < e.n_msgs; i++) {
		if (strcmp(e.msgs[i].text, "WATCHDOG=1") != 0)
			continue;
		if (last >= 0 && e.msgs[i].t - last > max_gap)
			max_gap = e.msgs[i].t - last;
		last = e.msgs[i].t;
		pings++;
	}
	printf("watchdog: %u pings, longest gap %.3f s\n", pings, max_gap);
	ck_assert_uint_ge(pings, 3);
	ck_assert_msg(max_gap < 0.8, "watchdog gap %.3f s for a 1 s watchdog", max_gap);

	/* every: 2s -> runs without being asked; STATUS then has the counts. */
	r = wait_runs(&e, 2, 10);
	ck_assert_str_eq(r.last_rule, "policy-a");
	expect_since(&e, 0, "last run", 5);

	f = fopen(e.metrics, "r");
	ck_assert_msg(f != NULL, "no metrics file %s", e.metrics);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "# TYPE synapse_janitor_last_run_success gauge\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nsynapse_janitor_last_run_success 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nsynapse_janitor_rooms_scanned 30\n"));

	kill(e.pid, SIGTERM);
	ck_assert_int_eq(wait_exit(&e, 5, &took), 0);
	ck_assert_msg(seen(&e, 0, "STOPPING=1", NULL), "no STOPPING=1");
	env_cleanup(&e);
}
END_TEST

/* SIGUSR1 runs now; SIGHUP with a broken policy keeps the old one
 * (RELOADING=1 then READY=1), with a good one switches. */
START_TEST(test_usr1_and_reload)
{
	struct env e;
	const struct notify_msg *ready;
	struct runs r;
	size_t mark, at;
	double took;

	env_init(&e);
	fake_up(&e, 12);
	write_policy(&e, "policy-a", "every: 1h", false);
	start_daemon(&e, NULL);
	expect_notify(&e, "READY=1", 20);
	pump(&e, NULL, 0.5);
	ck_assert_uint_eq(read_runs(&e).n, 0); /* nothing scheduled for an hour */

	mark = e.n_msgs;
	kill(e.pid, SIGUSR1);
	r = wait_runs(&e, 1, 10);
	ck_assert_str_eq(r.last_rule, "policy-a");
	expect_since(&e, mark, "last run", 5);

	/* A broken policy: the old one stays. */
	write_file(e.policy, 0600, "homeserver:\n  url: [unclosed\nschedule: 12\n");
	mark = e.n_msgs;
	kill(e.pid, SIGHUP);
	ready = expect_notify(&e, "READY=1", 10);
	ck_assert_msg(seen(&e, mark, "RELOADING=1", &at), "no RELOADING=1");
	ck_assert_ptr_nonnull(strstr(e.msgs[at].text, "MONOTONIC_USEC="));
	ck_assert_msg(e.msgs + at < ready, "READY=1 came before RELOADING=1");
	mark = e.n_msgs;
	kill(e.pid, SIGUSR1);
	r = wait_runs(&e, 2, 10);
	ck_assert_str_eq(r.last_rule, "policy-a");
	expect_since(&e, mark, "last run", 5);

	/* A good one: the next run uses it. */
	write_policy(&e, "policy-b", "every: 1h", false);
	mark = e.n_msgs;
	kill(e.pid, SIGHUP);
	ready = expect_notify(&e, "READY=1", 10);
	ck_assert_msg(seen(&e, mark, "RELOADING=1", &at) && e.msgs + at < ready, "no RELOADING=1 before READY=1");
	kill(e.pid, SIGUSR1);
	r = wait_runs(&e, 3, 10);
	ck_assert_str_eq(r.last_rule, "policy-b");

	kill(e.pid, SIGTERM);
	ck_assert_int_eq(wait_exit(&e, 5, &took), 0);
	env_cleanup(&e);
}
END_TEST

/* SIGHUP re-reads the token file too: a token the homeserver refuses,
 * written over the good one, fails the next run; the good one written
 * back works again after another SIGHUP. (Under the shipped unit the token
 * is a credential, copied once at service start: a new token file needs a
 * restart there, which synapse-janitor(8) says.) */
START_TEST(test_reload_rereads_token)
{
	struct env e;
	const struct notify_msg *m;
	size_t mark;
	double took;

	env_init(&e);
	fake_up(&e, 12);
	write_policy(&e, "policy-a", "every: 1h", false);
	start_daemon(&e, NULL);
	expect_notify(&e, "READY=1", 20);
	kill(e.pid, SIGUSR1);
	wait_runs(&e, 1, 10);

	/* Without a reload the daemon keeps the token it read. */
	write_file(e.token_file, 0600, "syt_rotated_but_not_an_admin\n");
	mark = e.n_msgs;
	kill(e.pid, SIGUSR1);
	wait_runs(&e, 2, 10);
	m = expect_since(&e, mark, "last run", 5);
	ck_assert_msg(!strstr(m->text, "last run failed"), "a run failed before the reload: %s", m->text);

	mark = e.n_msgs;
	kill(e.pid, SIGHUP);
	expect_since(&e, mark, "READY=1", 10);
	mark = e.n_msgs;
	kill(e.pid, SIGUSR1);
	m = expect_since(&e, mark, "last run", 10);
	ck_assert_msg(strstr(m->text, "last run failed") && strstr(m->text, "token refused"),
		      "the reloaded token was not used: %s", m->text);
	ck_assert_uint_eq(read_runs(&e).n, 2);

	write_file(e.token_file, 0600, "%s\n", e.token);
	mark = e.n_msgs;
	kill(e.pid, SIGHUP);
	expect_since(&e, mark, "READY=1", 10);
	kill(e.pid, SIGUSR1);
	wait_runs(&e, 3, 10);

	kill(e.pid, SIGTERM);
	ck_assert_int_eq(wait_exit(&e, 5, &took), 0);
	env_cleanup(&e);
}
END_TEST

static void sigterm_mid_run(struct env *e, const char *what)
{
	double took;
	int code;

	expect_notify(e, "READY=1", 30);
	expect_notify(e, "STATUS=Running", 10);
	pump(e, NULL, 1.0); /* well into the scan */
	kill(e->pid, SIGTERM);
	code = wait_exit(e, 10, &took);
	printf("SIGTERM with %s: exit %d after %.3f s\n", what, code, took);
	if (code != 0)
		print_log(e);
	ck_assert_int_eq(code, 0);
	ck_assert_msg(took < 5.0, "stopped after %.3f s", took);
	ck_assert_msg(seen(e, 0, "STOPPING=1", NULL), "no STOPPING=1");
}

/* SIGTERM with a slow homeserver mid-scan: exit 0 within 5 s. */
START_TEST(test_sigterm_slow_server)
{
	struct env e;

	env_init(&e);
	fake_up(&e, 200);
	fake_latency(&e, 400);
	write_policy(&e, "policy-a", "every: 1h", true);
	start_daemon(&e, NULL);
	sigterm_mid_run(&e, "a slow homeserver (400 ms a request)");
	env_cleanup(&e);
}
END_TEST

/* SIGTERM while a request never gets an answer. */
START_TEST(test_sigterm_hung_server)
{
	struct env e;
	struct mini m;

	env_init(&e);
	mini_start(&m, MINI_HANG, &e);
	write_policy(&e, "policy-a", "every: 1h", true);
	start_daemon(&e, NULL);
	sigterm_mid_run(&e, "a homeserver that never answers");
	env_cleanup(&e);
	mini_stop(&m);
}
END_TEST

/* A refused token at start: exit 1 at once, never READY=1. */
START_TEST(test_refused_token)
{
	struct env e;
	struct mini m;
	double took;
	int code;

	env_init(&e);
	mini_start(&m, MINI_REFUSE, &e);
	write_policy(&e, "policy-a", "every: 1h", false);
	start_daemon(&e, NULL);
	code = wait_exit(&e, 20, &took);
	if (code != 1)
		print_log(&e);
	ck_assert_int_eq(code, 1);
	ck_assert_msg(!seen(&e, 0, "READY=1", NULL), "READY=1 despite a refused token");
	env_cleanup(&e);
	mini_stop(&m);
}
END_TEST

/* No schedule: section: the daemon cannot work, exit 2 (not restarted). */
START_TEST(test_no_schedule)
{
	struct env e;
	struct mini m;
	double took;
	int code;

	env_init(&e);
	mini_start(&m, MINI_REFUSE, &e);
	write_file(e.token_file, 0600, "x\n");
	write_file(e.policy, 0600,
		   "homeserver:\n  url: %s\n  token_file: %s\n"
		   "rules:\n  - name: r\n    action: record\n    match:\n      joined_members: {min: 0}\n"
		   "records:\n  csv: %s\n  jsonl: %s\nstate_file: %s\n",
		   e.url, e.token_file, e.csv, e.jsonl, e.state);
	start_daemon(&e, NULL);
	code = wait_exit(&e, 10, &took);
	if (code != 2)
		print_log(&e);
	ck_assert_int_eq(code, 2);
	env_cleanup(&e);
	mini_stop(&m);
}
END_TEST

/* --- The checks of the homeserver answer signals and the watchdog ----------
 * The test homeserver's --silent mode accepts connections and never
 * answers, with the default homeserver.timeout of 30 s: the check must
 * still end within 5 s of a SIGTERM, ping the watchdog meanwhile, and give
 * up on its own after DAEMON_CHECK_DEADLINE_SEC. */

static void silent_up(struct env *e, struct fake_server *fs)
{
	const char *args[] = { "--silent", NULL };

	ck_assert_int_eq(fake_start(fs, args), 0);
	snprintf(e->url, sizeof(e->url), "%s", fs->url);
	snprintf(e->token, sizeof(e->token), "%s", "admin-secret-token");
}

/* WATCHDOG=1 pings among messages [from, e->n_msgs). */
static unsigned pings_since(const struct env *e, size_t from)
{
	unsigned n = 0;

	for (size_t i = from; i < e->n_msgs; i++)
		n += strcmp(e->msgs[i].text, "WATCHDOG=1") == 0;
	return n;
}

/* SIGTERM during the start-up check: exit 0 within 5 s, no READY=1. */
START_TEST(test_sigterm_start_check)
{
	struct env e;
	size_t at = 0;
	double took;
	int code;

	env_init(&e);
	silent_up(&e, &e.fake);
	write_policy_timeout(&e, "policy-a", "every: 1h", false, "30s");
	start_daemon(&e, "1000000");
	pump(&e, NULL, 2.0); /* well into the check: server_version is waiting */
	ck_assert_msg(!seen(&e, 0, "READY=1", NULL), "READY=1 before the check ended");
	kill(e.pid, SIGTERM);
	code = wait_exit(&e, 20, &took);
	printf("SIGTERM during the start-up check: exit %d after %.3f s\n", code, took);
	if (code != 0)
		print_log(&e);
	ck_assert_int_eq(code, 0);
	ck_assert_msg(took < 5.0, "stopped after %.3f s", took);
	ck_assert_msg(seen(&e, 0, "STOPPING=1", NULL), "no STOPPING=1");
	/* systemctl status said what it was doing, and the watchdog was
	 * served meanwhile. */
	ck_assert_msg(seen(&e, 0, "STATUS=Checking the homeserver", &at), "no STATUS=Checking");
	ck_assert_uint_ge(pings_since(&e, at), 2);
	env_cleanup(&e);
}
END_TEST

/* A homeserver that never answers: the start-up check gives up after its
 * deadline, says so, and the daemon exits 1 (below TimeoutStartSec=). */
START_TEST(test_start_check_deadline)
{
	struct env e;
	char *log;
	double took;
	int code;

	env_init(&e);
	silent_up(&e, &e.fake);
	write_policy_timeout(&e, "policy-a", "every: 1h", false, "30s");
	start_daemon(&e, NULL);
	code = wait_exit(&e, DAEMON_CHECK_DEADLINE_SEC + 20, &took);
	printf("start-up check against a silent homeserver: exit %d after %.1f s\n", code, took);
	log = test_slurp(e.log);
	ck_assert_ptr_nonnull(log);
	if (code != 1)
		print_log(&e);
	ck_assert_int_eq(code, 1);
	ck_assert_msg(took >= DAEMON_CHECK_DEADLINE_SEC - 1 && took < DAEMON_CHECK_DEADLINE_SEC + 10,
		      "exit after %.1f s", took);
	ck_assert_msg(strstr(log, "did not end within 60 s"), "%s", log);
	ck_assert_msg(!seen(&e, 0, "READY=1", NULL), "READY=1 although the check never ended");
	free(log);
	env_cleanup(&e);
}
END_TEST

/* A reload whose check hangs: the watchdog keeps being pinged, and
 * SIGTERM ends it within 5 s. */
START_TEST(test_sigterm_reload_check)
{
	struct env e;
	struct fake_server silent;
	const struct notify_msg *reloading;
	size_t from;
	unsigned pings;
	double took;
	int code;

	env_init(&e);
	fake_up(&e, 12);
	write_policy(&e, "policy-a", "every: 1h", false);
	start_daemon(&e, "1000000");
	expect_notify(&e, "READY=1", 20);
	silent_up(&e, &silent);
	write_policy_timeout(&e, "policy-b", "every: 1h", false, "30s");
	kill(e.pid, SIGHUP);
	reloading = expect_notify(&e, "RELOADING=1", 10);
	from = (size_t)(reloading - e.msgs);
	pump(&e, NULL, 3.0); /* well into the check */
	pings = pings_since(&e, from);
	printf("watchdog during the reload check: %u pings in 3 s\n", pings);
	ck_assert_msg(!seen(&e, from, "READY=1", NULL), "READY=1 before the check ended");
	kill(e.pid, SIGTERM);
	code = wait_exit(&e, 20, &took);
	printf("SIGTERM during a reload check: exit %d after %.3f s\n", code, took);
	if (code != 0)
		print_log(&e);
	ck_assert_int_eq(code, 0);
	ck_assert_msg(took < 5.0, "stopped after %.3f s", took);
	ck_assert_uint_ge(pings, 4);
	ck_assert_msg(seen(&e, from, "STATUS=Checking the homeserver", NULL), "no STATUS=Checking");
	fake_stop(&silent);
	env_cleanup(&e);
}
END_TEST

/* --- The token ---------------------------------------------------------------- */

/* Even where core files are allowed, the daemon (which holds the token)
 * writes none: it makes itself non-dumpable. */
START_TEST(test_no_core_dump)
{
	struct env e;
	char core[512];
	struct stat st;
	int status = 0;
	DIR *dir;
	struct dirent *de;

	if (getenv("SJ_TEST_WRAPPER")) /* valgrind writes its own vgcore */
		return;
	env_init(&e);
	silent_up(&e, &e.fake);
	write_policy_timeout(&e, "policy-a", "every: 1h", false, "30s");
	start_daemon_opts(&e, NULL, true);
	pump(&e, NULL, 1.0); /* in the start-up check, the token read */
	kill(e.pid, SIGQUIT); /* default action: terminate with a core dump */
	ck_assert_int_eq(waitpid(e.pid, &status, 0), e.pid);
	e.pid = -1;
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGQUIT);
	ck_assert_msg(!WCOREDUMP(status), "the daemon dumped core");
	dir = opendir(e.dir);
	ck_assert_ptr_nonnull(dir);
	while ((de = readdir(dir))) {
		snprintf(core, sizeof(core), "%s/%s", e.dir, de->d_name);
		ck_assert_msg(strncmp(de->d_name, "core", 4) != 0 || stat(core, &st) < 0,
			      "a core file: %s", core);
	}
	closedir(dir);
	env_cleanup(&e);
}
END_TEST

/* A warning at start and in --check-config when the token would cross the
 * network in clear, or go to an unverified TLS peer; none for loopback. */
START_TEST(test_token_exposure_warnings)
{
	static const struct {
		const char *url, *tls_verify, *mode;
		const char *want; /* NULL: no warning */
	} cases[] = {
		{ "http://192.0.2.10:8008", "true", "--check-config", "is plain http:// to 192.0.2.10" },
		{ "http://matrix.example.org", "true", "--check-config", "would cross the network unencrypted" },
		{ "https://matrix.example.org", "false", "--check-config", "homeserver.tls_verify is false" },
		{ "http://[2001:db8::1]:8008", "true", "--check-config", "is plain http://" },
		{ "http://127.0.0.1:8008", "true", "--check-config", NULL },
		{ "http://127.1.2.3:8008", "false", "--check-config", NULL },
		{ "http://localhost:8008", "true", "--check-config", NULL },
		{ "http://[::1]:8008", "true", "--check-config", NULL },
		{ "https://matrix.example.org", "true", "--check-config", NULL },
		/* At start: said before the token is even read (here it is
		 * missing: exit 2, nothing sent). */
		{ "http://192.0.2.10:8008", "true", "--once", "is plain http:// to 192.0.2.10" },
		{ "http://192.0.2.10:8008", "true", "", "is plain http:// to 192.0.2.10" },
		{ "https://192.0.2.10:8008", "false", "", "homeserver.tls_verify is false" },
	};
	struct env e;

	env_init(&e);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct test_output o = { 0 };
		const char *argv[] = { binary(), "-c", e.policy, "--log-target=console",
				       cases[i].mode[0] ? cases[i].mode : NULL, NULL };
		int want_exit = strcmp(cases[i].mode, "--check-config") == 0 ? 0 : 2;

		write_file(e.policy, 0600,
			   "homeserver:\n  url: %s\n  token_file: %s/missing-token\n  tls_verify: %s\n"
			   "schedule:\n  every: 1h\n"
			   "rules:\n  - name: r\n    action: record\n    match:\n      joined_members: {min: 0}\n"
			   "records:\n  csv: %s\n  jsonl: %s\nstate_file: %s\n",
			   cases[i].url, e.dir, cases[i].tls_verify, e.csv, e.jsonl, e.state);
		ck_assert_int_eq(test_run(argv, NULL, 20, &o), 0);
		ck_assert_msg(o.exit_status == want_exit, "%s %s: exit %d\n%s", cases[i].url,
			      cases[i].mode, o.exit_status, o.err);
		if (cases[i].want)
			ck_assert_msg(strstr(o.err, cases[i].want) && strstr(o.err, "warning: "),
				      "%s %s: no warning \"%s\" in:\n%s", cases[i].url, cases[i].mode,
				      cases[i].want, o.err);
		else
			ck_assert_msg(!strstr(o.err, "warning"), "%s: a warning:\n%s", cases[i].url, o.err);
		test_output_free(&o);
	}
	env_cleanup(&e);
}
END_TEST

/* --- What the server says is escaped before it is printed ------------------
 * A homeserver whose strings carry newlines and escape sequences: a room
 * id in the list, the server version, an error text and a delete id. No
 * line the daemon writes carries a control character or starts where the
 * server wanted it to. */

static const char evil_rooms[] =
	"{\"room_id\":\"!gone:test.local\",\"name\":\"Gone \\u001b[31mred\",\"creator\":\"@c:test.local\","
	"\"members\":[],\"created_days_ago\":900,\"last_event_days_ago\":400},"
	"{\"room_id\":\"!lonely:test.local\",\"name\":\"Lonely\",\"creator\":\"@c:test.local\","
	"\"members\":[],\"created_days_ago\":900,\"last_event_days_ago\":400},"
	"{\"room_id\":\"!evil\\nFORGED room id \\u001b[2J:test.local\",\"name\":\"Evil\","
	"\"creator\":\"@c:test.local\",\"members\":[\"@a:test.local\"],\"created_days_ago\":10,"
	"\"last_event_days_ago\":1}";

static const char evil_faults[] =
	"{\"faults\":["
	"{\"endpoint\":\"server_version\",\"kind\":\"body\",\"count\":-1,"
	"\"body\":\"{\\\"server_version\\\":\\\"1.68\\\\nFORGED version \\\\u001b[31mred\\\"}\"},"
	"{\"endpoint\":\"delete\",\"kind\":\"body\",\"count\":-1,"
	"\"body\":\"{\\\"delete_id\\\":\\\"del\\\\nFORGED delete id \\\\u001b[2Jx\\\\u009b1m\\\"}\"},"
	"{\"endpoint\":\"forward_extremities\",\"kind\":\"body\",\"status\":500,\"count\":-1,"
	"\"room_id\":\"!lonely:test.local\","
	"\"body\":\"{\\\"errcode\\\":\\\"M_UNKNOWN\\\",\\\"error\\\":\\\"boom\\\\nFORGED error \\\\u001b[31m\\\"}\"}"
	"]}";

/* A deleting daemon that runs at start against a fixture of the rooms
 * given (JSON objects, comma-separated) beside 30 ordinary ones, so that
 * one delete stays under max_fraction, with the test homeserver's faults
 * set; waits for READY=1. */
static void start_deleting_daemon(struct env *e, const char *rooms_json, const char *faults)
{
	char rooms[16384] = "", path[160], *world;
	const char *args[3];
	size_t len = 0;

	for (int i = 0; i < 30; i++)
		len += (size_t)snprintf(rooms + len, sizeof(rooms) - len,
					",{\"room_id\":\"!room%d:test.local\",\"name\":\"Room %d\","
					"\"creator\":\"@a:test.local\",\"members\":[\"@a:test.local\"],"
					"\"created_days_ago\":10,\"last_event_days_ago\":1}", i, i);
	ck_assert_uint_lt(len, sizeof(rooms));
	ck_assert_int_ge(asprintf(&world, "{\"server_name\":\"test.local\",\"rooms\":[%s%s]}", rooms_json, rooms),
			 0);
	snprintf(path, sizeof(path), "%s/world.json", e->dir);
	write_file(path, 0600, "%s", world);
	free(world);
	args[0] = "--fixture";
	args[1] = path;
	args[2] = NULL;
	ck_assert_int_eq(fake_start(&e->fake, args), 0);
	ck_assert_int_eq(fake_set_faults(&e->fake, faults), 0);
	snprintf(e->url, sizeof(e->url), "%s", e->fake.url);
	snprintf(e->token, sizeof(e->token), "%s", "admin-secret-token");
	write_file(e->policy, 0600,
		   "homeserver:\n  url: %s\n  token_file: %s\n  timeout: 2s\n"
		   "schedule:\n  every: 1h\n  run_at_start: true\n"
		   "dry_run: false\n"
		   "rules:\n  - name: abandoned\n    action: delete\n    match:\n"
		   "      joined_local_members: {max: 0}\n      inactive_for: 90d\n"
		   "records:\n  csv: %s\n  jsonl: %s\nstate_file: %s\n",
		   e->url, e->token_file, e->csv, e->jsonl, e->state);
	start_daemon(e, NULL);
	expect_notify(e, "READY=1", 20);
}

START_TEST(test_server_text_escaped)
{
	struct env e;
	char *log, *p;
	double took;

	env_init(&e);
	start_deleting_daemon(&e, evil_rooms, evil_faults);
	expect_notify(&e, "last run", 30);
	kill(e.pid, SIGTERM);
	ck_assert_int_eq(wait_exit(&e, 10, &took), 0);
	log = test_slurp(e.log);
	ck_assert_ptr_nonnull(log);
	/* The strings did reach the program, escaped. */
	ck_assert_msg(strstr(log, "1.68\\x0aFORGED version \\x1b[31mred"), "version:\n%s", log);
	ck_assert_msg(strstr(log, "del\\x0aFORGED delete id \\x1b[2Jx\\xc2\\x9b1m"), "delete id:\n%s", log);
	ck_assert_msg(strstr(log, "boom?FORGED error ?[31m"), "error text:\n%s", log);
	/* And nothing else than text and line ends came out. */
	for (p = log; *p; p++)
		ck_assert_msg(*p == '\n' || ((unsigned char)*p >= 0x20 && *p != 0x7f),
			      "control character 0x%02x at %td:\n%s", (unsigned char)*p, p - log, log);
	ck_assert_msg(!strstr(log, "\xc2\x9b"), "a C1 control character:\n%s", log);
	ck_assert_msg(!strstr(log, "\nFORGED"), "a forged line:\n%s", log);
	free(log);
	env_cleanup(&e);
}
END_TEST

/* --- The client backs off as one, seen from the test homeserver ---------- */

/* GET /_fake/requests: when each request arrived (CLOCK_MONOTONIC ms). */
static struct json_object *fake_request_log(struct env *e)
{
	char url[160], *body = NULL;
	long status = 0;
	struct json_object *o;

	snprintf(url, sizeof(url), "%s/_fake/requests", e->fake.url);
	ck_assert_int_eq(test_http("GET", url, NULL, NULL, &status, &body), 0);
	ck_assert_int_eq(status, 200);
	o = json_tokener_parse(body);
	free(body);
	ck_assert_ptr_nonnull(o);
	return o;
}

static int64_t entry_int(struct json_object *e, const char *key)
{
	struct json_object *v;

	ck_assert(json_object_object_get_ex(e, key, &v));
	return json_object_get_int64(v);
}

/* The arrival t of the first request answered with that status (answered
 * at t + answered_after), the number of requests that arrived while the
 * client should have been paused, (t + answered_after + 50, t +
 * answered_after + pause_ms), and the first one after that (0 when none).
 * The 50 ms of slack: requests started just before the answer came back
 * may reach the server just after it went out. */
struct pause_seen {
	int64_t told, first_after;
	int during, total;
};

static struct pause_seen pause_seen(struct env *e, int status, int64_t answered_after,
				    int64_t pause_ms)
{
	struct json_object *o = fake_request_log(e), *list;
	struct pause_seen ps = { 0 };
	size_t n;

	ck_assert(json_object_object_get_ex(o, "requests", &list));
	n = json_object_array_length(list);
	ps.total = (int)n;
	for (size_t i = 0; i < n && !ps.told; i++) {
		struct json_object *r = json_object_array_get_idx(list, i);

		if (entry_int(r, "status") == status)
			ps.told = entry_int(r, "t");
	}
	ck_assert_msg(ps.told, "no %d answer was sent", status);
	ps.told += answered_after;
	for (size_t i = 0; i < n; i++) {
		int64_t t = entry_int(json_object_array_get_idx(list, i), "t");

		if (t > ps.told + 50 && t < ps.told + pause_ms)
			ps.during++;
		if (t >= ps.told + pause_ms && (!ps.first_after || t < ps.first_after))
			ps.first_after = t;
	}
	json_object_put(o);
	return ps;
}

static void write_lookup_policy(const struct env *e)
{
	/* Every room needs its last activity: one lookup each. */
	write_file(e->policy, 0600,
		   "homeserver:\n  url: %s\n  token_file: %s\n  timeout: 5s\n  concurrency: 4\n"
		   "  page_size: 500\n"
		   "schedule:\n  every: 1h\n  run_at_start: true\n"
		   "dry_run: true\n"
		   "rules:\n  - name: idle\n    action: record\n    match:\n      inactive_for: 1d\n"
		   "records:\n  csv: %s\n  jsonl: %s\nstate_file: %s\n",
		   e->url, e->token_file, e->csv, e->jsonl, e->state);
}

/* A 429 asking for 1.5 s in the middle of the lookups (each answered in
 * 100 ms, so that many are still to come): the test homeserver sees no
 * request until the time has passed, the pause ends on time, the watchdog
 * is pinged meanwhile, and the run completes. */
START_TEST(test_429_pauses_the_run)
{
	struct env e;
	struct pause_seen ps;
	const struct notify_msg *running;
	char *log;

	env_init(&e);
	fake_up(&e, 60);
	ck_assert_int_eq(fake_set_faults(&e.fake,
		"{\"faults\":[{\"endpoint\":\"forward_extremities\",\"kind\":\"429\","
		"\"retry_after_ms\":1500,\"skip\":8,\"count\":1},"
		"{\"endpoint\":\"forward_extremities\",\"kind\":\"latency\",\"ms\":100,\"count\":-1}]}"), 0);
	write_lookup_policy(&e);
	start_daemon(&e, "1000000");
	running = expect_notify(&e, "STATUS=Running", 20);
	expect_notify(&e, "last run", 30);
	ps = pause_seen(&e, 429, 100, 1500);
	printf("429 asking for 1.5 s mid-run: %d of %d requests reached the test homeserver during "
	       "the pause; the next came %lld ms after the 429; %u watchdog pings in the run\n",
	       ps.during, ps.total, (long long)(ps.first_after - ps.told),
	       pings_since(&e, (size_t)(running - e.msgs)));
	ck_assert_int_eq(ps.during, 0);
	ck_assert_int_gt(ps.first_after, 0);
	ck_assert_int_lt(ps.first_after - ps.told, 1500 + 1000);
	ck_assert_uint_ge(pings_since(&e, (size_t)(running - e.msgs)), 2);
	ck_assert_msg(!seen(&e, 0, "last run failed", NULL), "the run failed");
	log = test_slurp(e.log);
	ck_assert_msg(strstr(log, "the homeserver asked to pause (HTTP 429 on GET"), "%s", log);
	free(log);
	kill(e.pid, SIGTERM);
	{
		double took;

		ck_assert_int_eq(wait_exit(&e, 10, &took), 0);
	}
	env_cleanup(&e);
}
END_TEST

/* A 429 asking for a day: not waited. Nothing more reaches the server,
 * the rooms not yet looked up are kept in doubt with the reason, the log
 * says why, and the run still completes. */
START_TEST(test_429_too_long_keeps_rooms_in_doubt)
{
	struct env e;
	struct pause_seen ps;
	struct json_object *outcomes = NULL, *reasons = NULL;
	char why[256], *log;
	int in_doubt = 0;
	double took;

	env_init(&e);
	fake_up(&e, 60);
	ck_assert_int_eq(fake_set_faults(&e.fake,
		"{\"faults\":[{\"endpoint\":\"forward_extremities\",\"kind\":\"429\","
		"\"retry_after_ms\":86400000,\"skip\":8,\"count\":-1}]}"), 0);
	write_lookup_policy(&e);
	start_daemon(&e, NULL);
	expect_notify(&e, "last run", 30);
	kill(e.pid, SIGTERM);
	ck_assert_int_eq(wait_exit(&e, 10, &took), 0);
	ps = pause_seen(&e, 429, 0, 3600 * 1000);
	printf("429 asking for a day: %d requests reached the test homeserver after it (of %d)\n",
	       ps.during, ps.total);
	ck_assert_int_eq(ps.during, 0);
	log = test_slurp(e.log);
	ck_assert_msg(strstr(log, "asked to pause for 24 h (HTTP 429), longer than the 10 min this "
			      "program waits"), "%s", log);
	ck_assert_int_eq(test_load_decisions(e.jsonl, &outcomes, &reasons, why, sizeof(why)), 0);
	json_object_object_foreach(outcomes, room, outcome) {
		struct json_object *reason;

		if (strcmp(json_object_get_string(outcome), "kept_unknown") != 0)
			continue;
		ck_assert(json_object_object_get_ex(reasons, room, &reason));
		/* (the generated world also has rooms active "in the future") */
		if (strstr(json_object_get_string(reason), "asked to pause for 24 h"))
			in_doubt++;
	}
	printf("%d rooms kept in doubt, the reason saying the server asked for a pause\n", in_doubt);
	ck_assert_int_gt(in_doubt, 10);
	ck_assert_msg(strstr(log, "kept in doubt"), "%s", log);
	ck_assert_msg(!strstr(log, "run failed"), "%s", log);
	json_object_put(outcomes);
	json_object_put(reasons);
	free(log);
	env_cleanup(&e);
}
END_TEST

/* A DELETE answered with a 429 asking for a day: it is not sent again, the
 * room is deferred to the next run (the server did not act on it), and the
 * state file does not keep it as requested. */
START_TEST(test_delete_pause_too_long)
{
	struct env e;
	char *state;
	struct json_object *outcomes = NULL, *reasons = NULL, *stats, *deletes, *n, *reason;
	char why[256];
	double took;

	env_init(&e);
	start_deleting_daemon(&e,
		"{\"room_id\":\"!gone:test.local\",\"name\":\"Gone\",\"creator\":\"@c:test.local\","
		"\"members\":[],\"created_days_ago\":900,\"last_event_days_ago\":400}",
		"{\"faults\":[{\"endpoint\":\"delete\",\"kind\":\"429\",\"retry_after_ms\":86400000,"
		"\"count\":-1}]}");
	expect_notify(&e, "last run", 30);
	kill(e.pid, SIGTERM);
	ck_assert_int_eq(wait_exit(&e, 10, &took), 0);
	ck_assert_int_eq(test_load_decisions(e.jsonl, &outcomes, &reasons, why, sizeof(why)), 0);
	ck_assert(json_object_object_get_ex(outcomes, "!gone:test.local", &n));
	ck_assert_str_eq(json_object_get_string(n), "deferred");
	ck_assert(json_object_object_get_ex(reasons, "!gone:test.local", &reason));
	ck_assert_msg(strstr(json_object_get_string(reason), "the DELETE was not sent") &&
		      strstr(json_object_get_string(reason), "asked to pause for 24 h"),
		      "%s", json_object_get_string(reason));
	ck_assert_int_eq(fake_stats(&e.fake, &stats), 0);
	/* Answered 429 once (before the server looked at it), never sent again. */
	ck_assert(json_object_object_get_ex(stats, "requests", &deletes));
	ck_assert(json_object_object_get_ex(deletes, "delete", &n));
	ck_assert_int_eq(json_object_get_int64(n), 1);
	/* No delete left recorded as requested (the first sighting stays). */
	state = test_slurp(e.state);
	ck_assert_ptr_nonnull(state);
	{
		struct json_object *st = json_tokener_parse(state), *dels;

		ck_assert_ptr_nonnull(st);
		ck_assert(json_object_object_get_ex(st, "deletes", &dels));
		ck_assert_msg(!json_object_object_get_ex(dels, "!gone:test.local", NULL),
			      "still a delete in the state file:\n%s", state);
		json_object_put(st);
	}
	free(state);
	json_object_put(stats);
	json_object_put(outcomes);
	json_object_put(reasons);
	env_cleanup(&e);
}
END_TEST

/* The daemon tests need a binary that loads policies. */
static bool loader_works(void)
{
	char dir[] = "/tmp/check_daemon_probe.XXXXXX", path[96], cmd[700];
	FILE *f;
	int rc;

	/* Outside a test: plain stdio, no ck_assert. */
	if (!mkdtemp(dir))
		return false;
	snprintf(path, sizeof(path), "%s/p.yaml", dir);
	f = fopen(path, "w");
	if (!f)
		return false;
	fprintf(f,
		   "homeserver:\n  url: http://127.0.0.1:1\n  token_file: %s/t\n"
		   "schedule:\n  every: 1h\n"
		   "rules:\n  - name: r\n    action: record\n    match:\n      joined_members: {min: 0}\n",
		   dir);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "'%s' --check-config -c '%s' >/dev/null 2>&1", binary(), path);
	rc = system(cmd);
	unlink(path);
	rmdir(dir);
	return rc == 0;
}

static Suite *daemon_suite(void)
{
	Suite *s = suite_create("daemon");
	TCase *live, *mini, *silent;

	mini = tcase_create("tiny homeserver");
	tcase_set_timeout(mini, 60);
	tcase_add_test(mini, test_refused_token);
	tcase_add_test(mini, test_sigterm_hung_server);
	tcase_add_test(mini, test_no_schedule);
	tcase_add_test(mini, test_token_exposure_warnings);
	suite_add_tcase(s, mini);
	silent = tcase_create("silent homeserver");
	tcase_set_timeout(silent, DAEMON_CHECK_DEADLINE_SEC + 60);
	tcase_add_test(silent, test_sigterm_start_check);
	tcase_add_test(silent, test_sigterm_reload_check);
	tcase_add_test(silent, test_no_core_dump);
	tcase_add_test(silent, test_start_check_deadline);
	suite_add_tcase(s, silent);
	live = tcase_create("fake homeserver");
	tcase_set_timeout(live, 90);
	tcase_add_test(live, test_schedule_watchdog_metrics);
	tcase_add_test(live, test_usr1_and_reload);
	tcase_add_test(live, test_reload_rereads_token);
	tcase_add_test(live, test_sigterm_slow_server);
	tcase_add_test(live, test_server_text_escaped);
	tcase_add_test(live, test_429_pauses_the_run);
	tcase_add_test(live, test_429_too_long_keeps_rooms_in_doubt);
	tcase_add_test(live, test_delete_pause_too_long);
	suite_add_tcase(s, live);
	return s;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (!loader_works()) {
		printf("SKIP: %s --check-config cannot load a policy yet\n", binary());
		return 77;
	}
	setenv("CK_VERBOSITY", "verbose", 0); /* each test's name and time in the log */
	return test_suite_main(daemon_suite());
}
