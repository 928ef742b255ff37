/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A room's timeline, generated on demand from its parameters (nothing is
 * stored per event): the m.room.create event first, three more state
 * events at creation, the messages, then possibly one membership event at
 * the room's last event time (the last local member leaving, someone
 * joining). Ordered by index; timestamps never decrease. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fake.h"

#define FIRST_MESSAGE 4u
#define STATE_ONLY_BASE 0x40000000u

static int64_t created_at(const struct room *r)
{
	return r->has_events && r->created_ts > r->last_event_ts ? r->last_event_ts : r->created_ts;
}

static uint32_t n_messages(const struct room *r)
{
	return r->n_messages ? r->n_messages : r->gen_messages;
}

static int64_t message_ts(const struct room *r, uint32_t i)
{
	int64_t created = created_at(r), last;
	uint32_t m = n_messages(r);

	if (r->n_messages)
		return r->messages[i].ts < created ? created : r->messages[i].ts;
	last = r->last_message_ts >= 0 ? r->last_message_ts : r->last_event_ts;
	if (last > r->last_event_ts)
		last = r->last_event_ts;
	if (last < created)
		last = created;
	return created + (int64_t)((double)(last - created) * (double)(i + 1) / (double)m);
}

static bool has_tail(const struct room *r)
{
	uint32_t m = n_messages(r);
	int64_t last = m ? message_ts(r, m - 1) : created_at(r);

	return r->last_event_ts > last;
}

uint32_t events_count(const struct world *w, const struct room *r)
{
	(void)w;
	if (!r || !r->has_events)
		return 0;
	return FIRST_MESSAGE + n_messages(r) + has_tail(r);
}

static const char *member_or_creator(const struct room *r, uint32_t i)
{
	return r->n_members ? r->members[i % r->n_members] : r->creator;
}

void events_get(const struct world *w, const struct room *r, uint32_t idx, struct event *ev)
{
	static const char *const first[] = { "m.room.create", "m.room.member", "m.room.power_levels",
					     "m.room.join_rules" };
	uint32_t m = n_messages(r);

	memset(ev, 0, sizeof(*ev));
	ev->idx = idx;
	ev->sender = r->creator;
	if (idx < FIRST_MESSAGE) {
		ev->type = first[idx];
		ev->ts = created_at(r);
		ev->state_key = idx == 1 ? r->creator : "";
		ev->membership = "join";
	} else if (idx < FIRST_MESSAGE + m) {
		uint32_t i = idx - FIRST_MESSAGE;

		ev->type = r->n_messages ? r->messages[i].type
			   : r->encryption ? "m.room.encrypted" : "m.room.message";
		ev->ts = message_ts(r, i);
		ev->sender = member_or_creator(r, i);
	} else {
		/* no local member left: the last event is the last one leaving */
		bool left = room_real_local(w, r) == 0;

		ev->type = "m.room.member";
		ev->ts = r->last_event_ts;
		ev->sender = left ? r->creator : member_or_creator(r, r->n_members ? r->n_members - 1 : 0);
		ev->state_key = ev->sender;
		ev->membership = left ? "leave" : "join";
	}
}

void events_id(const struct room *r, uint32_t idx, char *buf, size_t len)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint64_t state = fs_hash64(r->room_id) ^ ((uint64_t)idx * UINT64_C(0x9e3779b97f4a7c15));
	size_t k = 0;

	if (len < 45)
		return;
	buf[k++] = '$';
	while (k < 44) {
		uint64_t x = fs_rng_next(&state);

		for (int j = 0; j < 10 && k < 44; j++, x >>= 6)
			buf[k++] = b64[x & 63];
	}
	buf[k] = '\0';
}

static void localpart(const char *user, char *buf, size_t len)
{
	const char *colon = user ? strchr(user, ':') : NULL;
	size_t n = colon ? (size_t)(colon - user - 1) : 0;

	if (n >= len)
		n = len - 1;
	memcpy(buf, user && n ? user + 1 : "", n);
	buf[n] = '\0';
}

static void content(struct jw *j, const struct room *r, const struct event *ev)
{
	char name[128];

	jw_key(j, "content");
	jw_obj_open(j);
	if (strcmp(ev->type, "m.room.create") == 0) {
		jw_kstr(j, "room_version", r->version);
		jw_kstr(j, "creator", r->creator);
		if (r->room_type)
			jw_kstr(j, "type", r->room_type);
	} else if (strcmp(ev->type, "m.room.member") == 0) {
		jw_kstr(j, "membership", ev->membership ? ev->membership : "join");
		localpart(ev->state_key, name, sizeof(name));
		jw_kstr(j, "displayname", name);
	} else if (strcmp(ev->type, "m.room.power_levels") == 0) {
		jw_key(j, "users");
		jw_obj_open(j);
		jw_kint(j, r->creator, 100);
		jw_obj_close(j);
		jw_kint(j, "users_default", 0);
	} else if (strcmp(ev->type, "m.room.join_rules") == 0) {
		jw_kstr(j, "join_rule", r->join_rules ? r->join_rules : "invite");
	} else if (strcmp(ev->type, "m.room.message") == 0) {
		snprintf(name, sizeof(name), "message %u", ev->idx - FIRST_MESSAGE + 1);
		jw_kstr(j, "msgtype", "m.text");
		jw_kstr(j, "body", name);
	} else if (strcmp(ev->type, "m.room.encrypted") == 0) {
		jw_kstr(j, "algorithm", "m.megolm.v1.aes-sha2");
		jw_kstr(j, "ciphertext", "AwgAEnAcdPzvY5ZJxRK");
	}
	jw_obj_close(j);
}

void events_write(struct jw *j, const struct world *w, const struct room *r, const struct event *ev,
		  int64_t now)
{
	char id[48];

	(void)w;
	events_id(r, ev->idx, id, sizeof(id));
	jw_obj_open(j);
	jw_kstr(j, "type", ev->type);
	jw_kstr(j, "room_id", r->room_id);
	jw_kstr(j, "sender", ev->sender);
	content(j, r, ev);
	if (ev->state_key)
		jw_kstr(j, "state_key", ev->state_key);
	jw_kint(j, "origin_server_ts", ev->ts);
	jw_key(j, "unsigned");
	jw_obj_open(j);
	jw_kint(j, "age", now - ev->ts);
	jw_obj_close(j);
	jw_kstr(j, "event_id", id);
	jw_kstr(j, "user_id", ev->sender);
	jw_kint(j, "age", now - ev->ts);
	jw_obj_close(j);
}

static void simple_state(struct jw *j, const struct room *r, uint32_t idx, const char *type,
			 const char *key, const char *value, int64_t now)
{
	char id[48];

	events_id(r, idx, id, sizeof(id));
	jw_obj_open(j);
	jw_kstr(j, "type", type);
	jw_kstr(j, "room_id", r->room_id);
	jw_kstr(j, "sender", r->creator);
	jw_key(j, "content");
	jw_obj_open(j);
	jw_kstr(j, key, value);
	jw_obj_close(j);
	jw_kstr(j, "state_key", "");
	jw_kint(j, "origin_server_ts", created_at(r));
	jw_key(j, "unsigned");
	jw_obj_open(j);
	jw_kint(j, "age", now - created_at(r));
	jw_obj_close(j);
	jw_kstr(j, "event_id", id);
	jw_kstr(j, "user_id", r->creator);
	jw_kint(j, "age", now - created_at(r));
	jw_obj_close(j);
}

static bool want(const char *filter, const char *type)
{
	return !filter || strcmp(filter, type) == 0;
}

/* The current state, client format (capture 303). filter: only that type
 * (new servers), NULL: everything (old servers ignore ?type=, capture 304). */
void state_write(struct jw *j, const struct world *w, const struct room *r, const char *filter,
		 int64_t now)
{
	const struct { const char *type, *key, *value; } extra[] = {
		{ "m.room.history_visibility", "history_visibility", r->history_visibility },
		{ "m.room.guest_access", "guest_access", r->guest_access },
		{ "m.room.name", "name", r->name },
		{ "m.room.canonical_alias", "alias", r->canonical_alias },
		{ "m.room.topic", "topic", r->topic },
		{ "m.room.encryption", "algorithm", r->encryption },
	};
	struct event ev;

	for (uint32_t idx = 0; idx < FIRST_MESSAGE; idx++) {
		events_get(w, r, idx, &ev);
		if (idx != 1 && want(filter, ev.type))
			events_write(j, w, r, &ev, now);
	}
	for (size_t k = 0; k < FAKE_ARRAY_SIZE(extra); k++)
		if (extra[k].value && want(filter, extra[k].type))
			simple_state(j, r, STATE_ONLY_BASE + (uint32_t)k, extra[k].type, extra[k].key,
				     extra[k].value, now);
	if (!want(filter, "m.room.member"))
		return;
	for (uint32_t i = 0; i < r->n_members; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.type = "m.room.member";
		ev.sender = ev.state_key = r->members[i];
		ev.membership = "join";
		ev.ts = created_at(r);
		ev.idx = STATE_ONLY_BASE + 64 + i;
		events_write(j, w, r, &ev, now);
	}
}

static void alias_state(struct jw *j, const struct room *r, int64_t now)
{
	char id[48];

	events_id(r, STATE_ONLY_BASE + 32, id, sizeof(id));
	jw_obj_open(j);
	jw_kstr(j, "type", "m.room.canonical_alias");
	jw_kstr(j, "room_id", r->room_id);
	jw_kstr(j, "sender", r->creator);
	jw_key(j, "content");
	jw_obj_open(j);
	jw_kstr(j, "alias", r->canonical_alias);
	jw_obj_close(j);
	jw_kstr(j, "state_key", "");
	jw_kint(j, "origin_server_ts", created_at(r));
	jw_kstr(j, "event_id", id);
	jw_kint(j, "age", now - created_at(r));
	jw_obj_close(j);
}

/* /context/<event_id>?limit=0 (captures 230, 231, 323, 324): the event and
 * the room state at it. Once every local member has left, this state still
 * holds the name and the aliases the room list no longer shows. */
void h_context(struct fake *fk, struct room *r, const char *event_id, const struct fault_hit *hit,
	       struct reply *rp)
{
	const struct world *w = &fk->world;
	uint32_t n = r ? events_count(w, r) : 0, idx;
	int64_t now = fs_now_ms();
	struct jw j = { 0 };
	struct event ev;
	char id[48];

	for (idx = 0; idx < n; idx++) {
		events_id(r, idx, id, sizeof(id));
		if (strcmp(id, event_id) == 0)
			break;
	}
	if (idx == n) {
		reply_error(rp, 404, "M_NOT_FOUND", "Event not found.");
		return;
	}
	jw_obj_open(&j);
	jw_key(&j, "events_before");
	jw_arr_open(&j);
	jw_arr_close(&j);
	jw_key(&j, "event");
	events_get(w, r, idx, &ev);
	events_write(&j, w, r, &ev, now);
	jw_key(&j, "events_after");
	jw_arr_open(&j);
	jw_arr_close(&j);
	jw_key(&j, "state");
	if (hit->kind == FK_WRONG_TYPE) {
		jw_str(&j, "[]");
	} else {
		jw_arr_open(&j);
		events_get(w, r, 0, &ev); /* m.room.create */
		events_write(&j, w, r, &ev, now);
		if (r->name)
			simple_state(&j, r, STATE_ONLY_BASE + 31, "m.room.name", "name", r->name, now);
		/* Only the canonical alias is room state; the directory's aliases
		 * ("aliases") are not. */
		if (r->canonical_alias)
			alias_state(&j, r, now);
		jw_arr_close(&j);
	}
	jw_kstr(&j, "start", "t1-context_start");
	jw_kstr(&j, "end", "t1-context_end");
	jw_obj_close(&j);
	reply_jw(rp, 200, &j);
}
