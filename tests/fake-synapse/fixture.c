/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fixture files and room updates: {"server_name":..., "rooms":[{...}]}.
 * Unknown keys (a test's "expect", "expect_lookups") are ignored. */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"

static const char *opt_str(struct world *w, struct json_object *v)
{
	if (!v || json_object_is_type(v, json_type_null))
		return NULL;
	return arena_strdup(&w->arena, json_object_get_string(v));
}

static int64_t days_ago_ms(const struct world *w, struct json_object *v)
{
	return w->start_ms - (int64_t)(json_object_get_double(v) * (double)DAY_MS);
}

static int str_array(struct world *w, struct json_object *v, const char ***out, uint32_t *n,
		     const char *key, char **err)
{
	size_t len;

	if (!json_object_is_type(v, json_type_array)) {
		*err = fs_xasprintf("\"%s\" must be an array of strings", key);
		return -EINVAL;
	}
	len = json_object_array_length(v);
	*out = arena_alloc(&w->arena, (len + 1) * sizeof(char *));
	for (size_t i = 0; i < len; i++) {
		struct json_object *s = json_object_array_get_idx(v, i);

		if (!json_object_is_type(s, json_type_string)) {
			*err = fs_xasprintf("\"%s\" must be an array of strings", key);
			return -EINVAL;
		}
		(*out)[i] = arena_strdup(&w->arena, json_object_get_string(s));
	}
	*n = (uint32_t)len;
	return 0;
}

static int cmp_msg(const void *a, const void *b)
{
	const struct message *x = a, *y = b;

	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

static int messages(struct world *w, struct room *r, struct json_object *v, char **err)
{
	size_t len;

	if (!json_object_is_type(v, json_type_array)) {
		*err = fs_xasprintf("\"messages\" must be an array");
		return -EINVAL;
	}
	len = json_object_array_length(v);
	r->messages = arena_alloc(&w->arena, (len + 1) * sizeof(*r->messages));
	for (size_t i = 0; i < len; i++) {
		struct json_object *m = json_object_array_get_idx(v, i), *x;
		struct message *msg = &r->messages[i];

		if (!json_object_is_type(m, json_type_object)) {
			*err = fs_xasprintf("\"messages\" entries must be objects");
			return -EINVAL;
		}
		msg->type = json_object_object_get_ex(m, "type", &x) ? opt_str(w, x) : "m.room.message";
		if (!msg->type)
			msg->type = "m.room.message";
		if (json_object_object_get_ex(m, "origin_server_ts", &x))
			msg->ts = json_object_get_int64(x);
		else if (json_object_object_get_ex(m, "days_ago", &x))
			msg->ts = days_ago_ms(w, x);
		else
			msg->ts = w->start_ms;
	}
	qsort(r->messages, len, sizeof(*r->messages), cmp_msg);
	r->n_messages = (uint32_t)len;
	r->gen_messages = 0;
	if (len) {
		r->has_events = true;
		if (r->messages[len - 1].ts > r->last_event_ts)
			r->last_event_ts = r->messages[len - 1].ts;
	}
	return 0;
}

static void set_last_event(struct room *r, struct json_object *v, int64_t ts)
{
	if (!v || json_object_is_type(v, json_type_null)) {
		r->has_events = false;
		return;
	}
	r->has_events = true;
	r->last_event_ts = ts;
	if (!r->n_messages && !r->gen_messages)
		r->gen_messages = 3;
}

/* String fields a fixture may set (null clears them). */
static const char **str_field(struct room *r, const char *key)
{
	static const struct { const char *key; size_t off; } fields[] = {
		{ "name", offsetof(struct room, name) },
		{ "canonical_alias", offsetof(struct room, canonical_alias) },
		{ "creator", offsetof(struct room, creator) },
		{ "topic", offsetof(struct room, topic) },
		{ "avatar", offsetof(struct room, avatar) },
		{ "room_type", offsetof(struct room, room_type) },
		{ "encryption", offsetof(struct room, encryption) },
		{ "version", offsetof(struct room, version) },
		{ "join_rules", offsetof(struct room, join_rules) },
		{ "guest_access", offsetof(struct room, guest_access) },
		{ "history_visibility", offsetof(struct room, history_visibility) },
	};

	for (size_t i = 0; i < FAKE_ARRAY_SIZE(fields); i++)
		if (strcmp(key, fields[i].key) == 0)
			return (const char **)(void *)((char *)r + fields[i].off);
	return NULL;
}

static bool *bool_field(struct room *r, const char *key)
{
	if (strcmp(key, "public") == 0)
		return &r->is_public;
	if (strcmp(key, "federatable") == 0)
		return &r->federatable;
	if (strcmp(key, "forgotten") == 0)
		return &r->forgotten;
	if (strcmp(key, "blocked") == 0)
		return &r->blocked;
	return NULL;
}

static int apply_key(struct world *w, struct room *r, const char *key, struct json_object *v,
		     char **err)
{
	const char **s;
	bool *b;

	if ((s = str_field(r, key))) {
		*s = opt_str(w, v);
	} else if ((b = bool_field(r, key))) {
		*b = json_object_get_boolean(v);
	} else if (strcmp(key, "members") == 0) {
		return str_array(w, v, &r->members, &r->n_members, key, err);
	} else if (strcmp(key, "aliases") == 0) {
		return str_array(w, v, &r->aliases, &r->n_aliases, key, err);
	} else if (strcmp(key, "stats_joined_members") == 0) {
		r->stats_joined = v ? (int32_t)json_object_get_int(v) : -1;
	} else if (strcmp(key, "stats_joined_local_members") == 0) {
		r->stats_local = v ? (int32_t)json_object_get_int(v) : -1;
	} else if (strcmp(key, "created_ts") == 0) {
		r->created_ts = json_object_get_int64(v);
	} else if (strcmp(key, "created_days_ago") == 0) {
		r->created_ts = days_ago_ms(w, v);
	} else if (strcmp(key, "last_event_ts") == 0) {
		set_last_event(r, v, json_object_get_int64(v));
	} else if (strcmp(key, "last_event_days_ago") == 0) {
		set_last_event(r, v, v ? days_ago_ms(w, v) : 0);
	} else if (strcmp(key, "last_message_days_ago") == 0 || strcmp(key, "last_message_ts") == 0) {
		int64_t ts = key[13] == 't' ? json_object_get_int64(v) : days_ago_ms(w, v);

		r->last_message_ts = ts;
		r->n_messages = 0;
		r->gen_messages = 3;
		if (!r->has_events || ts > r->last_event_ts)
			r->last_event_ts = ts;
		r->has_events = true;
	} else if (strcmp(key, "messages") == 0) {
		return messages(w, r, v, err);
	}
	return 0;
}

int world_apply(struct world *w, struct room *r, struct json_object *o, char **err)
{
	/* Times first, so last_message/messages see the final last_event. */
	static const char *const first[] = { "created_ts", "created_days_ago", "last_event_ts",
					     "last_event_days_ago" };
	struct json_object *v;
	int rc;

	if (!json_object_is_type(o, json_type_object)) {
		*err = fs_xasprintf("a room must be a JSON object");
		return -EINVAL;
	}
	for (size_t i = 0; i < FAKE_ARRAY_SIZE(first); i++)
		if (json_object_object_get_ex(o, first[i], &v) &&
		    (rc = apply_key(w, r, first[i], v, err)) < 0)
			return rc;
	json_object_object_foreach(o, key, val) {
		bool done = false;

		for (size_t i = 0; i < FAKE_ARRAY_SIZE(first); i++)
			done |= strcmp(key, first[i]) == 0;
		if (!done && (rc = apply_key(w, r, key, val, err)) < 0)
			return rc;
	}
	if (!r->creator)
		r->creator = r->n_members ? r->members[0] : arena_strdup(&w->arena, "@admin:test.local");
	w->generation++;
	return 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	struct fbuf b = { 0 };
	char chunk[65536];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fbuf_add(&b, chunk, n);
	fclose(f);
	fbuf_add(&b, "", 0);
	return b.data;
}

static int load_rooms(struct world *w, struct json_object *rooms, char **err)
{
	for (size_t i = 0; i < json_object_array_length(rooms); i++) {
		struct json_object *o = json_object_array_get_idx(rooms, i), *id;
		struct room *r;
		int rc;

		if (!json_object_object_get_ex(o, "room_id", &id) ||
		    !json_object_is_type(id, json_type_string)) {
			*err = fs_xasprintf("room %zu has no \"room_id\" string", i);
			return -EINVAL;
		}
		if (world_find(w, json_object_get_string(id))) {
			*err = fs_xasprintf("room %s is listed twice", json_object_get_string(id));
			return -EINVAL;
		}
		r = world_new_room(w, json_object_get_string(id));
		if ((rc = world_apply(w, r, o, err)) < 0)
			return rc;
		world_bulk_add(w, r);
	}
	return 0;
}

int world_load_fixture(struct world *w, const char *path, char **err)
{
	char *text = slurp(path);
	struct json_object *root = NULL, *v;
	int rc = -EINVAL;

	if (!text) {
		*err = fs_xasprintf("%s: cannot read", path);
		return -errno;
	}
	root = json_tokener_parse(text);
	if (!root || !json_object_is_type(root, json_type_object)) {
		*err = fs_xasprintf("%s: not a JSON object", path);
		goto out;
	}
	if (json_object_object_get_ex(root, "server_name", &v) && json_object_is_type(v, json_type_string)) {
		free(w->server_name);
		w->server_name = fs_xstrdup(json_object_get_string(v));
	}
	if (!json_object_object_get_ex(root, "rooms", &v) || !json_object_is_type(v, json_type_array)) {
		*err = fs_xasprintf("%s: no \"rooms\" array", path);
		goto out;
	}
	rc = load_rooms(w, v, err);
	world_index_all(w);
out:
	json_object_put(root);
	free(text);
	return rc;
}
