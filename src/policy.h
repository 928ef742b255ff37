/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_POLICY_H
#define SJ_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tri.h"

/* The retention policy (DESIGN.md §5), typed and validated. Immutable once
 * loaded: a reload builds a new one and swaps. Durations are in seconds. */

enum rule_action { RULE_ACTION_RECORD, RULE_ACTION_DELETE };
enum activity_kind { ACTIVITY_EVENTS, ACTIVITY_MESSAGES };

struct string_list {
	char **items;
	size_t n;
};

struct count_range {
	bool set;         /* the condition is present */
	int64_t min;      /* 0 when not given */
	int64_t max;      /* INT64_MAX when not given */
};

struct rule {
	char *name;
	enum rule_action action;
	struct count_range joined_members;
	struct count_range joined_local_members;
	bool has_inactive_for;
	uint64_t inactive_for;
	bool has_older_than;
	uint64_t older_than;
	enum tri is_public;         /* TRI_UNKNOWN: no condition */
	enum tri is_encrypted;
	char *name_glob;            /* NULL = no condition */
	char *alias_glob;
	char *creator_glob;
	/* Conditions on more facts of the list row. */
	unsigned join_rules;        /* JOIN_RULE_BIT()s; 0 = no condition */
	bool has_room_type;
	char *room_type_glob;       /* with has_room_type: NULL means null (an ordinary room) */
	struct count_range state_events;
	char *version_glob;         /* room_version; NULL = no condition */
	enum tri is_federatable;
	unsigned line;              /* 1-based line of the rule in the file */
};

/* The values of join_rule (a room's m.room.join_rules). */
enum join_rule {
	JOIN_RULE_PUBLIC,
	JOIN_RULE_INVITE,
	JOIN_RULE_KNOCK,
	JOIN_RULE_RESTRICTED,
	JOIN_RULE_KNOCK_RESTRICTED,
	JOIN_RULE_PRIVATE,
	JOIN_RULE__MAX,
};
#define JOIN_RULE_BIT(r) (1u << (r))
const char *policy_join_rule_name(enum join_rule r);
/* The JOIN_RULE_BIT of a join rule's name; 0 for NULL or any other text. */
unsigned policy_join_rule_bit(const char *name);

struct policy {
	char *path;

	struct {
		char *url;              /* without a trailing slash */
		char *token_credential; /* NULL when not set */
		char *token_file;       /* NULL when not set */
		uint64_t timeout;       /* default 30 */
		unsigned concurrency;   /* 1..32, default 4 */
		unsigned rate_limit;    /* requests/second, 0 = unlimited */
		unsigned page_size;     /* 1..1000, default 500 */
		bool tls_verify;        /* default true */
		char *ca_file;          /* NULL when not set */
	} homeserver;

	struct {
		bool present;           /* a schedule: section was given */
		unsigned *at;           /* minutes after local midnight, sorted, unique */
		size_t n_at;
		uint64_t every;         /* 0 when at is used */
		uint64_t randomized_delay;
		bool run_at_start;
	} schedule;

	bool dry_run;               /* default true */

	struct {
		struct string_list rooms;
		struct string_list aliases;  /* exact ones are resolved each run */
		struct string_list names;
		struct string_list creators;
		bool is_public;         /* default true */
		bool spaces;            /* default true */
	} protect;

	struct rule *rules;
	size_t n_rules;

	enum activity_kind activity; /* default events */

	struct {
		bool purge;             /* default true */
		bool block;             /* default false */
		bool force_purge;       /* default false */
		unsigned max_per_run;   /* default 100 */
		double max_fraction;    /* 0..1, default 0.10 */
		uint64_t grace_period;  /* default 0 */
		unsigned concurrency;   /* 1..5, default 1 */
		uint64_t timeout;       /* default 3600 */
		/* The size guard: a candidate with more state events
		 * is deleted only by --apply. No default. */
		bool has_max_state_events;
		unsigned max_state_events;
	} delete;

	struct {
		char *csv;              /* default STATEDIR "/candidates.csv" */
		char *jsonl;            /* default STATEDIR "/decisions.jsonl" */
		bool all_rooms;         /* default false */
	} records;

	char *state_file;           /* default STATEDIR "/state.json" */
	char *metrics_file;         /* NULL when not set */
};

/* Errors found while loading, one line each, already formatted as
 * "FILE:LINE:COLUMN: KEY.PATH: what is wrong, what was expected". */
struct policy_errors {
	char **lines;
	size_t n;
};
#define POLICY_MAX_ERRORS 50

/* Load and validate. On success returns 0 and *out; on failure a negative
 * errno (-EINVAL for an invalid policy, -ENOENT/-EACCES... for the file)
 * with every problem found appended to errs (which the caller frees). */
int policy_load(const char *path, struct policy **out, struct policy_errors *errs);
int policy_load_buffer(const char *name, const char *data, size_t len,
		       struct policy **out, struct policy_errors *errs);
void policy_free(struct policy *p);
void policy_errors_free(struct policy_errors *errs);

/* The one-screen summary of --check-config. */
void policy_print_summary(const struct policy *p, FILE *f);

/* True when an alias entry is exact (no glob characters) and so is resolved
 * to a room id at the start of each run. */
bool policy_alias_is_exact(const char *alias);

/* The policy's rule by name, or NULL. */
const struct rule *policy_find_rule(const struct policy *p, const char *name);

#endif
