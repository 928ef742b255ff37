/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A streaming JSON writer: list pages of 1000 rooms are built in well under
 * a millisecond, and a fault can bend one field without a DOM. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"

static void sep(struct jw *w)
{
	if (w->need_comma)
		fbuf_add(&w->b, ",", 1);
	w->need_comma = true;
}

void jw_obj_open(struct jw *w)
{
	sep(w);
	fbuf_add(&w->b, "{", 1);
	w->need_comma = false;
}

void jw_obj_close(struct jw *w)
{
	fbuf_add(&w->b, "}", 1);
	w->need_comma = true;
}

void jw_arr_open(struct jw *w)
{
	sep(w);
	fbuf_add(&w->b, "[", 1);
	w->need_comma = false;
}

void jw_arr_close(struct jw *w)
{
	fbuf_add(&w->b, "]", 1);
	w->need_comma = true;
}

static void put_string(struct fbuf *b, const char *s)
{
	const char *run = s;

	fbuf_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		fbuf_add(b, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"': fbuf_add(b, "\\\"", 2); break;
		case '\\': fbuf_add(b, "\\\\", 2); break;
		case '\n': fbuf_add(b, "\\n", 2); break;
		case '\r': fbuf_add(b, "\\r", 2); break;
		case '\t': fbuf_add(b, "\\t", 2); break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			fbuf_add(b, esc, 6);
		}
	}
	fbuf_add(b, run, (size_t)(s - run));
	fbuf_add(b, "\"", 1);
}

void jw_key(struct jw *w, const char *k)
{
	sep(w);
	put_string(&w->b, k);
	fbuf_add(&w->b, ":", 1);
	w->need_comma = false;
}

void jw_str(struct jw *w, const char *s)
{
	if (!s) {
		jw_null(w);
		return;
	}
	sep(w);
	put_string(&w->b, s);
}

void jw_int(struct jw *w, int64_t v)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%" PRId64, v);

	sep(w);
	fbuf_add(&w->b, num, (size_t)n);
}

void jw_bool(struct jw *w, bool v)
{
	sep(w);
	fbuf_puts(&w->b, v ? "true" : "false");
}

void jw_null(struct jw *w)
{
	sep(w);
	fbuf_add(&w->b, "null", 4);
}

void jw_raw(struct jw *w, const char *json)
{
	sep(w);
	fbuf_puts(&w->b, json);
}

void jw_kstr(struct jw *w, const char *k, const char *s)
{
	jw_key(w, k);
	jw_str(w, s);
}

void jw_kint(struct jw *w, const char *k, int64_t v)
{
	jw_key(w, k);
	jw_int(w, v);
}

void jw_kbool(struct jw *w, const char *k, bool v)
{
	jw_key(w, k);
	jw_bool(w, v);
}

void jw_knull(struct jw *w, const char *k)
{
	jw_key(w, k);
	jw_null(w);
}

char *jw_finish(struct jw *w, size_t *len)
{
	char *s;

	fbuf_add(&w->b, "", 0);
	s = w->b.data;
	if (len)
		*len = w->b.len;
	memset(w, 0, sizeof(*w));
	return s;
}
