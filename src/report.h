/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_REPORT_H
#define SJ_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "policy.h"
#include "room.h"

/* How a decision leaves the program (DESIGN.md §7): one table of columns
 * that the CSV (header and rows), the JSONL, the journal fields and the
 * --apply reader's header lookup all walk, and the one table of outcomes
 * (name, journal priority, MESSAGE_ID). Adding a column is one row of the
 * table in report.c. */

enum outcome {
	OUTCOME_KEPT,
	OUTCOME_PROTECTED,
	OUTCOME_KEPT_UNKNOWN,
	OUTCOME_RECORDED,
	OUTCOME_WOULD_DELETE,
	OUTCOME_DELETED,
	OUTCOME_FAILED,
	OUTCOME_DEFERRED,
	OUTCOME_CAPPED,
	OUTCOME_REFUSED,
	OUTCOME_CHANGED,
	OUTCOME__MAX,
};

const char *report_outcome_name(enum outcome o);        /* "would_delete" */
int report_outcome_from_name(const char *s, enum outcome *out);

/* One decision about one room, as it is reported. */
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

/* The columns, in CSV order; the CSV header names them. */
enum report_column {
	REPORT_RUN_ID,
	REPORT_TIME,
	REPORT_ROOM_ID,
	REPORT_NAME,
	REPORT_CANONICAL_ALIAS,
	REPORT_JOINED_MEMBERS,
	REPORT_JOINED_LOCAL_MEMBERS,
	REPORT_PUBLIC,
	REPORT_ENCRYPTED,
	REPORT_LAST_ACTIVITY,
	REPORT_INACTIVE_DAYS,
	REPORT_CREATED,
	REPORT_RULE,
	REPORT_ACTION,
	REPORT_OUTCOME,
	REPORT_REASON,
	REPORT_DELETE_ID,
	REPORT_DRY_RUN,            /* JSONL and journal only */
	/* The facts match conditions use besides the CSV's: JSONL
	 * only, and state_events (the size guard) in the journal too. */
	REPORT_JOIN_RULE,
	REPORT_ROOM_TYPE,
	REPORT_STATE_EVENTS,
	REPORT_ROOM_VERSION,
	REPORT_FEDERATABLE,
	REPORT__MAX,
};

/* "room_id": the CSV header cell and the JSONL key. */
const char *report_column_name(enum report_column c);

/* The CSV header line (with CRLF) and one row. */
void report_csv_header(struct buf *b);
void report_csv_row(struct buf *b, const struct decision *d);
/* One CSV cell: RFC 4180 quoting and the formula guard (a leading
 * = + - @ TAB CR gets a ' prefix, DESIGN.md §6.8). */
void report_csv_cell(struct buf *b, const char *s);

/* One JSONL object with a newline: the CSV column names as keys, numbers
 * as numbers, unknown as null. */
void report_json_line(struct buf *b, const struct decision *d);

/* The human line of the console and of the journal's MESSAGE:
 * 'would_delete !abc:example.org "Old test" rule=stale inactive=412d
 * local=0 (dry-run): rule stale: ...'. Text from the server is escaped. */
void report_decision_line(struct buf *b, const struct decision *d);

/* One journal entry (console line) for the decision: its priority and
 * MESSAGE_ID by outcome, the journal fields of the columns. */
void report_log_decision(const struct decision *d);

/* Text that came from the server, made safe for a console or a journal
 * MESSAGE: control characters as \xNN, quotes and backslashes escaped,
 * cut after max bytes with "...". */
void report_append_printable(struct buf *b, const char *s, size_t max);

/* --- the run as a whole --- */

struct run_summary {
	char run_id[40];
	int64_t started_ms;
	uint64_t duration_ms;
	uint64_t scanned;
	uint64_t counts[OUTCOME__MAX];
	uint64_t candidates;         /* record + delete verdicts */
	uint64_t requests;
	bool completed;              /* the run reached its end */
	bool interrupted;            /* should_stop ended it */
	bool applied;                /* --apply: rows of a CSV, nothing scanned */
	int exit_code;               /* 0, 1 or 2 (exit-codes.h) */
	char failure[256];           /* why exit_code is not 0, "" otherwise */
};

/* The summary line of DESIGN.md §4 ("scanned 12034 rooms in 3.1 s: ..."). */
void report_summary_line(const struct run_summary *s, bool dry_run, char *buf, size_t len);

/* The journal entries that open and close a run. */
void report_run_start(const struct run_summary *s, bool dry_run, const char *policy_path,
		      const char *url);
void report_run_end(const struct run_summary *s, bool dry_run);

#endif
