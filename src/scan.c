/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "scan.h"
#include "synapse.h"
#include "util.h"

/* The de-duplication set: 64-bit hashes of room ids, open addressing. A
 * collision could only make us skip a room this run; it is seen next run. */
struct seen_set {
	uint64_t *slots;
	size_t cap;
	size_t n;
};

struct scan {
	const struct scan_config *cfg;
	struct scan_result *res;
	struct seen_set seen;
	unsigned page_size;
	unsigned waiting;          /* rooms waiting for lookups */
	int64_t page_from;         /* offset of the page in flight or last received */
	int64_t next_from;         /* next page to ask for, -1 when none */
	bool page_in_flight;
	bool last_page_seen;
	bool stopped;              /* fatal error: deliver no more verdicts */
};

struct waiting_room {
	struct scan *scan;
	struct room_facts f;
};

static bool seen_insert(struct seen_set *s, uint64_t h);

static void seen_grow(struct seen_set *s)
{
	struct seen_set bigger = { .cap = s->cap ? s->cap * 2 : 1024 };

	bigger.slots = xcalloc(bigger.cap, sizeof(uint64_t));
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i])
			seen_insert(&bigger, s->slots[i]);
	free(s->slots);
	*s = bigger;
}

static bool seen_insert(struct seen_set *s, uint64_t h)
{
	size_t i;

	h = h ? h : 1; /* 0 marks an empty slot */
	if ((s->n + 1) * 4 > s->cap * 3)
		seen_grow(s);
	for (i = h & (s->cap - 1); s->slots[i]; i = (i + 1) & (s->cap - 1))
		if (s->slots[i] == h)
			return false;
	s->slots[i] = h;
	s->n++;
	return true;
}

static void scan_fail(struct scan *s, bool auth, const char *fmt, ...) SJ_PRINTF(3, 4);
static void scan_fail(struct scan *s, bool auth, const char *fmt, ...)
{
	va_list ap;

	if (s->stopped)
		return;
	s->stopped = true;
	s->res->auth_failed = auth;
	va_start(ap, fmt);
	vsnprintf(s->res->error, sizeof(s->res->error), fmt, ap);
	va_end(ap);
	/* Nothing more is needed from the server: fail what is in flight. */
	http_cancel_all(s->cfg->http);
}

static void on_page(const struct http_response *r, void *ud);

static void request_page(struct scan *s)
{
	char *path;

	if (s->stopped || s->page_in_flight || s->next_from < 0 || s->waiting > s->page_size)
		return;
	path = synapse_path_room_list(s->next_from, s->page_size);
	s->page_from = s->next_from;
	s->next_from = -1;
	s->page_in_flight = true;
	if (http_get(s->cfg->http, path, true, on_page, s) < 0) {
		s->page_in_flight = false;
		scan_fail(s, false, "room list: request could not be queued");
	}
	free(path);
}

static void deliver(struct scan *s, struct room_facts *f, const struct verdict *v)
{
	s->cfg->on_verdict(s->cfg->ud, f, v);
	room_facts_clear(f);
}

static void decide_or_fetch(struct scan *s, struct waiting_room *w);

static void on_facts(void *ud, int auth_error, const char *why)
{
	struct waiting_room *w = ud;
	struct scan *s = w->scan;

	s->waiting--;
	if (auth_error)
		scan_fail(s, true, "%s", why);
	if (s->stopped) {
		room_facts_clear(&w->f);
		free(w);
		return;
	}
	decide_or_fetch(s, w);
	request_page(s);
}

/* Decide; when a rule needs a costly fact, fetch it and decide again. Each
 * round fetches only unfetched facts, so this ends. */
static void decide_or_fetch(struct scan *s, struct waiting_room *w)
{
	struct verdict v;

	decide_room(s->cfg->decide, &w->f, &v);
	if (v.kind == VERDICT_NEED_FACTS) {
		s->waiting++;
		facts_fetch(s->cfg->http, s->cfg->decide->policy->activity, &w->f, v.need, on_facts, w);
		return;
	}
	deliver(s, &w->f, &v);
	free(w);
}

static void take_room(struct scan *s, struct room_facts *f)
{
	struct verdict v;
	struct waiting_room *w;

	if (!seen_insert(&s->seen, hash64(f->room_id))) {
		s->res->duplicates++;
		room_facts_clear(f);
		return;
	}
	s->res->rooms++;
	decide_room(s->cfg->decide, f, &v);
	if (v.kind != VERDICT_NEED_FACTS) {
		deliver(s, f, &v);
		return;
	}
	s->res->lookups++;
	w = xmalloc(sizeof(*w));
	w->scan = s;
	w->f = *f;
	memset(f, 0, sizeof(*f));
	s->waiting++;
	facts_fetch(s->cfg->http, s->cfg->decide->policy->activity, &w->f, v.need, on_facts, w);
}

/* Where the next page starts, with the checks that keep a broken or hostile
 * server from looping us forever (API.md: limit=0 answers next_batch 0). */
static int plan_next_page(struct scan *s, const struct room_page *page)
{
	int64_t bound = 4 * (s->res->first_total > 0 ? s->res->first_total : 0) + 10000;

	if (page->next_batch < 0) {
		s->last_page_seen = true;
		return 0;
	}
	if (page->n == 0 || page->next_batch <= s->page_from) {
		scan_fail(s, false, "room list: next_batch %lld does not advance from %lld",
			  (long long)page->next_batch, (long long)s->page_from);
		return -EPROTO;
	}
	if ((int64_t)(s->res->rooms + s->res->duplicates) > bound) {
		scan_fail(s, false, "room list: more than %lld rows for %lld rooms announced",
			  (long long)bound, (long long)s->res->first_total);
		return -EPROTO;
	}
	s->next_from = page->next_batch;
	return 0;
}

static void on_page(const struct http_response *r, void *ud)
{
	struct scan *s = ud;
	struct room_page page = { 0 };
	enum synapse_result res;
	char why[256];

	s->page_in_flight = false;
	if (s->stopped)
		return;
	res = synapse_classify(r, why, sizeof(why));
	if (res != SYNAPSE_OK) {
		scan_fail(s, synapse_result_is_auth(res), "room list (from=%lld): %s",
			  (long long)s->page_from, why);
		return;
	}
	if (synapse_parse_room_page(r->body, r->body_len, &page, why, sizeof(why)) < 0) {
		scan_fail(s, false, "room list (from=%lld): %s", (long long)s->page_from, why);
		return;
	}
	if (s->res->pages++ == 0)
		s->res->first_total = page.total_rooms;
	s->res->bad_rows += page.bad_rows;
	/* Ask for the next page first, so it overlaps this page's lookups. */
	if (plan_next_page(s, &page) == 0)
		request_page(s);
	for (size_t i = 0; i < page.n && !s->stopped; i++)
		take_room(s, &page.rooms[i]);
	room_page_free(&page);
}

struct stop_hook {
	struct scan *scan;
	bool (*should_stop)(void *);
	void *ud;
};

/* An interrupted scan delivers no more verdicts: lookups cancelled by the
 * stop must not turn into "kept in doubt" records. */
static bool scan_should_stop(void *ud)
{
	struct stop_hook *h = ud;

	if (!h->should_stop || !h->should_stop(h->ud))
		return false;
	if (!h->scan->stopped) {
		h->scan->stopped = true;
		snprintf(h->scan->res->error, sizeof(h->scan->res->error), "interrupted");
	}
	return true;
}

int scan_run(const struct scan_config *cfg, bool (*should_stop)(void *), void *stop_ud,
	     struct scan_result *result)
{
	struct scan s = {
		.cfg = cfg,
		.res = result,
		.page_size = cfg->decide->policy->homeserver.page_size,
		.next_from = 0,
	};
	int r;

	memset(result, 0, sizeof(*result));
	result->first_total = -1;
	if (s.page_size == 0)
		s.page_size = 1; /* never limit=0 (API.md) */
	struct stop_hook hook = { .scan = &s, .should_stop = should_stop, .ud = stop_ud };

	request_page(&s);
	r = http_run(cfg->http, scan_should_stop, &hook);
	free(s.seen.slots);
	if (s.stopped)
		return result->auth_failed ? -EACCES : r < 0 ? r : -EPROTO;
	if (!s.last_page_seen) {
		snprintf(result->error, sizeof(result->error), "room list ended early");
		return -EPROTO;
	}
	result->complete = true;
	return 0;
}
