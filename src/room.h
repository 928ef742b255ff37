/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_ROOM_H
#define SJ_ROOM_H

#include <stdbool.h>
#include <stdint.h>

/* What we know about one room: the list-row facts (cheap) and the costly ones
 * fetched on demand. Unknown is always representable: doubt keeps the room. */

#include "tri.h"

enum fact_state {
	FACT_UNFETCHED = 0, /* not asked for yet */
	FACT_KNOWN,
	FACT_UNKNOWN,       /* asked for, but failed, unparsable or implausible */
};

struct fact_time {
	enum fact_state state;
	int64_t ms;             /* milliseconds since the epoch when KNOWN */
	char *problem;          /* why, when UNKNOWN (malloc'd, may be NULL) */
};

void fact_time_known(struct fact_time *t, int64_t ms);
void fact_time_unknown(struct fact_time *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* dst becomes a copy of src, with its own problem text. */
void fact_time_copy(struct fact_time *dst, const struct fact_time *src);
/* Frees the problem text; back to FACT_UNFETCHED. */
void fact_time_clear(struct fact_time *t);

struct room_facts {
	char *room_id;
	char *name;             /* NULL: null in the list */
	char *canonical_alias;  /* NULL: null */
	char *creator;          /* NULL: null */
	char *room_type;        /* NULL: null or absent (old servers) */
	char *encryption;       /* NULL: not encrypted */
	int64_t joined_members;       /* -1: unknown */
	int64_t joined_local_members; /* -1: unknown */
	enum tri is_public;     /* in the public room directory */
	/* The first list-row field that was missing or of the wrong type, or
	 * NULL. Such a room is kept_unknown (DESIGN.md §6.2). */
	char *row_problem;
	struct fact_time last_activity;
	struct fact_time created;
};

/* Free and reset to "nothing known" (also the way to initialise one). */
void room_facts_clear(struct room_facts *f);

#endif
