/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "log.h"
#include "buf.h"
#include "xmalloc.h"

/* Deep enough for any Admin API answer (events nest a few levels), shallow
 * enough that a hostile body cannot make freeing the tree recurse far. */
#define JSON_MAX_DEPTH 64

static bool only_whitespace(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	return true;
}

/* json-c accepts NaN and Infinity (and turns 1e400 into inf) even in strict
 * mode; RFC 8259 has no such numbers. */
static bool all_numbers_finite(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_double:
		return isfinite(json_object_get_double(o));
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (!all_numbers_finite(json_object_array_get_idx(o, i)))
				return false;
		return true;
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			(void)key;
			if (!all_numbers_finite(val))
				return false;
		}
		return true;
	}
	default:
		return true;
	}
}

static int parse_error(char *err, size_t errlen, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "not JSON: %s", what);
	return -EBADMSG;
}

/* The strict parser, fed a body in pieces as it arrives (or whole): the
 * same checks in the same order as on a whole body, so a piece never
 * changes what is accepted. */
#define SPLIT_MAX_MEMBERS 4

/* The elements of array members of the top-level object, taken out of the
 * stream one by one (json_stream_new_elements). */
struct json_split {
	char *members[SPLIT_MAX_MEMBERS];  /* NULL-terminated */
	int current;                 /* the member whose array is being read */
	json_element_fn fn;
	void *ud;
	int depth;                   /* containers open, strings not counted */
	bool in_string, escaped;
	bool expect_key;             /* in the top-level object, a member name comes next */
	bool in_key;
	struct buf key;              /* the member name being read, raw */
	int member_next;             /* the value after ':' is this member's, or -1 */
	bool member_seen[SPLIT_MAX_MEMBERS];
	bool collecting;             /* inside the member's array: bytes go to elem */
	bool placed;                 /* the tokener has the array's one 0 */
	bool comma_pending;          /* an element ended with ',': the tokener
				      * sees it only if an empty element follows */
	struct buf elem;
	struct json_stream *one;     /* parses each element, reset between them */
	struct buf top;              /* what the tokener sees of this feed, passed
				      * in one call at its end (or before an error
				      * can be told): each call costs json-c a
				      * locale switch */
};

struct json_stream {
	struct json_tokener *tok;
	int max_depth;
	struct json_object *value;   /* once the tokener completed it */
	bool seen;                   /* a byte that is not whitespace */
	bool done;                   /* the value is complete: only whitespace may follow */
	bool in_string, escaped;     /* where the single-quote scan is */
	int error;
	char why[160];               /* once error < 0 */
	struct json_split *split;    /* NULL: the whole value in one tree */
};

static void stream_reset(struct json_stream *s)
{
	json_tokener_reset(s->tok);
	json_object_put(s->value);
	s->value = NULL;
	s->seen = s->done = s->in_string = s->escaped = false;
	s->error = 0;
	s->why[0] = '\0';
}

static struct json_stream *stream_new(int max_depth)
{
	struct json_stream *s = xcalloc(1, sizeof(*s));

	s->max_depth = max_depth;
	s->tok = json_tokener_new_ex(max_depth);
	if (!s->tok)
		fatal("out of memory (json tokener)");
	json_tokener_set_flags(s->tok, JSON_TOKENER_STRICT);
	return s;
}

struct json_stream *json_stream_new(void)
{
	return stream_new(JSON_MAX_DEPTH);
}

struct json_stream *json_stream_new_elements(const char *const *members, json_element_fn fn, void *ud)
{
	struct json_stream *s = stream_new(JSON_MAX_DEPTH);

	s->split = xcalloc(1, sizeof(*s->split));
	for (size_t i = 0; members[i] && i < SPLIT_MAX_MEMBERS - 1; i++)
		s->split->members[i] = xstrdup(members[i]);
	s->split->member_next = -1;
	s->split->fn = fn;
	s->split->ud = ud;
	return s;
}

void json_stream_free(struct json_stream *s)
{
	if (!s)
		return;
	json_tokener_free(s->tok);
	json_object_put(s->value);
	if (s->split) {
		for (size_t i = 0; s->split->members[i]; i++)
			free(s->split->members[i]);
		buf_free(&s->split->key);
		buf_free(&s->split->elem);
		buf_free(&s->split->top);
		json_stream_free(s->split->one);
		free(s->split);
	}
	free(s);
}

static int stream_fail(struct json_stream *s, const char *why)
{
	s->error = -EBADMSG;
	snprintf(s->why, sizeof(s->why), "%s", why);
	return s->error;
}

/* json-c 0.16 takes 'single-quoted' object keys even in strict mode: refuse
 * any single quote outside a string. The scan goes on across pieces. */
static bool single_quote_outside_strings(struct json_stream *st, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (st->escaped) {
			st->escaped = false;
		} else if (st->in_string) {
			if (s[i] == '\\')
				st->escaped = true;
			else if (s[i] == '"')
				st->in_string = false;
		} else if (s[i] == '"') {
			st->in_string = true;
		} else if (s[i] == '\'') {
			return true;
		}
	}
	return false;
}

/* The tokener's part of a feed. */
static int tokenize(struct json_stream *s, const char *data, size_t len)
{
	enum json_tokener_error e;
	size_t end;

	if (s->error < 0 || len == 0)
		return s->error;
	if (s->done)
		return only_whitespace(data, len) ? 0 : stream_fail(s, "trailing data after the value");
	s->value = json_tokener_parse_ex(s->tok, data, (int)len);
	e = json_tokener_get_error(s->tok);
	if (e == json_tokener_continue)
		return 0;
	if (e != json_tokener_success)
		return stream_fail(s, json_tokener_error_desc(e));
	s->done = true;
	end = json_tokener_get_parse_end(s->tok);
	if (end < len && !only_whitespace(data + end, len - end))
		return stream_fail(s, "trailing data after the value");
	return 0;
}

/* Which of the members the name just read is, or -1. */
static int split_member_of(const struct json_split *sp)
{
	struct json_object *name = NULL;
	struct buf quoted = { 0 };
	const char *key = sp->key.data;
	int which = -1;

	if (memchr(sp->key.data, '\\', sp->key.len)) {
		/* An escaped name ("\u0072ooms") means what it decodes to. */
		buf_putc(&quoted, '"');
		buf_append(&quoted, sp->key.data, sp->key.len);
		buf_putc(&quoted, '"');
		key = json_parse_strict(quoted.data, quoted.len, &name, NULL, 0) == 0 ?
		      json_object_get_string(name) : NULL;
	}
	for (int i = 0; key && sp->members[i]; i++)
		if (strcmp(key, sp->members[i]) == 0)
			which = i;
	json_object_put(name);
	buf_free(&quoted);
	return which;
}

/* What the tokener has not seen yet of this feed, to the tokener. */
static int split_flush(struct json_stream *s)
{
	struct json_split *sp = s->split;

	if (sp->top.len)
		tokenize(s, sp->top.data, sp->top.len);
	buf_reset(&sp->top);
	return s->error;
}

/* One element of the member's array is complete, ended by sep (',' or
 * ']'): parsed strictly on its own (as deep as it may be inside the
 * whole) and handed over. The tokener sees the array as [0] (the first
 * element's place), so the rest of the document is checked as it stands
 * without a placeholder a row. An empty element ("[1,,2]", "[1,]") goes to
 * the tokener as it is, after the comma before it, to be refused there as
 * in the whole body; "[]" and "[ ]" pass. */
static int split_element_done(struct json_stream *s, char sep)
{
	struct json_split *sp = s->split;
	struct json_object *elem;
	char err[160];
	int r;

	if (only_whitespace(sp->elem.data ? sp->elem.data : "", sp->elem.len)) {
		if (sp->comma_pending)
			buf_putc(&sp->top, ',');
		buf_append(&sp->top, sp->elem.data ? sp->elem.data : "", sp->elem.len);
		buf_putc(&sp->top, sep);
		sp->comma_pending = false;
		return 0;
	}
	if (!sp->one)
		sp->one = stream_new(s->max_depth - 2);
	stream_reset(sp->one);
	/* the NUL and single-quote scans of the whole covered these bytes */
	sp->one->seen = true;
	if (sp->elem.len > INT_MAX)
		stream_fail(sp->one, "body too large");
	tokenize(sp->one, sp->elem.data, sp->elem.len);
	r = json_stream_finish(sp->one, &elem, err, sizeof(err));
	buf_reset(&sp->elem);
	/* an error the tokener would have found earlier in the body wins */
	if (r < 0 && split_flush(s) == 0)
		return stream_fail(s, err + strlen("not JSON: "));
	if (r < 0)
		return s->error;
	r = sp->fn(sp->ud, sp->members[sp->current], elem);
	json_object_put(elem);
	if (r < 0 && split_flush(s) == 0) {
		s->error = r;
		snprintf(s->why, sizeof(s->why), "refused by its reader");
	}
	if (r < 0)
		return s->error;
	if (!sp->placed)
		buf_putc(&sp->top, '0');
	sp->placed = true;
	sp->comma_pending = sep == ',';
	if (sep == ']')
		buf_putc(&sp->top, ']');
	return 0;
}

/* How many bytes from data on change nothing in an element being collected
 * but its text: in a string all but quote and backslash, outside one all
 * but quotes and brackets, braces and commas. */
static size_t element_run(const char *data, size_t len, bool in_string)
{
	static const bool stops_string[256] = { ['"'] = true, ['\\'] = true };
	static const bool stops_value[256] = {
		['"'] = true, ['{'] = true, ['}'] = true, ['['] = true, [']'] = true, [','] = true,
	};
	const bool *stops = in_string ? stops_string : stops_value;
	size_t n = 0;

	while (n < len && !stops[(unsigned char)data[n]])
		n++;
	return n;
}

/* The structure of the document, byte by byte, to find the member's array:
 * its elements are collected apart, everything else goes to the tokener. */
static int split_feed(struct json_stream *s, const char *data, size_t len)
{
	struct json_split *sp = s->split;
	size_t start = 0;          /* first byte not yet handed to the tokener */

	for (size_t i = 0; i < len && s->error == 0; i++) {
		char c;

		if (sp->collecting && !sp->escaped) {
			size_t run = element_run(data + i, len - i, sp->in_string);

			buf_append(&sp->elem, data + i, run);
			i += run;
			if (i == len)
				break;
		}
		c = data[i];
		if (sp->in_string) {
			if (sp->escaped)
				sp->escaped = false;
			else if (c == '\\')
				sp->escaped = true;
			else if (c == '"')
				sp->in_string = false;
			if (sp->in_key && sp->in_string)
				buf_putc(&sp->key, c);
			else if (sp->in_key)
				sp->in_key = false;
			else if (sp->collecting)
				buf_putc(&sp->elem, c);
			continue;
		}
		if (sp->collecting) {
			if (sp->depth == 2 && (c == ',' || c == ']')) {
				if (split_element_done(s, c) < 0)
					break;
				start = i + 1;
				sp->collecting = c == ',';
				if (c == ']')
					sp->depth--;
				continue;
			}
			buf_putc(&sp->elem, c);
			if (c == '"')
				sp->in_string = true;
			else if (c == '{' || c == '[')
				sp->depth++;
			else if (c == '}' || c == ']')
				sp->depth--;
			continue;
		}
		switch (c) {
		case '"':
			sp->in_string = true;
			if (sp->depth == 1 && sp->expect_key) {
				sp->in_key = true;
				buf_reset(&sp->key);
				buf_puts(&sp->key, "");
			}
			sp->member_next = -1;
			break;
		case '{':
		case '[':
			sp->depth++;
			if (sp->depth == 2 && sp->member_next >= 0 && c == '[') {
				if (sp->member_seen[sp->member_next]) {
					if (split_flush(s) == 0)
						stream_fail(s, "the split member appears twice");
					break;
				}
				sp->member_seen[sp->member_next] = true;
				sp->current = sp->member_next;
				buf_append(&sp->top, data + start, i + 1 - start);
				start = i + 1;
				sp->collecting = true;
				sp->placed = sp->comma_pending = false;
				buf_reset(&sp->elem);
			}
			sp->expect_key = sp->depth == 1 && c == '{';
			sp->member_next = -1;
			break;
		case '}':
		case ']':
			sp->depth--;
			break;
		case ':':
			if (sp->depth == 1) {
				sp->expect_key = false;
				sp->member_next = sp->key.data ? split_member_of(sp) : -1;
			}
			break;
		case ',':
			if (sp->depth == 1) {
				sp->expect_key = true;
				sp->member_next = -1;
			}
			break;
		case ' ': case '\t': case '\n': case '\r':
			break;
		default:
			sp->member_next = -1; /* a number or a literal: not the array */
			break;
		}
	}
	if (s->error == 0 && !sp->collecting && start < len)
		buf_append(&sp->top, data + start, len - start);
	return split_flush(s);
}

int json_stream_feed(struct json_stream *s, const char *data, size_t len)
{
	if (s->error < 0 || len == 0)
		return s->error;
	if (len > INT_MAX)
		return stream_fail(s, "body too large");
	if (!s->seen && !only_whitespace(data, len))
		s->seen = true;
	if (memchr(data, '\0', len))
		return stream_fail(s, "NUL byte in the body");
	if (single_quote_outside_strings(s, data, len))
		return stream_fail(s, "single quote outside a string");
	return s->split ? split_feed(s, data, len) : tokenize(s, data, len);
}

int json_stream_finish(struct json_stream *s, struct json_object **out, char *err, size_t errlen)
{
	enum json_tokener_error e;

	*out = NULL;
	if (s->error == 0 && !s->seen)
		stream_fail(s, "empty body");
	/* A bare number or literal at the very end is only complete once the
	 * tokener sees the end of the input: a final NUL says so. */
	if (s->error == 0 && s->split && s->split->collecting)
		stream_fail(s, "unexpected end of data");
	if (s->error == 0 && !s->done) {
		s->value = json_tokener_parse_ex(s->tok, "", 1);
		e = json_tokener_get_error(s->tok);
		if (e != json_tokener_success)
			stream_fail(s, json_tokener_error_desc(e));
		s->done = true;
	}
	if (s->error == 0 && !s->value)
		stream_fail(s, "null instead of a value");
	if (s->error == 0 && !all_numbers_finite(s->value))
		stream_fail(s, "NaN or infinite number");
	if (s->error == -EBADMSG)
		return parse_error(err, errlen, s->why);
	if (s->error < 0)
		return s->error;
	*out = s->value;
	s->value = NULL;
	return 0;
}

int json_parse_strict(const char *data, size_t len, struct json_object **out,
		      char *err, size_t errlen)
{
	struct json_stream *s = json_stream_new();
	int r;

	json_stream_feed(s, data, len);
	r = json_stream_finish(s, out, err, errlen);
	json_stream_free(s);
	return r;
}

/* *val is only written on success. */
static int get_member(struct json_object *obj, const char *key, enum json_type type,
		      struct json_object **val)
{
	struct json_object *v;

	if (!obj || !json_object_is_type(obj, json_type_object))
		return -EINVAL;
	if (!json_object_object_get_ex(obj, key, &v))
		return -ENOENT;
	if (!v)
		return -ENODATA;
	if (!json_object_is_type(v, type))
		return -EINVAL;
	*val = v;
	return 0;
}

int json_get_string(struct json_object *obj, const char *key, const char **out)
{
	struct json_object *v;
	int r = get_member(obj, key, json_type_string, &v);

	if (r < 0)
		return r;
	/* "\u0000" inside a string would silently cut it short in C. */
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return -EINVAL;
	*out = json_object_get_string(v);
	return 0;
}

/* json-c saturates integers it cannot hold (at INT64_MIN, or at INT64_MAX /
 * UINT64_MAX): such values are refused rather than clamped. */
static bool json_int64_value(struct json_object *v, int64_t *out)
{
	int64_t i;

	if (!v || !json_object_is_type(v, json_type_int))
		return false;
	i = json_object_get_int64(v);
	if (i == INT64_MIN)
		return false;
	if (i == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
		return false;
	*out = i;
	return true;
}

int json_get_int64(struct json_object *obj, const char *key, int64_t *out)
{
	struct json_object *v;
	int r = get_member(obj, key, json_type_int, &v);

	if (r < 0)
		return r;
	return json_int64_value(v, out) ? 0 : -EINVAL;
}

int json_as_int64(struct json_object *v, int64_t *out)
{
	if (!v)
		return -ENODATA;
	return json_int64_value(v, out) ? 0 : -EINVAL;
}

int json_as_string(struct json_object *v, const char **out)
{
	if (!v)
		return -ENODATA;
	if (!json_object_is_type(v, json_type_string) ||
	    strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return -EINVAL;
	*out = json_object_get_string(v);
	return 0;
}

bool json_array_items(struct json_object *a, struct json_object **v, size_t n)
{
	if (!a || !json_object_is_type(a, json_type_array) || json_object_array_length(a) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		v[i] = json_object_array_get_idx(a, i);
	return true;
}

int json_each_member(struct json_object *obj,
		     int (*fn)(const char *key, struct json_object *val, void *ud), void *ud)
{
	if (!obj || !json_object_is_type(obj, json_type_object))
		return -EINVAL;
	json_object_object_foreach(obj, key, val) {
		int r = fn(key, val, ud);

		if (r != 0)
			return r;
	}
	return 0;
}

int json_peek_int64(const char *data, size_t len, const char *key, int64_t *out)
{
	struct json_object *o;
	int r = json_parse_strict(data, len, &o, NULL, 0);

	if (r < 0)
		return r;
	r = json_get_int64(o, key, out);
	json_object_put(o);
	return r;
}

void json_put(struct json_object *obj)
{
	json_object_put(obj);
}

int json_get_bool(struct json_object *obj, const char *key, bool *out)
{
	struct json_object *v;
	int r = get_member(obj, key, json_type_boolean, &v);

	if (r == 0)
		*out = json_object_get_boolean(v);
	return r;
}

int json_get_array(struct json_object *obj, const char *key, struct json_object **out)
{
	return get_member(obj, key, json_type_array, out);
}

int json_get_object(struct json_object *obj, const char *key, struct json_object **out)
{
	return get_member(obj, key, json_type_object, out);
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_sequence(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n, i;
	unsigned cp;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* RFC 8259 §7: quote and backslash escaped, control characters as \uXXXX
 * (or their short forms); valid UTF-8 passes through, an invalid byte
 * becomes U+FFFD so the output is always valid JSON. */
void json_append_string(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	buf_putc(b, '"');
	while (*p) {
		size_t n;

		switch (*p) {
		case '"': buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		case '\b': buf_puts(b, "\\b"); break;
		case '\f': buf_puts(b, "\\f"); break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				buf_printf(b, "\\u%04x", *p);
			} else if (*p < 0x80) {
				buf_putc(b, (char)*p);
			} else if ((n = utf8_sequence(p)) > 0) {
				buf_append(b, p, n);
				p += n;
				continue;
			} else {
				buf_puts(b, "\\ufffd");
			}
		}
		p++;
	}
	buf_putc(b, '"');
}
