/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Request dispatch: the path decides the endpoint (1.68 answers an unknown
 * endpoint, a wrong method and a trailing slash with 400 M_UNRECOGNIZED,
 * captures 500-502, 224; anything outside the API gets an HTML 404, 503),
 * then authentication, then the handler. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"

enum route_kind {
	RK_UNRECOGNIZED, RK_HTML_404, RK_OPTIONS, RK_SERVER_VERSION, RK_WHOAMI, RK_DIRECTORY,
	RK_ROOMS_LIST, RK_ROOM_DETAILS, RK_MEMBERS, RK_STATE, RK_FORWARD_EXTREMITIES,
	RK_TIMESTAMP_TO_EVENT, RK_MESSAGES, RK_DELETE, RK_DELETE_STATUS, RK_ROOM_DELETE_STATUS,
	RK_CONTEXT,
};

const char *req_arg(const struct request *rq, const char *key)
{
	for (size_t i = 0; i < rq->nq; i++)
		if (strcmp(rq->qkeys[i], key) == 0)
			return rq->qvals[i] ? rq->qvals[i] : "";
	return NULL;
}

#define MAX_SEGS 12

/* Splits "/a/b/c" into raw segments; a trailing slash yields a last empty
 * segment, which matches no route. */
static size_t split(const char *path, char *segs[MAX_SEGS])
{
	size_t n = 0;
	const char *p = path;

	if (*p == '/')
		p++;
	while (n < MAX_SEGS) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		segs[n] = fs_xmalloc(len + 1);
		memcpy(segs[n], p, len);
		segs[n][len] = '\0';
		n++;
		if (!slash)
			break;
		p = slash + 1;
	}
	return n;
}

static bool is_get(const struct request *rq)
{
	return strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
}

static const struct { enum route_kind kind; const char *sub; enum endpoint ep; } room_subs[] = {
	{ RK_MEMBERS, "members", EP_MEMBERS },
	{ RK_STATE, "state", EP_STATE },
	{ RK_FORWARD_EXTREMITIES, "forward_extremities", EP_FORWARD_EXTREMITIES },
	{ RK_TIMESTAMP_TO_EVENT, "timestamp_to_event", EP_TIMESTAMP_TO_EVENT },
	{ RK_MESSAGES, "messages", EP_MESSAGES },
};

static void set(struct route *rt, enum route_kind kind, enum endpoint ep, bool admin)
{
	rt->kind = kind;
	rt->ep = ep;
	rt->needs_admin = admin;
}

static void route_admin_v1(const struct request *rq, char **s, size_t n, struct route *rt)
{
	bool get = is_get(rq);

	if (n == 4 && strcmp(s[3], "server_version") == 0 && get) {
		set(rt, RK_SERVER_VERSION, EP_SERVER_VERSION, false);
	} else if (n == 4 && strcmp(s[3], "rooms") == 0 && get) {
		set(rt, RK_ROOMS_LIST, EP_ROOMS_LIST, true);
	} else if (n == 7 && strcmp(s[3], "rooms") == 0 && get && *s[4] && strcmp(s[5], "context") == 0 &&
		   *s[6]) {
		rt->room_id = fs_url_decode(s[4]);
		rt->arg = fs_url_decode(s[6]);
		set(rt, RK_CONTEXT, EP_CONTEXT, true);
	} else if (n >= 5 && n <= 6 && strcmp(s[3], "rooms") == 0 && get && *s[4]) {
		rt->room_id = fs_url_decode(s[4]);
		if (n == 5) {
			set(rt, RK_ROOM_DETAILS, EP_ROOM_DETAILS, true);
			return;
		}
		for (size_t i = 0; i < FAKE_ARRAY_SIZE(room_subs); i++)
			if (strcmp(s[5], room_subs[i].sub) == 0)
				set(rt, room_subs[i].kind, room_subs[i].ep, true);
	}
}

static void route_admin_v2(const struct request *rq, char **s, size_t n, struct route *rt)
{
	if (n < 5 || strcmp(s[3], "rooms") != 0 || !*s[4])
		return;
	if (n == 6 && strcmp(s[4], "delete_status") == 0 && is_get(rq) && *s[5]) {
		rt->arg = fs_url_decode(s[5]);
		set(rt, RK_DELETE_STATUS, EP_DELETE_STATUS, true);
	} else if (n == 5 && strcmp(rq->method, "DELETE") == 0) {
		rt->room_id = fs_url_decode(s[4]);
		set(rt, RK_DELETE, EP_DELETE, true);
	} else if (n == 6 && strcmp(s[5], "delete_status") == 0 && is_get(rq)) {
		rt->room_id = fs_url_decode(s[4]);
		set(rt, RK_ROOM_DELETE_STATUS, EP_ROOM_DELETE_STATUS, true);
	}
}

static void route_client(const struct request *rq, char **s, size_t n, struct route *rt)
{
	if (n < 4 || (strcmp(s[2], "v3") != 0 && strcmp(s[2], "r0") != 0) || !is_get(rq))
		return;
	if (n == 5 && strcmp(s[3], "account") == 0 && strcmp(s[4], "whoami") == 0) {
		set(rt, RK_WHOAMI, EP_WHOAMI, false);
	} else if (n == 6 && strcmp(s[3], "directory") == 0 && strcmp(s[4], "room") == 0 && *s[5]) {
		rt->arg = fs_url_decode(s[5]);
		set(rt, RK_DIRECTORY, EP_DIRECTORY, false);
	}
}

void route_parse(const struct request *rq, struct route *rt)
{
	char *s[MAX_SEGS];
	size_t n = split(rq->path, s);

	memset(rt, 0, sizeof(*rt));
	set(rt, RK_HTML_404, EP_OTHER, false);
	if (strcmp(s[0], "_fake") == 0) {
		rt->fake_hook = true;
		if (n == 3 && strcmp(s[1], "rooms") == 0)
			rt->room_id = fs_url_decode(s[2]);
		rt->arg = fs_xstrdup(n >= 2 ? s[1] : "");
	} else if (strcmp(s[0], "_synapse") == 0 || strcmp(s[0], "_matrix") == 0) {
		set(rt, RK_UNRECOGNIZED, EP_OTHER, false);
		if (strcmp(rq->method, "OPTIONS") == 0)
			set(rt, RK_OPTIONS, EP_OTHER, false);
		else if (n >= 3 && strcmp(s[0], "_synapse") == 0 && strcmp(s[1], "admin") == 0 &&
			 strcmp(s[2], "v1") == 0)
			route_admin_v1(rq, s, n, rt);
		else if (n >= 3 && strcmp(s[0], "_synapse") == 0 && strcmp(s[1], "admin") == 0 &&
			 strcmp(s[2], "v2") == 0)
			route_admin_v2(rq, s, n, rt);
		else if (n >= 3 && strcmp(s[0], "_matrix") == 0 && strcmp(s[1], "client") == 0)
			route_client(rq, s, n, rt);
		if (rt->kind == RK_UNRECOGNIZED) {
			free(rt->room_id);
			free(rt->arg);
			rt->room_id = rt->arg = NULL;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(s[i]);
}

void route_free(struct route *rt)
{
	free(rt->room_id);
	free(rt->arg);
	memset(rt, 0, sizeof(*rt));
}

bool route_is_paging(const struct request *rq, const struct route *rt)
{
	const char *from = req_arg(rq, "from");

	return rt->kind == RK_ROOMS_LIST && from && atoll(from) > 0;
}

/* ---- replies ---- */

void reply_json(struct reply *rp, int status, char *body, size_t len)
{
	free(rp->body);
	rp->status = status;
	rp->body = body;
	rp->len = len;
	rp->content_type = "application/json";
	rp->fixed_length = false;
}

void reply_jw(struct reply *rp, int status, struct jw *j)
{
	size_t len;
	char *body = jw_finish(j, &len);

	reply_json(rp, status, body, len);
}

void reply_error(struct reply *rp, int status, const char *errcode, const char *fmt, ...)
{
	struct jw j = { 0 };
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	jw_obj_open(&j);
	jw_kstr(&j, "errcode", errcode);
	jw_kstr(&j, "error", msg ? msg : "");
	if (strcmp(errcode, "M_UNKNOWN_TOKEN") == 0)
		jw_kbool(&j, "soft_logout", false);
	jw_obj_close(&j);
	free(msg);
	reply_jw(rp, status, &j);
}

void reply_html(struct reply *rp, int status, const char *html, bool fixed_length)
{
	free(rp->body);
	rp->status = status;
	rp->body = fs_xstrdup(html);
	rp->len = strlen(html);
	rp->content_type = "text/html; charset=utf-8";
	rp->fixed_length = fixed_length;
}

static const char html_404[] =
	"<html>\n  <head><title>404 - No Such Resource</title></head>\n  <body>\n"
	"    <h1>No Such Resource</h1>\n    <p>Sorry. No luck finding that resource.</p>\n"
	"  </body>\n</html>\n";

/* ---- authentication (captures 003-006, 507) ---- */

enum who { WHO_NONE, WHO_ADMIN, WHO_USER };

static enum who authenticate(struct fake *fk, const struct request *rq, struct reply *rp)
{
	const char *token = NULL;

	if (rq->auth) {
		/* the scheme is case-sensitive: "bearer x" is refused (507) */
		if (strncmp(rq->auth, "Bearer ", 7) != 0) {
			reply_error(rp, 401, "M_MISSING_TOKEN", "Invalid Authorization header.");
			return WHO_NONE;
		}
		token = rq->auth + 7;
	} else {
		token = req_arg(rq, "access_token");
	}
	if (!token || !*token) {
		reply_error(rp, 401, "M_MISSING_TOKEN", "Missing access token");
		return WHO_NONE;
	}
	if (strcmp(token, fk->cfg.admin_token) == 0)
		return WHO_ADMIN;
	if (strcmp(token, fk->cfg.user_token) == 0)
		return WHO_USER;
	reply_error(rp, 401, "M_UNKNOWN_TOKEN", "Invalid access token passed.");
	return WHO_NONE;
}

/* ---- faults that replace the answer ---- */

static const char proxy_page[] =
	"<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n"
	"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

static bool fault_reply(const struct fault_hit *hit, struct reply *rp)
{
	char page[512];

	switch (hit->kind) {
	case FK_STATUS:
		if (hit->status == 502 || hit->status == 503) {
			const char *what = hit->status == 502 ? "Bad Gateway" : "Service Temporarily Unavailable";

			snprintf(page, sizeof(page), proxy_page, hit->status, what, hit->status, what);
			reply_html(rp, hit->status, page, false);
		} else {
			reply_error(rp, hit->status ? hit->status : 500, "M_UNKNOWN", "Internal server error");
		}
		rp->retry_after_s = hit->retry_after_s > 0 ? hit->retry_after_s : 0;
		rp->retry_after_date = hit->retry_after_date;
		return true;
	case FK_429: {
		struct jw j = { 0 };

		jw_obj_open(&j);
		jw_kstr(&j, "errcode", "M_LIMIT_EXCEEDED");
		jw_kstr(&j, "error", "Too Many Requests");
		if (hit->retry_after_ms >= 0)
			jw_kint(&j, "retry_after_ms", hit->retry_after_ms);
		jw_obj_close(&j);
		reply_jw(rp, 429, &j);
		if (hit->retry_after_s == -2) {
			rp->retry_after_s = (hit->retry_after_ms + 999) / 1000;
			if (rp->retry_after_s < 1)
				rp->retry_after_s = 1;
		} else {
			rp->retry_after_s = hit->retry_after_s > 0 ? hit->retry_after_s : 0;
		}
		rp->retry_after_date = hit->retry_after_date;
		return true;
	}
	case FK_RESET: rp->reset = true; return true;
	case FK_BODY:
		reply_json(rp, hit->status, fs_xstrdup(hit->body), strlen(hit->body));
		return true;
	case FK_NOT_JSON:
		snprintf(page, sizeof(page), "<html><body><h1>Welcome to nginx!</h1></body></html>\n");
		reply_html(rp, 200, page, false);
		return true;
	case FK_HUGE:
		reply_json(rp, 200, fs_xstrdup(""), 0);
		rp->huge = true;
		return true;
	case FK_AUTH:
		if (hit->status == 403)
			reply_error(rp, 403, "M_FORBIDDEN", "You are not a server admin");
		else
			reply_error(rp, 401, "M_UNKNOWN_TOKEN", "Invalid access token passed.");
		return true;
	default: return false;
	}
}

/* ---- the small endpoints ---- */

static void h_server_version(struct fake *fk, const struct fault_hit *hit, struct reply *rp)
{
	struct jw j = { 0 };

	jw_obj_open(&j);
	if (hit->kind == FK_WRONG_TYPE)
		jw_kint(&j, "server_version", 168);
	else
		jw_kstr(&j, "server_version", fk->cfg.style == STYLE_OLD ? "1.68.0" : "1.120.0");
	if (fk->cfg.style == STYLE_OLD)
		jw_kstr(&j, "python_version", "3.11.2");
	jw_obj_close(&j);
	reply_jw(rp, 200, &j);
}

static void h_whoami(struct fake *fk, enum who who, const struct fault_hit *hit, struct reply *rp)
{
	struct jw j = { 0 };
	char *user = fs_xasprintf("@%s:%s", who == WHO_ADMIN ? "admin" : "user", fk->world.server_name);

	jw_obj_open(&j);
	if (hit->kind == FK_WRONG_TYPE)
		jw_kint(&j, "user_id", 1);
	else
		jw_kstr(&j, "user_id", user);
	jw_obj_close(&j);
	free(user);
	reply_jw(rp, 200, &j);
}

static bool has_alias(const struct room *r, const char *alias)
{
	if (r->canonical_alias && strcmp(r->canonical_alias, alias) == 0)
		return true;
	for (uint32_t i = 0; i < r->n_aliases; i++)
		if (strcmp(r->aliases[i], alias) == 0)
			return true;
	return false;
}

/* The alias directory is kept even when the room's state is hidden. */
static void h_directory(struct fake *fk, const char *alias, const struct fault_hit *hit,
			struct reply *rp)
{
	struct world *w = &fk->world;
	struct jw j = { 0 };

	for (size_t i = 0; i < w->n_live; i++) {
		struct room *r = w->by_name[i];

		if (!has_alias(r, alias))
			continue;
		jw_obj_open(&j);
		if (hit->kind == FK_WRONG_TYPE)
			jw_kint(&j, "room_id", 1);
		else
			jw_kstr(&j, "room_id", r->room_id);
		jw_key(&j, "servers");
		jw_arr_open(&j);
		jw_str(&j, w->server_name);
		jw_arr_close(&j);
		jw_obj_close(&j);
		reply_jw(rp, 200, &j);
		return;
	}
	reply_error(rp, 404, "M_NOT_FOUND", "Room alias %s not found", alias);
}

static void dispatch_room(struct fake *fk, const struct request *rq, const struct route *rt,
			  const struct fault_hit *hit, struct reply *rp)
{
	struct room *r = world_find(&fk->world, rt->room_id);

	switch (rt->kind) {
	case RK_ROOM_DETAILS: h_room_details(fk, r, hit, rp); break;
	case RK_MEMBERS: h_members(fk, r, hit, rp); break;
	case RK_STATE: h_state(fk, rq, r, rp); break;
	case RK_FORWARD_EXTREMITIES: h_forward_extremities(fk, r, hit, rp); break;
	case RK_TIMESTAMP_TO_EVENT: h_timestamp_to_event(fk, rq, r, hit, rp); break;
	case RK_MESSAGES: h_messages(fk, rq, r, hit, rp); break;
	case RK_CONTEXT: h_context(fk, r, rt->arg, hit, rp); break;
	default: break;
	}
}

void route_handle(struct fake *fk, const struct request *rq, const struct route *rt,
		  const struct fault_hit *hit, struct reply *rp)
{
	enum who who = WHO_NONE;

	if (fault_reply(hit, rp))
		return;
	switch (rt->kind) {
	case RK_HTML_404: reply_html(rp, 404, html_404, true); return;
	case RK_UNRECOGNIZED: reply_error(rp, 400, "M_UNRECOGNIZED", "Unrecognized request"); return;
	case RK_OPTIONS: reply_html(rp, 204, "", true); return;
	case RK_SERVER_VERSION: h_server_version(fk, hit, rp); return;
	default: break;
	}
	who = authenticate(fk, rq, rp);
	if (who == WHO_NONE)
		return;
	if (rt->needs_admin && who != WHO_ADMIN) {
		reply_error(rp, 403, "M_FORBIDDEN", "You are not a server admin");
		return;
	}
	switch (rt->kind) {
	case RK_WHOAMI: h_whoami(fk, who, hit, rp); break;
	case RK_DIRECTORY: h_directory(fk, rt->arg, hit, rp); break;
	case RK_ROOMS_LIST: h_rooms_list(fk, rq, hit, rp); break;
	case RK_DELETE: h_delete(fk, rq, rt->room_id, hit, rp); break;
	case RK_DELETE_STATUS: h_delete_status(fk, rt->arg, hit, rp); break;
	case RK_ROOM_DELETE_STATUS: h_room_delete_status(fk, rt->room_id, hit, rp); break;
	default: dispatch_room(fk, rq, rt, hit, rp); break;
	}
}
