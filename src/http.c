/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <curl/curl.h>

#include "http.h"
#include "json.h"
#include "log.h"
#include "random.h"
#include "xmalloc.h"
#include "buf.h"
#include "clock.h"

#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_MAX_ATTEMPTS 5
#define DEFAULT_BACKOFF_BASE_MS 500
#define DEFAULT_BACKOFF_MAX_MS 30000
/* Of a streamed body, this much is kept to describe it if it is not JSON. */
#define BODY_START_KEPT 256
/* A pause the server asks for (429, 503 with Retry-After) is honoured in
 * full up to this long; all pauses of one client (one run) together up to
 * the budget (synapse-janitor(8), "Back-off"). */
#define DEFAULT_PAUSE_MAX_MS (10 * 60 * 1000)
#define DEFAULT_PAUSE_BUDGET_MS (30 * 60 * 1000)
/* should_stop is asked at least this often (http.h). */
#define STOP_CHECK_MS 100

enum req_where { REQ_NOWHERE, REQ_READY, REQ_WAITING, REQ_ACTIVE };

struct request;

/* An intrusive FIFO; a request is on at most one list at a time, so taking
 * one off never invalidates anything a callback could hold. */
struct req_list {
	struct request *head, *tail;
	unsigned n;
};

struct request {
	struct http_client *c;
	struct request *prev, *next;
	enum req_where where;
	uint64_t seq;                 /* submission order, for http_cancel_all */
	enum http_method method;
	bool with_auth;
	char *path;
	char *json_body;              /* DELETE only */
	http_done_fn done;
	void *ud;
	unsigned attempts;
	int64_t due_ms;               /* when a waiting retry may start */
	/* The current attempt. */
	CURL *easy;
	struct curl_slist *headers;
	struct buf body;              /* the whole body, or its start when streamed */
	size_t size;                  /* bytes of the body received */
	bool stream_json;             /* http_get_json */
	struct http_json_elements elements; /* .member NULL: none */
	struct json_stream *js;       /* the attempt's parse, while the body comes in */
	struct json_object *json;     /* its value once the body is in, */
	char json_error[160];         /* or why not */
	bool too_big;
	int64_t retry_after_header_ms; /* Retry-After in seconds, as ms; -1 when absent */
	int64_t retry_after_date_ms;  /* Retry-After as an HTTP date, ms since the epoch; -1 */
	int64_t date_ms;              /* Date header, -1 when absent */
	char errbuf[CURL_ERROR_SIZE];
};

struct http_client {
	CURLM *multi;
	char *base_url;
	char *auth_header;            /* "Authorization: Bearer ..."; never logged */
	uint64_t timeout_ms;
	unsigned concurrency;
	unsigned rate_limit;
	bool tls_verify;
	char *ca_file;
	size_t max_body;
	unsigned max_attempts;
	uint64_t backoff_base_ms;
	uint64_t backoff_max_ms;
	struct req_list ready;        /* waiting for a slot, FIFO */
	struct req_list waiting;      /* retries waiting out their delay */
	struct req_list active;       /* in the multi handle */
	uint64_t next_seq;
	uint64_t sent;
	int64_t next_start_us;        /* rate limit: earliest next start */
	uint64_t rng;
	/* The server asked the whole client to wait (DESIGN.md §6.15). */
	uint64_t pause_max_ms;
	uint64_t pause_budget_ms;
	int64_t paused_until_ms;      /* monotonic: no request starts before this */
	uint64_t paused_total_ms;     /* pauses honoured so far, for the budget */
	int64_t refused_until_ms;     /* a pause not waited out: until then, nothing is sent */
	char refusal[256];            /* why requests fail unsent, "" before a refusal */
};

/* --- lists --- */

static struct req_list *list_of(struct http_client *c, enum req_where w)
{
	return w == REQ_READY ? &c->ready : w == REQ_WAITING ? &c->waiting :
	       w == REQ_ACTIVE ? &c->active : NULL;
}

static void req_detach(struct request *r)
{
	struct req_list *l = list_of(r->c, r->where);

	if (!l)
		return;
	if (r->prev)
		r->prev->next = r->next;
	else
		l->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		l->tail = r->prev;
	r->prev = r->next = NULL;
	r->where = REQ_NOWHERE;
	l->n--;
}

static void req_attach(struct request *r, enum req_where w, bool at_front)
{
	struct req_list *l = list_of(r->c, w);

	req_detach(r);
	if (at_front) {
		r->next = l->head;
		if (l->head)
			l->head->prev = r;
		else
			l->tail = r;
		l->head = r;
	} else {
		r->prev = l->tail;
		if (l->tail)
			l->tail->next = r;
		else
			l->head = r;
		l->tail = r;
	}
	r->where = w;
	l->n++;
}

/* --- the client --- */

static uint64_t rng_next(struct http_client *c)
{
	/* xorshift64*: jitter only, not security. */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 2685821657736338717ull;
}

static bool token_is_safe(const char *t)
{
	/* A CR or LF in the token would let it write other headers. */
	for (; t && *t; t++)
		if ((unsigned char)*t < 0x20 || *t == 0x7f)
			return false;
	return true;
}

int http_client_new(const struct http_config *cfg, struct http_client **out)
{
	struct http_client *c;
	static bool curl_ready;

	*out = NULL;
	if (!cfg->base_url || !cfg->base_url[0] || !token_is_safe(cfg->token))
		return -EINVAL;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -EIO;
		curl_ready = true;
	}
	c = xcalloc(1, sizeof(*c));
	c->multi = curl_multi_init();
	if (!c->multi) {
		free(c);
		return -ENOMEM;
	}
	c->base_url = xstrdup(cfg->base_url);
	if (cfg->token)
		c->auth_header = xasprintf("Authorization: Bearer %s", cfg->token);
	c->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->concurrency = cfg->concurrency ? cfg->concurrency : 1;
	c->rate_limit = cfg->rate_limit;
	c->tls_verify = cfg->tls_verify;
	c->ca_file = xstrdup(cfg->ca_file);
	c->max_body = cfg->max_body ? cfg->max_body : HTTP_MAX_BODY;
	c->max_attempts = cfg->max_attempts ? cfg->max_attempts : DEFAULT_MAX_ATTEMPTS;
	c->backoff_base_ms = cfg->backoff_base_ms ? cfg->backoff_base_ms : DEFAULT_BACKOFF_BASE_MS;
	c->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms : DEFAULT_BACKOFF_MAX_MS;
	c->pause_max_ms = cfg->pause_max_ms ? cfg->pause_max_ms : DEFAULT_PAUSE_MAX_MS;
	c->pause_budget_ms = cfg->pause_budget_ms ? cfg->pause_budget_ms : DEFAULT_PAUSE_BUDGET_MS;
	c->rng = random_u64() | 1;
	/* Keep-alive: one connection per concurrent request, reused. */
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->concurrency);
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)c->concurrency + 2);
	*out = c;
	return 0;
}

static void cancel_until_empty(struct http_client *c);

/* curl_slist_append copies each string: the list holds a copy of the
 * Authorization header, wiped before libcurl frees it. */
static void headers_free(struct curl_slist *h)
{
	for (struct curl_slist *s = h; s; s = s->next)
		if (s->data)
			explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(h);
}

static void request_free(struct request *r)
{
	if (r->easy)
		curl_easy_cleanup(r->easy);
	headers_free(r->headers);
	buf_free(&r->body);
	json_stream_free(r->js);
	json_put(r->json);
	free(r->path);
	free(r->json_body);
	free(r);
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	cancel_until_empty(c);
	/* A callback that kept resubmitting: drop the rest without callbacks. */
	struct req_list *lists[] = { &c->ready, &c->waiting, &c->active };
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		while (lists[i]->head) {
			struct request *r = lists[i]->head;

			if (r->where == REQ_ACTIVE)
				curl_multi_remove_handle(c->multi, r->easy);
			req_detach(r);
			request_free(r);
		}
	curl_multi_cleanup(c->multi);
	free(c->base_url);
	if (c->auth_header) {
		explicit_bzero(c->auth_header, strlen(c->auth_header));
		free(c->auth_header);
	}
	free(c->ca_file);
	free(c);
}

unsigned http_pending(const struct http_client *c)
{
	return c->ready.n + c->waiting.n + c->active.n;
}

uint64_t http_requests_sent(const struct http_client *c)
{
	return c->sent;
}

uint64_t http_paused_ms(const struct http_client *c)
{
	return c->paused_total_ms;
}

const char *http_refusal(const struct http_client *c)
{
	return c->refusal[0] ? c->refusal : NULL;
}

/* 127.0.0.0/8, ::1 (and ::ffff:127.x), or the name localhost, which
 * libcurl resolves to the loopback itself, never through DNS. */
static bool host_is_loopback(const char *host)
{
	char h[INET6_ADDRSTRLEN + 2];
	struct in_addr a4;
	struct in6_addr a6;
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
		return true;
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(h)) {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
		if (inet_pton(AF_INET6, h, &a6) != 1)
			return false;
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	}
	return inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

int http_token_exposure(const char *base_url, bool tls_verify, char *why, size_t whylen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int r = 0;

	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, base_url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		r = -EINVAL;
	} else if (strcasecmp(scheme, "http") == 0 && !host_is_loopback(host)) {
		snprintf(why, whylen, "homeserver.url %s is plain http:// to %s, which is not this "
			 "machine: the admin token would cross the network unencrypted (use https://, "
			 "or a loopback address such as 127.0.0.1)", base_url, host);
		r = 1;
	} else if (strcasecmp(scheme, "https") == 0 && !tls_verify) {
		snprintf(why, whylen, "homeserver.tls_verify is false: the admin token goes to "
			 "whoever answers at %s, unverified (for a private CA, set "
			 "homeserver.ca_file instead)", base_url);
		r = 1;
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return r;
}

char *http_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = xmalloc(3 * n + 1), *o = out;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			*o++ = (char)ch;
		} else {
			*o++ = '%';
			*o++ = hex[ch >> 4];
			*o++ = hex[ch & 15];
		}
	}
	*o = '\0';
	return out;
}

/* --- one attempt --- */

/* The parse of an attempt's body: its elements taken out one by one when
 * asked for and the answer is a success (an error body is small). */
static struct json_stream *body_stream(struct request *r)
{
	long status = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (!r->elements.member || status < 200 || status > 299)
		return json_stream_new();
	if (r->elements.begin)
		r->elements.begin(r->elements.ud);
	return json_stream_new_elements((const char *const[]){ r->elements.member, NULL }, r->elements.fn,
					r->elements.ud);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct request *r = ud;
	size_t n = size * nmemb;

	/* CURLOPT_MAXFILESIZE does not stop chunked bodies (DESIGN.md §10). */
	if (r->size + n > r->c->max_body) {
		r->too_big = true;
		return 0;
	}
	r->size += n;
	if (!r->stream_json) {
		buf_append(&r->body, data, n);
		return n;
	}
	if (!r->js)
		r->js = body_stream(r);
	/* Parsed piece by piece; only the start is kept, to describe a body
	 * that turns out not to be JSON. */
	if (r->body.len < BODY_START_KEPT)
		buf_append(&r->body, data, n < BODY_START_KEPT - r->body.len ? n : BODY_START_KEPT - r->body.len);
	json_stream_feed(r->js, data, n);
	return n;
}

/* ms after a count of seconds, saturating. */
static int64_t secs_to_ms(unsigned long long secs)
{
	return secs > (unsigned long long)(INT64_MAX / 1000) ? INT64_MAX : (int64_t)secs * 1000;
}

/* Retry-After is delta-seconds or an HTTP date (RFC 9110 10.2.3). */
static void read_retry_after(struct request *r, char *v)
{
	size_t n;

	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
		v[--n] = '\0';
	if (n == 0)
		return;
	if (strspn(v, "0123456789") == n) {
		errno = 0;
		unsigned long long secs = strtoull(v, NULL, 10);

		r->retry_after_header_ms = errno ? INT64_MAX : secs_to_ms(secs);
	} else {
		time_t t = curl_getdate(v, NULL);

		if (t >= 0)
			r->retry_after_date_ms = secs_to_ms((unsigned long long)t);
	}
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct request *r = ud;
	size_t n = size * nmemb;
	char line[128];

	/* A new status line (after a 100 Continue) starts a new header set. */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		r->retry_after_header_ms = -1;
		r->retry_after_date_ms = -1;
		r->date_ms = -1;
	}
	if (n > 5 && n < sizeof(line) && strncasecmp(data, "Date:", 5) == 0) {
		time_t t;

		memcpy(line, data + 5, n - 5);
		line[n - 5] = '\0';
		t = curl_getdate(line, NULL);
		if (t >= 0)
			r->date_ms = (int64_t)t * 1000;
	}
	if (n > 12 && n < sizeof(line) && strncasecmp(data, "Retry-After:", 12) == 0) {
		memcpy(line, data + 12, n - 12);
		line[n - 12] = '\0';
		read_retry_after(r, line);
	}
	return n;
}

static void easy_options(struct request *r)
{
	struct http_client *c = r->c;
	CURL *e = r->easy;
	char *url = xasprintf("%s%s", c->base_url, r->path);

	curl_easy_setopt(e, CURLOPT_URL, url);
	free(url); /* libcurl copies string options */
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	/* Never follow a redirect: it would carry the token to another host. */
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	/* An http_proxy from the environment must never see the token. */
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "synapse-janitor/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
	if (c->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	if (r->method == HTTP_DELETE) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->json_body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(r->json_body));
		/* libcurl silently re-sends a request whose reused connection
		 * died before an answer: a DELETE must never be re-sent
		 * (DESIGN.md §6.9), so it gets a connection of its own. */
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
}

static struct curl_slist *build_headers(const struct request *r)
{
	struct curl_slist *h = NULL;

	h = curl_slist_append(h, "Accept: application/json");
	if (r->method == HTTP_DELETE) {
		h = curl_slist_append(h, "Content-Type: application/json");
		h = curl_slist_append(h, "Expect:");
	}
	if (r->with_auth && r->c->auth_header)
		h = curl_slist_append(h, r->c->auth_header);
	if (!h)
		fatal("out of memory (HTTP headers)");
	return h;
}

/* Start the next attempt; on failure the request completes with -EIO. */
static int attempt_start(struct request *r)
{
	struct http_client *c = r->c;

	if (!r->easy) {
		r->easy = curl_easy_init();
		if (!r->easy)
			return -ENOMEM;
		r->headers = build_headers(r);
		easy_options(r);
	}
	buf_reset(&r->body);
	r->size = 0;
	json_stream_free(r->js);
	r->js = NULL; /* made when the body starts: by then the status is known */
	r->too_big = false;
	r->retry_after_header_ms = -1;
	r->retry_after_date_ms = -1;
	r->date_ms = -1;
	r->errbuf[0] = '\0';
	if (curl_multi_add_handle(c->multi, r->easy) != CURLM_OK)
		return -EIO;
	r->attempts++;
	c->sent++;
	req_attach(r, REQ_ACTIVE, false);
	return 0;
}

static int request_submit(struct http_client *c, enum http_method method, const char *path,
			  bool with_auth, bool stream_json, const struct http_json_elements *elements,
			  const char *json_body, http_done_fn done, void *userdata)
{
	struct request *r;

	if (!c || !path || path[0] != '/' || !done)
		return -EINVAL;
	r = xcalloc(1, sizeof(*r));
	r->c = c;
	r->seq = ++c->next_seq;
	r->method = method;
	r->with_auth = with_auth;
	r->path = xstrdup(path);
	r->json_body = xstrdup(json_body);
	r->stream_json = stream_json || elements;
	if (elements)
		r->elements = *elements;
	r->done = done;
	r->ud = userdata;
	r->retry_after_header_ms = -1;
	r->retry_after_date_ms = -1;
	r->date_ms = -1;
	req_attach(r, REQ_READY, false);
	return 0;
}

int http_get(struct http_client *c, const char *path, bool with_auth,
	     http_done_fn done, void *userdata)
{
	return request_submit(c, HTTP_GET, path, with_auth, false, NULL, NULL, done, userdata);
}

int http_get_json(struct http_client *c, const char *path, bool with_auth,
		  const struct http_json_elements *elements, http_done_fn done, void *userdata)
{
	return request_submit(c, HTTP_GET, path, with_auth, true, elements && elements->member ? elements : NULL,
			      NULL, done, userdata);
}

int http_delete(struct http_client *c, const char *path, const char *json_body,
		http_done_fn done, void *userdata)
{
	return request_submit(c, HTTP_DELETE, path, true, false, NULL, json_body ? json_body : "{}", done,
			      userdata);
}

/* --- completion and retries --- */

static int error_of(CURLcode rc, bool too_big)
{
	switch (rc) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return -ECONNRESET;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_WEIRD_SERVER_REPLY:
		return -EPROTO;
	case CURLE_WRITE_ERROR:
		return too_big ? -EMSGSIZE : -EIO;
	default:
		return -EIO;
	}
}

/* Runs the callback with the final attempt and frees the request; the
 * request is on no list by then, so the callback may do anything. */
static void complete(struct request *r, int error, const char *error_text)
{
	struct http_response resp = {
		.method = r->method,
		.path = r->path,
		.body = r->body.data ? r->body.data : "",
		.body_len = r->body.len,
		.size = r->size,
		.json = r->json,
		.json_error = r->stream_json ? r->json_error : NULL,
		.content_type = "",
		.date_ms = error ? -1 : r->date_ms,
		.error = error,
		.error_text = error_text ? error_text : "",
		.attempts = r->attempts,
	};
	char *ct = NULL;

	req_detach(r);
	if (r->easy && error != -ECANCELED) {
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &resp.status);
		if (curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
			resp.content_type = ct;
	}
	if (error == -ECANCELED) {
		resp.body = "";
		resp.body_len = resp.size = 0;
		resp.json = NULL;
	}
	if (resp.json_error && !resp.json && !resp.json_error[0])
		resp.json_error = "no answer";
	r->done(&resp, r->ud);
	request_free(r);
}

static bool should_retry(const struct request *r, long status, int error)
{
	if (r->attempts >= r->c->max_attempts)
		return false;
	/* A 429 was refused, not acted on: safe to resend even a DELETE. A DELETE
	 * whose answer was lost must never be re-sent (DESIGN.md §6.9). */
	if (error == 0 && status == 429)
		return true;
	if (r->method != HTTP_GET)
		return false;
	if (error == 0)
		return status >= 500 && status <= 599;
	return error == -ETIMEDOUT || error == -ECONNRESET || error == -ECONNREFUSED;
}

/* retry_after_ms of a 429 body (API.md), or -1. */
static int64_t retry_after_body_ms(const struct request *r)
{
	int64_t ms;
	int got = r->stream_json ? json_get_int64(r->json, "retry_after_ms", &ms) :
		  r->body.len ? json_peek_int64(r->body.data, r->body.len, "retry_after_ms", &ms) : -ENOENT;

	return got < 0 || ms < 0 ? -1 : ms;
}

/* The streamed body is complete: its value, or why it is not JSON. */
static void finish_json(struct request *r)
{
	if (!r->stream_json)
		return;
	if (!r->js)
		r->js = json_stream_new(); /* no body: finish says so */
	json_put(r->json);
	r->json = NULL;
	r->json_error[0] = '\0';
	json_stream_finish(r->js, &r->json, r->json_error, sizeof(r->json_error));
	json_stream_free(r->js);
	r->js = NULL;
}

/* How long the server asked us to wait, in ms, or -1 when it did not say:
 * a 429's retry_after_ms, else Retry-After in seconds, else Retry-After as
 * an HTTP date, measured from the server's own Date header when there is
 * one (its clock set that date, not ours). */
static int64_t asked_pause_ms(const struct request *r, long status)
{
	int64_t ms = status == 429 ? retry_after_body_ms(r) : -1;

	if (ms < 0)
		ms = r->retry_after_header_ms;
	if (ms < 0 && r->retry_after_date_ms >= 0) {
		int64_t from = r->date_ms >= 0 ? r->date_ms : clock_wall_ms();

		ms = r->retry_after_date_ms > from ? r->retry_after_date_ms - from : 0;
	}
	return ms;
}

/* Exponential backoff with full jitter. */
static uint64_t backoff_ms(struct request *r)
{
	struct http_client *c = r->c;
	uint64_t cap = c->backoff_base_ms;

	for (unsigned i = 1; i < r->attempts && cap < c->backoff_max_ms; i++)
		cap *= 2;
	if (cap > c->backoff_max_ms)
		cap = c->backoff_max_ms;
	return rng_next(c) % (cap + 1);
}

/* "850 ms", "12 s", "10 min", "24 h", "3 d": for messages. */
static void format_wait(uint64_t ms, char *buf, size_t len)
{
	if (ms < 1000)
		snprintf(buf, len, "%llu ms", (unsigned long long)ms);
	else if (ms < 10000)
		snprintf(buf, len, "%.1f s", (double)ms / 1000.0);
	else if (ms < 120000)
		snprintf(buf, len, "%llu s", (unsigned long long)(ms / 1000));
	else if (ms < 2 * 3600000ull)
		snprintf(buf, len, "%llu min", (unsigned long long)(ms / 60000));
	else if (ms < 48 * 3600000ull)
		snprintf(buf, len, "%llu h", (unsigned long long)(ms / 3600000));
	else
		snprintf(buf, len, "%llu d", (unsigned long long)(ms / 86400000));
}

/* The server asked the whole client to wait ms (DESIGN.md §6.15): no
 * request starts until then; those in flight finish. Returns false when
 * the pause is longer than this client waits (one pause over the limit,
 * or all of them over the budget): then nothing is sent until that time
 * either, but the requests fail now, unsent, so the run can end and keep
 * the rooms concerned in doubt. */
static bool pause_client(struct http_client *c, const struct request *r, long status, int64_t ms)
{
	int64_t now = clock_mono_ms();
	int64_t until = ms > INT64_MAX - now ? INT64_MAX : now + ms;
	int64_t from = c->paused_until_ms > now ? c->paused_until_ms : now;
	uint64_t extra;
	char asked[32], limit[32];

	if (now < c->refused_until_ms)
		return false; /* already refusing: this one fails unsent too */
	if (until <= c->paused_until_ms)
		return true;  /* already paused long enough */
	extra = (uint64_t)(until - from);
	format_wait((uint64_t)ms, asked, sizeof(asked));
	if ((uint64_t)ms > c->pause_max_ms || c->paused_total_ms + extra > c->pause_budget_ms) {
		bool first = !c->refusal[0];

		if ((uint64_t)ms > c->pause_max_ms) {
			format_wait(c->pause_max_ms, limit, sizeof(limit));
			snprintf(c->refusal, sizeof(c->refusal),
				 "the homeserver asked to pause for %s (HTTP %ld), longer than the %s "
				 "this program waits", asked, status, limit);
		} else {
			format_wait(c->pause_budget_ms, limit, sizeof(limit));
			snprintf(c->refusal, sizeof(c->refusal),
				 "the homeserver asked to pause for %s (HTTP %ld), past this run's budget "
				 "of %s of pauses", asked, status, limit);
		}
		if (until > c->refused_until_ms)
			c->refused_until_ms = until;
		if (first)
			log_warn("%s: no request is sent until then; what this run still had to ask "
				 "is left in doubt", c->refusal);
		return false;
	}
	/* Pauses of a second or more are worth a line; a proxy's many short
	 * ones are not. */
	if (c->paused_until_ms <= now)
		log_event(ms >= 1000 ? LOG_INFO : LOG_DEBUG, NULL, NULL, 0,
			  "the homeserver asked to pause (HTTP %ld on %s %s): no request starts for %s",
			  status, r->method == HTTP_DELETE ? "DELETE" : "GET", r->path, asked);
	c->paused_total_ms += extra;
	c->paused_until_ms = until;
	return true;
}

static void on_finished(struct request *r, CURLcode rc)
{
	struct http_client *c = r->c;
	long status = 0;
	int error = error_of(rc, r->too_big);
	const char *text;

	curl_multi_remove_handle(c->multi, r->easy);
	req_detach(r);
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (error == 0)
		finish_json(r);
	if (error == 0 && (status == 429 || status == 503)) {
		int64_t asked = asked_pause_ms(r, status);

		/* A 429 pauses the client even without saying for how long; a
		 * 503 only when it says (else it is an ordinary server error). */
		if (status == 429 && asked < 0)
			asked = (int64_t)backoff_ms(r);
		if (asked >= 0) {
			if (!pause_client(c, r, status, asked)) {
				complete(r, -EBUSY, c->refusal);
				return;
			}
			if (should_retry(r, status, error)) {
				r->due_ms = c->paused_until_ms;
				req_attach(r, REQ_WAITING, false);
				return;
			}
			complete(r, 0, "");
			return;
		}
	}
	if (should_retry(r, status, error)) {
		r->due_ms = clock_mono_ms() + (int64_t)backoff_ms(r);
		req_attach(r, REQ_WAITING, false);
		return;
	}
	if (error == -EMSGSIZE)
		text = "response body over the size limit";
	else if (error)
		text = r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc);
	else
		text = "";
	complete(r, error, text);
}

static void drain_finished(struct http_client *c)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left))) {
		char *priv = NULL;
		CURLcode rc = m->data.result;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		/* on_finished may run callbacks that remove other handles, which
		 * drops their messages: m is not used after this. */
		on_finished((struct request *)priv, rc);
	}
}

static struct request *first_older(struct req_list *l, uint64_t seq)
{
	for (struct request *r = l->head; r; r = r->next)
		if (r->seq <= seq)
			return r;
	return NULL;
}

void http_cancel_all(struct http_client *c)
{
	/* Requests submitted by the callbacks below are not cancelled here:
	 * a callback that always resubmits would never let this end. */
	uint64_t last = c->next_seq;
	struct request *r;

	while ((r = first_older(&c->active, last)) || (r = first_older(&c->waiting, last)) ||
	       (r = first_older(&c->ready, last))) {
		if (r->where == REQ_ACTIVE)
			curl_multi_remove_handle(c->multi, r->easy);
		req_detach(r);
		complete(r, -ECANCELED, "cancelled");
	}
}

/* --- the loop --- */

static bool refusing(const struct http_client *c, int64_t now)
{
	return now < c->refused_until_ms;
}

static bool paused(const struct http_client *c, int64_t now)
{
	return now < c->paused_until_ms;
}

static void promote_due_retries(struct http_client *c)
{
	int64_t now = clock_mono_ms();
	bool all = refusing(c, now);
	struct request *r, *next;

	/* Retries go first: they were submitted before anything still queued.
	 * While a pause is refused, every one goes, to fail unsent. */
	for (r = c->waiting.tail; r; r = next) {
		next = r->prev;
		if (all || r->due_ms <= now)
			req_attach(r, REQ_READY, true);
	}
}

static bool rate_allows(struct http_client *c, int64_t now_us)
{
	return !c->rate_limit || now_us >= c->next_start_us;
}

static bool can_start_now(struct http_client *c)
{
	int64_t now = clock_mono_ms();

	if (c->ready.n == 0)
		return false;
	if (refusing(c, now))
		return true; /* to fail them */
	return !paused(c, now) && c->active.n < c->concurrency &&
	       rate_allows(c, (int64_t)clock_usec(CLOCK_MONOTONIC));
}

static void start_ready(struct http_client *c)
{
	/* Requests the callbacks below submit wait for the next round, so a
	 * callback that always resubmits cannot keep this loop going. */
	uint64_t last = c->next_seq;

	while (c->ready.head && c->ready.head->seq <= last) {
		struct request *r = c->ready.head;
		int64_t now_us = (int64_t)clock_usec(CLOCK_MONOTONIC);
		int e;

		if (refusing(c, now_us / 1000)) {
			req_detach(r);
			complete(r, -EBUSY, c->refusal);
			continue;
		}
		if (paused(c, now_us / 1000) || c->active.n >= c->concurrency || !rate_allows(c, now_us))
			break;
		if (c->rate_limit) {
			/* A bucket of one: starts are spaced 1/rate apart. */
			int64_t from = c->next_start_us > now_us ? c->next_start_us : now_us;

			c->next_start_us = from + 1000000 / c->rate_limit;
		}
		req_detach(r);
		e = attempt_start(r);
		if (e < 0)
			complete(r, e, "the request could not be started");
	}
}

static long poll_timeout_ms(struct http_client *c)
{
	long t = STOP_CHECK_MS, curl_t = -1;
	int64_t now = clock_mono_ms();

	if (curl_multi_timeout(c->multi, &curl_t) == CURLM_OK && curl_t >= 0 && curl_t < t)
		t = curl_t;
	for (struct request *r = c->waiting.head; r; r = r->next)
		if (r->due_ms - now < t)
			t = (long)(r->due_ms - now);
	if (c->ready.n > 0 && paused(c, now) && c->paused_until_ms - now < t)
		t = (long)(c->paused_until_ms - now);
	if (c->ready.n > 0 && c->active.n < c->concurrency && c->rate_limit) {
		int64_t wait = (c->next_start_us - (int64_t)clock_usec(CLOCK_MONOTONIC)) / 1000 + 1;

		if (wait < t)
			t = (long)wait;
	}
	return t < 0 ? 0 : t;
}

/* Bounded: callbacks may submit again while being cancelled. What is still
 * left after that is freed without a callback (only at http_client_free). */
static void cancel_until_empty(struct http_client *c)
{
	for (int round = 0; round < 100 && http_pending(c) > 0; round++)
		http_cancel_all(c);
}

int http_run_working(struct http_client *c, bool (*should_stop)(void *ud), bool (*work)(void *ud),
		     void *ud)
{
	int running;
	bool more = work != NULL;

	for (;;) {
		if (http_pending(c) == 0 && !more)
			return 0;
		if (should_stop && should_stop(ud)) {
			cancel_until_empty(c);
			return -ECANCELED;
		}
		promote_due_retries(c);
		start_ready(c);
		curl_multi_perform(c->multi, &running);
		drain_finished(c);
		/* one slice, after the answers that may have given it more to do */
		more = work && work(ud);
		if (more || can_start_now(c) || http_pending(c) == 0)
			continue;
		curl_multi_poll(c->multi, NULL, 0, (int)poll_timeout_ms(c), NULL);
	}
}

int http_run(struct http_client *c, bool (*should_stop)(void *ud), void *ud)
{
	return http_run_working(c, should_stop, NULL, ud);
}
