/* SPDX-License-Identifier: GPL-3.0-or-later */
/* decide.c, table-driven: policy snippet + room facts + now -> verdict. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "suite.h"
#include "explain.h"
#include "report.h"
#include "state.h"

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
	/* The facts of the conditions on more of the row; ROOM() has room_type known and
	 * the others unknown. */
	bool type_unknown;
	const char *join_rule, *version;
	int64_t state_events;
	enum tri federatable;
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

/* The conditions on more facts of the list row. */
static const struct rule R_JOIN = {
	.name = "closed", .action = RULE_ACTION_RECORD,
	.join_rules = JOIN_RULE_BIT(JOIN_RULE_INVITE) | JOIN_RULE_BIT(JOIN_RULE_KNOCK),
};
static const struct rule R_JOIN_PUBLIC = {
	.name = "open", .action = RULE_ACTION_RECORD, .join_rules = JOIN_RULE_BIT(JOIN_RULE_PUBLIC),
};
static const struct rule R_ORDINARY = {
	.name = "ordinary", .action = RULE_ACTION_RECORD, .has_room_type = true,
};
static const struct rule R_TYPE_GLOB = {
	.name = "custom", .action = RULE_ACTION_RECORD, .has_room_type = true, .room_type_glob = "org.example.*",
};
static const struct rule R_SIZE = {
	.name = "mid-size", .action = RULE_ACTION_RECORD, .state_events = RANGE(10, 100),
};
static const struct rule R_VERSION = {
	.name = "v10-12", .action = RULE_ACTION_RECORD, .version_glob = "1[0-2]",
};
static const struct rule R_NOT_FEDERATED = {
	.name = "local-only", .action = RULE_ACTION_RECORD, .is_federatable = TRI_FALSE,
};
static const struct rule R_FEDERATED = {
	.name = "federated", .action = RULE_ACTION_RECORD, .is_federatable = TRI_TRUE,
};
static const struct rule R_ABANDONED_SMALL = {
	.name = "abandoned-small", .action = RULE_ACTION_DELETE,
	.joined_local_members = RANGE(0, 0), .has_inactive_for = true, .inactive_for = 90 * 86400,
	.state_events = RANGE(0, 50), .join_rules = JOIN_RULE_BIT(JOIN_RULE_INVITE),
};

#define KNOWN(days) FACT_KNOWN, (days)
#define ROOM(...) { .id = "!r:test.local", .members = 1, .local = 0, .is_public = TRI_FALSE, \
		    .prior_state = FACT_KNOWN, .state_events = -1, __VA_ARGS__ }
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
	/* join_rule: one of the values listed; null (hidden once no local
	 * member is left) is doubt; a value not listed is a plain no */
	{ "join_rule: invite is listed", { R_JOIN }, 1, ROOM(.join_rule = "invite"), VERDICT_RECORD, "closed", 0,
	  "join rule invite" },
	{ "join_rule: knock is listed", { R_JOIN }, 1, ROOM(.join_rule = "knock"), VERDICT_RECORD, "closed", 0, NULL },
	{ "join_rule: public is not listed", { R_JOIN }, 1, ROOM(.join_rule = "public"), VERDICT_KEEP, NULL, 0, NULL },
	{ "join_rule: knock_restricted is not knock", { R_JOIN }, 1, ROOM(.join_rule = "knock_restricted"),
	  VERDICT_KEEP, NULL, 0, NULL },
	{ "join_rule: a value of a later spec", { R_JOIN }, 1, ROOM(.join_rule = "invite2"), VERDICT_KEEP, NULL, 0, NULL },
	{ "join_rule: null is doubt", { R_JOIN }, 1, ROOM(.join_rule = NULL), VERDICT_KEEP_UNKNOWN, NULL, 0,
	  "join_rule unknown" },
	{ "join_rule: public wanted", { R_JOIN_PUBLIC }, 1, ROOM(.join_rule = "public"), VERDICT_RECORD, "open", 0, NULL },
	/* room_type: null means an ordinary room; a row without it (an old
	 * server) is doubt */
	{ "room_type null: an ordinary room", { R_ORDINARY }, 1, ROOM(.type = NULL), VERDICT_RECORD, "ordinary", 0,
	  "room type null" },
	{ "room_type null: a custom type", { R_ORDINARY }, 1, ROOM(.type = "org.example.custom"), VERDICT_KEEP, NULL, 0,
	  NULL },
	{ "room_type null: not in the row", { R_ORDINARY }, 1, ROOM(.type_unknown = true), VERDICT_KEEP_UNKNOWN, NULL, 0,
	  "room_type unknown" },
	{ "room_type glob matches", { R_TYPE_GLOB }, 1, ROOM(.type = "org.example.custom"), VERDICT_RECORD, "custom", 0,
	  NULL },
	{ "room_type glob vs an ordinary room", { R_TYPE_GLOB }, 1, ROOM(.type = NULL), VERDICT_KEEP, NULL, 0, NULL },
	{ "room_type glob vs another type", { R_TYPE_GLOB }, 1, ROOM(.type = "org.other.x"), VERDICT_KEEP, NULL, 0, NULL },
	{ "room_type glob: not in the row", { R_TYPE_GLOB }, 1, ROOM(.type_unknown = true), VERDICT_KEEP_UNKNOWN, NULL, 0,
	  "room_type unknown" },
	{ "room_type: a space is protected first", { R_TYPE_GLOB }, 1, ROOM(.type = "m.space"), VERDICT_PROTECTED, NULL,
	  0, "space" },
	/* state_events: both bounds count */
	{ "state_events at min", { R_SIZE }, 1, ROOM(.state_events = 10), VERDICT_RECORD, "mid-size", 0,
	  "10 state events" },
	{ "state_events at max", { R_SIZE }, 1, ROOM(.state_events = 100), VERDICT_RECORD, "mid-size", 0, NULL },
	{ "state_events below min", { R_SIZE }, 1, ROOM(.state_events = 9), VERDICT_KEEP, NULL, 0, NULL },
	{ "state_events above max", { R_SIZE }, 1, ROOM(.state_events = 101), VERDICT_KEEP, NULL, 0, NULL },
	{ "state_events unknown is doubt", { R_SIZE }, 1, ROOM(.state_events = -1), VERDICT_KEEP_UNKNOWN, NULL, 0,
	  "state events unknown" },
	/* room_version: a glob on the version text; null is doubt */
	{ "room_version 10", { R_VERSION }, 1, ROOM(.version = "10"), VERDICT_RECORD, "v10-12", 0,
	  "room version matches" },
	{ "room_version 12", { R_VERSION }, 1, ROOM(.version = "12"), VERDICT_RECORD, "v10-12", 0, NULL },
	{ "room_version 9", { R_VERSION }, 1, ROOM(.version = "9"), VERDICT_KEEP, NULL, 0, NULL },
	{ "room_version 1", { R_VERSION }, 1, ROOM(.version = "1"), VERDICT_KEEP, NULL, 0, NULL },
	{ "room_version 100", { R_VERSION }, 1, ROOM(.version = "100"), VERDICT_KEEP, NULL, 0, NULL },
	{ "room_version unknown is doubt", { R_VERSION }, 1, ROOM(.version = NULL), VERDICT_KEEP_UNKNOWN, NULL, 0,
	  "room version unknown" },
	/* federatable: true or false; unknown is doubt */
	{ "federatable false wanted, false", { R_NOT_FEDERATED }, 1, ROOM(.federatable = TRI_FALSE), VERDICT_RECORD,
	  "local-only", 0, "not federatable" },
	{ "federatable false wanted, true", { R_NOT_FEDERATED }, 1, ROOM(.federatable = TRI_TRUE), VERDICT_KEEP, NULL,
	  0, NULL },
	{ "federatable true wanted, true", { R_FEDERATED }, 1, ROOM(.federatable = TRI_TRUE), VERDICT_RECORD,
	  "federated", 0, NULL },
	{ "federatable true wanted, false", { R_FEDERATED }, 1, ROOM(.federatable = TRI_FALSE), VERDICT_KEEP, NULL, 0,
	  NULL },
	{ "federatable unknown is doubt", { R_NOT_FEDERATED }, 1, ROOM(.federatable = TRI_UNKNOWN),
	  VERDICT_KEEP_UNKNOWN, NULL, 0, "federatable unknown" },
	/* together with the other conditions of a delete rule */
	{ "abandoned-small: all hold", { R_ABANDONED_SMALL }, 1,
	  ROOM(OLD_EMPTY, .name = "x", .alias = "#x:test.local", .state_events = 50, .join_rule = "invite"),
	  VERDICT_DELETE, "abandoned-small", 0, "50 state events" },
	{ "abandoned-small: too big, no lookup", { R_ABANDONED_SMALL }, 1,
	  ROOM(.state_events = 51, .join_rule = "invite"), VERDICT_KEEP, NULL, 0, NULL },
	{ "abandoned-small: a known no beats a null join rule", { R_ABANDONED_SMALL }, 1,
	  ROOM(.local = 2, .state_events = 5, .join_rule = NULL), VERDICT_KEEP, NULL, 0, "no rule" },
	{ "abandoned-small: null join rule is doubt, no lookup", { R_ABANDONED_SMALL }, 1,
	  ROOM(.state_events = 5, .join_rule = NULL), VERDICT_KEEP_UNKNOWN, NULL, 0, "join_rule unknown" },
	{ "abandoned-small: needs the activity", { R_ABANDONED_SMALL }, 1,
	  ROOM(.state_events = 5, .join_rule = "invite"), VERDICT_NEED_FACTS, "abandoned-small", NEED_LAST_ACTIVITY, NULL },
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
	p->protect.aliases = (struct string_list){ aliases, c->no_name_protections ? 0 : 2 };
	p->protect.names = (struct string_list){ names, c->no_name_protections ? 0 : 1 };
	p->protect.creators = (struct string_list){ creators, 1 };
	p->protect.is_public = !c->public_unprotected;
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
	f->room_type_known = !r->type_unknown;
	f->join_rule = (char *)r->join_rule;
	f->room_version = (char *)r->version;
	f->state_events = r->state_events;
	f->is_federatable = r->federatable;
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

/* --- the explanation beside the run ---------------------------
 * decide_room with and without a trace, and --explain's conclusion and
 * text, over the whole table: they must never disagree. */

static enum outcome outcome_of_verdict(const struct verdict *v)
{
	switch (v->kind) {
	case VERDICT_KEEP:
		return OUTCOME_KEPT;
	case VERDICT_PROTECTED:
		return OUTCOME_PROTECTED;
	case VERDICT_RECORD:
		return OUTCOME_RECORDED;
	case VERDICT_DELETE:
		return OUTCOME_WOULD_DELETE; /* dry-run, no grace, no guard, nothing in the state */
	case VERDICT_KEEP_UNKNOWN:
	case VERDICT_NEED_FACTS:
		break;
	}
	return OUTCOME_KEPT_UNKNOWN;
}

/* The rule's result follows from its conditions' results. */
static void check_rule_result(const char *what, const struct trace_rule *tr)
{
	bool fails = false, unknown = false, needed = false, all_hold = tr->n_items > 0;

	for (size_t j = 0; j < tr->n_items; j++) {
		fails |= tr->items[j].result == TRACE_FAILS;
		unknown |= tr->items[j].result == TRACE_UNKNOWN;
		needed |= tr->items[j].result == TRACE_NEEDED;
		all_hold &= tr->items[j].result == TRACE_HOLDS;
		ck_assert_msg(tr->items[j].key[0] && tr->items[j].want[0] && tr->items[j].value[0],
			      "%s: rule %s: an empty condition", what, tr->rule->name);
	}
	if (fails)
		ck_assert_msg(tr->result == TRACE_FAILS, "%s: rule %s: a condition fails", what, tr->rule->name);
	else if (unknown)
		ck_assert_msg(tr->result == TRACE_UNKNOWN, "%s: rule %s: doubt", what, tr->rule->name);
	else if (needed)
		ck_assert_msg(tr->result == TRACE_NEEDED, "%s: rule %s: needs", what, tr->rule->name);
	else
		ck_assert_msg(all_hold && tr->result == TRACE_HOLDS, "%s: rule %s: holds", what, tr->rule->name);
}

static void check_trace(const struct decide_case *c, const struct decide_trace *t, const struct verdict *v)
{
	const struct trace_rule *decider = NULL;
	bool protection = false, prior_protection = false, doubt = false;
	size_t reached = 0;

	if (c->room.row_problem) {
		ck_assert(t->row_unusable);
		ck_assert_uint_eq(t->n_protections, 0);
		return;
	}
	ck_assert_uint_eq(t->n_protections, 7);
	for (size_t i = 0; i < t->n_protections; i++)
		protection |= t->protections[i].result == TRACE_HOLDS;
	for (size_t i = 0; i < t->n_prior; i++)
		prior_protection |= t->prior[i].result == TRACE_HOLDS;
	ck_assert_msg((v->kind == VERDICT_PROTECTED) == (protection || prior_protection), "%s: protected", c->what);
	ck_assert_uint_eq(t->n_rules, c->n_rules);
	for (size_t i = 0; i < t->n_rules; i++) {
		const struct trace_rule *tr = &t->rules[i];

		ck_assert_ptr_eq(tr->rule, &c->rules[i]);
		check_rule_result(c->what, tr);
		if (!tr->reached)
			continue;
		ck_assert_msg(reached == i, "%s: rule %zu reached after one that was not", c->what, i + 1);
		reached++;
		ck_assert_msg(!decider, "%s: rule %zu reached after rule %s decided", c->what, i + 1,
			      decider ? decider->rule->name : "");
		if (tr->result == TRACE_HOLDS || tr->result == TRACE_NEEDED)
			decider = tr;
		doubt |= tr->result == TRACE_UNKNOWN;
	}
	if (protection) {
		/* a protected room: a run evaluates no rule */
		ck_assert_uint_eq(reached, 0);
		return;
	}
	switch (v->kind) {
	case VERDICT_RECORD:
	case VERDICT_DELETE:
		ck_assert_msg(decider && decider->rule == v->rule && decider->result == TRACE_HOLDS, "%s: decider",
			      c->what);
		break;
	case VERDICT_NEED_FACTS:
		ck_assert_msg(decider && decider->rule == v->rule, "%s: the rule that needs", c->what);
		ck_assert_msg(decider->result == TRACE_NEEDED || v->need == NEED_PRIOR_STATE, "%s", c->what);
		break;
	case VERDICT_KEEP:
		ck_assert_msg(!decider && !doubt && reached == c->n_rules, "%s: a plain keep", c->what);
		break;
	case VERDICT_KEEP_UNKNOWN:
		/* doubt on a rule, or a matching delete rule whose state
		 * before the last leave could not be read */
		ck_assert_msg((!decider && doubt) || (decider && t->prior_checked), "%s: doubt", c->what);
		break;
	case VERDICT_PROTECTED:
		ck_assert_msg(decider && t->prior_checked, "%s: protected by the state before the leave", c->what);
		break;
	}
}

START_TEST(test_explain_agrees_with_the_run)
{
	const struct decide_case *c = &cases[_i];
	char *protected_ids[] = { "!a:test.local", "!resolved:test.local" };
	struct decide_context ctx = { .now_ms = NOW, .protected_ids = protected_ids, .n_protected_ids = 2 };
	struct decide_trace trace = { 0 };
	struct explanation x = { 0 };
	struct verdict run, explained;
	struct buf text = { 0 }, want = { 0 };
	struct state *st = NULL;
	struct policy p;
	struct room_facts f;
	char why[300];

	make_policy(&p, c);
	p.path = (char *)"/etc/synapse-janitor/policy.yaml";
	p.dry_run = true;
	p.delete.max_fraction = 0.1;
	p.delete.max_per_run = 100;
	ctx.policy = &p;
	make_facts(&f, &c->room);
	decide_room(&ctx, &f, &run);
	ctx.trace = &trace;
	decide_room(&ctx, &f, &explained);
	/* the trace changes nothing */
	ck_assert_msg(run.kind == explained.kind && run.rule == explained.rule && run.need == explained.need,
		      "%s: %d/%d", c->what, run.kind, explained.kind);
	ck_assert_str_eq(run.reason, explained.reason);
	check_trace(c, &trace, &explained);

	/* --explain's conclusion and text, from the same verdict */
	ck_assert_int_eq(state_open_readonly("/nonexistent/check_decide/state.json", &st, why, sizeof(why)), 0);
	x.policy = &p;
	x.room_id = f.room_id;
	x.now_ms = NOW;
	x.dry_run = true;
	x.found = true;
	x.facts = &f;
	x.members_total = x.members_local = -1;
	x.state = st;
	x.trace = &trace;
	x.verdict = &explained;
	explain_conclude(&x);
	ck_assert_msg(x.outcome == outcome_of_verdict(&run), "%s: explained as %s, the run: %s", c->what,
		      report_outcome_name(x.outcome), report_outcome_name(outcome_of_verdict(&run)));
	explain_render(&x, &text);
	buf_printf(&want, "Verdict of the next run: %s", report_outcome_name(x.outcome));
	if (run.rule && x.outcome != OUTCOME_KEPT && x.outcome != OUTCOME_PROTECTED)
		buf_printf(&want, " (rule %s)", run.rule->name);
	buf_printf(&want, "\n  %s", run.reason); /* no control characters in the table */
	ck_assert_msg(strstr(text.data, want.data), "%s: the explanation lacks \"%s\":\n%s", c->what, want.data,
		      text.data);
	for (size_t i = 0; i < c->n_rules && !c->room.row_problem; i++) {
		char head[120];

		snprintf(head, sizeof(head), "  %zu. %s (%s): ", i + 1, c->rules[i].name,
			 c->rules[i].action == RULE_ACTION_DELETE ? "delete" : "record");
		ck_assert_msg(strstr(text.data, head), "%s: no line for rule %s", c->what, c->rules[i].name);
	}
	buf_free(&text);
	buf_free(&want);
	state_close(st);
	decide_trace_free(&trace);
	/* freed and reset: a second decision starts from nothing */
	ck_assert_ptr_null(trace.rules);
	ck_assert_uint_eq(trace.n_protections, 0);
}
END_TEST

/* A run stops at the first condition that fails; the explanation still
 * shows the others, without asking a run for any lookup. */
START_TEST(test_trace_shows_skipped_conditions)
{
	struct decide_case c = { .rules = { R_STALE_SMALL }, .n_rules = 1 };
	struct decide_context ctx = { .now_ms = NOW };
	struct decide_trace trace = { 0 };
	struct policy p;
	struct room_facts f;
	struct verdict v;

	make_policy(&p, &c);
	ctx.policy = &p;
	ctx.trace = &trace;
	make_facts(&f, &(struct room_spec)ROOM(.members = 3));
	decide_room(&ctx, &f, &v);
	ck_assert_int_eq(v.kind, VERDICT_KEEP);
	ck_assert_uint_eq(v.need, 0);
	ck_assert_uint_eq(trace.rules[0].n_items, 3);
	ck_assert_str_eq(trace.rules[0].items[0].key, "joined_members");
	ck_assert_int_eq(trace.rules[0].items[0].result, TRACE_FAILS);
	ck_assert_str_eq(trace.rules[0].items[0].want, "max 2");
	ck_assert_str_eq(trace.rules[0].items[0].value, "3");
	ck_assert_str_eq(trace.rules[0].items[1].key, "inactive_for");
	ck_assert_int_eq(trace.rules[0].items[1].result, TRACE_NEEDED);
	ck_assert_str_eq(trace.rules[0].items[2].key, "older_than");
	ck_assert_str_eq(trace.rules[0].items[2].want, "at least 104w ago");
	ck_assert_int_eq(trace.rules[0].result, TRACE_FAILS);
	ck_assert(trace.rules[0].reached);

	/* every protection is shown; the first that holds gives the reason */
	make_facts(&f, &(struct room_spec)ROOM(.id = "!keep:test.local", .name = "Incident 7"));
	decide_room(&ctx, &f, &v);
	ck_assert_int_eq(v.kind, VERDICT_PROTECTED);
	ck_assert_str_eq(v.reason, "room id is listed in protect.rooms");
	ck_assert_uint_eq(trace.n_protections, 7);
	ck_assert_str_eq(trace.protections[0].key, "protect.rooms");
	ck_assert_int_eq(trace.protections[0].result, TRACE_HOLDS);
	ck_assert_str_eq(trace.protections[3].key, "protect.names");
	ck_assert_int_eq(trace.protections[3].result, TRACE_HOLDS);
	ck_assert_str_eq(trace.protections[3].value, "name Incident 7");
	ck_assert_int_eq(trace.protections[4].result, TRACE_FAILS);
	/* the rules a run does not reach are shown too */
	ck_assert(!trace.rules[0].reached);
	ck_assert_uint_eq(trace.rules[0].n_items, 3);

	/* the state before the last leave: both protections looked at */
	c.rules[0] = R_ABANDONED;
	make_policy(&p, &c);
	make_facts(&f, &(struct room_spec)ROOM(OLD_EMPTY, .prior_name = "Incident 2019",
					       .prior_alias = "#support-fr:test.local"));
	decide_room(&ctx, &f, &v);
	ck_assert_int_eq(v.kind, VERDICT_PROTECTED);
	ck_assert_ptr_nonnull(strstr(v.reason, "name before the last local member left"));
	ck_assert(trace.prior_checked);
	ck_assert_uint_eq(trace.n_prior, 2);
	ck_assert_int_eq(trace.prior[0].result, TRACE_HOLDS);
	ck_assert_int_eq(trace.prior[1].result, TRACE_HOLDS);
	ck_assert_str_eq(trace.prior[1].value, "aliases #support-fr:test.local");
	ck_assert_int_eq(trace.rules[0].result, TRACE_HOLDS);
	decide_trace_free(&trace);
}
END_TEST

/* A delete verdict in --explain: act-plan.c's checks for the one room,
 * dry-run, the refusals of a whole run. */
START_TEST(test_explain_delete_plan)
{
	struct decide_case c = { .rules = { R_ABANDONED }, .n_rules = 1 };
	struct decide_context ctx = { .now_ms = NOW };
	struct explanation x = { 0 };
	struct state *st = NULL;
	struct policy p;
	struct room_facts f;
	struct verdict v;
	char why[300];

	make_policy(&p, &c);
	p.protect.names.n = p.protect.aliases.n = 0; /* no state before the leave needed */
	ctx.policy = &p;
	make_facts(&f, &(struct room_spec)ROOM(OLD_EMPTY, .state_events = 120));
	decide_room(&ctx, &f, &v);
	ck_assert_int_eq(v.kind, VERDICT_DELETE);
	ck_assert_int_eq(state_open_readonly("/nonexistent/check_decide/state.json", &st, why, sizeof(why)), 0);
	x = (struct explanation){ .policy = &p, .room_id = f.room_id, .now_ms = NOW, .found = true, .facts = &f,
				  .state = st, .verdict = &v, .dry_run = true };

	explain_conclude(&x);
	ck_assert_int_eq(x.outcome, OUTCOME_WOULD_DELETE);
	ck_assert(x.needs_verify && !x.held);
	ck_assert_str_eq(x.size_text, "none (delete.max_state_events is not set)");

	/* the size guard: more than the limit is deferred; the limit itself passes */
	p.delete.has_max_state_events = true;
	p.delete.max_state_events = 119;
	explain_conclude(&x);
	ck_assert_int_eq(x.outcome, OUTCOME_DEFERRED);
	ck_assert(x.held && !x.needs_verify);
	ck_assert_str_eq(x.outcome_reason, "120 state events, larger than delete.max_state_events (119): "
			 "delete it by hand or with --apply");
	p.delete.max_state_events = 120;
	explain_conclude(&x);
	ck_assert_int_eq(x.outcome, OUTCOME_WOULD_DELETE);
	ck_assert_str_eq(x.size_text, "120 state events, at most 120 for a scheduled run: passes");

	/* the grace period, for a room no run has seen yet */
	p.delete.grace_period = 7 * 86400;
	explain_conclude(&x);
	ck_assert_int_eq(x.outcome, OUTCOME_DEFERRED);
	ck_assert_ptr_nonnull(strstr(x.outcome_reason, "grace period 1w"));
	ck_assert_ptr_nonnull(strstr(x.grace_text, "the next run records it"));
	p.delete.grace_period = 0;

	/* a deleting run: the re-verification decides */
	x.dry_run = false;
	explain_conclude(&x);
	ck_assert_int_eq(x.outcome, OUTCOME_DELETED);
	ck_assert_ptr_nonnull(strstr(x.outcome_reason, "if the re-verification"));
	x.verified = true;
	x.verify_result = VERIFY_CHANGED;
	snprintf(x.verify_why, sizeof(x.verify_why), "rule abandoned no longer matches");
	explain_conclude(&x);
	ck_assert_int_eq(x.outcome, OUTCOME_CHANGED);
	x.verify_result = VERIFY_DOUBT;
	explain_conclude(&x);
	ck_assert_int_eq(x.outcome, OUTCOME_KEPT_UNKNOWN);
	x.verify_result = VERIFY_OK;
	explain_conclude(&x);
	ck_assert_int_eq(x.outcome, OUTCOME_DELETED);

	/* what forbids every delete of a run */
	x.forbid_deletes = "clock check failed";
	explain_conclude(&x);
	ck_assert_int_eq(x.outcome, OUTCOME_REFUSED);
	x.forbid_deletes = NULL;
	x.state = NULL;
	snprintf(x.state_problem, sizeof(x.state_problem), "state.json: cannot be read: Permission denied");
	explain_conclude(&x);
	ck_assert_int_eq(x.outcome, OUTCOME_REFUSED);
	ck_assert_ptr_nonnull(strstr(x.outcome_reason, "Permission denied"));

	/* the room unknown to the server */
	x.state = st;
	x.found = false;
	explain_conclude(&x);
	ck_assert_int_eq(x.outcome, OUTCOME_KEPT);
	state_close(st);
}
END_TEST

/* Names and aliases come from remote users: a control character must not
 * reach the terminal (an escape sequence could forge lines). */
START_TEST(test_explain_escapes_server_text)
{
	struct decide_case c = { .rules = { R_NAME }, .n_rules = 1 };
	struct decide_context ctx = { .now_ms = NOW };
	struct decide_trace trace = { 0 };
	struct explanation x = { 0 };
	struct buf text = { 0 };
	struct policy p;
	struct room_facts f;
	struct verdict v;

	make_policy(&p, &c);
	p.path = (char *)"p.yaml";
	ctx.policy = &p;
	ctx.trace = &trace;
	make_facts(&f, &(struct room_spec)ROOM(.name = "test \x1b[2J\r\nVerdict of the next run: kept \"x\"",
					       .creator = "@a\x07:test.local"));
	decide_room(&ctx, &f, &v);
	ck_assert_int_eq(v.kind, VERDICT_RECORD);
	x = (struct explanation){ .policy = &p, .room_id = f.room_id, .now_ms = NOW, .found = true, .facts = &f,
				  .trace = &trace, .verdict = &v, .dry_run = true, .members_total = -1 };
	explain_conclude(&x);
	explain_render(&x, &text);
	for (size_t i = 0; i < text.len; i++)
		ck_assert_msg((unsigned char)text.data[i] >= 0x20 || text.data[i] == '\n', "control byte %02x at %zu",
			      (unsigned char)text.data[i], i);
	ck_assert_msg(strstr(text.data, "    name                   test \\x1b[2J\\x0d\\x0aVerdict of the next run: "
			     "kept \"x\"\n"), "%s", text.data);
	ck_assert_msg(strstr(text.data, "@a\\x07:test.local"), "%s", text.data);
	/* one verdict line only: the forged one stays inside the name's line */
	ck_assert_ptr_null(strstr(strstr(text.data, "Verdict of the next run: recorded") + 1,
				  "\nVerdict of the next run"));
	buf_free(&text);
	decide_trace_free(&trace);
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

	/* the explanation says the same at the boundary */
	{
		struct decide_trace t = { 0 };

		ctx.trace = &t;
		f.created.ms = NOW + CLOCK_SKEW_MS;
		decide_room(&ctx, &f, &v);
		ck_assert_int_eq(t.rules[0].items[0].result, TRACE_HOLDS);
		ck_assert_msg(strstr(t.rules[0].items[0].value, "0 days ago ("), "%s", t.rules[0].items[0].value);
		f.created.ms = NOW + CLOCK_SKEW_MS + 1;
		decide_room(&ctx, &f, &v);
		ck_assert_int_eq(t.rules[0].items[0].result, TRACE_UNKNOWN);
		ck_assert_msg(strstr(t.rules[0].items[0].value, "in the future (300 s ahead)"), "%s",
			      t.rules[0].items[0].value);
		decide_trace_free(&t);
	}
}
END_TEST

/* The texts a run and an explanation show, exactly. */
START_TEST(test_reason_and_trace_texts)
{
	struct decide_case c = { .rules = { R_ABANDONED }, .n_rules = 1 };
	struct decide_context ctx = { .now_ms = NOW };
	struct decide_trace t = { 0 };
	struct policy p;
	struct room_facts f;
	struct verdict v;

	make_policy(&p, &c);
	ctx.policy = &p;
	ctx.trace = &t;
	make_facts(&f, &(struct room_spec)ROOM(OLD_EMPTY, .name = "n", .alias = "#n:test.local"));
	decide_room(&ctx, &f, &v);
	ck_assert_str_eq(v.reason, "rule abandoned: 0 local members, inactive for 400 days (>= 90d)");
	ck_assert_str_eq(t.rules[0].items[0].want, "max 0");
	ck_assert_str_eq(t.rules[0].items[0].value, "0");
	ck_assert_str_eq(t.rules[0].items[1].want, "at least 90d ago");
	ck_assert_msg(strncmp(t.rules[0].items[1].value, "400 days ago (", 14) == 0, "%s", t.rules[0].items[1].value);
	f.joined_local_members = -1;
	decide_room(&ctx, &f, &v);
	ck_assert_str_eq(t.rules[0].items[0].value, "unknown");
	ck_assert_int_eq(t.rules[0].items[0].result, TRACE_UNKNOWN);

	c.rules[0] = R_OLD;
	make_policy(&p, &c);
	make_facts(&f, &(struct room_spec)ROOM(.created_state = FACT_KNOWN, .created_days_ago = 31));
	decide_room(&ctx, &f, &v);
	ck_assert_str_eq(v.reason, "rule old: created 31 days ago (>= 30d)");

	/* yes/no conditions: what is wanted, what the room is */
	c.rules[0] = R_PUBLIC;
	c.public_unprotected = true;
	make_policy(&p, &c);
	make_facts(&f, &(struct room_spec)ROOM(.is_public = TRI_TRUE));
	decide_room(&ctx, &f, &v);
	ck_assert_str_eq(t.rules[0].items[1].key, "public");
	ck_assert_str_eq(t.rules[0].items[1].want, "true");
	ck_assert_str_eq(t.rules[0].items[1].value, "true");
	c.rules[0] = R_NOT_FEDERATED;
	make_policy(&p, &c);
	make_facts(&f, &(struct room_spec)ROOM(.federatable = TRI_TRUE));
	decide_room(&ctx, &f, &v);
	ck_assert_str_eq(t.rules[0].items[0].want, "false");
	ck_assert_str_eq(t.rules[0].items[0].value, "true");
	make_facts(&f, &(struct room_spec)ROOM(.federatable = TRI_UNKNOWN));
	decide_room(&ctx, &f, &v);
	ck_assert_str_eq(t.rules[0].items[0].value, "unknown");
	ck_assert_str_eq(t.protections[5].key, "protect.public");
	ck_assert_str_eq(t.protections[5].want, "off");

	/* an empty protection list, and one that is not */
	p.protect.creators.n = 0;
	decide_room(&ctx, &f, &v);
	ck_assert_str_eq(t.protections[4].key, "protect.creators");
	ck_assert_str_eq(t.protections[4].want, "(none)");
	ck_assert_str_eq(t.protections[3].want, "Incident *");
	ck_assert_str_eq(t.protections[2].want, "#announce:test.local, #support-*:test.local");
	decide_trace_free(&t);
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
	f.last_activity.ms = NOW + CLOCK_SKEW_MS;   /* within the skew: now */
	ck_assert_int_eq(decide_inactive_days(&f, NOW), 0);
	f.last_activity.ms = NOW + CLOCK_SKEW_MS + 1;
	ck_assert_int_eq(decide_inactive_days(&f, NOW), -1);
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
	tcase_add_loop_test(tc, test_explain_agrees_with_the_run, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_trace_shows_skipped_conditions);
	tcase_add_test(tc, test_explain_delete_plan);
	tcase_add_test(tc, test_skew_boundary);
	tcase_add_test(tc, test_reason_and_trace_texts);
	tcase_add_test(tc, test_explain_escapes_server_text);
	tcase_add_test(tc, test_inactive_days);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_suite_main(decide_suite());
}
