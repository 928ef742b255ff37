/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
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
	int csv_error;             /* first CSV write error */
	char *jsonl_path;          /* NULL: no JSONL */
	int jsonl_fd;              /* O_APPEND; -1 when none */
	off_t jsonl_size;          /* whole lines written so far */
	int jsonl_error;           /* first JSONL write error: no more lines this run */
	struct buf line;
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

/* A line that did not reach the disk whole (a crash, a full disk) is cut
 * off, so the next line starts on a line of its own and every line of the
 * file stays one decision. */
static int drop_torn_tail(int fd, off_t *size)
{
	struct stat st;
	char tail[4096];
	off_t end;

	if (fstat(fd, &st) < 0)
		return -errno;
	*size = st.st_size;
	if (!S_ISREG(st.st_mode) || st.st_size == 0)
		return 0;
	for (end = st.st_size; end > 0;) {
		size_t want = end > (off_t)sizeof(tail) ? sizeof(tail) : (size_t)end;
		ssize_t n = pread(fd, tail, want, end - (off_t)want);

		if (n != (ssize_t)want)
			return n < 0 ? -errno : -EIO;
		for (size_t i = want; i > 0; i--)
			if (tail[i - 1] == '\n') {
				end -= (off_t)(want - i);
				goto found;
			}
		end -= (off_t)want;
	}
found:
	if (end == st.st_size)
		return 0;
	if (ftruncate(fd, end) < 0)
		return -errno;
	*size = end;
	return 0;
}

static int open_jsonl(struct records *r, const char *path)
{
	int err;

	r->jsonl_fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (r->jsonl_fd < 0)
		return -errno;
	r->jsonl_path = xstrdup(path);
	err = drop_torn_tail(r->jsonl_fd, &r->jsonl_size);
	return err;
}

/* One write(2) per line on an O_APPEND descriptor: lines never interleave
 * or glue together. A short write is undone and ends the JSONL for this
 * run; the error fails the run at records_close. */
static void jsonl_write(struct records *r, const struct buf *b)
{
	ssize_t n;

	if (r->jsonl_fd < 0 || r->jsonl_error)
		return;
	do
		n = write(r->jsonl_fd, b->data, b->len);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)b->len) {
		r->jsonl_size += n;
		return;
	}
	r->jsonl_error = n < 0 ? -errno : -ENOSPC;
	if (n > 0 && ftruncate(r->jsonl_fd, r->jsonl_size) < 0)
		r->jsonl_error = -errno;
}

static void csv_write(struct records *r, const struct buf *b)
{
	if (r->csv.f && !r->csv_error && fwrite(b->data, 1, b->len, r->csv.f) != b->len)
		r->csv_error = -errno ? -errno : -EIO;
}

int records_open(const struct policy *p, int64_t run_start_ms, struct records **out)
{
	struct records *r = xcalloc(1, sizeof(*r));
	char *jsonl_path = NULL;
	int err = 0;

	r->all_rooms = p->records.all_rooms;
	r->jsonl_fd = -1;
	if (p->records.csv && p->records.csv[0]) {
		r->csv_path = expand_path(p->records.csv, run_start_ms);
		err = file_atomic_open(&r->csv, r->csv_path, 0640);
		if (err < 0)
			goto fail;
		report_csv_header(&r->line);
		csv_write(r, &r->line);
	}
	if (p->records.jsonl && p->records.jsonl[0]) {
		jsonl_path = expand_path(p->records.jsonl, run_start_ms);
		err = open_jsonl(r, jsonl_path);
		if (err < 0)
			goto fail;
	}
	free(jsonl_path);
	*out = r;
	return 0;
fail:
	free(jsonl_path);
	records_close(r, false, NULL, 0);
	return err;
}

int records_add(struct records *r, const struct decision *d)
{
	if (d->outcome == OUTCOME_KEPT && !r->all_rooms)
		return 0;
	if (r->csv.f) {
		buf_reset(&r->line);
		report_csv_row(&r->line, d);
		csv_write(r, &r->line);
	}
	if (r->jsonl_fd >= 0) {
		buf_reset(&r->line);
		report_json_line(&r->line, d);
		jsonl_write(r, &r->line);
	}
	return r->jsonl_error ? r->jsonl_error : r->csv_error;
}

const char *records_csv_path(const struct records *r)
{
	return r->csv_path;
}

const char *records_jsonl_path(const struct records *r)
{
	return r->jsonl_path;
}

/* The CSV goes into place when commit says the listing finished; the JSONL
 * reaches the disk (fsync) in every case. */
int records_close(struct records *r, bool commit, char *why, size_t whylen)
{
	int err = 0;

	if (!r)
		return 0;
	if (r->csv.f) {
		if (commit && r->csv_error == 0)
			r->csv_error = file_atomic_commit(&r->csv);
		else
			file_atomic_abort(&r->csv);
	}
	if (r->jsonl_fd >= 0) {
		if (r->jsonl_error == 0 && fsync(r->jsonl_fd) < 0 && errno != EINVAL)
			r->jsonl_error = -errno; /* EINVAL: /dev/null and the like */
		if (close(r->jsonl_fd) < 0 && r->jsonl_error == 0)
			r->jsonl_error = -errno;
	}
	if (r->csv_error) {
		err = r->csv_error;
		if (why)
			snprintf(why, whylen, "%s: %s", r->csv_path, strerror(-err));
	} else if (r->jsonl_error) {
		err = r->jsonl_error;
		if (why)
			snprintf(why, whylen, "%s: %s", r->jsonl_path, strerror(-err));
	}
	buf_free(&r->line);
	free(r->csv_path);
	free(r->jsonl_path);
	free(r);
	return err;
}
