/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The room list and one room: GET /_synapse/admin/v1/rooms[/<id>[/members|
 * /state]] with the 1.68 shapes (captures 100-122, 200-227, 300-306). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"

/* One row as the list sends it; the details add a few fields. */
static void write_row(struct jw *j, const struct world *w, const struct room *r, bool details,
		      int wrong)
{
	bool hidden = room_state_hidden(w, r);

	jw_obj_open(j);
	if (wrong != 1) /* the wrong_type fault drops one row's room_id */
		jw_kstr(j, "room_id", r->room_id);
	if (wrong == 3)
		jw_kint(j, "name", 12345);
	else
		jw_kstr(j, "name", hidden ? NULL : r->name);
	jw_kstr(j, "canonical_alias", hidden ? NULL : r->canonical_alias);
	jw_kint(j, "joined_members", room_joined(w, r));
	if (wrong == 2) {
		char n[16];

		snprintf(n, sizeof(n), "%u", room_joined_local(w, r));
		jw_kstr(j, "joined_local_members", n);
	} else {
		jw_kint(j, "joined_local_members", room_joined_local(w, r));
	}
	jw_kstr(j, "version", r->version);
	jw_kstr(j, "creator", r->creator);
	jw_kstr(j, "encryption", r->encryption);
	jw_kbool(j, "federatable", r->federatable);
	jw_kbool(j, "public", r->is_public);
	jw_kstr(j, "join_rules", hidden ? NULL : r->join_rules);
	jw_kstr(j, "guest_access", hidden ? NULL : r->guest_access);
	jw_kstr(j, "history_visibility", hidden ? NULL : r->history_visibility);
	jw_kint(j, "state_events", room_state_events(r));
	if (details) {
		jw_kstr(j, "avatar", hidden ? NULL : r->avatar);
		jw_kstr(j, "topic", hidden ? NULL : r->topic);
	}
	jw_kstr(j, "room_type", r->room_type);
	if (details) {
		jw_kint(j, "joined_local_devices", room_joined_local(w, r));
		jw_kbool(j, "forgotten", r->forgotten);
	}
	jw_obj_close(j);
}

static bool search_match(const struct world *w, const struct room *r, const char *term)
{
	bool hidden = room_state_hidden(w, r);

	if (strcmp(r->room_id, term) == 0)
		return true;
	if (hidden)
		return false; /* cleared stats are not searchable (capture 410) */
	return (r->name && strcasestr(r->name, term)) ||
	       (r->canonical_alias && strcasestr(r->canonical_alias, term));
}

static void list_insert(struct world *w, int n)
{
	for (int k = 0; k < n; k++) {
		char id[96];
		struct room *r;

		/* a null name (no local member) and a low id: they sort first */
		snprintf(id, sizeof(id), "!0000%06llu-new:%s", (unsigned long long)++w->insert_counter,
			 w->server_name);
		if (world_find(w, id))
			continue;
		r = world_new_room(w, id);
		r->creator = arena_strdup(&w->arena, "@newcomer:remote.org");
		r->created_ts = r->last_event_ts = fs_now_ms() - 60000;
		r->has_events = true;
		r->gen_messages = 1;
		world_add(w, r);
	}
}

static void list_remove(struct world *w, enum order_key key, int n)
{
	for (int k = 0; k < n && w->n_live; k++)
		world_remove(w, world_order(w, key)[0]);
}

struct list_params {
	int64_t from, limit;
	int order;
	bool backwards;
	const char *search;
};

static bool list_params(const struct request *rq, struct list_params *p, struct reply *rp)
{
	const char *v;

	p->from = 0;
	p->limit = 100;
	p->order = ORDER_NAME;
	p->backwards = false;
	if ((v = req_arg(rq, "from")) && fs_parse_int(v, &p->from) < 0) {
		reply_error(rp, 400, "M_INVALID_PARAM", "Query parameter 'from' must be an integer");
		return false;
	}
	if ((v = req_arg(rq, "limit")) && fs_parse_int(v, &p->limit) < 0) {
		reply_error(rp, 400, "M_INVALID_PARAM", "Query parameter 'limit' must be an integer");
		return false;
	}
	if ((v = req_arg(rq, "order_by")) && (p->order = order_key_parse(v)) < 0) {
		reply_error(rp, 400, "M_INVALID_PARAM",
			    "Query parameter 'order_by' must be one of ['alphabetical', 'size', 'name', "
			    "'canonical_alias', 'joined_members', 'joined_local_members', 'version', "
			    "'creator', 'encryption', 'federatable', 'public', 'join_rules', "
			    "'guest_access', 'history_visibility', 'state_events']");
		return false;
	}
	if ((v = req_arg(rq, "dir")) && strcmp(v, "f") != 0 && strcmp(v, "b") != 0) {
		reply_error(rp, 400, "M_INVALID_PARAM", "Unknown direction: %s", v);
		return false;
	}
	p->backwards = v && strcmp(v, "b") == 0;
	if ((p->search = req_arg(rq, "search_term")) && !*p->search) {
		reply_error(rp, 400, "M_INVALID_PARAM", "search_term cannot be an empty string");
		return false;
	}
	return true;
}

static int wrong_kind(size_t i)
{
	return i == 0 ? 1 : i % 3 == 1 ? 2 : i % 3 == 2 ? 3 : 0;
}

/* Offset paging exactly as 1.68: next_batch when from+limit < total (so
 * limit=0 gives next_batch 0 forever, limit=-1 gives everything and -1),
 * prev_batch when from > 0 (capture 118: from-limit, unclamped above). */
void h_rooms_list(struct fake *fk, const struct request *rq, const struct fault_hit *hit,
		  struct reply *rp)
{
	struct world *w = &fk->world;
	struct list_params p;
	struct room **order, **matches = NULL;
	size_t total, start, end;
	struct jw j = { 0 };

	if (!list_params(rq, &p, rp))
		return;
	if (hit->list_insert)
		list_insert(w, hit->insert_n);
	if (hit->list_remove)
		list_remove(w, (enum order_key)p.order, hit->remove_n);
	order = world_order(w, (enum order_key)p.order);
	total = w->n_live;
	if (p.search) {
		matches = fs_xcalloc(w->n_live + 1, sizeof(*matches));
		total = 0;
		for (size_t i = 0; i < w->n_live; i++)
			if (search_match(w, order[i], p.search))
				matches[total++] = order[i];
		order = matches;
	}
	start = p.from > 0 ? (size_t)p.from : 0;
	if (start > total)
		start = total;
	end = p.limit < 0 || (uint64_t)p.limit >= total - start ? total : start + (size_t)p.limit;
	jw_obj_open(&j);
	jw_kint(&j, "offset", p.from);
	jw_key(&j, "rooms");
	jw_arr_open(&j);
	for (size_t i = start; i < end; i++) {
		struct room *r = order[p.backwards ? total - 1 - i : i];

		write_row(&j, w, r, false, hit->kind == FK_WRONG_TYPE ? wrong_kind(i - start) : 0);
	}
	jw_arr_close(&j);
	jw_kint(&j, "total_rooms", (int64_t)total + (hit->total_mismatch ? hit->mismatch_n : 0));
	if (p.from + p.limit < (int64_t)total)
		jw_kint(&j, "next_batch", p.from + p.limit);
	if (p.from > 0)
		jw_kint(&j, "prev_batch", p.from > p.limit ? p.from - p.limit : 0);
	jw_obj_close(&j);
	free(matches);
	reply_jw(rp, 200, &j);
}

static void not_found(struct reply *rp)
{
	reply_error(rp, 404, "M_NOT_FOUND", "Room not found");
}

void h_room_details(struct fake *fk, struct room *r, const struct fault_hit *hit, struct reply *rp)
{
	struct jw j = { 0 };

	if (!r) {
		not_found(rp);
		return;
	}
	write_row(&j, &fk->world, r, true, hit->kind == FK_WRONG_TYPE ? 2 : 0);
	reply_jw(rp, 200, &j);
}

void h_members(struct fake *fk, struct room *r, const struct fault_hit *hit, struct reply *rp)
{
	struct jw j = { 0 };

	(void)fk;
	if (!r) {
		not_found(rp);
		return;
	}
	jw_obj_open(&j);
	jw_key(&j, "members");
	if (hit->kind == FK_WRONG_TYPE) {
		jw_str(&j, r->n_members ? r->members[0] : "");
	} else {
		jw_arr_open(&j);
		for (uint32_t i = 0; i < r->n_members; i++)
			jw_str(&j, r->members[i]);
		jw_arr_close(&j);
	}
	jw_kint(&j, "total", r->n_members);
	jw_obj_close(&j);
	reply_jw(rp, 200, &j);
}

void h_state(struct fake *fk, const struct request *rq, struct room *r, struct reply *rp)
{
	struct jw j = { 0 };
	/* 1.123+ filters by ?type=; older servers ignore it (capture 304) */
	const char *filter = fk->cfg.style == STYLE_NEW ? req_arg(rq, "type") : NULL;

	if (!r) {
		not_found(rp);
		return;
	}
	jw_obj_open(&j);
	jw_key(&j, "state");
	jw_arr_open(&j);
	if (!room_state_hidden(&fk->world, r))
		state_write(&j, &fk->world, r, filter, fs_now_ms());
	jw_arr_close(&j);
	jw_obj_close(&j);
	reply_jw(rp, 200, &j);
}
