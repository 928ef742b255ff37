/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_FILE_H
#define SJ_FILE_H

#include <stddef.h>
#include <stdio.h>

/* Write a file so that readers see the old or the new content, never a mix:
 * temp file in the same directory, fsync, rename, fsync of the directory.
 * Returns 0 or a negative errno. */
int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode);

/* The same, streamed: write to af->f, then commit (fsync, rename, fsync of
 * the directory) or abort (unlink the temp file). */
struct file_atomic {
	FILE *f;
	char *path;
	char *tmp_path;
};
int file_atomic_open(struct file_atomic *af, const char *path, unsigned mode);
int file_atomic_commit(struct file_atomic *af);
void file_atomic_abort(struct file_atomic *af);

/* Read a whole file of at most max bytes into a NUL-terminated buffer.
 * Returns 0, -EFBIG when larger, -EISDIR, or another negative errno. */
int file_read_capped(const char *path, size_t max, char **data, size_t *len);

#endif
