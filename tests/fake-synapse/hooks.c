/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Test hooks under /_fake/: no auth, not counted in the statistics. */
#include "config.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"

static void ok(struct reply *rp)
{
	reply_json(rp, 200, fs_xstrdup("{}"), 2);
}

static void bad(struct reply *rp, int status, const char *msg)
{
	struct jw j = { 0 };

	jw_obj_open(&j);
	jw_kstr(&j, "error", msg);
	jw_obj_close(&j);
	reply_jw(rp, status, &j);
}

static void update_room(struct fake *fk, const struct request *rq, const char *room_id,
			struct reply *rp)
{
	struct world *w = &fk->world;
	struct json_object *o = json_tokener_parse(rq->body ? rq->body : "");
	struct room *r = world_find(w, room_id);
	bool fresh = !r;
	char *err = NULL;

	if (!o || !json_object_is_type(o, json_type_object)) {
		bad(rp, 400, "expected a JSON object");
		goto out;
	}
	if (fresh)
		r = world_new_room(w, room_id);
	else
		world_reindex(w, r, true);
	if (world_apply(w, r, o, &err) < 0)
		bad(rp, 400, err);
	else
		ok(rp);
	if (fresh)
		world_add(w, r);
	else
		world_reindex(w, r, false);
out:
	free(err);
	json_object_put(o);
}

void hooks_handle(struct fake *fk, const struct request *rq, const struct route *rt,
		  struct reply *rp)
{
	bool post = strcmp(rq->method, "POST") == 0;
	char *err = NULL;

	if (strcmp(rt->arg, "stats") == 0 && !rt->room_id) {
		char *s = stats_json(&fk->stats, fk->world.n_live);

		reply_json(rp, 200, s, strlen(s));
	} else if (strcmp(rt->arg, "requests") == 0 && !rt->room_id) {
		char *s = stats_arrivals_json(&fk->stats);

		reply_json(rp, 200, s, strlen(s));
	} else if (strcmp(rt->arg, "faults") == 0 && post && !rt->room_id) {
		if (faults_set(&fk->faults, rq->body, rq->body_len, &err) < 0)
			bad(rp, 400, err);
		else
			ok(rp);
	} else if (strcmp(rt->arg, "reset") == 0 && post && !rt->room_id) {
		faults_clear(&fk->faults);
		stats_reset(&fk->stats);
		ok(rp);
	} else if (strcmp(rt->arg, "rooms") == 0 && rt->room_id && post) {
		update_room(fk, rq, rt->room_id, rp);
	} else if (strcmp(rt->arg, "rooms") == 0 && rt->room_id && strcmp(rq->method, "DELETE") == 0) {
		struct room *r = world_find(&fk->world, rt->room_id);

		if (r) {
			world_remove(&fk->world, r);
			ok(rp);
		} else {
			bad(rp, 404, "no such room");
		}
	} else {
		bad(rp, 404, "unknown test hook");
	}
	free(err);
}
