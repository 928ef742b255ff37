/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <time.h>

#include <curl/curl.h>

#include <microhttpd.h>

#include "http.h"
#include "suite.h"
#include "xmalloc.h"
#include "buf.h"
#include "clock.h"

#define TOKEN "SECRET-token-4711"

/* --- a small homeserver stand-in, one per test --- */

struct server {
	struct MHD_Daemon *d;
	unsigned port;
	atomic_int connections;   /* TCP connections accepted */
	atomic_int requests;
	atomic_int in_flight;
	atomic_int max_in_flight;
	atomic_int flaky_hits;
	atomic_bool stopping;
	pthread_mutex_t lock;
	char auth[256];           /* last Authorization ("" when absent) */
	char user_agent[256];
	char method[16];
	char content_type[128];
	char body[256];
	char proxy_seen[8];
	/* When each request arrived (clock_mono_ms) and at what path; and
	 * when the pause-asking answers were sent. */
	int64_t arrived[256];
	char arrived_path[256][16];
	int n_arrived;
	int64_t paused_at;            /* when the first 429/503 with a wait was sent, 0 */
};

struct req_state {
	struct buf upload;
	bool counted;
};

struct big_body {
	size_t sent, total;
};

static ssize_t big_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct big_body *b = cls;
	size_t n = b->total - b->sent < max ? b->total - b->sent : max;

	(void)pos;
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	memset(buf, ' ', n);
	b->sent += n;
	return (ssize_t)n;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *body,
			     const char *header, const char *value)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "application/json");
	if (header)
		MHD_add_response_header(r, header, value);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply2(struct MHD_Connection *conn, unsigned status, const char *body,
			      const char *h1, const char *v1, const char *h2, const char *v2)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, h1, v1);
	MHD_add_response_header(r, h2, v2);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void note_pause(struct server *s)
{
	pthread_mutex_lock(&s->lock);
	if (!s->paused_at)
		s->paused_at = clock_mono_ms();
	pthread_mutex_unlock(&s->lock);
}

static long arg(struct MHD_Connection *conn, const char *key, long dflt)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);

	return v ? strtol(v, NULL, 10) : dflt;
}

static void pause_ms(struct server *s, long ms)
{
	for (long t = 0; t < ms && !s->stopping; t += 5)
		usleep(5000);
}

static void record(struct server *s, struct MHD_Connection *conn, const char *method,
		   const struct buf *upload)
{
	const char *a = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	const char *ua = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "User-Agent");
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");

	pthread_mutex_lock(&s->lock);
	snprintf(s->auth, sizeof(s->auth), "%s", a ? a : "");
	snprintf(s->user_agent, sizeof(s->user_agent), "%s", ua ? ua : "");
	snprintf(s->content_type, sizeof(s->content_type), "%s", ct ? ct : "");
	snprintf(s->method, sizeof(s->method), "%s", method);
	snprintf(s->body, sizeof(s->body), "%s", upload->data ? upload->data : "");
	pthread_mutex_unlock(&s->lock);
}

static enum MHD_Result respond(struct server *s, struct MHD_Connection *conn, const char *url)
{
	if (strcmp(url, "/ok") == 0)
		return reply(conn, 200, "{\"ok\":true}", NULL, NULL);
	if (strcmp(url, "/slow") == 0 || strcmp(url, "/hang") == 0) {
		pause_ms(s, arg(conn, "ms", 5000));
		return reply(conn, 200, "{\"ok\":true}", NULL, NULL);
	}
	if (strcmp(url, "/status") == 0) {
		long code = arg(conn, "code", 500);

		return reply(conn, (unsigned)code, "{\"errcode\":\"M_TEST\",\"error\":\"test\"}", NULL, NULL);
	}
	if (strcmp(url, "/flaky") == 0) {
		if (++s->flaky_hits <= arg(conn, "fail", 1))
			return reply(conn, (unsigned)arg(conn, "code", 500), "{\"errcode\":\"M_UNKNOWN\"}",
				     NULL, NULL);
		return reply(conn, 200, "{\"ok\":true}", NULL, NULL);
	}
	if (strcmp(url, "/429body") == 0) {
		if (++s->flaky_hits <= arg(conn, "fail", 1))
			return reply(conn, 429, "{\"errcode\":\"M_LIMIT_EXCEEDED\",\"retry_after_ms\":300}",
				     NULL, NULL);
		return reply(conn, 200, "{\"ok\":true}", NULL, NULL);
	}
	if (strcmp(url, "/429header") == 0) {
		if (++s->flaky_hits <= arg(conn, "fail", 1))
			return reply(conn, 429, "{\"errcode\":\"M_LIMIT_EXCEEDED\"}", "Retry-After", "1");
		return reply(conn, 200, "{\"ok\":true}", NULL, NULL);
	}
	if (strcmp(url, "/429ms") == 0) {
		/* retry_after_ms=ms in the body, fail times, then 200 */
		char body[128];

		if (++s->flaky_hits <= arg(conn, "fail", 1)) {
			snprintf(body, sizeof(body), "{\"errcode\":\"M_LIMIT_EXCEEDED\",\"retry_after_ms\":%ld}",
				 arg(conn, "ms", 300));
			note_pause(s);
			return reply(conn, 429, body, NULL, NULL);
		}
		return reply(conn, 200, "{\"ok\":true}", NULL, NULL);
	}
	if (strcmp(url, "/429date") == 0 || strcmp(url, "/503date") == 0) {
		/* Retry-After as an HTTP date s seconds after this answer's own
		 * Date header, both from one reading of the clock */
		if (++s->flaky_hits <= arg(conn, "fail", 1)) {
			time_t now = time(NULL), then = now + arg(conn, "s", 1);
			char date[64], after[64];
			struct tm tm;

			gmtime_r(&now, &tm);
			strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
			gmtime_r(&then, &tm);
			strftime(after, sizeof(after), "%a, %d %b %Y %H:%M:%S GMT", &tm);
			note_pause(s);
			return reply2(conn, url[1] == '4' ? 429 : 503, "{\"errcode\":\"M_LIMIT_EXCEEDED\"}",
				      "Date", date, "Retry-After", after);
		}
		return reply(conn, 200, "{\"ok\":true}", NULL, NULL);
	}
	if (strcmp(url, "/503secs") == 0) {
		char secs[32];

		if (++s->flaky_hits <= arg(conn, "fail", 1)) {
			snprintf(secs, sizeof(secs), "%ld", arg(conn, "s", 1));
			note_pause(s);
			return reply(conn, 503, "{\"errcode\":\"M_UNKNOWN\"}", "Retry-After", secs);
		}
		return reply(conn, 200, "{\"ok\":true}", NULL, NULL);
	}
	if (strcmp(url, "/429huge") == 0) {
		/* A proxy asking for 3000 years, in both places. */
		note_pause(s);
		return reply(conn, 429, "{\"errcode\":\"M_LIMIT_EXCEEDED\",\"retry_after_ms\":9223372036854775807}",
			     "Retry-After", "99999999999");
	}
	if (strcmp(url, "/429hugeheader") == 0) {
		note_pause(s);
		return reply(conn, 429, "{\"errcode\":\"M_LIMIT_EXCEEDED\"}", "Retry-After", "99999999999999999999999");
	}
	if (strcmp(url, "/reset") == 0)
		return MHD_NO; /* MHD closes the connection without an answer */
	if (strcmp(url, "/redirect") == 0) {
		char loc[128];

		snprintf(loc, sizeof(loc), "http://127.0.0.1:%ld/target", arg(conn, "port", 1));
		return reply(conn, 302, "", "Location", loc);
	}
	if (strcmp(url, "/big") == 0) {
		struct big_body *b = xcalloc(1, sizeof(*b));
		struct MHD_Response *r;
		enum MHD_Result ret;

		b->total = 20u << 20;
		/* Unknown size: chunked, no Content-Length to warn the client. */
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, big_reader, b, free);
		ret = MHD_queue_response(conn, 200, r);
		MHD_destroy_response(r);
		return ret;
	}
	return reply(conn, 404, "{\"errcode\":\"M_NOT_FOUND\",\"error\":\"no such path\"}", NULL, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct server *s = cls;
	struct req_state *st = *con_cls;
	enum MHD_Result r;
	int now;

	(void)version;
	if (!st) {
		st = xcalloc(1, sizeof(*st));
		*con_cls = st;
		return MHD_YES;
	}
	if (*upload_size) {
		buf_append(&st->upload, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	s->requests++;
	pthread_mutex_lock(&s->lock);
	if (s->n_arrived < (int)ARRAY_SIZE(s->arrived)) {
		s->arrived[s->n_arrived] = clock_mono_ms();
		snprintf(s->arrived_path[s->n_arrived], sizeof(s->arrived_path[0]), "%s", url);
		s->n_arrived++;
	}
	pthread_mutex_unlock(&s->lock);
	now = ++s->in_flight;
	for (int m = s->max_in_flight; now > m && !atomic_compare_exchange_weak(&s->max_in_flight, &m, now);)
		;
	record(s, conn, method, &st->upload);
	r = respond(s, conn, url);
	s->in_flight--;
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req_state *st = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (st) {
		buf_free(&st->upload);
		free(st);
		*con_cls = NULL;
	}
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct server *s = cls;

	(void)conn;
	(void)socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		s->connections++;
}

static struct server *server_start(void)
{
	struct server *s = xcalloc(1, sizeof(*s));
	const union MHD_DaemonInfo *info;
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	pthread_mutex_init(&s->lock, NULL);
	s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
				0, NULL, NULL, on_request, s,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_END);
	ck_assert_ptr_nonnull(s->d);
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	ck_assert_ptr_nonnull(info);
	s->port = info->port;
	return s;
}

static void server_stop(struct server *s)
{
	s->stopping = true;
	MHD_stop_daemon(s->d);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* --- the client side --- */

struct result {
	bool done;
	long status;
	int error;
	unsigned attempts;
	char error_text[512];
	char body[64];
	int64_t at_ms;
};

static unsigned callbacks;
static struct http_client *cur_client;

static void on_done(const struct http_response *r, void *ud)
{
	struct result *res = ud;

	ck_assert(!res->done); /* exactly once */
	res->done = true;
	res->status = r->status;
	res->error = r->error;
	res->attempts = r->attempts;
	res->at_ms = clock_mono_ms();
	ck_assert_ptr_nonnull(r->body);
	ck_assert_ptr_nonnull(r->error_text);
	ck_assert_ptr_nonnull(r->content_type);
	ck_assert(r->body[r->body_len] == '\0');
	snprintf(res->error_text, sizeof(res->error_text), "%s", r->error_text);
	snprintf(res->body, sizeof(res->body), "%.*s", (int)(r->body_len < 63 ? r->body_len : 63), r->body);
	callbacks++;
}

static struct http_config config_for(const struct server *s, char *url, size_t len)
{
	snprintf(url, len, "http://127.0.0.1:%u", s ? s->port : 1u);
	return (struct http_config){
		.base_url = url,
		.token = TOKEN,
		.timeout_ms = 5000,
		.concurrency = 2,
		.tls_verify = true,
		.backoff_base_ms = 5,
		.backoff_max_ms = 50,
	};
}

static struct http_client *client(const struct http_config *cfg)
{
	struct http_client *c;

	ck_assert_int_eq(http_client_new(cfg, &c), 0);
	return c;
}

/* One GET, run to completion. */
static struct result get_one(const struct http_config *cfg, const char *path, bool auth)
{
	struct http_client *c = client(cfg);
	struct result r = { 0 };

	ck_assert_int_eq(http_get(c, path, auth, on_done, &r), 0);
	ck_assert_uint_eq(http_pending(c), 1);
	ck_assert_int_eq(http_run(c, NULL, NULL), 0);
	ck_assert(r.done);
	ck_assert_uint_eq(http_pending(c), 0);
	ck_assert_uint_eq(http_requests_sent(c), r.attempts);
	http_client_free(c);
	ck_assert_ptr_null(strstr(r.error_text, TOKEN));
	return r;
}

static struct result delete_one(const struct http_config *cfg, const char *path, const char *body)
{
	struct http_client *c = client(cfg);
	struct result r = { 0 };

	ck_assert_int_eq(http_delete(c, path, body, on_done, &r), 0);
	ck_assert_int_eq(http_run(c, NULL, NULL), 0);
	ck_assert(r.done);
	http_client_free(c);
	ck_assert_ptr_null(strstr(r.error_text, TOKEN));
	return r;
}

/* --- tests --- */

START_TEST(test_get_ok_headers)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct result r = get_one(&cfg, "/ok", true);

	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(r.error, 0);
	ck_assert_uint_eq(r.attempts, 1);
	ck_assert_str_eq(r.body, "{\"ok\":true}");
	ck_assert_str_eq(s->auth, "Bearer " TOKEN);
	ck_assert_str_eq(s->user_agent, "synapse-janitor/" PACKAGE_VERSION);
	ck_assert_str_eq(s->method, "GET");
	r = get_one(&cfg, "/ok", false);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(s->auth, "");
	server_stop(s);
}
END_TEST

START_TEST(test_proxy_env_ignored)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct result r;

	/* A proxy from the environment must never see the token. */
	setenv("http_proxy", "http://127.0.0.1:1", 1);
	setenv("HTTP_PROXY", "http://127.0.0.1:1", 1);
	setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
	r = get_one(&cfg, "/ok", true);
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("ALL_PROXY");
	ck_assert_int_eq(r.error, 0);
	ck_assert_int_eq(r.status, 200);
	server_stop(s);
}
END_TEST

START_TEST(test_keepalive_reuse)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct http_client *c = client(&cfg);
	struct result r[60] = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		ck_assert_int_eq(http_get(c, "/ok", true, on_done, &r[i]), 0);
	ck_assert_int_eq(http_run(c, NULL, NULL), 0);
	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		ck_assert_int_eq(r[i].status, 200);
	/* And a second batch on the same client, after it went idle. */
	struct result more = { 0 };
	ck_assert_int_eq(http_get(c, "/ok", true, on_done, &more), 0);
	ck_assert_int_eq(http_run(c, NULL, NULL), 0);
	ck_assert_int_eq(more.status, 200);
	ck_assert_int_eq(s->requests, 61);
	ck_assert_int_le(s->connections, 2);
	ck_assert_uint_eq(http_requests_sent(c), 61);
	http_client_free(c);
	server_stop(s);
}
END_TEST

START_TEST(test_concurrency_bound)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct http_client *c;
	struct result r[12] = { 0 };
	int64_t t0;

	cfg.concurrency = 3;
	c = client(&cfg);
	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		ck_assert_int_eq(http_get(c, "/slow?ms=150", true, on_done, &r[i]), 0);
	ck_assert_uint_eq(http_pending(c), 12);
	t0 = clock_mono_ms();
	ck_assert_int_eq(http_run(c, NULL, NULL), 0);
	ck_assert_int_ge(clock_mono_ms() - t0, 4 * 150 - 20);
	ck_assert_int_eq(s->max_in_flight, 3);
	ck_assert_int_le(s->connections, 3);
	/* FIFO: the first submitted finish first. */
	ck_assert_int_le(r[0].at_ms, r[11].at_ms);
	http_client_free(c);
	server_stop(s);
}
END_TEST

START_TEST(test_rate_limit)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct http_client *c;
	struct result r[10] = { 0 };
	int64_t t0;

	cfg.rate_limit = 20;
	cfg.concurrency = 10;
	c = client(&cfg);
	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		ck_assert_int_eq(http_get(c, "/ok", true, on_done, &r[i]), 0);
	t0 = clock_mono_ms();
	ck_assert_int_eq(http_run(c, NULL, NULL), 0);
	/* 10 starts at 20/s: at least 9 gaps of 50 ms. */
	ck_assert_int_ge(clock_mono_ms() - t0, 9 * 50 - 10);
	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		ck_assert_int_eq(r[i].status, 200);
	http_client_free(c);
	server_stop(s);
}
END_TEST

START_TEST(test_timeout)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct result r;
	int64_t t0 = clock_mono_ms();

	cfg.timeout_ms = 200;
	cfg.max_attempts = 2;
	r = get_one(&cfg, "/hang?ms=3000", true);
	ck_assert_int_eq(r.error, -ETIMEDOUT);
	ck_assert_uint_eq(r.attempts, 2);  /* a GET is retried */
	ck_assert_int_ge(clock_mono_ms() - t0, 2 * 200);
	ck_assert_int_lt(clock_mono_ms() - t0, 2500);
	ck_assert_ptr_null(strstr(r.error_text, TOKEN));
	ck_assert(r.error_text[0]);
	server_stop(s);
}
END_TEST

START_TEST(test_retry_5xx_then_success)
{
	static const char *const paths[] = {
		"/flaky?fail=2&code=500", "/flaky?fail=2&code=502", "/flaky?fail=2&code=503",
		"/flaky?fail=4&code=504",
	};
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		struct result r;

		s->flaky_hits = 0;
		r = get_one(&cfg, paths[i], true);
		ck_assert_int_eq(r.status, 200);
		ck_assert_int_eq(r.error, 0);
		ck_assert_uint_eq(r.attempts, i == 3 ? 5 : 3);
		ck_assert_str_eq(r.body, "{\"ok\":true}");
	}
	server_stop(s);
}
END_TEST

START_TEST(test_retry_bounded)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct result r;

	cfg.max_attempts = 3;
	r = get_one(&cfg, "/flaky?fail=100&code=503", true);
	ck_assert_int_eq(r.status, 503);   /* the final attempt's answer */
	ck_assert_int_eq(r.error, 0);
	ck_assert_uint_eq(r.attempts, 3);
	ck_assert_int_eq(s->requests, 3);
	/* The default is 5 attempts. */
	cfg.max_attempts = 0;
	s->flaky_hits = 0;
	r = get_one(&cfg, "/flaky?fail=100&code=500", true);
	ck_assert_uint_eq(r.attempts, 5);
	ck_assert_int_eq(s->requests, 8);
	server_stop(s);
}
END_TEST

START_TEST(test_backoff_grows)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct result r;
	int64_t t0 = clock_mono_ms();

	/* Full jitter makes single delays random; the cap bounds the total. */
	cfg.backoff_base_ms = 100;
	cfg.backoff_max_ms = 100;
	cfg.max_attempts = 4;
	r = get_one(&cfg, "/flaky?fail=100&code=500", true);
	ck_assert_uint_eq(r.attempts, 4);
	ck_assert_int_lt(clock_mono_ms() - t0, 3 * 100 + 500);
	server_stop(s);
}
END_TEST

START_TEST(test_429_retry_after_body)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct result r;
	int64_t t0 = clock_mono_ms();

	cfg.backoff_max_ms = 5000;
	r = get_one(&cfg, "/429body", true);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.attempts, 2);
	ck_assert_int_ge(clock_mono_ms() - t0, 300);
	server_stop(s);
}
END_TEST

START_TEST(test_429_retry_after_header)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct result r;
	int64_t t0 = clock_mono_ms();

	cfg.backoff_max_ms = 5000;
	r = get_one(&cfg, "/429header", true);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.attempts, 2);
	ck_assert_int_ge(clock_mono_ms() - t0, 1000);
	/* The wait is capped (pause_max_ms; backoff_max_ms no longer
	 * shortens what the server asked for): past the cap the client does
	 * not wait, and the request fails saying why. */
	s->flaky_hits = 0;
	cfg.backoff_max_ms = 100;
	cfg.pause_max_ms = 100;
	t0 = clock_mono_ms();
	r = get_one(&cfg, "/429header", true);
	ck_assert_int_eq(r.status, 429);
	ck_assert_int_eq(r.error, -EBUSY);
	ck_assert_int_lt(clock_mono_ms() - t0, 800);
	server_stop(s);
}
END_TEST

struct stopper {
	int64_t stop_at;
	int64_t stopped_at;
	unsigned asked;
};

static bool stop_later(void *ud)
{
	struct stopper *st = ud;
	int64_t now = clock_mono_ms();

	st->asked++;
	if (now < st->stop_at)
		return false;
	if (!st->stopped_at)
		st->stopped_at = now;
	return true;
}

/* --- the client backs off as one (DESIGN.md §6.15) --- */

/* Requests that reached the server in (from, to), and the first at or
 * after to (0 when none). */
static int arrivals_between(struct server *s, int64_t from, int64_t to, int64_t *first_after)
{
	int n = 0;

	pthread_mutex_lock(&s->lock);
	*first_after = 0;
	for (int i = 0; i < s->n_arrived; i++) {
		if (s->arrived[i] > from && s->arrived[i] < to)
			n++;
		if (s->arrived[i] >= to && (!*first_after || s->arrived[i] < *first_after))
			*first_after = s->arrived[i];
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* The first request after the 429 came back while others were in flight
 * or queued: until retry_after_ms has passed, no request reaches the
 * server; those in flight finish; then the one told goes again. */
START_TEST(test_429_pauses_whole_client)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct http_client *c;
	struct result told = { 0 }, r[20] = { 0 };
	int64_t after, t0;
	int during;

	cfg.concurrency = 4;
	c = client(&cfg);
	ck_assert_int_eq(http_get(c, "/429ms?ms=800", true, on_done, &told), 0);
	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		ck_assert_int_eq(http_get(c, "/slow?ms=150", true, on_done, &r[i]), 0);
	t0 = clock_mono_ms();
	ck_assert_int_eq(http_run(c, NULL, NULL), 0);
	ck_assert_int_eq(told.status, 200);
	ck_assert_uint_eq(told.attempts, 2);
	for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
		ck_assert_int_eq(r[i].status, 200); /* in flight: finished, not cancelled */
		ck_assert_uint_eq(r[i].attempts, 1);
	}
	ck_assert_int_gt(s->paused_at, 0);
	/* 50 ms of slack for the three sent with it, which may reach the
	 * server just after the 429 went out. */
	during = arrivals_between(s, s->paused_at + 50, s->paused_at + 800, &after);
	printf("429 pause of 800 ms: %d requests reached the server during it; the next came %lld ms "
	       "after the 429; %d requests in all, run %lld ms, paused %llu ms\n", during,
	       (long long)(after - s->paused_at), s->requests, (long long)(clock_mono_ms() - t0),
	       (unsigned long long)http_paused_ms(c));
	ck_assert_int_eq(during, 0);
	ck_assert_int_gt(after, 0);
	/* The pause ends on time (generous: a loaded machine). */
	ck_assert_int_lt(after - s->paused_at, 800 + 400);
	ck_assert_int_eq(s->requests, 22);
	ck_assert_uint_ge(http_paused_ms(c), 790);
	ck_assert_ptr_null(http_refusal(c));
	http_client_free(c);
	server_stop(s);
}
END_TEST

/* Retry-After as an HTTP date (429 and 503), measured from the answer's
 * own Date header; and a 503 with Retry-After in seconds. Each pauses the
 * whole client, a DELETE queued behind included. */
START_TEST(test_retry_after_forms)
{
	static const struct {
		const char *path;
		long status;
		int64_t wait_ms;
	} forms[] = {
		{ "/429date?s=2", 429, 2000 },
		{ "/503date?s=1", 503, 1000 },
		{ "/503secs?s=1", 503, 1000 },
	};
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));

	cfg.concurrency = 1;
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		struct http_client *c = client(&cfg);
		struct result told = { 0 }, del = { 0 }, get = { 0 };
		int64_t after, t0 = clock_mono_ms();
		int during;

		s->flaky_hits = 0;
		s->paused_at = 0;
		ck_assert_int_eq(http_get(c, forms[i].path, true, on_done, &told), 0);
		ck_assert_int_eq(http_delete(c, "/ok", "{}", on_done, &del), 0);
		ck_assert_int_eq(http_get(c, "/ok", true, on_done, &get), 0);
		ck_assert_int_eq(http_run(c, NULL, NULL), 0);
		ck_assert_int_eq(told.status, 200);
		ck_assert_uint_eq(told.attempts, 2);
		ck_assert_int_eq(del.status, 200);
		ck_assert_int_eq(get.status, 200);
		during = arrivals_between(s, s->paused_at, s->paused_at + forms[i].wait_ms - 100, &after);
		printf("%s: %d requests during the pause, the next %lld ms after it began, run %lld ms\n",
		       forms[i].path, during, (long long)(after - s->paused_at),
		       (long long)(clock_mono_ms() - t0));
		ck_assert_int_eq(during, 0);
		ck_assert_int_ge(clock_mono_ms() - t0, forms[i].wait_ms - 100);
		ck_assert_int_lt(clock_mono_ms() - t0, forms[i].wait_ms + 1500);
		/* The one told goes first, then the DELETE, then the GET. */
		ck_assert_int_ge(del.at_ms, told.at_ms);
		ck_assert_int_ge(get.at_ms, del.at_ms);
		http_client_free(c);
	}
	server_stop(s);
}
END_TEST

/* A huge Retry-After (3000 years, in the body and the header, or more
 * digits than fit) is not waited: the request fails at once with -EBUSY
 * and says why, and nothing else is sent: the queued requests fail
 * unsent. */
START_TEST(test_huge_pause_capped)
{
	static const char *const paths[] = { "/429huge", "/429hugeheader" };
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));

	cfg.concurrency = 1;
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		struct http_client *c = client(&cfg);
		struct result told = { 0 }, r[10] = { 0 };
		int before = s->requests;
		int64_t t0 = clock_mono_ms();

		ck_assert_int_eq(http_get(c, paths[i], true, on_done, &told), 0);
		for (size_t k = 0; k < ARRAY_SIZE(r); k++)
			ck_assert_int_eq(k % 2 ? http_get(c, "/ok", true, on_done, &r[k])
					       : http_delete(c, "/ok", "{}", on_done, &r[k]), 0);
		ck_assert_int_eq(http_run(c, NULL, NULL), 0);
		ck_assert_int_lt(clock_mono_ms() - t0, 2000);
		ck_assert_int_eq(told.error, -EBUSY);
		ck_assert_int_eq(told.status, 429);
		ck_assert_uint_eq(told.attempts, 1);
		ck_assert_msg(strstr(told.error_text, "longer than the 10 min this program waits"),
			      "%s", told.error_text);
		for (size_t k = 0; k < ARRAY_SIZE(r); k++) {
			ck_assert_int_eq(r[k].error, -EBUSY);
			ck_assert_int_eq(r[k].status, 0);
			ck_assert_uint_eq(r[k].attempts, 0);
		}
		ck_assert_int_eq(s->requests - before, 1);
		ck_assert_ptr_nonnull(http_refusal(c));
		ck_assert_uint_eq(http_paused_ms(c), 0);
		ck_assert_uint_eq(http_requests_sent(c), 1);
		http_client_free(c);
	}
	server_stop(s);
}
END_TEST

/* The limits can be set lower: one pause over pause_max_ms, or pauses
 * adding up past pause_budget_ms, are not waited. */
START_TEST(test_pause_limits)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct http_client *c;
	struct result r = { 0 }, other = { 0 };
	int64_t t0 = clock_mono_ms();

	cfg.pause_max_ms = 500;
	cfg.concurrency = 1;
	c = client(&cfg);
	ck_assert_int_eq(http_get(c, "/429ms?ms=501", true, on_done, &r), 0);
	ck_assert_int_eq(http_run(c, NULL, NULL), 0);
	ck_assert_int_eq(r.error, -EBUSY);
	ck_assert_int_lt(clock_mono_ms() - t0, 400);
	ck_assert_msg(strstr(r.error_text, "asked to pause for 501 ms (HTTP 429), longer than the 500 ms"),
		      "%s", r.error_text);
	/* Until the time asked for has passed, nothing is sent. */
	ck_assert_int_eq(http_get(c, "/ok", true, on_done, &other), 0);
	ck_assert_int_eq(http_run(c, NULL, NULL), 0);
	ck_assert_int_eq(other.error, -EBUSY);
	ck_assert_int_eq(s->requests, 1);
	/* After it, requests go again. */
	usleep(600 * 1000);
	memset(&other, 0, sizeof(other));
	ck_assert_int_eq(http_get(c, "/ok", true, on_done, &other), 0);
	ck_assert_int_eq(http_run(c, NULL, NULL), 0);
	ck_assert_int_eq(other.status, 200);
	http_client_free(c);

	/* The budget: two pauses of 300 ms fit in 700, the third does not. */
	cfg.pause_max_ms = 0;
	cfg.pause_budget_ms = 700;
	s->flaky_hits = 0;
	c = client(&cfg);
	memset(&r, 0, sizeof(r));
	t0 = clock_mono_ms();
	ck_assert_int_eq(http_get(c, "/429ms?ms=300&fail=3", true, on_done, &r), 0);
	ck_assert_int_eq(http_run(c, NULL, NULL), 0);
	ck_assert_int_eq(r.error, -EBUSY);
	ck_assert_uint_eq(r.attempts, 3);
	ck_assert_int_ge(clock_mono_ms() - t0, 600);
	ck_assert_uint_eq(http_paused_ms(c), 600);
	ck_assert_msg(strstr(r.error_text, "past this run's budget of 700 ms of pauses"), "%s", r.error_text);
	http_client_free(c);
	server_stop(s);
}
END_TEST

/* SIGTERM during a long pause: the stop hook is still asked every 100 ms. */
START_TEST(test_pause_stops_promptly)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct http_client *c = client(&cfg);
	struct result r = { 0 };
	struct stopper st;
	int64_t t0 = clock_mono_ms();

	st.stop_at = t0 + 500;
	st.stopped_at = 0;
	st.asked = 0;
	ck_assert_int_eq(http_get(c, "/429ms?ms=60000", true, on_done, &r), 0);
	ck_assert_int_eq(http_run(c, stop_later, &st), -ECANCELED);
	ck_assert_int_eq(r.error, -ECANCELED);
	ck_assert_int_lt(clock_mono_ms() - t0, 500 + 300);
	ck_assert_uint_ge(st.asked, 4);
	http_client_free(c);
	server_stop(s);
}
END_TEST

START_TEST(test_4xx_not_retried)
{
	static const long codes[] = { 400, 401, 403, 404, 405 };
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));

	for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
		char path[64];
		struct result r;
		int before = s->requests;

		snprintf(path, sizeof(path), "/status?code=%ld", codes[i]);
		r = get_one(&cfg, path, true);
		ck_assert_int_eq(r.status, codes[i]);
		ck_assert_uint_eq(r.attempts, 1);
		ck_assert_int_eq(s->requests - before, 1);
		ck_assert_str_eq(r.body, "{\"errcode\":\"M_TEST\",\"error\":\"test\"}");
	}
	server_stop(s);
}
END_TEST

START_TEST(test_delete_sent_and_not_retried)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct result r;

	r = delete_one(&cfg, "/ok", "{\"purge\":true,\"block\":false}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(s->method, "DELETE");
	ck_assert_str_eq(s->body, "{\"purge\":true,\"block\":false}");
	ck_assert_str_eq(s->content_type, "application/json");
	ck_assert_str_eq(s->auth, "Bearer " TOKEN);
	/* A lost answer is never re-sent (DESIGN.md §6.9). */
	r = delete_one(&cfg, "/flaky?fail=5&code=500", "{}");
	ck_assert_int_eq(r.status, 500);
	ck_assert_uint_eq(r.attempts, 1);
	r = delete_one(&cfg, "/reset", "{}");
	ck_assert_int_eq(r.error, -ECONNRESET);
	ck_assert_uint_eq(r.attempts, 1);
	/* A 429 was not acted on: retried. */
	s->flaky_hits = 0;
	r = delete_one(&cfg, "/429body", "{}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.attempts, 2);
	/* NULL body: "{}" (Synapse wants a JSON object). */
	r = delete_one(&cfg, "/ok", NULL);
	ck_assert_str_eq(s->body, "{}");
	server_stop(s);
}
END_TEST

START_TEST(test_body_cap_chunked)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct result r = get_one(&cfg, "/big", true);

	ck_assert_int_eq(r.error, -EMSGSIZE);
	ck_assert_uint_eq(r.attempts, 1);
	/* A smaller cap, set by the caller. */
	cfg.max_body = 5;
	r = get_one(&cfg, "/ok", true);
	ck_assert_int_eq(r.error, -EMSGSIZE);
	cfg.max_body = 11;
	r = get_one(&cfg, "/ok", true);
	ck_assert_int_eq(r.error, 0);
	server_stop(s);
}
END_TEST

START_TEST(test_reset_and_refused)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct result r;

	cfg.max_attempts = 3;
	r = get_one(&cfg, "/reset", true);
	ck_assert_int_eq(r.error, -ECONNRESET);
	ck_assert_int_eq(r.status, 0);
	ck_assert_uint_eq(r.attempts, 3);
	ck_assert_int_eq(s->requests, 3);
	server_stop(s);
	r = get_one(&cfg, "/ok", true);  /* the server is gone */
	ck_assert_int_eq(r.error, -ECONNREFUSED);
	ck_assert_uint_eq(r.attempts, 3);
	ck_assert(r.error_text[0]);
}
END_TEST

START_TEST(test_redirect_not_followed)
{
	struct server *s = server_start(), *other = server_start();
	char url[64], path[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct result r;

	snprintf(path, sizeof(path), "/redirect?port=%u", other->port);
	r = get_one(&cfg, path, true);
	ck_assert_int_eq(r.status, 302);
	ck_assert_int_eq(r.error, 0);
	ck_assert_int_eq(other->requests, 0);
	ck_assert_int_eq(other->connections, 0);
	server_stop(other);
	server_stop(s);
}
END_TEST

START_TEST(test_bad_config_and_args)
{
	struct http_client *c;
	struct http_config cfg = { .base_url = "http://127.0.0.1:1", .token = "a\r\nX-Evil: 1" };
	struct result r = { 0 };

	ck_assert_int_eq(http_client_new(&cfg, &c), -EINVAL);
	cfg.token = TOKEN;
	cfg.base_url = NULL;
	ck_assert_int_eq(http_client_new(&cfg, &c), -EINVAL);
	cfg.base_url = "http://127.0.0.1:1";
	ck_assert_int_eq(http_client_new(&cfg, &c), 0);
	ck_assert_int_eq(http_get(c, "no-slash", true, on_done, &r), -EINVAL);
	ck_assert_int_eq(http_get(c, "/x", true, NULL, &r), -EINVAL);
	ck_assert_uint_eq(http_pending(c), 0);
	ck_assert_int_eq(http_run(c, NULL, NULL), 0);  /* nothing to do */
	http_client_free(c);
	ck_assert(!r.done);
}
END_TEST

START_TEST(test_should_stop_cancels)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct http_client *c = client(&cfg);
	struct result r[20] = { 0 };
	struct stopper st = { .stop_at = clock_mono_ms() + 300 };
	int64_t t0 = clock_mono_ms();

	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		ck_assert_int_eq(http_get(c, i % 2 ? "/hang?ms=10000" : "/flaky?fail=1000&code=503",
					  true, on_done, &r[i]), 0);
	ck_assert_int_eq(http_run(c, stop_later, &st), -ECANCELED);
	/* Asked at least every 100 ms, and cancelled promptly once it said so. */
	ck_assert_uint_ge(st.asked, 3);
	ck_assert_int_lt(clock_mono_ms() - st.stopped_at, 200);
	ck_assert_int_lt(clock_mono_ms() - t0, 300 + 200 + 100);
	for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
		ck_assert(r[i].done);
		ck_assert_int_eq(r[i].error, -ECANCELED);
	}
	ck_assert_uint_eq(http_pending(c), 0);
	http_client_free(c);
	server_stop(s);
}
END_TEST

struct chain {
	struct http_client *c;
	unsigned left, done, errors;
};

static void on_chain(const struct http_response *r, void *ud)
{
	struct chain *ch = ud;

	ch->done++;
	ch->errors += r->status != 200;
	/* Submitting from a callback: two more each time, until the budget ends. */
	for (int i = 0; i < 2 && ch->left > 0; i++, ch->left--)
		ck_assert_int_eq(http_get(ch->c, "/ok", true, on_chain, ch), 0);
}

START_TEST(test_callbacks_submit)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct chain ch = { .left = 99 };

	cfg.concurrency = 4;
	ch.c = client(&cfg);
	ck_assert_int_eq(http_get(ch.c, "/ok", true, on_chain, &ch), 0);
	ck_assert_int_eq(http_run(ch.c, NULL, NULL), 0);
	ck_assert_uint_eq(ch.done, 100);
	ck_assert_uint_eq(ch.errors, 0);
	ck_assert_int_eq(s->requests, 100);
	http_client_free(ch.c);
	server_stop(s);
}
END_TEST

struct canceller {
	struct http_client *c;
	unsigned ok, cancelled, other;
};

static void on_cancel_rest(const struct http_response *r, void *ud)
{
	struct canceller *cc = ud;

	if (r->error == -ECANCELED) {
		cc->cancelled++;
		return;
	}
	if (r->status == 200 && cc->ok++ == 0)
		http_cancel_all(cc->c); /* re-entrant: from inside a callback */
	else
		cc->other++;
}

START_TEST(test_cancel_from_callback)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct canceller cc = { 0 };

	cfg.concurrency = 3;
	cc.c = client(&cfg);
	ck_assert_int_eq(http_get(cc.c, "/ok", true, on_cancel_rest, &cc), 0);
	for (int i = 0; i < 30; i++)
		ck_assert_int_eq(http_get(cc.c, i % 3 ? "/hang?ms=10000" : "/flaky?fail=100&code=500",
					  true, on_cancel_rest, &cc), 0);
	ck_assert_int_eq(http_run(cc.c, NULL, NULL), 0);
	ck_assert_uint_eq(cc.ok, 1);
	ck_assert_uint_eq(cc.cancelled, 30);
	ck_assert_uint_eq(cc.other, 0);
	ck_assert_uint_eq(http_pending(cc.c), 0);
	/* The client stays usable. */
	struct result r = { 0 };
	ck_assert_int_eq(http_get(cc.c, "/ok", true, on_done, &r), 0);
	ck_assert_int_eq(http_run(cc.c, NULL, NULL), 0);
	ck_assert_int_eq(r.status, 200);
	http_client_free(cc.c);
	server_stop(s);
}
END_TEST

START_TEST(test_free_with_pending)
{
	struct http_config cfg = { .base_url = "http://127.0.0.1:1", .token = TOKEN };
	struct http_client *c = client(&cfg);
	struct result r[3] = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		ck_assert_int_eq(http_get(c, "/x", true, on_done, &r[i]), 0);
	http_client_free(c);
	for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
		ck_assert(r[i].done);
		ck_assert_int_eq(r[i].error, -ECANCELED);
	}
}
END_TEST

static void on_resubmit(const struct http_response *r, void *ud)
{
	unsigned *n = ud;

	(*n)++;
	ck_assert_int_eq(r->error, -ECANCELED);
	ck_assert_int_eq(http_get(cur_client, "/x", true, on_resubmit, ud), 0);
}

START_TEST(test_free_with_stubborn_callback)
{
	struct http_config cfg = { .base_url = "http://127.0.0.1:1", .token = TOKEN };
	unsigned n = 0;

	cur_client = client(&cfg);
	ck_assert_int_eq(http_get(cur_client, "/x", true, on_resubmit, &n), 0);
	/* Every cancelled request submits another: freeing still ends. */
	http_client_free(cur_client);
	ck_assert_uint_ge(n, 1);
	ck_assert_uint_le(n, 1000);
}
END_TEST

struct counter {
	unsigned ok, bad;
};

static void on_count(const struct http_response *r, void *ud)
{
	struct counter *n = ud;

	if (r->status == 200 && r->error == 0 && strcmp(r->body, "{\"ok\":true}") == 0)
		n->ok++;
	else
		n->bad++;
}

START_TEST(test_many_requests)
{
	struct server *s = server_start();
	char url[64];
	struct http_config cfg = config_for(s, url, sizeof(url));
	struct http_client *c;
	struct counter n = { 0 };
	unsigned total = getenv("SJ_HTTP_MANY") ? (unsigned)atoi(getenv("SJ_HTTP_MANY")) : 10000;

	cfg.concurrency = 8;
	c = client(&cfg);
	/* Submitted in waves, as the scan does, so the queue stays short. */
	for (unsigned sent = 0; sent < total;) {
		for (unsigned i = 0; i < 500 && sent < total; i++, sent++)
			ck_assert_int_eq(http_get(c, "/ok", true, on_count, &n), 0);
		ck_assert_int_eq(http_run(c, NULL, NULL), 0);
	}
	ck_assert_uint_eq(n.ok, total);
	ck_assert_uint_eq(n.bad, 0);
	ck_assert_uint_eq(http_requests_sent(c), total);
	ck_assert_int_le(s->connections, 8);
	http_client_free(c);
	server_stop(s);
}
END_TEST

/* libcurl's allocations, watched: a block it frees that still holds the
 * Authorization header is a copy of the token nobody wiped. */
static const char auth_line[] = "Authorization: Bearer " TOKEN;
static atomic_int unwiped_frees, header_copies;

static void watched_free(void *p)
{
	if (p && malloc_usable_size(p) >= sizeof(auth_line) - 1 &&
	    memcmp(p, auth_line, sizeof(auth_line) - 1) == 0)
		unwiped_frees++;
	free(p);
}

static char *watched_strdup(const char *s)
{
	if (strcmp(s, auth_line) == 0)
		header_copies++;
	return strdup(s);
}

/* curl_slist_append copies each header string: the copies of the
 * Authorization header are wiped before they are freed. */
START_TEST(test_auth_header_copies_wiped)
{
	struct server *s;
	char url[64];
	struct http_config cfg;
	struct http_client *c;
	struct result r[3] = { 0 };

	/* The memory functions must be installed before libcurl's first
	 * initialisation in this process: a test of its own, forked. */
	if (getenv("CK_FORK") && strcmp(getenv("CK_FORK"), "no") == 0)
		return;
	ck_assert_int_eq(curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, watched_free, realloc,
					      watched_strdup, calloc), CURLE_OK);
	s = server_start();
	cfg = config_for(s, url, sizeof(url));
	c = client(&cfg);
	ck_assert_int_eq(http_get(c, "/ok", true, on_done, &r[0]), 0);
	ck_assert_int_eq(http_get(c, "/flaky?fail=1&code=500", true, on_done, &r[1]), 0);
	ck_assert_int_eq(http_delete(c, "/ok", "{}", on_done, &r[2]), 0);
	ck_assert_int_eq(http_run(c, NULL, NULL), 0);
	ck_assert_int_eq(r[1].status, 200);
	http_client_free(c);
	ck_assert_int_ge(header_copies, 3);
	ck_assert_int_eq(unwiped_frees, 0);
	server_stop(s);
}
END_TEST

START_TEST(test_escape)
{
	char *e = http_escape("!room:server/x?y#z%20 +&=\xc3\xa9-._~");

	ck_assert_str_eq(e, "%21room%3Aserver%2Fx%3Fy%23z%2520%20%2B%26%3D%C3%A9-._~");
	free(e);
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("basics");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_get_ok_headers);
	tcase_add_test(tc, test_proxy_env_ignored);
	tcase_add_test(tc, test_keepalive_reuse);
	tcase_add_test(tc, test_concurrency_bound);
	tcase_add_test(tc, test_rate_limit);
	tcase_add_test(tc, test_bad_config_and_args);
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_auth_header_copies_wiped);
	tcase_add_test(tc, test_redirect_not_followed);
	tcase_add_test(tc, test_body_cap_chunked);
	suite_add_tcase(s, tc);

	tc = tcase_create("retries");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_retry_5xx_then_success);
	tcase_add_test(tc, test_retry_bounded);
	tcase_add_test(tc, test_backoff_grows);
	tcase_add_test(tc, test_429_retry_after_body);
	tcase_add_test(tc, test_429_retry_after_header);
	tcase_add_test(tc, test_4xx_not_retried);
	tcase_add_test(tc, test_429_pauses_whole_client);
	tcase_add_test(tc, test_retry_after_forms);
	tcase_add_test(tc, test_huge_pause_capped);
	tcase_add_test(tc, test_pause_limits);
	tcase_add_test(tc, test_pause_stops_promptly);
	tcase_add_test(tc, test_delete_sent_and_not_retried);
	tcase_add_test(tc, test_reset_and_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("loop");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_should_stop_cancels);
	tcase_add_test(tc, test_callbacks_submit);
	tcase_add_test(tc, test_cancel_from_callback);
	tcase_add_test(tc, test_free_with_pending);
	tcase_add_test(tc, test_free_with_stubborn_callback);
	tcase_add_test(tc, test_many_requests);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_suite_main(http_suite());
}
