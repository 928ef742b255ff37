/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_HTTP_H
#define SJ_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"

/* The HTTP engine: one libcurl multi handle with keep-alive, bounded
 * concurrency, a rate limit, per-request timeouts, a body size cap, and
 * retries with exponential backoff and jitter. Requests complete through
 * callbacks, which may submit more requests. http.c is the only file that
 * includes libcurl.
 *
 * The client backs off as one (DESIGN.md §6.15): a 429 (retry_after_ms in
 * the body, or Retry-After in seconds or as an HTTP date, or else the
 * backoff) and a 503 with Retry-After pause every request: none starts
 * until the time has passed, those in flight finish, and the one told is
 * retried first. A pause longer than pause_max_ms, or one that would take
 * all pauses past pause_budget_ms, is not waited: from then until the time
 * the server asked for, requests fail unsent with -EBUSY. */

#define HTTP_MAX_BODY (8u << 20) /* DESIGN.md §6.10 */

struct http_config {
	const char *base_url;      /* "http://127.0.0.1:8008", no trailing slash */
	const char *token;         /* sent as "Authorization: Bearer" when asked; never logged */
	uint64_t timeout_ms;       /* per attempt */
	unsigned concurrency;      /* requests in flight, >= 1 */
	unsigned rate_limit;       /* requests started per second, 0 = unlimited */
	bool tls_verify;
	const char *ca_file;       /* NULL = system store */
	size_t max_body;           /* 0 = HTTP_MAX_BODY */
	unsigned max_attempts;     /* for retried failures, 0 = default (5) */
	uint64_t backoff_base_ms;  /* first retry delay, 0 = default (500) */
	uint64_t backoff_max_ms;   /* 0 = default (30000) */
	uint64_t pause_max_ms;     /* longest pause waited, 0 = default (10 min) */
	uint64_t pause_budget_ms;  /* all pauses together, 0 = default (30 min) */
};

enum http_method { HTTP_GET, HTTP_DELETE };

struct http_response {
	enum http_method method;
	const char *path;          /* as submitted */
	long status;               /* HTTP status, 0 when there was no answer */
	const char *body;          /* NUL-terminated, never NULL (may be "") */
	size_t body_len;
	size_t size;               /* bytes of the body received */
	/* http_get_json: the body, parsed strictly as it arrived (body then
	 * holds only its first bytes, for messages): the value, or NULL with
	 * json_error saying why. Both NULL for other requests. Valid during the
	 * callback only. */
	struct json_object *json;
	const char *json_error;
	const char *content_type;  /* "" when absent */
	int64_t date_ms;           /* the server's Date header, ms since the epoch; -1 absent */
	/* 0, or why no usable answer arrived after all attempts:
	 * -ETIMEDOUT, -ECONNRESET, -ECONNREFUSED, -EMSGSIZE (body over the cap),
	 * -EPROTO (broken HTTP), -ECANCELED (http_cancel_all), -EBUSY (the
	 * server asked for a pause longer than this client waits; error_text
	 * says so), -EIO (other). */
	int error;
	const char *error_text;    /* human text for error or status, "" if none */
	unsigned attempts;
};

struct http_client;

/* done is called exactly once per submitted request (also on cancel). */
typedef void (*http_done_fn)(const struct http_response *resp, void *userdata);

int http_client_new(const struct http_config *cfg, struct http_client **out);
void http_client_free(struct http_client *c);

/* path includes the query ("/_synapse/admin/v1/rooms?from=0&limit=500").
 * with_auth adds the bearer token. GETs are retried on 5xx, 429, timeouts and
 * resets. Returns 0 or a negative errno (the callback is then not called). */
int http_get(struct http_client *c, const char *path, bool with_auth,
	     http_done_fn done, void *userdata);

/* http_get for a JSON answer that may be large: the body is parsed as it
 * arrives, between the other transfers, not all at once when it is in
 * (json.c's strict parser either way); the callback gets the value.
 * With elements (may be NULL), the elements of one array member of a 2xx
 * answer are handed over one by one as they arrive (the rows of a room
 * list page), never all in memory at once; begin is called before the
 * first element of each attempt, since a retried request starts over. */
struct http_json_elements {
	const char *member;
	json_element_fn fn;
	void (*begin)(void *ud);
	void *ud;
};
int http_get_json(struct http_client *c, const char *path, bool with_auth,
		  const struct http_json_elements *elements, http_done_fn done, void *userdata);

/* DELETE with a JSON body, always authenticated. Retried only when the server
 * refused it with 429 (it was not acted on); any other failure is returned
 * as is, because a DELETE whose answer was lost must not be re-sent
 * (DESIGN.md §6.9). */
int http_delete(struct http_client *c, const char *path, const char *json_body,
		http_done_fn done, void *userdata);

/* Drive transfers until none is pending or queued, or should_stop returns
 * true (checked at least every 100 ms; it may be NULL). Returns 0 when idle,
 * -ECANCELED when stopped (pending requests are then cancelled). */
int http_run(struct http_client *c, bool (*should_stop)(void *ud), void *ud);
/* http_run, also doing the caller's own work a slice at a time between
 * rounds of transfers, so that answers keep flowing while it is done: work
 * does one slice and returns whether more is left (the loop then does not
 * wait on the network). Returns once neither requests nor work are left. */
int http_run_working(struct http_client *c, bool (*should_stop)(void *ud), bool (*work)(void *ud),
		     void *ud);

/* Fail every queued and in-flight request with -ECANCELED (callbacks run). */
void http_cancel_all(struct http_client *c);

unsigned http_pending(const struct http_client *c);   /* queued + in flight */
uint64_t http_requests_sent(const struct http_client *c); /* attempts, retries included */
uint64_t http_paused_ms(const struct http_client *c);     /* pauses honoured, in all */
/* Why requests failed with -EBUSY ("the homeserver asked to pause for ..."),
 * or NULL when no pause was refused. */
const char *http_refusal(const struct http_client *c);

/* Would the token be exposed on its way to base_url? 1 with why set when
 * the URL is plain http:// to a host that is not this machine (the token
 * crosses the network unencrypted) or https:// with tls_verify false (to
 * whoever answers); 0 when not; -EINVAL when the URL does not parse. */
int http_token_exposure(const char *base_url, bool tls_verify, char *why, size_t whylen);

/* Percent-encode everything but RFC 3986 unreserved characters; for room ids,
 * aliases and query values. Returns a malloc'd string. */
char *http_escape(const char *s);

#endif
