/* SPDX-License-Identifier: GPL-3.0-or-later */
/* records.c: CSV quoting and formula guard, the CSV file and the JSONL lines. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "records.h"
#include "suite.h"
#include "xmalloc.h"
#include "buf.h"
#include "file.h"

/* The CSV header of DESIGN.md §7, as an admin's script expects it. */
#define CSV_HEADER \
	"run_id,time,room_id,name,canonical_alias,joined_members,joined_local_members," \
	"public,encrypted,last_activity,inactive_days,created,rule,action,outcome,reason,delete_id"

struct cell_case {
	const char *in;
	const char *want;
};

static const struct cell_case cell_cases[] = {
	{ "plain", "plain" },
	{ "", "" },
	{ "a,b", "\"a,b\"" },
	{ "say \"hi\"", "\"say \"\"hi\"\"\"" },
	{ "two\nlines", "\"two\nlines\"" },
	{ "cr\rhere", "\"cr\rhere\"" },
	{ "=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0" },
	{ "+1", "'+1" },
	{ "-2", "'-2" },
	{ "@SUM(A1)", "'@SUM(A1)" },
	{ "\tindent", "'\tindent" },
	{ "\rstart", "\"'\rstart\"" },
	{ "=a,b", "\"'=a,b\"" },
	{ "caf\xc3\xa9 \xf0\x9f\x8e\x89", "caf\xc3\xa9 \xf0\x9f\x8e\x89" },
	{ "!room:test.local", "!room:test.local" },
	{ "mid=dle", "mid=dle" },
};

START_TEST(test_csv_cell)
{
	const struct cell_case *c = &cell_cases[_i];
	struct buf b = { 0 };

	report_csv_cell(&b, c->in);
	ck_assert_str_eq(b.data ? b.data : "", c->want);
	buf_free(&b);
}
END_TEST

static char *slurp(const char *path)
{
	char *data = NULL;
	size_t len;
	int r = file_read_capped(path, 64u << 20, &data, &len);

	ck_assert_msg(r == 0, "cannot read %s", path);
	return r == 0 ? data : NULL;
}

static size_t count_lines(const char *s, const char *sep)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, sep)); p += strlen(sep))
		n++;
	return n;
}

struct fixture {
	char dir[64];
	struct policy policy;
	struct rule rule;
	struct room_facts room;
};

static void fixture_init(struct fixture *fx, bool all_rooms)
{
	memset(fx, 0, sizeof(*fx));
	strcpy(fx->dir, "/tmp/check_records.XXXXXX");
	ck_assert(mkdtemp(fx->dir) != NULL);
	fx->policy.records.csv = xasprintf("%s/candidates-%%Y.csv", fx->dir);
	fx->policy.records.jsonl = xasprintf("%s/decisions.jsonl", fx->dir);
	fx->policy.records.all_rooms = all_rooms;
	fx->rule = (struct rule){ .name = "abandoned", .action = RULE_ACTION_DELETE };
	room_facts_clear(&fx->room);
	fx->room.room_id = xstrdup("!abc:test.local");
	fx->room.name = xstrdup("=HYPERLINK(\"x\"), \"quoted\"\nnext");
	fx->room.joined_members = 2;
	fx->room.joined_local_members = 0;
	fx->room.is_public = TRI_FALSE;
	fx->room.last_activity = (struct fact_time){ .state = FACT_KNOWN, .ms = 1600000000000LL };
}

static void fixture_free(struct fixture *fx)
{
	char *cmd = xasprintf("rm -rf '%s'", fx->dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(fx->policy.records.csv);
	free(fx->policy.records.jsonl);
	room_facts_clear(&fx->room);
}

static void add(struct records *r, struct fixture *fx, enum outcome o, const struct rule *rule)
{
	struct decision d = {
		.run_id = "run1", .time_ms = 1795000000000LL, .room = &fx->room, .rule = rule,
		.outcome = o, .reason = "rule abandoned: 0 local members", .inactive_days = 2001,
		.dry_run = true,
	};

	ck_assert_int_eq(records_add(r, &d), 0);
}

static char *csv_path(struct fixture *fx)
{
	time_t t = (time_t)1795000000;
	struct tm tm;

	localtime_r(&t, &tm);
	return xasprintf("%s/candidates-%d.csv", fx->dir, tm.tm_year + 1900);
}

START_TEST(test_csv_file)
{
	struct fixture fx;
	struct records *r;
	char *path, *csv;

	fixture_init(&fx, false);
	ck_assert_int_eq(records_open(&fx.policy, 1795000000000LL, &r), 0);
	path = csv_path(&fx);
	ck_assert_str_eq(records_csv_path(r), path);
	add(r, &fx, OUTCOME_WOULD_DELETE, &fx.rule);
	add(r, &fx, OUTCOME_KEPT, NULL);        /* not without all_rooms */
	add(r, &fx, OUTCOME_PROTECTED, NULL);
	/* Until the run commits, a reviewer still sees the old file (none here). */
	ck_assert_int_ne(access(path, F_OK), 0);
	ck_assert_int_eq(records_close(r, true, NULL, 0), 0);
	csv = slurp(path);
	ck_assert_msg(strncmp(csv, CSV_HEADER "\r\n", strlen(CSV_HEADER) + 2) == 0,
		      "header: %s", csv);
	ck_assert_uint_eq(count_lines(csv, "\r\n"), 3);
	ck_assert_ptr_nonnull(strstr(csv, "run1,2026-"));
	ck_assert_ptr_nonnull(strstr(csv, ",!abc:test.local,\"'=HYPERLINK(\"\"x\"\"), \"\"quoted\"\"\nnext\",,2,0,false,false,2020-09-13T12:26:40Z,2001,,abandoned,delete,would_delete,"));
	ck_assert_ptr_nonnull(strstr(csv, ",,,protected,"));
	free(csv);
	free(path);
	fixture_free(&fx);
}
END_TEST

START_TEST(test_all_rooms_and_abort)
{
	struct fixture fx;
	struct records *r;
	char *path, *csv;

	fixture_init(&fx, true);
	path = csv_path(&fx);
	ck_assert_int_eq(records_open(&fx.policy, 1795000000000LL, &r), 0);
	add(r, &fx, OUTCOME_KEPT, NULL);
	ck_assert_int_eq(records_close(r, true, NULL, 0), 0);
	csv = slurp(path);
	ck_assert_uint_eq(count_lines(csv, "\r\n"), 2);
	ck_assert_ptr_nonnull(strstr(csv, ",kept,"));
	free(csv);

	/* An aborted run leaves the previous CSV in place. */
	ck_assert_int_eq(records_open(&fx.policy, 1795000000000LL, &r), 0);
	add(r, &fx, OUTCOME_RECORDED, &fx.rule);
	add(r, &fx, OUTCOME_RECORDED, &fx.rule);
	ck_assert_int_eq(records_close(r, false, NULL, 0), 0);
	csv = slurp(path);
	ck_assert_uint_eq(count_lines(csv, "\r\n"), 2);
	free(csv);
	free(path);
	fixture_free(&fx);
}
END_TEST

START_TEST(test_jsonl)
{
	struct fixture fx;
	struct records *r;
	char *text, *line, *save = NULL;
	int n = 0;

	fixture_init(&fx, false);
	for (int run = 0; run < 2; run++) {
		ck_assert_int_eq(records_open(&fx.policy, 1795000000000LL, &r), 0);
		add(r, &fx, OUTCOME_WOULD_DELETE, &fx.rule);
		ck_assert_int_eq(records_close(r, true, NULL, 0), 0);
	}
	text = slurp(fx.policy.records.jsonl);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct json_object *o = json_tokener_parse(line), *v;

		ck_assert_msg(o != NULL, "not JSON: %s", line);
		ck_assert(json_object_object_get_ex(o, "room_id", &v));
		ck_assert_str_eq(json_object_get_string(v), "!abc:test.local");
		ck_assert(json_object_object_get_ex(o, "name", &v));
		ck_assert_str_eq(json_object_get_string(v), fx.room.name);
		ck_assert(json_object_object_get_ex(o, "joined_local_members", &v));
		ck_assert(json_object_is_type(v, json_type_int));
		ck_assert_int_eq(json_object_get_int64(v), 0);
		ck_assert(json_object_object_get_ex(o, "created", &v));
		ck_assert(v == NULL); /* unknown is null */
		ck_assert(json_object_object_get_ex(o, "outcome", &v));
		ck_assert_str_eq(json_object_get_string(v), "would_delete");
		ck_assert(json_object_object_get_ex(o, "public", &v));
		ck_assert(json_object_is_type(v, json_type_boolean));
		json_object_put(o);
		n++;
	}
	ck_assert_int_eq(n, 2); /* appended, not rewritten */
	free(text);
	fixture_free(&fx);
}
END_TEST

/* The facts of the conditions on more of the row: JSONL keys (null when
 * unknown), never CSV columns (an admin's script reads the CSV header). */
START_TEST(test_jsonl_row_condition_facts)
{
	struct fixture fx;
	struct records *r;
	char *text, *csv_file, *csv, *line, *save = NULL;
	struct json_object *o, *v;

	fixture_init(&fx, false);
	ck_assert_int_eq(records_open(&fx.policy, 1795000000000LL, &r), 0);
	fx.room.join_rule = xstrdup("invite");
	fx.room.room_version = xstrdup("10");
	fx.room.state_events = 12034;
	fx.room.is_federatable = TRI_FALSE;
	fx.room.room_type_known = true;
	add(r, &fx, OUTCOME_DEFERRED, &fx.rule);
	free(fx.room.join_rule);
	free(fx.room.room_version);
	fx.room.join_rule = fx.room.room_version = NULL;
	fx.room.state_events = -1;
	fx.room.is_federatable = TRI_UNKNOWN;
	fx.room.room_type = xstrdup("m.space");
	add(r, &fx, OUTCOME_RECORDED, &fx.rule);
	ck_assert_int_eq(records_close(r, true, NULL, 0), 0);

	text = slurp(fx.policy.records.jsonl);
	line = strtok_r(text, "\n", &save);
	o = json_tokener_parse(line);
	ck_assert(json_object_object_get_ex(o, "join_rule", &v));
	ck_assert_str_eq(json_object_get_string(v), "invite");
	ck_assert(json_object_object_get_ex(o, "room_version", &v));
	ck_assert_str_eq(json_object_get_string(v), "10");
	ck_assert(json_object_object_get_ex(o, "state_events", &v));
	ck_assert(json_object_is_type(v, json_type_int));
	ck_assert_int_eq(json_object_get_int64(v), 12034);
	ck_assert(json_object_object_get_ex(o, "federatable", &v));
	ck_assert(json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(o, "room_type", &v));
	ck_assert(v == NULL); /* an ordinary room */
	json_object_put(o);
	line = strtok_r(NULL, "\n", &save);
	o = json_tokener_parse(line);
	ck_assert(json_object_object_get_ex(o, "room_type", &v));
	ck_assert_str_eq(json_object_get_string(v), "m.space");
	for (size_t i = 0; i < 4; i++) {
		static const char *const keys[] = { "join_rule", "room_version", "state_events", "federatable" };

		ck_assert(json_object_object_get_ex(o, keys[i], &v));
		ck_assert_msg(v == NULL, "%s: unknown must be null", keys[i]);
	}
	json_object_put(o);
	free(text);

	csv_file = csv_path(&fx);
	csv = slurp(csv_file);
	ck_assert_msg(strncmp(csv, CSV_HEADER "\r\n", strlen(CSV_HEADER) + 2) == 0, "%s", csv);
	ck_assert_ptr_null(strstr(csv, "12034"));
	free(csv);
	free(csv_file);
	fixture_free(&fx);
}
END_TEST

/* A line cut off by a crash or a full disk is dropped when the file is
 * opened again: the next run's lines start on lines of their own. */
START_TEST(test_jsonl_torn_tail)
{
	static const char whole[] = "{\"room_id\":\"!old:x\"}\n";
	struct fixture fx;
	struct records *r;
	FILE *f;
	char *text;

	fixture_init(&fx, false);
	f = fopen(fx.policy.records.jsonl, "w");
	ck_assert_ptr_nonnull(f);
	fputs(whole, f);
	fputs("{\"room_id\":\"!torn:x\",\"na", f);
	fclose(f);
	ck_assert_int_eq(records_open(&fx.policy, 1795000000000LL, &r), 0);
	add(r, &fx, OUTCOME_WOULD_DELETE, &fx.rule);
	ck_assert_int_eq(records_close(r, true, NULL, 0), 0);
	text = slurp(fx.policy.records.jsonl);
	ck_assert_msg(strncmp(text, whole, strlen(whole)) == 0 && text[strlen(whole)] == '{' &&
		      !strstr(text, "!torn:x") && count_lines(text, "\n") == 2, "%s", text);
	free(text);

	/* A file that is one torn line and nothing else becomes empty first. */
	f = fopen(fx.policy.records.jsonl, "w");
	fputs("{\"room_id\":\"!torn", f);
	fclose(f);
	ck_assert_int_eq(records_open(&fx.policy, 1795000000000LL, &r), 0);
	add(r, &fx, OUTCOME_WOULD_DELETE, &fx.rule);
	ck_assert_int_eq(records_close(r, true, NULL, 0), 0);
	text = slurp(fx.policy.records.jsonl);
	ck_assert_msg(text[0] == '{' && !strstr(text, "!torn") && count_lines(text, "\n") == 1, "%s", text);
	free(text);
	fixture_free(&fx);
}
END_TEST

/* A full disk is an error of the run, never silent; the CSV is still put
 * in place when it could be written. */
START_TEST(test_jsonl_full_disk)
{
	struct fixture fx;
	struct records *r;
	char why[256] = "";
	struct decision d = { .run_id = "run1", .outcome = OUTCOME_RECORDED, .reason = "x", .inactive_days = -1 };
	char *csv;

	if (access("/dev/full", W_OK) != 0)
		return; /* not on this system */
	fixture_init(&fx, false);
	d.room = &fx.room;
	free(fx.policy.records.jsonl);
	fx.policy.records.jsonl = xstrdup("/dev/full");
	ck_assert_int_eq(records_open(&fx.policy, 1795000000000LL, &r), 0);
	ck_assert_int_eq(records_add(r, &d), -ENOSPC);
	ck_assert_int_eq(records_add(r, &d), -ENOSPC);
	ck_assert_int_eq(records_close(r, true, why, sizeof(why)), -ENOSPC);
	ck_assert_str_eq(why, "/dev/full: No space left on device");
	csv = csv_path(&fx);
	ck_assert_int_eq(access(csv, F_OK), 0);
	free(csv);
	free(fx.policy.records.jsonl);
	fx.policy.records.jsonl = xstrdup("/dev/null");
	fixture_free(&fx);
}
END_TEST

START_TEST(test_unwritable)
{
	struct policy p = { 0 };
	struct records *r = NULL;

	p.records.csv = "/nonexistent-dir/x.csv";
	ck_assert_int_lt(records_open(&p, 0, &r), 0);
	ck_assert_ptr_null(r);
}
END_TEST

static Suite *records_suite(void)
{
	Suite *s = suite_create("records");
	TCase *tc = tcase_create("records");

	tcase_add_loop_test(tc, test_csv_cell, 0, (int)ARRAY_SIZE(cell_cases));
	tcase_add_test(tc, test_csv_file);
	tcase_add_test(tc, test_all_rooms_and_abort);
	tcase_add_test(tc, test_jsonl);
	tcase_add_test(tc, test_jsonl_row_condition_facts);
	tcase_add_test(tc, test_jsonl_torn_tail);
	tcase_add_test(tc, test_jsonl_full_disk);
	tcase_add_test(tc, test_unwritable);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_suite_main(records_suite());
}
