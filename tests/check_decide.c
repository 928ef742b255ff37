/* SPDX-License-Identifier: GPL-3.0-or-later */
/* decide.c, table-driven: policy snippet + room facts + now -> verdict. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "suite.h"

/* ROOM() sets defaults that a case may override. */
#pragma GCC diagnostic ignored "-Woverride-init"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define DAY (86400LL * 1000)
#define NOW (1795000000000LL) /* a fixed "now" in ms */
#define RANGE(lo, hi) { .set = true, .min = (lo), .max = (hi) }
#define ANYMAX INT64_MAX

/* A room as a row in the table: counts, flags and the costly facts. */
struct room_spec {
	const char *id, *name, *alias, *creator, *type, *encryption;
	int64_t members, local;
	enum tri is_public;
	const char *row_problem;
	enum fact_state act_state;
	int64_t act_days_ago;      /* last activity, days before NOW (negative: future) */
	enum fact_state created_state;
	int64_t created_days_ago;
	/* The state before the last leave (DESIGN.md §6.13); ROOM() has it
	 * known and without a name or an alias. */
	enum fact_state prior_state;
	const char *prior_name;
	const char *prior_alias, *prior_alt_alias;
};

struct decide_case {
	const char *what;
	struct rule rules[3];
	size_t n_rules;
	struct room_spec room;
	enum verdict_kind want;
	const char *want_rule;     /* NULL: none */
	unsigned want_need;
	const char *want_reason;   /* substring of the reason, or NULL */
	bool public_unprotected;   /* protect.public: false */
	bool no_name_protections;  /* protect.names and protect.aliases empty */
};

static const struct rule R_ABANDONED = {
	.name = "abandoned", .action = RULE_ACTION_DELETE,
	.joined_local_members = RANGE(0, 0), .has_inactive_for = true, .inactive_for = 90 * 86400,
};
static const struct rule R_STALE_SMALL = {
	.name = "stale-small", .action = RULE_ACTION_RECORD,
	.joined_members = RANGE(0, 2), .has_inactive_for = true, .inactive_for = 365 * 86400,
	.has_older_than = true, .older_than = 104 * 7 * 86400,
};
static const struct rule R_OLD = {
	.name = "old", .action = RULE_ACTION_RECORD,
	.has_older_than = true, .older_than = 30 * 86400,
};
static const struct rule R_MEMBERS_1_3 = {
	.name = "few", .action = RULE_ACTION_RECORD, .joined_members = RANGE(1, 3),
};
static const struct rule R_PUBLIC = {
	.name = "pub", .action = RULE_ACTION_RECORD, .is_public = TRI_TRUE,
	.joined_members = RANGE(0, ANYMAX),
};
static const struct rule R_NOT_PUBLIC = {
	.name = "private", .action = RULE_ACTION_RECORD, .is_public = TRI_FALSE,
	.joined_members = RANGE(0, ANYMAX),
};
static const struct rule R_ENCRYPTED = {
	.name = "enc", .action = RULE_ACTION_RECORD, .is_encrypted = TRI_TRUE,
	.joined_members = RANGE(0, ANYMAX),
};
static const struct rule R_CLEAR = {
	.name = "clear", .action = RULE_ACTION_RECORD, .is_encrypted = TRI_FALSE,
	.joined_members = RANGE(0, ANYMAX),
};
static const struct rule R_NAME = {
	.name = "tests", .action = RULE_ACTION_RECORD, .name_glob = "test*",
};
static const struct rule R_ALIAS = {
	.name = "bridged", .action = RULE_ACTION_RECORD, .alias_glob = "#irc_*",
};
static const struct rule R_CREATOR = {
	.name = "by-bot", .action = RULE_ACTION_RECORD, .creator_glob = "@bot*:*",
};
static const struct rule R_LOCAL_MIN = {
	.name = "busy", .action = RULE_ACTION_RECORD, .joined_local_members = RANGE(5, ANYMAX),
};

#define KNOWN(days) FACT_KNOWN, (days)
#define ROOM(...) { .id = "!r:test.local", .members = 1, .local = 0, .is_public = TRI_FALSE, \
		    .prior_state = FACT_KNOWN, __VA_ARGS__ }
#define OLD_EMPTY .act_state = FACT_KNOWN, .act_days_ago = 400

static const struct decide_case cases[] = {
	/* single conditions and their bounds */
	{ "abandoned: old and empty", { R_ABANDONED }, 1, ROOM(.act_state = FACT_KNOWN, .act_days_ago = 400),
	  VERDICT_DELETE, "abandoned", 0, "inactive" },
	{ "abandoned: exactly 90 days", { R_ABANDONED }, 1, ROOM(.act_state = FACT_KNOWN, .act_days_ago = 90),
	  VERDICT_DELETE, "abandoned", 0, NULL },
	{ "abandoned: 89 days", { R_ABANDONED }, 1, ROOM(.act_state = FACT_KNOWN, .act_days_ago = 89),
	  VERDICT_KEEP, NULL, 0, "no rule" },
	{ "abandoned: local member present, no lookup", { R_ABANDONED }, 1, ROOM(.local = 1),
	  VERDICT_KEEP, NULL, 0, NULL },
	{ "abandoned: activity not fetched yet", { R_ABANDONED }, 1, ROOM(.local = 0),
	  VERDICT_NEED_FACTS, "abandoned", NEED_LAST_ACTIVITY, NULL },
	{ "abandoned: activity lookup failed", { R_ABANDONED }, 1, ROOM(.act_state = FACT_UNKNOWN),
	  VERDICT_KEEP_UNKNOWN, NULL, 0, "last activity unknown" },
	{ "abandoned: activity 1 day in the future", { R_ABANDONED }, 1, ROOM(.act_state = FACT_KNOWN, .act_days_ago = -1),
	  VERDICT_KEEP_UNKNOWN, NULL, 0, "future" },
	{ "older_than: created today", { R_OLD }, 1,
	  ROOM(.created_state = FACT_KNOWN, .created_days_ago = 0),
	  VERDICT_KEEP, NULL, 0, NULL },
	{ "members range lower bound", { R_MEMBERS_1_3 }, 1, ROOM(.members = 1), VERDICT_RECORD, "few", 0, "1 members" },
	{ "members range upper bound", { R_MEMBERS_1_3 }, 1, ROOM(.members = 3), VERDICT_RECORD, "few", 0, NULL },
	{ "members below range", { R_MEMBERS_1_3 }, 1, ROOM(.members = 0), VERDICT_KEEP, NULL, 0, NULL },
	{ "members above range", { R_MEMBERS_1_3 }, 1, ROOM(.members = 4), VERDICT_KEEP, NULL, 0, NULL },
	{ "local min 5 met", { R_LOCAL_MIN }, 1, ROOM(.members = 9, .local = 5), VERDICT_RECORD, "busy", 0, NULL },
	{ "local min 5 not met", { R_LOCAL_MIN }, 1, ROOM(.members = 9, .local = 4), VERDICT_KEEP, NULL, 0, NULL },
	{ "public: true wanted, is public (no protection)", { R_PUBLIC }, 1, ROOM(.is_public = TRI_TRUE),
	  VERDICT_RECORD, "pub", 0, NULL, true },
	{ "public: true wanted, is private", { R_PUBLIC }, 1, ROOM(.is_public = TRI_FALSE), VERDICT_KEEP, NULL, 0, NULL },
	{ "public: false wanted, is private", { R_NOT_PUBLIC }, 1, ROOM(.is_public = TRI_FALSE),
	  VERDICT_RECORD, "private", 0, "not public" },
	{ "encrypted wanted, encrypted", { R_ENCRYPTED }, 1, ROOM(.encryption = "m.megolm.v1.aes-sha2"),
	  VERDICT_RECORD, "enc", 0, NULL },
	{ "encrypted wanted, clear", { R_ENCRYPTED }, 1, ROOM(.encryption = NULL), VERDICT_KEEP, NULL, 0, NULL },
	{ "clear wanted, clear", { R_CLEAR }, 1, ROOM(.encryption = NULL), VERDICT_RECORD, "clear", 0, NULL },
	{ "clear wanted, encrypted", { R_CLEAR }, 1, ROOM(.encryption = "m.megolm.v1.aes-sha2"), VERDICT_KEEP, NULL, 0, NULL },
	{ "name glob matches", { R_NAME }, 1, ROOM(.name = "test room 7"), VERDICT_RECORD, "tests", 0, "name matches" },
	{ "name glob does not match", { R_NAME }, 1, ROOM(.name = "Team"), VERDICT_KEEP, NULL, 0, NULL },
	{ "name glob vs null name", { R_NAME }, 1, ROOM(.name = NULL), VERDICT_KEEP, NULL, 0, NULL },
	{ "alias glob matches", { R_ALIAS }, 1, ROOM(.alias = "#irc_libera:test.local"), VERDICT_RECORD, "bridged", 0, NULL },
	{ "alias glob vs null alias", { R_ALIAS }, 1, ROOM(.alias = NULL), VERDICT_KEEP, NULL, 0, NULL },
	{ "creator glob matches", { R_CREATOR }, 1, ROOM(.creator = "@bot-7:test.local"), VERDICT_RECORD, "by-bot", 0, NULL },
	{ "creator glob does not match", { R_CREATOR }, 1, ROOM(.creator = "@alice:test.local"), VERDICT_KEEP, NULL, 0, NULL },
	{ "older_than met", { R_OLD }, 1, ROOM(.created_state = FACT_KNOWN, .created_days_ago = 31), VERDICT_RECORD, "old", 0,
	  "created 31 days ago (>= 30d)" },
	{ "older_than not met", { R_OLD }, 1, ROOM(.created_state = FACT_KNOWN, .created_days_ago = 29), VERDICT_KEEP, NULL, 0, NULL },
	{ "older_than needs creation time", { R_OLD }, 1, ROOM(), VERDICT_NEED_FACTS, "old", NEED_CREATED, NULL },
	{ "older_than creation in the future", { R_OLD }, 1, ROOM(.created_state = FACT_KNOWN, .created_days_ago = -3),
	  VERDICT_KEEP_UNKNOWN, NULL, 0, "future" },
	/* several conditions: all must hold, and both costly facts are asked for together */
	{ "stale-small needs both facts", { R_STALE_SMALL }, 1, ROOM(.members = 2),
	  VERDICT_NEED_FACTS, "stale-small", NEED_LAST_ACTIVITY | NEED_CREATED, NULL },
	{ "stale-small: both old", { R_STALE_SMALL }, 1,
	  ROOM(.members = 2, .act_state = FACT_KNOWN, .act_days_ago = 400, .created_state = FACT_KNOWN, .created_days_ago = 800),
	  VERDICT_RECORD, "stale-small", 0, NULL },
	{ "stale-small: created too recently", { R_STALE_SMALL }, 1,
	  ROOM(.members = 2, .act_state = FACT_KNOWN, .act_days_ago = 400, .created_state = FACT_KNOWN, .created_days_ago = 700),
	  VERDICT_KEEP, NULL, 0, NULL },
	{ "stale-small: known no beats unknown (no doubt)", { R_STALE_SMALL }, 1,
	  ROOM(.members = 2, .act_state = FACT_KNOWN, .act_days_ago = 10, .created_state = FACT_UNKNOWN),
	  VERDICT_KEEP, NULL, 0, "no rule" },
	{ "stale-small: activity unknown, creation not fetched", { R_STALE_SMALL }, 1,
	  ROOM(.members = 2, .act_state = FACT_UNKNOWN), VERDICT_KEEP_UNKNOWN, NULL, 0, "last activity unknown" },
	{ "unknown member count is doubt, not a match", { R_MEMBERS_1_3 }, 1, ROOM(.members = -1),
	  VERDICT_KEEP_UNKNOWN, NULL, 0, "members unknown" },
	{ "stale-small: too many members, no lookup", { R_STALE_SMALL }, 1, ROOM(.members = 3),
	  VERDICT_KEEP, NULL, 0, NULL },
	/* first match wins; doubt goes on to the next rule */
	{ "first rule wins", { R_MEMBERS_1_3, R_NOT_PUBLIC }, 2, ROOM(.members = 2), VERDICT_RECORD, "few", 0, NULL },
	{ "second rule when first fails", { R_MEMBERS_1_3, R_NOT_PUBLIC }, 2, ROOM(.members = 7), VERDICT_RECORD, "private", 0, NULL },
	{ "doubt on first, second matches", { R_ABANDONED, R_MEMBERS_1_3 }, 2, ROOM(.act_state = FACT_UNKNOWN),
	  VERDICT_RECORD, "few", 0, NULL },
	{ "doubt on first, second fails: kept in doubt", { R_ABANDONED, R_LOCAL_MIN }, 2, ROOM(.act_state = FACT_UNKNOWN),
	  VERDICT_KEEP_UNKNOWN, NULL, 0, "rule abandoned" },
	{ "first rule needs a fact before the second is tried", { R_ABANDONED, R_MEMBERS_1_3 }, 2, ROOM(),
	  VERDICT_NEED_FACTS, "abandoned", NEED_LAST_ACTIVITY, NULL },
	{ "first rule fails on fact, second needs another", { R_ABANDONED, R_OLD }, 2,
	  ROOM(.act_state = FACT_KNOWN, .act_days_ago = 5), VERDICT_NEED_FACTS, "old", NEED_CREATED, NULL },
	{ "no rules at all", { { 0 } }, 0, ROOM(), VERDICT_KEEP, NULL, 0, NULL },
	/* protections beat rules and cost no lookup */
	{ "protected by room id", { R_ABANDONED }, 1, ROOM(.id = "!keep:test.local"), VERDICT_PROTECTED, NULL, 0, "protect.rooms" },
	{ "protected by resolved alias", { R_ABANDONED }, 1, ROOM(.id = "!resolved:test.local"),
	  VERDICT_PROTECTED, NULL, 0, "resolves" },
	{ "protected by alias glob", { R_ABANDONED }, 1, ROOM(.alias = "#support-de:test.local"),
	  VERDICT_PROTECTED, NULL, 0, "protect.aliases" },
	{ "protected by name glob", { R_ABANDONED }, 1, ROOM(.name = "Incident 42"), VERDICT_PROTECTED, NULL, 0, "protect.names" },
	{ "protected by creator glob", { R_ABANDONED }, 1, ROOM(.creator = "@notices:test.local"),
	  VERDICT_PROTECTED, NULL, 0, "protect.creators" },
	{ "protected: public", { R_ABANDONED }, 1, ROOM(.is_public = TRI_TRUE), VERDICT_PROTECTED, NULL, 0, "public" },
	{ "protected: space", { R_ABANDONED }, 1, ROOM(.type = "m.space"), VERDICT_PROTECTED, NULL, 0, "space" },
	{ "not a space: other room type", { R_MEMBERS_1_3 }, 1, ROOM(.type = "org.example.custom"),
	  VERDICT_RECORD, "few", 0, NULL },
	/* rooms every local member left: name and alias protections are
	 * checked against the state before the last leave (DESIGN.md §6.13) */
	{ "null name: the state before the leave is asked for", { R_ABANDONED }, 1,
	  ROOM(OLD_EMPTY, .prior_state = FACT_UNFETCHED), VERDICT_NEED_FACTS, "abandoned", NEED_PRIOR_STATE, NULL },
	{ "null name: protected by the name it had", { R_ABANDONED }, 1,
	  ROOM(OLD_EMPTY, .prior_name = "Incident 2019"), VERDICT_PROTECTED, NULL, 0,
	  "name before the last local member left matches protect.names" },
	{ "null alias: protected by the alias it had", { R_ABANDONED }, 1,
	  ROOM(OLD_EMPTY, .name = "Support", .prior_alias = "#support-fr:test.local"), VERDICT_PROTECTED, NULL, 0,
	  "alias #support-fr:test.local before the last local member left" },
	{ "null alias: protected by an alt alias it had", { R_ABANDONED }, 1,
	  ROOM(OLD_EMPTY, .prior_alias = "#other:test.local", .prior_alt_alias = "#support-it:test.local"),
	  VERDICT_PROTECTED, NULL, 0, "#support-it:test.local" },
	{ "null name: the name it had is not protected", { R_ABANDONED }, 1,
	  ROOM(OLD_EMPTY, .prior_name = "Old chat", .prior_alias = "#chat:test.local"), VERDICT_DELETE, "abandoned", 0,
	  NULL },
	{ "null name: the state before the leave unknown is doubt", { R_ABANDONED }, 1,
	  ROOM(OLD_EMPTY, .prior_state = FACT_UNKNOWN), VERDICT_KEEP_UNKNOWN, NULL, 0,
	  "protections cannot be checked: context: HTTP 502" },
	{ "name and alias known: no state asked for", { R_ABANDONED }, 1,
	  ROOM(OLD_EMPTY, .name = "Old chat", .alias = "#chat:test.local", .prior_state = FACT_UNFETCHED),
	  VERDICT_DELETE, "abandoned", 0, NULL },
	{ "record rule: no state asked for", { R_MEMBERS_1_3 }, 1, ROOM(.prior_state = FACT_UNFETCHED),
	  VERDICT_RECORD, "few", 0, NULL },
	{ "no name or alias protections: no state asked for", { R_ABANDONED }, 1,
	  ROOM(OLD_EMPTY, .prior_state = FACT_UNFETCHED), VERDICT_DELETE, "abandoned", 0,
	  "inactive for 400 days (>= 90d)", .no_name_protections = true },
	/* an unusable list row is doubt, even before protections */
	{ "row problem keeps the room", { R_ABANDONED }, 1, ROOM(.row_problem = "joined_local_members: expected integer"),
	  VERDICT_KEEP_UNKNOWN, NULL, 0, "joined_local_members" },
};

static void make_policy(struct policy *p, const struct decide_case *c)
{
	static char *rooms[] = { "!keep:test.local" };
	static char *aliases[] = { "#announce:test.local", "#support-*:test.local" };
	static char *names[] = { "Incident *" };
	static char *creators[] = { "@notices:*" };

	memset(p, 0, sizeof(*p));
	p->protect.rooms = (struct string_list){ rooms, 1 };
	p->protect.aliases = (struct string_list){ aliases, 2 };
	p->protect.names = (struct string_list){ names, 1 };
	p->protect.creators = (struct string_list){ creators, 1 };
	p->protect.is_public = !c->public_unprotected;
	if (c->no_name_protections) {
		p->protect.aliases.n = 0;
		p->protect.names.n = 0;
	}
	p->protect.spaces = true;
	p->rules = (struct rule *)c->rules;
	p->n_rules = c->n_rules;
}

static void make_facts(struct room_facts *f, const struct room_spec *r)
{
	static char *prior_aliases[2]; /* the facts borrow everything from the table */

	memset(f, 0, sizeof(*f));
	room_facts_clear(f);
	f->room_id = (char *)r->id;
	f->name = (char *)r->name;
	f->canonical_alias = (char *)r->alias;
	f->creator = (char *)r->creator;
	f->room_type = (char *)r->type;
	f->encryption = (char *)r->encryption;
	f->joined_members = r->members;
	f->joined_local_members = r->local;
	f->is_public = r->is_public;
	f->row_problem = (char *)r->row_problem;
	f->last_activity.state = r->act_state;
	f->last_activity.ms = NOW - r->act_days_ago * DAY;
	f->created.state = r->created_state;
	f->created.ms = NOW - r->created_days_ago * DAY;
	if (r->act_state == FACT_UNKNOWN)
		f->last_activity.problem = (char *)"HTTP 503";
	f->prior.state = r->prior_state;
	f->prior.name = (char *)r->prior_name;
	f->prior.aliases = prior_aliases;
	if (r->prior_alias)
		prior_aliases[f->prior.n_aliases++] = (char *)r->prior_alias;
	if (r->prior_alt_alias)
		prior_aliases[f->prior.n_aliases++] = (char *)r->prior_alt_alias;
	if (r->prior_state == FACT_UNKNOWN)
		f->prior.problem = (char *)"context: HTTP 502";
}

START_TEST(test_decide_table)
{
	const struct decide_case *c = &cases[_i];
	char *protected_ids[] = { "!a:test.local", "!resolved:test.local" };
	struct decide_context ctx = { .now_ms = NOW, .protected_ids = protected_ids, .n_protected_ids = 2 };
	struct policy p;
	struct room_facts f;
	struct verdict v;

	make_policy(&p, c);
	ctx.policy = &p;
	make_facts(&f, &c->room);
	decide_room(&ctx, &f, &v);
	ck_assert_msg(v.kind == c->want, "%s: kind %d, want %d (%s)", c->what, v.kind, c->want, v.reason);
	if (c->want_rule)
		ck_assert_msg(v.rule && strcmp(v.rule->name, c->want_rule) == 0, "%s: rule %s", c->what,
			      v.rule ? v.rule->name : "(none)");
	else if (c->want != VERDICT_NEED_FACTS)
		ck_assert_msg(v.rule == NULL, "%s: unexpected rule", c->what);
	ck_assert_msg(v.need == c->want_need, "%s: need %u, want %u", c->what, v.need, c->want_need);
	if (c->want_reason)
		ck_assert_msg(strstr(v.reason, c->want_reason), "%s: reason \"%s\" lacks \"%s\"", c->what,
			      v.reason, c->want_reason);
	ck_assert(v.reason[0] != '\0');
}
END_TEST

START_TEST(test_skew_boundary)
{
	/* Within 5 minutes in the future counts as now; beyond is doubt. */
	struct decide_case c = { .rules = { R_OLD }, .n_rules = 1 };
	struct decide_context ctx = { .now_ms = NOW };
	struct policy p;
	struct room_facts f;
	struct verdict v;

	c.rules[0].older_than = 0;
	make_policy(&p, &c);
	ctx.policy = &p;
	make_facts(&f, &(struct room_spec)ROOM(.created_state = FACT_KNOWN));
	f.created.ms = NOW + CLOCK_SKEW_MS;
	decide_room(&ctx, &f, &v);
	ck_assert_int_eq(v.kind, VERDICT_RECORD);
	f.created.ms = NOW + CLOCK_SKEW_MS + 1;
	decide_room(&ctx, &f, &v);
	ck_assert_int_eq(v.kind, VERDICT_KEEP_UNKNOWN);
}
END_TEST

START_TEST(test_inactive_days)
{
	struct room_facts f = { 0 };

	room_facts_clear(&f);
	ck_assert_int_eq(decide_inactive_days(&f, NOW), -1);
	f.last_activity.state = FACT_KNOWN;
	f.last_activity.ms = NOW - 412 * DAY - 5;
	ck_assert_int_eq(decide_inactive_days(&f, NOW), 412);
	f.last_activity.ms = NOW + 60 * 1000;
	ck_assert_int_eq(decide_inactive_days(&f, NOW), 0);
	f.last_activity.ms = NOW + 10 * DAY;
	ck_assert_int_eq(decide_inactive_days(&f, NOW), -1);
	/* the clock-skew allowance, at its edge */
	f.last_activity.ms = NOW + CLOCK_SKEW_MS;
	ck_assert_int_eq(decide_inactive_days(&f, NOW), 0);
	f.last_activity.ms = NOW + CLOCK_SKEW_MS + 1;
	ck_assert_int_eq(decide_inactive_days(&f, NOW), -1);
}
END_TEST

static Suite *decide_suite(void)
{
	Suite *s = suite_create("decide");
	TCase *tc = tcase_create("decide");

	tcase_add_loop_test(tc, test_decide_table, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_skew_boundary);
	tcase_add_test(tc, test_inactive_days);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_suite_main(decide_suite());
}
