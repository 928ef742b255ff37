/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_IDMAP_H
#define SJ_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room id -> a time, with a mark: the first sightings of the delete
 * candidates (the grace period). Lookups and inserts in O(1), so a run
 * that meets a hundred thousand candidates spends no time here. The ids
 * are kept one after another in one block of text, not one allocation
 * each: about 16 bytes an entry beside its id, and 8 to 16 of index. */

struct idmap_entry {
	uint32_t id;                   /* where the room id starts in the map's text */
	bool marked;
	int64_t ms;
};

struct idmap {
	struct idmap_entry *entries;   /* in no order */
	size_t n, cap;
	uint32_t *slots;               /* open addressing: entry index + 1, 0 empty */
	size_t n_slots;                /* a power of two, at least twice n */
	char *text;                    /* the ids, each ending with a NUL */
	size_t text_len, text_cap;
};

/* The room id of an entry of m. */
const char *idmap_id(const struct idmap *m, const struct idmap_entry *e);
/* The entry of id, or NULL. */
struct idmap_entry *idmap_get(const struct idmap *m, const char *id);
/* The entry of id, added with ms when it is new (*added says which). An
 * entry pointer holds until the next put or removal. */
struct idmap_entry *idmap_put(struct idmap *m, const char *id, int64_t ms, bool *added);
void idmap_remove(struct idmap *m, const char *id);
/* Removes the unmarked entries and unmarks the rest. */
void idmap_keep_marked(struct idmap *m);
/* The entries sorted by id (the caller frees the array, not the entries). */
const struct idmap_entry **idmap_sorted(const struct idmap *m);
void idmap_free(struct idmap *m);

#endif
