/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_IDMAP_H
#define SJ_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room id -> a time, with a mark: the first sightings of the delete
 * candidates (the grace period). Lookups and inserts in O(1), so a run
 * that meets a hundred thousand candidates spends no time here. */

struct idmap_entry {
	char *id;
	int64_t ms;
	bool marked;
};

struct idmap {
	struct idmap_entry *entries;   /* in no order */
	size_t n, cap;
	uint32_t *slots;               /* open addressing: entry index + 1, 0 empty */
	size_t n_slots;                /* a power of two, at least twice n */
};

/* The entry of id, or NULL. */
struct idmap_entry *idmap_get(const struct idmap *m, const char *id);
/* The entry of id, added with ms when it is new (*added says which). */
struct idmap_entry *idmap_put(struct idmap *m, const char *id, int64_t ms, bool *added);
void idmap_remove(struct idmap *m, const char *id);
/* Removes the unmarked entries and unmarks the rest. */
void idmap_keep_marked(struct idmap *m);
/* The entries sorted by id (the caller frees the array, not the entries). */
const struct idmap_entry **idmap_sorted(const struct idmap *m);
void idmap_free(struct idmap *m);

#endif
