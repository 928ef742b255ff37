/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "log.h"
#include "xmalloc.h"
#include "buf.h"
#include "file.h"

#define APPLY_MAX_FILE (64u << 20)

/* ------------------------------------------------------------------ */
/* The CSV reader                                                      */

void apply_csv_init(struct csv_reader *r, const char *data, size_t len)
{
	r->p = data;
	r->end = data + len;
	r->line = 1;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		r->p += 3;
}

void apply_csv_record_free(struct csv_record *rec)
{
	for (size_t i = 0; i < rec->n; i++)
		free(rec->fields[i]);
	free(rec->fields);
	memset(rec, 0, sizeof(*rec));
}

void apply_csv_unguard(char *cell)
{
	/* The records writer's formula guard (DESIGN.md §6.8, §10). */
	if (cell[0] == '\'' && cell[1] && strchr("=+-@\t\r", cell[1]))
		memmove(cell, cell + 1, strlen(cell));
}

static void push_field(struct csv_record *rec, struct buf *b)
{
	char *cell = b->data ? b->data : xstrdup("");

	memset(b, 0, sizeof(*b));
	apply_csv_unguard(cell);
	if (rec->n == rec->cap) {
		rec->cap = rec->cap ? rec->cap * 2 : 16;
		rec->fields = xreallocarray(rec->fields, rec->cap, sizeof(char *));
	}
	rec->fields[rec->n++] = cell;
}

/* At a record end? Consumes LF or CRLF. */
static bool at_eol(struct csv_reader *r)
{
	if (r->p < r->end && *r->p == '\n') {
		r->p++;
		r->line++;
		return true;
	}
	if (r->end - r->p >= 2 && r->p[0] == '\r' && r->p[1] == '\n') {
		r->p += 2;
		r->line++;
		return true;
	}
	return false;
}

/* Past the rest of the physical line, after an error. */
static void skip_line(struct csv_reader *r)
{
	const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));

	if (!nl) {
		r->p = r->end;
		return;
	}
	r->p = nl + 1;
	r->line++;
}

static int quoted_field(struct csv_reader *r, struct buf *b, const char **problem)
{
	r->p++; /* the opening quote */
	for (;;) {
		char ch;

		if (r->p >= r->end) {
			*problem = "a quoted field is not closed";
			return -EBADMSG;
		}
		ch = *r->p;
		if (ch == '"') {
			if (r->end - r->p >= 2 && r->p[1] == '"') {
				buf_putc(b, '"');
				r->p += 2;
				continue;
			}
			r->p++;
			break;
		}
		if (ch == '\0') {
			*problem = "a NUL byte";
			return -EBADMSG;
		}
		if (ch == '\n')
			r->line++;
		buf_putc(b, ch);
		r->p++;
	}
	if (r->p < r->end && *r->p != ',' && *r->p != '\n' &&
	    !(r->end - r->p >= 2 && r->p[0] == '\r' && r->p[1] == '\n')) {
		*problem = "text after a closing quote";
		return -EBADMSG;
	}
	if (!b->data)
		buf_puts(b, "");
	return 0;
}

static int plain_field(struct csv_reader *r, struct buf *b, const char **problem)
{
	buf_puts(b, "");
	while (r->p < r->end && *r->p != ',' && *r->p != '\n' &&
	       !(r->end - r->p >= 2 && r->p[0] == '\r' && r->p[1] == '\n')) {
		if (*r->p == '\0') {
			*problem = "a NUL byte";
			return -EBADMSG;
		}
		buf_putc(b, *r->p++);
	}
	return 0;
}

static int read_record(struct csv_reader *r, struct csv_record *rec, const char **problem)
{
	struct buf b = { 0 };
	int ret;

	for (;;) {
		ret = (r->p < r->end && *r->p == '"') ? quoted_field(r, &b, problem)
						      : plain_field(r, &b, problem);
		if (ret < 0) {
			buf_free(&b);
			return ret;
		}
		push_field(rec, &b);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		at_eol(r);
		return 0;
	}
}

int apply_csv_next(struct csv_reader *r, struct csv_record *rec, char *err, size_t errlen)
{
	const char *problem = NULL;

	for (;;) {
		apply_csv_record_free(rec);
		if (r->p >= r->end)
			return 0;
		if (at_eol(r))
			continue; /* a blank line */
		rec->line = r->line;
		if (read_record(r, rec, &problem) < 0) {
			unsigned line = rec->line;

			snprintf(err, errlen, "malformed CSV: %s", problem);
			apply_csv_record_free(rec);
			rec->line = line;
			if (r->p < r->end)
				skip_line(r);
			return -EBADMSG;
		}
		return 1;
	}
}

/* ------------------------------------------------------------------ */
/* The rows                                                            */

/* The columns a row is read by: the first three are required. */
static const enum report_column wanted[] = {
	REPORT_ROOM_ID, REPORT_RULE, REPORT_OUTCOME,
	REPORT_NAME, REPORT_CANONICAL_ALIAS, REPORT_JOINED_MEMBERS, REPORT_JOINED_LOCAL_MEMBERS,
	REPORT_PUBLIC, REPORT_ENCRYPTED, REPORT_LAST_ACTIVITY, REPORT_CREATED,
};
#define REQUIRED_COLUMNS 3

int apply_read_file(const char *path, char **data, size_t *len)
{
	return file_read_capped(path, APPLY_MAX_FILE, data, len);
}

static bool parse_time(const char *s, struct fact_time *out)
{
	struct tm tm = { 0 };
	int used = -1;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec, &used) != 6 || used < 0 || s[used] != '\0')
		return false;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	out->state = FACT_KNOWN;
	out->ms = (int64_t)timegm(&tm) * 1000;
	return true;
}

static int64_t parse_count(const char *s)
{
	char *end;
	long long v;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	return errno || *end ? -1 : v;
}

struct parse {
	const struct policy *p;
	const char *name;
	int col[REPORT__MAX];     /* field index by column, -1 absent */
	size_t n_header;
	struct apply_rows *out;
};

static struct candidate *add_row(struct parse *ps, unsigned line, const char *room_id)
{
	struct apply_rows *o = ps->out;
	struct candidate *c;

	o->c = xreallocarray(o->c, o->n + 1, sizeof(*o->c));
	c = &o->c[o->n++];
	memset(c, 0, sizeof(*c));
	room_facts_clear(&c->facts);
	c->facts.room_id = xstrdup(room_id);
	c->source_line = line;
	return c;
}

static void refuse_row(struct parse *ps, unsigned line, const char *room_id, const char *fmt, ...)
	SJ_PRINTF(4, 5);
static void refuse_row(struct parse *ps, unsigned line, const char *room_id, const char *fmt, ...)
{
	struct candidate *c = add_row(ps, line, room_id);
	char text[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	candidate_set_reason(c, "%s:%u: %s", ps->name, line, text);
	c->outcome = OUTCOME_REFUSED;
	ps->out->refused++;
	log_error("%s", c->reason);
}

static const char *cell(const struct parse *ps, const struct csv_record *rec, enum report_column k)
{
	return ps->col[k] >= 0 && (size_t)ps->col[k] < rec->n ? rec->fields[ps->col[k]] : "";
}

static bool seen_before(const struct apply_rows *o, const char *room_id)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->c[i].outcome != OUTCOME_REFUSED && strcmp(o->c[i].facts.room_id, room_id) == 0)
			return true;
	return false;
}

static void fill_facts(const struct parse *ps, const struct csv_record *rec, struct room_facts *f)
{
	const char *v;

	if (*(v = cell(ps, rec, REPORT_NAME)))
		f->name = xstrdup(v);
	if (*(v = cell(ps, rec, REPORT_CANONICAL_ALIAS)))
		f->canonical_alias = xstrdup(v);
	f->joined_members = parse_count(cell(ps, rec, REPORT_JOINED_MEMBERS));
	f->joined_local_members = parse_count(cell(ps, rec, REPORT_JOINED_LOCAL_MEMBERS));
	v = cell(ps, rec, REPORT_PUBLIC);
	f->is_public = strcmp(v, "true") == 0 ? TRI_TRUE : strcmp(v, "false") == 0 ? TRI_FALSE : TRI_UNKNOWN;
	if (strcmp(cell(ps, rec, REPORT_ENCRYPTED), "true") == 0)
		f->encryption = xstrdup("(listed as encrypted)");
	parse_time(cell(ps, rec, REPORT_LAST_ACTIVITY), &f->last_activity);
	parse_time(cell(ps, rec, REPORT_CREATED), &f->created);
}

static void take_row(struct parse *ps, const struct csv_record *rec)
{
	const char *room_id = cell(ps, rec, REPORT_ROOM_ID), *rule_name, *oc;
	const struct rule *rule;
	struct candidate *c;
	enum outcome o;

	if (rec->n != ps->n_header) {
		refuse_row(ps, rec->line, room_id_valid(room_id) ? room_id : "",
			   "%zu fields, the header has %zu", rec->n, ps->n_header);
		return;
	}
	oc = cell(ps, rec, REPORT_OUTCOME);
	if (report_outcome_from_name(oc, &o) < 0) {
		refuse_row(ps, rec->line, room_id_valid(room_id) ? room_id : "",
			   "outcome \"%.40s\" is not one this program writes", oc);
		return;
	}
	if (o == OUTCOME_KEPT || o == OUTCOME_PROTECTED || o == OUTCOME_KEPT_UNKNOWN) {
		ps->out->skipped++; /* DESIGN.md §4: not candidates */
		return;
	}
	if (!room_id_valid(room_id)) {
		refuse_row(ps, rec->line, "", "\"%.80s\" is not a room id", room_id);
		return;
	}
	rule_name = cell(ps, rec, REPORT_RULE);
	if (!*rule_name) {
		refuse_row(ps, rec->line, room_id, "the row names no rule");
		return;
	}
	if (!(rule = policy_find_rule(ps->p, rule_name))) {
		refuse_row(ps, rec->line, room_id, "rule \"%.60s\" is not in the policy", rule_name);
		return;
	}
	if (seen_before(ps->out, room_id)) {
		log_warn("%s:%u: %s is listed twice; this row is ignored", ps->name, rec->line, room_id);
		ps->out->skipped++;
		return;
	}
	c = add_row(ps, rec->line, room_id);
	c->rule = rule;
	fill_facts(ps, rec, &c->facts);
	candidate_set_reason(c, "%s:%u: listed for rule %s", ps->name, rec->line,
		 rule->name);
}

static int map_header(struct parse *ps, const struct csv_record *hdr, char *err, size_t errlen)
{
	for (size_t k = 0; k < REPORT__MAX; k++)
		ps->col[k] = -1;
	for (size_t k = 0; k < ARRAY_SIZE(wanted); k++) {
		const char *name = report_column_name(wanted[k]);

		for (size_t i = 0; i < hdr->n && ps->col[wanted[k]] < 0; i++)
			if (strcmp(hdr->fields[i], name) == 0)
				ps->col[wanted[k]] = (int)i;
		if (k < REQUIRED_COLUMNS && ps->col[wanted[k]] < 0) {
			snprintf(err, errlen, "%s: no \"%s\" column in the header (line %u)", ps->name,
				 name, hdr->line);
			return -EINVAL;
		}
	}
	ps->n_header = hdr->n;
	return 0;
}

int apply_parse(const struct policy *p, const char *name, const char *data, size_t len,
		struct apply_rows *out, char *err, size_t errlen)
{
	struct parse ps = { .p = p, .name = name, .out = out };
	struct csv_reader r;
	struct csv_record rec = { 0 };
	char why[200];
	int ret;

	memset(out, 0, sizeof(*out));
	apply_csv_init(&r, data, len);
	ret = apply_csv_next(&r, &rec, why, sizeof(why));
	if (ret <= 0) {
		if (ret == 0)
			snprintf(err, errlen, "%s: empty file, no header", name);
		else
			snprintf(err, errlen, "%s:%u: header: %s", name, rec.line, why);
		return -EINVAL;
	}
	ret = map_header(&ps, &rec, err, errlen);
	while (ret == 0) {
		int k = apply_csv_next(&r, &rec, why, sizeof(why));

		if (k == 0)
			break;
		if (k < 0)
			refuse_row(&ps, rec.line, "", "%s", why);
		else
			take_row(&ps, &rec);
	}
	apply_csv_record_free(&rec);
	if (ret < 0)
		apply_rows_free(out);
	return ret;
}

void apply_rows_free(struct apply_rows *rows)
{
	for (size_t i = 0; i < rows->n; i++)
		candidate_clear(&rows->c[i]);
	free(rows->c);
	memset(rows, 0, sizeof(*rows));
}

/* A room protected under the current policy is refused at once, whatever
 * the file says (DESIGN.md §6.3): the row facts (name, alias, public) and
 * the room id; the re-verification checks the live facts again. */
void apply_refuse_protected(const struct decide_context *d, const char *name, struct apply_rows *rows)
{
	struct verdict v;

	for (size_t i = 0; i < rows->n; i++) {
		struct candidate *c = &rows->c[i];

		if (c->outcome != OUTCOME_KEPT)
			continue;
		if (!decide_protected(d, &c->facts, &v))
			continue;
		candidate_set_reason(c, "%s:%u: protected: %.200s", name, c->source_line,
			 v.reason);
		c->outcome = OUTCOME_REFUSED;
		rows->refused++;
		log_error("%s", c->reason);
	}
}
