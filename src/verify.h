/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_VERIFY_H
#define SJ_VERIFY_H

#include <stdbool.h>

#include "decide.h"
#include "http.h"
#include "room.h"

/* Re-verification of one room right before its DELETE (DESIGN.md §6.4):
 * from other sources than the statistics tables the list came from. The
 * room details (forgotten, public, name, alias, type), /members (joined
 * members, local ones counted by our server name from whoami), and the last
 * activity again when the rule uses it; then the decision is taken again on
 * these fresh facts. */

enum verify_result {
	VERIFY_OK,         /* the rule still matches, no protection applies */
	VERIFY_CHANGED,    /* the rule no longer matches */
	VERIFY_PROTECTED,  /* a protection now applies */
	VERIFY_GONE,       /* the details answer 404: the room no longer exists */
	VERIFY_FORGOTTEN,  /* details say forgotten: shut down earlier */
	VERIFY_DOUBT,      /* a fact could not be fetched: doubt keeps the room */
	VERIFY_AUTH,       /* the token was refused: the run must stop */
};

struct verify_request {
	struct http_client *http;
	const struct decide_context *decide; /* policy, protected ids */
	const char *server_name;
	const struct room_facts *facts;      /* as the scan (or the CSV) saw the room */
	const struct rule *rule;             /* the rule that chose the room */
	/* --apply: the named rule alone is evaluated (a record rule's rows are
	 * the review workflow), and the creation time is fetched again rather
	 * than taken from an editable file. Otherwise the whole policy must
	 * still give a delete verdict by the same rule. */
	bool only_rule;
};

/* fresh holds what was found (owned by the verifier, valid during the
 * call); why explains any result but OK. */
typedef void (*verify_done_fn)(void *ud, enum verify_result r, const char *why,
			       const struct room_facts *fresh);

/* Starts the lookups; done is called once, from an http callback. */
void verify_room(const struct verify_request *rq, verify_done_fn done, void *ud);

#endif
