/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capture.h"
#include "xmalloc.h"
#include "buf.h"
#include "file.h"

const char *capture_dir(void)
{
	static char dir[4096];
	const char *top = getenv("top_srcdir");

	/* Real Synapse 1.68 exchanges, kept with the tests (tests/captures/README.md). */
	snprintf(dir, sizeof(dir), "%s/tests/captures", top && top[0] ? top : ".");
	return dir;
}

static char *read_all(const char *path, size_t *len)
{
	char *data = NULL;

	return file_read_capped(path, 64u << 20, &data, len) == 0 ? data : NULL;
}

static char *find_file(const char *prefix)
{
	DIR *d = opendir(capture_dir());
	struct dirent *e;
	char *found = NULL;

	if (!d)
		return NULL;
	while (!found && (e = readdir(d)))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && strstr(e->d_name, ".txt"))
			found = xasprintf("%s/%s", capture_dir(), e->d_name);
	closedir(d);
	return found;
}

/* The line at *p (without its newline); *p moves past it. NULL at the end. */
static char *next_line(const char **p, const char *end)
{
	const char *s = *p, *nl;

	if (s >= end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(end - s));
	if (!nl)
		nl = end;
	*p = nl < end ? nl + 1 : end;
	return xstrndup(s, (size_t)(nl - s));
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static struct capture_exchange *new_exchange(struct capture *c)
{
	c->ex = xreallocarray(c->ex, c->n + 1, sizeof(*c->ex));
	memset(&c->ex[c->n], 0, sizeof(c->ex[0]));
	c->ex[c->n].request_body = xstrdup("");
	c->ex[c->n].content_type = xstrdup("");
	return &c->ex[c->n++];
}

static void parse_request(struct capture_exchange *x, const char **p, const char *end)
{
	char *line = next_line(p, end), *sp;
	struct buf body = { 0 };

	if (line && (sp = strchr(line, ' '))) {
		x->method = xstrndup(line, (size_t)(sp - line));
		x->target = xstrndup(sp + 1, strcspn(sp + 1, " "));
	}
	free(line);
	while ((line = next_line(p, end)) && line[0]) /* headers */
		free(line);
	free(line);
	while (*p < end && !starts(*p, "<<< RESPONSE")) {
		line = next_line(p, end);
		buf_puts(&body, line);
		buf_putc(&body, '\n');
		free(line);
	}
	while (body.len > 0 && body.data[body.len - 1] == '\n')
		body.data[--body.len] = '\0';
	free(x->request_body);
	x->request_body = body.data ? body.data : xstrdup("");
}

static void parse_response_head(struct capture_exchange *x, const char **p, const char *end)
{
	char *line = next_line(p, end);

	if (line && strchr(line, ' '))
		x->status = strtol(strchr(line, ' ') + 1, NULL, 10);
	free(line);
	while ((line = next_line(p, end)) && line[0]) {
		if (strncasecmp(line, "Content-Type:", 13) == 0) {
			free(x->content_type);
			x->content_type = xstrdup(line + 13 + strspn(line + 13, " "));
		}
		free(line);
	}
	free(line);
}

/* The pretty copy runs to the first blank line (pretty JSON has none). */
static void take_pretty(struct capture_exchange *x, const char **p, const char *end)
{
	const char *s = *p, *stop = s;

	while (stop < end && !(stop[0] == '\n' && (stop + 1 == end || stop[1] == '\n')))
		stop++;
	free(x->body);
	x->body = xstrndup(s, (size_t)(stop - s));
	x->body_len = (size_t)(stop - s);
	x->body_from_pretty = 1;
	*p = stop;
}

static void parse_file(struct capture *c, const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	struct capture_exchange *x = NULL;
	size_t body_bytes = 0;
	bool omitted = false;
	char *line;

	while ((line = next_line(&p, end))) {
		const char *n;

		if (starts(line, ">>> REQUEST")) {
			x = new_exchange(c);
			omitted = false;
			parse_request(x, &p, end);
		} else if (x && starts(line, "<<< RESPONSE")) {
			parse_response_head(x, &p, end);
		} else if (x && starts(line, "[framing:") && (n = strstr(line, "decoded body "))) {
			body_bytes = strtoul(n + 13, NULL, 10);
		} else if (x && starts(line, "--- body, raw as sent")) {
			if (body_bytes > (size_t)(end - p))
				body_bytes = (size_t)(end - p);
			free(x->body);
			x->body = xstrndup(p, body_bytes);
			x->body_len = body_bytes;
			p += body_bytes;
		} else if (x && starts(line, "--- body, raw:")) {
			omitted = true;
		} else if (x && omitted && starts(line, "--- body, pretty-printed")) {
			take_pretty(x, &p, end);
			omitted = false;
		}
		free(line);
	}
}

int capture_load(const char *prefix, struct capture *out)
{
	char *data;
	size_t len;

	memset(out, 0, sizeof(*out));
	out->path = find_file(prefix);
	if (!out->path)
		return -ENOENT;
	data = read_all(out->path, &len);
	if (!data) {
		free(out->path);
		out->path = NULL;
		return -errno;
	}
	parse_file(out, data, len);
	free(data);
	for (size_t i = 0; i < out->n; i++)
		if (!out->ex[i].body)
			out->ex[i].body = xstrdup("");
	return out->n ? 0 : -EBADMSG;
}

void capture_free(struct capture *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->ex[i].method);
		free(c->ex[i].target);
		free(c->ex[i].request_body);
		free(c->ex[i].content_type);
		free(c->ex[i].body);
	}
	free(c->ex);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

void capture_response(const struct capture *c, size_t i, struct http_response *r)
{
	const struct capture_exchange *x = &c->ex[i];

	memset(r, 0, sizeof(*r));
	r->method = strcmp(x->method ? x->method : "", "DELETE") == 0 ? HTTP_DELETE : HTTP_GET;
	r->path = x->target ? x->target : "";
	r->status = x->status;
	r->body = x->body;
	r->body_len = x->body_len;
	r->content_type = x->content_type;
	r->error_text = "";
	r->attempts = 1;
}
