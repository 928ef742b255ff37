/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_ROOM_H
#define SJ_ROOM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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
	bool no_events;         /* UNKNOWN because the server said the room has no events */
};

void fact_time_known(struct fact_time *t, int64_t ms);
void fact_time_unknown(struct fact_time *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Unknown, because the homeserver answered that the room has no events. */
void fact_time_no_events(struct fact_time *t);
/* dst becomes a copy of src, with its own problem text. */
void fact_time_copy(struct fact_time *dst, const struct fact_time *src);
/* Frees the problem text; back to FACT_UNFETCHED. */
void fact_time_clear(struct fact_time *t);

/* The room state before the last local member left (API.md): read from
 * /context of the newest forward extremity. Once no local member is left
 * the list shows name and canonical_alias as null; this is where they
 * still are. */
struct prior_state {
	enum fact_state state;
	char *name;             /* m.room.name, NULL when none */
	char **aliases;         /* m.room.canonical_alias: alias, then alt_aliases */
	size_t n_aliases;
	char *problem;          /* why, when UNKNOWN (malloc'd) */
};

void prior_state_clear(struct prior_state *p);

struct room_facts {
	char *room_id;
	char *name;             /* NULL: null in the list */
	char *canonical_alias;  /* NULL: null */
	char *creator;          /* NULL: null */
	char *room_type;        /* NULL: null or absent (old servers) */
	bool room_type_known;   /* the row said room_type (a string or null) */
	char *encryption;       /* NULL: not encrypted */
	int64_t joined_members;       /* -1: unknown */
	int64_t joined_local_members; /* -1: unknown */
	enum tri is_public;     /* in the public room directory */
	/* Facts of the row that only match conditions use: absent,
	 * null or of the wrong type is unknown (NULL, -1, TRI_UNKNOWN), which
	 * never satisfies a condition. join_rules is null once every local
	 * member left (captures 204, 210). */
	char *join_rule;        /* "join_rules": public, invite, knock, ... */
	char *room_version;     /* "version" */
	int64_t state_events;   /* the size hint; -1: unknown */
	enum tri is_federatable;
	/* The first list-row field that was missing or of the wrong type, or
	 * NULL. Such a room is kept_unknown (DESIGN.md §6.2). */
	char *row_problem;
	struct fact_time last_activity;
	struct fact_time created;
	char *last_event_id;    /* the newest forward extremity, once fetched */
	struct prior_state prior;
};

/* Free and reset to "nothing known" (also the way to initialise one). */
void room_facts_clear(struct room_facts *f);

/* Every fact a report renders, to a file and back (the candidates a run
 * does not hold in memory, pool.c): a field added to room_facts that a
 * report shows is added here too. 0 or -EIO. */
int room_facts_write(FILE *f, const struct room_facts *r);
int room_facts_read(FILE *f, struct room_facts *r);

/* The one room id syntax of the program (API.md): '!', at most 255 bytes in
 * all, no space or control character. Room version 12 ids have no
 * ":server" part, so none is required. Policy, scan, verify and --apply
 * all ask this. */
#define ROOM_ID_MAX 255
bool room_id_valid(const char *s);
/* 64-bit FNV-1a of the room id: the key of the scan's de-duplication set
 * and of the state file's memories. */
uint64_t room_id_hash(const char *s);

#endif
