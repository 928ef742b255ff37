/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_STATE_H
#define SJ_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The state file (DESIGN.md §6.5, §6.6): what a run must remember for the
 * next one. JSON, replaced atomically (temp file, fsync, rename, fsync of the
 * directory) after every change that matters:
 *   - candidates: when each room was first seen as a delete candidate (the
 *     grace period);
 *   - deletes: per room, a DELETE about to be sent (requested, the intent),
 *     one the server accepted (pending, with its delete_id) and one that
 *     completed (kept 30 days, so a room is never deleted twice).
 * One process at a time: state_open takes an exclusive flock on a lock file
 * beside the state file ("<path>.lock", holding the owner's pid). The lock is
 * not on the state file itself, which each save replaces by rename. */

#define STATE_COMPLETED_KEEP_MS (30LL * 24 * 3600 * 1000)

enum state_phase {
	STATE_REQUESTED,  /* intent recorded, no delete_id known */
	STATE_PENDING,    /* the server returned a delete_id */
	STATE_COMPLETED,  /* the delete finished (or the room was found gone) */
};

struct state_delete {
	char *room_id;
	enum state_phase phase;
	int64_t requested_ms;   /* when the DELETE was (about to be) sent */
	char *delete_id;        /* PENDING, and COMPLETED when known */
	int64_t started_ms;     /* PENDING: when the delete_id arrived */
	int64_t completed_ms;   /* COMPLETED */
};

struct state;

/* Opens and locks the state file. Returns:
 *   0        the state (empty when the file does not exist yet);
 *   -EBUSY   another process holds the lock (why names its pid);
 *   -EBADMSG the file was read whole and does not parse or fails validation:
 *            it was moved aside to "<path>.corrupt-<unix time>" (why says
 *            where), *out is a fresh empty, locked state; the caller must
 *            not delete this run;
 *   other negative errno: the lock or the file could not be read (EIO,
 *            EACCES, EISDIR, ENOMEM, EFBIG...: why names the path and the
 *            errno text); the file is left untouched, *out unset. */
int state_open(const char *path, int64_t now_ms, struct state **out, char *why, size_t whylen);
/* Reads the state file for --explain: no lock is taken (another process
 * may hold it: a save replaces the file by rename, so what is read is one
 * whole version), nothing is moved aside, and the state can never be saved
 * (state_save returns -EROFS). A missing file gives an empty state. Returns
 * 0, -EBADMSG when the file does not parse (why says why; it is left as it
 * is), or another negative errno when it cannot be read. *out is set only
 * on success. */
int state_open_readonly(const char *path, struct state **out, char *why, size_t whylen);
/* Releases the lock and frees (does not save). NULL is fine. */
void state_close(struct state *s);
/* Writes the file atomically; completed deletes older than 30 days are
 * dropped first. Returns 0 or a negative errno. */
int state_save(struct state *s, int64_t now_ms);
const char *state_path(const struct state *s);

/* Grace bookkeeping. Returns the first time the room was seen as a
 * candidate, recording now_ms when it is new. */
int64_t state_candidate_seen(struct state *s, const char *room_id, int64_t now_ms);
/* The first sighting, or -1. */
int64_t state_candidate_first_seen(const struct state *s, const char *room_id);
/* Forget every candidate not in ids (rooms that stopped being candidates). */
void state_candidates_retain(struct state *s, const char *const *ids, size_t n);
/* The same for the candidates not passed to state_candidate_seen since the
 * last call (or the load). */
void state_candidates_forget_unseen(struct state *s);
size_t state_candidate_count(const struct state *s);

/* Rooms without a local member (no new events reach this server for them,
 * so their last activity cannot change while that lasts): the last
 * activity a lookup found, with what would reveal a change (the member
 * count and state_events of the list). recall gives it back when the
 * activity setting and both counts are the same, and marks it kept;
 * remember records it for the next run. Saved are those remembered or
 * recalled this run: a room that left the listing is forgotten. A room
 * the homeserver had no events of is remembered as such (last_ms
 * STATE_QUIET_NO_EVENTS): its last activity stays unknown. Keyed by
 * a 64-bit hash of the room id (24 bytes a room). */
#define STATE_QUIET_NO_EVENTS (-1) /* last_ms of a room the homeserver had no events of */
bool state_quiet_recall(struct state *s, const char *room_id, const char *activity, int64_t joined,
			int64_t state_events, int64_t *last_ms);
void state_quiet_remember(struct state *s, const char *room_id, const char *activity, int64_t last_ms,
			  int64_t joined, int64_t state_events);

/* Deletes, by room. find returns NULL when the room has no entry. */
const struct state_delete *state_delete_find(const struct state *s, const char *room_id);
void state_delete_requested(struct state *s, const char *room_id, int64_t now_ms);
void state_delete_started(struct state *s, const char *room_id, const char *delete_id, int64_t now_ms);
/* Completed: the room is also no longer a candidate. */
void state_delete_completed(struct state *s, const char *room_id, int64_t now_ms);
/* The server settled the delete without deleting (failed, cancelled): the
 * room may be tried again by a later run. */
void state_delete_forget(struct state *s, const char *room_id);
/* The entries, for resuming at start; the array stays valid until the next
 * change. */
size_t state_deletes(const struct state *s, const struct state_delete **out);
/* Completed deletes remembered (the last 30 days). */
size_t state_completed_count(const struct state *s);

#endif
