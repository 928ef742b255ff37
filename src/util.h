/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_UTIL_H
#define SJ_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SJ_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation failure is handled here, once: the daemon logs and exits. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);          /* NULL stays NULL */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) SJ_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) SJ_PRINTF(1, 0);

/* Clocks in milliseconds. */
int64_t wallclock_ms(void);            /* CLOCK_REALTIME */
int64_t monotonic_ms(void);            /* CLOCK_MONOTONIC */

/* RFC 3339 UTC with seconds ("2026-11-23T03:30:00Z"); empty string for ms < 0. */
void format_rfc3339(int64_t ms, char *buf, size_t len);

/* A growable, always NUL-terminated byte buffer. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) SJ_PRINTF(2, 3);
void buf_reset(struct buf *b);         /* len = 0, keeps the memory */
void buf_free(struct buf *b);

/* 64-bit FNV-1a: the per-room de-duplication key. */
uint64_t hash64(const char *s);

/* Write a file so that readers see the old or the new content, never a mix:
 * temp file in the same directory, fsync, rename, fsync of the directory.
 * Returns 0 or a negative errno. */
int write_file_atomic(const char *path, const void *data, size_t len, unsigned mode);

/* The same, streamed: write to af->f, then commit (fsync, rename, fsync of
 * the directory) or abort (unlink the temp file). */
struct atomic_file {
	FILE *f;
	char *path;
	char *tmp_path;
};
int atomic_file_open(struct atomic_file *af, const char *path, unsigned mode);
int atomic_file_commit(struct atomic_file *af);
void atomic_file_abort(struct atomic_file *af);

/* Read a whole file of at most max bytes into a NUL-terminated buffer.
 * Returns 0, -EFBIG when larger, -EISDIR, or another negative errno. */
int read_file_capped(const char *path, size_t max, char **data, size_t *len);

/* fnmatch() glob match of a possibly-NULL string (NULL never matches). */
bool glob_match(const char *pattern, const char *s);

#endif
