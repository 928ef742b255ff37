/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "records.h"
#include "util.h"

struct records {
	bool all_rooms;
	char *csv_path;            /* NULL: no CSV */
	struct atomic_file csv;
	FILE *jsonl;               /* NULL: no JSONL */
	struct buf line;
	int error;                 /* first write error, reported at close */
};

/* Record paths may carry strftime patterns so that a nightly rewrite does not
 * replace the file an admin is reviewing (DESIGN.md §7). */
static char *expand_path(const char *pattern, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	char out[4096];
	struct tm tm;

	if (!strchr(pattern, '%'))
		return xstrdup(pattern);
	localtime_r(&t, &tm);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	if (strftime(out, sizeof(out), pattern, &tm) == 0)
		return xstrdup(pattern);
#pragma GCC diagnostic pop
	return xstrdup(out);
}

static int open_jsonl(const char *path, FILE **out)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

	if (fd < 0)
		return -errno;
	*out = fdopen(fd, "a");
	if (!*out) {
		int r = -errno;

		close(fd);
		return r;
	}
	return 0;
}

int records_open(const struct policy *p, int64_t run_start_ms, struct records **out)
{
	struct records *r = xcalloc(1, sizeof(*r));
	char *jsonl_path = NULL;
	int err = 0;

	r->all_rooms = p->records.all_rooms;
	if (p->records.csv && p->records.csv[0]) {
		r->csv_path = expand_path(p->records.csv, run_start_ms);
		err = atomic_file_open(&r->csv, r->csv_path, 0640);
		if (err < 0)
			goto fail;
		fputs(RECORDS_CSV_HEADER "\r\n", r->csv.f);
	}
	if (p->records.jsonl && p->records.jsonl[0]) {
		jsonl_path = expand_path(p->records.jsonl, run_start_ms);
		err = open_jsonl(jsonl_path, &r->jsonl);
		if (err < 0)
			goto fail;
	}
	free(jsonl_path);
	*out = r;
	return 0;
fail:
	free(jsonl_path);
	records_close(r, false);
	return err;
}

void records_csv_cell(struct buf *b, const char *s)
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

static const char *bool_text(bool v)
{
	return v ? "true" : "false";
}

static void csv_time(struct buf *b, const struct fact_time *t)
{
	char when[32];

	if (t->state != FACT_KNOWN)
		return;
	format_rfc3339(t->ms, when, sizeof(when));
	buf_puts(b, when);
}

static void csv_count(struct buf *b, int64_t v)
{
	if (v >= 0)
		buf_printf(b, "%lld", (long long)v);
}

static void format_csv_row(struct buf *b, const struct decision *d)
{
	const struct room_facts *f = d->room;
	char when[32];

	format_rfc3339(d->time_ms, when, sizeof(when));
	records_csv_cell(b, d->run_id);
	buf_printf(b, ",%s,", when);
	records_csv_cell(b, f->room_id);
	buf_putc(b, ',');
	records_csv_cell(b, f->name);
	buf_putc(b, ',');
	records_csv_cell(b, f->canonical_alias);
	buf_putc(b, ',');
	csv_count(b, f->joined_members);
	buf_putc(b, ',');
	csv_count(b, f->joined_local_members);
	buf_putc(b, ',');
	if (f->is_public != TRI_UNKNOWN)
		buf_puts(b, bool_text(f->is_public == TRI_TRUE));
	buf_putc(b, ',');
	if (!f->row_problem)
		buf_puts(b, bool_text(f->encryption != NULL));
	buf_putc(b, ',');
	csv_time(b, &f->last_activity);
	buf_putc(b, ',');
	csv_count(b, d->inactive_days);
	buf_putc(b, ',');
	csv_time(b, &f->created);
	buf_putc(b, ',');
	if (d->rule) {
		records_csv_cell(b, d->rule->name);
		buf_printf(b, ",%s", d->rule->action == RULE_ACTION_DELETE ? "delete" : "record");
	} else {
		buf_putc(b, ',');
	}
	buf_printf(b, ",%s,", outcome_name(d->outcome));
	records_csv_cell(b, d->reason);
	buf_putc(b, ',');
	records_csv_cell(b, d->delete_id);
	buf_puts(b, "\r\n");
}

static void json_key(struct buf *b, const char *key)
{
	if (b->len > 1)
		buf_putc(b, ',');
	json_append_string(b, key);
	buf_putc(b, ':');
}

static void json_string_or_null(struct buf *b, const char *key, const char *v)
{
	json_key(b, key);
	if (v)
		json_append_string(b, v);
	else
		buf_puts(b, "null");
}

static void json_count(struct buf *b, const char *key, int64_t v)
{
	json_key(b, key);
	if (v >= 0)
		buf_printf(b, "%lld", (long long)v);
	else
		buf_puts(b, "null");
}

static void json_time(struct buf *b, const char *key, const struct fact_time *t)
{
	char when[32];

	format_rfc3339(t->state == FACT_KNOWN ? t->ms : -1, when, sizeof(when));
	json_string_or_null(b, key, when[0] ? when : NULL);
}

static void format_json_line(struct buf *b, const struct decision *d)
{
	const struct room_facts *f = d->room;
	char when[32];

	format_rfc3339(d->time_ms, when, sizeof(when));
	buf_putc(b, '{');
	json_string_or_null(b, "run_id", d->run_id);
	json_string_or_null(b, "time", when);
	json_string_or_null(b, "room_id", f->room_id);
	json_string_or_null(b, "name", f->name);
	json_string_or_null(b, "canonical_alias", f->canonical_alias);
	json_count(b, "joined_members", f->joined_members);
	json_count(b, "joined_local_members", f->joined_local_members);
	json_key(b, "public");
	buf_puts(b, f->is_public == TRI_UNKNOWN ? "null" : bool_text(f->is_public == TRI_TRUE));
	json_key(b, "encrypted");
	buf_puts(b, f->row_problem ? "null" : bool_text(f->encryption != NULL));
	json_time(b, "last_activity", &f->last_activity);
	json_count(b, "inactive_days", d->inactive_days);
	json_time(b, "created", &f->created);
	json_string_or_null(b, "rule", d->rule ? d->rule->name : NULL);
	json_string_or_null(b, "action", !d->rule ? NULL :
			    d->rule->action == RULE_ACTION_DELETE ? "delete" : "record");
	json_string_or_null(b, "outcome", outcome_name(d->outcome));
	json_string_or_null(b, "reason", d->reason);
	json_string_or_null(b, "delete_id", d->delete_id);
	json_key(b, "dry_run");
	buf_puts(b, bool_text(d->dry_run));
	buf_puts(b, "}\n");
}

static void write_line(struct records *r, FILE *f, const struct buf *b)
{
	if (fwrite(b->data, 1, b->len, f) != b->len && r->error == 0)
		r->error = -EIO;
}

int records_add(struct records *r, const struct decision *d)
{
	if (d->outcome == OUTCOME_KEPT && !r->all_rooms)
		return 0;
	if (r->csv.f) {
		buf_reset(&r->line);
		format_csv_row(&r->line, d);
		write_line(r, r->csv.f, &r->line);
	}
	if (r->jsonl) {
		buf_reset(&r->line);
		format_json_line(&r->line, d);
		write_line(r, r->jsonl, &r->line);
	}
	return r->error;
}

const char *records_csv_path(const struct records *r)
{
	return r->csv_path;
}

int records_close(struct records *r, bool commit)
{
	int err;

	if (!r)
		return 0;
	err = r->error;
	if (r->csv.f) {
		if (commit && err == 0)
			err = atomic_file_commit(&r->csv);
		else
			atomic_file_abort(&r->csv);
	}
	if (r->jsonl && fclose(r->jsonl) != 0 && err == 0)
		err = -errno;
	buf_free(&r->line);
	free(r->csv_path);
	free(r);
	return err;
}
