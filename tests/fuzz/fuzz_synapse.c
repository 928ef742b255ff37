/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness: every Admin API parser, the classifier and the JSON
 * string writer on arbitrary bytes. Bodies come from the network. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "synapse.h"
#include "xmalloc.h"
#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parsers(const char *b, size_t len)
{
	struct room_page page;
	struct room_facts f = { 0 };
	struct fact_time t = { 0 };
	struct delete_status st, *list = NULL;
	enum tri forgotten;
	int64_t a, z;
	char err[160], *s = NULL;
	bool flag;
	size_t n = 0;

	synapse_parse_room_page(b, len, 1000, &page, err, sizeof(err));
	room_page_free(&page);
	room_facts_clear(&f);
	synapse_parse_room_details(b, len, &f, &forgotten, err, sizeof(err));
	room_facts_clear(&f);
	synapse_parse_members(b, len, "test.local", &a, &z, err, sizeof(err));
	synapse_parse_forward_extremities(b, len, &t, &s, err, sizeof(err));
	fact_time_clear(&t);
	free(s);
	s = NULL;
	synapse_parse_context(b, len, &f.prior, err, sizeof(err));
	room_facts_clear(&f);
	synapse_parse_timestamp_to_event(b, len, &a, err, sizeof(err));
	synapse_parse_messages(b, len, &a, &s, &flag, &z, err, sizeof(err));
	free(s);
	s = NULL;
	synapse_parse_server_version(b, len, &s, err, sizeof(err));
	free(s);
	s = NULL;
	synapse_parse_whoami(b, len, &s, err, sizeof(err));
	free(s);
	s = NULL;
	synapse_parse_directory(b, len, &s, err, sizeof(err));
	free(s);
	s = NULL;
	synapse_parse_delete_started(b, len, &s, err, sizeof(err));
	free(s);
	if (synapse_parse_delete_status(b, len, &st, err, sizeof(err)) == 0)
		delete_status_clear(&st);
	if (synapse_parse_room_delete_status(b, len, &list, &n, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < n; i++)
			delete_status_clear(&list[i]);
		free(list);
	}
}

static void classify(const char *b, size_t len)
{
	static const long statuses[] = { 200, 401, 403, 404, 429, 502 };
	char why[256];

	for (size_t i = 0; i < ARRAY_SIZE(statuses); i++) {
		struct http_response r = {
			.status = statuses[i], .body = b, .body_len = len,
			.content_type = i % 2 ? "text/html" : "application/json", .error_text = "",
			.attempts = 1,
		};

		synapse_classify(&r, why, sizeof(why));
		/* The description is for a log line: never a control character. */
		for (const char *p = why; *p; p++)
			if ((unsigned char)*p < 0x20)
				abort();
	}
}

/* Whatever goes in, json_append_string writes valid JSON that reads back. */
static void string_round_trip(const char *s)
{
	struct buf b = { 0 };
	struct json_object *o;

	json_append_string(&b, s);
	if (json_parse_strict(b.data, b.len, &o, NULL, 0) < 0 ||
	    !json_object_is_type(o, json_type_string))
		abort();
	json_object_put(o);
	buf_free(&b);
}

/* A body fed in pieces as it arrives is judged as the whole body is. */
static void stream_equals_whole(const char *b, size_t len)
{
	static const size_t pieces[] = { 1, 7, 4096 };
	struct json_object *whole = NULL;
	int wr = json_parse_strict(b, len, &whole, NULL, 0);

	for (size_t i = 0; i < ARRAY_SIZE(pieces); i++) {
		struct json_stream *s = json_stream_new();
		struct json_object *parts = NULL;
		int pr;

		for (size_t off = 0; off < len; off += pieces[i])
			json_stream_feed(s, b + off, len - off < pieces[i] ? len - off : pieces[i]);
		pr = json_stream_finish(s, &parts, NULL, 0);
		json_stream_free(s);
		if (pr != wr || (wr == 0 && !json_object_equal(whole, parts)))
			abort();
		json_object_put(parts);
	}
	json_object_put(whole);
}

static int count_element(void *ud, const char *member, struct json_object *element)
{
	(void)member;
	(void)element;
	++*(size_t *)ud;
	return 0;
}

/* The rows of a page taken out one by one: accepted exactly when the
 * whole parse accepts (but for "rooms" given twice), as many rows. */
static void elements_equal_whole(const char *b, size_t len)
{
	struct json_object *whole = NULL, *rest = NULL, *rooms;
	struct json_stream *s;
	size_t n = 0;
	char err[160] = "";
	int wr = json_parse_strict(b, len, &whole, NULL, 0), pr;

	s = json_stream_new_elements((const char *const[]){ "rooms", NULL }, count_element, &n);
	for (size_t off = 0; off < len; off += 5)
		json_stream_feed(s, b + off, len - off < 5 ? len - off : 5);
	pr = json_stream_finish(s, &rest, err, sizeof(err));
	json_stream_free(s);
	if (pr != wr && !(wr == 0 && strcmp(err, "not JSON: the split member appears twice") == 0))
		abort();
	if (pr == 0 && json_object_is_type(whole, json_type_object) &&
	    json_object_object_get_ex(whole, "rooms", &rooms) && json_object_is_type(rooms, json_type_array) &&
	    json_object_array_length(rooms) != n)
		abort();
	json_object_put(whole);
	json_object_put(rest);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Response bodies are always NUL-terminated (http.h). */
	char *b = xstrndup((const char *)data, size);
	char *escaped, *name;

	memcpy(b, data, size);
	parsers(b, size);
	classify(b, size);
	stream_equals_whole(b, size);
	elements_equal_whole(b, size);
	string_round_trip(b);
	escaped = http_escape(b);
	if (strspn(escaped, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%") !=
	    strlen(escaped))
		abort();
	free(escaped);
	name = synapse_server_name_of(b);
	free(name);
	free(b);
	return 0;
}
