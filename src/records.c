/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "records.h"
#include "xmalloc.h"
#include "buf.h"
#include "file.h"
#include "clock.h"

struct records {
	bool all_rooms;
	char *csv_path;            /* NULL: no CSV */
	struct file_atomic csv;
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

static void write_line(struct records *r, FILE *f, const struct buf *b)
{
	if (fwrite(b->data, 1, b->len, f) != b->len && r->error == 0)
		r->error = -EIO;
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
		err = file_atomic_open(&r->csv, r->csv_path, 0640);
		if (err < 0)
			goto fail;
		report_csv_header(&r->line);
		write_line(r, r->csv.f, &r->line);
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

int records_add(struct records *r, const struct decision *d)
{
	if (d->outcome == OUTCOME_KEPT && !r->all_rooms)
		return 0;
	if (r->csv.f) {
		buf_reset(&r->line);
		report_csv_row(&r->line, d);
		write_line(r, r->csv.f, &r->line);
	}
	if (r->jsonl) {
		buf_reset(&r->line);
		report_json_line(&r->line, d);
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
			err = file_atomic_commit(&r->csv);
		else
			file_atomic_abort(&r->csv);
	}
	if (r->jsonl && fclose(r->jsonl) != 0 && err == 0)
		err = -errno;
	buf_free(&r->line);
	free(r->csv_path);
	free(r);
	return err;
}
