/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Injected faults: POST /_fake/faults {"faults":[{"endpoint","kind","count",
 * "skip","room_id",...params}]} replaces the list. Each fault fires on
 * matching requests after letting `skip` of them pass, `count` times
 * (-1: forever).
 *
 * Waits asked of the client: "429" sends retry_after_ms in the body (-1:
 * none) and a Retry-After header; "status" 429/503 sends one when asked.
 * "retry_after": the header's seconds (-1: no header; default for 429: the
 * body's time rounded up), "retry_after_date": true sends it as an HTTP
 * date that many seconds after the answer's own Date header. */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"

static const struct { const char *name; enum fault_kind kind; } kinds[] = {
	{ "status", FK_STATUS }, { "429", FK_429 }, { "reset", FK_RESET },
	{ "truncate", FK_TRUNCATE }, { "not_json", FK_NOT_JSON }, { "wrong_type", FK_WRONG_TYPE },
	{ "huge", FK_HUGE }, { "hang", FK_HANG }, { "auth", FK_AUTH },
	{ "list_insert", FK_LIST_INSERT }, { "list_remove", FK_LIST_REMOVE },
	{ "total_mismatch", FK_TOTAL_MISMATCH }, { "delete_fail", FK_DELETE_FAIL },
	{ "delete_hang", FK_DELETE_HANG }, { "latency", FK_LATENCY },
	{ "body", FK_BODY }, { "date_offset", FK_DATE_OFFSET },
};

void faults_clear(struct faults *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->list[i].endpoint);
		free(f->list[i].room_id);
		free(f->list[i].body);
	}
	free(f->list);
	f->list = NULL;
	f->n = 0;
}

static int64_t get_int(struct json_object *o, const char *key, int64_t def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return def;
	return json_object_get_int64(v);
}

static int parse_one(struct json_object *o, struct fault *ft, char **err)
{
	struct json_object *v;
	const char *kind;

	memset(ft, 0, sizeof(*ft));
	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "kind", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		*err = fs_xasprintf("each fault needs a \"kind\" string");
		return -EINVAL;
	}
	kind = json_object_get_string(v);
	for (size_t i = 0; i < FAKE_ARRAY_SIZE(kinds); i++)
		if (strcmp(kinds[i].name, kind) == 0)
			ft->kind = kinds[i].kind;
	if (ft->kind == FK_NONE) {
		*err = fs_xasprintf("unknown fault kind \"%s\"", kind);
		return -EINVAL;
	}
	ft->endpoint = fs_xstrdup(json_object_object_get_ex(o, "endpoint", &v) && v
				  ? json_object_get_string(v) : "any");
	if (json_object_object_get_ex(o, "room_id", &v) && v)
		ft->room_id = fs_xstrdup(json_object_get_string(v));
	ft->count = get_int(o, "count", 1);
	ft->skip = get_int(o, "skip", 0);
	ft->status = (int)get_int(o, "status", ft->kind == FK_AUTH ? 401 : 500);
	ft->retry_after_ms = (int)get_int(o, "retry_after_ms", 1000);
	ft->retry_after_s = get_int(o, "retry_after", ft->kind == FK_429 ? -2 : -1);
	ft->retry_after_date = json_object_object_get_ex(o, "retry_after_date", &v) &&
			       json_object_get_boolean(v);
	ft->ms = (int)get_int(o, "ms", ft->kind == FK_HANG ? 30000 : 100);
	ft->n = (int)get_int(o, "n", 1);
	if (ft->kind == FK_BODY) {
		if (!json_object_object_get_ex(o, "body", &v) || !json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) >= FAULT_BODY_MAX) {
			*err = fs_xasprintf("a body fault needs a \"body\" string under %d bytes", FAULT_BODY_MAX);
			return -EINVAL;
		}
		ft->body = fs_xstrdup(json_object_get_string(v));
		ft->status = (int)get_int(o, "status", 200);
	}
	return 0;
}

int faults_set(struct faults *f, const char *json, size_t len, char **err)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root, *list;
	struct faults fresh = { 0 };
	int rc = -EINVAL;

	root = json_tokener_parse_ex(tok, json ? json : "", (int)len);
	json_tokener_free(tok);
	if (!root || !json_object_object_get_ex(root, "faults", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		*err = fs_xasprintf("expected {\"faults\":[...]}");
		goto out;
	}
	fresh.list = fs_xcalloc(json_object_array_length(list) + 1, sizeof(*fresh.list));
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		if ((rc = parse_one(json_object_array_get_idx(list, i), &fresh.list[i], err)) < 0) {
			faults_clear(&fresh);
			goto out;
		}
		fresh.n++;
	}
	faults_clear(f);
	*f = fresh;
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

/* Faults that change the timing or the data and can combine with others. */
static bool modifier(enum fault_kind k)
{
	return k == FK_LATENCY || k == FK_HANG || k == FK_LIST_INSERT || k == FK_LIST_REMOVE ||
	       k == FK_TOTAL_MISMATCH || k == FK_DELETE_FAIL || k == FK_DELETE_HANG ||
	       k == FK_DATE_OFFSET;
}

static bool matches(const struct fault *ft, const char *endpoint, const char *room_id,
		    bool is_paging)
{
	if (ft->count == 0)
		return false;
	if (strcmp(ft->endpoint, "any") != 0 && strcmp(ft->endpoint, endpoint) != 0)
		return false;
	if (ft->room_id && (!room_id || strcmp(ft->room_id, room_id) != 0))
		return false;
	/* rooms appearing or vanishing between pages: only before a later page */
	if ((ft->kind == FK_LIST_INSERT || ft->kind == FK_LIST_REMOVE) &&
	    (strcmp(endpoint, "rooms_list") != 0 || !is_paging))
		return false;
	if (ft->kind == FK_TOTAL_MISMATCH && strcmp(endpoint, "rooms_list") != 0)
		return false;
	if ((ft->kind == FK_DELETE_FAIL || ft->kind == FK_DELETE_HANG) && strcmp(endpoint, "delete") != 0)
		return false;
	return true;
}

static void apply(const struct fault *ft, struct fault_hit *hit)
{
	switch (ft->kind) {
	case FK_LATENCY: hit->delay_ms += ft->ms; break;
	case FK_HANG: hit->delay_ms += ft->ms; break;
	case FK_LIST_INSERT: hit->list_insert = true; hit->insert_n += ft->n; break;
	case FK_LIST_REMOVE: hit->list_remove = true; hit->remove_n += ft->n; break;
	case FK_TOTAL_MISMATCH: hit->total_mismatch = true; hit->mismatch_n += ft->n; break;
	case FK_DELETE_FAIL: hit->delete_fail = true; break;
	case FK_DELETE_HANG: hit->delete_hang = true; break;
	case FK_DATE_OFFSET: hit->date_offset_s += ft->n; break;
	default:
		if (ft->kind == FK_BODY)
			snprintf(hit->body, sizeof(hit->body), "%s", ft->body);
		hit->kind = ft->kind;
		hit->status = ft->status;
		hit->retry_after_ms = ft->retry_after_ms;
		hit->retry_after_s = ft->retry_after_s;
		hit->retry_after_date = ft->retry_after_date;
		hit->ms = ft->ms;
		hit->n = ft->n;
	}
}

void faults_match(struct faults *f, const char *endpoint, const char *room_id, bool is_paging,
		  struct fault_hit *hit)
{
	memset(hit, 0, sizeof(*hit));
	for (size_t i = 0; i < f->n; i++) {
		struct fault *ft = &f->list[i];

		if (!matches(ft, endpoint, room_id, is_paging))
			continue;
		if (!modifier(ft->kind) && hit->kind != FK_NONE)
			continue; /* one answer-replacing fault per request */
		if (ft->skip > 0) {
			ft->skip--;
			continue;
		}
		if (ft->count > 0)
			ft->count--;
		apply(ft, hit);
	}
}
