/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_SYNAPSE_H
#define SJ_SYNAPSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "room.h"

/* The Synapse Admin API as API.md describes it: request paths (room ids
 * always percent-encoded) and response parsers that type-check every field.
 * Parsers return 0, or a negative errno with a human reason in err:
 * -EBADMSG (not JSON / wrong shape). */

#define SYNAPSE_PATH_SERVER_VERSION "/_synapse/admin/v1/server_version"
#define SYNAPSE_PATH_WHOAMI         "/_matrix/client/v3/account/whoami"

/* All malloc'd. */
char *synapse_path_room_list(int64_t from, unsigned limit);  /* order_by=name */
char *synapse_path_room(const char *room_id, const char *suffix); /* v1 details + suffix, e.g. "/members" */
char *synapse_path_timestamp_to_event(const char *room_id, int64_t ts_ms, char dir);
char *synapse_path_context(const char *room_id, const char *event_id); /* limit=0 */
char *synapse_path_messages(const char *room_id, const char *from_token, unsigned limit); /* dir=b, message types */
char *synapse_path_delete(const char *room_id);              /* v2 */
char *synapse_path_delete_status(const char *delete_id);     /* v2 by delete_id */
char *synapse_path_room_delete_status(const char *room_id);  /* v2 by room */
char *synapse_path_directory(const char *alias);             /* client API */

/* How a response went, for the caller to decide (DESIGN.md, API.md). */
enum synapse_result {
	SYNAPSE_OK,             /* 2xx and a JSON body */
	SYNAPSE_MISSING_TOKEN,  /* 401 M_MISSING_TOKEN */
	SYNAPSE_UNKNOWN_TOKEN,  /* 401 M_UNKNOWN_TOKEN or other 401 */
	SYNAPSE_NOT_ADMIN,      /* 403 */
	SYNAPSE_NOT_FOUND,      /* 404 with a Matrix error body */
	SYNAPSE_NOT_JSON,       /* an answer that is not JSON: a proxy page, a truncated body */
	SYNAPSE_HTTP_ERROR,     /* any other status (after the retries) */
	SYNAPSE_TRANSPORT,      /* no answer: timeout, reset, refused, body too large */
};
/* Classify and describe ("401 M_UNKNOWN_TOKEN: Invalid access token passed.",
 * "HTML page instead of JSON (HTTP 404): is /_synapse/admin blocked by a
 * reverse proxy?"). */
enum synapse_result synapse_classify(const struct http_response *r, char *why, size_t whylen);
bool synapse_result_is_auth(enum synapse_result r);

struct room_page {
	struct room_facts *rooms;
	size_t n;
	size_t cap;
	bool streamed;          /* rows added one by one as they came (synapse_room_page_add) */
	size_t bad_rows;        /* rows without a usable room_id (skipped) */
	int64_t offset;
	int64_t total_rooms;    /* -1 when absent or not an integer */
	int64_t next_batch;     /* -1 when absent: this is the last page */
};
/* max_rows: the limit the page was asked with. A page with more rows is a
 * protocol error (-EPROTO), refused before anything is allocated for it. */
int synapse_parse_room_page(const char *body, size_t len, size_t max_rows, struct room_page *page,
			    char *err, size_t errlen);
/* The same from an answer of http_get_json (or any answer). When the rows
 * were taken out one by one as the page came in (begin, then add for each
 * row, from http_json_elements), only the rest of the page is read here. */
int synapse_room_page_of(const struct http_response *r, size_t max_rows, struct room_page *page,
			 char *err, size_t errlen);
void synapse_room_page_begin(struct room_page *page);
int synapse_room_page_add(struct room_page *page, size_t max_rows, struct json_object *row,
			  char *err, size_t errlen);
void room_page_free(struct room_page *page);

/* Room details: the row facts plus "forgotten" (TRI_UNKNOWN on old servers). */
int synapse_parse_room_details(const char *body, size_t len, struct room_facts *facts,
			       enum tri *forgotten, char *err, size_t errlen);

/* /members: joined members, and how many are on server_name. */
int synapse_parse_members(const char *body, size_t len, const char *server_name,
			  int64_t *total, int64_t *local, char *err, size_t errlen);

/* /forward_extremities: newest received_ts, and (event_id not NULL) the
 * id of that newest event (NULL when there is none). A room without events
 * ({"count":0}) gives FACT_UNKNOWN with that reason. Timestamps are not
 * checked against the clock here (decide.c does that). */
int synapse_parse_forward_extremities(const char *body, size_t len, struct fact_time *out,
				      char **event_id, char *err, size_t errlen);

int synapse_forward_extremities_of(const struct http_response *r, struct fact_time *out,
				   char **event_id, char *err, size_t errlen);

/* /context/<event_id>?limit=0: from its "state", the room's m.room.name and
 * m.room.canonical_alias (alias and alt_aliases) at that event; out becomes
 * FACT_KNOWN. A name or alias of the wrong type counts as none. */
int synapse_parse_context(const char *body, size_t len, struct prior_state *out,
			  char *err, size_t errlen);

/* /timestamp_to_event: the event_id (of the newest event, with ts=now and
 * dir=b: activity: messages finds the state before the last leave so). */
int synapse_parse_event_id(const char *body, size_t len, char **event_id, char *err, size_t errlen);

/* /timestamp_to_event: origin_server_ts. */
int synapse_parse_timestamp_to_event(const char *body, size_t len, int64_t *origin_ts,
				     char *err, size_t errlen);

/* /messages page: newest origin_server_ts of m.room.message/m.room.encrypted
 * in the chunk (-1 if none; events are not sorted), the "end" token (NULL at
 * the start of the room), and whether the chunk held the m.room.create event. */
int synapse_parse_messages(const char *body, size_t len, int64_t *newest_ts,
			   char **end_token, bool *saw_create, int64_t *create_ts,
			   char *err, size_t errlen);

int synapse_parse_server_version(const char *body, size_t len, char **version,
				 char *err, size_t errlen);
int synapse_parse_whoami(const char *body, size_t len, char **user_id,
			 char *err, size_t errlen);
/* "@admin:example.org" -> "example.org" (malloc'd), NULL if malformed. */
char *synapse_server_name_of(const char *user_id);
int synapse_parse_directory(const char *body, size_t len, char **room_id,
			    char *err, size_t errlen);

int synapse_parse_delete_started(const char *body, size_t len, char **delete_id,
				 char *err, size_t errlen);

enum delete_state { DELETE_RUNNING, DELETE_COMPLETE, DELETE_FAILED };
struct delete_status {
	enum delete_state state;  /* unknown status values count as running */
	char *status;             /* as the server said it */
	char *delete_id;          /* NULL on old servers' by-id answer */
	char *error;              /* NULL when absent */
};
int synapse_parse_delete_status(const char *body, size_t len, struct delete_status *out,
				char *err, size_t errlen);
/* By-room status: {"results":[...]}; all entries, newest last as sent. */
int synapse_parse_room_delete_status(const char *body, size_t len,
				     struct delete_status **out, size_t *n,
				     char *err, size_t errlen);
void delete_status_clear(struct delete_status *s);

#endif
