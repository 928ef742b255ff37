/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "idmap.h"
#include "room.h"
#include "xmalloc.h"

static size_t slot_of(const struct idmap *m, const char *id)
{
	size_t mask = m->n_slots - 1, i = (size_t)room_id_hash(id) & mask;

	while (m->slots[i] && strcmp(m->entries[m->slots[i] - 1].id, id) != 0)
		i = (i + 1) & mask;
	return i;
}

static void reindex(struct idmap *m, size_t n_slots)
{
	free(m->slots);
	m->n_slots = n_slots;
	m->slots = xcalloc(n_slots, sizeof(*m->slots));
	for (size_t e = 0; e < m->n; e++)
		m->slots[slot_of(m, m->entries[e].id)] = (uint32_t)(e + 1);
}

struct idmap_entry *idmap_get(const struct idmap *m, const char *id)
{
	size_t i;

	if (!m->n_slots)
		return NULL;
	i = slot_of(m, id);
	return m->slots[i] ? &m->entries[m->slots[i] - 1] : NULL;
}

struct idmap_entry *idmap_put(struct idmap *m, const char *id, int64_t ms, bool *added)
{
	struct idmap_entry *e = idmap_get(m, id);

	*added = !e;
	if (e)
		return e;
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->entries = xreallocarray(m->entries, m->cap, sizeof(*m->entries));
	}
	m->entries[m->n++] = (struct idmap_entry){ .id = xstrdup(id), .ms = ms };
	if (2 * m->n > m->n_slots)
		reindex(m, m->n_slots ? 2 * m->n_slots : 128);
	else
		m->slots[slot_of(m, id)] = (uint32_t)m->n;
	return &m->entries[m->n - 1];
}

/* Compacts the entries to those kept, then indexes them anew. */
static void compact(struct idmap *m, bool (*keep)(struct idmap_entry *e, const void *ud), const void *ud)
{
	size_t kept = 0;

	for (size_t i = 0; i < m->n; i++) {
		if (keep(&m->entries[i], ud))
			m->entries[kept++] = m->entries[i];
		else
			free(m->entries[i].id);
	}
	m->n = kept;
	if (m->n_slots)
		reindex(m, m->n_slots);
}

static bool not_this(struct idmap_entry *e, const void *id)
{
	return strcmp(e->id, id) != 0;
}

void idmap_remove(struct idmap *m, const char *id)
{
	if (idmap_get(m, id))
		compact(m, not_this, id);
}

static bool marked(struct idmap_entry *e, const void *ud)
{
	bool was = e->marked;

	(void)ud;
	e->marked = false;
	return was;
}

void idmap_keep_marked(struct idmap *m)
{
	compact(m, marked, NULL);
}

static int by_id(const void *a, const void *b)
{
	return strcmp((*(const struct idmap_entry *const *)a)->id, (*(const struct idmap_entry *const *)b)->id);
}

const struct idmap_entry **idmap_sorted(const struct idmap *m)
{
	const struct idmap_entry **v = xcalloc(m->n + 1, sizeof(*v));

	for (size_t i = 0; i < m->n; i++)
		v[i] = &m->entries[i];
	qsort(v, m->n, sizeof(*v), by_id);
	return v;
}

void idmap_free(struct idmap *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->entries[i].id);
	free(m->entries);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
