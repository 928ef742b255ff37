/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The world: rooms by id (a hash) and in list order (a sorted index kept up
 * to date incrementally, so a 100k-room world pages in O(limit)). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"

static struct room tombstone_room;
#define TOMBSTONE (&tombstone_room)

void world_init(struct world *w, const char *server_name)
{
	memset(w, 0, sizeof(*w));
	w->server_name = fs_xstrdup(server_name);
	w->start_ms = fs_now_ms();
	w->n_slots = 1024;
	w->slots = fs_xcalloc(w->n_slots, sizeof(*w->slots));
	w->generation = 1;
}

void world_free(struct world *w)
{
	free(w->server_name);
	free(w->rooms);
	free(w->slots);
	free(w->by_name);
	for (int k = 0; k < ORDER_COUNT; k++)
		free(w->sorted[k]);
	arena_free(&w->arena);
	memset(w, 0, sizeof(*w));
}

bool room_is_local_user(const struct world *w, const char *user)
{
	const char *colon = user ? strchr(user, ':') : NULL;

	return colon && strcmp(colon + 1, w->server_name) == 0;
}

uint32_t room_real_local(const struct world *w, const struct room *r)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < r->n_members; i++)
		n += room_is_local_user(w, r->members[i]);
	return n;
}

uint32_t room_joined(const struct world *w, const struct room *r)
{
	(void)w;
	return r->stats_joined >= 0 ? (uint32_t)r->stats_joined : r->n_members;
}

uint32_t room_joined_local(const struct world *w, const struct room *r)
{
	return r->stats_local >= 0 ? (uint32_t)r->stats_local : room_real_local(w, r);
}

/* Synapse clears a room's stats state when its last local member leaves
 * (captures 204, 210, 305): name, alias, rules and /state turn null/[]. */
bool room_state_hidden(const struct world *w, const struct room *r)
{
	return room_real_local(w, r) == 0;
}

uint32_t room_state_events(const struct room *r)
{
	return 5 + r->n_members + (r->name != NULL) + (r->canonical_alias != NULL) +
	       (r->topic != NULL) + (r->encryption != NULL) + (r->guest_access != NULL);
}

const char *room_visible_name(const struct world *w, const struct room *r)
{
	return room_state_hidden(w, r) ? NULL : r->name;
}

/* ---- hash by room_id ---- */

static size_t slot_of(const struct world *w, const char *id)
{
	return (size_t)(fs_hash64(id) & (w->n_slots - 1));
}

static void hash_put(struct world *w, struct room *r)
{
	size_t i = slot_of(w, r->room_id);

	while (w->slots[i] && w->slots[i] != TOMBSTONE)
		i = (i + 1) & (w->n_slots - 1);
	w->slots[i] = r;
}

static void hash_grow(struct world *w)
{
	struct room **old = w->slots;
	size_t n_old = w->n_slots;

	while (w->n_slots < (w->n_live + 1) * 3)
		w->n_slots *= 2;
	w->slots = fs_xcalloc(w->n_slots, sizeof(*w->slots));
	for (size_t i = 0; i < n_old; i++)
		if (old[i] && old[i] != TOMBSTONE)
			hash_put(w, old[i]);
	free(old);
}

struct room *world_find(struct world *w, const char *room_id)
{
	size_t i = slot_of(w, room_id);

	for (; w->slots[i]; i = (i + 1) & (w->n_slots - 1))
		if (w->slots[i] != TOMBSTONE && strcmp(w->slots[i]->room_id, room_id) == 0)
			return w->slots[i];
	return NULL;
}

static void hash_del(struct world *w, struct room *r)
{
	size_t i = slot_of(w, r->room_id);

	for (; w->slots[i]; i = (i + 1) & (w->n_slots - 1))
		if (w->slots[i] == r) {
			w->slots[i] = TOMBSTONE;
			return;
		}
}

/* ---- ordering ---- */

static int cmp_str_null_first(const char *a, const char *b)
{
	if (!a || !b)
		return a ? 1 : b ? -1 : 0;
	return strcmp(a, b);
}

static int cmp_name(const struct world *w, const struct room *a, const struct room *b)
{
	int c = cmp_str_null_first(room_visible_name(w, a), room_visible_name(w, b));

	return c ? c : strcmp(a->room_id, b->room_id);
}

static const struct world *sort_world; /* qsort has no context argument */

static int qcmp_name(const void *a, const void *b)
{
	return cmp_name(sort_world, *(struct room *const *)a, *(struct room *const *)b);
}

static size_t name_pos(const struct world *w, const struct room *r)
{
	size_t lo = 0, hi = w->n_live;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cmp_name(w, w->by_name[mid], r) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;

static void index_build(struct world *w)
{
	size_t n = 0;

	free(w->by_name);
	w->by_name = fs_xcalloc(w->n_live + 1, sizeof(*w->by_name));
	for (size_t i = 0; i < w->n_rooms; i++)
		if (!w->rooms[i]->gone)
			w->by_name[n++] = w->rooms[i];
	pthread_mutex_lock(&sort_lock);
	sort_world = w;
	qsort(w->by_name, n, sizeof(*w->by_name), qcmp_name);
	pthread_mutex_unlock(&sort_lock);
}

struct room *world_new_room(struct world *w, const char *room_id)
{
	struct room *r = arena_alloc(&w->arena, sizeof(*r));

	r->room_id = arena_strdup(&w->arena, room_id);
	r->stats_joined = r->stats_local = -1;
	r->version = "10";
	r->join_rules = "invite";
	r->history_visibility = "shared";
	r->federatable = true;
	r->created_ts = w->start_ms - 30 * DAY_MS;
	r->last_message_ts = -1;
	return r;
}

/* Adds to the id hash only; call world_index_all() after a bulk load, or
 * world_reindex(w, r, false) for a single room. */
static void world_add_hash(struct world *w, struct room *r)
{
	if (w->n_rooms == w->cap_rooms) {
		w->cap_rooms = w->cap_rooms ? w->cap_rooms * 2 : 1024;
		w->rooms = fs_xrealloc(w->rooms, w->cap_rooms * sizeof(*w->rooms));
	}
	w->rooms[w->n_rooms++] = r;
	if ((w->n_live + 1) * 2 > w->n_slots)
		hash_grow(w);
	hash_put(w, r);
	w->n_live++;
	w->generation++;
}

void world_add(struct world *w, struct room *r)
{
	world_add_hash(w, r);
	w->n_live--; /* world_reindex counts it into the index */
	world_reindex(w, r, false);
}

static void index_insert(struct world *w, struct room *r)
{
	size_t pos = name_pos(w, r);

	w->by_name = fs_xrealloc(w->by_name, (w->n_live + 1) * sizeof(*w->by_name));
	memmove(w->by_name + pos + 1, w->by_name + pos, (w->n_live - pos) * sizeof(*w->by_name));
	w->by_name[pos] = r;
	w->n_live++;
}

static void index_delete(struct world *w, struct room *r)
{
	size_t pos = name_pos(w, r);

	if (pos < w->n_live && w->by_name[pos] == r) {
		memmove(w->by_name + pos, w->by_name + pos + 1,
			(w->n_live - pos - 1) * sizeof(*w->by_name));
		w->n_live--;
	}
}

/* Call with before=true just before changing a room's sort keys and with
 * before=false just after. */
void world_reindex(struct world *w, struct room *r, bool before)
{
	if (before)
		index_delete(w, r);
	else
		index_insert(w, r);
	w->generation++;
}

void world_remove(struct world *w, struct room *r)
{
	if (r->gone)
		return;
	index_delete(w, r);
	hash_del(w, r);
	r->gone = true;
	w->generation++;
}

void world_index_all(struct world *w)
{
	index_build(w);
}

/* Rooms are added in bulk by the loaders through this. */
void world_bulk_add(struct world *w, struct room *r)
{
	world_add_hash(w, r);
}

static const char *const order_names[ORDER_COUNT + 1] = {
	"name", "size", "canonical_alias", "joined_members", "joined_local_members", "version",
	"creator", "encryption", "federatable", "public", "join_rules", "guest_access",
	"history_visibility", "state_events", "alphabetical"
};

int order_key_parse(const char *s)
{
	for (int k = 0; k <= ORDER_COUNT; k++)
		if (strcmp(s, order_names[k]) == 0)
			return k == ORDER_COUNT ? ORDER_NAME : k;
	return -1;
}

static enum order_key sort_key;

static int cmp_int_desc(int64_t a, int64_t b)
{
	return a < b ? 1 : a > b ? -1 : 0;
}

static const char *hidden_or(const struct world *w, const struct room *r, const char *v)
{
	return room_state_hidden(w, r) ? NULL : v;
}

/* Synapse: counts and the version sort descending, strings ascending with
 * NULL first (SQLite), then room_id; dir=b reverses the whole order. */
static int qcmp_key(const void *pa, const void *pb)
{
	const struct room *a = *(struct room *const *)pa, *b = *(struct room *const *)pb;
	const struct world *w = sort_world;
	int c = 0;

	switch (sort_key) {
	case ORDER_SIZE:
	case ORDER_JOINED_MEMBERS: c = cmp_int_desc(room_joined(w, a), room_joined(w, b)); break;
	case ORDER_JOINED_LOCAL_MEMBERS:
		c = cmp_int_desc(room_joined_local(w, a), room_joined_local(w, b));
		break;
	case ORDER_STATE_EVENTS: c = cmp_int_desc(room_state_events(a), room_state_events(b)); break;
	case ORDER_VERSION: c = -cmp_str_null_first(a->version, b->version); break;
	case ORDER_CANONICAL_ALIAS:
		c = cmp_str_null_first(hidden_or(w, a, a->canonical_alias), hidden_or(w, b, b->canonical_alias));
		break;
	case ORDER_CREATOR: c = cmp_str_null_first(a->creator, b->creator); break;
	case ORDER_ENCRYPTION: c = cmp_str_null_first(a->encryption, b->encryption); break;
	case ORDER_FEDERATABLE: c = (int)a->federatable - (int)b->federatable; break;
	case ORDER_PUBLIC: c = (int)a->is_public - (int)b->is_public; break;
	case ORDER_JOIN_RULES:
		c = cmp_str_null_first(hidden_or(w, a, a->join_rules), hidden_or(w, b, b->join_rules));
		break;
	case ORDER_GUEST_ACCESS:
		c = cmp_str_null_first(hidden_or(w, a, a->guest_access), hidden_or(w, b, b->guest_access));
		break;
	case ORDER_HISTORY_VISIBILITY:
		c = cmp_str_null_first(hidden_or(w, a, a->history_visibility),
				       hidden_or(w, b, b->history_visibility));
		break;
	default: return cmp_name(w, a, b);
	}
	return c ? c : strcmp(a->room_id, b->room_id);
}

struct room **world_order(struct world *w, enum order_key key)
{
	if (key == ORDER_NAME)
		return w->by_name;
	if (w->sorted_gen[key] != w->generation) {
		free(w->sorted[key]);
		w->sorted[key] = fs_xcalloc(w->n_live + 1, sizeof(struct room *));
		memcpy(w->sorted[key], w->by_name, w->n_live * sizeof(struct room *));
		pthread_mutex_lock(&sort_lock);
		sort_world = w;
		sort_key = key;
		qsort(w->sorted[key], w->n_live, sizeof(struct room *), qcmp_key);
		pthread_mutex_unlock(&sort_lock);
		w->sorted_gen[key] = w->generation;
	}
	return w->sorted[key];
}
