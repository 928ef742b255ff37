/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The test homeserver: shared types of its parts. It is a stand-alone
 * program (it does not link libjanitor), so it carries its own small
 * allocation and JSON-writing helpers. */
#ifndef FAKE_H
#define FAKE_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

#define FAKE_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define FAKE_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DAY_MS INT64_C(86400000)

/* ---- mem.c: allocation (failure exits), buffers, a string arena ---- */
void *fs_xmalloc(size_t n);
void *fs_xcalloc(size_t n, size_t size);
void *fs_xrealloc(void *p, size_t n);
char *fs_xstrdup(const char *s); /* NULL stays NULL */
char *fs_xasprintf(const char *fmt, ...) FAKE_PRINTF(1, 2);
int64_t fs_now_ms(void);
int64_t fs_mono_ms(void); /* CLOCK_MONOTONIC: comparable with the tests' own clock */

struct fbuf {
	char *data;
	size_t len, cap;
};
void fbuf_add(struct fbuf *b, const void *p, size_t n);
void fbuf_puts(struct fbuf *b, const char *s);
void fbuf_printf(struct fbuf *b, const char *fmt, ...) FAKE_PRINTF(2, 3);
void fbuf_free(struct fbuf *b);

/* Rooms and their strings live as long as the world: bump-allocate them
 * (100k rooms must load fast) and free everything at exit. */
struct arena {
	struct arena_block *blocks;
};
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s); /* NULL stays NULL */
void arena_free(struct arena *a);

/* Percent-decoding of one path segment or query value ("%3a" works too). */
char *fs_url_decode(const char *s);
/* A whole decimal integer (a query value): 0, or -EINVAL for anything else. */
int fs_parse_int(const char *s, int64_t *out);

/* ---- jsonw.c: a streaming JSON writer into a buffer ---- */
struct jw {
	struct fbuf b;
	bool need_comma;
};
void jw_obj_open(struct jw *w);
void jw_obj_close(struct jw *w);
void jw_arr_open(struct jw *w);
void jw_arr_close(struct jw *w);
void jw_key(struct jw *w, const char *k);
void jw_str(struct jw *w, const char *s); /* NULL writes null */
void jw_int(struct jw *w, int64_t v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
void jw_raw(struct jw *w, const char *json); /* an already-encoded value */
void jw_kstr(struct jw *w, const char *k, const char *s);
void jw_kint(struct jw *w, const char *k, int64_t v);
void jw_kbool(struct jw *w, const char *k, bool v);
void jw_knull(struct jw *w, const char *k);
char *jw_finish(struct jw *w, size_t *len); /* hands over the buffer */

/* ---- world.c: rooms, lookup and the sorted index ---- */
struct message {
	const char *type;
	int64_t ts;
};

struct room {
	const char *room_id;
	const char *name, *canonical_alias, *creator, *topic, *avatar;
	const char **aliases;
	const char **members; /* joined users: the truth for /members */
	const char *room_type, *encryption, *version;
	const char *join_rules, *guest_access, *history_visibility;
	struct message *messages; /* explicit ones, sorted by ts; or generated */
	uint32_t n_aliases, n_members, n_messages;
	uint32_t n_local; /* members on this server: room_members_changed() */
	uint32_t gen_messages; /* > 0: that many generated messages */
	int32_t stats_joined, stats_local; /* -1: report the real counts */
	int64_t created_ts, last_event_ts, last_message_ts; /* last_message_ts < 0: none */
	bool has_events, is_public, federatable, forgotten, blocked, gone;
	uint32_t index_pos; /* position in the name index */
};

enum order_key {
	ORDER_NAME, ORDER_SIZE, ORDER_CANONICAL_ALIAS, ORDER_JOINED_MEMBERS,
	ORDER_JOINED_LOCAL_MEMBERS, ORDER_VERSION, ORDER_CREATOR, ORDER_ENCRYPTION,
	ORDER_FEDERATABLE, ORDER_PUBLIC, ORDER_JOIN_RULES, ORDER_GUEST_ACCESS,
	ORDER_HISTORY_VISIBILITY, ORDER_STATE_EVENTS, ORDER_COUNT
};

struct world {
	struct arena arena;
	char *server_name;
	int64_t start_ms;
	struct room **rooms; /* every room ever created, including gone ones */
	size_t n_rooms, cap_rooms;
	struct room **slots; /* open-addressing hash by room_id (live rooms) */
	size_t n_slots, n_live;
	struct room **by_name; /* live rooms sorted by visible name, room_id */
	struct room **sorted[ORDER_COUNT]; /* lazily built other orders */
	uint64_t generation, sorted_gen[ORDER_COUNT];
	uint64_t insert_counter;
};

void world_init(struct world *w, const char *server_name);
void world_free(struct world *w);
int world_load_fixture(struct world *w, const char *path, char **err);
void world_generate(struct world *w, size_t n, uint64_t seed);
struct room *world_new_room(struct world *w, const char *room_id);
void world_add(struct world *w, struct room *r); /* into hash and index */
struct room *world_find(struct world *w, const char *room_id);
void world_remove(struct world *w, struct room *r);
/* Apply a fixture-style JSON object to a room (used by the fixture loader
 * and by POST /_fake/rooms/<id>). Returns 0 or -EINVAL with *err set. */
int world_apply(struct world *w, struct room *r, struct json_object *o, char **err);
void world_reindex(struct world *w, struct room *r, bool before); /* around a change */
void world_bulk_add(struct world *w, struct room *r); /* hash only; then world_index_all() */
void world_index_all(struct world *w);
struct room **world_order(struct world *w, enum order_key key);
int order_key_parse(const char *s);

bool room_is_local_user(const struct world *w, const char *user);
uint32_t room_real_local(const struct world *w, const struct room *r);
void room_members_changed(const struct world *w, struct room *r);
uint32_t room_joined(const struct world *w, const struct room *r);
uint32_t room_joined_local(const struct world *w, const struct room *r);
/* No local member left: the server stops tracking the current state. */
bool room_state_hidden(const struct world *w, const struct room *r);
uint32_t room_state_events(const struct room *r);
const char *room_visible_name(const struct world *w, const struct room *r);

/* ---- events.c: the lazily generated timeline of a room ---- */
struct event {
	const char *type;
	const char *sender;
	const char *state_key;     /* NULL: not a state event */
	const char *membership;    /* m.room.member */
	int64_t ts;
	uint32_t idx;
};
uint32_t events_count(const struct world *w, const struct room *r);
void events_get(const struct world *w, const struct room *r, uint32_t idx, struct event *ev);
void events_write(struct jw *j, const struct world *w, const struct room *r, const struct event *ev,
		  int64_t now);
void events_id(const struct room *r, uint32_t idx, char *buf, size_t len);
void state_write(struct jw *j, const struct world *w, const struct room *r, const char *type_filter,
		 int64_t now);

/* ---- faults.c ---- */
enum fault_kind {
	FK_NONE, FK_STATUS, FK_429, FK_RESET, FK_TRUNCATE, FK_NOT_JSON, FK_WRONG_TYPE, FK_HUGE,
	FK_HANG, FK_AUTH, FK_LIST_INSERT, FK_LIST_REMOVE, FK_TOTAL_MISMATCH, FK_DELETE_FAIL,
	FK_DELETE_HANG, FK_LATENCY, FK_BODY, FK_DATE_OFFSET
};

#define FAULT_BODY_MAX 4096

struct fault {
	char *endpoint; /* an endpoint name or "any" */
	char *room_id;  /* NULL: any room */
	enum fault_kind kind;
	int64_t count, skip;
	int status, retry_after_ms, ms, n;
	int64_t retry_after_s;  /* Retry-After header: -1 none, -2 from retry_after_ms */
	bool retry_after_date;  /* Retry-After as an HTTP date that far ahead */
	char *body;     /* FK_BODY: the answer's body, sent as is */
};

struct faults {
	struct fault *list;
	size_t n;
};

/* What a request meets: the first fault that fires for each concern. */
struct fault_hit {
	enum fault_kind kind; /* the answer-replacing or body-changing fault */
	int status, retry_after_ms, ms, n;
	int64_t retry_after_s;
	bool retry_after_date;
	int delay_ms;         /* hang + latency */
	int64_t date_offset_s; /* the Date header this far from the real time */
	char body[FAULT_BODY_MAX]; /* FK_BODY */
	bool list_insert, list_remove, total_mismatch, delete_fail, delete_hang;
	int insert_n, remove_n, mismatch_n;
};

int faults_set(struct faults *f, const char *json, size_t len, char **err);
void faults_clear(struct faults *f);
/* Consumes matching faults (count/skip) for one request. is_paging: a
 * rooms_list request with from > 0 (list_insert/list_remove apply only then). */
void faults_match(struct faults *f, const char *endpoint, const char *room_id, bool is_paging,
		  struct fault_hit *hit);

/* ---- stats.c ---- */
enum endpoint {
	EP_SERVER_VERSION, EP_WHOAMI, EP_DIRECTORY, EP_ROOMS_LIST, EP_ROOM_DETAILS, EP_MEMBERS,
	EP_STATE, EP_FORWARD_EXTREMITIES, EP_TIMESTAMP_TO_EVENT, EP_MESSAGES, EP_DELETE,
	EP_DELETE_STATUS, EP_ROOM_DELETE_STATUS, EP_CONTEXT, EP_OTHER, EP_COUNT
};
const char *endpoint_name(enum endpoint e);

struct delete_count {
	char *room_id;
	int64_t n;
	char *last_body; /* JSON text */
};

/* When requests came and how they were answered: GET /_fake/requests. */
#define ARRIVALS_MAX 4096
struct arrival {
	int64_t mono_ms;
	enum endpoint ep;
	int status;
};

struct stats {
	int64_t requests[EP_COUNT];
	struct arrival arrivals[ARRIVALS_MAX]; /* the first ones since the last reset */
	size_t n_arrivals;
	struct delete_count *deletes;
	size_t n_deletes;
	int in_flight, max_concurrent;
};
void stats_count(struct stats *s, enum endpoint e);
/* Notes an answered request; returns nothing, keeps the first ARRIVALS_MAX. */
void stats_arrival(struct stats *s, int64_t mono_ms, enum endpoint e, int status);
char *stats_arrivals_json(const struct stats *s);
void stats_delete(struct stats *s, const char *room_id, const char *body_json);
char *stats_json(const struct stats *s, size_t rooms);
void stats_reset(struct stats *s);

/* ---- tasks.c: background deletes ---- */
enum delete_style { STYLE_OLD, STYLE_NEW };

struct task {
	char delete_id[17];
	char *room_id;
	int step;        /* 0 first status, 1 second, 2 final */
	bool fail, hang, purge, block;
	uint32_t kicked; /* members when the delete started */
	char **kicked_users;
};

struct tasks {
	struct task *list;
	size_t n;
	uint64_t rng;
};

/* ---- server state ---- */
struct config {
	const char *bind;
	int port;
	const char *fixture;
	long generate;
	uint64_t seed;
	const char *server_name;
	const char *admin_token, *user_token;
	enum delete_style style;
	int latency_ms;
	int threads;
	const char *port_file;
	bool silent;          /* accept connections, never answer */
};

struct fake {
	struct config cfg;
	pthread_mutex_t lock; /* world, faults, stats, tasks */
	struct world world;
	struct faults faults;
	struct stats stats;
	struct tasks tasks;
	struct delayq *delayq;
	volatile bool stopping;
};

/* A finished answer, before it goes on the wire. */
struct reply {
	int status;
	char *body;
	size_t len;
	const char *content_type;
	bool fixed_length;   /* Content-Length instead of chunked (HTML 404) */
	int64_t retry_after_s; /* > 0: a Retry-After header */
	bool retry_after_date; /* ... as an HTTP date retry_after_s from now */
	bool reset;          /* close without answering */
	bool truncate;       /* send part of the body, then abort */
	bool huge;           /* a 20 MiB body instead */
	int64_t date_offset_s; /* != 0: a Date header that far off */
};

struct request {
	const char *method;
	const char *path;      /* raw (percent-encoded) path */
	const char *auth;      /* Authorization header or NULL */
	const char *body;
	size_t body_len;
	bool has_body;
	/* query arguments, decoded */
	char **qkeys, **qvals;
	size_t nq;
};
const char *req_arg(const struct request *rq, const char *key);

/* routes.c */
struct route {
	enum endpoint ep;
	bool fake_hook;        /* /_fake/...: no auth, not counted */
	bool needs_admin;      /* admin token required (whoami: any valid) */
	char *room_id;         /* decoded, for room endpoints */
	char *arg;             /* delete_id / alias */
	int kind;              /* handler selector */
};
void route_parse(const struct request *rq, struct route *rt);
void route_free(struct route *rt);
/* Runs the handler under the lock; fills rp. */
void route_handle(struct fake *fk, const struct request *rq, const struct route *rt,
		  const struct fault_hit *hit, struct reply *rp);
bool route_is_paging(const struct request *rq, const struct route *rt);

/* reply helpers */
void reply_json(struct reply *rp, int status, char *body, size_t len);
void reply_jw(struct reply *rp, int status, struct jw *j); /* takes the writer's buffer */
void reply_error(struct reply *rp, int status, const char *errcode, const char *fmt, ...)
	FAKE_PRINTF(4, 5);
void reply_html(struct reply *rp, int status, const char *html, bool fixed_length);

/* handlers in rooms.c, events_routes in timeline.c, deletes in tasks.c */
void h_rooms_list(struct fake *fk, const struct request *rq, const struct fault_hit *hit,
		  struct reply *rp);
void h_room_details(struct fake *fk, struct room *r, const struct fault_hit *hit, struct reply *rp);
void h_members(struct fake *fk, struct room *r, const struct fault_hit *hit, struct reply *rp);
void h_state(struct fake *fk, const struct request *rq, struct room *r, struct reply *rp);
void h_forward_extremities(struct fake *fk, struct room *r, const struct fault_hit *hit,
			   struct reply *rp);
void h_timestamp_to_event(struct fake *fk, const struct request *rq, struct room *r,
			  const struct fault_hit *hit, struct reply *rp);
void h_messages(struct fake *fk, const struct request *rq, struct room *r,
		const struct fault_hit *hit, struct reply *rp);
void h_context(struct fake *fk, struct room *r, const char *event_id, const struct fault_hit *hit,
	       struct reply *rp);
void h_delete(struct fake *fk, const struct request *rq, const char *room_id,
	      const struct fault_hit *hit, struct reply *rp);
void h_delete_status(struct fake *fk, const char *delete_id, const struct fault_hit *hit,
		     struct reply *rp);
void h_room_delete_status(struct fake *fk, const char *room_id, const struct fault_hit *hit,
			  struct reply *rp);
void tasks_free(struct tasks *t);
void tasks_reset_rng(struct tasks *t, uint64_t seed);

/* hooks.c */
void hooks_handle(struct fake *fk, const struct request *rq, const struct route *rt,
		  struct reply *rp);

/* server.c */
struct MHD_Daemon;
struct MHD_Daemon *server_start(struct fake *fk, int *port);
void server_stop(struct fake *fk, struct MHD_Daemon *d);
/* --silent: listen, accept and hold every connection without reading or
 * answering, until SIGTERM. Returns the exit code. */
int silent_run(struct fake *fk, int (*announce)(const struct fake *fk, int port));

/* rng (mem.c) */
uint64_t fs_rng_next(uint64_t *state);
uint64_t fs_hash64(const char *s);

#endif
