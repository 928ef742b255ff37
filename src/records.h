/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_RECORDS_H
#define SJ_RECORDS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "policy.h"
#include "room.h"

/* The candidates CSV (rewritten atomically per run) and the decisions JSONL
 * (appended), DESIGN.md §7. */

#define RECORDS_CSV_HEADER \
	"run_id,time,room_id,name,canonical_alias,joined_members,joined_local_members," \
	"public,encrypted,last_activity,inactive_days,created,rule,action,outcome,reason,delete_id"

struct decision {
	const char *run_id;
	int64_t time_ms;
	const struct room_facts *room;
	const struct rule *rule;   /* NULL when no rule applies */
	enum outcome outcome;
	const char *reason;
	const char *delete_id;     /* NULL unless a delete was started */
	int64_t inactive_days;     /* -1 unknown */
	bool dry_run;
};

struct records;

/* Paths may hold strftime patterns, expanded with the run's start time. */
int records_open(const struct policy *p, int64_t run_start_ms, struct records **out);
int records_add(struct records *r, const struct decision *d);
/* Finish: rename the CSV into place (commit) or drop it. Returns 0 or -errno. */
int records_close(struct records *r, bool commit);
const char *records_csv_path(const struct records *r); /* NULL: no CSV */

/* Write one CSV cell: RFC 4180 quoting and the formula guard (a leading
 * = + - @ TAB CR gets a ' prefix, DESIGN.md §6.8). */
struct buf;
void records_csv_cell(struct buf *b, const char *s);

#endif
