/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The one door a decision leaves through (DESIGN.md §7): the column table
 * and the outcome table, walked by the CSV, the JSONL, the journal and the
 * --apply reader. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "log.h"
#include "message-ids.h"
#include "report.h"
#include "xmalloc.h"

/* --- outcomes --- */

static const struct {
	const char *name;
	int priority;              /* of its journal entry */
	const char *message_id;
} outcomes[OUTCOME__MAX] = {
	[OUTCOME_KEPT] = { "kept", LOG_DEBUG, MSGID_ROOM_DECISION },
	[OUTCOME_PROTECTED] = { "protected", LOG_INFO, MSGID_ROOM_DECISION },
	[OUTCOME_KEPT_UNKNOWN] = { "kept_unknown", LOG_WARNING, MSGID_ROOM_DECISION },
	[OUTCOME_RECORDED] = { "recorded", LOG_NOTICE, MSGID_ROOM_DECISION },
	[OUTCOME_WOULD_DELETE] = { "would_delete", LOG_NOTICE, MSGID_ROOM_DECISION },
	[OUTCOME_DELETED] = { "deleted", LOG_NOTICE, MSGID_ROOM_DELETED },
	[OUTCOME_FAILED] = { "failed", LOG_ERR, MSGID_DELETE_FAILED },
	[OUTCOME_DEFERRED] = { "deferred", LOG_INFO, MSGID_DELETE_HELD },
	[OUTCOME_CAPPED] = { "capped", LOG_INFO, MSGID_DELETE_HELD },
	[OUTCOME_REFUSED] = { "refused", LOG_ALERT, MSGID_BREAKER_TRIPPED },
	[OUTCOME_CHANGED] = { "changed", LOG_INFO, MSGID_DELETE_HELD },
};

const char *report_outcome_name(enum outcome o)
{
	return (unsigned)o < OUTCOME__MAX ? outcomes[o].name : "invalid";
}

int report_outcome_from_name(const char *s, enum outcome *out)
{
	for (unsigned i = 0; i < OUTCOME__MAX; i++) {
		if (strcmp(s, outcomes[i].name) == 0) {
			*out = (enum outcome)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* --- columns --- */

enum value_kind { VALUE_NULL, VALUE_TEXT, VALUE_COUNT, VALUE_BOOL, VALUE_TIME };

/* One cell, before it is rendered for a CSV, a JSONL line or the journal. */
struct value {
	enum value_kind kind;
	const char *text;          /* TEXT */
	int64_t n;                 /* COUNT; TIME in ms; BOOL 0 or 1 */
};

#define IN_CSV     0x1u
#define IN_JSONL   0x2u
#define IN_JOURNAL 0x4u

struct column {
	const char *name;          /* CSV header cell, JSONL key */
	const char *journal;       /* journal field name */
	unsigned in;
	void (*get)(const struct decision *d, struct value *v);
};

static void text(struct value *v, const char *s)
{
	*v = s ? (struct value){ .kind = VALUE_TEXT, .text = s } : (struct value){ .kind = VALUE_NULL };
}

static void count(struct value *v, int64_t n)
{
	*v = n >= 0 ? (struct value){ .kind = VALUE_COUNT, .n = n } : (struct value){ .kind = VALUE_NULL };
}

static void boolean(struct value *v, bool known, bool b)
{
	*v = known ? (struct value){ .kind = VALUE_BOOL, .n = b } : (struct value){ .kind = VALUE_NULL };
}

static void fact_time(struct value *v, const struct fact_time *t)
{
	*v = t->state == FACT_KNOWN ? (struct value){ .kind = VALUE_TIME, .n = t->ms }
				    : (struct value){ .kind = VALUE_NULL };
}

static void get_run_id(const struct decision *d, struct value *v) { text(v, d->run_id); }
static void get_time(const struct decision *d, struct value *v)
{
	*v = (struct value){ .kind = VALUE_TIME, .n = d->time_ms };
}
static void get_room_id(const struct decision *d, struct value *v) { text(v, d->room->room_id); }
static void get_name(const struct decision *d, struct value *v) { text(v, d->room->name); }
static void get_alias(const struct decision *d, struct value *v) { text(v, d->room->canonical_alias); }
static void get_joined(const struct decision *d, struct value *v) { count(v, d->room->joined_members); }
static void get_local(const struct decision *d, struct value *v) { count(v, d->room->joined_local_members); }
static void get_public(const struct decision *d, struct value *v)
{
	boolean(v, d->room->is_public != TRI_UNKNOWN, d->room->is_public == TRI_TRUE);
}
static void get_encrypted(const struct decision *d, struct value *v)
{
	/* A row with a problem may have had no usable "encryption". */
	boolean(v, !d->room->row_problem, d->room->encryption != NULL);
}
static void get_last_activity(const struct decision *d, struct value *v)
{
	fact_time(v, &d->room->last_activity);
}
static void get_inactive_days(const struct decision *d, struct value *v) { count(v, d->inactive_days); }
static void get_created(const struct decision *d, struct value *v) { fact_time(v, &d->room->created); }
static void get_rule(const struct decision *d, struct value *v) { text(v, d->rule ? d->rule->name : NULL); }
static void get_action(const struct decision *d, struct value *v)
{
	text(v, !d->rule ? NULL : d->rule->action == RULE_ACTION_DELETE ? "delete" : "record");
}
static void get_outcome(const struct decision *d, struct value *v) { text(v, report_outcome_name(d->outcome)); }
static void get_reason(const struct decision *d, struct value *v) { text(v, d->reason); }
static void get_delete_id(const struct decision *d, struct value *v) { text(v, d->delete_id); }
static void get_dry_run(const struct decision *d, struct value *v) { boolean(v, true, d->dry_run); }
static void get_join_rule(const struct decision *d, struct value *v) { text(v, d->room->join_rule); }
static void get_room_type(const struct decision *d, struct value *v) { text(v, d->room->room_type); }
static void get_state_events(const struct decision *d, struct value *v) { count(v, d->room->state_events); }
static void get_room_version(const struct decision *d, struct value *v) { text(v, d->room->room_version); }
static void get_federatable(const struct decision *d, struct value *v)
{
	boolean(v, d->room->is_federatable != TRI_UNKNOWN, d->room->is_federatable == TRI_TRUE);
}

#define ALL (IN_CSV | IN_JSONL | IN_JOURNAL)
static const struct column columns[REPORT__MAX] = {
	[REPORT_RUN_ID] = { "run_id", "RUN_ID", ALL, get_run_id },
	[REPORT_TIME] = { "time", NULL, IN_CSV | IN_JSONL, get_time },
	[REPORT_ROOM_ID] = { "room_id", "ROOM_ID", ALL, get_room_id },
	[REPORT_NAME] = { "name", "ROOM_NAME", ALL, get_name },
	[REPORT_CANONICAL_ALIAS] = { "canonical_alias", "ROOM_ALIAS", ALL, get_alias },
	[REPORT_JOINED_MEMBERS] = { "joined_members", "JOINED_MEMBERS", ALL, get_joined },
	[REPORT_JOINED_LOCAL_MEMBERS] = { "joined_local_members", "JOINED_LOCAL_MEMBERS", ALL, get_local },
	[REPORT_PUBLIC] = { "public", NULL, IN_CSV | IN_JSONL, get_public },
	[REPORT_ENCRYPTED] = { "encrypted", NULL, IN_CSV | IN_JSONL, get_encrypted },
	[REPORT_LAST_ACTIVITY] = { "last_activity", "LAST_ACTIVITY", ALL, get_last_activity },
	[REPORT_INACTIVE_DAYS] = { "inactive_days", "INACTIVE_DAYS", ALL, get_inactive_days },
	[REPORT_CREATED] = { "created", NULL, IN_CSV | IN_JSONL, get_created },
	[REPORT_RULE] = { "rule", "RULE", ALL, get_rule },
	[REPORT_ACTION] = { "action", "ACTION", ALL, get_action },
	[REPORT_OUTCOME] = { "outcome", "OUTCOME", ALL, get_outcome },
	[REPORT_REASON] = { "reason", "REASON", ALL, get_reason },
	[REPORT_DELETE_ID] = { "delete_id", "DELETE_ID", ALL, get_delete_id },
	[REPORT_DRY_RUN] = { "dry_run", "DRY_RUN", IN_JSONL | IN_JOURNAL, get_dry_run },
	[REPORT_JOIN_RULE] = { "join_rule", NULL, IN_JSONL, get_join_rule },
	[REPORT_ROOM_TYPE] = { "room_type", NULL, IN_JSONL, get_room_type },
	[REPORT_STATE_EVENTS] = { "state_events", "STATE_EVENTS", IN_JSONL | IN_JOURNAL, get_state_events },
	[REPORT_ROOM_VERSION] = { "room_version", NULL, IN_JSONL, get_room_version },
	[REPORT_FEDERATABLE] = { "federatable", NULL, IN_JSONL, get_federatable },
};

const char *report_column_name(enum report_column c)
{
	return (unsigned)c < REPORT__MAX ? columns[c].name : NULL;
}

/* The value as plain text: what a CSV cell (before quoting) and a journal
 * field hold; unknown is empty. */
static void value_text(struct buf *b, const struct value *v)
{
	char when[32];

	switch (v->kind) {
	case VALUE_NULL:
		break;
	case VALUE_TEXT:
		buf_puts(b, v->text);
		break;
	case VALUE_COUNT:
		buf_printf(b, "%" PRId64, v->n);
		break;
	case VALUE_BOOL:
		buf_puts(b, v->n ? "true" : "false");
		break;
	case VALUE_TIME:
		clock_format_rfc3339(v->n, when, sizeof(when));
		buf_puts(b, when);
		break;
	}
}

/* --- CSV --- */

void report_csv_cell(struct buf *b, const char *s)
{
	bool quote;

	if (!s)
		return;
	/* Room names come from remote users: a cell a spreadsheet would read as
	 * a formula gets a leading quote (DESIGN.md §6.8, §10). */
	quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		buf_putc(b, '"');
	if (s[0] && strchr("=+-@\t\r", s[0]))
		buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	if (quote)
		buf_putc(b, '"');
}

void report_csv_header(struct buf *b)
{
	bool first = true;

	for (size_t i = 0; i < REPORT__MAX; i++) {
		if (!(columns[i].in & IN_CSV))
			continue;
		if (!first)
			buf_putc(b, ',');
		buf_puts(b, columns[i].name);
		first = false;
	}
	buf_puts(b, "\r\n");
}

void report_csv_row(struct buf *b, const struct decision *d)
{
	struct buf cell = { 0 };
	bool first = true;

	for (size_t i = 0; i < REPORT__MAX; i++) {
		struct value v;

		if (!(columns[i].in & IN_CSV))
			continue;
		columns[i].get(d, &v);
		if (!first)
			buf_putc(b, ',');
		first = false;
		buf_reset(&cell);
		value_text(&cell, &v);
		if (cell.len)
			report_csv_cell(b, cell.data);
	}
	buf_puts(b, "\r\n");
	buf_free(&cell);
}

/* --- JSONL --- */

void report_json_line(struct buf *b, const struct decision *d)
{
	char when[32];

	buf_putc(b, '{');
	for (size_t i = 0; i < REPORT__MAX; i++) {
		struct value v;

		if (!(columns[i].in & IN_JSONL))
			continue;
		columns[i].get(d, &v);
		if (b->len > 1)
			buf_putc(b, ',');
		json_append_string(b, columns[i].name);
		buf_putc(b, ':');
		switch (v.kind) {
		case VALUE_NULL:
			buf_puts(b, "null");
			break;
		case VALUE_TEXT:
			json_append_string(b, v.text);
			break;
		case VALUE_COUNT:
			buf_printf(b, "%" PRId64, v.n);
			break;
		case VALUE_BOOL:
			buf_puts(b, v.n ? "true" : "false");
			break;
		case VALUE_TIME:
			clock_format_rfc3339(v.n, when, sizeof(when));
			json_append_string(b, when);
			break;
		}
	}
	buf_puts(b, "}\n");
}

/* --- the console line and the journal --- */

void report_append_printable(struct buf *b, const char *s, size_t max)
{
	size_t n = 0;

	for (; *s && n < max; s++, n++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch == 0x7f)
			buf_printf(b, "\\x%02x", ch);
		else if (ch == '"' || ch == '\\')
			buf_printf(b, "\\%c", ch);
		else
			buf_putc(b, (char)ch);
	}
	if (*s)
		buf_puts(b, "...");
}

void report_decision_line(struct buf *b, const struct decision *d)
{
	const struct room_facts *f = d->room;

	buf_printf(b, "%s ", report_outcome_name(d->outcome));
	report_append_printable(b, f->room_id ? f->room_id : "", 300);
	if (f->name) {
		buf_puts(b, " \"");
		report_append_printable(b, f->name, 80);
		buf_putc(b, '"');
	}
	if (d->rule)
		buf_printf(b, " rule=%s", d->rule->name);
	if (d->inactive_days >= 0)
		buf_printf(b, " inactive=%" PRId64 "d", d->inactive_days);
	if (f->joined_local_members >= 0)
		buf_printf(b, " local=%" PRId64, f->joined_local_members);
	if (d->delete_id) {
		buf_puts(b, " delete_id=");
		report_append_printable(b, d->delete_id, 100);
	}
	if (d->dry_run && (d->outcome == OUTCOME_WOULD_DELETE || d->rule))
		buf_puts(b, " (dry-run)");
	buf_puts(b, ": ");
	report_append_printable(b, d->reason ? d->reason : "", 300);
}

void report_log_decision(const struct decision *d)
{
	char *fields[REPORT__MAX];
	size_t n = 0;
	struct buf field = { 0 }, line = { 0 };
	enum outcome o = (unsigned)d->outcome < OUTCOME__MAX ? d->outcome : OUTCOME_KEPT;

	/* most rooms are kept, at debug level: not a line unless --verbose */
	if (!log_enabled(outcomes[o].priority))
		return;
	for (size_t i = 0; i < REPORT__MAX && log_takes_fields(); i++) {
		struct value v;

		if (!(columns[i].in & IN_JOURNAL))
			continue;
		columns[i].get(d, &v);
		buf_reset(&field);
		buf_printf(&field, "%s=", columns[i].journal);
		value_text(&field, &v);
		fields[n++] = xstrdup(field.data);
	}
	report_decision_line(&line, d);
	log_event(outcomes[o].priority, outcomes[o].message_id, (const char *const *)fields, n, "%s",
		  line.data);
	for (size_t i = 0; i < n; i++)
		free(fields[i]);
	buf_free(&field);
	buf_free(&line);
}

/* --- the run --- */

void report_summary_line(const struct run_summary *s, bool dry_run, char *buf, size_t len)
{
	const uint64_t *c = s->counts;
	int n;

	if (s->applied)
		n = snprintf(buf, len, "applied %" PRIu64 " CSV rows in %.1f s: %" PRIu64 " kept, %" PRIu64
			     " kept in doubt, %" PRIu64 " protected", s->candidates,
			     (double)s->duration_ms / 1000.0, c[OUTCOME_KEPT], c[OUTCOME_KEPT_UNKNOWN],
			     c[OUTCOME_PROTECTED]);
	else
		n = snprintf(buf, len, "scanned %" PRIu64 " rooms in %.1f s: %" PRIu64 " kept, %" PRIu64
			     " kept in doubt, %" PRIu64 " protected, %" PRIu64 " candidates",
			     s->scanned, (double)s->duration_ms / 1000.0, c[OUTCOME_KEPT],
			     c[OUTCOME_KEPT_UNKNOWN], c[OUTCOME_PROTECTED], s->candidates);
	if (n < 0 || (size_t)n >= len)
		return;
	if (dry_run)
		snprintf(buf + n, len - (size_t)n, " (dry-run, nothing deleted)");
	else
		snprintf(buf + n, len - (size_t)n,
			 ": %" PRIu64 " recorded, %" PRIu64 " deleted, %" PRIu64 " failed, %" PRIu64
			 " deferred, %" PRIu64 " capped, %" PRIu64 " refused, %" PRIu64 " changed",
			 c[OUTCOME_RECORDED], c[OUTCOME_DELETED], c[OUTCOME_FAILED], c[OUTCOME_DEFERRED],
			 c[OUTCOME_CAPPED], c[OUTCOME_REFUSED], c[OUTCOME_CHANGED]);
}

void report_run_start(const struct run_summary *s, bool dry_run, const char *policy_path,
		      const char *url)
{
	char *fields[] = {
		xasprintf("RUN_ID=%s", s->run_id),
		xasprintf("DRY_RUN=%s", dry_run ? "true" : "false"),
	};

	log_event(LOG_INFO, MSGID_RUN_START, (const char *const *)fields, ARRAY_SIZE(fields),
		  "run %s started%s: policy %s, homeserver %s", s->run_id, dry_run ? " (dry-run)" : "",
		  policy_path ? policy_path : "-", url);
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		free(fields[i]);
}

/* The counts of a run-end entry, by outcome. */
static const struct {
	const char *field;
	enum outcome o;
} end_counts[] = {
	{ "KEPT", OUTCOME_KEPT },           { "PROTECTED", OUTCOME_PROTECTED },
	{ "DELETED", OUTCOME_DELETED },     { "FAILED", OUTCOME_FAILED },
	{ "DEFERRED", OUTCOME_DEFERRED },   { "CAPPED", OUTCOME_CAPPED },
	{ "REFUSED", OUTCOME_REFUSED },     { "CHANGED", OUTCOME_CHANGED },
	{ "KEPT_UNKNOWN", OUTCOME_KEPT_UNKNOWN },
};

void report_run_end(const struct run_summary *s, bool dry_run)
{
	char line[512], *fields[ARRAY_SIZE(end_counts) + 6];
	size_t n = 0;

	report_summary_line(s, dry_run, line, sizeof(line));
	fields[n++] = xasprintf("RUN_ID=%s", s->run_id);
	fields[n++] = xasprintf("DRY_RUN=%s", dry_run ? "true" : "false");
	fields[n++] = xasprintf("SCANNED=%" PRIu64, s->scanned);
	fields[n++] = xasprintf("CANDIDATES=%" PRIu64, s->candidates);
	for (size_t i = 0; i < ARRAY_SIZE(end_counts); i++)
		fields[n++] = xasprintf("%s=%" PRIu64, end_counts[i].field, s->counts[end_counts[i].o]);
	fields[n++] = xasprintf("DURATION_MS=%" PRIu64, s->duration_ms);
	fields[n++] = xasprintf("REQUESTS=%" PRIu64, s->requests);
	log_event(s->exit_code ? LOG_ERR : LOG_NOTICE, MSGID_RUN_END, (const char *const *)fields, n,
		  "%s%s%s", line, s->failure[0] ? "; run failed: " : "", s->failure);
	for (size_t i = 0; i < n; i++)
		free(fields[i]);
}
