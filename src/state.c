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
#include "state.h"
#include "xmalloc.h"
#include "file.h"

#define STATE_VERSION 1
#define STATE_MAX_SIZE (256u << 20) /* far beyond any real state: a sign of damage */

struct state_candidate {
	char *room_id;
	int64_t first_seen_ms;
};

/* Both arrays are kept sorted by room_id (binary search: a server may have
 * thousands of candidates waiting out their grace period). */
struct state {
	char *path;
	char *lock_path;
	int lock_fd;
	struct state_candidate *cands;
	size_t n_cands;
	struct state_delete *dels;
	size_t n_dels;
	bool readonly;          /* state_open_readonly: never written */
};

static const char *const phase_names[] = {
	[STATE_REQUESTED] = "requested",
	[STATE_PENDING] = "pending",
	[STATE_COMPLETED] = "completed",
};

/* --- sorted arrays --- */

/* Index of room_id, or of where it would be inserted (*found false). Both
 * element types start with the room_id pointer. */
static size_t find_index(const void *base, size_t n, size_t size, const char *room_id, bool *found)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *id = *(char *const *)((const char *)base + mid * size);
		int c = strcmp(id, room_id);

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

static struct state_candidate *cand_insert(struct state *s, const char *room_id, int64_t ms)
{
	bool found;
	size_t i = find_index(s->cands, s->n_cands, sizeof(*s->cands), room_id, &found);

	if (found)
		return &s->cands[i];
	s->cands = xreallocarray(s->cands, s->n_cands + 1, sizeof(*s->cands));
	memmove(&s->cands[i + 1], &s->cands[i], (s->n_cands - i) * sizeof(*s->cands));
	s->n_cands++;
	s->cands[i] = (struct state_candidate){ .room_id = xstrdup(room_id), .first_seen_ms = ms };
	return &s->cands[i];
}

static void cand_remove(struct state *s, const char *room_id)
{
	bool found;
	size_t i = find_index(s->cands, s->n_cands, sizeof(*s->cands), room_id, &found);

	if (!found)
		return;
	free(s->cands[i].room_id);
	memmove(&s->cands[i], &s->cands[i + 1], (s->n_cands - i - 1) * sizeof(*s->cands));
	s->n_cands--;
}

static struct state_delete *del_get(struct state *s, const char *room_id)
{
	bool found;
	size_t i = find_index(s->dels, s->n_dels, sizeof(*s->dels), room_id, &found);

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
	char *err;
	size_t errlen;
};

static int load_candidate(const char *room, struct json_object *v, void *ud)
{
	struct load *l = ud;
	int64_t ms;

	if (json_as_int64(v, &ms) < 0 || ms < 0) {
		snprintf(l->err, l->errlen, "candidates.%s: not a time", room);
		return -EBADMSG;
	}
	cand_insert(l->s, room, ms);
	return 0;
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
	snprintf(l->err, l->errlen, "deletes.%s: not a delete entry", room);
	return -EBADMSG;
}

/* Through json.c's strict parser, like every other reader. */
static int load_json(struct state *s, const char *data, size_t len, char *err, size_t errlen)
{
	struct load l = { .s = s, .err = err, .errlen = errlen };
	struct json_object *root, *cands, *dels;
	int64_t version;
	int r = json_parse_strict(data, len, &root, err, errlen);

	if (r < 0)
		return -EBADMSG;
	r = -EBADMSG;
	if (json_get_int64(root, "version", &version) < 0 || version != STATE_VERSION) {
		snprintf(err, errlen, "not a version %d state file", STATE_VERSION);
		goto out;
	}
	if (json_get_object(root, "candidates", &cands) < 0 ||
	    json_get_object(root, "deletes", &dels) < 0) {
		snprintf(err, errlen, "candidates or deletes missing");
		goto out;
	}
	r = json_each_member(cands, load_candidate, &l);
	if (r == 0)
		r = json_each_member(dels, load_delete, &l);
out:
	json_put(root);
	return r;
}

static void state_reset(struct state *s)
{
	for (size_t i = 0; i < s->n_cands; i++)
		free(s->cands[i].room_id);
	for (size_t i = 0; i < s->n_dels; i++)
		del_clear(&s->dels[i]);
	free(s->cands);
	free(s->dels);
	s->cands = NULL;
	s->dels = NULL;
	s->n_cands = s->n_dels = 0;
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
	char *data = NULL, err[200];
	size_t len = 0;
	int r;

	s->path = xstrdup(path);
	s->lock_path = xasprintf("%s.lock", path);
	s->lock_fd = -1;
	why[0] = '\0';
	r = lock_take(s, why, whylen);
	if (r < 0)
		goto fail;
	r = file_read_capped(path, STATE_MAX_SIZE, &data, &len);
	if (r == -ENOENT) {
		r = 0;
	} else if (r < 0) {
		/* EIO, EACCES, EISDIR, EMFILE, ENOMEM, a file past the size
		 * cap...: not proof of damage. Moving it aside would forget
		 * pending deletes and the 30-day memory of completed ones; the
		 * run stops and the file stays where it is (DESIGN.md §6.12). */
		snprintf(why, whylen, "%s: cannot be read: %s", path, strerror(-r));
		free(data);
		goto fail;
	} else if (load_json(s, data, len, err, sizeof(err)) < 0) {
		r = move_aside(s, now_ms, err, why, whylen);
	}
	free(data);
	*out = s;
	return r;
fail:
	state_close(s);
	return r;
}

int state_open_readonly(const char *path, struct state **out, char *why, size_t whylen)
{
	struct state *s = xcalloc(1, sizeof(*s));
	char *data = NULL, err[200];
	size_t len = 0;
	int r;

	s->path = xstrdup(path);
	s->lock_path = xasprintf("%s.lock", path);
	s->lock_fd = -1;
	s->readonly = true;
	why[0] = '\0';
	r = file_read_capped(path, STATE_MAX_SIZE, &data, &len);
	if (r == -ENOENT) {
		r = 0;
	} else if (r < 0) {
		snprintf(why, whylen, "%s: cannot be read: %s", path, strerror(-r));
	} else if (load_json(s, data, len, err, sizeof(err)) < 0) {
		snprintf(why, whylen, "%s: %s", path, err);
		r = -EBADMSG;
	}
	free(data);
	if (r < 0) {
		state_close(s);
		return r;
	}
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

/* One member a line, so a human can read it and diff two of them. */
int state_save(struct state *s, int64_t now_ms)
{
	struct buf b = { 0 };
	int r;

	if (s->readonly)
		return -EROFS;
	expire_completed(s, now_ms);
	buf_printf(&b, "{\n  \"version\": %d,\n  \"candidates\": {", STATE_VERSION);
	for (size_t i = 0; i < s->n_cands; i++) {
		buf_puts(&b, i ? ",\n    " : "\n    ");
		json_append_string(&b, s->cands[i].room_id);
		buf_printf(&b, ": %" PRId64, s->cands[i].first_seen_ms);
	}
	buf_puts(&b, s->n_cands ? "\n  },\n  \"deletes\": {" : "},\n  \"deletes\": {");
	for (size_t i = 0; i < s->n_dels; i++) {
		buf_puts(&b, i ? ",\n    " : "\n    ");
		json_append_string(&b, s->dels[i].room_id);
		buf_puts(&b, ": ");
		put_delete(&b, &s->dels[i]);
	}
	buf_puts(&b, s->n_dels ? "\n  }\n}\n" : "}\n}\n");
	r = file_write_atomic(s->path, b.data, b.len, 0600);
	buf_free(&b);
	return r;
}

/* --- grace --- */

int64_t state_candidate_seen(struct state *s, const char *room_id, int64_t now_ms)
{
	return cand_insert(s, room_id, now_ms)->first_seen_ms;
}

int64_t state_candidate_first_seen(const struct state *s, const char *room_id)
{
	bool found;
	size_t i = find_index(s->cands, s->n_cands, sizeof(*s->cands), room_id, &found);

	return found ? s->cands[i].first_seen_ms : -1;
}

static int compare_ids(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void state_candidates_retain(struct state *s, const char *const *ids, size_t n)
{
	const char **sorted = xcalloc(n + 1, sizeof(char *));
	size_t kept = 0;

	if (n > 0) {
		memcpy(sorted, ids, n * sizeof(char *));
		qsort(sorted, n, sizeof(char *), compare_ids);
	}
	for (size_t i = 0; i < s->n_cands; i++) {
		const char *id = s->cands[i].room_id;

		if (bsearch(&id, sorted, n, sizeof(char *), compare_ids))
			s->cands[kept++] = s->cands[i];
		else
			free(s->cands[i].room_id);
	}
	s->n_cands = kept;
	free(sorted);
}

size_t state_candidate_count(const struct state *s)
{
	return s->n_cands;
}

/* --- deletes --- */

const struct state_delete *state_delete_find(const struct state *s, const char *room_id)
{
	bool found;
	size_t i = find_index(s->dels, s->n_dels, sizeof(*s->dels), room_id, &found);

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
	cand_remove(s, room_id);
}

void state_delete_forget(struct state *s, const char *room_id)
{
	bool found;
	size_t i = find_index(s->dels, s->n_dels, sizeof(*s->dels), room_id, &found);

	if (found)
		del_remove_at(s, i);
}

size_t state_deletes(const struct state *s, const struct state_delete **out)
{
	*out = s->dels;
	return s->n_dels;
}
