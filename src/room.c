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
