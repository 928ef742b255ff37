/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "xmalloc.h"

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

int file_atomic_open(struct file_atomic *af, const char *path, unsigned mode)
{
	int fd;

	*af = (struct file_atomic){ .path = xstrdup(path) };
	af->tmp_path = xasprintf("%s.tmp.%ld", path, (long)getpid());
	fd = open(af->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd < 0 || !(af->f = fdopen(fd, "w"))) {
		int r = -errno;

		if (fd >= 0)
			close(fd);
		free(af->path);
		free(af->tmp_path);
		*af = (struct file_atomic){ 0 };
		return r;
	}
	return 0;
}

static void file_atomic_release(struct file_atomic *af)
{
	free(af->path);
	free(af->tmp_path);
	*af = (struct file_atomic){ 0 };
}

int file_atomic_commit(struct file_atomic *af)
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
	file_atomic_release(af);
	return r;
}

void file_atomic_abort(struct file_atomic *af)
{
	if (!af->f)
		return;
	fclose(af->f);
	unlink(af->tmp_path);
	file_atomic_release(af);
}

int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
	struct file_atomic af;
	int r = file_atomic_open(&af, path, mode);

	if (r < 0)
		return r;
	if (len && fwrite(data, 1, len, af.f) != len) {
		r = -errno ? -errno : -EIO;
		file_atomic_abort(&af);
		return r;
	}
	return file_atomic_commit(&af);
}

int file_read_capped(const char *path, size_t max, char **data, size_t *len)
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
