/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_FACTS_H
#define SJ_FACTS_H

#include "http.h"
#include "policy.h"
#include "room.h"

/* Fetching the costly facts of one room (API.md "Last activity"): the last
 * activity (activity: events -> forward_extremities received_ts; messages ->
 * up to 3 pages of /messages) and the creation time (timestamp_to_event from
 * 0 forwards). A failed lookup makes the fact FACT_UNKNOWN with the reason:
 * doubt, never a match. Only an authentication failure is reported as an
 * error, because it ends the run. */

/* auth_error is 0, or -EACCES with why set: the token was refused. */
typedef void (*facts_done_fn)(void *ud, int auth_error, const char *why);

/* Fetches the facts of need (NEED_* of decide.h) that are still unfetched,
 * concurrently, then calls done once. f must stay valid until then. */
void facts_fetch(struct http_client *http, enum activity_kind activity, struct room_facts *f,
		 unsigned need, facts_done_fn done, void *ud);

#endif
