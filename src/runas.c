/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "runas.h"

#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "xmalloc.h"

/* The directory part of path: "." for a bare name, "/" for "/name". */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int runas_state_dir_owner(const char *state_file, uid_t euid, uid_t *owner)
{
	struct stat st;
	char *dir;
	int r = 0;

	if (euid != 0 || !state_file)
		return 0;
	dir = dir_of(state_file);
	if (stat(dir, &st) < 0) {
		/* No directory yet: nothing of another user's to spoil, and
		 * the run says what is missing. */
		r = errno == ENOENT ? 0 : -errno;
	} else if (st.st_uid != euid) {
		*owner = st.st_uid;
		r = 1;
	}
	free(dir);
	return r;
}

char *runas_user_name(uid_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res || !res->pw_name[0])
		return NULL;
	return xstrdup(res->pw_name);
}

/* Words made only of these need no quotes in a POSIX shell. */
static bool word_is_plain(const char *w)
{
	if (!*w)
		return false;
	for (; *w; w++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-", *w))
			return false;
	return true;
}

/* ' ... ' around the word, each ' inside written as '\'' . */
static void put_word(struct buf *b, const char *w)
{
	if (word_is_plain(w)) {
		buf_puts(b, w);
		return;
	}
	buf_putc(b, '\'');
	for (; *w; w++) {
		if (*w == '\'')
			buf_puts(b, "'\\''");
		else
			buf_putc(b, *w);
	}
	buf_putc(b, '\'');
}

char *runas_command(const char *user, char *const argv[])
{
	struct buf b = { 0 };

	buf_puts(&b, "runuser -u ");
	put_word(&b, user);
	buf_puts(&b, " --");
	for (size_t i = 0; argv[i]; i++) {
		buf_putc(&b, ' ');
		put_word(&b, argv[i]);
	}
	return b.data;
}
