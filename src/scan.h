/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_SCAN_H
#define SJ_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "decide.h"
#include "http.h"

/* Streaming the room list (DESIGN.md §2.1): pages of page_size ordered by
 * name, de-duplicated by room_id (offset pagination shifts under a live
 * table), each room decided as it arrives, with lookups for costly facts
 * only when decide asks. Memory: the page, the rooms waiting for lookups,
 * and 8 bytes per distinct room. */

/* Called once per distinct room with its final verdict. The callee may take
 * ownership of the facts' contents (e.g. with a struct copy followed by
 * memset of *f); otherwise they are freed after the call. */
typedef void (*scan_verdict_fn)(void *ud, struct room_facts *f, const struct verdict *v);

struct scan_result {
	uint64_t rooms;            /* distinct rooms decided */
	uint64_t duplicates;       /* rows seen again on a later page */
	uint64_t bad_rows;         /* rows without a usable room_id */
	uint64_t pages;
	uint64_t recalled;         /* quiet rooms whose last activity came from the state file */
	int64_t first_total;       /* total_rooms of the first page, -1 unknown */
	bool auth_failed;          /* the token was refused: the run must stop */
	bool interrupted;          /* should_stop ended it */
	char error[256];           /* why the scan did not complete */
};

struct scan_config {
	struct http_client *http;
	/* The state file's quiet rooms (NULL: none): a room without a local
	 * member whose counts did not change gets the last activity an
	 * earlier run found, without a lookup. */
	struct state *state;
	const struct decide_context *decide;
	scan_verdict_fn on_verdict;
	void *ud;
};

/* Runs the whole scan, driving http until done or should_stop.
 * Returns 0 when the listing completed, else a negative errno with
 * result->error set (the verdicts already delivered stand). */
int scan_run(const struct scan_config *cfg, bool (*should_stop)(void *), void *stop_ud,
	     struct scan_result *result);

#endif
