/* SPDX-License-Identifier: GPL-3.0-or-later */
/* apply.c: the --apply CSV reader (quoting, CRLF, BOM, guard stripping,
 * multi-line fields, hostile input) and the rows it yields. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "records.h"
#include "suite.h"
#include "xmalloc.h"
#include "buf.h"

/* The CSV header of DESIGN.md §7, as an admin's script expects it. */
#define CSV_HEADER \
	"run_id,time,room_id,name,canonical_alias,joined_members,joined_local_members," \
	"public,encrypted,last_activity,inactive_days,created,rule,action,outcome,reason,delete_id"

/* Reads all records of text, joined as "line:f1|f2|...;" or "line:ERR;". */
static char *read_all(const char *text, size_t len)
{
	struct csv_reader r;
	struct csv_record rec = { 0 };
	struct buf out = { 0 };
	char err[200];
	int k;

	apply_csv_init(&r, text, len);
	while ((k = apply_csv_next(&r, &rec, err, sizeof(err))) != 0) {
		buf_printf(&out, "%u:", rec.line);
		if (k < 0) {
			buf_puts(&out, "ERR;");
			continue;
		}
		for (size_t i = 0; i < rec.n; i++)
			buf_printf(&out, "%s%s", i ? "|" : "", rec.fields[i]);
		buf_putc(&out, ';');
	}
	apply_csv_record_free(&rec);
	return out.data ? out.data : xstrdup("");
}

struct reader_case {
	const char *what;
	const char *in;
	size_t len;              /* 0: strlen */
	const char *want;
};

static const struct reader_case reader_cases[] = {
	{ "plain", "a,b,c\n1,2,3\n", 0, "1:a|b|c;2:1|2|3;" },
	{ "CRLF", "a,b\r\n1,2\r\n", 0, "1:a|b;2:1|2;" },
	{ "no final newline", "a,b\n1,2", 0, "1:a|b;2:1|2;" },
	{ "BOM", "\xef\xbb\xbf" "room_id,x\n!a:b,1\n", 0, "1:room_id|x;2:!a:b|1;" },
	{ "BOM only at the start", "a\n\xef\xbb\xbf" "b\n", 0, "1:a;2:\xef\xbb\xbf" "b;" },
	{ "empty fields", ",,\n", 0, "1:||;" },
	{ "trailing comma", "a,\n", 0, "1:a|;" },
	{ "quoted comma", "\"a,b\",c\n", 0, "1:a,b|c;" },
	{ "doubled quotes", "\"say \"\"hi\"\"\",x\n", 0, "1:say \"hi\"|x;" },
	{ "empty quoted", "\"\",x\n", 0, "1:|x;" },
	{ "multi-line field", "\"two\nlines\",x\r\nnext,y\r\n", 0, "1:two\nlines|x;3:next|y;" },
	{ "CRLF inside quotes", "\"a\r\nb\",c\r\nd,e\r\n", 0, "1:a\r\nb|c;3:d|e;" },
	{ "lone CR kept", "a\rb,c\n", 0, "1:a\rb|c;" },
	{ "blank lines skipped", "a\n\n\r\nb\n", 0, "1:a;4:b;" },
	{ "guard =", "'=HYPERLINK(1),x\n", 0, "1:=HYPERLINK(1)|x;" },
	{ "guard + - @", "'+1,'-2,'@A\n", 0, "1:+1|-2|@A;" },
	{ "guard TAB", "'\tx,y\n", 0, "1:\tx|y;" },
	{ "guard CR quoted", "\"'\rstart\",y\n", 0, "1:\rstart|y;" },
	{ "guarded and quoted", "\"'=a,b\",c\n", 0, "1:=a,b|c;" },
	{ "a quote not a guard", "'plain,'',''=x\n", 0, "1:'plain|''|''=x;" },
	{ "unterminated quote", "a,b\n\"open,c\nd,e\n", 0, "1:a|b;2:ERR;" },
	{ "text after closing quote", "\"a\"b,c\nd,e\n", 0, "1:ERR;2:d|e;" },
	{ "error in a multi-line row", "\"x\ny\"z,1\nok,2\n", 0, "1:ERR;3:ok|2;" },
	{ "NUL byte", "a\0b,c\nd,e\n", 10, "1:ERR;2:d|e;" },
	{ "NUL in quotes", "\"a\0b\",c\nd,e\n", 12, "1:ERR;2:d|e;" },
	{ "stray quote in a plain field", "ab\"c,d\n", 0, "1:ab\"c|d;" },
	{ "only a BOM", "\xef\xbb\xbf", 0, "" },
	{ "empty", "", 0, "" },
	{ "one quote", "\"", 0, "1:ERR;" },
};

START_TEST(test_reader)
{
	const struct reader_case *c = &reader_cases[_i];
	char *got = read_all(c->in, c->len ? c->len : strlen(c->in));

	ck_assert_msg(strcmp(got, c->want) == 0, "%s: got \"%s\", want \"%s\"", c->what, got, c->want);
	free(got);
}
END_TEST

/* Whatever report_csv_cell writes, the reader gives back. */
START_TEST(test_writer_round_trip)
{
	static const char *const cells[] = {
		"plain", "", "a,b", "say \"hi\"", "two\nlines", "cr\rhere", "=cmd|' /C calc'!A0",
		"+1", "-2", "@SUM(A1)", "\tindent", "\rstart", "=a,b", "caf\xc3\xa9", "'quoted",
		"\"", "\"\"", ",", "\r\n", "=\n\"",
	};
	struct buf line = { 0 };
	struct csv_reader r;
	struct csv_record rec = { 0 };
	char err[200];

	for (size_t i = 0; i < ARRAY_SIZE(cells); i++) {
		if (i)
			buf_putc(&line, ',');
		report_csv_cell(&line, cells[i]);
	}
	buf_puts(&line, "\r\nnext\r\n");
	apply_csv_init(&r, line.data, line.len);
	ck_assert_int_eq(apply_csv_next(&r, &rec, err, sizeof(err)), 1);
	ck_assert_uint_eq(rec.n, ARRAY_SIZE(cells));
	for (size_t i = 0; i < ARRAY_SIZE(cells); i++)
		ck_assert_msg(strcmp(rec.fields[i], cells[i]) == 0, "cell %zu: \"%s\"", i, rec.fields[i]);
	ck_assert_int_eq(apply_csv_next(&r, &rec, err, sizeof(err)), 1);
	ck_assert_str_eq(rec.fields[0], "next");
	ck_assert_int_eq(apply_csv_next(&r, &rec, err, sizeof(err)), 0);
	apply_csv_record_free(&rec);
	buf_free(&line);
}
END_TEST

START_TEST(test_error_says_why)
{
	struct csv_reader r;
	struct csv_record rec = { 0 };
	char err[200];
	const char *text = "a\n\n\"x\"y\n";

	apply_csv_init(&r, text, strlen(text));
	ck_assert_int_eq(apply_csv_next(&r, &rec, err, sizeof(err)), 1);
	ck_assert_int_eq(apply_csv_next(&r, &rec, err, sizeof(err)), -EBADMSG);
	ck_assert_uint_eq(rec.line, 3);
	ck_assert_ptr_nonnull(strstr(err, "after a closing quote"));
	ck_assert_int_eq(apply_csv_next(&r, &rec, err, sizeof(err)), 0);
}
END_TEST

/* --- rows against a policy --- */

static struct rule rules[2];
static struct policy policy;

static void policy_setup(void)
{
	memset(rules, 0, sizeof(rules));
	memset(&policy, 0, sizeof(policy));
	rules[0].name = "abandoned";
	rules[0].action = RULE_ACTION_DELETE;
	rules[1].name = "stale-small";
	rules[1].action = RULE_ACTION_RECORD;
	policy.rules = rules;
	policy.n_rules = 2;
	policy.protect.is_public = true;
	policy.protect.spaces = true;
}

#define ROW(id, name, rule, outcome) \
	"r1,2024-01-01T00:00:00Z," id "," name ",,1,0,false,false,2023-01-02T03:04:05Z,200,2020-05-06T07:08:09Z," \
	rule ",delete," outcome ",reason,\r\n"

static int parse(const char *text, struct apply_rows *rows, char *err, size_t errlen)
{
	return apply_parse(&policy, "reviewed.csv", text, strlen(text), rows, err, errlen);
}

static const struct candidate *row_for(const struct apply_rows *rows, const char *room_id)
{
	for (size_t i = 0; i < rows->n; i++)
		if (strcmp(rows->c[i].facts.room_id, room_id) == 0)
			return &rows->c[i];
	return NULL;
}

START_TEST(test_rows)
{
	const char *text =
		CSV_HEADER "\r\n"
		ROW("!del:x", "Old", "abandoned", "would_delete")               /* line 2 */
		ROW("!rec:x", "\"multi\nline\"", "stale-small", "recorded")     /* 3-4 */
		ROW("!kept:x", "K", "", "kept")                                 /* 5 */
		ROW("!prot:x", "P", "", "protected")                            /* 6 */
		ROW("!doubt:x", "D", "", "kept_unknown")                        /* 7 */
		ROW("!norule:x", "N", "", "would_delete")                       /* 8 */
		ROW("!unknown:x", "U", "no-such-rule", "would_delete")          /* 9 */
		ROW("not-a-room", "B", "abandoned", "would_delete")             /* 10 */
		ROW("!del:x", "Again", "abandoned", "would_delete")             /* 11 */
		"r1,short,row\r\n"                                              /* 12 */
		ROW("!odd:x", "O", "abandoned", "exploded")                     /* 13 */
		"r1,\"broken\"quote,!b:x\r\n"                                   /* 14 */
		ROW("!capped:x", "'=HYPERLINK(1)", "abandoned", "capped");      /* 15 */
	struct apply_rows rows;
	const struct candidate *c;
	char err[300];

	ck_assert_int_eq(parse(text, &rows, err, sizeof(err)), 0);
	ck_assert_uint_eq(rows.skipped, 4); /* kept, protected, kept_unknown, the duplicate */
	ck_assert_uint_eq(rows.refused, 6);
	ck_assert_uint_eq(rows.n, 9);

	c = row_for(&rows, "!del:x");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->outcome, OUTCOME_KEPT); /* undecided: to act on */
	ck_assert_ptr_eq(c->rule, &rules[0]);
	ck_assert_uint_eq(c->source_line, 2);
	ck_assert_str_eq(c->facts.name, "Old");
	ck_assert_int_eq(c->facts.joined_members, 1);
	ck_assert_int_eq(c->facts.joined_local_members, 0);
	ck_assert_int_eq(c->facts.is_public, TRI_FALSE);
	ck_assert_int_eq(c->facts.last_activity.state, FACT_KNOWN);
	ck_assert_int_eq(c->facts.last_activity.ms, 1672628645000LL);
	ck_assert_int_eq(c->facts.created.ms, 1588748889000LL);

	c = row_for(&rows, "!rec:x");
	ck_assert_ptr_eq(c->rule, &rules[1]); /* a record rule's row: the review workflow */
	ck_assert_str_eq(c->facts.name, "multi\nline");
	ck_assert_uint_eq(c->source_line, 3);

	c = row_for(&rows, "!norule:x");
	ck_assert_int_eq(c->outcome, OUTCOME_REFUSED);
	ck_assert_ptr_nonnull(strstr(c->reason, "reviewed.csv:8:"));
	ck_assert_ptr_nonnull(strstr(c->reason, "no rule"));

	c = row_for(&rows, "!unknown:x");
	ck_assert_int_eq(c->outcome, OUTCOME_REFUSED);
	ck_assert_ptr_nonnull(strstr(c->reason, "reviewed.csv:9:"));
	ck_assert_ptr_nonnull(strstr(c->reason, "no-such-rule"));

	c = row_for(&rows, "!odd:x");
	ck_assert_int_eq(c->outcome, OUTCOME_REFUSED);
	ck_assert_ptr_nonnull(strstr(c->reason, "reviewed.csv:13:"));

	c = row_for(&rows, "!capped:x");
	ck_assert_str_eq(c->facts.name, "=HYPERLINK(1)"); /* guard stripped */
	ck_assert_uint_eq(c->source_line, 15);

	/* The rows without a usable room id are refused by line. */
	{
		bool l10 = false, l12 = false, l14 = false;

		for (size_t i = 0; i < rows.n; i++) {
			if (rows.c[i].outcome != OUTCOME_REFUSED)
				continue;
			l10 |= strstr(rows.c[i].reason, "reviewed.csv:10: \"not-a-room\"") != NULL;
			l12 |= strstr(rows.c[i].reason, "reviewed.csv:12: 3 fields") != NULL;
			l14 |= strstr(rows.c[i].reason, "reviewed.csv:14: malformed CSV") != NULL;
		}
		ck_assert(l10 && l12 && l14);
	}
	ck_assert_ptr_null(row_for(&rows, "!kept:x"));
	apply_rows_free(&rows);
}
END_TEST

/* One room id syntax (API.md): a room version 12 id (no ":server") is a
 * room id here as in the policy and the list; spaces and controls are not. */
START_TEST(test_room_id_syntax)
{
	const char *text = CSV_HEADER "\r\n"
		ROW("!aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789-_aBcDe", "V12", "abandoned", "would_delete")
		ROW("\"!a b:x\"", "Space", "abandoned", "would_delete")
		ROW("\"!a\tb:x\"", "Tab", "abandoned", "would_delete")
		ROW("a:x", "No bang", "abandoned", "would_delete");
	struct apply_rows rows;
	const struct candidate *c;
	char err[256];

	ck_assert_int_eq(parse(text, &rows, err, sizeof(err)), 0);
	ck_assert_uint_eq(rows.n, 4);
	ck_assert_uint_eq(rows.refused, 3);
	c = row_for(&rows, "!aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789-_aBcDe");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->outcome, OUTCOME_KEPT); /* to act on */
	apply_rows_free(&rows);
}
END_TEST

START_TEST(test_columns_by_name)
{
	/* Reordered, extra and missing optional columns (as a spreadsheet may
	 * save it), with a BOM and LF endings. */
	const char *text = "\xef\xbb\xbf" "outcome,notes,rule,room_id\n"
			   "would_delete,checked by Ann,abandoned,!a:x\n"
			   "recorded,,stale-small,!b:x\n";
	struct apply_rows rows;
	char err[300];

	ck_assert_int_eq(parse(text, &rows, err, sizeof(err)), 0);
	ck_assert_uint_eq(rows.n, 2);
	ck_assert_uint_eq(rows.refused, 0);
	ck_assert_str_eq(rows.c[0].facts.room_id, "!a:x");
	ck_assert_ptr_eq(rows.c[0].rule, &rules[0]);
	ck_assert_int_eq(rows.c[0].facts.last_activity.state, FACT_UNFETCHED);
	ck_assert_int_eq(rows.c[0].facts.joined_members, -1);
	ck_assert_uint_eq(rows.c[1].source_line, 3);
	apply_rows_free(&rows);
}
END_TEST

struct bad_file {
	const char *text;
	const char *want;
};

static const struct bad_file bad_files[] = {
	{ "", "empty file" },
	{ "\xef\xbb\xbf", "empty file" },
	{ "room_id,outcome\n!a:x,would_delete\n", "no \"rule\" column" },
	{ "rule,outcome\nabandoned,would_delete\n", "no \"room_id\" column" },
	{ "room_id,rule\n!a:x,abandoned\n", "no \"outcome\" column" },
	{ "\"room_id,rule,outcome\n", "header" },
	{ "Room_ID,Rule,Outcome\n", "no \"room_id\" column" },
};

START_TEST(test_bad_files)
{
	const struct bad_file *b = &bad_files[_i];
	struct apply_rows rows;
	char err[300];

	ck_assert_int_eq(parse(b->text, &rows, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, b->want), "case %d: %s", _i, err);
	ck_assert_ptr_nonnull(strstr(err, "reviewed.csv"));
	ck_assert_uint_eq(rows.n, 0);
}
END_TEST

START_TEST(test_protected_rows_refused)
{
	char *ids[] = { "!pinned:x" };
	char *names[] = { "Incident *" };
	struct decide_context d = { .policy = &policy, .now_ms = 1700000000000LL,
				    .protected_ids = ids, .n_protected_ids = 1 };
	const char *text = "room_id,name,public,rule,outcome\n"
			   "!pinned:x,,false,abandoned,would_delete\n"
			   "!inc:x,Incident 42,false,abandoned,would_delete\n"
			   "!pub:x,,true,abandoned,would_delete\n"
			   "!fine:x,Old,false,abandoned,would_delete\n";
	struct apply_rows rows;
	char err[300];

	policy.protect.names.items = names;
	policy.protect.names.n = 1;
	ck_assert_int_eq(parse(text, &rows, err, sizeof(err)), 0);
	apply_refuse_protected(&d, "reviewed.csv", &rows);
	ck_assert_uint_eq(rows.refused, 3);
	ck_assert_int_eq(row_for(&rows, "!pinned:x")->outcome, OUTCOME_REFUSED);
	ck_assert_ptr_nonnull(strstr(row_for(&rows, "!pinned:x")->reason, "reviewed.csv:2: protected"));
	ck_assert_ptr_nonnull(strstr(row_for(&rows, "!inc:x")->reason, "reviewed.csv:3: protected"));
	ck_assert_ptr_nonnull(strstr(row_for(&rows, "!pub:x")->reason, "reviewed.csv:4: protected"));
	ck_assert_int_eq(row_for(&rows, "!fine:x")->outcome, OUTCOME_KEPT);
	apply_rows_free(&rows);
	policy.protect.names.n = 0;
}
END_TEST

/* Hostile input: random bytes never crash the reader or the parser, and
 * every record it returns has at least one field. */
START_TEST(test_random_input)
{
	static const char alphabet[] = "a,\"\r\n'=\0!:x";
	unsigned seed = 12345;
	char text[256];

	for (int round = 0; round < 3000; round++) {
		size_t len = (size_t)(round % 200);
		struct csv_reader r;
		struct csv_record rec = { 0 };
		struct apply_rows rows;
		char err[300];
		int k, guard = 0;

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			text[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		apply_csv_init(&r, text, len);
		while ((k = apply_csv_next(&r, &rec, err, sizeof(err))) != 0) {
			ck_assert(k == 1 ? rec.n >= 1 : k == -EBADMSG);
			ck_assert_int_lt(++guard, 300);
		}
		if (apply_parse(&policy, "fuzz.csv", text, len, &rows, err, sizeof(err)) == 0)
			apply_rows_free(&rows);
	}
}
END_TEST

static Suite *apply_suite(void)
{
	Suite *s = suite_create("apply");
	TCase *tc = tcase_create("csv");
	TCase *tr = tcase_create("rows");

	tcase_add_loop_test(tc, test_reader, 0, (int)ARRAY_SIZE(reader_cases));
	tcase_add_test(tc, test_writer_round_trip);
	tcase_add_test(tc, test_error_says_why);
	tcase_add_test(tc, test_random_input);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tr, policy_setup, NULL);
	tcase_add_unchecked_fixture(tc, policy_setup, NULL);
	tcase_add_test(tr, test_rows);
	tcase_add_test(tr, test_columns_by_name);
	tcase_add_test(tr, test_room_id_syntax);
	tcase_add_loop_test(tr, test_bad_files, 0, (int)ARRAY_SIZE(bad_files));
	tcase_add_test(tr, test_protected_rows_refused);
	suite_add_tcase(s, tr);
	return s;
}

int main(void)
{
	return test_suite_main(apply_suite());
}
