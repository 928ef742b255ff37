/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Last-activity endpoints: forward_extremities, timestamp_to_event and
 * messages (captures 307-322, 326). */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"

/* An unknown or purged room has no events: 200 {"count":0,"results":[]}. */
void h_forward_extremities(struct fake *fk, struct room *r, const struct fault_hit *hit,
			   struct reply *rp)
{
	uint32_t n = events_count(&fk->world, r);
	struct jw j = { 0 };
	struct event ev;
	char id[48];

	jw_obj_open(&j);
	jw_kint(&j, "count", n ? 1 : 0);
	jw_key(&j, "results");
	if (hit->kind == FK_WRONG_TYPE) {
		jw_str(&j, "[]");
	} else {
		jw_arr_open(&j);
		if (n) {
			events_get(&fk->world, r, n - 1, &ev);
			events_id(r, n - 1, id, sizeof(id));
			jw_obj_open(&j);
			jw_kstr(&j, "event_id", id);
			jw_kint(&j, "state_group", n + 40);
			jw_kint(&j, "depth", n);
			/* when this server received the newest event: the room's last event time */
			jw_kint(&j, "received_ts", ev.ts);
			jw_obj_close(&j);
		}
		jw_arr_close(&j);
	}
	jw_obj_close(&j);
	reply_jw(rp, 200, &j);
}

void h_timestamp_to_event(struct fake *fk, const struct request *rq, struct room *r,
			  const struct fault_hit *hit, struct reply *rp)
{
	const char *ts_s = req_arg(rq, "ts"), *dir = req_arg(rq, "dir");
	uint32_t n = events_count(&fk->world, r);
	int64_t ts;
	struct event ev;
	bool found = false;
	struct jw j = { 0 };
	char id[48];

	if (!ts_s) {
		reply_error(rp, 400, "M_MISSING_PARAM", "Missing integer query parameter 'ts'");
		return;
	}
	if (fs_parse_int(ts_s, &ts) < 0) {
		reply_error(rp, 400, "M_INVALID_PARAM", "Query parameter 'ts' must be an integer");
		return;
	}
	if (!dir)
		dir = "f";
	if (strcmp(dir, "f") != 0 && strcmp(dir, "b") != 0) {
		reply_error(rp, 400, "M_INVALID_PARAM", "Query parameter 'dir' must be one of ['f', 'b']");
		return;
	}
	/* timestamps never decrease along the timeline */
	if (*dir == 'b') {
		for (uint32_t i = n; i-- > 0 && !found;) {
			events_get(&fk->world, r, i, &ev);
			found = ev.ts <= ts;
		}
	} else {
		for (uint32_t i = 0; i < n && !found; i++) {
			events_get(&fk->world, r, i, &ev);
			found = ev.ts >= ts;
		}
	}
	if (!found) {
		reply_error(rp, 404, "M_NOT_FOUND", "Unable to find event from %lld in direction %s",
			    (long long)ts, dir);
		return;
	}
	events_id(r, ev.idx, id, sizeof(id));
	jw_obj_open(&j);
	jw_kstr(&j, "event_id", id);
	if (hit->kind == FK_WRONG_TYPE) {
		char s[32];

		snprintf(s, sizeof(s), "%lld", (long long)ev.ts);
		jw_kstr(&j, "origin_server_ts", s);
	} else {
		jw_kint(&j, "origin_server_ts", ev.ts);
	}
	jw_obj_close(&j);
	reply_jw(rp, 200, &j);
}

struct type_filter {
	struct json_object *root, *types;
};

static int filter_parse(const char *s, struct type_filter *f)
{
	memset(f, 0, sizeof(*f));
	if (!s)
		return 0;
	f->root = json_tokener_parse(s);
	if (!f->root || !json_object_is_type(f->root, json_type_object))
		return -EINVAL;
	if (json_object_object_get_ex(f->root, "types", &f->types) &&
	    !json_object_is_type(f->types, json_type_array))
		return -EINVAL;
	return 0;
}

static bool filter_pass(const struct type_filter *f, const char *type)
{
	if (!f->types)
		return true;
	for (size_t i = 0; i < json_object_array_length(f->types); i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(f->types, i));

		if (t && strcmp(t, type) == 0)
			return true;
	}
	return false;
}

static void token(char *buf, size_t len, uint32_t pos, uint32_t n)
{
	snprintf(buf, len, "t%u-%u_0_0_0_0_0_0_0_0", pos, n + 40);
}

struct page {
	uint32_t idx[1000];
	size_t n;
	bool more;
	uint32_t next;
};

static void collect(const struct fake *fk, const struct room *r, bool backwards, uint32_t pos,
		    uint32_t total, int64_t limit, const struct type_filter *f, struct page *pg)
{
	struct event ev;

	pg->n = 0;
	pg->more = false;
	pg->next = pos;
	if (backwards) {
		for (uint32_t i = pos; i-- > 0;) {
			if ((int64_t)pg->n == limit) {
				pg->more = true;
				break;
			}
			events_get(&fk->world, r, i, &ev);
			if (filter_pass(f, ev.type))
				pg->idx[pg->n++] = i;
			pg->next = i;
		}
	} else {
		for (uint32_t i = pos; i < total; i++) {
			if ((int64_t)pg->n == limit) {
				pg->more = true;
				break;
			}
			events_get(&fk->world, r, i, &ev);
			if (filter_pass(f, ev.type))
				pg->idx[pg->n++] = i;
			pg->next = i + 1;
		}
	}
}

/* dir=b pages back from the live end; `end` is absent once the start of
 * the room (its m.room.create event) is reached. Unknown room: 200 with an
 * empty chunk (capture 313). The events in a chunk are deliberately not
 * in timestamp order: clients must take the maximum. */
void h_messages(struct fake *fk, const struct request *rq, struct room *r,
		const struct fault_hit *hit, struct reply *rp)
{
	const char *dir = req_arg(rq, "dir"), *from = req_arg(rq, "from"), *lim = req_arg(rq, "limit");
	uint32_t total = events_count(&fk->world, r), pos = total;
	int64_t limit = 10, now = fs_now_ms();
	struct type_filter f;
	struct page *pg;
	struct jw j = { 0 };
	char tok[64];

	if (lim && (fs_parse_int(lim, &limit) < 0 || limit < 0)) {
		reply_error(rp, 400, "M_INVALID_PARAM", "Query parameter 'limit' must be an integer");
		return;
	}
	if (limit > 1000)
		limit = 1000;
	if (dir && strcmp(dir, "f") != 0 && strcmp(dir, "b") != 0) {
		reply_error(rp, 400, "M_INVALID_PARAM", "Unknown direction: %s", dir);
		return;
	}
	if (filter_parse(req_arg(rq, "filter"), &f) < 0) {
		json_object_put(f.root);
		reply_error(rp, 400, "M_INVALID_PARAM", "Invalid JSON filter");
		return;
	}
	if (from && (sscanf(from, "t%u-", &pos) != 1 || pos > total))
		pos = total;
	pg = fs_xcalloc(1, sizeof(*pg));
	collect(fk, r, dir && *dir == 'b', pos, total, limit, &f, pg);
	if (pg->n >= 2) { /* not sorted by timestamp */
		uint32_t t = pg->idx[0];

		pg->idx[0] = pg->idx[1];
		pg->idx[1] = t;
	}
	jw_obj_open(&j);
	jw_key(&j, "chunk");
	if (hit->kind == FK_WRONG_TYPE) {
		jw_str(&j, "[]");
	} else {
		jw_arr_open(&j);
		for (size_t i = 0; i < pg->n; i++) {
			struct event ev;

			events_get(&fk->world, r, pg->idx[i], &ev);
			events_write(&j, &fk->world, r, &ev, now);
		}
		jw_arr_close(&j);
	}
	token(tok, sizeof(tok), pos, total);
	jw_kstr(&j, "start", tok);
	if (pg->more) {
		token(tok, sizeof(tok), pg->next, total);
		jw_kstr(&j, "end", tok);
	}
	jw_obj_close(&j);
	json_object_put(f.root);
	free(pg);
	reply_jw(rp, 200, &j);
}
