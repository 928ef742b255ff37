/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A reproducible population of rooms: the same seed gives the same world
 * (times are relative to the server start). The mix follows what a real
 * homeserver holds: mostly active rooms, some abandoned ones, DMs, public
 * rooms with aliases, spaces, rooms without events, clocks in the future,
 * hostile names and room-v12 ids. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fake.h"

struct gen {
	struct world *w;
	uint64_t rng;
	size_t i;
};

static uint64_t rnd(struct gen *g, uint64_t n)
{
	return n ? fs_rng_next(&g->rng) % n : 0;
}

static double rnd_days(struct gen *g, double lo, double hi)
{
	return lo + (hi - lo) * (double)(fs_rng_next(&g->rng) >> 11) / 9007199254740992.0;
}

static const char *const words[] = {
	"Project", "Team", "Ops", "Support", "Lounge", "Books", "Garden", "Chess", "Rust", "Linux",
	"Design", "Release", "Incident", "Music", "Hiking", "Recipes", "Random", "Welcome", "Dev",
	"Infra", "Security", "Sales", "Family", "Coffee", "Photos", "Travel", "Games", "News",
};

static const char *const odd_names[] = {
	"Budget, Q3, \"final\"", "=cmd|' /C calc'!A0", "+1 (555) 0100", "-rf /", "@everyone party",
	"line one\nline two", "Caf\xc3\xa9 \xc3\xa9t\xc3\xa9 \xf0\x9f\x8e\x89", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe9\x83\xa8\xe5\xb1\x8b",
	"tab\there", "back\\slash", "  spaced  ", "\xd0\x9a\xd0\xbe\xd0\xbc\xd0\xbd\xd0\xb0\xd1\x82\xd0\xb0",
};

static char *room_id(struct gen *g)
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	char id[64];
	bool v12 = rnd(g, 100) < 5;
	size_t n = v12 ? 43 : 18, k = 0;

	id[k++] = '!';
	for (size_t j = 0; j < n; j++)
		id[k++] = v12 && j % 7 == 6 ? "0123456789-_"[rnd(g, 12)] : letters[rnd(g, 52)];
	id[k] = '\0';
	/* room version 12 ids have no ":server" part */
	if (v12)
		return arena_strdup(&g->w->arena, id);
	snprintf(id + k, sizeof(id) - k, ":%s", g->w->server_name);
	return arena_strdup(&g->w->arena, id);
}

static char *long_name(struct gen *g)
{
	char *s = arena_alloc(&g->w->arena, 601);

	for (size_t j = 0; j < 600; j++)
		s[j] = "abcdefghij "[(j + g->i) % 11];
	return s;
}

static const char *gen_name(struct gen *g)
{
	char buf[128];
	uint64_t r = rnd(g, 100);

	if (r < 4)
		return odd_names[rnd(g, FAKE_ARRAY_SIZE(odd_names))];
	if (r < 5)
		return long_name(g);
	snprintf(buf, sizeof(buf), "%s %s %zu", words[rnd(g, FAKE_ARRAY_SIZE(words))],
		 words[rnd(g, FAKE_ARRAY_SIZE(words))], g->i);
	return arena_strdup(&g->w->arena, buf);
}

static void members(struct gen *g, struct room *r, uint32_t local, uint32_t remote)
{
	char buf[96];
	uint32_t n = 0;

	r->members = arena_alloc(&g->w->arena, (local + remote + 1) * sizeof(char *));
	for (uint32_t j = 0; j < local; j++) {
		snprintf(buf, sizeof(buf), "@user%llu:%s", (unsigned long long)((g->i * 7 + j) % 50000),
			 g->w->server_name);
		r->members[n++] = arena_strdup(&g->w->arena, buf);
	}
	for (uint32_t j = 0; j < remote; j++) {
		snprintf(buf, sizeof(buf), "@guest%llu:remote%llu.org",
			 (unsigned long long)((g->i * 3 + j) % 20000), (unsigned long long)(j % 5));
		r->members[n++] = arena_strdup(&g->w->arena, buf);
	}
	r->n_members = n;
	r->creator = local ? r->members[0] : arena_strdup(&g->w->arena, "@user0:remote0.org");
	if (!local && remote) {
		snprintf(buf, sizeof(buf), "@user%llu:%s", (unsigned long long)(g->i % 50000),
			 g->w->server_name);
		r->creator = arena_strdup(&g->w->arena, buf);
	}
}

static void times(struct gen *g, struct room *r, double last_lo, double last_hi)
{
	double last = rnd_days(g, last_lo, last_hi);
	double created = last + rnd_days(g, 0, 600);

	if (created < 0)
		created = 1;
	r->created_ts = g->w->start_ms - (int64_t)(created * (double)DAY_MS);
	r->last_event_ts = g->w->start_ms - (int64_t)(last * (double)DAY_MS);
	r->has_events = true;
	r->gen_messages = 1 + (uint32_t)rnd(g, 30);
	/* the last message is often older than the last event (a join, a leave) */
	r->last_message_ts = rnd(g, 3) ? r->last_event_ts
				       : r->last_event_ts - (int64_t)(rnd_days(g, 0, 60) * (double)DAY_MS);
	if (r->last_message_ts < r->created_ts)
		r->last_message_ts = r->created_ts;
}

static void alias(struct gen *g, struct room *r)
{
	char buf[96];

	snprintf(buf, sizeof(buf), "#room-%zu:%s", g->i, g->w->server_name);
	r->canonical_alias = arena_strdup(&g->w->arena, buf);
	r->aliases = arena_alloc(&g->w->arena, 2 * sizeof(char *));
	r->aliases[0] = r->canonical_alias;
	r->n_aliases = 1;
}

static void gen_room(struct gen *g, struct room *r)
{
	uint64_t kind = rnd(g, 100);

	r->name = gen_name(g);
	if (kind < 70) { /* active rooms */
		uint64_t sub = rnd(g, 20);

		members(g, r, 1 + (uint32_t)rnd(g, 8), (uint32_t)rnd(g, 4));
		times(g, r, 0, 30);
		if (sub < 3) { /* a DM */
			r->name = NULL;
			members(g, r, 1 + (uint32_t)rnd(g, 2), 0);
			if (r->n_members == 1)
				members(g, r, 1, 1);
		} else if (sub < 5) {
			r->is_public = true;
			r->join_rules = "public";
			alias(g, r);
		} else if (sub < 6) {
			r->room_type = "m.space";
		}
		if (rnd(g, 3) == 0)
			r->encryption = "m.megolm.v1.aes-sha2";
	} else if (kind < 80) { /* no local member left, mostly old */
		members(g, r, 0, (uint32_t)rnd(g, 3));
		if (rnd(g, 5))
			times(g, r, 60, 1000);
		else
			times(g, r, 0, 60);
	} else if (kind < 86) { /* one member, old */
		members(g, r, 1, 0);
		times(g, r, 100, 900);
	} else if (kind < 90) { /* old DMs */
		r->name = NULL;
		members(g, r, 1, 1);
		times(g, r, 90, 800);
	} else if (kind < 93) { /* public rooms with aliases */
		members(g, r, (uint32_t)rnd(g, 3), 1 + (uint32_t)rnd(g, 3));
		r->is_public = true;
		r->join_rules = "public";
		alias(g, r);
		times(g, r, 0, 400);
	} else if (kind < 95) { /* spaces */
		members(g, r, (uint32_t)rnd(g, 2), (uint32_t)rnd(g, 2));
		r->room_type = "m.space";
		times(g, r, 0, 500);
	} else if (kind < 98) { /* rooms without events */
		members(g, r, 0, (uint32_t)rnd(g, 2));
		r->created_ts = g->w->start_ms - (int64_t)(rnd_days(g, 1, 900) * (double)DAY_MS);
	} else { /* the last event claims a time in the future */
		members(g, r, (uint32_t)rnd(g, 2), 1);
		times(g, r, 0, 0);
		r->last_event_ts = g->w->start_ms + (int64_t)(rnd_days(g, 0.1, 30) * (double)DAY_MS);
	}
	r->version = rnd(g, 10) < 7 ? "10" : rnd(g, 2) ? "9" : "6";
	if (!r->is_public && rnd(g, 4) == 0)
		r->guest_access = "can_join";
}

void world_generate(struct world *w, size_t n, uint64_t seed)
{
	struct gen g = { .w = w, .rng = seed };

	for (g.i = 0; g.i < n; g.i++) {
		char *id = room_id(&g);
		struct room *r;

		if (world_find(w, id)) { /* astronomically rare; keep ids unique */
			g.i--;
			continue;
		}
		r = world_new_room(w, id);
		gen_room(&g, r);
		world_bulk_add(w, r);
	}
	world_index_all(w);
}
