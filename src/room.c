/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "room.h"
#include "xmalloc.h"

void fact_time_known(struct fact_time *t, int64_t ms)
{
	fact_time_clear(t);
	t->state = FACT_KNOWN;
	t->ms = ms;
}

void fact_time_unknown(struct fact_time *t, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	fact_time_clear(t);
	t->state = FACT_UNKNOWN;
	t->problem = text;
}

void fact_time_no_events(struct fact_time *t)
{
	fact_time_unknown(t, "no events in the room");
	t->no_events = true;
}

void fact_time_copy(struct fact_time *dst, const struct fact_time *src)
{
	char *problem = src->problem ? xstrdup(src->problem) : NULL;

	fact_time_clear(dst);
	*dst = *src;
	dst->problem = problem;
}

void fact_time_clear(struct fact_time *t)
{
	free(t->problem);
	memset(t, 0, sizeof(*t));
}

void prior_state_clear(struct prior_state *p)
{
	free(p->name);
	for (size_t i = 0; i < p->n_aliases; i++)
		free(p->aliases[i]);
	free(p->aliases);
	free(p->problem);
	memset(p, 0, sizeof(*p));
}

void room_facts_clear(struct room_facts *f)
{
	free(f->room_id);
	free(f->name);
	free(f->canonical_alias);
	free(f->creator);
	free(f->room_type);
	free(f->encryption);
	free(f->join_rule);
	free(f->room_version);
	free(f->row_problem);
	fact_time_clear(&f->last_activity);
	fact_time_clear(&f->created);
	free(f->last_event_id);
	prior_state_clear(&f->prior);
	memset(f, 0, sizeof(*f));
	f->joined_members = -1;
	f->joined_local_members = -1;
	f->state_events = -1;
	f->is_public = TRI_UNKNOWN;
	f->is_federatable = TRI_UNKNOWN;
}

uint64_t room_id_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* 64-bit FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

bool room_id_valid(const char *s)
{
	size_t n;

	if (!s || s[0] != '!')
		return false;
	for (n = 1; s[n]; n++)
		if ((unsigned char)s[n] <= 0x20 || s[n] == 0x7f || n >= ROOM_ID_MAX)
			return false;
	return n >= 2;
}

/* --- the facts a report needs, to a file and back (pool.c's spill) --- */

static int put_bytes(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n ? 0 : -EIO;
}

static int put_i64(FILE *f, int64_t v)
{
	return put_bytes(f, &v, sizeof(v));
}

static int put_str(FILE *f, const char *s)
{
	uint32_t n = s ? (uint32_t)strlen(s) : UINT32_MAX;
	int r = put_bytes(f, &n, sizeof(n));

	return r < 0 || !s ? r : put_bytes(f, s, n);
}

static int put_time(FILE *f, const struct fact_time *t)
{
	int r = put_i64(f, t->state);

	if (r == 0)
		r = put_i64(f, t->ms);
	return r < 0 ? r : put_str(f, t->problem);
}

int room_facts_write(FILE *f, const struct room_facts *r)
{
	const char *const strings[] = { r->room_id, r->name, r->canonical_alias, r->creator, r->room_type,
					r->encryption, r->row_problem, r->join_rule, r->room_version };
	int err = 0;

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]) && err == 0; i++)
		err = put_str(f, strings[i]);
	if (err == 0)
		err = put_i64(f, r->joined_members);
	if (err == 0)
		err = put_i64(f, r->joined_local_members);
	if (err == 0)
		err = put_i64(f, r->is_public);
	if (err == 0)
		err = put_i64(f, r->room_type_known);
	if (err == 0)
		err = put_i64(f, r->state_events);
	if (err == 0)
		err = put_i64(f, r->is_federatable);
	if (err == 0)
		err = put_time(f, &r->last_activity);
	if (err == 0)
		err = put_time(f, &r->created);
	return err;
}

static int get_bytes(FILE *f, void *p, size_t n)
{
	return fread(p, 1, n, f) == n ? 0 : -EIO;
}

static int get_i64(FILE *f, int64_t *v)
{
	return get_bytes(f, v, sizeof(*v));
}

static int get_str(FILE *f, char **s)
{
	uint32_t n;
	int r = get_bytes(f, &n, sizeof(n));

	*s = NULL;
	if (r < 0 || n == UINT32_MAX)
		return r;
	*s = xmalloc((size_t)n + 1);
	(*s)[n] = '\0';
	return get_bytes(f, *s, n);
}

static int get_time(FILE *f, struct fact_time *t)
{
	int64_t state;
	int r = get_i64(f, &state);

	if (r == 0)
		r = get_i64(f, &t->ms);
	t->state = (enum fact_state)state;
	return r < 0 ? r : get_str(f, &t->problem);
}

int room_facts_read(FILE *f, struct room_facts *r)
{
	char **const strings[] = { &r->room_id, &r->name, &r->canonical_alias, &r->creator, &r->room_type,
				   &r->encryption, &r->row_problem, &r->join_rule, &r->room_version };
	int64_t is_public = 0, type_known = 0, federatable = 0;
	int err = 0;

	room_facts_clear(r);
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]) && err == 0; i++)
		err = get_str(f, strings[i]);
	if (err == 0)
		err = get_i64(f, &r->joined_members);
	if (err == 0)
		err = get_i64(f, &r->joined_local_members);
	if (err == 0)
		err = get_i64(f, &is_public);
	r->is_public = (enum tri)is_public;
	if (err == 0)
		err = get_i64(f, &type_known);
	r->room_type_known = type_known != 0;
	if (err == 0)
		err = get_i64(f, &r->state_events);
	if (err == 0)
		err = get_i64(f, &federatable);
	r->is_federatable = (enum tri)federatable;
	if (err == 0)
		err = get_time(f, &r->last_activity);
	if (err == 0)
		err = get_time(f, &r->created);
	return err;
}
