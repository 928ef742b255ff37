/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The test homeserver itself, through its real binary: the shapes, status
 * codes and quirks of the captures, the deletes, every fault kind, the
 * statistics and the generated worlds. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "suite.h"
#include "testlib.h"

#define ADMIN "admin-secret-token"
#define USER "user-token"
#define DAY_MS 86400000LL

static struct fake_server fs;

static char *fixture_path(const char *name)
{
	const char *top = getenv("top_srcdir");
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/tests/fixtures/%s", top ? top : ".", name), 0);
	return p;
}

static void start_with(const char *const *extra)
{
	ck_assert_int_eq(fake_start(&fs, extra), 0);
}

static void start_basic(const char *style)
{
	char *path = fixture_path("basic.json");
	const char *args[] = { "--fixture", path, "--delete-style", style, NULL };

	start_with(args);
	free(path);
}

static void start_old(void)
{
	start_basic("old");
}

static void stop(void)
{
	fake_stop(&fs);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One request; returns the parsed body (NULL if not JSON) and the status. */
static struct json_object *req(const char *method, const char *path, const char *body,
			       const char *token, long *status)
{
	char *url, *resp = NULL;
	struct json_object *o;
	long st = 0;

	ck_assert_int_ge(asprintf(&url, "%s%s", fs.url, path), 0);
	ck_assert_int_eq(test_http(method, url, body, token, &st, &resp), 0);
	o = json_tokener_parse(resp);
	free(resp);
	free(url);
	if (status)
		*status = st;
	return o;
}

static struct json_object *get_ok(const char *path)
{
	long st;
	struct json_object *o = req("GET", path, NULL, ADMIN, &st);

	ck_assert_msg(st == 200, "%s: status %ld", path, st);
	ck_assert_ptr_nonnull(o);
	return o;
}

static struct json_object *field(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no \"%s\" in %s", key,
		      json_object_to_json_string(o));
	return v;
}

static bool has(struct json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

static int64_t ival(struct json_object *o, const char *key)
{
	struct json_object *v = field(o, key);

	ck_assert_msg(json_object_is_type(v, json_type_int), "\"%s\" is not an integer", key);
	return json_object_get_int64(v);
}

static const char *sval(struct json_object *o, const char *key)
{
	struct json_object *v = field(o, key);

	return v ? json_object_get_string(v) : NULL;
}

static void assert_error(const char *method, const char *path, const char *body, const char *token,
			 long want_status, const char *errcode, const char *text)
{
	long st;
	struct json_object *o = req(method, path, body, token, &st);

	ck_assert_msg(st == want_status, "%s %s: status %ld, want %ld", method, path, st, want_status);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(sval(o, "errcode"), errcode);
	if (text)
		ck_assert_str_eq(sval(o, "error"), text);
	json_object_put(o);
}

/* A raw HTTP/1.1 exchange, to see headers and framing. */
static char *raw_http(const char *request)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)fs.port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t len = 0, cap = 65536;
	char *out = malloc(cap);
	int64_t deadline = mono_ms() + 30000;

	ck_assert_int_ge(fd, 0);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(write(fd, request, strlen(request)), (ssize_t)strlen(request));
	while (mono_ms() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 1000) <= 0)
			continue;
		if (len + 4096 > cap)
			out = realloc(out, cap *= 2);
		n = read(fd, out + len, 4096);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	out[len] = '\0';
	return out;
}

static char *raw_get(const char *path, const char *extra_headers)
{
	char *r, *out;

	ck_assert_int_ge(asprintf(&r, "GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " ADMIN
				  "\r\n%sConnection: close\r\n\r\n", path, extra_headers ? extra_headers : ""), 0);
	out = raw_http(r);
	free(r);
	return out;
}

static int64_t stat_of(const char *endpoint)
{
	struct json_object *s, *v;
	int64_t n;

	ck_assert_int_eq(fake_stats(&fs, &s), 0);
	v = field(field(s, "requests"), endpoint);
	n = json_object_get_int64(v);
	json_object_put(s);
	return n;
}

static void set_faults(const char *json)
{
	ck_assert_int_eq(fake_set_faults(&fs, json), 0);
}

#define CHATTY "%21bWqHYfxcXhgBRHdzsX%3Atest.local"
#define CHATTY_FMT "%%21bWqHYfxcXhgBRHdzsX%%3Atest.local" /* in a format string */
#define ROOMS "/_synapse/admin/v1/rooms"

/* ---------------------------------------------------------------- basics */

START_TEST(test_server_version)
{
	struct json_object *o;
	long st;

	start_old();
	o = req("GET", "/_synapse/admin/v1/server_version", NULL, NULL, &st);
	ck_assert_int_eq(st, 200);
	ck_assert_str_eq(sval(o, "server_version"), "1.68.0");
	ck_assert_str_eq(sval(o, "python_version"), "3.11.2");
	json_object_put(o);
	stop();
	start_basic("new");
	o = req("GET", "/_synapse/admin/v1/server_version", NULL, NULL, &st);
	ck_assert_int_eq(st, 200);
	ck_assert_str_eq(sval(o, "server_version"), "1.120.0");
	ck_assert(!has(o, "python_version"));
	json_object_put(o);
	stop();
}
END_TEST

START_TEST(test_auth)
{
	struct json_object *o;
	char *raw;
	long st;

	start_old();
	assert_error("GET", ROOMS, NULL, NULL, 401, "M_MISSING_TOKEN", "Missing access token");
	assert_error("GET", ROOMS, NULL, "not-a-token", 401, "M_UNKNOWN_TOKEN",
		     "Invalid access token passed.");
	o = req("GET", ROOMS, NULL, "not-a-token", &st);
	ck_assert(!json_object_get_boolean(field(o, "soft_logout")));
	json_object_put(o);
	assert_error("GET", ROOMS, NULL, USER, 403, "M_FORBIDDEN", "You are not a server admin");
	assert_error("GET", ROOMS "/" CHATTY, NULL, USER, 403, "M_FORBIDDEN", NULL);
	assert_error("DELETE", "/_synapse/admin/v2/rooms/" CHATTY, "{}", USER, 403, "M_FORBIDDEN", NULL);
	/* the scheme is case-sensitive (capture 507) */
	raw = raw_http("GET " ROOMS " HTTP/1.1\r\nHost: x\r\nAuthorization: bearer " ADMIN
		       "\r\nConnection: close\r\n\r\n");
	ck_assert_ptr_nonnull(strstr(raw, "HTTP/1.1 401"));
	ck_assert_ptr_nonnull(strstr(raw, "M_MISSING_TOKEN"));
	free(raw);
	o = req("GET", ROOMS "?limit=1&access_token=" ADMIN, NULL, NULL, &st);
	ck_assert_int_eq(st, 200);
	json_object_put(o);
	o = get_ok("/_matrix/client/v3/account/whoami");
	ck_assert_str_eq(sval(o, "user_id"), "@admin:test.local");
	json_object_put(o);
	o = req("GET", "/_matrix/client/v3/account/whoami", NULL, USER, &st);
	ck_assert_int_eq(st, 200);
	ck_assert_str_eq(sval(o, "user_id"), "@user:test.local");
	json_object_put(o);
	assert_error("GET", "/_matrix/client/v3/account/whoami", NULL, NULL, 401, "M_MISSING_TOKEN", NULL);
	stop();
}
END_TEST

START_TEST(test_custom_tokens)
{
	const char *args[] = { "--generate", "10", "--admin-token", "adm-x", "--user-token", "usr-y",
			       "--server-name", "example.org", NULL };
	struct json_object *o;
	long st;

	start_with(args);
	o = req("GET", "/_matrix/client/v3/account/whoami", NULL, "adm-x", &st);
	ck_assert_int_eq(st, 200);
	ck_assert_str_eq(sval(o, "user_id"), "@admin:example.org");
	json_object_put(o);
	assert_error("GET", ROOMS, NULL, "usr-y", 403, "M_FORBIDDEN", NULL);
	assert_error("GET", ROOMS, NULL, ADMIN, 401, "M_UNKNOWN_TOKEN", NULL);
	stop();
}
END_TEST

START_TEST(test_unrecognized)
{
	char *raw;
	long st;
	struct json_object *o;

	start_old();
	assert_error("GET", "/_synapse/admin/v1/no_such_thing", NULL, ADMIN, 400, "M_UNRECOGNIZED",
		     "Unrecognized request");
	assert_error("PUT", ROOMS, "{}", ADMIN, 400, "M_UNRECOGNIZED", NULL);
	assert_error("POST", ROOMS "/" CHATTY, "{}", ADMIN, 400, "M_UNRECOGNIZED", NULL);
	assert_error("GET", "/_synapse/admin/v2/rooms/" CHATTY, NULL, ADMIN, 400, "M_UNRECOGNIZED", NULL);
	assert_error("GET", "/_synapse/admin/v2/rooms", NULL, ADMIN, 400, "M_UNRECOGNIZED", NULL);
	/* a trailing slash (capture 224) */
	assert_error("GET", ROOMS "/" CHATTY "/", NULL, ADMIN, 400, "M_UNRECOGNIZED", NULL);
	assert_error("GET", ROOMS "/", NULL, ADMIN, 400, "M_UNRECOGNIZED", NULL);
	/* outside the API: an HTML 404 with a Content-Length (capture 503) */
	raw = raw_get("/no/such/path", NULL);
	ck_assert_ptr_nonnull(strstr(raw, "HTTP/1.1 404"));
	ck_assert_ptr_nonnull(strstr(raw, "Content-Length: "));
	ck_assert_ptr_nonnull(strstr(raw, "No Such Resource"));
	ck_assert_ptr_null(strstr(raw, "chunked"));
	free(raw);
	o = req("GET", "/no/such/path", NULL, NULL, &st);
	ck_assert_int_eq(st, 404);
	ck_assert_ptr_null(o);
	ck_assert_int_eq(stat_of("other"), 9);
	stop();
}
END_TEST

START_TEST(test_chunked_and_keepalive)
{
	char *raw;

	start_old();
	raw = raw_get(ROOMS "?limit=1", NULL);
	ck_assert_ptr_nonnull(strstr(raw, "HTTP/1.1 200"));
	ck_assert_ptr_nonnull(strstr(raw, "Transfer-Encoding: chunked"));
	ck_assert_ptr_nonnull(strstr(raw, "Content-Type: application/json"));
	ck_assert_ptr_nonnull(strstr(raw, "\r\n0\r\n\r\n"));
	free(raw);
	/* two requests on one connection (capture 009) */
	raw = raw_http("GET /_synapse/admin/v1/server_version HTTP/1.1\r\nHost: x\r\n\r\n"
		       "GET /_synapse/admin/v1/server_version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	ck_assert_ptr_nonnull(strstr(raw, "HTTP/1.1 200"));
	ck_assert_ptr_nonnull(strstr(strstr(raw, "HTTP/1.1 200") + 1, "HTTP/1.1 200"));
	free(raw);
	ck_assert_int_eq(stat_of("server_version"), 2);
	stop();
}
END_TEST

/* ---------------------------------------------------------------- the list */

static const char *const name_order[] = {
	NULL, NULL, NULL, NULL, "Chatty Room", "Janitor Space", "Lonely Room", "Old Room (2020)",
	"Private Room", "Public Lobby", "Quiet Room", "Room Version 12", "Secret Room",
	"Server Notices", "Stale Stats", "Time Traveller",
};

static void assert_name(struct json_object *row, const char *want)
{
	struct json_object *n = field(row, "name");

	if (!want)
		ck_assert_msg(n == NULL, "name %s, want null", json_object_get_string(n));
	else
		ck_assert_str_eq(json_object_get_string(n), want);
}

START_TEST(test_list_paging)
{
	char seen[16][64];
	int64_t from = 0;
	size_t n = 0;

	start_old();
	for (int page = 0; page < 10; page++) {
		char *path;
		struct json_object *o, *rooms;

		ck_assert_int_ge(asprintf(&path, ROOMS "?limit=5&from=%lld", (long long)from), 0);
		o = get_ok(path);
		free(path);
		ck_assert_int_eq(ival(o, "offset"), from);
		ck_assert_int_eq(ival(o, "total_rooms"), 16);
		ck_assert_int_eq(has(o, "prev_batch"), from > 0);
		if (from > 0)
			ck_assert_int_eq(ival(o, "prev_batch"), from - 5);
		rooms = field(o, "rooms");
		for (size_t i = 0; i < json_object_array_length(rooms); i++, n++) {
			struct json_object *row = json_object_array_get_idx(rooms, i);

			ck_assert_uint_lt(n, 16);
			snprintf(seen[n], sizeof(seen[n]), "%s", sval(row, "room_id"));
			assert_name(row, name_order[n]);
			for (size_t k = 0; k < n; k++)
				ck_assert_str_ne(seen[k], seen[n]);
		}
		if (!has(o, "next_batch")) {
			ck_assert_int_eq(from, 15);
			json_object_put(o);
			break;
		}
		ck_assert_int_eq(ival(o, "next_batch"), from + 5);
		from = ival(o, "next_batch");
		json_object_put(o);
	}
	ck_assert_uint_eq(n, 16);
	/* null names first, ties by room_id (capture 100) */
	ck_assert_str_eq(seen[0], "!UUblNpHTrythaUgtQs:test.local");
	ck_assert_str_eq(seen[1], "!hBSbJfuvxMvqqcpJyb:test.local");
	ck_assert_int_eq(stat_of("rooms_list"), 4);
	stop();
}
END_TEST

START_TEST(test_list_params)
{
	struct json_object *o, *rooms;

	start_old();
	o = get_ok(ROOMS "?limit=0");
	ck_assert_int_eq(json_object_array_length(field(o, "rooms")), 0);
	ck_assert_int_eq(ival(o, "next_batch"), 0);
	json_object_put(o);
	o = get_ok(ROOMS);
	ck_assert_int_eq(json_object_array_length(field(o, "rooms")), 16);
	ck_assert(!has(o, "next_batch") && !has(o, "prev_batch"));
	json_object_put(o);
	o = get_ok(ROOMS "?from=1000&limit=2");
	ck_assert_int_eq(json_object_array_length(field(o, "rooms")), 0);
	ck_assert_int_eq(ival(o, "prev_batch"), 998);
	ck_assert(!has(o, "next_batch"));
	json_object_put(o);
	o = get_ok(ROOMS "?from=3&limit=2");
	ck_assert_int_eq(ival(o, "next_batch"), 5);
	ck_assert_int_eq(ival(o, "prev_batch"), 1);
	assert_name(json_object_array_get_idx(field(o, "rooms"), 1), "Chatty Room");
	json_object_put(o);
	o = get_ok(ROOMS "?limit=-1");
	ck_assert_int_eq(json_object_array_length(field(o, "rooms")), 16);
	ck_assert_int_eq(ival(o, "next_batch"), -1);
	json_object_put(o);
	/* dir=b reverses the whole order: null names last (capture 105) */
	o = get_ok(ROOMS "?dir=b");
	rooms = field(o, "rooms");
	assert_name(json_object_array_get_idx(rooms, 0), "Time Traveller");
	ck_assert_str_eq(sval(json_object_array_get_idx(rooms, 15), "room_id"),
			 "!UUblNpHTrythaUgtQs:test.local");
	json_object_put(o);
	o = get_ok(ROOMS "?order_by=joined_members&limit=1");
	ck_assert_str_eq(sval(json_object_array_get_idx(field(o, "rooms"), 0), "room_id"),
			 "!YMflFVPJmVnuqdlySp:test.local");
	json_object_put(o);
	o = get_ok(ROOMS "?search_term=ROOM");
	ck_assert_int_eq(ival(o, "total_rooms"), 7);
	json_object_put(o);
	o = get_ok(ROOMS "?search_term=janitor-public");
	ck_assert_int_eq(ival(o, "total_rooms"), 1);
	json_object_put(o);
	/* a hidden name is not searchable, the room id is */
	o = get_ok(ROOMS "?search_term=Emptied");
	ck_assert_int_eq(ival(o, "total_rooms"), 0);
	json_object_put(o);
	o = get_ok(ROOMS "?search_term=%21owRuUTaiRkCBdxnxSj%3Atest.local");
	ck_assert_int_eq(ival(o, "total_rooms"), 1);
	json_object_put(o);
	assert_error("GET", ROOMS "?from=abc", NULL, ADMIN, 400, "M_INVALID_PARAM",
		     "Query parameter 'from' must be an integer");
	assert_error("GET", ROOMS "?limit=1x", NULL, ADMIN, 400, "M_INVALID_PARAM",
		     "Query parameter 'limit' must be an integer");
	assert_error("GET", ROOMS "?order_by=last_activity", NULL, ADMIN, 400, "M_INVALID_PARAM", NULL);
	assert_error("GET", ROOMS "?dir=x", NULL, ADMIN, 400, "M_INVALID_PARAM", "Unknown direction: x");
	assert_error("GET", ROOMS "?search_term=", NULL, ADMIN, 400, "M_INVALID_PARAM", NULL);
	stop();
}
END_TEST

START_TEST(test_list_row_shape)
{
	static const char *const keys[] = {
		"room_id", "name", "canonical_alias", "joined_members", "joined_local_members", "version",
		"creator", "encryption", "federatable", "public", "join_rules", "guest_access",
		"history_visibility", "state_events", "room_type",
	};
	struct json_object *o, *rooms;
	int checked = 0;

	start_old();
	o = get_ok(ROOMS);
	rooms = field(o, "rooms");
	for (size_t i = 0; i < json_object_array_length(rooms); i++) {
		struct json_object *row = json_object_array_get_idx(rooms, i);
		const char *id = sval(row, "room_id");

		ck_assert_int_eq(json_object_object_length(row), (int)(sizeof(keys) / sizeof(keys[0])));
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			ck_assert(has(row, keys[k]));
		if (strcmp(id, "!owRuUTaiRkCBdxnxSj:test.local") == 0) {
			/* no local member left: the state fields are null (capture 204) */
			ck_assert_ptr_null(field(row, "join_rules"));
			ck_assert_ptr_null(field(row, "history_visibility"));
			ck_assert_int_eq(ival(row, "joined_local_members"), 0);
			checked++;
		} else if (strcmp(id, "!staleStats:test.local") == 0) {
			ck_assert_int_eq(ival(row, "joined_local_members"), 0);
			ck_assert_int_eq(ival(row, "joined_members"), 1);
			checked++;
		} else if (strcmp(id, "!YMflFVPJmVnuqdlySp:test.local") == 0) {
			ck_assert(json_object_get_boolean(field(row, "public")));
			ck_assert_str_eq(sval(row, "canonical_alias"), "#janitor-public:test.local");
			ck_assert_int_eq(ival(row, "joined_members"), 3);
			ck_assert_int_eq(ival(row, "joined_local_members"), 2);
			checked++;
		} else if (strcmp(id, "!KMSPWqIfWrHyvWOIWJ:test.local") == 0) {
			ck_assert_str_eq(sval(row, "room_type"), "m.space");
			checked++;
		}
	}
	ck_assert_int_eq(checked, 4);
	json_object_put(o);
	stop();
}
END_TEST

/* ---------------------------------------------------------------- one room */

START_TEST(test_details)
{
	struct json_object *o;

	start_old();
	o = get_ok(ROOMS "/%21YMflFVPJmVnuqdlySp%3Atest.local");
	ck_assert_str_eq(sval(o, "name"), "Public Lobby");
	ck_assert_str_eq(sval(o, "topic"), "A public room with an alias");
	ck_assert_ptr_null(field(o, "avatar"));
	ck_assert_int_eq(ival(o, "joined_local_devices"), 2);
	ck_assert(!json_object_get_boolean(field(o, "forgotten")));
	json_object_put(o);
	/* raw, lower-case escapes, room version 12 without a server part */
	o = get_ok(ROOMS "/!bWqHYfxcXhgBRHdzsX:test.local");
	ck_assert_str_eq(sval(o, "name"), "Chatty Room");
	json_object_put(o);
	o = get_ok(ROOMS "/%21bWqHYfxcXhgBRHdzsX%3atest.local");
	ck_assert_str_eq(sval(o, "room_id"), "!bWqHYfxcXhgBRHdzsX:test.local");
	json_object_put(o);
	o = get_ok(ROOMS "/%21Zq3vB8xYw4TpLm0KcN6rHs2JdF9gAe1UiOo7Xy5Wb-Q");
	ck_assert_str_eq(sval(o, "version"), "12");
	json_object_put(o);
	o = get_ok(ROOMS "/%21owRuUTaiRkCBdxnxSj%3Atest.local");
	ck_assert_ptr_null(field(o, "name"));
	ck_assert_ptr_null(field(o, "topic"));
	json_object_put(o);
	assert_error("GET", ROOMS "/%21doesnotexist%3Atest.local", NULL, ADMIN, 404, "M_NOT_FOUND",
		     "Room not found");
	assert_error("GET", ROOMS "/notaroom", NULL, ADMIN, 404, "M_NOT_FOUND", NULL);
	assert_error("GET", ROOMS "/%23janitor-public%3Atest.local", NULL, ADMIN, 404, "M_NOT_FOUND", NULL);
	ck_assert_int_eq(stat_of("room_details"), 8);
	stop();
}
END_TEST

START_TEST(test_members_state)
{
	struct json_object *o, *st;
	bool create = false;
	long status;

	start_old();
	/* /members is the truth; the list's counts may be stale */
	o = get_ok(ROOMS "/%21staleStats%3Atest.local/members");
	ck_assert_int_eq(ival(o, "total"), 3);
	ck_assert_int_eq(json_object_array_length(field(o, "members")), 3);
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(field(o, "members"), 0)),
			 "@alice:test.local");
	json_object_put(o);
	o = get_ok(ROOMS "/%21owRuUTaiRkCBdxnxSj%3Atest.local/members");
	ck_assert_int_eq(ival(o, "total"), 0);
	json_object_put(o);
	assert_error("GET", ROOMS "/%21nope%3Atest.local/members", NULL, ADMIN, 404, "M_NOT_FOUND", NULL);
	/* old servers ignore ?type= (capture 304) */
	o = get_ok(ROOMS "/" CHATTY "/state?type=m.room.create");
	st = field(o, "state");
	ck_assert_int_gt(json_object_array_length(st), 3);
	for (size_t i = 0; i < json_object_array_length(st); i++)
		create |= strcmp(sval(json_object_array_get_idx(st, i), "type"), "m.room.create") == 0;
	ck_assert(create);
	json_object_put(o);
	o = get_ok(ROOMS "/%21owRuUTaiRkCBdxnxSj%3Atest.local/state");
	ck_assert_int_eq(json_object_array_length(field(o, "state")), 0);
	json_object_put(o);
	o = req("GET", ROOMS "/%21nope%3Atest.local/state", NULL, ADMIN, &status);
	ck_assert_int_eq(status, 404);
	json_object_put(o);
	stop();
	start_basic("new");
	o = get_ok(ROOMS "/" CHATTY "/state?type=m.room.create");
	st = field(o, "state");
	ck_assert_int_eq(json_object_array_length(st), 1);
	ck_assert_str_eq(sval(json_object_array_get_idx(st, 0), "type"), "m.room.create");
	json_object_put(o);
	stop();
}
END_TEST

START_TEST(test_directory)
{
	struct json_object *o;

	start_old();
	o = get_ok("/_matrix/client/v3/directory/room/%23janitor-public%3Atest.local");
	ck_assert_str_eq(sval(o, "room_id"), "!YMflFVPJmVnuqdlySp:test.local");
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(field(o, "servers"), 0)),
			 "test.local");
	json_object_put(o);
	o = get_ok("/_matrix/client/v3/directory/room/%23lobby%3Atest.local");
	ck_assert_str_eq(sval(o, "room_id"), "!YMflFVPJmVnuqdlySp:test.local");
	json_object_put(o);
	assert_error("GET", "/_matrix/client/v3/directory/room/%23nope%3Atest.local", NULL, ADMIN, 404,
		     "M_NOT_FOUND", "Room alias #nope:test.local not found");
	ck_assert_int_eq(stat_of("directory"), 3);
	stop();
}
END_TEST

/* ---------------------------------------------------------------- activity */

START_TEST(test_forward_extremities)
{
	struct json_object *o, *r;
	int64_t now = now_ms();

	start_old();
	o = get_ok(ROOMS "/" CHATTY "/forward_extremities");
	ck_assert_int_eq(ival(o, "count"), 1);
	r = json_object_array_get_idx(field(o, "results"), 0);
	ck_assert_int_lt(llabs(ival(r, "received_ts") - (now - DAY_MS)), 60000);
	ck_assert_int_gt(ival(r, "depth"), 0);
	ck_assert(has(r, "state_group"));
	ck_assert(sval(r, "event_id")[0] == '$');
	json_object_put(o);
	o = get_ok(ROOMS "/%21futureClock%3Atest.local/forward_extremities");
	r = json_object_array_get_idx(field(o, "results"), 0);
	ck_assert_int_gt(ival(r, "received_ts"), now + 4 * DAY_MS);
	json_object_put(o);
	o = get_ok(ROOMS "/%21noEvents%3Atest.local/forward_extremities");
	ck_assert_int_eq(ival(o, "count"), 0);
	ck_assert_int_eq(json_object_array_length(field(o, "results")), 0);
	json_object_put(o);
	/* unknown: 200, not 404 */
	o = get_ok(ROOMS "/%21nope%3Atest.local/forward_extremities");
	ck_assert_int_eq(ival(o, "count"), 0);
	json_object_put(o);
	ck_assert_int_eq(stat_of("forward_extremities"), 4);
	stop();
}
END_TEST

START_TEST(test_timestamp_to_event)
{
	struct json_object *o;
	int64_t now = now_ms();
	char *path;

	start_old();
	o = get_ok(ROOMS "/%21LXEkUYmOgpyHdUqFYF%3Atest.local/timestamp_to_event?ts=0&dir=f");
	ck_assert_int_eq(ival(o, "origin_server_ts"), 1577836800000LL); /* the create event */
	json_object_put(o);
	o = get_ok(ROOMS "/%21LXEkUYmOgpyHdUqFYF%3Atest.local/timestamp_to_event?ts=1609459200000&dir=b");
	ck_assert_int_eq(ival(o, "origin_server_ts"), 1577836920000LL);
	json_object_put(o);
	ck_assert_int_ge(asprintf(&path, ROOMS "/" CHATTY_FMT "/timestamp_to_event?ts=%lld&dir=b",
				  (long long)now), 0);
	o = get_ok(path);
	free(path);
	ck_assert_int_lt(llabs(ival(o, "origin_server_ts") - (now - DAY_MS)), 60000);
	ck_assert(sval(o, "event_id")[0] == '$');
	json_object_put(o);
	assert_error("GET", ROOMS "/" CHATTY "/timestamp_to_event?ts=4102444800000&dir=f", NULL, ADMIN, 404,
		     "M_NOT_FOUND", "Unable to find event from 4102444800000 in direction f");
	assert_error("GET", ROOMS "/" CHATTY "/timestamp_to_event?dir=b", NULL, ADMIN, 400,
		     "M_MISSING_PARAM", "Missing integer query parameter 'ts'");
	assert_error("GET", ROOMS "/" CHATTY "/timestamp_to_event?ts=1&dir=x", NULL, ADMIN, 400,
		     "M_INVALID_PARAM", NULL);
	assert_error("GET", ROOMS "/%21nope%3Atest.local/timestamp_to_event?ts=1&dir=f", NULL, ADMIN, 404,
		     "M_NOT_FOUND", "Unable to find event from 1 in direction f");
	assert_error("GET", ROOMS "/%21noEvents%3Atest.local/timestamp_to_event?ts=0&dir=f", NULL, ADMIN,
		     404, "M_NOT_FOUND", NULL);
	stop();
}
END_TEST

START_TEST(test_messages)
{
	char *path = strdup(ROOMS "/" CHATTY "/messages?dir=b&limit=4");
	int events = 0, pages = 0, messages = 0;
	const char *oldest = NULL;
	struct json_object *o, *chunk;
	bool unsorted = false;

	start_old();
	while (path) {
		struct json_object *c;

		o = get_ok(path);
		free(path);
		path = NULL;
		c = field(o, "chunk");
		pages++;
		for (size_t i = 0; i < json_object_array_length(c); i++, events++)
			oldest = sval(json_object_array_get_idx(c, i), "type");
		if (json_object_array_length(c) >= 2)
			unsorted |= ival(json_object_array_get_idx(c, 0), "origin_server_ts") <
				    ival(json_object_array_get_idx(c, 1), "origin_server_ts");
		ck_assert(has(o, "start"));
		if (has(o, "end"))
			ck_assert_int_ge(asprintf(&path, ROOMS "/" CHATTY_FMT "/messages?dir=b&limit=4&from=%s",
						  sval(o, "end")), 0);
		else
			ck_assert_str_eq(oldest, "m.room.create"); /* the start of the room */
		json_object_put(o);
		ck_assert_int_lt(pages, 10);
	}
	/* 4 state events at creation, 6 messages, the last (membership) event */
	ck_assert_int_eq(events, 11);
	ck_assert_int_eq(pages, 3);
	ck_assert(unsorted);
	/* filter={"types":["m.room.message"]}, URL-encoded */
	o = get_ok(ROOMS "/" CHATTY "/messages?dir=b&limit=50&filter=%7B%22types%22%3A%5B%22m.room.message%22%5D%7D");
	chunk = field(o, "chunk");
	for (size_t i = 0; i < json_object_array_length(chunk); i++, messages++)
		ck_assert_str_eq(sval(json_object_array_get_idx(chunk, i), "type"), "m.room.message");
	ck_assert_int_eq(messages, 5);
	ck_assert(!has(o, "end"));
	json_object_put(o);
	/* an unknown room: 200 and an empty chunk (capture 313) */
	o = get_ok(ROOMS "/%21nope%3Atest.local/messages?dir=b&limit=1");
	ck_assert_int_eq(json_object_array_length(field(o, "chunk")), 0);
	ck_assert(!has(o, "end"));
	json_object_put(o);
	/* without dir: forwards from the live end, nothing (capture 312) */
	o = get_ok(ROOMS "/" CHATTY "/messages?limit=2");
	ck_assert_int_eq(json_object_array_length(field(o, "chunk")), 0);
	json_object_put(o);
	/* the newest message of the old room is from 2020 */
	o = get_ok(ROOMS "/%21LXEkUYmOgpyHdUqFYF%3Atest.local/messages?dir=b&limit=5&filter=%7B%22types%22%3A%5B%22m.room.message%22%5D%7D");
	chunk = field(o, "chunk");
	ck_assert_int_eq(json_object_array_length(chunk), 2);
	ck_assert_int_eq(ival(json_object_array_get_idx(chunk, 0), "origin_server_ts") +
			 ival(json_object_array_get_idx(chunk, 1), "origin_server_ts"),
			 1577836860000LL + 1577836920000LL);
	json_object_put(o);
	ck_assert_int_eq(stat_of("messages"), 7);
	stop();
}
END_TEST

/* ---------------------------------------------------------------- deletes */

static char *delete_room(const char *enc_id, const char *body)
{
	char *path, *id;
	long st;
	struct json_object *o;

	ck_assert_int_ge(asprintf(&path, "/_synapse/admin/v2/rooms/%s", enc_id), 0);
	o = req("DELETE", path, body, ADMIN, &st);
	free(path);
	ck_assert_int_eq(st, 200);
	id = strdup(sval(o, "delete_id"));
	ck_assert_uint_eq(strlen(id), 16);
	for (const char *p = id; *p; p++)
		ck_assert((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'));
	json_object_put(o);
	return id;
}

/* One status poll by delete_id; returns the status (static buffer). */
static const char *poll_status(const char *delete_id, struct json_object **out)
{
	static char status[32];
	char *path;
	struct json_object *o;

	ck_assert_int_ge(asprintf(&path, "/_synapse/admin/v2/rooms/delete_status/%s", delete_id), 0);
	o = get_ok(path);
	free(path);
	snprintf(status, sizeof(status), "%s", sval(o, "status"));
	if (out)
		*out = o;
	else
		json_object_put(o);
	return status;
}

START_TEST(test_delete_old_style)
{
	struct json_object *o, *s, *sr;
	char *id;
	long st;

	start_old();
	id = delete_room(CHATTY, "{\"purge\":true,\"block\":false}");
	assert_error("DELETE", "/_synapse/admin/v2/rooms/" CHATTY, "{}", ADMIN, 400, "M_UNKNOWN",
		     "History purge already in progress for !bWqHYfxcXhgBRHdzsX:test.local");
	ck_assert_str_eq(poll_status(id, &o), "shutting_down");
	ck_assert(!has(o, "delete_id"));
	ck_assert_int_eq(json_object_array_length(field(field(o, "shutdown_room"), "kicked_users")), 0);
	json_object_put(o);
	/* still there while it runs */
	json_object_put(get_ok(ROOMS "/" CHATTY));
	o = get_ok("/_synapse/admin/v2/rooms/" CHATTY "/delete_status");
	sr = json_object_array_get_idx(field(o, "results"), 0);
	ck_assert_str_eq(sval(sr, "delete_id"), id);
	ck_assert_str_eq(sval(sr, "status"), "purging");
	ck_assert_int_eq(json_object_array_length(field(field(sr, "shutdown_room"), "kicked_users")), 2);
	json_object_put(o);
	ck_assert_str_eq(poll_status(id, &o), "complete");
	ck_assert(!has(o, "error"));
	json_object_put(o);
	ck_assert_str_eq(poll_status(id, NULL), "complete");
	assert_error("GET", ROOMS "/" CHATTY, NULL, ADMIN, 404, "M_NOT_FOUND", NULL);
	o = get_ok(ROOMS);
	ck_assert_int_eq(ival(o, "total_rooms"), 15);
	json_object_put(o);
	o = get_ok(ROOMS "/" CHATTY "/forward_extremities");
	ck_assert_int_eq(ival(o, "count"), 0);
	json_object_put(o);
	/* counted per room, with the last body */
	ck_assert_int_eq(fake_stats(&fs, &s), 0);
	ck_assert_int_eq(ival(field(s, "deletes"), "!bWqHYfxcXhgBRHdzsX:test.local"), 2);
	ck_assert_int_eq(json_object_object_length(field(field(s, "delete_bodies"),
							  "!bWqHYfxcXhgBRHdzsX:test.local")), 0);
	ck_assert_int_eq(ival(s, "rooms"), 15);
	json_object_put(s);
	/* a new delete after completion is accepted */
	free(id);
	id = delete_room(CHATTY, "{}");
	o = req("GET", "/_synapse/admin/v2/rooms/" CHATTY "/delete_status", NULL, ADMIN, &st);
	ck_assert_int_eq(st, 200);
	ck_assert_int_eq(json_object_array_length(field(o, "results")), 2);
	json_object_put(o);
	free(id);
	stop();
}
END_TEST

START_TEST(test_delete_new_style)
{
	struct json_object *o, *r;
	char *id;

	start_basic("new");
	id = delete_room(CHATTY, "{}");
	/* a task still scheduled is not listed by room (404), but it advances */
	assert_error("GET", "/_synapse/admin/v2/rooms/" CHATTY "/delete_status", NULL, ADMIN, 404,
		     "M_NOT_FOUND", "No delete task for room_id '!bWqHYfxcXhgBRHdzsX:test.local' found");
	ck_assert_str_eq(poll_status(id, &o), "active");
	ck_assert_str_eq(sval(o, "delete_id"), id);
	ck_assert_str_eq(sval(o, "room_id"), "!bWqHYfxcXhgBRHdzsX:test.local");
	ck_assert_ptr_null(field(o, "shutdown_room"));
	json_object_put(o);
	o = get_ok("/_synapse/admin/v2/rooms/" CHATTY "/delete_status");
	r = json_object_array_get_idx(field(o, "results"), 0);
	ck_assert_str_eq(sval(r, "status"), "complete");
	ck_assert_ptr_nonnull(field(r, "shutdown_room"));
	ck_assert(!has(r, "error"));
	json_object_put(o);
	assert_error("GET", ROOMS "/" CHATTY, NULL, ADMIN, 404, "M_NOT_FOUND", NULL);
	free(id);
	/* a fresh one starts scheduled */
	id = delete_room("%21jBfhLKmkOcHtHevoBs%3Atest.local", "{}");
	ck_assert_str_eq(poll_status(id, NULL), "scheduled");
	free(id);
	stop();
}
END_TEST

START_TEST(test_delete_block_no_purge)
{
	struct json_object *o, *s;
	char *id;

	start_old();
	id = delete_room("%21kZSnrjXoiascmvqPpg%3Atest.local", "{\"purge\":false,\"block\":true}");
	for (int i = 0; i < 3; i++)
		poll_status(id, NULL);
	ck_assert_str_eq(poll_status(id, NULL), "complete");
	o = get_ok(ROOMS "/%21kZSnrjXoiascmvqPpg%3Atest.local");
	ck_assert_int_eq(ival(o, "joined_members"), 0);
	ck_assert_int_eq(ival(o, "joined_local_members"), 0);
	ck_assert(json_object_get_boolean(field(o, "forgotten")));
	ck_assert_ptr_null(field(o, "name"));
	json_object_put(o);
	ck_assert_int_eq(fake_stats(&fs, &s), 0);
	ck_assert(!json_object_get_boolean(field(field(field(s, "delete_bodies"),
							 "!kZSnrjXoiascmvqPpg:test.local"), "purge")));
	json_object_put(s);
	free(id);
	stop();
}
END_TEST

START_TEST(test_delete_errors)
{
	const char *path = "/_synapse/admin/v2/rooms/" CHATTY;
	char *id;

	start_old();
	assert_error("DELETE", path, NULL, ADMIN, 400, "M_NOT_JSON", "Content not JSON.");
	assert_error("DELETE", path, "{purge: true", ADMIN, 400, "M_NOT_JSON", NULL);
	assert_error("DELETE", path, "[]", ADMIN, 400, "M_BAD_JSON", "Content must be a JSON object.");
	assert_error("DELETE", path, "{\"purge\":\"yes\"}", ADMIN, 400, "M_BAD_JSON",
		     "Param 'purge' must be a boolean, if given");
	assert_error("DELETE", path, "{\"block\":1}", ADMIN, 400, "M_BAD_JSON", NULL);
	assert_error("DELETE", "/_synapse/admin/v2/rooms/notaroom", "{}", ADMIN, 400, "M_UNKNOWN",
		     "notaroom is not a legal room ID");
	assert_error("GET", "/_synapse/admin/v2/rooms/delete_status/notarealdeleteid", NULL, ADMIN, 404,
		     "M_NOT_FOUND", "delete id 'notarealdeleteid' not found");
	assert_error("GET", path, NULL, ADMIN, 400, "M_UNRECOGNIZED", NULL);
	/* nothing was started by the refused ones */
	assert_error("GET", "/_synapse/admin/v2/rooms/" CHATTY "/delete_status", NULL, ADMIN, 404,
		     "M_NOT_FOUND", NULL);
	/* an unknown well-formed room: accepted, completes (capture 404) */
	id = delete_room("%21doesnotexist%3Atest.local", "{}");
	poll_status(id, NULL);
	poll_status(id, NULL);
	ck_assert_str_eq(poll_status(id, NULL), "complete");
	free(id);
	/* an unescaped id works too (capture 414) */
	id = delete_room("!jBfhLKmkOcHtHevoBs:test.local", "{\"force_purge\":true}");
	free(id);
	ck_assert_int_eq(stat_of("delete"), 8);
	stop();
}
END_TEST

/* ---------------------------------------------------------------- faults */

START_TEST(test_fault_status)
{
	struct json_object *o;
	long st;
	char *raw;

	start_old();
	set_faults("{\"faults\":[{\"endpoint\":\"rooms_list\",\"kind\":\"status\",\"status\":503,\"count\":2}]}");
	for (int i = 0; i < 2; i++) {
		raw = raw_get(ROOMS, NULL);
		ck_assert_ptr_nonnull(strstr(raw, "HTTP/1.1 503"));
		ck_assert_ptr_nonnull(strstr(raw, "text/html"));
		free(raw);
	}
	json_object_put(get_ok(ROOMS));
	set_faults("{\"faults\":[{\"endpoint\":\"any\",\"kind\":\"status\",\"status\":500}]}");
	assert_error("GET", ROOMS "/" CHATTY, NULL, ADMIN, 500, "M_UNKNOWN", NULL);
	json_object_put(get_ok(ROOMS "/" CHATTY));
	set_faults("{\"faults\":[{\"endpoint\":\"room_details\",\"kind\":\"status\",\"status\":502,\"count\":-1}]}");
	for (int i = 0; i < 3; i++) {
		o = req("GET", ROOMS "/" CHATTY, NULL, ADMIN, &st);
		ck_assert_int_eq(st, 502);
		ck_assert_ptr_null(o);
	}
	json_object_put(get_ok(ROOMS "/" CHATTY "/members"));
	set_faults("{\"faults\":[]}");
	json_object_put(get_ok(ROOMS "/" CHATTY));
	stop();
}
END_TEST

START_TEST(test_fault_429_and_auth)
{
	struct json_object *o;
	long st;
	char *raw;

	start_old();
	set_faults("{\"faults\":[{\"endpoint\":\"forward_extremities\",\"kind\":\"429\",\"retry_after_ms\":1500}]}");
	raw = raw_get(ROOMS "/" CHATTY "/forward_extremities", NULL);
	ck_assert_ptr_nonnull(strstr(raw, "HTTP/1.1 429"));
	ck_assert_ptr_nonnull(strstr(raw, "Retry-After: 2\r\n"));
	ck_assert_ptr_nonnull(strstr(raw, "\"retry_after_ms\":1500"));
	ck_assert_ptr_nonnull(strstr(raw, "M_LIMIT_EXCEEDED"));
	free(raw);
	o = get_ok(ROOMS "/" CHATTY "/forward_extremities");
	ck_assert_int_eq(ival(o, "count"), 1);
	json_object_put(o);
	set_faults("{\"faults\":[{\"endpoint\":\"rooms_list\",\"kind\":\"auth\",\"status\":403},"
		   "{\"endpoint\":\"members\",\"kind\":\"auth\",\"status\":401}]}");
	assert_error("GET", ROOMS, NULL, ADMIN, 403, "M_FORBIDDEN", "You are not a server admin");
	assert_error("GET", ROOMS "/" CHATTY "/members", NULL, ADMIN, 401, "M_UNKNOWN_TOKEN", NULL);
	o = req("GET", ROOMS, NULL, ADMIN, &st);
	ck_assert_int_eq(st, 200);
	json_object_put(o);
	stop();
}
END_TEST

/* The other ways to ask a client to wait: Retry-After without a body hint,
 * as an HTTP date after the answer's own Date, a 503 with Retry-After. */
START_TEST(test_fault_retry_after_forms)
{
	char *raw, date[64], after[64];
	const char *d, *a;

	start_old();
	set_faults("{\"faults\":[{\"endpoint\":\"members\",\"kind\":\"429\",\"retry_after_ms\":-1,"
		   "\"retry_after\":7}]}");
	raw = raw_get(ROOMS "/" CHATTY "/members", NULL);
	ck_assert_ptr_nonnull(strstr(raw, "HTTP/1.1 429"));
	ck_assert_ptr_nonnull(strstr(raw, "Retry-After: 7\r\n"));
	ck_assert_ptr_null(strstr(raw, "retry_after_ms"));
	free(raw);
	set_faults("{\"faults\":[{\"endpoint\":\"members\",\"kind\":\"429\",\"retry_after\":90,"
		   "\"retry_after_date\":true}]}");
	raw = raw_get(ROOMS "/" CHATTY "/members", NULL);
	ck_assert_ptr_nonnull(d = strstr(raw, "Date: "));
	ck_assert_ptr_nonnull(a = strstr(raw, "Retry-After: "));
	ck_assert_int_eq(sscanf(d + 6, "%63[^\r]", date), 1);
	ck_assert_int_eq(sscanf(a + 13, "%63[^\r]", after), 1);
	{
		struct tm t1 = { 0 }, t2 = { 0 };

		ck_assert_ptr_nonnull(strptime(date, "%a, %d %b %Y %H:%M:%S GMT", &t1));
		ck_assert_ptr_nonnull(strptime(after, "%a, %d %b %Y %H:%M:%S GMT", &t2));
		ck_assert_int_eq((long)(timegm(&t2) - timegm(&t1)), 90);
	}
	free(raw);
	set_faults("{\"faults\":[{\"endpoint\":\"members\",\"kind\":\"status\",\"status\":503,"
		   "\"retry_after\":3}]}");
	raw = raw_get(ROOMS "/" CHATTY "/members", NULL);
	ck_assert_ptr_nonnull(strstr(raw, "HTTP/1.1 503"));
	ck_assert_ptr_nonnull(strstr(raw, "Retry-After: 3\r\n"));
	free(raw);
	/* Without "retry_after", a 503 says nothing about waiting. */
	set_faults("{\"faults\":[{\"endpoint\":\"members\",\"kind\":\"status\",\"status\":503}]}");
	raw = raw_get(ROOMS "/" CHATTY "/members", NULL);
	ck_assert_ptr_null(strstr(raw, "Retry-After"));
	free(raw);
	stop();
}
END_TEST

/* GET /_fake/requests: when each request came (CLOCK_MONOTONIC ms, the
 * tests' own clock) and its status; /_fake/reset empties it. */
START_TEST(test_requests_log)
{
	struct json_object *o, *list, *e;
	int64_t t0 = mono_ms(), t1;
	long st;

	start_old();
	set_faults("{\"faults\":[{\"endpoint\":\"members\",\"kind\":\"429\"}]}");
	o = req("GET", ROOMS "/" CHATTY "/members", NULL, ADMIN, &st);
	ck_assert_int_eq(st, 429);
	json_object_put(o);
	json_object_put(get_ok(ROOMS "/" CHATTY));
	t1 = mono_ms();
	o = req("GET", "/_fake/requests", NULL, NULL, &st);
	ck_assert_int_eq(st, 200);
	list = field(o, "requests");
	ck_assert_int_eq(json_object_array_length(list), 2);
	e = json_object_array_get_idx(list, 0);
	ck_assert_str_eq(sval(e, "endpoint"), "members");
	ck_assert_int_eq(ival(e, "status"), 429);
	ck_assert_int_ge(ival(e, "t"), t0);
	ck_assert_int_le(ival(e, "t"), t1);
	e = json_object_array_get_idx(list, 1);
	ck_assert_str_eq(sval(e, "endpoint"), "room_details");
	ck_assert_int_eq(ival(e, "status"), 200);
	json_object_put(o);
	ck_assert_int_eq(fake_reset(&fs), 0);
	o = req("GET", "/_fake/requests", NULL, NULL, &st);
	ck_assert_int_eq(json_object_array_length(field(o, "requests")), 0);
	json_object_put(o);
	stop();
}
END_TEST

/* --silent accepts connections and never answers, nor closes them. */
START_TEST(test_silent)
{
	const char *args[] = { "--silent", NULL };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct pollfd pfd;
	int c[3];

	start_with(args);
	for (int i = 0; i < 3; i++) {
		static const char rq[] = "GET /_synapse/admin/v1/server_version HTTP/1.1\r\nHost: x\r\n\r\n";

		c[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		sa.sin_port = htons((uint16_t)fs.port);
		ck_assert_int_eq(connect(c[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
		ck_assert_int_eq(write(c[i], rq, sizeof(rq) - 1), (ssize_t)(sizeof(rq) - 1));
	}
	for (int i = 0; i < 3; i++) {
		pfd = (struct pollfd){ .fd = c[i], .events = POLLIN };
		ck_assert_int_eq(poll(&pfd, 1, i == 0 ? 1000 : 100), 0); /* no answer, no close */
		close(c[i]);
	}
	stop();
}
END_TEST

START_TEST(test_fault_broken_bodies)
{
	char *url, *body = NULL, *raw;
	long st = 0;

	start_old();
	ck_assert_int_ge(asprintf(&url, "%s" ROOMS, fs.url), 0);
	set_faults("{\"faults\":[{\"endpoint\":\"rooms_list\",\"kind\":\"reset\"}]}");
	ck_assert_int_lt(test_http("GET", url, NULL, ADMIN, &st, &body), 0);
	ck_assert_int_eq(test_http("GET", url, NULL, ADMIN, &st, &body), 0);
	free(body);
	set_faults("{\"faults\":[{\"endpoint\":\"rooms_list\",\"kind\":\"truncate\"}]}");
	ck_assert_int_lt(test_http("GET", url, NULL, ADMIN, &st, &body), 0);
	set_faults("{\"faults\":[{\"endpoint\":\"rooms_list\",\"kind\":\"truncate\"}]}");
	raw = raw_get(ROOMS, NULL);
	ck_assert_ptr_nonnull(strstr(raw, "{\"offset\":0"));
	ck_assert_ptr_null(strstr(raw, "\r\n0\r\n\r\n"));
	ck_assert_ptr_null(strstr(raw, "total_rooms"));
	free(raw);
	set_faults("{\"faults\":[{\"endpoint\":\"rooms_list\",\"kind\":\"not_json\"}]}");
	ck_assert_int_eq(test_http("GET", url, NULL, ADMIN, &st, &body), 0);
	ck_assert_int_eq(st, 200);
	ck_assert(strncmp(body, "<html>", 6) == 0);
	free(body);
	set_faults("{\"faults\":[{\"endpoint\":\"rooms_list\",\"kind\":\"huge\"}]}");
	ck_assert_int_eq(test_http("GET", url, NULL, ADMIN, &st, &body), 0);
	ck_assert_int_eq(st, 200);
	ck_assert_uint_gt(strlen(body), 20u << 20);
	free(body);
	free(url);
	stop();
}
END_TEST

START_TEST(test_fault_wrong_type)
{
	struct json_object *o, *rooms;

	start_old();
	set_faults("{\"faults\":[{\"endpoint\":\"rooms_list\",\"kind\":\"wrong_type\"},"
		   "{\"endpoint\":\"forward_extremities\",\"kind\":\"wrong_type\"},"
		   "{\"endpoint\":\"timestamp_to_event\",\"kind\":\"wrong_type\"}]}");
	o = get_ok(ROOMS "?limit=4");
	rooms = field(o, "rooms");
	ck_assert(!has(json_object_array_get_idx(rooms, 0), "room_id"));
	ck_assert(json_object_is_type(field(json_object_array_get_idx(rooms, 1), "joined_local_members"),
				      json_type_string));
	ck_assert(json_object_is_type(field(json_object_array_get_idx(rooms, 2), "name"), json_type_int));
	json_object_put(o);
	o = get_ok(ROOMS "/" CHATTY "/forward_extremities");
	ck_assert(json_object_is_type(field(o, "results"), json_type_string));
	json_object_put(o);
	o = get_ok(ROOMS "/" CHATTY "/timestamp_to_event?ts=0&dir=f");
	ck_assert(json_object_is_type(field(o, "origin_server_ts"), json_type_string));
	json_object_put(o);
	/* count 1 each: back to normal */
	o = get_ok(ROOMS "?limit=4");
	ck_assert(has(json_object_array_get_idx(field(o, "rooms"), 0), "room_id"));
	json_object_put(o);
	stop();
}
END_TEST

START_TEST(test_fault_timing)
{
	int64_t t0, t1;
	char *url, *body = NULL;
	long st;

	start_old();
	set_faults("{\"faults\":[{\"endpoint\":\"server_version\",\"kind\":\"latency\",\"ms\":400}]}");
	t0 = mono_ms();
	json_object_put(get_ok("/_synapse/admin/v1/server_version"));
	ck_assert_int_ge(mono_ms() - t0, 390);
	/* a hung answer does not hold up other clients */
	set_faults("{\"faults\":[{\"endpoint\":\"rooms_list\",\"kind\":\"hang\",\"ms\":3000}]}");
	ck_assert_int_ge(asprintf(&url, "%s" ROOMS, fs.url), 0);
	t0 = mono_ms();
	if (fork() == 0) {
		int rc = test_http("GET", url, NULL, ADMIN, &st, &body);

		_exit(rc == 0 && st == 200 ? 0 : 1);
	}
	usleep(200000);
	t1 = mono_ms();
	for (int i = 0; i < 5; i++)
		json_object_put(get_ok(ROOMS "/" CHATTY));
	ck_assert_int_lt(mono_ms() - t1, 2000);
	{
		int status;

		ck_assert_int_gt(wait(&status), 0);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ck_assert_int_ge(mono_ms() - t0, 2900);
	free(url);
	stop();
}
END_TEST

START_TEST(test_fault_count_skip_room)
{
	long st;
	struct json_object *o;

	start_old();
	set_faults("{\"faults\":[{\"endpoint\":\"room_details\",\"kind\":\"status\",\"status\":500,"
		   "\"count\":2,\"skip\":2}]}");
	for (int i = 0; i < 6; i++) {
		o = req("GET", ROOMS "/" CHATTY, NULL, ADMIN, &st);
		ck_assert_int_eq(st, i == 2 || i == 3 ? 500 : 200);
		json_object_put(o);
	}
	set_faults("{\"faults\":[{\"endpoint\":\"room_details\",\"kind\":\"status\",\"status\":500,"
		   "\"count\":-1,\"room_id\":\"!jBfhLKmkOcHtHevoBs:test.local\"}]}");
	for (int i = 0; i < 3; i++) {
		assert_error("GET", ROOMS "/%21jBfhLKmkOcHtHevoBs%3Atest.local", NULL, ADMIN, 500, "M_UNKNOWN", NULL);
		json_object_put(get_ok(ROOMS "/" CHATTY));
	}
	ck_assert_int_eq(fake_reset(&fs), 0);
	json_object_put(get_ok(ROOMS "/%21jBfhLKmkOcHtHevoBs%3Atest.local"));
	ck_assert_int_eq(stat_of("room_details"), 1);
	/* a bad fault list is refused and changes nothing */
	ck_assert_int_lt(fake_set_faults(&fs, "{\"faults\":[{\"kind\":\"nope\"}]}"), 0);
	ck_assert_int_lt(fake_set_faults(&fs, "not json"), 0);
	json_object_put(get_ok(ROOMS "/%21jBfhLKmkOcHtHevoBs%3Atest.local"));
	stop();
}
END_TEST

START_TEST(test_fault_list_changes)
{
	struct json_object *o, *s;

	start_old();
	set_faults("{\"faults\":[{\"endpoint\":\"rooms_list\",\"kind\":\"list_insert\",\"n\":3}]}");
	o = get_ok(ROOMS "?limit=5"); /* the first page is not affected */
	ck_assert_int_eq(ival(o, "total_rooms"), 16);
	json_object_put(o);
	o = get_ok(ROOMS "?limit=5&from=5");
	ck_assert_int_eq(ival(o, "total_rooms"), 19);
	/* three new rooms sort first: the old 2nd..4th rows moved to 5..7 */
	assert_name(json_object_array_get_idx(field(o, "rooms"), 2), "Chatty Room");
	json_object_put(o);
	ck_assert_int_eq(fake_stats(&fs, &s), 0);
	ck_assert_int_eq(ival(s, "rooms"), 19);
	json_object_put(s);
	set_faults("{\"faults\":[{\"endpoint\":\"rooms_list\",\"kind\":\"list_remove\",\"n\":2}]}");
	o = get_ok(ROOMS "?limit=5&from=5");
	ck_assert_int_eq(ival(o, "total_rooms"), 17);
	json_object_put(o);
	set_faults("{\"faults\":[{\"endpoint\":\"rooms_list\",\"kind\":\"total_mismatch\",\"n\":40,\"count\":-1}]}");
	o = get_ok(ROOMS "?limit=5");
	ck_assert_int_eq(ival(o, "total_rooms"), 57);
	ck_assert_int_eq(json_object_array_length(field(o, "rooms")), 5);
	json_object_put(o);
	stop();
}
END_TEST

START_TEST(test_fault_delete)
{
	struct json_object *o;
	char *id;

	start_old();
	set_faults("{\"faults\":[{\"endpoint\":\"delete\",\"kind\":\"delete_fail\"}]}");
	id = delete_room(CHATTY, "{}");
	poll_status(id, NULL);
	poll_status(id, NULL);
	ck_assert_str_eq(poll_status(id, &o), "failed");
	ck_assert(strlen(sval(o, "error")) > 0);
	json_object_put(o);
	json_object_put(get_ok(ROOMS "/" CHATTY)); /* still there */
	free(id);
	set_faults("{\"faults\":[{\"endpoint\":\"delete\",\"kind\":\"delete_hang\"}]}");
	id = delete_room(CHATTY, "{}");
	for (int i = 0; i < 8; i++)
		ck_assert_str_eq(poll_status(id, NULL), i ? "purging" : "shutting_down");
	assert_error("DELETE", "/_synapse/admin/v2/rooms/" CHATTY, "{}", ADMIN, 400, "M_UNKNOWN", NULL);
	json_object_put(get_ok(ROOMS "/" CHATTY));
	free(id);
	stop();
	start_basic("new");
	set_faults("{\"faults\":[{\"endpoint\":\"delete\",\"kind\":\"delete_fail\"}]}");
	id = delete_room(CHATTY, "{}");
	poll_status(id, NULL);
	poll_status(id, NULL);
	ck_assert_str_eq(poll_status(id, &o), "failed");
	ck_assert(!has(o, "error"));
	json_object_put(o);
	free(id);
	stop();
}
END_TEST

/* ---------------------------------------------------------------- stats and hooks */

START_TEST(test_stats)
{
	struct json_object *s;

	start_old();
	json_object_put(get_ok(ROOMS));
	json_object_put(get_ok(ROOMS "?from=5"));
	json_object_put(get_ok(ROOMS "/" CHATTY "/members"));
	json_object_put(get_ok("/_synapse/admin/v1/server_version"));
	ck_assert_int_eq(fake_stats(&fs, &s), 0);
	ck_assert_int_eq(ival(field(s, "requests"), "rooms_list"), 2);
	ck_assert_int_eq(ival(field(s, "requests"), "members"), 1);
	ck_assert_int_eq(ival(field(s, "requests"), "state"), 0);
	ck_assert_int_eq(ival(s, "total"), 4); /* the /_fake/ calls are not counted */
	ck_assert_int_eq(ival(s, "rooms"), 16);
	ck_assert_int_ge(ival(s, "max_concurrent"), 1);
	json_object_put(s);
	ck_assert_int_eq(fake_reset(&fs), 0);
	ck_assert_int_eq(fake_stats(&fs, &s), 0);
	ck_assert_int_eq(ival(s, "total"), 0);
	json_object_put(s);
	stop();
}
END_TEST

START_TEST(test_update_room)
{
	struct json_object *o;
	long st;
	char *url, *body = NULL;

	start_old();
	ck_assert_int_eq(fake_update_room(&fs, "!owRuUTaiRkCBdxnxSj:test.local",
					  "{\"members\":[\"@alice:test.local\"],\"public\":true}"), 0);
	o = get_ok(ROOMS "/%21owRuUTaiRkCBdxnxSj%3Atest.local");
	ck_assert_int_eq(ival(o, "joined_local_members"), 1);
	ck_assert_str_eq(sval(o, "name"), "Emptied"); /* a local member again: state visible */
	ck_assert(json_object_get_boolean(field(o, "public")));
	json_object_put(o);
	/* and the list order follows */
	o = get_ok(ROOMS "?search_term=Emptied");
	ck_assert_int_eq(ival(o, "total_rooms"), 1);
	json_object_put(o);
	ck_assert_int_eq(fake_update_room(&fs, "!brandNew:test.local", "{\"name\":\"Brand New\"}"), 0);
	json_object_put(get_ok(ROOMS "/%21brandNew%3Atest.local"));
	ck_assert_int_lt(fake_update_room(&fs, "!brandNew:test.local", "[1]"), 0);
	ck_assert_int_ge(asprintf(&url, "%s/_fake/rooms/%%21brandNew%%3Atest.local", fs.url), 0);
	ck_assert_int_eq(test_http("DELETE", url, NULL, NULL, &st, &body), 0);
	ck_assert_int_eq(st, 200);
	free(body);
	free(url);
	o = req("GET", ROOMS "/%21brandNew%3Atest.local", NULL, ADMIN, &st);
	ck_assert_int_eq(st, 404);
	json_object_put(o);
	stop();
}
END_TEST

START_TEST(test_global_latency)
{
	const char *args[] = { "--generate", "50", "--latency-ms", "300", NULL };
	struct json_object *s;
	int64_t t0;

	start_with(args);
	t0 = mono_ms();
	json_object_put(get_ok(ROOMS "?limit=5"));
	ck_assert_int_ge(mono_ms() - t0, 290);
	t0 = mono_ms();
	ck_assert_int_eq(fake_stats(&fs, &s), 0); /* the hooks are not delayed */
	ck_assert_int_lt(mono_ms() - t0, 290);
	json_object_put(s);
	stop();
}
END_TEST

/* ---------------------------------------------------------------- generated worlds */

static char *get_body(const char *path)
{
	char *url, *body = NULL;
	long st;

	ck_assert_int_ge(asprintf(&url, "%s%s", fs.url, path), 0);
	ck_assert_int_eq(test_http("GET", url, NULL, ADMIN, &st, &body), 0);
	ck_assert_int_eq(st, 200);
	free(url);
	return body;
}

START_TEST(test_generate_deterministic)
{
	const char *a[] = { "--generate", "2000", "--seed", "42", NULL };
	const char *b[] = { "--generate", "2000", "--seed", "43", NULL };
	char *first, *second, *other;

	start_with(a);
	first = get_body(ROOMS "?limit=500&from=700");
	stop();
	start_with(a);
	second = get_body(ROOMS "?limit=500&from=700");
	stop();
	start_with(b);
	other = get_body(ROOMS "?limit=500&from=700");
	stop();
	ck_assert_str_eq(first, second);
	ck_assert_str_ne(first, other);
	free(first);
	free(second);
	free(other);
}
END_TEST

struct census {
	size_t rooms, v12, null_names, no_local, dms, spaces, public_rooms, odd;
};

static void count_row(struct json_object *row, struct census *c)
{
	const char *id = sval(row, "room_id"), *name;
	struct json_object *n = field(row, "name");

	c->rooms++;
	c->v12 += strchr(id, ':') == NULL;
	c->null_names += n == NULL;
	c->no_local += ival(row, "joined_local_members") == 0;
	c->dms += ival(row, "joined_members") == 2 && n == NULL;
	c->spaces += field(row, "room_type") != NULL;
	c->public_rooms += json_object_get_boolean(field(row, "public"));
	name = n ? json_object_get_string(n) : "";
	c->odd += strpbrk(name, ",\"\n") != NULL || strchr("=+-@", name[0] ? name[0] : 'x') != NULL;
}

START_TEST(test_generate_100k_paged)
{
	const char *args[] = { "--generate", "100000", "--seed", "7", NULL };
	struct census c = { 0 };
	int64_t from = 0;
	int pages = 0;

	start_with(args);
	for (;;) {
		char *path;
		struct json_object *o, *rooms;

		ck_assert_int_ge(asprintf(&path, ROOMS "?limit=1000&from=%lld", (long long)from), 0);
		o = get_ok(path);
		free(path);
		ck_assert_int_eq(ival(o, "total_rooms"), 100000);
		rooms = field(o, "rooms");
		for (size_t i = 0; i < json_object_array_length(rooms); i++)
			count_row(json_object_array_get_idx(rooms, i), &c);
		pages++;
		if (!has(o, "next_batch")) {
			json_object_put(o);
			break;
		}
		from = ival(o, "next_batch");
		json_object_put(o);
		ck_assert_int_le(pages, 100);
	}
	ck_assert_int_eq(pages, 100);
	ck_assert_uint_eq(c.rooms, 100000);
	/* the mix: ~5 % v12 ids, ~10 %+ without local members, DMs, spaces,
	 * public rooms and hostile names all present */
	ck_assert_uint_gt(c.v12, 3000);
	ck_assert_uint_lt(c.v12, 7000);
	ck_assert_uint_gt(c.no_local, 10000);
	ck_assert_uint_lt(c.no_local, 40000);
	ck_assert_uint_gt(c.null_names, c.no_local);
	ck_assert_uint_gt(c.dms, 1000);
	ck_assert_uint_gt(c.spaces, 1000);
	ck_assert_uint_gt(c.public_rooms, 1000);
	ck_assert_uint_gt(c.odd, 500);
	stop();
}
END_TEST

START_TEST(test_generate_activity)
{
	const char *args[] = { "--generate", "300", "--seed", "3", NULL };
	struct json_object *o, *rooms;
	int no_events = 0, future = 0, with_events = 0;
	int64_t now = now_ms();

	start_with(args);
	o = get_ok(ROOMS "?limit=300");
	rooms = field(o, "rooms");
	for (size_t i = 0; i < json_object_array_length(rooms); i++) {
		char *path, *esc;
		struct json_object *fe;
		const char *id = sval(json_object_array_get_idx(rooms, i), "room_id");

		esc = strdup(id);
		ck_assert_int_ge(asprintf(&path, ROOMS "/%%21%s/forward_extremities", esc + 1), 0);
		fe = get_ok(path);
		if (ival(fe, "count") == 0) {
			no_events++;
		} else {
			int64_t ts = ival(json_object_array_get_idx(field(fe, "results"), 0), "received_ts");

			with_events++;
			future += ts > now + 60000;
		}
		json_object_put(fe);
		free(path);
		free(esc);
	}
	json_object_put(o);
	ck_assert_int_gt(no_events, 0);
	ck_assert_int_gt(future, 0);
	ck_assert_int_gt(with_events, 200);
	stop();
}
END_TEST

START_TEST(test_cli)
{
	char *bin, *pf;
	const char *bad_style[] = { NULL, "--generate", "5", "--delete-style", "x", NULL };
	const char *both[] = { NULL, "--generate", "5", "--fixture", "x.json", NULL };
	const char *missing[] = { NULL, "--fixture", "/nonexistent/world.json", NULL };
	const char *const *cases[] = { bad_style, both, missing };
	const char *top = getenv("top_builddir");
	struct test_output out;
	char *dir = test_tmpdir();
	const char *args[4];
	FILE *f;
	int port = 0;

	ck_assert_int_ge(asprintf(&bin, "%s/fake-synapse", top ? top : "."), 0);
	for (size_t i = 0; i < 3; i++) {
		const char **argv = (const char **)cases[i];

		argv[0] = bin;
		ck_assert_int_eq(test_run(argv, NULL, 10, &out), 0);
		ck_assert_int_ne(out.exit_status, 0);
		ck_assert_str_eq(out.out, "");
		test_output_free(&out);
	}
	ck_assert_int_ge(asprintf(&pf, "%s/port", dir), 0);
	args[0] = "--generate";
	args[1] = "3";
	args[2] = NULL;
	{
		const char *a[] = { "--generate", "3", "--port-file", pf, NULL };

		start_with(a);
	}
	f = fopen(pf, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d", &port), 1);
	fclose(f);
	ck_assert_int_eq(port, fs.port);
	{
		int status;

		kill(fs.pid, SIGTERM);
		ck_assert_int_eq(waitpid(fs.pid, &status, 0), fs.pid);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		fs.pid = 0;
	}
	(void)args;
	free(pf);
	free(bin);
	test_rmtree(dir);
	free(dir);
}
END_TEST

static Suite *fake_synapse_suite(void)
{
	Suite *s = suite_create("fake_synapse");
	TCase *api = tcase_create("api"), *del = tcase_create("delete"), *flt = tcase_create("faults"),
	      *gen = tcase_create("generate");

	tcase_set_timeout(api, 60);
	tcase_set_timeout(del, 60);
	tcase_set_timeout(flt, 120);
	tcase_set_timeout(gen, 300);
	tcase_add_test(api, test_server_version);
	tcase_add_test(api, test_auth);
	tcase_add_test(api, test_custom_tokens);
	tcase_add_test(api, test_unrecognized);
	tcase_add_test(api, test_chunked_and_keepalive);
	tcase_add_test(api, test_list_paging);
	tcase_add_test(api, test_list_params);
	tcase_add_test(api, test_list_row_shape);
	tcase_add_test(api, test_details);
	tcase_add_test(api, test_members_state);
	tcase_add_test(api, test_directory);
	tcase_add_test(api, test_forward_extremities);
	tcase_add_test(api, test_timestamp_to_event);
	tcase_add_test(api, test_messages);
	tcase_add_test(api, test_stats);
	tcase_add_test(api, test_update_room);
	tcase_add_test(api, test_cli);
	tcase_add_test(del, test_delete_old_style);
	tcase_add_test(del, test_delete_new_style);
	tcase_add_test(del, test_delete_block_no_purge);
	tcase_add_test(del, test_delete_errors);
	tcase_add_test(flt, test_fault_status);
	tcase_add_test(flt, test_fault_429_and_auth);
	tcase_add_test(flt, test_fault_retry_after_forms);
	tcase_add_test(flt, test_requests_log);
	tcase_add_test(api, test_silent);
	tcase_add_test(flt, test_fault_broken_bodies);
	tcase_add_test(flt, test_fault_wrong_type);
	tcase_add_test(flt, test_fault_timing);
	tcase_add_test(flt, test_fault_count_skip_room);
	tcase_add_test(flt, test_fault_list_changes);
	tcase_add_test(flt, test_fault_delete);
	tcase_add_test(flt, test_global_latency);
	tcase_add_test(gen, test_generate_deterministic);
	tcase_add_test(gen, test_generate_activity);
	tcase_add_test(gen, test_generate_100k_paged);
	suite_add_tcase(s, api);
	suite_add_tcase(s, del);
	suite_add_tcase(s, flt);
	suite_add_tcase(s, gen);
	return s;
}

int main(void)
{
	return test_suite_main(fake_synapse_suite());
}
