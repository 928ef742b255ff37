/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "xmalloc.h"

/* An admin token is a few dozen characters; anything much larger is not one. */
#define TOKEN_MAX_BYTES 4096

static void set_err(char *err, size_t errlen, const char *fmt, ...) SJ_PRINTF(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The systemd credential wins when it is there (DESIGN.md §6.7): under
 * LoadCredential= the unit can keep the token out of the file system the
 * service sees. Returns a malloc'd path or NULL when there is none. */
static char *credential_path(const struct policy *p)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char *path;

	if (!p->homeserver.token_credential || !dir || !dir[0])
		return NULL;
	path = xasprintf("%s/%s", dir, p->homeserver.token_credential);
	if (access(path, F_OK) == 0)
		return path;
	free(path);
	return NULL;
}

static void wipe_free(char *s, size_t len)
{
	if (!s)
		return;
	explicit_bzero(s, len);
	free(s);
}

/* Read the whole (small) file into a NUL-terminated buffer. */
static int read_all(int fd, const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
	char *data = xmalloc(TOKEN_MAX_BYTES + 1);
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, data + len, TOKEN_MAX_BYTES + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			set_err(err, errlen, "token file %s: %s", path, strerror(-r));
			wipe_free(data, TOKEN_MAX_BYTES + 1);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > TOKEN_MAX_BYTES) {
			set_err(err, errlen, "token file %s: larger than %d bytes, not an access token",
				path, TOKEN_MAX_BYTES);
			wipe_free(data, TOKEN_MAX_BYTES + 1);
			return -EFBIG;
		}
	}
	data[len] = '\0';
	*out = data;
	*outlen = len;
	return 0;
}

/* The token goes into an HTTP header: whitespace or a control character
 * would corrupt the request (or smuggle a header), so refuse them. */
static bool token_is_clean(const char *t, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c <= 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

static int check_file(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		int r = -errno;

		set_err(err, errlen, "token file %s: %s", path, strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "token file %s: not a regular file", path);
		return -EINVAL;
	}
	if (st.st_mode & S_IROTH) {
		set_err(err, errlen,
			"token file %s: readable by every user (mode %04o); refusing it, run 'chmod o-rwx %s'",
			path, (unsigned)(st.st_mode & 07777), path);
		return -EACCES;
	}
	return 0;
}

static int read_token_file(const char *path, char **token, char *err, size_t errlen)
{
	char *data = NULL;
	size_t len = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		set_err(err, errlen, "token file %s: %s", path, strerror(-r));
		return r;
	}
	r = check_file(fd, path, err, errlen);
	if (r < 0)
		goto out;
	r = read_all(fd, path, &data, &len, err, errlen);
	if (r < 0)
		goto out;
	/* Exactly one trailing newline is what `echo TOKEN > file` leaves. */
	if (len > 0 && data[len - 1] == '\n')
		data[--len] = '\0';
	if (len == 0) {
		set_err(err, errlen, "token file %s: empty, expected the admin access token", path);
		r = -EINVAL;
	} else if (!token_is_clean(data, len)) {
		set_err(err, errlen,
			"token file %s: contains whitespace or control characters, expected only the token (one trailing newline is allowed)",
			path);
		r = -EINVAL;
	}
	if (r < 0) {
		wipe_free(data, TOKEN_MAX_BYTES + 1);
		goto out;
	}
	*token = data;
out:
	close(fd);
	return r;
}

int token_read(const struct policy *p, char **token, char *err, size_t errlen)
{
	char *cred = credential_path(p);
	int r;

	*token = NULL;
	if (cred) {
		r = read_token_file(cred, token, err, errlen);
		free(cred);
		return r;
	}
	if (!p->homeserver.token_file) {
		set_err(err, errlen,
			"%s: homeserver.token_credential '%s' is not available ($CREDENTIALS_DIRECTORY %s) and no homeserver.token_file is set",
			p->path ? p->path : "policy",
			p->homeserver.token_credential ? p->homeserver.token_credential : "",
			getenv("CREDENTIALS_DIRECTORY") ? "has no such file" : "is not set");
		return -ENOENT;
	}
	return read_token_file(p->homeserver.token_file, token, err, errlen);
}

void token_free(char *token)
{
	if (!token)
		return;
	/* Bytes past the NUL held at most the stripped newline. */
	explicit_bzero(token, strlen(token));
	free(token);
}
