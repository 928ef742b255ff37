/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		fatal("out of memory (%zu bytes)", n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		fatal("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	void *q;

	if (size && n > SIZE_MAX / size)
		fatal("allocation overflow (%zu x %zu bytes)", n, size);
	q = realloc(p, (n * size) != 0 ? n * size : 1);
	if (!q)
		fatal("out of memory (%zu x %zu bytes)", n, size);
	return q;
}

char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		fatal("out of memory");
	return s;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t wallclock_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t monotonic_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

void format_rfc3339(int64_t ms, char *buf, size_t len)
{
	struct tm tm;
	time_t t;

	if (ms < 0 || len == 0) {
		if (len)
			buf[0] = '\0';
		return;
	}
	t = (time_t)(ms / 1000);
	if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		buf[0] = '\0';
}

static void buf_reserve(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	if (need < b->len)
		fatal("buffer overflow");
	b->cap = b->cap ? b->cap : 64;
	while (b->cap < need)
		b->cap *= 2;
	b->data = xreallocarray(b->data, b->cap, 1);
}

void buf_append(struct buf *b, const void *data, size_t len)
{
	buf_reserve(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("buf_printf: bad format");
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
	free(b->data);
	*b = (struct buf){ 0 };
}

uint64_t hash64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int fsync_parent_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd, r = 0;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		r = -errno;
	else if (fsync(fd) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return r;
}

int atomic_file_open(struct atomic_file *af, const char *path, unsigned mode)
{
	int fd;

	*af = (struct atomic_file){ .path = xstrdup(path) };
	af->tmp_path = xasprintf("%s.tmp.%ld", path, (long)getpid());
	fd = open(af->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd < 0 || !(af->f = fdopen(fd, "w"))) {
		int r = -errno;

		if (fd >= 0)
			close(fd);
		free(af->path);
		free(af->tmp_path);
		*af = (struct atomic_file){ 0 };
		return r;
	}
	return 0;
}

static void atomic_file_release(struct atomic_file *af)
{
	free(af->path);
	free(af->tmp_path);
	*af = (struct atomic_file){ 0 };
}

int atomic_file_commit(struct atomic_file *af)
{
	int r = 0;

	if (fflush(af->f) != 0 || ferror(af->f) || fsync(fileno(af->f)) < 0)
		r = -errno ? -errno : -EIO;
	if (fclose(af->f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(af->tmp_path, af->path) < 0)
		r = -errno;
	if (r < 0)
		unlink(af->tmp_path);
	else
		r = fsync_parent_dir(af->path);
	atomic_file_release(af);
	return r;
}

void atomic_file_abort(struct atomic_file *af)
{
	if (!af->f)
		return;
	fclose(af->f);
	unlink(af->tmp_path);
	atomic_file_release(af);
}

int write_file_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
	struct atomic_file af;
	int r = atomic_file_open(&af, path, mode);

	if (r < 0)
		return r;
	if (len && fwrite(data, 1, len, af.f) != len) {
		r = -errno ? -errno : -EIO;
		atomic_file_abort(&af);
		return r;
	}
	return atomic_file_commit(&af);
}

int read_file_capped(const char *path, size_t max, char **data, size_t *len)
{
	struct buf b = { 0 };
	struct stat st;
	char chunk[65536];
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > max) {
			r = -EFBIG;
			goto out;
		}
		buf_append(&b, chunk, (size_t)n);
	}
	*data = b.data ? b.data : xstrdup("");
	*len = b.len;
	b.data = NULL;
out:
	buf_free(&b);
	close(fd);
	return r;
}

bool glob_match(const char *pattern, const char *s)
{
	return pattern && s && fnmatch(pattern, s, 0) == 0;
}
