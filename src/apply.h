/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_APPLY_H
#define SJ_APPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "act.h"
#include "policy.h"

/* --apply FILE (DESIGN.md §4): the rooms still listed in a reviewed
 * candidates CSV, re-verified live and deleted like a scheduled run would
 * (max_per_run, state file, journal), without breaker or grace. */

/* --- the CSV reader (RFC 4180, as Excel and LibreOffice write it back) --- */

struct csv_reader {
	const char *p;
	const char *end;
	unsigned line;          /* 1-based line where the next record starts */
};

struct csv_record {
	char **fields;
	size_t n;
	size_t cap;
	unsigned line;          /* the line the record starts on */
};

/* A leading UTF-8 BOM is skipped. */
void apply_csv_init(struct csv_reader *r, const char *data, size_t len);
/* Reads the next record: quoted fields may hold commas, "" and line breaks;
 * records end with LF or CRLF; the formula guard the records writer adds
 * (a ' before = + - @ TAB CR) is stripped from each cell. Returns 1 with a
 * record, 0 at the end, or -EBADMSG for a malformed record (err says why,
 * rec->line where it started; the reader has moved past it to the next
 * line). Blank lines are skipped. */
int apply_csv_next(struct csv_reader *r, struct csv_record *rec, char *err, size_t errlen);
void apply_csv_record_free(struct csv_record *rec);
/* "'=x" -> "=x" in place; anything else unchanged. */
void apply_csv_unguard(char *cell);

/* --- the rows --- */

/* One actionable row, or a refused one (outcome REFUSED and reason set). */
struct apply_rows {
	struct candidate *c;
	size_t n;
	size_t skipped;         /* kept, protected, kept_unknown rows */
	size_t refused;         /* rows refused (in c with OUTCOME_REFUSED) */
};

/* Parses the CSV text against the policy: columns by header name; a row
 * that does not parse, names no or an unknown rule, or lists a room twice
 * is refused with its line number. Returns 0, or -EINVAL when the file is
 * unusable as a whole (no header, a required column missing: err says). */
int apply_parse(const struct policy *p, const char *name, const char *data, size_t len,
		struct apply_rows *out, char *err, size_t errlen);
void apply_rows_free(struct apply_rows *rows);
/* Refuses the rows of rooms that a protection covers (by the row's facts
 * and the room id), with their line numbers. */
void apply_refuse_protected(const struct decide_context *d, const char *name, struct apply_rows *rows);

/* Reads FILE into memory (at most 64 MiB). */
int apply_read_file(const char *path, char **data, size_t *len);

#endif
