/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "idmap.h"
#include "room.h"
#include "state.h"
#include "xmalloc.h"
#include "file.h"

/* Version 2 keeps the candidates and the quiet rooms in arrays, read one
 * entry at a time (json.c's elements): never a tree of the whole file. A
 * version 1 file (candidates as an object) is still read. */
#define STATE_VERSION 2
#define STATE_MAX_SIZE (256u << 20) /* far beyond any real state: a sign of damage */

/* A room without a local member, as the last run found it. */
struct quiet_room {
	uint64_t hash;             /* room_id_hash */
	int64_t last_ms;
	uint32_t joined;
	uint32_t state_events;
};

struct state {
	char *path;
	char *lock_path;
	int lock_fd;
	struct idmap cands;        /* room id -> first seen as a candidate */
	struct state_delete *dels; /* sorted by room_id */
	size_t n_dels;
	char *quiet_activity;      /* the activity setting the quiet rooms were read with */
	struct quiet_room *quiet;  /* from the file, sorted by hash */
	size_t n_quiet, cap_quiet;
	uint8_t *quiet_used;       /* per loaded entry: recalled this run */
	struct quiet_room *fresh;  /* remembered this run */
	size_t n_fresh, cap_fresh;
	char *fresh_activity;
	bool readonly;             /* state_open_readonly: never written */
};

static const char *const phase_names[] = {
	[STATE_REQUESTED] = "requested",
	[STATE_PENDING] = "pending",
	[STATE_COMPLETED] = "completed",
};

/* --- the deletes: a small array sorted by room id --- */

static size_t find_index(const struct state_delete *d, size_t n, const char *room_id, bool *found)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(d[mid].room_id, room_id);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static struct state_delete *del_get(struct state *s, const char *room_id)
{
	bool found;
	size_t i = find_index(s->dels, s->n_dels, room_id, &found);

	if (found)
		return &s->dels[i];
	s->dels = xreallocarray(s->dels, s->n_dels + 1, sizeof(*s->dels));
	memmove(&s->dels[i + 1], &s->dels[i], (s->n_dels - i) * sizeof(*s->dels));
	s->n_dels++;
	s->dels[i] = (struct state_delete){ .room_id = xstrdup(room_id), .requested_ms = -1,
					    .started_ms = -1, .completed_ms = -1 };
	return &s->dels[i];
}

static void del_clear(struct state_delete *d)
{
	free(d->room_id);
	free(d->delete_id);
}

static void del_remove_at(struct state *s, size_t i)
{
	del_clear(&s->dels[i]);
	memmove(&s->dels[i], &s->dels[i + 1], (s->n_dels - i - 1) * sizeof(*s->dels));
	s->n_dels--;
}

/* --- the lock --- */

static int lock_take(struct state *s, char *why, size_t whylen)
{
	char buf[32];
	ssize_t n;
	int r;

	s->lock_fd = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		r = -errno;
		snprintf(why, whylen, "%s: %s", s->lock_path, strerror(-r));
		return r;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		n = pread(s->lock_fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (r == -EBUSY)
			snprintf(why, whylen, "%s is in use by another synapse-janitor (pid %s)",
				 s->path, buf[0] ? buf : "unknown");
		else
			snprintf(why, whylen, "%s: cannot lock: %s", s->lock_path, strerror(-r));
		return r;
	}
	/* Who holds it, for the next process that finds it locked. */
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(s->lock_fd, 0) < 0 || pwrite(s->lock_fd, buf, (size_t)n, 0) != n) {
		r = -errno;
		snprintf(why, whylen, "%s: %s", s->lock_path, strerror(-r));
		return r;
	}
	return 0;
}

/* --- loading --- */

/* A millisecond time: a JSON integer, not negative. */
static bool get_time(struct json_object *o, const char *key, bool required, int64_t *out)
{
	int r = json_get_int64(o, key, out);

	if (r == -ENOENT) {
		*out = -1;
		return !required;
	}
	return r == 0 && *out >= 0;
}

static bool parse_phase(const char *s, enum state_phase *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(phase_names); i++)
		if (strcmp(s, phase_names[i]) == 0) {
			*out = (enum state_phase)i;
			return true;
		}
	return false;
}

struct load {
	struct state *s;
	int64_t version;
	char *err;
	size_t errlen;
};

static int load_fail(struct load *l, const char *fmt, const char *what) SJ_PRINTF(2, 0);
static int load_fail(struct load *l, const char *fmt, const char *what)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(l->err, l->errlen, fmt, what);
#pragma GCC diagnostic pop
	return -EBADMSG;
}

/* Version 1: "candidates": {"!room": first_seen, ...}. */
static int load_candidate_v1(const char *room, struct json_object *v, void *ud)
{
	struct load *l = ud;
	int64_t ms;
	bool added;

	if (json_as_int64(v, &ms) < 0 || ms < 0)
		return load_fail(l, "candidates.%s: not a time", room);
	idmap_put(&l->s->cands, room, ms, &added);
	return 0;
}

/* Version 2: "candidates": [["!room", first_seen], ...]. */
static int load_candidate(struct load *l, struct json_object *e)
{
	struct json_object *pair[2];
	const char *room;
	int64_t first;
	bool added;

	if (!json_array_items(e, pair, 2) || json_as_string(pair[0], &room) < 0 || !room_id_valid(room) ||
	    json_as_int64(pair[1], &first) < 0 || first < 0)
		return load_fail(l, "candidates: %s is not [room id, time]", "an entry");
	idmap_put(&l->s->cands, room, first, &added);
	return added ? 0 : load_fail(l, "candidates: %s is listed twice", room);
}

/* --- quiet rooms, the values the file and a run may give --- */

static bool quiet_fits(int64_t v)
{
	return v >= 0 && v <= (int64_t)UINT32_MAX;
}

static bool quiet_last_ms_valid(int64_t ms)
{
	return ms >= 0 || ms == STATE_QUIET_NO_EVENTS;
}

static void quiet_push(struct quiet_room **v, size_t *n, size_t *cap, struct quiet_room q)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 256;
		*v = xreallocarray(*v, *cap, sizeof(**v));
	}
	(*v)[(*n)++] = q;
}

/* "quiet": [["<16 hex digits>", last_activity, joined_members, state_events], ...];
 * last_activity -1: the room had no events. */
static int load_quiet(struct load *l, struct json_object *e)
{
	struct json_object *v[4];
	const char *hex;
	int64_t n[3];
	char *end;
	struct quiet_room q;
	struct state *s = l->s;

	if (!json_array_items(e, v, 4) || json_as_string(v[0], &hex) < 0 || strlen(hex) != 16)
		return load_fail(l, "quiet: %s is not [hash, time, members, state events]", "an entry");
	for (int i = 0; i < 3; i++)
		if (json_as_int64(v[i + 1], &n[i]) < 0 || !(i == 0 ? quiet_last_ms_valid(n[i]) : quiet_fits(n[i])))
			return load_fail(l, "quiet: %s is not [hash, time, members, state events]", hex);
	q.hash = strtoull(hex, &end, 16);
	if (*end)
		return load_fail(l, "quiet: %s is not a hash", hex);
	q.last_ms = n[0];
	q.joined = (uint32_t)n[1];
	q.state_events = (uint32_t)n[2];
	if (s->n_quiet && s->quiet[s->n_quiet - 1].hash >= q.hash)
		return load_fail(l, "quiet: %s is out of order", hex);
	quiet_push(&s->quiet, &s->n_quiet, &s->cap_quiet, q);
	return 0;
}

static int load_element(void *ud, const char *member, struct json_object *e)
{
	return strcmp(member, "quiet") == 0 ? load_quiet(ud, e) : load_candidate(ud, e);
}

static int load_delete(const char *room, struct json_object *o, void *ud)
{
	struct load *l = ud;
	struct state_delete *d;
	enum state_phase phase;
	int64_t req, started, done;
	const char *text, *id = NULL;
	int r;

	if (json_get_string(o, "phase", &text) < 0 || !parse_phase(text, &phase))
		goto bad;
	r = json_get_string(o, "delete_id", &id);
	if ((r < 0 && r != -ENOENT) || (r == 0 && !id[0]))
		goto bad;
	if (!get_time(o, "requested", phase != STATE_COMPLETED, &req) ||
	    !get_time(o, "started", phase == STATE_PENDING, &started) ||
	    !get_time(o, "completed", phase == STATE_COMPLETED, &done) ||
	    (phase == STATE_PENDING && !id))
		goto bad;
	d = del_get(l->s, room);
	d->phase = phase;
	d->requested_ms = req;
	d->started_ms = started;
	d->completed_ms = done;
	d->delete_id = xstrdup(id);
	return 0;
bad:
	return load_fail(l, "deletes.%s: not a delete entry", room);
}

/* What is left of the file once the entries were taken out: the version,
 * the deletes, and the arrays (their elements now 0). */
static int load_rest(struct load *l, struct json_object *root)
{
	struct json_object *cands, *dels, *quiet;
	const char *activity;
	int r;

	if (json_get_int64(root, "version", &l->version) < 0 || l->version < 1 || l->version > STATE_VERSION)
		return load_fail(l, "not a version 1 or %s state file", "2");
	if (json_get_object(root, "deletes", &dels) < 0 ||
	    (l->version == 1 ? json_get_object(root, "candidates", &cands)
			     : json_get_array(root, "candidates", &cands)) < 0)
		return load_fail(l, "%s missing", "candidates or deletes");
	if (l->version == 1) {
		r = json_each_member(cands, load_candidate_v1, l);
		if (r < 0)
			return r;
	}
	r = json_get_array(root, "quiet", &quiet);
	if (r < 0 && r != -ENOENT)
		return load_fail(l, "quiet: %s", "not a list");
	r = json_get_string(root, "quiet_activity", &activity);
	if (r == 0)
		l->s->quiet_activity = xstrdup(activity);
	else if (r != -ENOENT || l->s->n_quiet)
		return load_fail(l, "quiet_activity: %s", "missing or not a string");
	return json_each_member(dels, load_delete, l);
}

/* Read and parsed a piece at a time. -EBADMSG (err says why): the file does
 * not parse or fails validation; another negative errno: it could not be
 * read. */
static int load_file(struct state *s, int fd, char *err, size_t errlen)
{
	static const char *const arrays[] = { "candidates", "quiet", NULL };
	struct load l = { .s = s, .err = err, .errlen = errlen };
	struct json_stream *js = json_stream_new_elements(arrays, load_element, &l);
	struct json_object *root = NULL;
	struct stat st;
	char chunk[65536];
	int r = 0;

	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (S_ISDIR(st.st_mode))
		r = -EISDIR;
	else if (st.st_size > (off_t)STATE_MAX_SIZE)
		r = -EFBIG;
	while (r == 0) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		json_stream_feed(js, chunk, (size_t)n);
	}
	if (r == 0) {
		err[0] = '\0';
		r = json_stream_finish(js, &root, err, errlen);
		if (r < 0 && !err[0])
			snprintf(err, errlen, "not a state file");
		if (r < 0)
			r = -EBADMSG;
		else
			r = load_rest(&l, root);
	}
	json_put(root);
	json_stream_free(js);
	return r;
}

static void state_reset(struct state *s)
{
	idmap_free(&s->cands);
	for (size_t i = 0; i < s->n_dels; i++)
		del_clear(&s->dels[i]);
	free(s->dels);
	s->dels = NULL;
	s->n_dels = 0;
	free(s->quiet);
	free(s->quiet_used);
	free(s->fresh);
	free(s->quiet_activity);
	free(s->fresh_activity);
	s->quiet = s->fresh = NULL;
	s->quiet_used = NULL;
	s->quiet_activity = s->fresh_activity = NULL;
	s->n_quiet = s->cap_quiet = s->n_fresh = s->cap_fresh = 0;
}

/* A damaged state cannot tell grace periods or pending deletes: keep it for
 * the admin to inspect and start afresh (the caller deletes nothing). */
static int move_aside(struct state *s, int64_t now_ms, const char *problem, char *why, size_t whylen)
{
	char *aside = xasprintf("%s.corrupt-%lld", s->path, (long long)(now_ms / 1000));
	int r = rename(s->path, aside) < 0 ? -errno : 0;

	state_reset(s);
	if (r < 0)
		snprintf(why, whylen, "%s: %s; it could not be moved aside: %s", s->path, problem,
			 strerror(-r));
	else
		snprintf(why, whylen, "%s: %s; moved aside to %s", s->path, problem, aside);
	free(aside);
	return -EBADMSG;
}

int state_open(const char *path, int64_t now_ms, struct state **out, char *why, size_t whylen)
{
	struct state *s = xcalloc(1, sizeof(*s));
	char err[200];
	int fd, r;

	s->path = xstrdup(path);
	s->lock_path = xasprintf("%s.lock", path);
	s->lock_fd = -1;
	why[0] = '\0';
	r = lock_take(s, why, whylen);
	if (r < 0)
		goto fail;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT) {
		*out = s;
		return 0;
	}
	r = fd < 0 ? -errno : load_file(s, fd, err, sizeof(err));
	if (fd >= 0)
		close(fd);
	if (r == -EBADMSG) {
		r = move_aside(s, now_ms, err, why, whylen);
	} else if (r < 0) {
		/* EIO, EACCES, EISDIR, EMFILE, ENOMEM, a file past the size
		 * cap...: not proof of damage. Moving it aside would forget
		 * pending deletes and the 30-day memory of completed ones; the
		 * run stops and the file stays where it is (DESIGN.md §6.12). */
		snprintf(why, whylen, "%s: cannot be read: %s", path, strerror(-r));
		goto fail;
	}
	s->quiet_used = xcalloc(s->n_quiet + 1, 1);
	*out = s;
	return r;
fail:
	state_close(s);
	return r;
}

int state_open_readonly(const char *path, struct state **out, char *why, size_t whylen)
{
	struct state *s = xcalloc(1, sizeof(*s));
	char err[200];
	int fd, r = 0;

	s->path = xstrdup(path);
	s->lock_path = xasprintf("%s.lock", path);
	s->lock_fd = -1;
	s->readonly = true;
	why[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno != ENOENT)
		r = -errno;
	else if (fd >= 0)
		r = load_file(s, fd, err, sizeof(err));
	if (fd >= 0)
		close(fd);
	if (r == -EBADMSG)
		snprintf(why, whylen, "%s: %s", path, err);
	else if (r < 0)
		snprintf(why, whylen, "%s: cannot be read: %s", path, strerror(-r));
	if (r < 0) {
		state_close(s);
		return r;
	}
	s->quiet_used = xcalloc(s->n_quiet + 1, 1);
	*out = s;
	return 0;
}

void state_close(struct state *s)
{
	if (!s)
		return;
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* releases the flock */
	state_reset(s);
	free(s->path);
	free(s->lock_path);
	free(s);
}

const char *state_path(const struct state *s)
{
	return s->path;
}

/* --- saving --- */

static void expire_completed(struct state *s, int64_t now_ms)
{
	for (size_t i = 0; i < s->n_dels;) {
		const struct state_delete *d = &s->dels[i];

		if (d->phase == STATE_COMPLETED && now_ms - d->completed_ms > STATE_COMPLETED_KEEP_MS)
			del_remove_at(s, i);
		else
			i++;
	}
}

static void put_time(struct buf *b, const char *key, int64_t ms)
{
	if (ms < 0)
		return;
	buf_puts(b, ", ");
	json_append_string(b, key);
	buf_printf(b, ": %" PRId64, ms);
}

static void put_delete(struct buf *b, const struct state_delete *d)
{
	buf_puts(b, "{\"phase\": ");
	json_append_string(b, phase_names[d->phase]);
	if (d->delete_id) {
		buf_puts(b, ", \"delete_id\": ");
		json_append_string(b, d->delete_id);
	}
	put_time(b, "requested", d->requested_ms);
	put_time(b, "started", d->started_ms);
	put_time(b, "completed", d->completed_ms);
	buf_putc(b, '}');
}

static int by_hash(const void *a, const void *b)
{
	uint64_t x = ((const struct quiet_room *)a)->hash, y = ((const struct quiet_room *)b)->hash;

	return x < y ? -1 : x > y;
}

/* The quiet rooms to keep: those remembered this run, and those recalled
 * from the file (a room that left the listing, or now needs no lookup, is
 * forgotten). Both lists are sorted by hash, so they are merged as they
 * are written, without a copy of either. */
struct quiet_merge {
	const struct state *s;
	size_t fresh, loaded;      /* the next of each */
};

static void quiet_merge_start(struct state *s, struct quiet_merge *m)
{
	size_t n = 0;

	if (s->n_fresh)
		qsort(s->fresh, s->n_fresh, sizeof(*s->fresh), by_hash);
	for (size_t i = 0; i < s->n_fresh; i++)
		if (n == 0 || s->fresh[n - 1].hash != s->fresh[i].hash)
			s->fresh[n++] = s->fresh[i];
	s->n_fresh = n;
	*m = (struct quiet_merge){ .s = s };
}

/* The next room to save, or NULL; remembered this run wins over the file. */
static const struct quiet_room *quiet_merge_next(struct quiet_merge *m)
{
	const struct state *s = m->s;
	const struct quiet_room *f;

	while (m->loaded < s->n_quiet && !s->quiet_used[m->loaded])
		m->loaded++;
	f = m->fresh < s->n_fresh ? &s->fresh[m->fresh] : NULL;
	if (m->loaded < s->n_quiet && (!f || s->quiet[m->loaded].hash < f->hash))
		return &s->quiet[m->loaded++];
	if (f && m->loaded < s->n_quiet && s->quiet[m->loaded].hash == f->hash)
		m->loaded++;
	if (f)
		m->fresh++;
	return f;
}

/* The file, written as it goes (a large state is never one buffer), one
 * entry a line so a human can read it and diff two of them. */
static void write_state(struct state *s, FILE *f)
{
	const struct idmap_entry **cands = idmap_sorted(&s->cands);
	const char *activity = s->fresh_activity ? s->fresh_activity : s->quiet_activity;
	const struct quiet_room *q;
	struct quiet_merge merge;
	struct buf b = { 0 };

	fprintf(f, "{\n  \"version\": %d,\n  \"deletes\": {", STATE_VERSION);
	for (size_t i = 0; i < s->n_dels; i++) {
		buf_reset(&b);
		buf_puts(&b, i ? ",\n    " : "\n    ");
		json_append_string(&b, s->dels[i].room_id);
		buf_puts(&b, ": ");
		put_delete(&b, &s->dels[i]);
		fputs(b.data, f);
	}
	fputs(s->n_dels ? "\n  },\n  \"candidates\": [" : "},\n  \"candidates\": [", f);
	for (size_t i = 0; cands[i]; i++) {
		buf_reset(&b);
		buf_puts(&b, i ? ",\n    [" : "\n    [");
		json_append_string(&b, idmap_id(&s->cands, cands[i]));
		buf_printf(&b, ", %" PRId64 "]", cands[i]->ms);
		fputs(b.data, f);
	}
	fputs(s->cands.n ? "\n  ]" : "]", f);
	quiet_merge_start(s, &merge);
	q = quiet_merge_next(&merge);
	if (q && activity) {
		buf_reset(&b);
		buf_puts(&b, ",\n  \"quiet_activity\": ");
		json_append_string(&b, activity);
		fprintf(f, "%s,\n  \"quiet\": [", b.data);
		for (bool first = true; q; q = quiet_merge_next(&merge), first = false)
			fprintf(f, "%s[\"%016" PRIx64 "\", %" PRId64 ", %" PRIu32 ", %" PRIu32 "]",
				first ? "\n    " : ",\n    ", q->hash, q->last_ms, q->joined, q->state_events);
		fputs("\n  ]", f);
	}
	fputs("\n}\n", f);
	free(cands);
	buf_free(&b);
}

int state_save(struct state *s, int64_t now_ms)
{
	struct file_atomic af;
	int r;

	if (s->readonly)
		return -EROFS;
	expire_completed(s, now_ms);
	r = file_atomic_open(&af, s->path, 0600);
	if (r < 0)
		return r;
	write_state(s, af.f);
	return file_atomic_commit(&af);
}

/* --- grace --- */

int64_t state_candidate_seen(struct state *s, const char *room_id, int64_t now_ms)
{
	bool added;
	struct idmap_entry *e = idmap_put(&s->cands, room_id, now_ms, &added);

	e->marked = true;
	return e->ms;
}

void state_candidates_forget_unseen(struct state *s)
{
	idmap_keep_marked(&s->cands);
}

int64_t state_candidate_first_seen(const struct state *s, const char *room_id)
{
	const struct idmap_entry *e = idmap_get(&s->cands, room_id);

	return e ? e->ms : -1;
}

void state_candidates_retain(struct state *s, const char *const *ids, size_t n)
{
	for (size_t i = 0; i < s->cands.n; i++)
		s->cands.entries[i].marked = false;
	for (size_t i = 0; i < n; i++) {
		struct idmap_entry *e = idmap_get(&s->cands, ids[i]);

		if (e)
			e->marked = true;
	}
	idmap_keep_marked(&s->cands);
}

size_t state_candidate_count(const struct state *s)
{
	return s->cands.n;
}

/* --- quiet rooms --- */

bool state_quiet_recall(struct state *s, const char *room_id, const char *activity, int64_t joined,
			int64_t state_events, int64_t *last_ms)
{
	struct quiet_room key = { .hash = room_id_hash(room_id) }, *q;

	if (!s->n_quiet || !s->quiet_activity || strcmp(s->quiet_activity, activity) != 0 ||
	    !quiet_fits(joined) || !quiet_fits(state_events))
		return false;
	q = bsearch(&key, s->quiet, s->n_quiet, sizeof(*q), by_hash);
	if (!q || q->joined != (uint32_t)joined || q->state_events != (uint32_t)state_events)
		return false;
	s->quiet_used[q - s->quiet] = 1;
	*last_ms = q->last_ms;
	return true;
}

void state_quiet_remember(struct state *s, const char *room_id, const char *activity, int64_t last_ms,
			  int64_t joined, int64_t state_events)
{
	if (!quiet_last_ms_valid(last_ms) || !quiet_fits(joined) || !quiet_fits(state_events))
		return;
	if (!s->fresh_activity)
		s->fresh_activity = xstrdup(activity);
	quiet_push(&s->fresh, &s->n_fresh, &s->cap_fresh,
		   (struct quiet_room){ .hash = room_id_hash(room_id), .last_ms = last_ms, .joined = (uint32_t)joined,
					.state_events = (uint32_t)state_events });
}

/* --- deletes --- */

const struct state_delete *state_delete_find(const struct state *s, const char *room_id)
{
	bool found;
	size_t i = find_index(s->dels, s->n_dels, room_id, &found);

	return found ? &s->dels[i] : NULL;
}

void state_delete_requested(struct state *s, const char *room_id, int64_t now_ms)
{
	struct state_delete *d = del_get(s, room_id);

	d->phase = STATE_REQUESTED;
	d->requested_ms = now_ms;
	d->started_ms = d->completed_ms = -1;
	free(d->delete_id);
	d->delete_id = NULL;
}

void state_delete_started(struct state *s, const char *room_id, const char *delete_id, int64_t now_ms)
{
	struct state_delete *d = del_get(s, room_id);

	if (d->requested_ms < 0)
		d->requested_ms = now_ms;
	d->phase = STATE_PENDING;
	d->started_ms = now_ms;
	if (!d->delete_id || strcmp(d->delete_id, delete_id) != 0) {
		free(d->delete_id);
		d->delete_id = xstrdup(delete_id);
	}
}

void state_delete_completed(struct state *s, const char *room_id, int64_t now_ms)
{
	struct state_delete *d = del_get(s, room_id);

	d->phase = STATE_COMPLETED;
	d->completed_ms = now_ms;
	idmap_remove(&s->cands, room_id);
}

void state_delete_forget(struct state *s, const char *room_id)
{
	bool found;
	size_t i = find_index(s->dels, s->n_dels, room_id, &found);

	if (found)
		del_remove_at(s, i);
}

size_t state_deletes(const struct state *s, const struct state_delete **out)
{
	*out = s->dels;
	return s->n_dels;
}

size_t state_completed_count(const struct state *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_dels; i++)
		n += s->dels[i].phase == STATE_COMPLETED;
	return n;
}
