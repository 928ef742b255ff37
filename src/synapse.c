/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "json.h"
#include "synapse.h"
#include "xmalloc.h"

/* Server text quoted in our messages is cut here: it comes from the network. */
#define SERVER_TEXT_MAX 200

/* The /messages filter: only what people say counts as activity (API.md),
 * and m.room.create, so that paging back to the start of a room without a
 * message finds its creation time: Synapse filters the creation event out
 * like any other type not listed (a real 1.68 answers an empty chunk). */
#define MESSAGES_FILTER \
	"{\"types\":[\"m.room.message\",\"m.room.encrypted\",\"m.room.create\"]}"

/* --- paths --- */

char *synapse_path_room_list(int64_t from, unsigned limit)
{
	/* limit=0 answers next_batch 0 forever, from<0 is echoed back (API.md). */
	return xasprintf("/_synapse/admin/v1/rooms?from=%lld&limit=%u&order_by=name",
			 (long long)(from < 0 ? 0 : from), limit ? limit : 1);
}

char *synapse_path_room(const char *room_id, const char *suffix)
{
	char *id = http_escape(room_id);
	char *p = xasprintf("/_synapse/admin/v1/rooms/%s%s", id, suffix ? suffix : "");

	free(id);
	return p;
}

char *synapse_path_timestamp_to_event(const char *room_id, int64_t ts_ms, char dir)
{
	char *id = http_escape(room_id);
	char *p = xasprintf("/_synapse/admin/v1/rooms/%s/timestamp_to_event?ts=%lld&dir=%c",
			    id, (long long)(ts_ms < 0 ? 0 : ts_ms), dir == 'f' ? 'f' : 'b');

	free(id);
	return p;
}

char *synapse_path_context(const char *room_id, const char *event_id)
{
	char *id = http_escape(room_id), *ev = http_escape(event_id);
	char *p = xasprintf("/_synapse/admin/v1/rooms/%s/context/%s?limit=0", id, ev);

	free(id);
	free(ev);
	return p;
}

char *synapse_path_messages(const char *room_id, const char *from_token, unsigned limit)
{
	char *id = http_escape(room_id);
	char *filter = http_escape(MESSAGES_FILTER);
	char *from = from_token ? http_escape(from_token) : NULL;
	char *p = xasprintf("/_synapse/admin/v1/rooms/%s/messages?dir=b&limit=%u&filter=%s%s%s",
			    id, limit ? limit : 1, filter, from ? "&from=" : "", from ? from : "");

	free(id);
	free(filter);
	free(from);
	return p;
}

static char *path_with_escaped(const char *fmt_before, const char *value, const char *after)
{
	char *v = http_escape(value);
	char *p = xasprintf("%s%s%s", fmt_before, v, after);

	free(v);
	return p;
}

char *synapse_path_delete(const char *room_id)
{
	return path_with_escaped("/_synapse/admin/v2/rooms/", room_id, "");
}

char *synapse_path_delete_status(const char *delete_id)
{
	return path_with_escaped("/_synapse/admin/v2/rooms/delete_status/", delete_id, "");
}

char *synapse_path_room_delete_status(const char *room_id)
{
	return path_with_escaped("/_synapse/admin/v2/rooms/", room_id, "/delete_status");
}

char *synapse_path_directory(const char *alias)
{
	return path_with_escaped("/_matrix/client/v3/directory/room/", alias, "");
}

/* --- messages for people --- */

static void set_err(char *err, size_t errlen, const char *fmt, ...) SJ_PRINTF(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Copy server text for a message: control characters become '?', the text is
 * cut at SERVER_TEXT_MAX bytes on a UTF-8 boundary ("..." marks the cut). */
static void sanitize(const char *in, size_t in_len, char *out, size_t outlen)
{
	size_t max = outlen - 1, o = 0;
	bool cut = false;

	if (max > SERVER_TEXT_MAX)
		max = SERVER_TEXT_MAX;
	if (in_len > max) {
		cut = max >= 3;
		in_len = cut ? max - 3 : max;
		/* Do not leave half a UTF-8 character behind. */
		while (in_len > 0 && ((unsigned char)in[in_len] & 0xc0) == 0x80)
			in_len--;
	}
	for (size_t i = 0; i < in_len; i++) {
		unsigned char c = (unsigned char)in[i];

		out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (cut) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static const char *json_kind(struct json_object *v)
{
	int64_t i;

	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a fraction";
	case json_type_string: return "a string";
	case json_type_array: return "an array";
	case json_type_object: return "an object";
	case json_type_int:
		i = json_object_get_int64(v);
		if (i == INT64_MIN || (i == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX))
			return "an integer out of range";
		return i < 0 ? "a negative integer" : "an integer";
	}
	return "something else";
}

/* What obj[key] is, for "expected X, got Y". */
static const char *member_kind(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		return "nothing";
	return json_kind(v);
}

/* --- classification --- */

struct matrix_error {
	char errcode[64];
	char error[SERVER_TEXT_MAX + 4];
	bool is_json;
};

/* The body as JSON: the value streamed in (http_get_json), or the body
 * parsed now; NULL when it is not JSON. *owned says whether to put it. */
static struct json_object *response_value(const struct http_response *r, bool *owned)
{
	struct json_object *o;

	*owned = false;
	if (r->json_error)
		return r->json;
	if (json_parse_strict(r->body, r->body_len, &o, NULL, 0) < 0)
		return NULL;
	*owned = true;
	return o;
}

/* A streamed body keeps only its start: size says how long it was. */
static size_t body_size(const struct http_response *r)
{
	return r->json_error ? r->size : r->body_len;
}

static void read_matrix_error(const struct http_response *r, struct matrix_error *me)
{
	bool owned;
	struct json_object *o = response_value(r, &owned);
	const char *s;

	memset(me, 0, sizeof(*me));
	if (!o)
		return;
	me->is_json = true;
	if (json_get_string(o, "errcode", &s) == 0)
		sanitize(s, strlen(s), me->errcode, sizeof(me->errcode));
	if (json_get_string(o, "error", &s) == 0)
		sanitize(s, strlen(s), me->error, sizeof(me->error));
	if (owned)
		json_object_put(o);
}

static bool looks_like_html(const struct http_response *r)
{
	const char *p = r->body;

	if (r->content_type && strncasecmp(r->content_type, "text/html", 9) == 0)
		return true;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return *p == '<';
}

/* "401 M_UNKNOWN_TOKEN: Invalid access token passed." */
static void describe_status(const struct http_response *r, const struct matrix_error *me,
			    const char *prefix, char *why, size_t whylen)
{
	if (me->errcode[0] && me->error[0])
		set_err(why, whylen, "%s%ld %s: %s", prefix, r->status, me->errcode, me->error);
	else if (me->errcode[0])
		set_err(why, whylen, "%s%ld %s", prefix, r->status, me->errcode);
	else if (me->error[0])
		set_err(why, whylen, "%s%ld: %s", prefix, r->status, me->error);
	else
		set_err(why, whylen, "%s%ld", prefix, r->status);
}

static enum synapse_result not_json(const struct http_response *r, char *why, size_t whylen)
{
	char start[64];

	if (looks_like_html(r)) {
		set_err(why, whylen, "HTML page instead of JSON (HTTP %ld): is /_synapse/admin "
			"blocked by a reverse proxy?", r->status);
	} else if (body_size(r) == 0) {
		set_err(why, whylen, "empty body instead of JSON (HTTP %ld)", r->status);
	} else {
		sanitize(r->body, r->body_len < 40 ? r->body_len : 40, start, sizeof(start));
		set_err(why, whylen, "not JSON (HTTP %ld, %zu bytes, starting \"%s\")",
			r->status, body_size(r), start);
	}
	return SYNAPSE_NOT_JSON;
}

static enum synapse_result transport(const struct http_response *r, char *why, size_t whylen)
{
	char text[SERVER_TEXT_MAX + 4] = "";
	const char *what = r->error == -EMSGSIZE ? "response body over the size limit" :
			   r->error == -ECANCELED ? "cancelled" :
			   r->error == -EBUSY ? "not waited" : strerror(-r->error);

	/* libcurl's own text, when it says more than what is already said */
	if (r->error_text && r->error_text[0] && strcmp(r->error_text, what) != 0)
		sanitize(r->error_text, strlen(r->error_text), text, sizeof(text));
	set_err(why, whylen, "%s%s%s%s", what, text[0] ? " (" : "", text, text[0] ? ")" : "");
	if (r->attempts > 1) {
		size_t n = strlen(why);

		if (n + 1 < whylen)
			snprintf(why + n, whylen - n, " after %u attempts", r->attempts);
	}
	return SYNAPSE_TRANSPORT;
}

enum synapse_result synapse_classify(const struct http_response *r, char *why, size_t whylen)
{
	struct matrix_error me;

	set_err(why, whylen, "%s", "");
	if (r->error != 0)
		return transport(r, why, whylen);
	read_matrix_error(r, &me);
	if (r->status >= 200 && r->status < 300)
		return me.is_json ? SYNAPSE_OK : not_json(r, why, whylen);
	switch (r->status) {
	case 401:
		if (!me.is_json && looks_like_html(r))
			not_json(r, why, whylen);
		else
			describe_status(r, &me, "", why, whylen);
		return strcmp(me.errcode, "M_MISSING_TOKEN") == 0 ? SYNAPSE_MISSING_TOKEN :
		       SYNAPSE_UNKNOWN_TOKEN;
	case 403:
		/* A proxy's 403 page is not Synapse saying "not an admin". */
		if (!me.is_json && looks_like_html(r))
			not_json(r, why, whylen);
		else
			describe_status(r, &me, "", why, whylen);
		return SYNAPSE_NOT_ADMIN;
	case 404:
		if (me.is_json && me.errcode[0]) {
			describe_status(r, &me, "", why, whylen);
			return SYNAPSE_NOT_FOUND;
		}
		return not_json(r, why, whylen);
	default:
		if (!me.is_json && body_size(r) > 0)
			return not_json(r, why, whylen);
		describe_status(r, &me, "HTTP ", why, whylen);
		return SYNAPSE_HTTP_ERROR;
	}
}

bool synapse_result_is_auth(enum synapse_result r)
{
	return r == SYNAPSE_MISSING_TOKEN || r == SYNAPSE_UNKNOWN_TOKEN || r == SYNAPSE_NOT_ADMIN;
}

/* --- parsers --- */

/* The body as a JSON object, or -EBADMSG. */
static int parse_object(const char *body, size_t len, struct json_object **out,
			char *err, size_t errlen)
{
	int r = json_parse_strict(body, len, out, err, errlen);

	if (r < 0)
		return r;
	if (!json_object_is_type(*out, json_type_object)) {
		set_err(err, errlen, "expected a JSON object, got %s", json_kind(*out));
		json_object_put(*out);
		*out = NULL;
		return -EBADMSG;
	}
	return 0;
}

static int bad_field(struct json_object *o, const char *key, const char *expected,
		     char *err, size_t errlen)
{
	set_err(err, errlen, "%s: expected %s, got %s", key, expected, member_kind(o, key));
	return -EBADMSG;
}

/* A required non-empty string, copied. */
static int take_string(struct json_object *o, const char *key, char **out,
		       char *err, size_t errlen)
{
	const char *s;

	if (json_get_string(o, key, &s) < 0 || !s[0])
		return bad_field(o, key, "a non-empty string", err, errlen);
	*out = xstrdup(s);
	return 0;
}

static int take_timestamp(struct json_object *o, const char *key, int64_t *out,
			  char *err, size_t errlen)
{
	if (json_get_int64(o, key, out) < 0 || *out < 0)
		return bad_field(o, key, "a timestamp in milliseconds", err, errlen);
	return 0;
}

static void note_row_problem(struct room_facts *f, struct json_object *row, const char *key,
			     const char *expected)
{
	/* The first problem is the one reported (room.h). */
	if (!f->row_problem)
		f->row_problem = xasprintf("%s: expected %s, got %s", key, expected,
					   member_kind(row, key));
}

/* A string or null field. absent_ok: old servers do not send room_type. */
static void row_string(struct room_facts *f, struct json_object *row, const char *key,
		       char **dst, bool absent_ok)
{
	const char *s;
	int r = json_get_string(row, key, &s);

	if (r == 0)
		*dst = xstrdup(s);
	else if (r != -ENODATA && !(r == -ENOENT && absent_ok))
		note_row_problem(f, row, key, "a string or null");
}

static void row_count(struct room_facts *f, struct json_object *row, const char *key,
		      int64_t *dst)
{
	int64_t v;

	if (json_get_int64(row, key, &v) == 0 && v >= 0)
		*dst = v;
	else
		note_row_problem(f, row, key, "an integer >= 0");
}

/* room_type is known when the row says it, as a string or as null (an
 * ordinary room); old servers leave it out. */
static bool room_type_present(struct json_object *row)
{
	const char *s;
	int r = json_get_string(row, "room_type", &s);

	return r == 0 || r == -ENODATA;
}

/* The facts only match conditions use (join_rule, room_version,
 * state_events, federatable): a field that is absent, null or of the wrong
 * type leaves its fact unknown, which never satisfies a condition, rather
 * than making the whole row unusable (DESIGN.md §6.2). */
static void row_optional_facts(struct json_object *row, struct room_facts *f)
{
	const char *s;
	int64_t v;
	bool b;

	if (json_get_string(row, "join_rules", &s) == 0)
		f->join_rule = xstrdup(s);
	if (json_get_string(row, "version", &s) == 0)
		f->room_version = xstrdup(s);
	if (json_get_int64(row, "state_events", &v) == 0 && v >= 0)
		f->state_events = v;
	if (json_get_bool(row, "federatable", &b) == 0)
		f->is_federatable = b ? TRI_TRUE : TRI_FALSE;
}

/* One row of the list (or the details): every field type-checked; a bad
 * field leaves that fact unknown and names the problem (DESIGN.md §6.2). */
static int parse_room_row(struct json_object *row, struct room_facts *f)
{
	const char *id;
	bool b;

	room_facts_clear(f);
	if (!json_object_is_type(row, json_type_object) ||
	    json_get_string(row, "room_id", &id) < 0 || !room_id_valid(id))
		return -EBADMSG;
	f->room_id = xstrdup(id);
	row_string(f, row, "name", &f->name, false);
	row_string(f, row, "canonical_alias", &f->canonical_alias, false);
	row_string(f, row, "creator", &f->creator, false);
	row_string(f, row, "room_type", &f->room_type, true);
	f->room_type_known = room_type_present(row);
	row_string(f, row, "encryption", &f->encryption, false);
	row_count(f, row, "joined_members", &f->joined_members);
	row_count(f, row, "joined_local_members", &f->joined_local_members);
	if (json_get_bool(row, "public", &b) == 0)
		f->is_public = b ? TRI_TRUE : TRI_FALSE;
	else
		note_row_problem(f, row, "public", "a boolean");
	row_optional_facts(row, f);
	return 0;
}

/* total_rooms, next_batch, offset: an integer, or -1. */
static int64_t int_or_minus_one(struct json_object *o, const char *key)
{
	int64_t v;

	return json_get_int64(o, key, &v) == 0 ? v : -1;
}

/* The answer as a JSON object: the value http_get_json parsed as it came
 * (borrowed), or the body parsed now (*owned: put it). */
static int object_of(const struct http_response *r, struct json_object **o, bool *owned,
		     char *err, size_t errlen)
{
	*owned = !r->json_error;
	if (*owned)
		return parse_object(r->body, r->body_len, o, err, errlen);
	if (!r->json) {
		set_err(err, errlen, "%s", r->json_error);
		return -EBADMSG;
	}
	if (!json_object_is_type(r->json, json_type_object)) {
		set_err(err, errlen, "expected a JSON object, got %s", json_kind(r->json));
		return -EBADMSG;
	}
	*o = r->json;
	return 0;
}

int synapse_room_page_add(struct room_page *page, size_t max_rows, struct json_object *row,
			  char *err, size_t errlen)
{
	if (page->n + page->bad_rows >= max_rows) {
		set_err(err, errlen, "rooms: more than the limit of %zu asked for", max_rows);
		return -EPROTO;
	}
	if (page->n == page->cap) {
		page->cap = page->cap ? 2 * page->cap : 64;
		if (page->cap > max_rows)
			page->cap = max_rows;
		page->rooms = xreallocarray(page->rooms, page->cap, sizeof(*page->rooms));
	}
	memset(&page->rooms[page->n], 0, sizeof(page->rooms[page->n]));
	if (parse_room_row(row, &page->rooms[page->n]) < 0)
		page->bad_rows++;
	else
		page->n++;
	return 0;
}

static int room_page_from(struct json_object *o, size_t max_rows, struct room_page *page,
			  char *err, size_t errlen)
{
	struct json_object *rooms;
	size_t n;
	int r;

	if (json_get_array(o, "rooms", &rooms) < 0)
		return bad_field(o, "rooms", "an array", err, errlen);
	n = json_object_array_length(rooms);
	if (!page->streamed && n > max_rows) {
		set_err(err, errlen, "rooms: %zu rows, more than the limit of %zu asked for", n, max_rows);
		return -EPROTO;
	}
	for (size_t i = 0; i < n && !page->streamed; i++) {
		r = synapse_room_page_add(page, max_rows, json_object_array_get_idx(rooms, i), err, errlen);
		if (r < 0)
			return r;
	}
	page->offset = int_or_minus_one(o, "offset");
	page->total_rooms = int_or_minus_one(o, "total_rooms");
	page->next_batch = int_or_minus_one(o, "next_batch");
	return 0;
}

static void room_page_init(struct room_page *page)
{
	memset(page, 0, sizeof(*page));
	page->offset = page->total_rooms = page->next_batch = -1;
}

void synapse_room_page_begin(struct room_page *page)
{
	room_page_free(page);
	page->offset = page->total_rooms = page->next_batch = -1;
	page->streamed = true;
}

int synapse_parse_room_page(const char *body, size_t len, size_t max_rows, struct room_page *page,
			    char *err, size_t errlen)
{
	struct json_object *o;
	int r;

	room_page_init(page);
	r = parse_object(body, len, &o, err, errlen);
	if (r == 0) {
		r = room_page_from(o, max_rows, page, err, errlen);
		json_object_put(o);
	}
	return r;
}

int synapse_room_page_of(const struct http_response *resp, size_t max_rows, struct room_page *page,
			 char *err, size_t errlen)
{
	struct json_object *o;
	bool owned;
	int r;

	if (!page->streamed)
		room_page_init(page);
	r = object_of(resp, &o, &owned, err, errlen);
	if (r == 0) {
		r = room_page_from(o, max_rows, page, err, errlen);
		if (owned)
			json_object_put(o);
	}
	return r;
}

void room_page_free(struct room_page *page)
{
	for (size_t i = 0; i < page->n; i++)
		room_facts_clear(&page->rooms[i]);
	free(page->rooms);
	memset(page, 0, sizeof(*page));
}

int synapse_parse_room_details(const char *body, size_t len, struct room_facts *facts,
			       enum tri *forgotten, char *err, size_t errlen)
{
	struct json_object *o;
	bool b;
	int r;

	room_facts_clear(facts);
	*forgotten = TRI_UNKNOWN;
	r = parse_object(body, len, &o, err, errlen);
	if (r < 0)
		return r;
	if (parse_room_row(o, facts) < 0) {
		r = bad_field(o, "room_id", "a room id", err, errlen);
		goto out;
	}
	/* Absent on servers before the field existed: unknown, not false. */
	if (json_get_bool(o, "forgotten", &b) == 0)
		*forgotten = b ? TRI_TRUE : TRI_FALSE;
out:
	json_object_put(o);
	return r;
}

static bool user_is_local(const char *user_id, const char *server_name)
{
	const char *colon = strchr(user_id, ':');

	return colon && server_name && strcmp(colon + 1, server_name) == 0;
}

int synapse_parse_members(const char *body, size_t len, const char *server_name,
			  int64_t *total, int64_t *local, char *err, size_t errlen)
{
	struct json_object *o, *members;
	int64_t count = 0;
	size_t n;
	int r;

	*total = *local = -1;
	r = parse_object(body, len, &o, err, errlen);
	if (r < 0)
		return r;
	if (json_get_array(o, "members", &members) < 0) {
		r = bad_field(o, "members", "an array", err, errlen);
		goto out;
	}
	n = json_object_array_length(members);
	for (size_t i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(members, i);
		const char *s = json_object_get_string(m);

		if (!json_object_is_type(m, json_type_string) ||
		    strlen(s) != (size_t)json_object_get_string_len(m)) {
			set_err(err, errlen, "members[%zu]: expected a user id, got %s", i, json_kind(m));
			r = -EBADMSG;
			goto out;
		}
		count += user_is_local(s, server_name);
	}
	*total = (int64_t)n;
	*local = count;
out:
	json_object_put(o);
	return r;
}

static int forward_extremities_from(struct json_object *o, struct fact_time *out, char **event_id,
				    char *err, size_t errlen)
{
	struct json_object *results;
	const char *newest_id = NULL, *id;
	int64_t newest = -1, count = -1, ts;
	size_t n = 0;
	int r;

	if (event_id)
		*event_id = NULL;
	if (json_object_object_get_ex(o, "count", NULL) && json_get_int64(o, "count", &count) < 0) {
		r = bad_field(o, "count", "an integer", err, errlen);
		goto out;
	}
	r = json_get_array(o, "results", &results);
	if (r < 0 && !(r == -ENOENT && count == 0)) {
		r = bad_field(o, "results", "an array", err, errlen);
		goto out;
	}
	n = r == 0 ? json_object_array_length(results) : 0;
	r = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(results, i);

		if (!json_object_is_type(e, json_type_object)) {
			set_err(err, errlen, "results[%zu]: expected an object, got %s", i, json_kind(e));
			r = -EBADMSG;
			goto out;
		}
		r = take_timestamp(e, "received_ts", &ts, err, errlen);
		if (r < 0)
			goto out;
		if (json_get_string(e, "event_id", &id) < 0 || !id[0])
			id = NULL; /* the time alone still tells the activity */
		if (ts > newest || (ts == newest && !newest_id)) {
			newest = ts;
			newest_id = id;
		}
	}
	if (n == 0) {
		/* {"count":0,"results":[]}: an unknown or purged room (API.md). */
		fact_time_no_events(out);
	} else {
		fact_time_known(out, newest);
		if (event_id)
			*event_id = xstrdup(newest_id);
	}
out:
	return r;
}

int synapse_parse_forward_extremities(const char *body, size_t len, struct fact_time *out,
				      char **event_id, char *err, size_t errlen)
{
	struct json_object *o;
	int r;

	if (event_id)
		*event_id = NULL;
	r = parse_object(body, len, &o, err, errlen);
	if (r == 0) {
		r = forward_extremities_from(o, out, event_id, err, errlen);
		json_object_put(o);
	}
	return r;
}

int synapse_forward_extremities_of(const struct http_response *resp, struct fact_time *out,
				   char **event_id, char *err, size_t errlen)
{
	struct json_object *o;
	bool owned;
	int r;

	if (event_id)
		*event_id = NULL;
	r = object_of(resp, &o, &owned, err, errlen);
	if (r == 0) {
		r = forward_extremities_from(o, out, event_id, err, errlen);
		if (owned)
			json_object_put(o);
	}
	return r;
}

static void prior_add_alias(struct prior_state *p, const char *alias)
{
	p->aliases = xreallocarray(p->aliases, p->n_aliases + 1, sizeof(char *));
	p->aliases[p->n_aliases++] = xstrdup(alias);
}

/* One event of the state: a name or the aliases; anything else is skipped. */
static void prior_take_event(struct json_object *e, struct prior_state *p)
{
	struct json_object *content, *alt;
	const char *type, *s;

	if (json_get_string(e, "type", &type) < 0 || json_get_object(e, "content", &content) < 0)
		return;
	if (strcmp(type, "m.room.name") == 0) {
		if (json_get_string(content, "name", &s) == 0 && s[0] && !p->name)
			p->name = xstrdup(s);
	} else if (strcmp(type, "m.room.canonical_alias") == 0) {
		if (json_get_string(content, "alias", &s) == 0 && s[0])
			prior_add_alias(p, s);
		if (json_get_array(content, "alt_aliases", &alt) == 0)
			for (size_t i = 0; i < json_object_array_length(alt); i++)
				if (json_as_string(json_object_array_get_idx(alt, i), &s) == 0 && s[0])
					prior_add_alias(p, s);
	}
}

int synapse_parse_context(const char *body, size_t len, struct prior_state *out,
			  char *err, size_t errlen)
{
	struct json_object *o, *state;
	int r;

	prior_state_clear(out);
	r = parse_object(body, len, &o, err, errlen);
	if (r < 0)
		return r;
	if (json_get_array(o, "state", &state) < 0) {
		r = bad_field(o, "state", "an array", err, errlen);
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(state); i++) {
		struct json_object *e = json_object_array_get_idx(state, i);

		if (!json_object_is_type(e, json_type_object)) {
			set_err(err, errlen, "state[%zu]: expected an event, got %s", i, json_kind(e));
			prior_state_clear(out);
			r = -EBADMSG;
			goto out;
		}
		prior_take_event(e, out);
	}
	out->state = FACT_KNOWN;
out:
	json_object_put(o);
	return r;
}

int synapse_parse_timestamp_to_event(const char *body, size_t len, int64_t *origin_ts,
				     char *err, size_t errlen)
{
	struct json_object *o;
	int r = parse_object(body, len, &o, err, errlen);

	if (r < 0)
		return r;
	r = take_timestamp(o, "origin_server_ts", origin_ts, err, errlen);
	json_object_put(o);
	return r;
}

static bool is_message_type(const char *type)
{
	return strcmp(type, "m.room.message") == 0 || strcmp(type, "m.room.encrypted") == 0;
}

/* One event of a /messages chunk. */
static int messages_event(struct json_object *e, size_t i, int64_t *newest_ts, bool *saw_create,
			  int64_t *create_ts, char *err, size_t errlen)
{
	const char *type;
	int64_t ts;
	char key[48];

	if (!json_object_is_type(e, json_type_object) || json_get_string(e, "type", &type) < 0) {
		set_err(err, errlen, "chunk[%zu]: expected an event with a type, got %s", i,
			json_kind(e));
		return -EBADMSG;
	}
	if (!is_message_type(type) && strcmp(type, "m.room.create") != 0)
		return 0;
	if (json_get_int64(e, "origin_server_ts", &ts) < 0 || ts < 0) {
		snprintf(key, sizeof(key), "chunk[%zu].origin_server_ts", i);
		set_err(err, errlen, "%s: expected a timestamp in milliseconds, got %s", key,
			member_kind(e, "origin_server_ts"));
		return -EBADMSG;
	}
	if (is_message_type(type)) {
		/* Events are not guaranteed to be sorted: take the max (API.md). */
		if (ts > *newest_ts)
			*newest_ts = ts;
	} else {
		*saw_create = true;
		*create_ts = ts;
	}
	return 0;
}

int synapse_parse_messages(const char *body, size_t len, int64_t *newest_ts,
			   char **end_token, bool *saw_create, int64_t *create_ts,
			   char *err, size_t errlen)
{
	struct json_object *o, *chunk;
	const char *end;
	size_t n;
	int r;

	*newest_ts = -1;
	*end_token = NULL;
	*saw_create = false;
	*create_ts = -1;
	r = parse_object(body, len, &o, err, errlen);
	if (r < 0)
		return r;
	if (json_get_array(o, "chunk", &chunk) < 0) {
		r = bad_field(o, "chunk", "an array", err, errlen);
		goto out;
	}
	n = json_object_array_length(chunk);
	for (size_t i = 0; i < n && r == 0; i++)
		r = messages_event(json_object_array_get_idx(chunk, i), i, newest_ts, saw_create,
				   create_ts, err, errlen);
	if (r < 0)
		goto out;
	/* No "end": the start of the room was reached. */
	r = json_get_string(o, "end", &end);
	if (r == 0 && end[0]) {
		*end_token = xstrdup(end);
	} else if (r == -EINVAL || r == 0) {
		r = bad_field(o, "end", "a pagination token", err, errlen);
		goto out;
	}
	r = 0;
out:
	if (r < 0) {
		*newest_ts = -1;
		*saw_create = false;
		*create_ts = -1;
	}
	json_object_put(o);
	return r;
}

/* A body whose one interesting field is a required non-empty string. */
static int parse_one_string(const char *body, size_t len, const char *key, char **out,
			    char *err, size_t errlen)
{
	struct json_object *o;
	int r;

	*out = NULL;
	r = parse_object(body, len, &o, err, errlen);
	if (r < 0)
		return r;
	r = take_string(o, key, out, err, errlen);
	json_object_put(o);
	return r;
}

int synapse_parse_event_id(const char *body, size_t len, char **event_id, char *err, size_t errlen)
{
	return parse_one_string(body, len, "event_id", event_id, err, errlen);
}

int synapse_parse_server_version(const char *body, size_t len, char **version,
				 char *err, size_t errlen)
{
	return parse_one_string(body, len, "server_version", version, err, errlen);
}

int synapse_parse_whoami(const char *body, size_t len, char **user_id,
			 char *err, size_t errlen)
{
	return parse_one_string(body, len, "user_id", user_id, err, errlen);
}

char *synapse_server_name_of(const char *user_id)
{
	const char *colon;

	if (!user_id || user_id[0] != '@')
		return NULL;
	colon = strchr(user_id, ':');
	if (!colon || colon == user_id + 1 || !colon[1])
		return NULL;
	return xstrdup(colon + 1);
}

int synapse_parse_directory(const char *body, size_t len, char **room_id,
			    char *err, size_t errlen)
{
	int r = parse_one_string(body, len, "room_id", room_id, err, errlen);

	if (r == 0 && !room_id_valid(*room_id)) {
		free(*room_id);
		*room_id = NULL;
		set_err(err, errlen, "room_id: not a room id");
		r = -EBADMSG;
	}
	return r;
}

int synapse_parse_delete_started(const char *body, size_t len, char **delete_id,
				 char *err, size_t errlen)
{
	return parse_one_string(body, len, "delete_id", delete_id, err, errlen);
}

static enum delete_state delete_state_of(const char *status)
{
	if (strcmp(status, "complete") == 0)
		return DELETE_COMPLETE;
	if (strcmp(status, "failed") == 0 || strcmp(status, "cancelled") == 0)
		return DELETE_FAILED;
	/* shutting_down, purging, scheduled, active and anything new (API.md). */
	return DELETE_RUNNING;
}

/* An optional string: absent or null is NULL, another type is an error. */
static int optional_string(struct json_object *o, const char *key, char **out,
			   char *err, size_t errlen)
{
	const char *s;
	int r = json_get_string(o, key, &s);

	if (r == 0)
		*out = xstrdup(s);
	else if (r == -EINVAL)
		return bad_field(o, key, "a string", err, errlen);
	return 0;
}

static int parse_status_object(struct json_object *o, struct delete_status *out,
			       char *err, size_t errlen)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(o, json_type_object)) {
		set_err(err, errlen, "expected a status object, got %s", json_kind(o));
		return -EBADMSG;
	}
	r = take_string(o, "status", &out->status, err, errlen);
	if (r == 0)
		r = optional_string(o, "delete_id", &out->delete_id, err, errlen);
	if (r == 0)
		r = optional_string(o, "error", &out->error, err, errlen);
	if (r < 0) {
		delete_status_clear(out);
		return r;
	}
	out->state = delete_state_of(out->status);
	return 0;
}

int synapse_parse_delete_status(const char *body, size_t len, struct delete_status *out,
				char *err, size_t errlen)
{
	struct json_object *o;
	int r;

	memset(out, 0, sizeof(*out));
	r = parse_object(body, len, &o, err, errlen);
	if (r < 0)
		return r;
	r = parse_status_object(o, out, err, errlen);
	json_object_put(o);
	return r;
}

int synapse_parse_room_delete_status(const char *body, size_t len,
				     struct delete_status **out, size_t *n,
				     char *err, size_t errlen)
{
	struct json_object *o, *results;
	struct delete_status *list = NULL;
	size_t count = 0, i;
	int r;

	*out = NULL;
	*n = 0;
	r = parse_object(body, len, &o, err, errlen);
	if (r < 0)
		return r;
	if (json_get_array(o, "results", &results) < 0) {
		r = bad_field(o, "results", "an array", err, errlen);
		goto out;
	}
	count = json_object_array_length(results);
	list = xcalloc(count ? count : 1, sizeof(*list));
	for (i = 0; i < count; i++) {
		char why[160];

		r = parse_status_object(json_object_array_get_idx(results, i), &list[i], why,
					sizeof(why));
		if (r < 0) {
			set_err(err, errlen, "results[%zu]: %s", i, why);
			break;
		}
	}
	if (r < 0) {
		while (i-- > 0)
			delete_status_clear(&list[i]);
		free(list);
		goto out;
	}
	*out = list;
	*n = count;
out:
	json_object_put(o);
	return r;
}

void delete_status_clear(struct delete_status *s)
{
	free(s->status);
	free(s->delete_id);
	free(s->error);
	memset(s, 0, sizeof(*s));
}
