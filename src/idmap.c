/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "idmap.h"
#include "log.h"
#include "room.h"
#include "xmalloc.h"

const char *idmap_id(const struct idmap *m, const struct idmap_entry *e)
{
	return m->text + e->id;
}

static size_t slot_of(const struct idmap *m, const char *id)
{
	size_t mask = m->n_slots - 1, i = (size_t)room_id_hash(id) & mask;

	while (m->slots[i] && strcmp(idmap_id(m, &m->entries[m->slots[i] - 1]), id) != 0)
		i = (i + 1) & mask;
	return i;
}

static void reindex(struct idmap *m, size_t n_slots)
{
	free(m->slots);
	m->n_slots = n_slots;
	m->slots = xcalloc(n_slots, sizeof(*m->slots));
	for (size_t e = 0; e < m->n; e++)
		m->slots[slot_of(m, idmap_id(m, &m->entries[e]))] = (uint32_t)(e + 1);
}

/* Appends id to the text; returns where it starts. */
static uint32_t text_add(struct idmap *m, const char *id)
{
	size_t len = strlen(id) + 1;

	if (m->text_len + len > UINT32_MAX)
		fatal("out of memory (more than 4 GiB of delete candidates' room ids)");
	if (m->text_len + len > m->text_cap) {
		m->text_cap = m->text_cap ? 2 * m->text_cap : 4096;
		while (m->text_len + len > m->text_cap)
			m->text_cap *= 2;
		m->text = xreallocarray(m->text, m->text_cap, 1);
	}
	memcpy(m->text + m->text_len, id, len);
	m->text_len += len;
	return (uint32_t)(m->text_len - len);
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
	m->entries[m->n++] = (struct idmap_entry){ .id = text_add(m, id), .ms = ms };
	if (2 * m->n > m->n_slots)
		reindex(m, m->n_slots ? 2 * m->n_slots : 128);
	else
		m->slots[slot_of(m, id)] = (uint32_t)m->n;
	return &m->entries[m->n - 1];
}

/* Compacts the entries and their text to those kept, then indexes them
 * anew. */
static void compact(struct idmap *m, bool (*keep)(struct idmap_entry *e, const void *ud), const void *ud)
{
	struct idmap kept = { .entries = m->entries, .cap = m->cap };

	for (size_t i = 0; i < m->n; i++) {
		struct idmap_entry e = m->entries[i];

		if (!keep(&e, ud))
			continue;
		e.id = text_add(&kept, idmap_id(m, &m->entries[i]));
		kept.entries[kept.n++] = e;
	}
	free(m->text);
	m->text = kept.text;
	m->text_len = kept.text_len;
	m->text_cap = kept.text_cap;
	m->n = kept.n;
	if (m->n_slots)
		reindex(m, m->n_slots);
}

static bool not_this(struct idmap_entry *e, const void *ud)
{
	const struct idmap_entry *gone = ud;

	return e->id != gone->id;
}

void idmap_remove(struct idmap *m, const char *id)
{
	const struct idmap_entry *e = idmap_get(m, id);

	if (e) {
		struct idmap_entry gone = *e;

		compact(m, not_this, &gone);
	}
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

static int by_id(const void *a, const void *b, void *ud)
{
	const struct idmap *m = ud;

	return strcmp(idmap_id(m, *(const struct idmap_entry *const *)a),
		      idmap_id(m, *(const struct idmap_entry *const *)b));
}

const struct idmap_entry **idmap_sorted(const struct idmap *m)
{
	const struct idmap_entry **v = xcalloc(m->n + 1, sizeof(*v));

	for (size_t i = 0; i < m->n; i++)
		v[i] = &m->entries[i];
	qsort_r(v, m->n, sizeof(*v), by_id, (void *)m);
	return v;
}

void idmap_free(struct idmap *m)
{
	free(m->entries);
	free(m->slots);
	free(m->text);
	memset(m, 0, sizeof(*m));
}
