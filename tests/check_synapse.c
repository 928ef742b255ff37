/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "suite.h"
#include "synapse.h"
#include "xmalloc.h"

/* --- helpers --- */

#define LIT(s) s, strlen(s)

static struct capture load(const char *prefix)
{
	struct capture c;
	int r = capture_load(prefix, &c);

	ck_assert_msg(r == 0, "capture %s not found in %s (%d)", prefix, capture_dir(), r);
	return c;
}

/* Body of exchange i of capture prefix, as an owned string. */
static char *body_of(const char *prefix, size_t i, size_t *len)
{
	struct capture c = load(prefix);
	char *b;

	ck_assert_uint_gt(c.n, i);
	b = xstrndup(c.ex[i].body, c.ex[i].body_len);
	*len = c.ex[i].body_len;
	capture_free(&c);
	return b;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decoding, the inverse the server applies. */
static char *unescape(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	for (; *s; s++) {
		if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			*o++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

/* --- paths --- */

START_TEST(test_path_room_list)
{
	char *p = synapse_path_room_list(0, 500);

	ck_assert_str_eq(p, "/_synapse/admin/v1/rooms?from=0&limit=500&order_by=name");
	free(p);
	/* limit=0 would page forever (API.md): clamped to 1; from never < 0. */
	p = synapse_path_room_list(1000, 0);
	ck_assert_str_eq(p, "/_synapse/admin/v1/rooms?from=1000&limit=1&order_by=name");
	free(p);
	p = synapse_path_room_list(-1, 7);
	ck_assert_str_eq(p, "/_synapse/admin/v1/rooms?from=0&limit=7&order_by=name");
	free(p);
}
END_TEST

START_TEST(test_path_room_and_suffix)
{
	char *p = synapse_path_room("!bWqHYfxcXhgBRHdzsX:test.local", "");

	/* The form of the captures' requests (200-210). */
	ck_assert_str_eq(p, "/_synapse/admin/v1/rooms/%21bWqHYfxcXhgBRHdzsX%3Atest.local");
	free(p);
	p = synapse_path_room("!bWqHYfxcXhgBRHdzsX:test.local", "/members");
	ck_assert_str_eq(p, "/_synapse/admin/v1/rooms/%21bWqHYfxcXhgBRHdzsX%3Atest.local/members");
	free(p);
	p = synapse_path_room("!x:y", NULL);
	ck_assert_str_eq(p, "/_synapse/admin/v1/rooms/%21x%3Ay");
	free(p);
}
END_TEST

/* Room ids are opaque: v12 ids have no ':', a hostile one can hold anything. */
static const char *const odd_ids[] = {
	"!AbCdEf-_.~0123456789",          /* room version 12: no server part */
	"!a/b:test.local",
	"!a?b=c&d:test.local",
	"!a#frag:test.local",
	"!100%:test.local",
	"!sp ace+plus:test.local",
	"!../../v1/users:x",
	"!caf\xc3\xa9:test.local",
	"!\r\nX-Injected: 1:x",
};

START_TEST(test_path_escapes_odd_ids)
{
	const char *id = odd_ids[_i];
	char *paths[] = {
		synapse_path_room(id, "/members"),
		synapse_path_timestamp_to_event(id, 0, 'f'),
		synapse_path_messages(id, NULL, 10),
		synapse_path_delete(id),
		synapse_path_room_delete_status(id),
	};
	static const char *const prefix[] = {
		"/_synapse/admin/v1/rooms/", "/_synapse/admin/v1/rooms/", "/_synapse/admin/v1/rooms/",
		"/_synapse/admin/v2/rooms/", "/_synapse/admin/v2/rooms/",
	};

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		const char *seg = paths[i] + strlen(prefix[i]);
		size_t seglen = strcspn(seg, "/?");
		char *raw = xstrndup(seg, seglen), *decoded = unescape(raw);

		ck_assert_msg(strncmp(paths[i], prefix[i], strlen(prefix[i])) == 0, "%s", paths[i]);
		/* The id is one path segment that decodes back to itself. */
		ck_assert_str_eq(decoded, id);
		ck_assert_ptr_null(strpbrk(raw, "/?#:! \r\n+&="));
		ck_assert_ptr_null(strpbrk(paths[i], " \r\n#"));
		free(raw);
		free(decoded);
		free(paths[i]);
	}
}
END_TEST

START_TEST(test_path_ts_messages)
{
	char *p = synapse_path_timestamp_to_event("!r:s", 0, 'f');

	ck_assert_str_eq(p, "/_synapse/admin/v1/rooms/%21r%3As/timestamp_to_event?ts=0&dir=f");
	free(p);
	p = synapse_path_timestamp_to_event("!r:s", 1795418346136, 'b');
	ck_assert_str_eq(p, "/_synapse/admin/v1/rooms/%21r%3As/timestamp_to_event?ts=1795418346136&dir=b");
	free(p);
	p = synapse_path_messages("!r:s", NULL, 100);
	ck_assert_str_eq(p, "/_synapse/admin/v1/rooms/%21r%3As/messages?dir=b&limit=100&filter="
		"%7B%22types%22%3A%5B%22m.room.message%22%2C%22m.room.encrypted%22%2C%22m.room.create%22%5D%7D");
	free(p);
	p = synapse_path_messages("!r:s", "t12-63_0 0/x&y", 3);
	ck_assert_str_eq(p, "/_synapse/admin/v1/rooms/%21r%3As/messages?dir=b&limit=3&filter="
		"%7B%22types%22%3A%5B%22m.room.message%22%2C%22m.room.encrypted%22%2C%22m.room.create%22%5D%7D"
		"&from=t12-63_0%200%2Fx%26y");
	free(p);
}
END_TEST

START_TEST(test_path_delete_and_directory)
{
	char *p = synapse_path_delete("!wWyLhHaTNMtHxYdFuz:test.local");

	/* As in capture 400. */
	ck_assert_str_eq(p, "/_synapse/admin/v2/rooms/%21wWyLhHaTNMtHxYdFuz%3Atest.local");
	free(p);
	p = synapse_path_delete_status("NFJkyHQBLqZunZgo");
	ck_assert_str_eq(p, "/_synapse/admin/v2/rooms/delete_status/NFJkyHQBLqZunZgo");
	free(p);
	p = synapse_path_delete_status("a/b?c");
	ck_assert_str_eq(p, "/_synapse/admin/v2/rooms/delete_status/a%2Fb%3Fc");
	free(p);
	p = synapse_path_room_delete_status("!wWyLhHaTNMtHxYdFuz:test.local");
	ck_assert_str_eq(p, "/_synapse/admin/v2/rooms/%21wWyLhHaTNMtHxYdFuz%3Atest.local/delete_status");
	free(p);
	p = synapse_path_directory("#janitor-public:test.local");
	ck_assert_str_eq(p, "/_matrix/client/v3/directory/room/%23janitor-public%3Atest.local");
	free(p);
}
END_TEST

START_TEST(test_http_escape_every_byte)
{
	for (int ch = 1; ch < 256; ch++) {
		char in[2] = { (char)ch, 0 }, *out = http_escape(in);
		bool unreserved = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
				  (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
				  ch == '~';
		char want[4];

		if (unreserved)
			snprintf(want, sizeof(want), "%c", ch);
		else
			snprintf(want, sizeof(want), "%%%02X", ch);
		ck_assert_str_eq(out, want);
		free(out);
	}
	char *e = http_escape("");
	ck_assert_str_eq(e, "");
	free(e);
}
END_TEST

/* --- parsers against the real captures --- */

static void parse_page(const char *prefix, size_t i, struct room_page *page)
{
	size_t len;
	char *b = body_of(prefix, i, &len), err[160] = "";

	ck_assert_msg(synapse_parse_room_page(b, len, SIZE_MAX, page, err, sizeof(err)) == 0, "%s: %s", prefix, err);
	free(b);
}

START_TEST(test_capture_100_default_list)
{
	struct room_page page;
	struct room_facts *f;

	/* 5179 bytes: only the pretty copy is complete. */
	parse_page("100", 0, &page);
	ck_assert_uint_eq(page.n, 15);
	ck_assert_uint_eq(page.bad_rows, 0);
	ck_assert_int_eq(page.total_rooms, 15);
	ck_assert_int_eq(page.offset, 0);
	ck_assert_int_eq(page.next_batch, -1);
	f = &page.rooms[0];
	ck_assert_str_eq(f->room_id, "!UUblNpHTrythaUgtQs:test.local");
	ck_assert_ptr_null(f->name);
	ck_assert_ptr_null(f->canonical_alias);
	ck_assert_str_eq(f->creator, "@as_ghost:test.local");
	ck_assert_ptr_null(f->room_type);
	ck_assert_ptr_null(f->encryption);
	ck_assert_int_eq(f->joined_members, 0);
	ck_assert_int_eq(f->joined_local_members, 0);
	ck_assert_int_eq(f->is_public, TRI_FALSE);
	ck_assert_ptr_null(f->row_problem);
	/* Costly facts are never filled from the list. */
	ck_assert_int_eq(f->last_activity.state, FACT_UNFETCHED);
	ck_assert_int_eq(f->created.state, FACT_UNFETCHED);
	for (size_t i = 0; i < page.n; i++) {
		ck_assert_ptr_null(page.rooms[i].row_problem);
		if (page.rooms[i].name && strcmp(page.rooms[i].name, "Public Lobby") == 0) {
			ck_assert_int_eq(page.rooms[i].is_public, TRI_TRUE);
			ck_assert_str_eq(page.rooms[i].canonical_alias, "#janitor-public:test.local");
		}
		if (page.rooms[i].name && strcmp(page.rooms[i].name, "Janitor Space") == 0)
			ck_assert_str_eq(page.rooms[i].room_type, "m.space");
		if (page.rooms[i].name && strcmp(page.rooms[i].name, "Secret Room") == 0)
			ck_assert_str_eq(page.rooms[i].encryption, "m.megolm.v1.aes-sha2");
	}
	room_page_free(&page);
	ck_assert_ptr_null(page.rooms);
	ck_assert_uint_eq(page.n, 0);
}
END_TEST

START_TEST(test_capture_101_paging)
{
	struct capture c = load("101");
	size_t total = 0;

	ck_assert_uint_eq(c.n, 8);
	for (size_t i = 0; i < c.n; i++) {
		struct room_page page;
		char err[160];

		ck_assert_int_eq(synapse_parse_room_page(c.ex[i].body, c.ex[i].body_len, SIZE_MAX, &page, err,
							 sizeof(err)), 0);
		ck_assert_int_eq(page.offset, (int64_t)(2 * i));
		ck_assert_int_eq(page.total_rooms, 15);
		/* next_batch is absent on the last page. */
		ck_assert_int_eq(page.next_batch, i + 1 < c.n ? (int64_t)(2 * i + 2) : -1);
		ck_assert_uint_eq(page.n, i + 1 < c.n ? 2 : 1);
		total += page.n;
		room_page_free(&page);
	}
	ck_assert_uint_eq(total, 15);
	capture_free(&c);
}
END_TEST

START_TEST(test_capture_list_edges)
{
	struct room_page page;

	parse_page("113", 0, &page);     /* limit=0: no rooms, next_batch 0 */
	ck_assert_uint_eq(page.n, 0);
	ck_assert_int_eq(page.next_batch, 0);
	ck_assert_int_eq(page.total_rooms, 15);
	room_page_free(&page);
	parse_page("118", 0, &page);     /* past the end: no next_batch */
	ck_assert_uint_eq(page.n, 0);
	ck_assert_int_eq(page.offset, 1000);
	ck_assert_int_eq(page.next_batch, -1);
	room_page_free(&page);
	parse_page("120", 0, &page);
	ck_assert_uint_eq(page.n, 15);
	ck_assert_int_eq(page.next_batch, -1);
	room_page_free(&page);
	parse_page("415", 0, &page);
	ck_assert_uint_eq(page.n, 1);
	ck_assert_int_eq(page.total_rooms, 17);
	ck_assert_int_eq(page.next_batch, 1);
	room_page_free(&page);
}
END_TEST

static void parse_details(const char *prefix, size_t i, struct room_facts *f, enum tri *forgotten)
{
	size_t len;
	char *b = body_of(prefix, i, &len), err[160] = "";

	memset(f, 0, sizeof(*f));
	ck_assert_msg(synapse_parse_room_details(b, len, f, forgotten, err, sizeof(err)) == 0,
		      "%s: %s", prefix, err);
	free(b);
}

START_TEST(test_capture_details)
{
	static const struct {
		const char *capture, *room_id, *name, *room_type, *encryption;
		int64_t members, local;
		enum tri is_public, forgotten;
	} rows[] = {
		{ "200", "!YMflFVPJmVnuqdlySp:test.local", "Public Lobby", NULL, NULL, 2, 2, TRI_TRUE, TRI_FALSE },
		{ "203", "!KMSPWqIfWrHyvWOIWJ:test.local", "Janitor Space", "m.space", NULL, 1, 1, TRI_FALSE, TRI_FALSE },
		{ "204", "!owRuUTaiRkCBdxnxSj:test.local", NULL, NULL, NULL, 0, 0, TRI_FALSE, TRI_FALSE },
		{ "207", "!YTJYZJnDtQgYYSHPRt:test.local", "Secret Room", NULL, "m.megolm.v1.aes-sha2", 2, 2, TRI_FALSE, TRI_FALSE },
		{ "210", "!UUblNpHTrythaUgtQs:test.local", NULL, NULL, NULL, 0, 0, TRI_FALSE, TRI_FALSE },
	};
	const char *others[] = { "201", "202", "205", "206", "208", "209" };

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct room_facts f;
		enum tri forgotten;

		parse_details(rows[i].capture, 0, &f, &forgotten);
		ck_assert_str_eq(f.room_id, rows[i].room_id);
		if (rows[i].name)
			ck_assert_str_eq(f.name, rows[i].name);
		else
			ck_assert_ptr_null(f.name);
		if (rows[i].room_type)
			ck_assert_str_eq(f.room_type, rows[i].room_type);
		else
			ck_assert_ptr_null(f.room_type);
		if (rows[i].encryption)
			ck_assert_str_eq(f.encryption, rows[i].encryption);
		else
			ck_assert_ptr_null(f.encryption);
		ck_assert_int_eq(f.joined_members, rows[i].members);
		ck_assert_int_eq(f.joined_local_members, rows[i].local);
		ck_assert_int_eq(f.is_public, rows[i].is_public);
		ck_assert_int_eq(forgotten, rows[i].forgotten);
		ck_assert_ptr_null(f.row_problem);
		room_facts_clear(&f);
	}
	for (size_t i = 0; i < ARRAY_SIZE(others); i++) {
		struct room_facts f;
		enum tri forgotten;

		parse_details(others[i], 0, &f, &forgotten);
		ck_assert_ptr_nonnull(f.room_id);
		ck_assert_ptr_null(f.row_problem);
		ck_assert_int_ge(f.joined_members, 1);
		ck_assert_int_eq(forgotten, TRI_FALSE);
		room_facts_clear(&f);
	}
}
END_TEST

START_TEST(test_capture_410_forgotten)
{
	struct room_facts f;
	enum tri forgotten;

	/* Exchange 2: the details of a room shut down without purge. */
	parse_details("410", 2, &f, &forgotten);
	ck_assert_int_eq(forgotten, TRI_TRUE);
	ck_assert_int_eq(f.joined_members, 0);
	room_facts_clear(&f);
}
END_TEST

START_TEST(test_capture_members)
{
	size_t len;
	char *b = body_of("300", 0, &len), err[160];
	int64_t total, local;

	ck_assert_int_eq(synapse_parse_members(b, len, "test.local", &total, &local, err, sizeof(err)), 0);
	ck_assert_int_eq(total, 2);
	ck_assert_int_eq(local, 2);
	ck_assert_int_eq(synapse_parse_members(b, len, "other.example", &total, &local, err, sizeof(err)), 0);
	ck_assert_int_eq(total, 2);
	ck_assert_int_eq(local, 0);
	/* A server name that only starts like ours is not ours. */
	ck_assert_int_eq(synapse_parse_members(b, len, "test", &total, &local, err, sizeof(err)), 0);
	ck_assert_int_eq(local, 0);
	free(b);
	b = body_of("301", 0, &len);
	ck_assert_int_eq(synapse_parse_members(b, len, "test.local", &total, &local, err, sizeof(err)), 0);
	ck_assert_int_eq(total, 0);
	ck_assert_int_eq(local, 0);
	free(b);
}
END_TEST

START_TEST(test_capture_forward_extremities)
{
	size_t len;
	char *b = body_of("322", 0, &len), err[160];
	struct fact_time t = { 0 };

	ck_assert_int_eq(synapse_parse_forward_extremities(b, len, &t, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(t.state, FACT_KNOWN);
	ck_assert_int_eq(t.ms, 1795418343425);
	fact_time_clear(&t);
	free(b);
}
END_TEST

/* Captures 230, 231: a space and a room every local member left. The
 * newest extremity is the last leave; /context of it still has the name
 * and the canonical alias the list and the details show as null. */
START_TEST(test_capture_state_before_the_leave)
{
	static const struct {
		const char *capture, *event_id, *name, *alias;
	} cases[] = {
		{ "230", "$AvFPMk4R0fYdaQ3-ZLdj9PekThV_K7eByJ7p2KWbZfg", "Left Space", NULL },
		{ "231", "$IihFavCVwXKBfKrf3N0JWmBuJJb5_qy6XoXAaGDTGqE", "Left Project Room",
		  "#left-room-55564:test.local" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct room_facts details = { 0 };
		struct fact_time t = { 0 };
		struct prior_state p = { 0 };
		enum tri forgotten;
		char err[160], *id = NULL, *b;
		size_t len;

		b = body_of(cases[i].capture, 0, &len);
		ck_assert_int_eq(synapse_parse_room_details(b, len, &details, &forgotten, err, sizeof(err)), 0);
		ck_assert_ptr_null(details.name);
		ck_assert_ptr_null(details.canonical_alias);
		room_facts_clear(&details);
		free(b);
		b = body_of(cases[i].capture, 2, &len);
		ck_assert_int_eq(synapse_parse_forward_extremities(b, len, &t, &id, err, sizeof(err)), 0);
		ck_assert_str_eq(id, cases[i].event_id);
		free(b);
		b = body_of(cases[i].capture, 3, &len);
		ck_assert_msg(synapse_parse_context(b, len, &p, err, sizeof(err)) == 0, "%s: %s", cases[i].capture, err);
		ck_assert_int_eq(p.state, FACT_KNOWN);
		ck_assert_str_eq(p.name, cases[i].name);
		if (cases[i].alias) {
			ck_assert_uint_eq(p.n_aliases, 1);
			ck_assert_str_eq(p.aliases[0], cases[i].alias);
		} else {
			ck_assert_uint_eq(p.n_aliases, 0);
		}
		prior_state_clear(&p);
		fact_time_clear(&t);
		free(id);
		free(b);
	}
}
END_TEST

START_TEST(test_capture_timestamp_to_event)
{
	static const struct {
		const char *capture;
		int64_t ts;
	} rows[] = {
		{ "315", 1795418343420 }, { "316", 1795418344233 },
		{ "317", 1577836920000 }, { "321", 1795418342832 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		size_t len;
		char *b = body_of(rows[i].capture, 0, &len), err[160];
		int64_t ts = 0;

		ck_assert_int_eq(synapse_parse_timestamp_to_event(b, len, &ts, err, sizeof(err)), 0);
		ck_assert_int_eq(ts, rows[i].ts);
		free(b);
	}
}
END_TEST

START_TEST(test_capture_messages)
{
	static const struct {
		const char *capture;
		int64_t newest;
		const char *end;
	} rows[] = {
		{ "307", 1795418343420, "t12-63_0_0_0_0_0_0_0_0" },
		{ "308", 1795418343395, "t9-60_0_0_0_0_0_0_0_0" },
		{ "309", 1577836920000, "t7-90_0_0_0_0_0_0_0_0" },
		/* The newer leave event is not a message: the 2019 message wins. */
		{ "310", 1546300860000, "t6-98_0_0_0_0_0_0_0_0" },
		{ "311", -1, "t9-43_0_0_0_0_0_0_0_0" },
		{ "312", -1, NULL },
		{ "313", -1, NULL },  /* unknown room: 200, empty chunk */
		{ "314", 1795418343420, "t12-63_0_0_0_0_0_0_0_0" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		size_t len;
		char *b = body_of(rows[i].capture, 0, &len), err[160] = "", *end = (char *)"x";
		int64_t newest = 0, create_ts = 0;
		bool saw_create = true;

		ck_assert_msg(synapse_parse_messages(b, len, &newest, &end, &saw_create, &create_ts,
						     err, sizeof(err)) == 0, "%s: %s", rows[i].capture, err);
		ck_assert_int_eq(newest, rows[i].newest);
		if (rows[i].end)
			ck_assert_str_eq(end, rows[i].end);
		else
			ck_assert_ptr_null(end);
		ck_assert(!saw_create);
		ck_assert_int_eq(create_ts, -1);
		free(end);
		free(b);
	}
}
END_TEST

START_TEST(test_capture_server_whoami)
{
	size_t len;
	char *b = body_of("002", 0, &len), err[160], *s = NULL, *server;

	ck_assert_int_eq(synapse_parse_server_version(b, len, &s, err, sizeof(err)), 0);
	ck_assert_str_eq(s, "1.68.0");
	free(s);
	free(b);
	b = body_of("008", 0, &len);
	ck_assert_int_eq(synapse_parse_whoami(b, len, &s, err, sizeof(err)), 0);
	ck_assert_str_eq(s, "@admin:test.local");
	server = synapse_server_name_of(s);
	ck_assert_str_eq(server, "test.local");
	free(server);
	free(s);
	free(b);
}
END_TEST

START_TEST(test_capture_delete)
{
	struct capture c = load("400");
	char err[160], *id = NULL;
	struct delete_status st, *list;
	size_t n;
	static const char *const seen[] = { "shutting_down", "purging", "complete" };
	size_t next_seen = 0;

	ck_assert_int_eq(synapse_parse_delete_started(c.ex[0].body, c.ex[0].body_len, &id, err,
						      sizeof(err)), 0);
	ck_assert_str_eq(id, "NFJkyHQBLqZunZgo");
	free(id);
	/* Then by room and by id, alternately, until complete. */
	for (size_t i = 1; i < c.n; i++) {
		const struct capture_exchange *x = &c.ex[i];

		if (x->status != 200)
			continue;
		if (strstr(x->target, "/delete_status/")) {
			ck_assert_int_eq(synapse_parse_delete_status(x->body, x->body_len, &st, err,
								     sizeof(err)), 0);
			ck_assert_ptr_null(st.delete_id); /* 1.68 does not repeat it */
			ck_assert_ptr_null(st.error);
			while (next_seen < ARRAY_SIZE(seen) && strcmp(st.status, seen[next_seen]) != 0)
				next_seen++;
			ck_assert_uint_lt(next_seen, ARRAY_SIZE(seen));
			ck_assert_int_eq(st.state, strcmp(st.status, "complete") == 0 ?
					 DELETE_COMPLETE : DELETE_RUNNING);
			delete_status_clear(&st);
		} else if (strstr(x->target, "/delete_status")) {
			ck_assert_int_eq(synapse_parse_room_delete_status(x->body, x->body_len, &list, &n,
									  err, sizeof(err)), 0);
			ck_assert_uint_eq(n, 1);
			ck_assert_str_eq(list[0].delete_id, "NFJkyHQBLqZunZgo");
			delete_status_clear(&list[0]);
			free(list);
		}
	}
	ck_assert_uint_eq(next_seen, 2); /* reached complete */
	capture_free(&c);
}
END_TEST

START_TEST(test_capture_delete_410_two_tasks)
{
	struct capture c = load("410");
	struct delete_status *list;
	size_t n;
	char err[160];

	ck_assert_uint_eq(c.n, 8);
	ck_assert_int_eq(synapse_parse_room_delete_status(c.ex[6].body, c.ex[6].body_len, &list, &n,
							  err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0].delete_id, "CnCCVNesvSomDnxP");
	ck_assert_str_eq(list[1].delete_id, "OVXrZOJoQjdIzTxo");
	ck_assert_int_eq(list[1].state, DELETE_COMPLETE);
	for (size_t i = 0; i < n; i++)
		delete_status_clear(&list[i]);
	free(list);
	capture_free(&c);
}
END_TEST

START_TEST(test_capture_delete_other)
{
	static const char *const started[] = { "401", "404", "410", "411", "412", "413", "414" };

	for (size_t i = 0; i < ARRAY_SIZE(started); i++) {
		struct capture c = load(started[i]);
		char err[160], *id = NULL;

		ck_assert_str_eq(c.ex[0].method, "DELETE");
		ck_assert_int_eq(synapse_parse_delete_started(c.ex[0].body, c.ex[0].body_len, &id, err,
							      sizeof(err)), 0);
		ck_assert_uint_eq(strlen(id), 16);
		free(id);
		capture_free(&c);
	}
}
END_TEST

/* --- classification --- */

static enum synapse_result classify_capture(const char *prefix, size_t i, char *why, size_t len)
{
	struct capture c = load(prefix);
	struct http_response r;
	enum synapse_result res;

	ck_assert_uint_gt(c.n, i);
	capture_response(&c, i, &r);
	res = synapse_classify(&r, why, len);
	capture_free(&c);
	return res;
}

START_TEST(test_classify_captures)
{
	static const struct {
		const char *capture;
		size_t exchange;
		enum synapse_result result;
		const char *why;   /* the start of the description */
	} rows[] = {
		{ "002", 0, SYNAPSE_OK, "" },
		{ "100", 0, SYNAPSE_OK, "" },
		{ "003", 0, SYNAPSE_MISSING_TOKEN, "401 M_MISSING_TOKEN: Missing access token" },
		{ "004", 0, SYNAPSE_UNKNOWN_TOKEN, "401 M_UNKNOWN_TOKEN: Invalid access token passed." },
		{ "507", 0, SYNAPSE_MISSING_TOKEN, "401 M_MISSING_TOKEN" },
		{ "005", 0, SYNAPSE_NOT_ADMIN, "403 M_FORBIDDEN: You are not a server admin" },
		{ "226", 0, SYNAPSE_NOT_ADMIN, "403 M_FORBIDDEN" },
		{ "220", 0, SYNAPSE_NOT_FOUND, "404 M_NOT_FOUND: Room not found" },
		{ "318", 0, SYNAPSE_NOT_FOUND, "404 M_NOT_FOUND: Unable to find event" },
		{ "600", 0, SYNAPSE_NOT_FOUND, "404 M_NOT_FOUND: delete id" },
		{ "503", 0, SYNAPSE_NOT_JSON,
		  "HTML page instead of JSON (HTTP 404): is /_synapse/admin blocked by a reverse proxy?" },
		{ "104", 0, SYNAPSE_HTTP_ERROR, "HTTP 400 M_INVALID_PARAM: Query parameter" },
		{ "401", 1, SYNAPSE_HTTP_ERROR, "HTTP 400 M_UNKNOWN: History purge already in progress" },
		{ "402", 0, SYNAPSE_HTTP_ERROR, "HTTP 400 M_NOT_JSON: Content not JSON." },
		{ "500", 0, SYNAPSE_HTTP_ERROR, "HTTP 400 M_UNRECOGNIZED" },
		{ "506", 0, SYNAPSE_NOT_JSON, "empty body" }, /* HEAD: 200, no body */
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		char why[256] = "junk";
		enum synapse_result res = classify_capture(rows[i].capture, rows[i].exchange, why,
							   sizeof(why));

		ck_assert_msg(res == rows[i].result, "%s: %d (%s)", rows[i].capture, res, why);
		ck_assert_msg(strncmp(why, rows[i].why, strlen(rows[i].why)) == 0, "%s: %s",
			      rows[i].capture, why);
		if (!rows[i].why[0])
			ck_assert_str_eq(why, "");
	}
}
END_TEST

static enum synapse_result classify(long status, const char *ct, const char *body, char *why,
				    size_t len)
{
	struct http_response r = {
		.status = status, .body = body, .body_len = strlen(body),
		.content_type = ct, .error_text = "", .attempts = 1,
	};

	return synapse_classify(&r, why, len);
}

START_TEST(test_classify_synthetic)
{
	char why[256];

	/* A proxy's HTML 403 is still "refused", but says where it came from. */
	ck_assert_int_eq(classify(403, "text/html", "<html>Forbidden</html>", why, sizeof(why)),
			 SYNAPSE_NOT_ADMIN);
	ck_assert_ptr_nonnull(strstr(why, "HTML"));
	ck_assert_ptr_nonnull(strstr(why, "proxy"));
	ck_assert_int_eq(classify(401, "text/html", "<html>401 Authorization Required</html>", why,
				  sizeof(why)), SYNAPSE_UNKNOWN_TOKEN);
	ck_assert_ptr_nonnull(strstr(why, "HTML page instead of JSON (HTTP 401)"));
	ck_assert_int_eq(classify(401, "", "", why, sizeof(why)), SYNAPSE_UNKNOWN_TOKEN);
	ck_assert_str_eq(why, "401");
	ck_assert_int_eq(classify(401, "application/json", "{\"errcode\":\"M_MISSING_TOKEN\"}", why,
				  sizeof(why)), SYNAPSE_MISSING_TOKEN);
	ck_assert_str_eq(why, "401 M_MISSING_TOKEN");
	/* HTML detected by the body even with a wrong content type. */
	ck_assert_int_eq(classify(404, "application/octet-stream", "  \n<!DOCTYPE html>", why,
				  sizeof(why)), SYNAPSE_NOT_JSON);
	ck_assert_ptr_nonnull(strstr(why, "HTML page instead of JSON (HTTP 404)"));
	/* A 404 JSON body without errcode is not a Matrix "not found". */
	ck_assert_int_eq(classify(404, "application/json", "{}", why, sizeof(why)), SYNAPSE_NOT_JSON);
	ck_assert_int_eq(classify(502, "text/html", "<html>Bad Gateway</html>", why, sizeof(why)),
			 SYNAPSE_NOT_JSON);
	ck_assert_ptr_nonnull(strstr(why, "HTML"));
	ck_assert_int_eq(classify(502, "", "", why, sizeof(why)), SYNAPSE_HTTP_ERROR);
	ck_assert_str_eq(why, "HTTP 502");
	ck_assert_int_eq(classify(200, "application/json", "{\"rooms\":[", why, sizeof(why)),
			 SYNAPSE_NOT_JSON);
	ck_assert_ptr_nonnull(strstr(why, "not JSON (HTTP 200"));
	ck_assert_int_eq(classify(200, "text/plain", "OK", why, sizeof(why)), SYNAPSE_NOT_JSON);
	ck_assert_ptr_null(strstr(why, "HTML"));
	ck_assert_int_eq(classify(204, "", "{}", why, sizeof(why)), SYNAPSE_OK);
	ck_assert_int_eq(classify(429, "application/json",
				  "{\"errcode\":\"M_LIMIT_EXCEEDED\",\"error\":\"Too Many Requests\","
				  "\"retry_after_ms\":10}", why, sizeof(why)), SYNAPSE_HTTP_ERROR);
	ck_assert_str_eq(why, "HTTP 429 M_LIMIT_EXCEEDED: Too Many Requests");
}
END_TEST

START_TEST(test_classify_sanitises)
{
	char why[512], body[4096], *p;
	size_t n;

	/* Control characters from the server never reach a log line raw. */
	ck_assert_int_eq(classify(400, "application/json",
				  "{\"errcode\":\"M_X\\nY\",\"error\":\"line1\\nline2\\u001b[31m\"}", why,
				  sizeof(why)), SYNAPSE_HTTP_ERROR);
	ck_assert_str_eq(why, "HTTP 400 M_X?Y: line1?line2?[31m");
	/* Long server text is cut (~200 bytes), not on half a character. */
	p = body + snprintf(body, sizeof(body), "{\"errcode\":\"M_LONG\",\"error\":\"");
	for (int i = 0; i < 1000; i++)
		p += snprintf(p, sizeof(body) - (size_t)(p - body), "\xc3\xa9");
	snprintf(p, sizeof(body) - (size_t)(p - body), "\"}");
	classify(400, "", body, why, sizeof(why));
	n = strlen(why);
	ck_assert_uint_le(n, 240);
	ck_assert_uint_ge(n, 150);
	ck_assert_str_eq(why + n - 3, "...");
	ck_assert((unsigned char)why[n - 4] == 0xa9);
	/* A small buffer is never overrun. */
	ck_assert_int_eq(classify(400, "", body, why, 8), SYNAPSE_HTTP_ERROR);
	ck_assert_uint_eq(strlen(why), 7);
}
END_TEST

START_TEST(test_classify_transport)
{
	char why[256];
	struct http_response r = {
		.status = 0, .body = "", .error = -ETIMEDOUT,
		.error_text = "Operation timed out after 5000 milliseconds", .content_type = "",
		.attempts = 5,
	};

	ck_assert_int_eq(synapse_classify(&r, why, sizeof(why)), SYNAPSE_TRANSPORT);
	ck_assert_ptr_nonnull(strstr(why, "Operation timed out after 5000 milliseconds"));
	ck_assert_ptr_nonnull(strstr(why, "after 5 attempts"));
	r.error = -EMSGSIZE;
	r.status = 200;
	r.attempts = 1;
	ck_assert_int_eq(synapse_classify(&r, why, sizeof(why)), SYNAPSE_TRANSPORT);
	ck_assert_ptr_nonnull(strstr(why, "size limit"));
	ck_assert_ptr_null(strstr(why, "attempts"));
	r.error = -ECONNREFUSED;
	r.error_text = "";
	ck_assert_int_eq(synapse_classify(&r, why, sizeof(why)), SYNAPSE_TRANSPORT);
	ck_assert_str_eq(why, strerror(ECONNREFUSED));
}
END_TEST

START_TEST(test_result_is_auth)
{
	ck_assert(synapse_result_is_auth(SYNAPSE_MISSING_TOKEN));
	ck_assert(synapse_result_is_auth(SYNAPSE_UNKNOWN_TOKEN));
	ck_assert(synapse_result_is_auth(SYNAPSE_NOT_ADMIN));
	ck_assert(!synapse_result_is_auth(SYNAPSE_OK));
	ck_assert(!synapse_result_is_auth(SYNAPSE_NOT_FOUND));
	ck_assert(!synapse_result_is_auth(SYNAPSE_NOT_JSON));
	ck_assert(!synapse_result_is_auth(SYNAPSE_HTTP_ERROR));
	ck_assert(!synapse_result_is_auth(SYNAPSE_TRANSPORT));
}
END_TEST

START_TEST(test_server_name_of)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{ "@a:b.c", "b.c" }, { "@admin:test.local", "test.local" },
		{ "@a:b.c:8448", "b.c:8448" }, { "@a:[::1]", "[::1]" },
		{ "@a", NULL }, { "@a:", NULL }, { "@:b", NULL }, { "a:b", NULL }, { "", NULL },
		{ NULL, NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		char *s = synapse_server_name_of(rows[i].in);

		if (rows[i].out)
			ck_assert_str_eq(s, rows[i].out);
		else
			ck_assert_ptr_null(s);
		free(s);
	}
}
END_TEST

/* --- hostile and malformed answers --- */

static void page_of(const char *body, struct room_page *page)
{
	char err[160] = "";

	ck_assert_msg(synapse_parse_room_page(body, strlen(body), SIZE_MAX, page, err, sizeof(err)) == 0,
		      "%s: %s", body, err);
}

#define GOOD_ROW "\"name\":\"n\",\"canonical_alias\":null,\"creator\":\"@c:s\",\"encryption\":null," \
		 "\"joined_members\":2,\"joined_local_members\":1,\"public\":false"

START_TEST(test_page_bad_rows)
{
	struct room_page page;

	page_of("{\"rooms\":[1,\"x\",null,[],{\"room_id\":5},{\"room_id\":\"\"},{\"room_id\":null},"
		"{\"name\":\"no id\"},{\"room_id\":\"!ok:s\"," GOOD_ROW "}],\"total_rooms\":9}", &page);
	ck_assert_uint_eq(page.n, 1);
	ck_assert_uint_eq(page.bad_rows, 8);
	ck_assert_str_eq(page.rooms[0].room_id, "!ok:s");
	ck_assert_str_eq(page.rooms[0].name, "n");
	ck_assert_str_eq(page.rooms[0].creator, "@c:s");
	ck_assert_int_eq(page.rooms[0].joined_members, 2);
	ck_assert_int_eq(page.rooms[0].joined_local_members, 1);
	ck_assert_ptr_null(page.rooms[0].row_problem);
	ck_assert_int_eq(page.total_rooms, 9);
	ck_assert_int_eq(page.next_batch, -1);
	room_page_free(&page);
}
END_TEST

/* One field changed from a good row: the problem named, the fact unknown. */
static const struct {
	const char *row, *problem;
} row_problems[] = {
	{ "\"name\":5,\"canonical_alias\":null,\"creator\":\"@c:s\",\"encryption\":null,"
	  "\"joined_members\":2,\"joined_local_members\":1,\"public\":false",
	  "name: expected a string or null, got an integer" },
	{ "\"canonical_alias\":null,\"creator\":\"@c:s\",\"encryption\":null,"
	  "\"joined_members\":2,\"joined_local_members\":1,\"public\":false",
	  "name: expected a string or null, got nothing" },
	{ "\"name\":null,\"canonical_alias\":[],\"creator\":\"@c:s\",\"encryption\":null,"
	  "\"joined_members\":2,\"joined_local_members\":1,\"public\":false",
	  "canonical_alias: expected a string or null, got an array" },
	{ "\"name\":null,\"canonical_alias\":null,\"creator\":{},\"encryption\":null,"
	  "\"joined_members\":2,\"joined_local_members\":1,\"public\":false",
	  "creator: expected a string or null, got an object" },
	{ "\"name\":null,\"canonical_alias\":null,\"creator\":null,\"encryption\":true,"
	  "\"joined_members\":2,\"joined_local_members\":1,\"public\":false",
	  "encryption: expected a string or null, got a boolean" },
	{ "\"name\":null,\"canonical_alias\":null,\"creator\":null,\"encryption\":null,\"room_type\":1,"
	  "\"joined_members\":2,\"joined_local_members\":1,\"public\":false",
	  "room_type: expected a string or null, got an integer" },
	{ "\"name\":null,\"canonical_alias\":null,\"creator\":null,\"encryption\":null,"
	  "\"joined_members\":\"2\",\"joined_local_members\":1,\"public\":false",
	  "joined_members: expected an integer >= 0, got a string" },
	{ "\"name\":null,\"canonical_alias\":null,\"creator\":null,\"encryption\":null,"
	  "\"joined_members\":-3,\"joined_local_members\":1,\"public\":false",
	  "joined_members: expected an integer >= 0, got a negative integer" },
	{ "\"name\":null,\"canonical_alias\":null,\"creator\":null,\"encryption\":null,"
	  "\"joined_members\":2.0,\"joined_local_members\":1,\"public\":false",
	  "joined_members: expected an integer >= 0, got a fraction" },
	{ "\"name\":null,\"canonical_alias\":null,\"creator\":null,\"encryption\":null,"
	  "\"joined_members\":2,\"joined_local_members\":99999999999999999999999,\"public\":false",
	  "joined_local_members: expected an integer >= 0, got an integer out of range" },
	{ "\"name\":null,\"canonical_alias\":null,\"creator\":null,\"encryption\":null,"
	  "\"joined_members\":2,\"joined_local_members\":null,\"public\":false",
	  "joined_local_members: expected an integer >= 0, got null" },
	{ "\"name\":null,\"canonical_alias\":null,\"creator\":null,\"encryption\":null,"
	  "\"joined_members\":2,\"joined_local_members\":1,\"public\":\"false\"",
	  "public: expected a boolean, got a string" },
	{ "\"name\":null,\"canonical_alias\":null,\"creator\":null,\"encryption\":null,"
	  "\"joined_members\":2,\"joined_local_members\":1",
	  "public: expected a boolean, got nothing" },
	{ "\"name\":null,\"canonical_alias\":null,\"creator\":null,\"encryption\":null,"
	  "\"joined_members\":2,\"joined_local_members\":1,\"public\":0",
	  "public: expected a boolean, got an integer" },
	/* Two problems: the first is named. */
	{ "\"name\":1,\"canonical_alias\":null,\"creator\":null,\"encryption\":null,"
	  "\"joined_members\":-1,\"joined_local_members\":1,\"public\":false",
	  "name: expected a string or null, got an integer" },
};

START_TEST(test_page_row_problems)
{
	char *body = xasprintf("{\"rooms\":[{\"room_id\":\"!r:s\",%s}]}", row_problems[_i].row);
	struct room_page page;
	struct room_facts *f;

	page_of(body, &page);
	ck_assert_uint_eq(page.n, 1);
	f = &page.rooms[0];
	ck_assert_str_eq(f->room_id, "!r:s");
	ck_assert_ptr_nonnull(f->row_problem);
	ck_assert_str_eq(f->row_problem, row_problems[_i].problem);
	if (strncmp(row_problems[_i].problem, "joined_members", 14) == 0)
		ck_assert_int_eq(f->joined_members, -1);
	if (strncmp(row_problems[_i].problem, "joined_local", 12) == 0)
		ck_assert_int_eq(f->joined_local_members, -1);
	if (strncmp(row_problems[_i].problem, "public", 6) == 0)
		ck_assert_int_eq(f->is_public, TRI_UNKNOWN);
	if (strncmp(row_problems[_i].problem, "name", 4) == 0)
		ck_assert_ptr_null(f->name);
	room_page_free(&page);
	free(body);
}
END_TEST

/* The facts only match conditions use, from real rows: a field
 * absent, null or of the wrong type leaves that fact unknown and the row
 * usable (no row problem). */
START_TEST(test_capture_row_condition_facts)
{
	struct room_page page;
	struct room_facts f;
	enum tri forgotten;
	size_t seen = 0;

	parse_page("100", 0, &page);
	for (size_t i = 0; i < page.n; i++) {
		const struct room_facts *r = &page.rooms[i];

		ck_assert(r->room_type_known);
		ck_assert_int_eq(r->is_federatable, TRI_TRUE);
		ck_assert_int_ge(r->state_events, 6);
		ck_assert_ptr_nonnull(r->room_version);
		if (strcmp(r->room_id, "!UUblNpHTrythaUgtQs:test.local") == 0) {
			/* every local member left: join_rules is null (unknown) */
			ck_assert_ptr_null(r->join_rule);
			ck_assert_int_eq(r->state_events, 6);
			ck_assert_str_eq(r->room_version, "9");
			ck_assert_ptr_null(r->room_type);
			seen++;
		} else if (r->name && strcmp(r->name, "Private Room") == 0) {
			ck_assert_str_eq(r->join_rule, "invite");
			ck_assert_str_eq(r->room_version, "6");
			ck_assert_int_eq(r->state_events, 8);
			seen++;
		} else if (r->name && strcmp(r->name, "Janitor Space") == 0) {
			ck_assert_str_eq(r->join_rule, "public");
			ck_assert_str_eq(r->room_type, "m.space");
			ck_assert_int_eq(r->state_events, 7);
			seen++;
		}
	}
	ck_assert_uint_eq(seen, 3);
	room_page_free(&page);

	parse_details("203", 0, &f, &forgotten);   /* a space, in the details */
	ck_assert(f.room_type_known);
	ck_assert_str_eq(f.room_type, "m.space");
	ck_assert_int_ge(f.state_events, 1);
	room_facts_clear(&f);
	parse_details("204", 0, &f, &forgotten);   /* no local member left */
	ck_assert_ptr_null(f.join_rule);
	ck_assert(f.room_type_known);
	ck_assert_ptr_null(f.room_type);
	ck_assert_ptr_nonnull(f.room_version);
	room_facts_clear(&f);

	/* An old server's row without them; and each of the wrong type. */
	page_of("{\"rooms\":[{\"room_id\":\"!a:s\"," GOOD_ROW "},"
		"{\"room_id\":\"!b:s\"," GOOD_ROW ",\"room_type\":7,\"join_rules\":5,\"version\":9,"
		"\"state_events\":\"12\",\"federatable\":\"yes\"},"
		"{\"room_id\":\"!c:s\"," GOOD_ROW ",\"room_type\":null,\"join_rules\":\"knock\",\"version\":\"11\","
		"\"state_events\":-1,\"federatable\":false}]}", &page);
	ck_assert_uint_eq(page.n, 3);
	ck_assert(!page.rooms[0].room_type_known);
	ck_assert_ptr_null(page.rooms[0].join_rule);
	ck_assert_ptr_null(page.rooms[0].room_version);
	ck_assert_int_eq(page.rooms[0].state_events, -1);
	ck_assert_int_eq(page.rooms[0].is_federatable, TRI_UNKNOWN);
	ck_assert_ptr_null(page.rooms[0].row_problem);
	/* room_type of the wrong type stays a row problem, as before */
	ck_assert(!page.rooms[1].room_type_known);
	ck_assert_ptr_nonnull(page.rooms[1].row_problem);
	ck_assert_ptr_null(page.rooms[1].join_rule);
	ck_assert_ptr_null(page.rooms[1].room_version);
	ck_assert_int_eq(page.rooms[1].state_events, -1);
	ck_assert_int_eq(page.rooms[1].is_federatable, TRI_UNKNOWN);
	ck_assert(page.rooms[2].room_type_known);
	ck_assert_ptr_null(page.rooms[2].room_type);
	ck_assert_str_eq(page.rooms[2].join_rule, "knock");
	ck_assert_str_eq(page.rooms[2].room_version, "11");
	ck_assert_int_eq(page.rooms[2].state_events, -1);
	ck_assert_int_eq(page.rooms[2].is_federatable, TRI_FALSE);
	ck_assert_ptr_null(page.rooms[2].row_problem);
	room_page_free(&page);
}
END_TEST

START_TEST(test_page_top_level)
{
	struct room_page page;
	char err[160];
	static const char *const bad[] = {
		"{\"rooms\":{}}", "{\"rooms\":null}", "{}", "[]", "[{\"rooms\":[]}]", "\"rooms\"",
		"{\"rooms\":[]} trailing", "{\"rooms\":[],\"rooms\":", "",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		ck_assert_msg(synapse_parse_room_page(bad[i], strlen(bad[i]), SIZE_MAX, &page, err, sizeof(err)) ==
			      -EBADMSG, "%s", bad[i]);
		ck_assert(err[0]);
		ck_assert_ptr_null(page.rooms);
		room_page_free(&page);
	}
	/* Paging numbers of the wrong type are "absent". */
	page_of("{\"rooms\":[],\"total_rooms\":\"15\",\"next_batch\":1.5,\"offset\":null}", &page);
	ck_assert_int_eq(page.total_rooms, -1);
	ck_assert_int_eq(page.next_batch, -1);
	ck_assert_int_eq(page.offset, -1);
	room_page_free(&page);
	page_of("{\"rooms\":[],\"next_batch\":99999999999999999999}", &page);
	ck_assert_int_eq(page.next_batch, -1);
	room_page_free(&page);
}
END_TEST

START_TEST(test_page_room_id_limits)
{
	char id[300];
	char *body;
	struct room_page page;

	memset(id, 'a', sizeof(id) - 1);
	id[0] = '!';
	id[sizeof(id) - 1] = '\0';
	body = xasprintf("{\"rooms\":[{\"room_id\":\"%s\"},{\"room_id\":\"!a\\u0000b:s\"},"
			 "{\"room_id\":\"!v12roomidwithoutserver\"}]}", id);
	page_of(body, &page);
	ck_assert_uint_eq(page.bad_rows, 2);
	ck_assert_uint_eq(page.n, 1);
	ck_assert_str_eq(page.rooms[0].room_id, "!v12roomidwithoutserver");
	room_page_free(&page);
	free(body);
}
END_TEST

/* The one room id syntax: a row whose id is not one is skipped and counted;
 * a version 12 id (43 characters, no server) is taken. */
START_TEST(test_page_room_id_syntax)
{
	struct room_page page;

	page_of("{\"rooms\":[{\"room_id\":\"abc:s\"},{\"room_id\":\"!a b:s\"},{\"room_id\":\"!a\\nb:s\"},"
		"{\"room_id\":\"!\\u001b[31m:s\"},{\"room_id\":\"!\"},"
		"{\"room_id\":\"!aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789-_aBcDe\"," GOOD_ROW "}]}", &page);
	ck_assert_uint_eq(page.bad_rows, 5);
	ck_assert_uint_eq(page.n, 1);
	ck_assert_str_eq(page.rooms[0].room_id, "!aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789-_aBcDe");
	room_page_free(&page);
}
END_TEST

/* A page with more rows than the limit asked for is refused before
 * anything is allocated for its rows. */
START_TEST(test_page_over_the_limit)
{
	const char *body = "{\"rooms\":[{},{},{},{},{}],\"total_rooms\":5}";
	struct room_page page;
	char err[160] = "";

	ck_assert_int_eq(synapse_parse_room_page(body, strlen(body), 4, &page, err, sizeof(err)), -EPROTO);
	ck_assert_ptr_null(page.rooms);
	ck_assert_str_eq(err, "rooms: 5 rows, more than the limit of 4 asked for");
	ck_assert_int_eq(synapse_parse_room_page(body, strlen(body), 5, &page, err, sizeof(err)), 0);
	ck_assert_uint_eq(page.bad_rows, 5);
	room_page_free(&page);
}
END_TEST

START_TEST(test_details_hostile)
{
	struct room_facts f = { 0 };
	enum tri forgotten = TRI_TRUE;
	char err[160];
	const char *ok = "{\"room_id\":\"!r:s\"," GOOD_ROW "}";
	const char *weird = "{\"room_id\":\"!r:s\"," GOOD_ROW ",\"forgotten\":\"yes\"}";

	room_facts_clear(&f);
	ck_assert_int_eq(synapse_parse_room_details(ok, strlen(ok), &f, &forgotten, err, sizeof(err)), 0);
	ck_assert_int_eq(forgotten, TRI_UNKNOWN); /* old servers: absent */
	ck_assert_ptr_null(f.row_problem);
	ck_assert_int_eq(synapse_parse_room_details(weird, strlen(weird), &f, &forgotten, err,
						    sizeof(err)), 0);
	ck_assert_int_eq(forgotten, TRI_UNKNOWN);
	ck_assert_int_eq(synapse_parse_room_details(LIT("{\"room_id\":null}"), &f, &forgotten, err,
						    sizeof(err)), -EBADMSG);
	ck_assert_str_eq(err, "room_id: expected a room id, got null");
	ck_assert_ptr_null(f.room_id);
	ck_assert_int_eq(synapse_parse_room_details(LIT("[]"), &f, &forgotten, err, sizeof(err)), -EBADMSG);
	ck_assert_str_eq(err, "expected a JSON object, got an array");
	room_facts_clear(&f);
}
END_TEST

START_TEST(test_members_hostile)
{
	char err[160];
	int64_t total = 0, local = 0;
	const char *b = "{\"members\":[\"@a:test.local\",\"@b:other\",\"@c:test.local.evil\",\"@d\","
			"\"@e:test.local:8448\",\"@f:x:test.local\",\"@g:test.local\"],\"total\":1}";

	ck_assert_int_eq(synapse_parse_members(b, strlen(b), "test.local", &total, &local, err,
					       sizeof(err)), 0);
	ck_assert_int_eq(total, 7);  /* the list, not the claimed total */
	ck_assert_int_eq(local, 2);
	b = "{\"members\":[\"@a:s\",5]}";
	ck_assert_int_eq(synapse_parse_members(b, strlen(b), "s", &total, &local, err, sizeof(err)),
			 -EBADMSG);
	ck_assert_str_eq(err, "members[1]: expected a user id, got an integer");
	ck_assert_int_eq(total, -1);
	ck_assert_int_eq(local, -1);
	b = "{\"members\":[\"@a\\u0000:s\"]}";
	ck_assert_int_eq(synapse_parse_members(b, strlen(b), "s", &total, &local, err, sizeof(err)),
			 -EBADMSG);
	b = "{\"total\":3}";
	ck_assert_int_eq(synapse_parse_members(b, strlen(b), "s", &total, &local, err, sizeof(err)),
			 -EBADMSG);
	ck_assert_str_eq(err, "members: expected an array, got nothing");
}
END_TEST

START_TEST(test_forward_extremities_hostile)
{
	static const struct {
		const char *body;
		int rc;
		enum fact_state state;
		int64_t ms;
	} rows[] = {
		{ "{\"count\":0,\"results\":[]}", 0, FACT_UNKNOWN, 0 },
		{ "{\"count\":0}", 0, FACT_UNKNOWN, 0 },
		{ "{\"results\":[]}", 0, FACT_UNKNOWN, 0 },
		{ "{\"count\":3,\"results\":[{\"received_ts\":5},{\"received_ts\":90},{\"received_ts\":7}]}",
		  0, FACT_KNOWN, 90 },
		{ "{\"count\":1,\"results\":[{\"received_ts\":\"5\"}]}", -EBADMSG, 0, 0 },
		{ "{\"count\":1,\"results\":[{\"received_ts\":5.5}]}", -EBADMSG, 0, 0 },
		{ "{\"count\":1,\"results\":[{\"received_ts\":-5}]}", -EBADMSG, 0, 0 },
		{ "{\"count\":1,\"results\":[{\"received_ts\":1e300}]}", -EBADMSG, 0, 0 },
		{ "{\"count\":1,\"results\":[{\"received_ts\":99999999999999999999}]}", -EBADMSG, 0, 0 },
		{ "{\"count\":1,\"results\":[{}]}", -EBADMSG, 0, 0 },
		{ "{\"count\":1,\"results\":[5]}", -EBADMSG, 0, 0 },
		{ "{\"count\":1,\"results\":{}}", -EBADMSG, 0, 0 },
		{ "{\"count\":2}", -EBADMSG, 0, 0 },
		{ "{\"count\":\"0\",\"results\":[]}", -EBADMSG, 0, 0 },
		{ "[]", -EBADMSG, 0, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct fact_time t = { .state = FACT_UNFETCHED };
		char err[160] = "";
		int rc = synapse_parse_forward_extremities(rows[i].body, strlen(rows[i].body), &t, NULL, err,
							   sizeof(err));

		ck_assert_msg(rc == rows[i].rc, "%s: %d %s", rows[i].body, rc, err);
		if (rc < 0) {
			ck_assert(err[0]);
			ck_assert_int_eq(t.state, FACT_UNFETCHED); /* untouched */
			continue;
		}
		ck_assert_int_eq(t.state, rows[i].state);
		if (t.state == FACT_KNOWN)
			ck_assert_int_eq(t.ms, rows[i].ms);
		else
			ck_assert_str_eq(t.problem, "no events in the room");
		fact_time_clear(&t);
	}
}
END_TEST

START_TEST(test_timestamp_to_event_hostile)
{
	static const char *const bad[] = {
		"{}", "{\"origin_server_ts\":null}", "{\"origin_server_ts\":\"1\"}",
		"{\"origin_server_ts\":1.5}", "{\"origin_server_ts\":-1}", "[1]",
		"{\"origin_server_ts\":18446744073709551615}",
	};
	char err[160];
	int64_t ts = 42;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(synapse_parse_timestamp_to_event(bad[i], strlen(bad[i]), &ts, err,
							       sizeof(err)) == -EBADMSG, "%s", bad[i]);
	ck_assert_str_eq(err, "origin_server_ts: expected a timestamp in milliseconds, got an integer out of range");
	ck_assert_int_eq(synapse_parse_timestamp_to_event(LIT("{\"origin_server_ts\":0}"), &ts, err,
							  sizeof(err)), 0);
	ck_assert_int_eq(ts, 0);
}
END_TEST

static int messages(const char *body, int64_t *newest, char **end, bool *saw_create,
		    int64_t *create_ts, char *err)
{
	return synapse_parse_messages(body, strlen(body), newest, end, saw_create, create_ts, err, 160);
}

START_TEST(test_messages_hostile)
{
	int64_t newest, create_ts;
	char *end, err[160];
	bool saw_create;

	/* Unsorted: the max; other types ignored; the creation event noticed. */
	ck_assert_int_eq(messages("{\"chunk\":[{\"type\":\"m.room.message\",\"origin_server_ts\":5},"
				  "{\"type\":\"m.room.encrypted\",\"origin_server_ts\":50},"
				  "{\"type\":\"m.room.member\",\"origin_server_ts\":500},"
				  "{\"type\":\"m.room.member\"},"
				  "{\"type\":\"m.room.message\",\"origin_server_ts\":7},"
				  "{\"type\":\"m.room.create\",\"state_key\":\"\",\"origin_server_ts\":1}],"
				  "\"end\":\"tok\"}", &newest, &end, &saw_create, &create_ts, err), 0);
	ck_assert_int_eq(newest, 50);
	ck_assert_str_eq(end, "tok");
	ck_assert(saw_create);
	ck_assert_int_eq(create_ts, 1);
	free(end);
	ck_assert_int_eq(messages("{\"chunk\":[],\"end\":null}", &newest, &end, &saw_create,
				  &create_ts, err), 0);
	ck_assert_ptr_null(end);
	static const char *const bad[] = {
		"{\"chunk\":{}}", "{}", "{\"chunk\":[5]}", "{\"chunk\":[{\"origin_server_ts\":5}]}",
		"{\"chunk\":[{\"type\":\"m.room.message\"}]}",
		"{\"chunk\":[{\"type\":\"m.room.message\",\"origin_server_ts\":\"5\"}]}",
		"{\"chunk\":[{\"type\":\"m.room.message\",\"origin_server_ts\":-5}]}",
		"{\"chunk\":[{\"type\":\"m.room.create\",\"origin_server_ts\":null}]}",
		"{\"chunk\":[{\"type\":5,\"origin_server_ts\":5}]}",
		"{\"chunk\":[],\"end\":5}", "{\"chunk\":[],\"end\":\"\"}",
		"{\"chunk\":[{\"type\":\"m.room.message\",\"origin_server_ts\":9}],\"end\":[]}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		end = (char *)"sentinel";
		ck_assert_msg(messages(bad[i], &newest, &end, &saw_create, &create_ts, err) == -EBADMSG,
			      "%s", bad[i]);
		ck_assert_ptr_null(end);
		ck_assert_int_eq(newest, -1);
		ck_assert(!saw_create);
		ck_assert(err[0]);
	}
}
END_TEST

START_TEST(test_small_parsers_hostile)
{
	char err[160], *s;
	static const char *const bad_version[] = {
		"{\"server_version\":\"\"}", "{\"server_version\":1}", "{\"server_version\":null}",
		"{}", "[\"1.68.0\"]", "<html>",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad_version); i++) {
		s = (char *)"sentinel";
		ck_assert_int_eq(synapse_parse_server_version(bad_version[i], strlen(bad_version[i]), &s,
							      err, sizeof(err)), -EBADMSG);
		ck_assert_ptr_null(s);
	}
	ck_assert_int_eq(synapse_parse_whoami(LIT("{\"device_id\":\"X\"}"), &s, err, sizeof(err)), -EBADMSG);
	ck_assert_str_eq(err, "user_id: expected a non-empty string, got nothing");
	ck_assert_int_eq(synapse_parse_directory(LIT("{\"room_id\":\"!r:s\",\"servers\":[\"s\"]}"), &s,
						 err, sizeof(err)), 0);
	ck_assert_str_eq(s, "!r:s");
	free(s);
	ck_assert_int_eq(synapse_parse_directory(LIT("{\"room_id\":7}"), &s, err, sizeof(err)), -EBADMSG);
	ck_assert_int_eq(synapse_parse_delete_started(LIT("{\"delete_id\":\"\"}"), &s, err, sizeof(err)),
			 -EBADMSG);
	ck_assert_int_eq(synapse_parse_delete_started(LIT("{\"delete_id\":1}"), &s, err, sizeof(err)),
			 -EBADMSG);
}
END_TEST

START_TEST(test_delete_status_values)
{
	static const struct {
		const char *status;
		enum delete_state state;
	} rows[] = {
		{ "complete", DELETE_COMPLETE }, { "failed", DELETE_FAILED },
		{ "cancelled", DELETE_FAILED }, { "scheduled", DELETE_RUNNING },
		{ "active", DELETE_RUNNING }, { "shutting_down", DELETE_RUNNING },
		{ "purging", DELETE_RUNNING }, { "something_new", DELETE_RUNNING },
		{ "COMPLETE", DELETE_RUNNING },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		char *body = xasprintf("{\"status\":\"%s\",\"delete_id\":\"d%zu\",\"room_id\":\"!r:s\","
				       "\"shutdown_room\":null}", rows[i].status, i);
		struct delete_status st;
		char err[160];

		ck_assert_int_eq(synapse_parse_delete_status(body, strlen(body), &st, err, sizeof(err)), 0);
		ck_assert_int_eq(st.state, rows[i].state);
		ck_assert_str_eq(st.status, rows[i].status);
		ck_assert_ptr_nonnull(st.delete_id);
		ck_assert_ptr_null(st.error);
		delete_status_clear(&st);
		free(body);
	}
}
END_TEST

START_TEST(test_delete_status_hostile)
{
	struct delete_status st, *list;
	size_t n;
	char err[160];
	const char *b = "{\"status\":\"failed\",\"error\":\"disk full\"}";

	ck_assert_int_eq(synapse_parse_delete_status(b, strlen(b), &st, err, sizeof(err)), 0);
	ck_assert_int_eq(st.state, DELETE_FAILED);
	ck_assert_str_eq(st.error, "disk full");
	delete_status_clear(&st);
	static const char *const bad[] = {
		"{}", "{\"status\":5}", "{\"status\":\"\"}", "{\"status\":\"failed\",\"error\":5}",
		"{\"status\":\"complete\",\"delete_id\":[]}", "[{\"status\":\"complete\"}]",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ck_assert_msg(synapse_parse_delete_status(bad[i], strlen(bad[i]), &st, err, sizeof(err)) ==
			      -EBADMSG, "%s", bad[i]);
		ck_assert_ptr_null(st.status);
		ck_assert_ptr_null(st.delete_id);
	}
	b = "{\"results\":[]}";
	ck_assert_int_eq(synapse_parse_room_delete_status(b, strlen(b), &list, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 0);
	free(list);
	b = "{\"results\":[{\"status\":\"complete\",\"delete_id\":\"a\"},{\"status\":7}]}";
	ck_assert_int_eq(synapse_parse_room_delete_status(b, strlen(b), &list, &n, err, sizeof(err)),
			 -EBADMSG);
	ck_assert_ptr_null(list);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(err, "results[1]: status: expected a non-empty string, got an integer");
	b = "{\"results\":{}}";
	ck_assert_int_eq(synapse_parse_room_delete_status(b, strlen(b), &list, &n, err, sizeof(err)),
			 -EBADMSG);
	b = "{\"results\":[null]}";
	ck_assert_int_eq(synapse_parse_room_delete_status(b, strlen(b), &list, &n, err, sizeof(err)),
			 -EBADMSG);
}
END_TEST

/* Every parser on every hostile body: a clean -EBADMSG with a reason, no
 * crash, nothing leaked (valgrind/ASan runs). */
static int run_parser(int which, const char *b, size_t len, char *err, size_t errlen)
{
	struct room_page page;
	struct room_facts f = { 0 };
	struct fact_time t = { 0 };
	struct delete_status st, *list = NULL;
	enum tri tri;
	int64_t i1, i2;
	char *s = NULL;
	bool flag;
	size_t n = 0;
	int r = -EINVAL;

	room_facts_clear(&f);
	switch (which) {
	case 0: r = synapse_parse_room_page(b, len, SIZE_MAX, &page, err, errlen); room_page_free(&page); break;
	case 1: r = synapse_parse_room_details(b, len, &f, &tri, err, errlen); break;
	case 2: r = synapse_parse_members(b, len, "s", &i1, &i2, err, errlen); break;
	case 3: r = synapse_parse_forward_extremities(b, len, &t, NULL, err, errlen); fact_time_clear(&t); break;
	case 4: r = synapse_parse_timestamp_to_event(b, len, &i1, err, errlen); break;
	case 5: r = synapse_parse_messages(b, len, &i1, &s, &flag, &i2, err, errlen); break;
	case 6: r = synapse_parse_server_version(b, len, &s, err, errlen); break;
	case 7: r = synapse_parse_whoami(b, len, &s, err, errlen); break;
	case 8: r = synapse_parse_directory(b, len, &s, err, errlen); break;
	case 9: r = synapse_parse_delete_started(b, len, &s, err, errlen); break;
	case 10:
		r = synapse_parse_delete_status(b, len, &st, err, errlen);
		if (r == 0)
			delete_status_clear(&st);
		break;
	case 11:
		r = synapse_parse_room_delete_status(b, len, &list, &n, err, errlen);
		for (size_t i = 0; i < n; i++)
			delete_status_clear(&list[i]);
		free(list);
		break;
	case 12: r = synapse_parse_context(b, len, &f.prior, err, errlen); break;
	}
	room_facts_clear(&f);
	free(s);
	return r;
}
#define N_PARSERS 13

START_TEST(test_all_parsers_hostile)
{
	char *deep = xmalloc(20001), *big_string, err[160];
	static const char nul_body[] = "{\"rooms\":[],\"x\":\"\0\"}";
	const char *bodies[] = {
		"", " ", "null", "true", "0", "-1", "1e999", "NaN", "\"\"", "[]", "[{}]", "{",
		"{\"a\":1}}", "<html><body>502 Bad Gateway</body></html>", "\xff\xfe{\0}",
		"{\"rooms\":[{\"room_id\":\"!r:s\"}]}x", NULL, NULL,
	};

	memset(deep, '[', 10000);
	memset(deep + 10000, ']', 10000);
	deep[20000] = '\0';
	bodies[ARRAY_SIZE(bodies) - 2] = deep;
	big_string = xmalloc(1 << 20);
	memset(big_string, 'a', (1 << 20) - 1);
	big_string[0] = '"';
	big_string[(1 << 20) - 2] = '"';
	big_string[(1 << 20) - 1] = '\0';
	bodies[ARRAY_SIZE(bodies) - 1] = big_string;
	for (int p = 0; p < N_PARSERS; p++) {
		for (size_t i = 0; i < ARRAY_SIZE(bodies); i++) {
			err[0] = '\0';
			ck_assert_msg(run_parser(p, bodies[i], strlen(bodies[i]), err, sizeof(err)) ==
				      -EBADMSG, "parser %d on body %zu", p, i);
			ck_assert_msg(err[0], "parser %d gave no reason for body %zu", p, i);
		}
		ck_assert_int_eq(run_parser(p, nul_body, sizeof(nul_body) - 1, err, sizeof(err)), -EBADMSG);
		/* A zero-length error buffer is allowed. */
		ck_assert_int_eq(run_parser(p, "[]", 2, NULL, 0), -EBADMSG);
	}
	free(deep);
	free(big_string);
}
END_TEST

/* Every capture body through every parser: no crash, and an error always
 * comes with a reason. */
START_TEST(test_all_parsers_all_captures)
{
	static const char *const prefixes[] = {
		"002", "003", "004", "005", "008", "100", "101", "113", "118", "120", "200", "201",
		"202", "203", "204", "205", "206", "207", "208", "209", "210", "220", "300", "301",
		"303", "304", "305", "307", "308", "309", "310", "311", "312", "313", "315", "316",
		"317", "318", "319", "320", "321", "322", "400", "401", "402", "403", "404", "405",
		"406", "407", "408", "409", "410", "411", "412", "413", "414", "415", "503", "600",
	};
	unsigned ok = 0;

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		struct capture c = load(prefixes[i]);

		for (size_t x = 0; x < c.n; x++)
			for (int p = 0; p < N_PARSERS; p++) {
				char err[160] = "";
				int r = run_parser(p, c.ex[x].body, c.ex[x].body_len, err, sizeof(err));

				ck_assert(r == 0 || r == -EBADMSG);
				ck_assert(r == 0 || err[0]);
				ok += r == 0;
			}
		capture_free(&c);
	}
	ck_assert_uint_gt(ok, 60);
}
END_TEST

static Suite *synapse_suite(void)
{
	Suite *s = suite_create("synapse");
	TCase *tc = tcase_create("paths");

	tcase_add_test(tc, test_path_room_list);
	tcase_add_test(tc, test_path_room_and_suffix);
	tcase_add_loop_test(tc, test_path_escapes_odd_ids, 0, ARRAY_SIZE(odd_ids));
	tcase_add_test(tc, test_path_ts_messages);
	tcase_add_test(tc, test_path_delete_and_directory);
	tcase_add_test(tc, test_http_escape_every_byte);
	suite_add_tcase(s, tc);

	tc = tcase_create("captures");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_capture_100_default_list);
	tcase_add_test(tc, test_capture_101_paging);
	tcase_add_test(tc, test_capture_list_edges);
	tcase_add_test(tc, test_capture_details);
	tcase_add_test(tc, test_capture_410_forgotten);
	tcase_add_test(tc, test_capture_members);
	tcase_add_test(tc, test_capture_forward_extremities);
	tcase_add_test(tc, test_capture_state_before_the_leave);
	tcase_add_test(tc, test_capture_timestamp_to_event);
	tcase_add_test(tc, test_capture_messages);
	tcase_add_test(tc, test_capture_server_whoami);
	tcase_add_test(tc, test_capture_delete);
	tcase_add_test(tc, test_capture_delete_410_two_tasks);
	tcase_add_test(tc, test_capture_delete_other);
	tcase_add_test(tc, test_all_parsers_all_captures);
	suite_add_tcase(s, tc);

	tc = tcase_create("classify");
	tcase_add_test(tc, test_classify_captures);
	tcase_add_test(tc, test_classify_synthetic);
	tcase_add_test(tc, test_classify_sanitises);
	tcase_add_test(tc, test_classify_transport);
	tcase_add_test(tc, test_result_is_auth);
	tcase_add_test(tc, test_server_name_of);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_page_bad_rows);
	tcase_add_test(tc, test_page_room_id_syntax);
	tcase_add_test(tc, test_page_over_the_limit);
	tcase_add_loop_test(tc, test_page_row_problems, 0, ARRAY_SIZE(row_problems));
	tcase_add_test(tc, test_capture_row_condition_facts);
	tcase_add_test(tc, test_page_top_level);
	tcase_add_test(tc, test_page_room_id_limits);
	tcase_add_test(tc, test_details_hostile);
	tcase_add_test(tc, test_members_hostile);
	tcase_add_test(tc, test_forward_extremities_hostile);
	tcase_add_test(tc, test_timestamp_to_event_hostile);
	tcase_add_test(tc, test_messages_hostile);
	tcase_add_test(tc, test_small_parsers_hostile);
	tcase_add_test(tc, test_delete_status_values);
	tcase_add_test(tc, test_delete_status_hostile);
	tcase_add_test(tc, test_all_parsers_hostile);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_suite_main(synapse_suite());
}
