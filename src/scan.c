/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "scan.h"
#include "state.h"
#include "synapse.h"
#include "xmalloc.h"

/* The de-duplication set: 64-bit hashes of room ids, open addressing. A
 * collision could only make us skip a room this run; it is seen next run.
 * Sized once from the first page's total_rooms (8 bytes a room and 1/7
 * more), so a million rooms never hold the old and the doubled table at
 * once; it grows only past that. Any size, the slot taken by modulo. */
struct seen_set {
	uint64_t *slots;
	size_t cap;
	size_t n;
};

/* The most rooms the set is sized for up front: beyond, it grows as rooms
 * come, so a hostile total_rooms cannot make us ask for a huge table. */
#define SEEN_PRESIZE_MAX (8u << 20)

/* Pages fetched at once: the page the listing continues with, and one more
 * at the offset it will most likely continue from, so that a slow room
 * list query overlaps the previous one. Each holds a response body. */
#define PAGES_IN_FLIGHT 2

/* Rows of an answered page decided per turn of the network loop: deciding
 * a whole page at once (a few ms for 1000 rows) would leave the answers to
 * lookups waiting that long. */
#define ROWS_PER_TURN 16

struct scan;

/* One room-list request and, once answered, its parsed page. Pages are
 * taken strictly in next_batch order, as a sequential scan would. */
struct page_slot {
	struct scan *scan;
	int64_t from;
	bool answered;
	bool stale;                /* off the next_batch chain: dropped */
	int error;                 /* < 0: the answer was refused or broken */
	bool auth_error;
	char why[256];
	char row_error[160];       /* a row the page may not have (over the limit) */
	struct room_page page;
};

struct scan {
	const struct scan_config *cfg;
	struct scan_result *res;
	struct seen_set seen;
	unsigned page_size;
	unsigned waiting;          /* rooms waiting for lookups */
	int64_t next_from;         /* where the listing continues, -1 at the end */
	struct page_slot *slots[PAGES_IN_FLIGHT]; /* by offset, [0] first */
	unsigned n_slots;
	struct page_slot *taking;  /* the page whose rows are being decided */
	size_t taken;              /* rows of it decided so far */
	bool last_page_seen;
	bool full_pages;           /* the last page continued at from + page_size */
	bool stopped;              /* fatal error: deliver no more verdicts */
};

struct waiting_room {
	struct scan *scan;
	struct room_facts f;
};

static bool seen_insert(struct seen_set *s, uint64_t h);

static void seen_resize(struct seen_set *s, size_t cap)
{
	struct seen_set bigger = { .cap = cap };

	bigger.slots = xcalloc(bigger.cap, sizeof(uint64_t));
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i])
			seen_insert(&bigger, s->slots[i]);
	free(s->slots);
	*s = bigger;
}

/* Room for rooms at most 7/8 full: the hashes are uniform, so linear
 * probing stays short. */
static size_t seen_cap_for(size_t rooms)
{
	return rooms / 7 * 8 + 1024;
}

static void seen_reserve(struct seen_set *s, int64_t rooms)
{
	size_t want = seen_cap_for(rooms < 0 ? 0 : rooms > SEEN_PRESIZE_MAX ? SEEN_PRESIZE_MAX : (size_t)rooms);

	if (want > s->cap)
		seen_resize(s, want);
}

static bool seen_insert(struct seen_set *s, uint64_t h)
{
	size_t i;

	h = h ? h : 1; /* 0 marks an empty slot */
	if ((s->n + 1) * 8 > s->cap * 7)
		seen_resize(s, s->cap ? 2 * s->cap : seen_cap_for(0));
	for (i = h % s->cap; s->slots[i]; i = i + 1 == s->cap ? 0 : i + 1)
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

static bool slot_requested(const struct scan *s, int64_t from)
{
	for (unsigned i = 0; i < s->n_slots; i++)
		if (s->slots[i]->from == from && !s->slots[i]->stale)
			return true;
	return false;
}

/* A page's rows are read one by one as they arrive: never a whole page's
 * JSON tree in memory. A retried request starts its rows over. */
static void page_begin(void *ud)
{
	struct page_slot *slot = ud;

	synapse_room_page_begin(&slot->page);
	slot->row_error[0] = '\0';
}

static int page_row(void *ud, const char *member, struct json_object *row)
{
	(void)member;
	struct page_slot *slot = ud;

	return synapse_room_page_add(&slot->page, slot->scan->page_size, row, slot->row_error,
				     sizeof(slot->row_error));
}

static int request_page_at(struct scan *s, int64_t from)
{
	struct page_slot *slot = xcalloc(1, sizeof(*slot));
	char *path = synapse_path_room_list(from, s->page_size);
	struct http_json_elements rows = { .member = "rooms", .fn = page_row, .begin = page_begin, .ud = slot };
	int r;

	slot->scan = s;
	slot->from = from;
	r = http_get_json(s->cfg->http, path, true, &rows, on_page, slot);
	free(path);
	if (r < 0) {
		free(slot);
		scan_fail(s, false, "room list: request could not be queued");
		return r;
	}
	s->slots[s->n_slots++] = slot;
	return 0;
}

/* The next offset to ask for: the continuation of the listing, then, while
 * the server answers whole pages, guesses at the pages after it, never past
 * the first page's total_rooms (a guess that misses is dropped and costs
 * one request). */
static int64_t next_offset_to_request(const struct scan *s)
{
	int64_t from = s->next_from;

	if (from < 0)
		return -1;
	for (unsigned i = 0; i < PAGES_IN_FLIGHT; i++, from += s->page_size) {
		if (i > 0 && (!s->full_pages || from >= s->res->first_total))
			return -1;
		if (!slot_requested(s, from))
			return from;
	}
	return -1;
}

/* Keeps up to PAGES_IN_FLIGHT pages coming, unless the rooms waiting for
 * lookups already fill a page (memory stays O(page)). */
static void request_pages(struct scan *s)
{
	while (!s->stopped && !s->last_page_seen && s->n_slots < PAGES_IN_FLIGHT &&
	       s->waiting <= s->page_size) {
		int64_t from = next_offset_to_request(s);

		if (from < 0 || request_page_at(s, from) < 0)
			return;
	}
}

static void deliver(struct scan *s, struct room_facts *f, const struct verdict *v)
{
	s->cfg->on_verdict(s->cfg->ud, f, v);
	room_facts_clear(f);
}

static void decide_or_fetch(struct scan *s, struct waiting_room *w);

static const char *activity_name(const struct scan *s)
{
	return s->cfg->decide->policy->activity == ACTIVITY_MESSAGES ? "messages" : "events";
}

/* No local member: no new event reaches this server, so the last activity
 * an earlier run found still holds while the counts are the same. */
static bool quiet_room(const struct scan *s, const struct room_facts *f)
{
	return s->cfg->state && f->joined_local_members == 0 && f->state_events >= 0 &&
	       f->joined_members >= 0;
}

/* Decide, with the last activity from the state file when it still holds. */
static void decide_quiet(struct scan *s, struct room_facts *f, struct verdict *v)
{
	int64_t ms;

	decide_room(s->cfg->decide, f, v);
	if (v->kind == VERDICT_NEED_FACTS && (v->need & NEED_LAST_ACTIVITY) && quiet_room(s, f) &&
	    state_quiet_recall(s->cfg->state, f->room_id, activity_name(s), f->joined_members,
			       f->state_events, &ms)) {
		if (ms == STATE_QUIET_NO_EVENTS)
			fact_time_no_events(&f->last_activity);
		else
			fact_time_known(&f->last_activity, ms);
		s->res->recalled++;
		decide_room(s->cfg->decide, f, v);
	}
}

/* A last activity just looked up for a quiet room is kept for next time,
 * and so is the answer that the room has no events. A failed lookup is
 * not: it is asked again. */
static void remember_quiet(struct scan *s, const struct room_facts *f)
{
	const struct fact_time *t = &f->last_activity;
	int64_t ms;

	if (!quiet_room(s, f))
		return;
	if (t->state == FACT_KNOWN && t->ms <= s->cfg->decide->now_ms + CLOCK_SKEW_MS)
		ms = t->ms;
	else if (t->state == FACT_UNKNOWN && t->no_events)
		ms = STATE_QUIET_NO_EVENTS;
	else
		return;
	state_quiet_remember(s->cfg->state, f->room_id, activity_name(s), ms, f->joined_members,
			     f->state_events);
}

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
	remember_quiet(s, &w->f);
	decide_or_fetch(s, w);
	request_pages(s);
}

/* Decide; when a rule needs a costly fact, fetch it and decide again. Each
 * round fetches only unfetched facts, so this ends. */
static void decide_or_fetch(struct scan *s, struct waiting_room *w)
{
	struct verdict v;

	decide_quiet(s, &w->f, &v);
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

	if (!seen_insert(&s->seen, room_id_hash(f->room_id))) {
		s->res->duplicates++;
		room_facts_clear(f);
		return;
	}
	s->res->rooms++;
	decide_quiet(s, f, &v);
	if (v.kind != VERDICT_NEED_FACTS) {
		deliver(s, f, &v);
		return;
	}
	w = xmalloc(sizeof(*w));
	w->scan = s;
	w->f = *f;
	memset(f, 0, sizeof(*f));
	s->waiting++;
	facts_fetch(s->cfg->http, s->cfg->decide->policy->activity, &w->f, v.need, on_facts, w);
}

/* Where the next page starts, with the checks that keep a broken or hostile
 * server from looping us forever (API.md: limit=0 answers next_batch 0). */
static int plan_next_page(struct scan *s, int64_t page_from, const struct room_page *page)
{
	/* 4 x total_rooms + 10000 rows, computed so that a hostile total near
	 * INT64_MAX cannot overflow it. */
	uint64_t total = s->res->first_total > 0 ? (uint64_t)s->res->first_total : 0;
	uint64_t bound = total > (UINT64_MAX - 10000) / 4 ? UINT64_MAX : 4 * total + 10000;

	if (page->next_batch < 0) {
		s->last_page_seen = true;
		s->next_from = -1;
		return 0;
	}
	/* Synapse counts purged rooms again after a restart (its room
	 * statistics rewind): pages past the last room come back empty, yet
	 * with a next_batch. An empty page ends the listing; whether it saw
	 * enough rooms is the truncated-listing check's to judge. */
	if (page->n == 0 && page->bad_rows == 0) {
		s->last_page_seen = true;
		s->next_from = -1;
		return 0;
	}
	if (page->next_batch <= page_from) {
		scan_fail(s, false, "room list: next_batch %lld does not advance from %lld",
			  (long long)page->next_batch, (long long)page_from);
		return -EPROTO;
	}
	/* Offset paging continues at from + limit (API.md); further on, rows
	 * would be skipped unseen (and offsets near INT64_MAX overflow). */
	if (page->next_batch - page_from > (int64_t)s->page_size) {
		scan_fail(s, false, "room list: next_batch %lld skips past from %lld + limit %u",
			  (long long)page->next_batch, (long long)page_from, s->page_size);
		return -EPROTO;
	}
	if (s->res->rooms + s->res->duplicates > bound) {
		scan_fail(s, false, "room list: more than %llu rows for %lld rooms announced",
			  (unsigned long long)bound, (long long)s->res->first_total);
		return -EPROTO;
	}
	s->next_from = page->next_batch;
	return 0;
}

static void slot_free(struct page_slot *slot)
{
	room_page_free(&slot->page);
	free(slot);
}

static void slot_remove(struct scan *s, struct page_slot *slot)
{
	unsigned i = 0;

	while (i < s->n_slots && s->slots[i] != slot)
		i++;
	if (i == s->n_slots)
		return;
	memmove(&s->slots[i], &s->slots[i + 1], (s->n_slots - i - 1) * sizeof(s->slots[0]));
	s->n_slots--;
}

/* The listing did not continue where a request guessed: its answer, if
 * any, is dropped; the rooms on it come on the listing's own pages. */
static void mark_off_chain(struct scan *s)
{
	for (unsigned i = 0; i < s->n_slots; i++) {
		struct page_slot *slot = s->slots[i];

		if (s->last_page_seen || slot->from < s->next_from ||
		    (slot->from - s->next_from) % s->page_size != 0)
			slot->stale = true;
	}
}

static void take_page(struct scan *s, struct page_slot *slot)
{
	struct room_page *page = &slot->page;

	if (slot->error < 0) {
		scan_fail(s, slot->auth_error, "room list (from=%lld): %s", (long long)slot->from,
			  slot->why);
		return;
	}
	if (s->res->pages++ == 0) {
		s->res->first_total = page->total_rooms;
		seen_reserve(&s->seen, page->total_rooms);
	}
	s->res->bad_rows += page->bad_rows;
	if (plan_next_page(s, slot->from, page) < 0)
		return;
	s->full_pages = page->next_batch == slot->from + (int64_t)s->page_size;
	mark_off_chain(s);
	/* Ask for what comes next first, so it overlaps this page's lookups. */
	request_pages(s);
	s->taking = slot;
	s->taken = 0;
}

/* Takes the answered pages that continue the listing, in order, one at a
 * time: the next once every row of the one before was decided. */
static void take_ready_pages(struct scan *s)
{
	while (!s->taking && !s->stopped) {
		struct page_slot *head = NULL;

		for (unsigned i = 0; i < s->n_slots; i++)
			if (s->slots[i]->from == s->next_from && !s->slots[i]->stale)
				head = s->slots[i];
		if (!head || !head->answered)
			return;
		slot_remove(s, head);
		take_page(s, head);
		if (s->taking != head)
			slot_free(head);
	}
}

/* The network loop's work: a few rows of the page being taken. Returns
 * whether rows are left. */
static bool take_some_rows(struct scan *s)
{
	struct page_slot *slot = s->taking;
	size_t end;

	if (!slot)
		return false;
	end = slot->page.n - s->taken < ROWS_PER_TURN ? slot->page.n : s->taken + ROWS_PER_TURN;
	while (s->taken < end && !s->stopped)
		take_room(s, &slot->page.rooms[s->taken++]);
	if (s->taken < slot->page.n && !s->stopped)
		return true;
	s->taking = NULL;
	slot_free(slot);
	take_ready_pages(s);
	return s->taking != NULL;
}

static void parse_answer(struct page_slot *slot, const struct http_response *r)
{
	enum synapse_result res;

	if (slot->row_error[0] && r->error == 0) {
		snprintf(slot->why, sizeof(slot->why), "%s", slot->row_error);
		slot->error = -EPROTO;
		return;
	}
	res = synapse_classify(r, slot->why, sizeof(slot->why));

	if (res != SYNAPSE_OK) {
		slot->error = -EPROTO;
		slot->auth_error = synapse_result_is_auth(res);
		return;
	}
	if (synapse_room_page_of(r, slot->scan->page_size, &slot->page, slot->why,
				    sizeof(slot->why)) < 0)
		slot->error = -EPROTO;
}

static void on_page(const struct http_response *r, void *ud)
{
	struct page_slot *slot = ud;
	struct scan *s = slot->scan;

	if (s->stopped || slot->stale) {
		slot_remove(s, slot);
		slot_free(slot);
		request_pages(s);
		return;
	}
	slot->answered = true;
	parse_answer(slot, r);
	take_ready_pages(s);
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
		h->scan->res->interrupted = true;
		snprintf(h->scan->res->error, sizeof(h->scan->res->error), "interrupted");
	}
	return true;
}

static bool scan_work(void *ud)
{
	struct stop_hook *h = ud;

	return take_some_rows(h->scan);
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

	request_pages(&s);
	r = http_run_working(cfg->http, scan_should_stop, scan_work, &hook);
	for (unsigned i = 0; i < s.n_slots; i++)
		slot_free(s.slots[i]);
	if (s.taking)
		slot_free(s.taking);
	free(s.seen.slots);
	if (s.stopped)
		return result->auth_failed ? -EACCES : r < 0 ? r : -EPROTO;
	if (!s.last_page_seen) {
		snprintf(result->error, sizeof(result->error), "room list ended early");
		return -EPROTO;
	}
	return 0;
}
