/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Test helpers: the test homeserver as a child process, HTTP through
 * libcurl, running binaries with captured output, temporary files, and the
 * end-to-end world built of them. Stand alone (no libjanitor), so every
 * suite can link it. */
#include "config.h"

#include <check.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

static char *tl_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *tl_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

struct tl_buf {
	char *data;
	size_t len, cap;
};

static void tl_append(struct tl_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			abort();
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- paths ---- */

static char *top_path(const char *var, const char *rel)
{
	const char *top = getenv(var);

	return tl_printf("%s/%s", top && *top ? top : ".", rel);
}

char *test_src_path(const char *rel)
{
	return top_path("top_srcdir", rel);
}

char *test_build_path(const char *rel)
{
	return top_path("top_builddir", rel);
}

/* ---- HTTP ---- */

static size_t on_body(char *p, size_t size, size_t n, void *cls)
{
	tl_append(cls, p, size * n);
	return size * n;
}

int test_http(const char *method, const char *url, const char *body, const char *token, long *status,
	      char **resp_body)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	struct tl_buf b = { 0 };
	char *auth = NULL;
	CURLcode rc;

	if (!c)
		return -ENOMEM;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	}
	if (token) {
		auth = tl_printf("Authorization: Bearer %s", token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(c);
	if (status)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	free(auth);
	if (rc != CURLE_OK) {
		free(b.data);
		if (resp_body)
			*resp_body = NULL;
		return -(int)rc - 1000;
	}
	if (resp_body)
		*resp_body = b.data ? b.data : strdup("");
	else
		free(b.data);
	return 0;
}

/* ---- the test homeserver ---- */

/* Reads "port N" from the child's stdout within the deadline. */
static int read_port(int fd, int64_t deadline)
{
	struct tl_buf b = { 0 };
	int port = -ETIMEDOUT;

	while (mono_ms() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char chunk[256], *line;
		ssize_t n;

		if (poll(&p, 1, (int)(deadline - mono_ms())) <= 0)
			continue;
		n = read(fd, chunk, sizeof(chunk));
		if (n <= 0) {
			port = -EPIPE;
			break;
		}
		tl_append(&b, chunk, (size_t)n);
		if ((line = strstr(b.data, "port ")) && strchr(line, '\n')) {
			port = atoi(line + 5);
			break;
		}
	}
	free(b.data);
	return port;
}

int fake_start(struct fake_server *fs, const char *const *extra_args)
{
	char *bin = test_build_path("fake-synapse");
	const char *argv[64];
	size_t n = 0;
	int pipefd[2], port;

	memset(fs, 0, sizeof(*fs));
	argv[n++] = bin;
	argv[n++] = "--port";
	argv[n++] = "0";
	for (; extra_args && *extra_args && n < 62; extra_args++)
		argv[n++] = *extra_args;
	argv[n] = NULL;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		free(bin);
		return -errno;
	}
	fs->pid = fork();
	if (fs->pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	free(bin);
	if (fs->pid < 0) {
		close(pipefd[0]);
		fs->pid = 0;
		return -errno;
	}
	port = read_port(pipefd[0], mono_ms() + 10000);
	close(pipefd[0]); /* the server writes nothing more to stdout */
	if (port <= 0) {
		fake_stop(fs);
		return port < 0 ? port : -EPROTO;
	}
	fs->port = port;
	snprintf(fs->url, sizeof(fs->url), "http://127.0.0.1:%d", port);
	return 0;
}

void fake_stop(struct fake_server *fs)
{
	if (fs->pid <= 0)
		return;
	kill(fs->pid, SIGTERM);
	while (waitpid(fs->pid, NULL, 0) < 0 && errno == EINTR)
		;
	fs->pid = 0;
}

static int fake_call(const struct fake_server *fs, const char *method, const char *path, const char *body,
		     char **resp)
{
	char *url = tl_printf("%s%s", fs->url, path);
	long status = 0;
	int rc = test_http(method, url, body, NULL, &status, resp);

	free(url);
	if (rc < 0)
		return rc;
	if (status != 200) {
		if (resp) {
			free(*resp);
			*resp = NULL;
		}
		return -EPROTO;
	}
	return 0;
}

int fake_stats(const struct fake_server *fs, struct json_object **out)
{
	char *body = NULL;
	int rc = fake_call(fs, "GET", "/_fake/stats", NULL, &body);

	*out = NULL;
	if (rc < 0)
		return rc;
	*out = json_tokener_parse(body);
	free(body);
	return *out ? 0 : -EPROTO;
}

int64_t fake_requests(const struct fake_server *fs, const char *endpoint)
{
	struct json_object *stats, *req, *v;
	int64_t n = 0;
	int rc = fake_stats(fs, &stats);

	if (rc < 0)
		return rc;
	if (json_object_object_get_ex(stats, "requests", &req) && json_object_object_get_ex(req, endpoint, &v))
		n = json_object_get_int64(v);
	json_object_put(stats);
	return n;
}

int fake_set_faults(const struct fake_server *fs, const char *json)
{
	return fake_call(fs, "POST", "/_fake/faults", json, NULL);
}

int fake_reset(const struct fake_server *fs)
{
	return fake_call(fs, "POST", "/_fake/reset", "{}", NULL);
}

int fake_update_room(const struct fake_server *fs, const char *room_id, const char *json)
{
	CURL *c = curl_easy_init();
	char *esc = c ? curl_easy_escape(c, room_id, 0) : NULL, *path;
	int rc;

	if (!esc) {
		if (c)
			curl_easy_cleanup(c);
		return -ENOMEM;
	}
	path = tl_printf("/_fake/rooms/%s", esc);
	rc = fake_call(fs, "POST", path, json, NULL);
	free(path);
	curl_free(esc);
	curl_easy_cleanup(c);
	return rc;
}

/* ---- running a binary ---- */

static bool is_program_under_test(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return strcmp(base, TEST_PROGRAM) == 0 || strcmp(base, INSTALLED_PROGRAM) == 0;
}

void test_execv(const char *const argv[])
{
	const char *wrapper = getenv("SJ_TEST_WRAPPER");
	const char *args[64];
	char *words;
	size_t n = 0;

	if (!wrapper || !*wrapper || !is_program_under_test(argv[0])) {
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	words = strdup(wrapper);
	for (char *w = strtok(words, " "); w && n < 32; w = strtok(NULL, " "))
		args[n++] = w;
	for (size_t i = 0; argv[i] && n < 63; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	execvp(args[0], (char *const *)args);
	_exit(127);
}

static void child_exec(const char *const argv[], const char *const env_extra[], int out, int err)
{
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	for (; env_extra && *env_extra; env_extra++) {
		char *kv = strdup(*env_extra), *eq = kv ? strchr(kv, '=') : NULL;

		if (eq) {
			*eq = '\0';
			setenv(kv, eq + 1, 1);
		}
		free(kv);
	}
	test_execv(argv);
}

/* A signal to send to the child once a condition holds (test_run_signal). */
struct pending_signal {
	pid_t pid;
	int sig; /* 0: none */
	bool (*when)(void *ud);
	void *ud;
	int64_t sent_ms; /* -1 until sent */
};

static void maybe_signal(struct pending_signal *ps)
{
	if (!ps->sig || ps->sent_ms >= 0 || (ps->when && !ps->when(ps->ud)))
		return;
	kill(ps->pid, ps->sig);
	ps->sent_ms = mono_ms();
}

/* Reads both pipes until they close or the deadline passes. */
static bool drain(int fds[2], struct tl_buf bufs[2], int64_t deadline, struct pending_signal *ps)
{
	while (fds[0] >= 0 || fds[1] >= 0) {
		struct pollfd p[2] = { { .fd = fds[0], .events = POLLIN }, { .fd = fds[1], .events = POLLIN } };
		int64_t left = deadline - mono_ms();

		if (left <= 0)
			return false;
		maybe_signal(ps);
		if (ps->sig && ps->sent_ms < 0 && left > 20)
			left = 20; /* ask the condition again soon */
		if (poll(p, 2, (int)left) < 0 && errno != EINTR)
			return false;
		for (int i = 0; i < 2; i++) {
			char chunk[4096];
			ssize_t n;

			if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(fds[i], chunk, sizeof(chunk));
			if (n > 0) {
				tl_append(&bufs[i], chunk, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(fds[i]);
				fds[i] = -1;
			}
		}
	}
	return true;
}

int test_run_signal(const char *const argv[], const char *const env_extra[], int timeout_s, int sig,
		    bool (*when)(void *ud), void *ud, struct test_output *o)
{
	int out[2], err[2], fds[2], status = 0;
	struct tl_buf bufs[2] = { { 0 }, { 0 } };
	struct pending_signal ps = { .sig = sig, .when = when, .ud = ud, .sent_ms = -1 };
	bool done;
	pid_t pid;

	memset(o, 0, sizeof(*o));
	o->signal_to_exit_ms = -1;
	if (pipe2(out, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(err, O_CLOEXEC) < 0) {
		close(out[0]);
		close(out[1]);
		return -errno;
	}
	pid = fork();
	if (pid == 0)
		child_exec(argv, env_extra, out[1], err[1]);
	close(out[1]);
	close(err[1]);
	if (pid < 0) {
		close(out[0]);
		close(err[0]);
		return -errno;
	}
	ps.pid = pid;
	fds[0] = out[0];
	fds[1] = err[0];
	done = drain(fds, bufs, mono_ms() + (int64_t)timeout_s * 1000, &ps);
	if (!done)
		kill(pid, SIGKILL);
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ps.sent_ms >= 0)
		o->signal_to_exit_ms = (long)(mono_ms() - ps.sent_ms);
	o->out = bufs[0].data ? bufs[0].data : strdup("");
	o->err = bufs[1].data ? bufs[1].data : strdup("");
	o->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 0;
}

int test_run(const char *const argv[], const char *const env_extra[], int timeout_s,
	     struct test_output *o)
{
	return test_run_signal(argv, env_extra, timeout_s, 0, NULL, NULL, o);
}

void test_output_free(struct test_output *o)
{
	free(o->out);
	free(o->err);
	memset(o, 0, sizeof(*o));
}

/* ---- files ---- */

char *test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *t = tl_printf("%s/sj-test.XXXXXX", base && *base ? base : "/tmp");

	if (!mkdtemp(t)) {
		free(t);
		return NULL;
	}
	return t;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void test_rmtree(const char *dir)
{
	if (dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *test_write_file(const char *dir, const char *name, const char *content, mode_t mode)
{
	char *path = tl_printf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	if (!f) {
		free(path);
		return NULL;
	}
	fputs(content, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

char *test_replace(const char *s, const char *from, const char *to)
{
	size_t n = 0, flen = strlen(from), tlen = strlen(to);
	const char *p;
	char *out, *o;

	for (p = s; (p = strstr(p, from)); p += flen)
		n++;
	out = malloc(strlen(s) + n * tlen + 1);
	if (!out)
		abort();
	for (o = out; (p = strstr(s, from)); s = p + flen) {
		memcpy(o, s, (size_t)(p - s));
		o += p - s;
		memcpy(o, to, tlen);
		o += tlen;
	}
	strcpy(o, s);
	return out;
}

char *test_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct tl_buf b = { 0 };
	char chunk[8192];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		tl_append(&b, chunk, n);
	fclose(f);
	return b.data ? b.data : strdup("");
}

/* ---- the records ---- */

static int decision_fields(struct json_object *o, const char **id, const char **outcome,
			   const char **run, struct json_object **reason)
{
	struct json_object *v;

	if (!o || !json_object_is_type(o, json_type_object))
		return -EBADMSG;
	*reason = json_object_object_get_ex(o, "reason", &v) ? v : NULL;
	if (!json_object_object_get_ex(o, "room_id", &v) || !(*id = json_object_get_string(v)))
		return -EBADMSG;
	if (!json_object_object_get_ex(o, "outcome", &v) || !(*outcome = json_object_get_string(v)))
		return -EBADMSG;
	if (!json_object_object_get_ex(o, "run_id", &v) || !(*run = json_object_get_string(v)))
		return -EBADMSG;
	return 0;
}

static void fresh_maps(struct json_object **outcomes, struct json_object **reasons)
{
	json_object_put(*outcomes);
	json_object_put(*reasons);
	*outcomes = json_object_new_object();
	*reasons = json_object_new_object();
}

int test_load_decisions(const char *path, struct json_object **outcomes, struct json_object **reasons,
			char *why, size_t whylen)
{
	char *text = test_slurp(path), *line, *save = NULL, last_run[64] = "";
	int r = 0;

	*outcomes = *reasons = NULL;
	fresh_maps(outcomes, reasons);
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line && r == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		struct json_object *o = json_tokener_parse(line), *reason;
		const char *id, *outcome, *run;

		r = decision_fields(o, &id, &outcome, &run, &reason);
		if (r < 0) {
			snprintf(why, whylen, "%s: not a decision: %.200s", path, line);
		} else if (strcmp(last_run, run) != 0) {
			snprintf(last_run, sizeof(last_run), "%s", run);
			fresh_maps(outcomes, reasons);
		}
		if (r == 0 && json_object_object_get_ex(*outcomes, id, NULL)) {
			snprintf(why, whylen, "room %s decided twice in run %s", id, run);
			r = -EBADMSG;
		}
		if (r == 0) {
			json_object_object_add(*outcomes, id, json_object_new_string(outcome));
			json_object_object_add(*reasons, id, json_object_get(reason));
		}
		json_object_put(o);
	}
	free(text);
	return r;
}

/* ---- the world of the end-to-end suites ---- */

void world_start(struct test_world *w, const struct world_spec *spec, const char *const *fake_args)
{
	char *rel = tl_printf("tests/%s/world.json", spec->name), *fixture = test_src_path(rel);
	const char *args[16] = { "--fixture", fixture, "--admin-token", spec->token };
	char *text = test_slurp(fixture), *token = tl_printf("%s\n", spec->token);
	size_t n = 4;

	memset(w, 0, sizeof(*w));
	w->spec = spec;
	w->program = TEST_PROGRAM;
	for (; fake_args && *fake_args && n < sizeof(args) / sizeof(args[0]) - 1; fake_args++)
		args[n++] = *fake_args;
	args[n] = NULL;
	ck_assert_msg(text, "%s: cannot read", fixture);
	w->fixture = json_tokener_parse(text);
	ck_assert_msg(w->fixture, "%s: not JSON", fixture);
	w->dir = test_tmpdir();
	ck_assert_ptr_nonnull(w->dir);
	ck_assert_int_eq(fake_start(&w->fs, args), 0);
	free(test_write_file(w->dir, "admin-token", token, 0600));
	free(token);
	free(text);
	free(fixture);
	free(rel);
}

void world_stop(struct test_world *w)
{
	fake_stop(&w->fs);
	test_output_free(&w->out);
	test_rmtree(w->dir);
	free(w->dir);
	free(w->policy);
	json_object_put(w->fixture);
	json_object_put(w->decisions);
	json_object_put(w->reasons);
	memset(w, 0, sizeof(*w));
}

char *world_path(const struct test_world *w, const char *name)
{
	return tl_printf("%s/%s", w->dir, name);
}

void world_write_policy(struct test_world *w, const char *const *subst, const char *tail)
{
	char *rel = tl_printf("tests/%s/policy.yaml", w->spec->name), *tmpl = test_src_path(rel);
	char *text = test_slurp(tmpl), *port = tl_printf("%d", w->fs.port), *full;
	const char *fixed[] = { "@PORT@", port, "@DIR@", w->dir, NULL };
	const char *const *lists[] = { fixed, subst };

	ck_assert_msg(text, "%s: cannot read", tmpl);
	for (size_t l = 0; l < 2; l++) {
		for (const char *const *kv = lists[l]; kv && kv[0] && kv[1]; kv += 2) {
			char *next = test_replace(text, kv[0], kv[1]);

			free(text);
			text = next;
		}
	}
	full = tl_printf("%s%s", text, tail ? tail : "");
	free(w->policy);
	w->policy = test_write_file(w->dir, "policy.yaml", full, 0600);
	ck_assert_ptr_nonnull(w->policy);
	free(full);
	free(port);
	free(text);
	free(tmpl);
	free(rel);
}

static void world_load_decisions(struct test_world *w)
{
	char *path = world_path(w, "decisions.jsonl"), why[300] = "";

	json_object_put(w->decisions);
	json_object_put(w->reasons);
	/* one decision per room and run: a duplicate would be a de-duplication bug */
	ck_assert_msg(test_load_decisions(path, &w->decisions, &w->reasons, why, sizeof(why)) == 0, "%s",
		      why);
	free(path);
}

int world_run_signal(struct test_world *w, const char *const *args, const char *const *env, int sig,
		     bool (*when)(void *ud), void *ud)
{
	char *bin = test_build_path(w->program);
	const char *argv[32] = { bin, "--log-target=console", "-c", w->policy };
	const char *envv[16];
	size_t n = 4, m = 0;

	ck_assert_msg(w->policy, "no policy written");
	for (; args && *args && n < sizeof(argv) / sizeof(argv[0]) - 1; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	for (const char *const *e = w->spec->env; *e && m < sizeof(envv) / sizeof(envv[0]) - 1; e++)
		envv[m++] = *e;
	for (; env && *env && m < sizeof(envv) / sizeof(envv[0]) - 1; env++)
		envv[m++] = *env;
	envv[m] = NULL;
	test_output_free(&w->out);
	ck_assert_int_eq(test_run_signal(argv, envv, 60, sig, when, ud, &w->out), 0);
	free(bin);
	world_load_decisions(w);
	return w->out.exit_status;
}

int world_run(struct test_world *w, const char *const *args, const char *const *env)
{
	return world_run_signal(w, args, env, 0, NULL, NULL);
}

const char *world_outcome(const struct test_world *w, const char *room_id)
{
	struct json_object *o;

	return json_object_object_get_ex(w->decisions, room_id, &o) ? json_object_get_string(o)
								     : w->spec->unrecorded;
}

const char *world_reason(const struct test_world *w, const char *room_id)
{
	struct json_object *o;

	return json_object_object_get_ex(w->reasons, room_id, &o) && o ? json_object_get_string(o) : "";
}

int64_t world_requests(const struct test_world *w, const char *endpoint)
{
	int64_t n = fake_requests(&w->fs, endpoint);

	ck_assert_msg(n >= 0, "the test homeserver's counters: %s", strerror((int)-n));
	return n;
}

struct json_object *world_deletes(const struct test_world *w)
{
	struct json_object *stats, *deletes;

	ck_assert_int_eq(fake_stats(&w->fs, &stats), 0);
	ck_assert(json_object_object_get_ex(stats, "deletes", &deletes));
	json_object_get(deletes);
	json_object_put(stats);
	return deletes;
}

int64_t world_total_deletes(const struct test_world *w)
{
	struct json_object *deletes = world_deletes(w);
	int64_t n = 0;

	json_object_object_foreach(deletes, room, v) {
		(void)room;
		n += json_object_get_int64(v);
	}
	json_object_put(deletes);
	return n;
}

char *world_state_phase(const struct test_world *w, const char *room_id)
{
	char *path = world_path(w, "state.json"), *text = test_slurp(path), *phase;
	struct json_object *o = text ? json_tokener_parse(text) : NULL, *dels, *d, *p;

	phase = strdup(o && json_object_object_get_ex(o, "deletes", &dels) &&
		       json_object_object_get_ex(dels, room_id, &d) && json_object_object_get_ex(d, "phase", &p)
		       ? json_object_get_string(p) : "");
	if (!phase)
		abort();
	json_object_put(o);
	free(text);
	free(path);
	return phase;
}

int world_count_files(const struct test_world *w, const char *prefix)
{
	DIR *d = opendir(w->dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

void world_assert_no_token(const struct test_world *w)
{
	const char *token = w->spec->token;
	DIR *d = opendir(w->dir);
	struct dirent *e;

	ck_assert_msg(!w->out.out || !strstr(w->out.out, token), "the access token appears on stdout");
	ck_assert_msg(!w->out.err || !strstr(w->out.err, token), "the access token appears on stderr");
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		char *path, *text;

		if (e->d_name[0] == '.' || strcmp(e->d_name, "admin-token") == 0)
			continue;
		path = world_path(w, e->d_name);
		text = test_slurp(path);
		ck_assert_msg(!text || !strstr(text, token), "the access token appears in %s", e->d_name);
		free(text);
		free(path);
	}
	closedir(d);
}
