/* SPDX-License-Identifier: GPL-3.0-or-later */
/* DELETE /_synapse/admin/v2/rooms/<id> and its status (captures 400-415,
 * 600). The work is "done" by the status polls: each status GET advances a
 * task one step, so tests are deterministic. Old servers (< 1.93) say
 * shutting_down -> purging -> complete|failed (with "error"); current ones
 * scheduled -> active -> complete|failed, with delete_id and room_id in
 * every object and shutdown_room null until the end. */
#include "config.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"

#define STEP_DONE 2

void tasks_free(struct tasks *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->list[i].room_id);
		for (uint32_t k = 0; k < t->list[i].kicked; k++)
			free(t->list[i].kicked_users[k]);
		free(t->list[i].kicked_users);
	}
	free(t->list);
	t->list = NULL;
	t->n = 0;
}

void tasks_reset_rng(struct tasks *t, uint64_t seed)
{
	t->rng = seed;
}

static const char *status_of(const struct fake *fk, const struct task *t)
{
	static const char *const old_names[] = { "shutting_down", "purging", "complete" };
	static const char *const new_names[] = { "scheduled", "active", "complete" };

	if (t->step >= STEP_DONE && t->fail)
		return "failed";
	return (fk->cfg.style == STYLE_OLD ? old_names : new_names)[t->step > 2 ? 2 : t->step];
}

static bool running(const struct task *t)
{
	return t->step < STEP_DONE;
}

/* The delete takes effect when the task completes: a purged room is gone;
 * without purge it stays, empty and forgotten (capture 410). */
static void finish(struct fake *fk, struct task *t)
{
	struct world *w = &fk->world;
	struct room *r = world_find(w, t->room_id);

	if (!r || t->fail)
		return;
	if (t->purge) {
		world_remove(w, r);
		return;
	}
	world_reindex(w, r, true);
	r->n_members = 0;
	r->stats_joined = r->stats_local = -1;
	r->forgotten = true;
	r->blocked = r->blocked || t->block;
	world_reindex(w, r, false);
}

static void advance(struct fake *fk, struct task *t)
{
	if (!running(t) || (t->hang && t->step >= 1))
		return;
	if (++t->step == STEP_DONE)
		finish(fk, t);
}

static void shutdown_room(struct jw *j, const struct task *t, bool kicked)
{
	jw_obj_open(j);
	jw_key(j, "kicked_users");
	jw_arr_open(j);
	for (uint32_t k = 0; kicked && k < t->kicked; k++)
		jw_str(j, t->kicked_users[k]);
	jw_arr_close(j);
	jw_key(j, "failed_to_kick_users");
	jw_arr_open(j);
	jw_arr_close(j);
	jw_key(j, "local_aliases");
	jw_arr_open(j);
	jw_arr_close(j);
	jw_knull(j, "new_room_id");
	jw_obj_close(j);
}

static void write_status(struct jw *j, const struct fake *fk, const struct task *t, bool by_room,
			 bool wrong)
{
	bool old = fk->cfg.style == STYLE_OLD;

	jw_obj_open(j);
	if (by_room || !old)
		jw_kstr(j, "delete_id", t->delete_id);
	if (!old)
		jw_kstr(j, "room_id", t->room_id);
	if (wrong)
		jw_kint(j, "status", t->step);
	else
		jw_kstr(j, "status", status_of(fk, t));
	jw_key(j, "shutdown_room");
	if (!old && running(t))
		jw_null(j);
	else
		shutdown_room(j, t, t->step > 0);
	if (old && !running(t) && t->fail)
		jw_kstr(j, "error", "Failed to purge room: database is locked");
	jw_obj_close(j);
}

static struct task *find_running(struct tasks *ts, const char *room_id)
{
	for (size_t i = 0; i < ts->n; i++)
		if (running(&ts->list[i]) && strcmp(ts->list[i].room_id, room_id) == 0)
			return &ts->list[i];
	return NULL;
}

static int body_flag(struct json_object *o, const char *key, bool def, bool *out)
{
	struct json_object *v;

	*out = def;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return -1;
	*out = json_object_get_boolean(v);
	return 0;
}

static struct task *new_task(struct fake *fk, const char *room_id)
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	struct tasks *ts = &fk->tasks;
	struct room *r = world_find(&fk->world, room_id);
	struct task *t;

	ts->list = fs_xrealloc(ts->list, (ts->n + 1) * sizeof(*ts->list));
	t = &ts->list[ts->n++];
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < 16; i++)
		t->delete_id[i] = letters[fs_rng_next(&ts->rng) % 52];
	t->room_id = fs_xstrdup(room_id);
	/* only local users are kicked */
	t->kicked_users = fs_xcalloc(r ? r->n_members + 1 : 1, sizeof(char *));
	for (uint32_t i = 0; r && i < r->n_members; i++)
		if (room_is_local_user(&fk->world, r->members[i]))
			t->kicked_users[t->kicked++] = fs_xstrdup(r->members[i]);
	return t;
}

static bool delete_body(const struct request *rq, struct json_object **out, struct reply *rp)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = NULL;

	*out = NULL;
	if (rq->body_len)
		o = json_tokener_parse_ex(tok, rq->body, (int)rq->body_len);
	if (o && json_tokener_get_parse_end(tok) != rq->body_len) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	if (!o && !(rq->body_len == 4 && memcmp(rq->body, "null", 4) == 0)) {
		reply_error(rp, 400, "M_NOT_JSON", "Content not JSON.");
		return false;
	}
	*out = o;
	if (!json_object_is_type(o, json_type_object)) {
		reply_error(rp, 400, "M_BAD_JSON", "Content must be a JSON object.");
		return false;
	}
	return true;
}

void h_delete(struct fake *fk, const struct request *rq, const char *room_id,
	      const struct fault_hit *hit, struct reply *rp)
{
	static const char *const flags[] = { "purge", "block", "force_purge" };
	struct json_object *body = NULL, *ans;
	bool val[3];
	struct task *t;
	bool ok = delete_body(rq, &body, rp);

	stats_delete(&fk->stats, room_id, ok ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN)
					  : "null");
	if (!ok)
		goto out;
	for (size_t i = 0; i < 3; i++)
		if (body_flag(body, flags[i], i == 0, &val[i]) < 0) {
			reply_error(rp, 400, "M_BAD_JSON", "Param '%s' must be a boolean, if given", flags[i]);
			goto out;
		}
	if (room_id[0] != '!') {
		reply_error(rp, 400, "M_UNKNOWN", "%s is not a legal room ID", room_id);
		goto out;
	}
	if (find_running(&fk->tasks, room_id)) {
		reply_error(rp, 400, "M_UNKNOWN", "History purge already in progress for %s", room_id);
		goto out;
	}
	t = new_task(fk, room_id);
	t->purge = val[0];
	t->block = val[1];
	t->fail = hit->delete_fail;
	t->hang = hit->delete_hang;
	ans = json_object_new_object();
	if (hit->kind == FK_WRONG_TYPE)
		json_object_object_add(ans, "delete_id", json_object_new_int(16));
	else
		json_object_object_add(ans, "delete_id", json_object_new_string(t->delete_id));
	reply_json(rp, 200, fs_xstrdup(json_object_to_json_string_ext(ans, JSON_C_TO_STRING_PLAIN)),
		   strlen(json_object_to_json_string_ext(ans, JSON_C_TO_STRING_PLAIN)));
	json_object_put(ans);
out:
	json_object_put(body);
}

void h_delete_status(struct fake *fk, const char *delete_id, const struct fault_hit *hit,
		     struct reply *rp)
{
	struct jw j = { 0 };

	for (size_t i = 0; i < fk->tasks.n; i++) {
		struct task *t = &fk->tasks.list[i];

		if (strcmp(t->delete_id, delete_id) != 0)
			continue;
		write_status(&j, fk, t, false, hit->kind == FK_WRONG_TYPE);
		advance(fk, t);
		reply_jw(rp, 200, &j);
		return;
	}
	reply_error(rp, 404, "M_NOT_FOUND", "delete id '%s' not found", delete_id);
}

/* Current servers do not list a task still "scheduled" here (404 until it
 * starts); it still advances, so polling by room id ends. */
void h_room_delete_status(struct fake *fk, const char *room_id, const struct fault_hit *hit,
			  struct reply *rp)
{
	struct jw j = { 0 };
	size_t shown = 0;

	jw_obj_open(&j);
	jw_key(&j, "results");
	jw_arr_open(&j);
	for (size_t i = 0; i < fk->tasks.n; i++) {
		struct task *t = &fk->tasks.list[i];

		if (strcmp(t->room_id, room_id) != 0)
			continue;
		if (fk->cfg.style == STYLE_OLD || t->step > 0) {
			write_status(&j, fk, t, true, hit->kind == FK_WRONG_TYPE);
			shown++;
		}
		advance(fk, t);
	}
	jw_arr_close(&j);
	jw_obj_close(&j);
	if (!shown) {
		free(jw_finish(&j, NULL));
		reply_error(rp, 404, "M_NOT_FOUND", "No delete task for room_id '%s' found", room_id);
		return;
	}
	reply_jw(rp, 200, &j);
}
