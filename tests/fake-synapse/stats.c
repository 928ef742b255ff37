/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Request counters per endpoint and DELETEs per room, for GET /_fake/stats:
 * tests assert how many requests a run cost. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fake.h"

static const char *const names[EP_COUNT] = {
	"server_version", "whoami", "directory", "rooms_list", "room_details", "members", "state",
	"forward_extremities", "timestamp_to_event", "messages", "delete", "delete_status",
	"room_delete_status", "context", "other",
};

const char *endpoint_name(enum endpoint e)
{
	return e < EP_COUNT ? names[e] : "other";
}

void stats_count(struct stats *s, enum endpoint e)
{
	s->requests[e < EP_COUNT ? e : EP_OTHER]++;
}

void stats_arrival(struct stats *s, int64_t mono_ms, enum endpoint e, int status)
{
	if (s->n_arrivals < ARRIVALS_MAX)
		s->arrivals[s->n_arrivals++] = (struct arrival){ mono_ms, e, status };
}

/* {"requests":[{"t":mono_ms,"endpoint":"members","status":429},...]}:
 * in the order they were answered; t is when each arrived. */
char *stats_arrivals_json(const struct stats *s)
{
	struct jw j = { 0 };

	jw_obj_open(&j);
	jw_key(&j, "requests");
	jw_arr_open(&j);
	for (size_t i = 0; i < s->n_arrivals; i++) {
		jw_obj_open(&j);
		jw_kint(&j, "t", s->arrivals[i].mono_ms);
		jw_kstr(&j, "endpoint", endpoint_name(s->arrivals[i].ep));
		jw_kint(&j, "status", s->arrivals[i].status);
		jw_obj_close(&j);
	}
	jw_arr_close(&j);
	jw_obj_close(&j);
	return jw_finish(&j, NULL);
}

void stats_delete(struct stats *s, const char *room_id, const char *body_json)
{
	struct delete_count *d = NULL;

	for (size_t i = 0; i < s->n_deletes; i++)
		if (strcmp(s->deletes[i].room_id, room_id) == 0)
			d = &s->deletes[i];
	if (!d) {
		s->deletes = fs_xrealloc(s->deletes, (s->n_deletes + 1) * sizeof(*s->deletes));
		d = &s->deletes[s->n_deletes++];
		memset(d, 0, sizeof(*d));
		d->room_id = fs_xstrdup(room_id);
	}
	d->n++;
	free(d->last_body);
	d->last_body = fs_xstrdup(body_json);
}

char *stats_json(const struct stats *s, size_t rooms)
{
	struct jw j = { 0 };
	int64_t total = 0;

	jw_obj_open(&j);
	jw_key(&j, "requests");
	jw_obj_open(&j);
	for (int e = 0; e < EP_COUNT; e++) {
		jw_kint(&j, names[e], s->requests[e]);
		total += s->requests[e];
	}
	jw_obj_close(&j);
	jw_kint(&j, "total", total);
	jw_key(&j, "deletes");
	jw_obj_open(&j);
	for (size_t i = 0; i < s->n_deletes; i++)
		jw_kint(&j, s->deletes[i].room_id, s->deletes[i].n);
	jw_obj_close(&j);
	jw_key(&j, "delete_bodies");
	jw_obj_open(&j);
	for (size_t i = 0; i < s->n_deletes; i++) {
		jw_key(&j, s->deletes[i].room_id);
		jw_raw(&j, s->deletes[i].last_body);
	}
	jw_obj_close(&j);
	jw_kint(&j, "rooms", (int64_t)rooms);
	jw_kint(&j, "max_concurrent", s->max_concurrent);
	jw_obj_close(&j);
	return jw_finish(&j, NULL);
}

void stats_reset(struct stats *s)
{
	for (size_t i = 0; i < s->n_deletes; i++) {
		free(s->deletes[i].room_id);
		free(s->deletes[i].last_body);
	}
	free(s->deletes);
	s->deletes = NULL;
	s->n_deletes = 0;
	s->n_arrivals = 0;
	memset(s->requests, 0, sizeof(s->requests));
	s->max_concurrent = s->in_flight;
}
