/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "suite.h"
#include "xmalloc.h"
#include "buf.h"

static int parse(const char *s, struct json_object **o)
{
	char err[128];

	return json_parse_strict(s, strlen(s), o, err, sizeof(err));
}

/* --- strict parsing --- */

static const char *const accepted[] = {
	"{}", "{} ", "{}\n", " \t\r\n{\"a\":1}\r\n", "[1,2]", "123", "true", "\"x\"",
	"{\"a\":{\"b\":[null,false,-0,1.5e3]}}", "[\"\\u00e9\\ud83d\\ude00\"]",
};

START_TEST(test_parse_accepts)
{
	struct json_object *o = NULL;

	ck_assert_msg(parse(accepted[_i], &o) == 0, "rejected %s", accepted[_i]);
	ck_assert_ptr_nonnull(o);
	json_object_put(o);
}
END_TEST

static const char *const rejected[] = {
	"", "   ", "null", "{} x", "{}{}", "[1] [2]", "{\"a\":1}}", "NaN", "[NaN]", "Infinity",
	"[-Infinity]", "[1e400]", "{'a':1}", "['a']", "[1,]", "{\"a\":1,}", "[01]", "{\"a\"}",
	"{\"a\":}", "[\"abc", "{\"a\":1", "/* c */ {}", "{} // c", "[tru]", "[True]", "{a:1}",
	"[\"\\x41\"]", "\xef\xbb\xbf{}",
};

START_TEST(test_parse_rejects)
{
	struct json_object *o = (struct json_object *)&o;
	char err[128] = "";
	int r = json_parse_strict(rejected[_i], strlen(rejected[_i]), &o, err, sizeof(err));

	ck_assert_msg(r == -EBADMSG, "accepted %s", rejected[_i]);
	ck_assert_ptr_null(o);
	ck_assert_msg(strncmp(err, "not JSON: ", 10) == 0, "reason: %s", err);
}
END_TEST

/* Fed in pieces of every size, at every cut, the stream accepts and
 * rejects exactly what the whole-body parse does, with the same value and,
 * for a rejection, the same reason. */
static void stream_in_pieces(const char *data, size_t len, size_t piece)
{
	struct json_object *whole = NULL, *parts = NULL;
	char werr[128] = "", perr[128] = "";
	int wr = json_parse_strict(data, len, &whole, werr, sizeof(werr));
	struct json_stream *s = json_stream_new();
	int pr;

	for (size_t off = 0; off < len; off += piece)
		json_stream_feed(s, data + off, len - off < piece ? len - off : piece);
	pr = json_stream_finish(s, &parts, perr, sizeof(perr));
	json_stream_free(s);
	ck_assert_msg(pr == wr, "%.*s in pieces of %zu: %d, whole: %d", (int)len, data, piece, pr, wr);
	if (wr == 0)
		ck_assert_msg(json_object_equal(whole, parts), "%.*s: another value in pieces of %zu",
			      (int)len, data, piece);
	json_object_put(whole);
	json_object_put(parts);
}

START_TEST(test_stream_equals_whole)
{
	static const char *const more[] = {
		"{\"a\":\"it's\"}", "{\"a\":\"\\\"'\"}", "[\"\\\\\",'x']", "12345", "-0.5e-3", "true ",
		"  \"s\"  ", "{\"rooms\":[{\"room_id\":\"!a:b\",\"n\":1},{\"room_id\":\"!c:d\"}],\"next_batch\":2}",
	};
	const char *in = _i < (int)ARRAY_SIZE(accepted) ? accepted[_i] :
			 _i < (int)(ARRAY_SIZE(accepted) + ARRAY_SIZE(rejected)) ? rejected[_i - ARRAY_SIZE(accepted)] :
			 more[_i - ARRAY_SIZE(accepted) - ARRAY_SIZE(rejected)];
	size_t len = strlen(in);

	for (size_t piece = 1; piece <= len + 1; piece++)
		stream_in_pieces(in, len, piece);
}
END_TEST
#define STREAM_CASES (ARRAY_SIZE(accepted) + ARRAY_SIZE(rejected) + 8)

/* The elements of "rooms" taken out one by one: the document is accepted
 * exactly when the whole parse accepts it, the elements are the whole
 * parse's, in order, and what is left holds a single 0 for them all. */
static const char *const rooms_member[] = { "rooms", NULL };

struct collected {
	struct json_object *list;
};

static int collect(void *ud, const char *member, struct json_object *element)
{
	struct collected *c = ud;

	ck_assert_str_eq(member, "rooms");
	json_object_array_add(c->list, json_object_get(element));
	return 0;
}

static void elements_in_pieces(const char *data, size_t len, size_t piece)
{
	struct json_object *whole = NULL, *rest = NULL, *rooms, *rest_rooms;
	struct collected got = { json_object_new_array() };
	char werr[128] = "", perr[128] = "";
	int wr = json_parse_strict(data, len, &whole, werr, sizeof(werr));
	struct json_stream *s = json_stream_new_elements(rooms_member, collect, &got);
	int pr;

	for (size_t off = 0; off < len; off += piece)
		json_stream_feed(s, data + off, len - off < piece ? len - off : piece);
	pr = json_stream_finish(s, &rest, perr, sizeof(perr));
	json_stream_free(s);
	ck_assert_msg(pr == wr, "%.*s in pieces of %zu: %d (%s), whole: %d (%s)", (int)len, data, piece, pr, perr,
		      wr, werr);
	if (wr == 0 && json_object_is_type(whole, json_type_object) &&
	    json_object_object_get_ex(whole, "rooms", &rooms) && json_object_is_type(rooms, json_type_array)) {
		ck_assert_msg(json_object_equal(rooms, got.list), "%.*s: other elements in pieces of %zu", (int)len,
			      data, piece);
		ck_assert(json_object_object_get_ex(rest, "rooms", &rest_rooms));
		/* one 0 for all the elements, none for an empty array */
		ck_assert_uint_eq(json_object_array_length(rest_rooms), json_object_array_length(rooms) ? 1 : 0);
		for (size_t i = 0; i < json_object_array_length(rest_rooms); i++)
			ck_assert_int_eq(json_object_get_int(json_object_array_get_idx(rest_rooms, i)), 0);
	} else if (wr == 0) {
		ck_assert_msg(json_object_equal(whole, rest), "%.*s: another value", (int)len, data);
		ck_assert_uint_eq(json_object_array_length(got.list), 0);
	}
	json_object_put(whole);
	json_object_put(rest);
	json_object_put(got.list);
}

static char *nested_rooms(int depth)
{
	char *inner = xmalloc(2 * (size_t)depth + 1), *doc;

	memset(inner, '[', (size_t)depth);
	memset(inner + depth, ']', (size_t)depth);
	inner[2 * depth] = '\0';
	doc = xasprintf("{\"rooms\":[%s]}", inner);
	free(inner);
	return doc;
}

START_TEST(test_elements_equal_whole)
{
	static const char *const pages[] = {
		"{\"rooms\":[]}", "{\"rooms\":[ ]}", "{\"rooms\":[1]}", "{\"rooms\":[1,2,3]}",
		"{\"rooms\":[{\"room_id\":\"!a:b\",\"n\":[1,{\"x\":\"],}\"}]},{}],\"next_batch\":2}",
		"{\"offset\":0,\"rooms\":[\"a,b]\",\"c\\\"]\"],\"total_rooms\":2}",
		"{\"a\":{\"rooms\":[1]},\"rooms\":[2]}", "{\"a\":[[1]],\"rooms\":[2]}",
		"{\"\\u0072ooms\":[{\"k\":1}]}", "{\"rooms\":{\"not\":\"an array\"}}",
		"{\"rooms\":\"[1,2]\"}", "{\"rooms\":5}", "[{\"rooms\":[1]}]", "{\"roomsx\":[1],\"rooms\":[]}",
		/* refused by both */
		"{\"rooms\":[1,,2]}", "{\"rooms\":[,]}", "{\"rooms\":[1,]}", "{\"rooms\":[1 2]}",
		"{\"rooms\":[{}{}]}", "{\"rooms\":[NaN]}", "{\"rooms\":[{\"a\":1e400}]}", "{\"rooms\":[1]",
		"{\"rooms\":[1", "{\"rooms\":[\"abc", "{\"rooms\":[1]} x", "{\"rooms\":[{'a':1}]}",
		"{\"rooms\":[tru]}", "{\"rooms\":[1]]", "{\"rooms\"[1]}", "{\"rooms\":[1],}",
		/* escapes and brackets inside an element's strings */
		"{\"rooms\":[\"a\\\\\",\"b\\\"],[{\",{\"k\":\"\\\\\\\"}\"}],\"n\":1}",
	};
	const char *in = _i < (int)ARRAY_SIZE(pages) ? pages[_i] : NULL;
	char *doc = NULL;
	size_t len;

	if (!in) /* nesting at and beyond the depth limit, inside an element */
		in = doc = nested_rooms(_i == (int)ARRAY_SIZE(pages) ? 62 : 63);
	len = strlen(in);
	for (size_t piece = 1; piece <= len + 1; piece++)
		elements_in_pieces(in, len, piece);
	free(doc);
}
END_TEST

/* The document broken before an element that is broken too: the error
 * told is the first in the body, whatever the pieces. */
START_TEST(test_elements_first_error_wins)
{
	static const char *const docs[] = {
		"{\"x\":1 \"rooms\":[{\"a\":NaN}]}", "{\"x\":[1}, \"rooms\":[1,]}",
		"{\"x\":tru, \"rooms\":[{}{}]}",
	};

	for (size_t d = 0; d < ARRAY_SIZE(docs); d++) {
		size_t len = strlen(docs[d]);
		struct json_object *o = NULL;
		char whole[128] = "";

		ck_assert_int_eq(json_parse_strict(docs[d], len, &o, whole, sizeof(whole)), -EBADMSG);

		for (size_t piece = 1; piece <= len; piece++) {
			struct collected got = { json_object_new_array() };
			struct json_stream *s = json_stream_new_elements(rooms_member, collect, &got);
			struct json_object *rest = NULL;
			char err[128] = "";

			for (size_t off = 0; off < len; off += piece)
				json_stream_feed(s, docs[d] + off, len - off < piece ? len - off : piece);
			ck_assert_int_eq(json_stream_finish(s, &rest, err, sizeof(err)), -EBADMSG);
			ck_assert_msg(strcmp(err, whole) == 0, "%s in pieces of %zu: %s, whole: %s", docs[d], piece,
				      err, whole);
			json_stream_free(s);
			json_object_put(got.list);
		}
	}
}
END_TEST

static int by_member(void *ud, const char *member, struct json_object *element)
{
	struct buf *b = ud;

	buf_printf(b, "%s=%d;", member, json_object_get_int(element));
	return 0;
}

/* Several members, each with its name; the others stay in the value. */
START_TEST(test_elements_two_members)
{
	static const char doc[] = "{\"b\":[3],\"c\":[9],\"a\":[1,2],\"v\":1}";
	static const char *const members[] = { "a", "b", NULL };
	struct buf got = { 0 };
	struct json_stream *s = json_stream_new_elements(members, by_member, &got);
	struct json_object *rest = NULL, *c;

	json_stream_feed(s, doc, strlen(doc));
	ck_assert_int_eq(json_stream_finish(s, &rest, NULL, 0), 0);
	ck_assert_str_eq(got.data, "b=3;a=1;a=2;");
	ck_assert(json_object_object_get_ex(rest, "c", &c));
	ck_assert_int_eq(json_object_get_int(json_object_array_get_idx(c, 0)), 9);
	json_object_put(rest);
	json_stream_free(s);
	buf_free(&got);
}
END_TEST

/* The one difference: the member given twice is refused (the whole parse
 * keeps the last, after the first's elements were handed over). */
START_TEST(test_elements_member_twice)
{
	static const char doc[] = "{\"rooms\":[1],\"rooms\":[2]}";
	struct collected got = { json_object_new_array() };
	struct json_stream *s = json_stream_new_elements(rooms_member, collect, &got);
	struct json_object *rest = NULL;
	char err[128] = "";

	json_stream_feed(s, doc, strlen(doc));
	ck_assert_int_eq(json_stream_finish(s, &rest, err, sizeof(err)), -EBADMSG);
	ck_assert_str_eq(err, "not JSON: the split member appears twice");
	json_stream_free(s);
	json_object_put(got.list);
}
END_TEST

static int refuse_second(void *ud, const char *member, struct json_object *element)
{
	(void)member;
	(void)element;
	return ++*(int *)ud > 1 ? -EPROTO : 0;
}

/* A reader that refuses an element stops the stream with its own error. */
START_TEST(test_elements_reader_refuses)
{
	static const char doc[] = "{\"rooms\":[1,2,3]}";
	int seen = 0;
	struct json_stream *s = json_stream_new_elements(rooms_member, refuse_second, &seen);
	struct json_object *rest = NULL;

	ck_assert_int_eq(json_stream_feed(s, doc, strlen(doc)), -EPROTO);
	ck_assert_int_eq(json_stream_finish(s, &rest, NULL, 0), -EPROTO);
	ck_assert_int_eq(seen, 2);
	ck_assert_ptr_null(rest);
	json_stream_free(s);
}
END_TEST

START_TEST(test_parse_nul_byte)
{
	static const char data[] = "{\"a\":\"x\0y\"}";
	static const char after[] = "{}\0garbage";
	struct json_object *o;
	char err[128];

	ck_assert_int_eq(json_parse_strict(data, sizeof(data) - 1, &o, err, sizeof(err)), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err, "NUL"));
	ck_assert_int_eq(json_parse_strict(after, sizeof(after) - 1, &o, err, sizeof(err)), -EBADMSG);
	/* Not NUL-terminated: only len bytes are read. */
	ck_assert_int_eq(json_parse_strict("{}}}", 2, &o, err, sizeof(err)), 0);
	json_object_put(o);
}
END_TEST

static char *nested(int depth)
{
	char *s = xmalloc(2 * (size_t)depth + 1);

	memset(s, '[', (size_t)depth);
	memset(s + depth, ']', (size_t)depth);
	s[2 * depth] = '\0';
	return s;
}

START_TEST(test_parse_depth)
{
	struct json_object *o;
	char *ok = nested(60), *deep = nested(65), *huge = nested(100000);

	ck_assert_int_eq(parse(ok, &o), 0);
	json_object_put(o);
	ck_assert_int_eq(parse(deep, &o), -EBADMSG);
	ck_assert_int_eq(parse(huge, &o), -EBADMSG);
	free(ok);
	free(deep);
	free(huge);
}
END_TEST

START_TEST(test_parse_no_err_buffer)
{
	struct json_object *o;

	ck_assert_int_eq(json_parse_strict("{", 1, &o, NULL, 0), -EBADMSG);
}
END_TEST

/* --- getters --- */

static struct json_object *sample(void)
{
	struct json_object *o;
	static const char s[] =
		"{\"s\":\"text\",\"n\":null,\"i\":12,\"si\":\"12\",\"f\":1.5,\"f1\":1.0,\"e\":1e3,"
		"\"neg\":-7,\"max\":9223372036854775807,\"over\":9223372036854775808,"
		"\"min1\":-9223372036854775807,\"under\":-9223372036854775809,"
		"\"huge\":123456789012345678901234567890,\"t\":true,\"st\":\"true\",\"one\":1,"
		"\"a\":[1],\"o\":{\"k\":1},\"nul\":\"a\\u0000b\",\"empty\":\"\"}";

	ck_assert_int_eq(json_parse_strict(s, sizeof(s) - 1, &o, NULL, 0), 0);
	return o;
}

START_TEST(test_get_string)
{
	struct json_object *o = sample();
	const char *s = NULL;

	ck_assert_int_eq(json_get_string(o, "s", &s), 0);
	ck_assert_str_eq(s, "text");
	ck_assert_int_eq(json_get_string(o, "empty", &s), 0);
	ck_assert_str_eq(s, "");
	ck_assert_int_eq(json_get_string(o, "absent", &s), -ENOENT);
	ck_assert_int_eq(json_get_string(o, "n", &s), -ENODATA);
	ck_assert_int_eq(json_get_string(o, "i", &s), -EINVAL);
	ck_assert_int_eq(json_get_string(o, "a", &s), -EINVAL);
	ck_assert_int_eq(json_get_string(o, "o", &s), -EINVAL);
	ck_assert_int_eq(json_get_string(o, "t", &s), -EINVAL);
	/* An embedded NUL would silently shorten the string. */
	ck_assert_int_eq(json_get_string(o, "nul", &s), -EINVAL);
	json_object_put(o);
}
END_TEST

START_TEST(test_get_int64)
{
	struct json_object *o = sample();
	int64_t v = 99;

	ck_assert_int_eq(json_get_int64(o, "i", &v), 0);
	ck_assert_int_eq(v, 12);
	ck_assert_int_eq(json_get_int64(o, "neg", &v), 0);
	ck_assert_int_eq(v, -7);
	ck_assert_int_eq(json_get_int64(o, "max", &v), 0);
	ck_assert(v == INT64_MAX);
	ck_assert_int_eq(json_get_int64(o, "min1", &v), 0);
	ck_assert(v == -INT64_MAX);
	v = 99;
	ck_assert_int_eq(json_get_int64(o, "si", &v), -EINVAL);  /* "12" is a string */
	ck_assert_int_eq(json_get_int64(o, "f", &v), -EINVAL);   /* 1.5 */
	ck_assert_int_eq(json_get_int64(o, "f1", &v), -EINVAL);  /* 1.0 */
	ck_assert_int_eq(json_get_int64(o, "e", &v), -EINVAL);   /* 1e3 */
	ck_assert_int_eq(json_get_int64(o, "over", &v), -EINVAL);
	ck_assert_int_eq(json_get_int64(o, "under", &v), -EINVAL);
	ck_assert_int_eq(json_get_int64(o, "huge", &v), -EINVAL);
	ck_assert_int_eq(json_get_int64(o, "t", &v), -EINVAL);
	ck_assert_int_eq(json_get_int64(o, "n", &v), -ENODATA);
	ck_assert_int_eq(json_get_int64(o, "absent", &v), -ENOENT);
	ck_assert_int_eq(v, 99); /* untouched on failure */
	json_object_put(o);
}
END_TEST

START_TEST(test_get_bool_array_object)
{
	struct json_object *o = sample(), *a = NULL, *inner = NULL;
	bool b = false;

	ck_assert_int_eq(json_get_bool(o, "t", &b), 0);
	ck_assert(b);
	ck_assert_int_eq(json_get_bool(o, "st", &b), -EINVAL);
	ck_assert_int_eq(json_get_bool(o, "one", &b), -EINVAL);
	ck_assert_int_eq(json_get_bool(o, "n", &b), -ENODATA);
	ck_assert_int_eq(json_get_array(o, "a", &a), 0);
	ck_assert_int_eq(json_object_array_length(a), 1);
	ck_assert_int_eq(json_get_array(o, "o", &a), -EINVAL);
	ck_assert_int_eq(json_get_object(o, "o", &inner), 0);
	ck_assert_int_eq(json_get_int64(inner, "k", &(int64_t){ 0 }), 0);
	ck_assert_int_eq(json_get_object(o, "a", &inner), -EINVAL);
	ck_assert_int_eq(json_get_object(o, "absent", &inner), -ENOENT);
	/* Getters on something that is not an object. */
	ck_assert_int_eq(json_get_int64(a, "k", &(int64_t){ 0 }), -EINVAL);
	ck_assert_int_eq(json_get_string(NULL, "k", &(const char *){ NULL }), -EINVAL);
	json_object_put(o);
}
END_TEST

/* --- json_append_string --- */

static const struct {
	const char *in, *out;
} escapes[] = {
	{ "plain", "\"plain\"" },
	{ "", "\"\"" },
	{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
	{ "l1\nl2\r\t", "\"l1\\nl2\\r\\t\"" },
	{ "\b\f", "\"\\b\\f\"" },
	{ "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
	{ "caf\xc3\xa9 \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"" },
	{ "/slash", "\"/slash\"" },
	{ "bad\xff", "\"bad\\ufffd\"" },
	{ "overlong\xc0\x80", "\"overlong\\ufffd\\ufffd\"" },
	{ "cut\xe2\x82", "\"cut\\ufffd\\ufffd\"" },
	{ "surrogate\xed\xa0\x80", "\"surrogate\\ufffd\\ufffd\\ufffd\"" },
};

START_TEST(test_append_string)
{
	struct buf b = { 0 };

	buf_puts(&b, "x=");
	json_append_string(&b, escapes[_i].in);
	ck_assert(strncmp(b.data, "x=", 2) == 0); /* appends */
	ck_assert_str_eq(b.data + 2, escapes[_i].out);
	buf_free(&b);
}
END_TEST

START_TEST(test_append_string_round_trip)
{
	static const char *const samples[] = {
		"plain", "q\"uote", "back\\slash", "ctl\x01\x02\x1b", "tab\tnl\n",
		"\xe2\x80\xa8 line separator", "\xf4\x8f\xbf\xbf max code point",
	};

	for (size_t i = 0; i < ARRAY_SIZE(samples); i++) {
		struct buf b = { 0 };
		struct json_object *o;

		json_append_string(&b, samples[i]);
		ck_assert_int_eq(json_parse_strict(b.data, b.len, &o, NULL, 0), 0);
		ck_assert_str_eq(json_object_get_string(o), samples[i]);
		json_object_put(o);
		buf_free(&b);
	}
}
END_TEST

START_TEST(test_append_string_null)
{
	struct buf b = { 0 };

	json_append_string(&b, NULL);
	ck_assert_str_eq(b.data, "\"\"");
	buf_free(&b);
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_parse_accepts, 0, ARRAY_SIZE(accepted));
	tcase_add_loop_test(tc, test_parse_rejects, 0, ARRAY_SIZE(rejected));
	tcase_add_test(tc, test_parse_nul_byte);
	tcase_add_loop_test(tc, test_stream_equals_whole, 0, STREAM_CASES);
	tcase_add_test(tc, test_elements_first_error_wins);
	tcase_add_loop_test(tc, test_elements_equal_whole, 0, 32);
	tcase_add_test(tc, test_elements_member_twice);
	tcase_add_test(tc, test_elements_two_members);
	tcase_add_test(tc, test_elements_reader_refuses);
	tcase_add_test(tc, test_parse_depth);
	tcase_add_test(tc, test_parse_no_err_buffer);
	suite_add_tcase(s, tc);
	tc = tcase_create("getters");
	tcase_add_test(tc, test_get_string);
	tcase_add_test(tc, test_get_int64);
	tcase_add_test(tc, test_get_bool_array_object);
	suite_add_tcase(s, tc);
	tc = tcase_create("append_string");
	tcase_add_loop_test(tc, test_append_string, 0, ARRAY_SIZE(escapes));
	tcase_add_test(tc, test_append_string_round_trip);
	tcase_add_test(tc, test_append_string_null);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_suite_main(json_suite());
}
