/* SPDX-License-Identifier: GPL-3.0-or-later */
/* policy.c: defaults, every key, relative paths, and the refusals, each with
 * its exact file:line:column and key path. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "suite.h"
#include "testlib.h"
#include "xmalloc.h"
#include "buf.h"
#include "file.h"

/* Lines 1-3 of most cases. */
#define HS "homeserver:\n  url: http://h\n  token_file: /t\n"
/* A rule head: with HS, its match: is line 7 and the first condition line 8. */
#define R "rules:\n  - name: r\n    action: record\n    match:\n"

static struct policy *load_ok(const char *text)
{
	struct policy_errors errs = { 0 };
	struct policy *p = NULL;
	int r = policy_load_buffer("/etc/sj/p.yaml", text, strlen(text), &p, &errs);

	ck_assert_msg(r == 0, "refused (%d): %s", r, errs.n ? errs.lines[0] : "(no message)");
	ck_assert_uint_eq(errs.n, 0);
	ck_assert_ptr_nonnull(p);
	policy_errors_free(&errs);
	return p;
}

/* ---- valid policies ---------------------------------------------------- */

START_TEST(test_defaults)
{
	struct policy *p = load_ok("homeserver:\n  url: http://127.0.0.1:8008/\n  token_file: /etc/tok\n");

	ck_assert_str_eq(p->path, "/etc/sj/p.yaml");
	ck_assert_str_eq(p->homeserver.url, "http://127.0.0.1:8008");
	ck_assert_str_eq(p->homeserver.token_file, "/etc/tok");
	ck_assert_ptr_null(p->homeserver.token_credential);
	ck_assert_uint_eq(p->homeserver.timeout, 30);
	ck_assert_uint_eq(p->homeserver.concurrency, 4);
	ck_assert_uint_eq(p->homeserver.rate_limit, 0);
	ck_assert_uint_eq(p->homeserver.page_size, 500);
	ck_assert(p->homeserver.tls_verify);
	ck_assert_ptr_null(p->homeserver.ca_file);
	ck_assert(!p->schedule.present);
	ck_assert_uint_eq(p->schedule.n_at, 0);
	ck_assert_uint_eq(p->schedule.every, 0);
	ck_assert(p->dry_run);
	ck_assert_uint_eq(p->protect.rooms.n + p->protect.aliases.n + p->protect.names.n +
			  p->protect.creators.n, 0);
	ck_assert(p->protect.is_public);
	ck_assert(p->protect.spaces);
	ck_assert_uint_eq(p->n_rules, 0);
	ck_assert_int_eq(p->activity, ACTIVITY_EVENTS);
	ck_assert(p->delete.purge);
	ck_assert(!p->delete.block);
	ck_assert(!p->delete.force_purge);
	ck_assert_uint_eq(p->delete.max_per_run, 100);
	ck_assert(p->delete.max_fraction > 0.0999 && p->delete.max_fraction < 0.1001);
	ck_assert_uint_eq(p->delete.grace_period, 0);
	ck_assert_uint_eq(p->delete.concurrency, 1);
	ck_assert_uint_eq(p->delete.timeout, 3600);
	ck_assert_str_eq(p->records.csv, STATEDIR "/candidates.csv");
	ck_assert_str_eq(p->records.jsonl, STATEDIR "/decisions.jsonl");
	ck_assert(!p->records.all_rooms);
	ck_assert_str_eq(p->state_file, STATEDIR "/state.json");
	ck_assert_ptr_null(p->metrics_file);
	policy_free(p);
}
END_TEST

static const char every_key[] =
	"homeserver:\n"
	"  url: https://matrix.example.org:8448///\n"
	"  token_credential: admin-token\n"
	"  token_file: /etc/synapse-janitor/admin-token\n"
	"  timeout: 2m\n"
	"  concurrency: 32\n"
	"  rate_limit: 50\n"
	"  page_size: 1000\n"
	"  tls_verify: false\n"
	"  ca_file: /etc/ssl/ca.pem\n"
	"schedule:\n"
	"  at: [\"23:59\", \"03:30\", \"00:00\", \"03:30\"]\n"
	"  randomized_delay: 15m\n"
	"  run_at_start: true\n"
	"dry_run: false\n"
	"protect:\n"
	"  rooms: [\"!AbCd:example.org\"]\n"
	"  aliases: [\"#announcements:example.org\", \"#support-*:example.org\"]\n"
	"  names: [\"Incident *\"]\n"
	"  creators: [\"@notices:example.org\", \"@*bridge*:example.org\"]\n"
	"  public: false\n"
	"  spaces: false\n"
	"rules:\n"
	"  - name: abandoned-by-locals\n"      /* line 24 */
	"    action: delete\n"
	"    match:\n"
	"      joined_local_members: {max: 0}\n"
	"      inactive_for: 90d\n"
	"  - name: stale_small.v2\n"           /* line 29 */
	"    action: record\n"
	"    match:\n"
	"      joined_members: {min: 1, max: 2}\n"
	"      older_than: 104w\n"
	"      public: false\n"
	"      encrypted: true\n"
	"      name: \"Test *\"\n"
	"      alias: \"#test-*\"\n"
	"      creator: \"@bot:*\"\n"
	"activity: messages\n"
	"delete:\n"
	"  purge: true\n"
	"  block: true\n"
	"  force_purge: true\n"
	"  max_per_run: 0\n"
	"  max_fraction: 1\n"
	"  grace_period: 7d\n"
	"  concurrency: 5\n"
	"  timeout: 36h\n"
	"records:\n"
	"  csv: /srv/c-%Y.csv\n"
	"  jsonl: \"\"\n"
	"  all_rooms: true\n"
	"state_file: /srv/state.json\n"
	"metrics_file: /srv/m.prom\n";

START_TEST(test_every_key)
{
	struct policy *p = load_ok(every_key);
	const struct rule *r;

	ck_assert_str_eq(p->homeserver.url, "https://matrix.example.org:8448");
	ck_assert_str_eq(p->homeserver.token_credential, "admin-token");
	ck_assert_str_eq(p->homeserver.token_file, "/etc/synapse-janitor/admin-token");
	ck_assert_uint_eq(p->homeserver.timeout, 120);
	ck_assert_uint_eq(p->homeserver.concurrency, 32);
	ck_assert_uint_eq(p->homeserver.rate_limit, 50);
	ck_assert_uint_eq(p->homeserver.page_size, 1000);
	ck_assert(!p->homeserver.tls_verify);
	ck_assert_str_eq(p->homeserver.ca_file, "/etc/ssl/ca.pem");
	ck_assert(p->schedule.present);
	ck_assert_uint_eq(p->schedule.n_at, 3);   /* sorted, the duplicate dropped */
	ck_assert_uint_eq(p->schedule.at[0], 0);
	ck_assert_uint_eq(p->schedule.at[1], 3 * 60 + 30);
	ck_assert_uint_eq(p->schedule.at[2], 23 * 60 + 59);
	ck_assert_uint_eq(p->schedule.every, 0);
	ck_assert_uint_eq(p->schedule.randomized_delay, 900);
	ck_assert(p->schedule.run_at_start);
	ck_assert(!p->dry_run);
	ck_assert_uint_eq(p->protect.rooms.n, 1);
	ck_assert_str_eq(p->protect.rooms.items[0], "!AbCd:example.org");
	ck_assert_uint_eq(p->protect.aliases.n, 2);
	ck_assert_str_eq(p->protect.aliases.items[1], "#support-*:example.org");
	ck_assert_uint_eq(p->protect.names.n, 1);
	ck_assert_str_eq(p->protect.names.items[0], "Incident *");
	ck_assert_uint_eq(p->protect.creators.n, 2);
	ck_assert_str_eq(p->protect.creators.items[1], "@*bridge*:example.org");
	ck_assert(!p->protect.is_public);
	ck_assert(!p->protect.spaces);

	ck_assert_uint_eq(p->n_rules, 2);
	r = &p->rules[0];
	ck_assert_str_eq(r->name, "abandoned-by-locals");
	ck_assert_int_eq(r->action, RULE_ACTION_DELETE);
	ck_assert_uint_eq(r->line, 24);
	ck_assert(r->joined_local_members.set);
	ck_assert_int_eq(r->joined_local_members.min, 0);
	ck_assert_int_eq(r->joined_local_members.max, 0);
	ck_assert(!r->joined_members.set);
	ck_assert(r->has_inactive_for);
	ck_assert_uint_eq(r->inactive_for, 90 * 86400);
	ck_assert(!r->has_older_than);
	ck_assert_int_eq(r->is_public, TRI_UNKNOWN);
	ck_assert_int_eq(r->is_encrypted, TRI_UNKNOWN);
	ck_assert_ptr_null(r->name_glob);
	r = &p->rules[1];
	ck_assert_str_eq(r->name, "stale_small.v2");
	ck_assert_int_eq(r->action, RULE_ACTION_RECORD);
	ck_assert_uint_eq(r->line, 29);
	ck_assert(r->joined_members.set);
	ck_assert_int_eq(r->joined_members.min, 1);
	ck_assert_int_eq(r->joined_members.max, 2);
	ck_assert(!r->joined_local_members.set);
	ck_assert_int_eq(r->joined_local_members.max, INT64_MAX);
	ck_assert(!r->has_inactive_for);
	ck_assert(r->has_older_than);
	ck_assert_uint_eq(r->older_than, 104ULL * 7 * 86400);
	ck_assert_int_eq(r->is_public, TRI_FALSE);
	ck_assert_int_eq(r->is_encrypted, TRI_TRUE);
	ck_assert_str_eq(r->name_glob, "Test *");
	ck_assert_str_eq(r->alias_glob, "#test-*");
	ck_assert_str_eq(r->creator_glob, "@bot:*");
	ck_assert_ptr_eq(policy_find_rule(p, "stale_small.v2"), r);
	ck_assert_ptr_eq(policy_find_rule(p, "abandoned-by-locals"), &p->rules[0]);
	ck_assert_ptr_null(policy_find_rule(p, "stale-small"));
	ck_assert_ptr_null(policy_find_rule(p, NULL));

	ck_assert_int_eq(p->activity, ACTIVITY_MESSAGES);
	ck_assert(p->delete.purge);
	ck_assert(p->delete.block);
	ck_assert(p->delete.force_purge);
	ck_assert_uint_eq(p->delete.max_per_run, 0);
	ck_assert(p->delete.max_fraction == 1.0);
	ck_assert_uint_eq(p->delete.grace_period, 7 * 86400);
	ck_assert_uint_eq(p->delete.concurrency, 5);
	ck_assert_uint_eq(p->delete.timeout, 36 * 3600);
	ck_assert_str_eq(p->records.csv, "/srv/c-%Y.csv");
	ck_assert_str_eq(p->records.jsonl, "");   /* "" = do not write */
	ck_assert(p->records.all_rooms);
	ck_assert_str_eq(p->state_file, "/srv/state.json");
	ck_assert_str_eq(p->metrics_file, "/srv/m.prom");
	policy_free(p);
}
END_TEST

START_TEST(test_schedule_every)
{
	struct policy *p = load_ok(HS "schedule:\n  every: 24h\n");

	ck_assert(p->schedule.present);
	ck_assert_uint_eq(p->schedule.every, 86400);
	ck_assert_uint_eq(p->schedule.n_at, 0);
	ck_assert_ptr_null(p->schedule.at);
	ck_assert_uint_eq(p->schedule.randomized_delay, 0);
	ck_assert(!p->schedule.run_at_start);
	policy_free(p);
}
END_TEST

/* Every duration at its documented maximum is accepted (one more is an
 * error: the invalid table). */
START_TEST(test_duration_maxima)
{
	struct policy *p = load_ok("homeserver:\n  url: http://h\n  token_file: /t\n  timeout: 1h\n"
				   "schedule:\n  every: 365d\n  randomized_delay: 7d\n"
				   "delete:\n  grace_period: 36500d\n  timeout: 7d\n"
				   "rules:\n  - name: r\n    action: delete\n    match:\n"
				   "      inactive_for: 36500d\n      older_than: 36500d\n");

	ck_assert_uint_eq(p->homeserver.timeout, 3600);
	ck_assert_uint_eq(p->schedule.every, 365 * 86400);
	ck_assert_uint_eq(p->schedule.randomized_delay, 7 * 86400);
	ck_assert_uint_eq(p->delete.grace_period, 36500ull * 86400);
	ck_assert_uint_eq(p->delete.timeout, 7 * 86400);
	ck_assert_uint_eq(p->rules[0].inactive_for, 36500ull * 86400);
	ck_assert_uint_eq(p->rules[0].older_than, 36500ull * 86400);
	policy_free(p);
}
END_TEST

/* Room version 12 ids have no ":server" part (API.md): protect.rooms
 * takes them, the surest protection. */
START_TEST(test_v12_room_id)
{
	static const char v12[] = "!aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789-_aBcDe";
	char *text = xasprintf(HS "protect:\n  rooms: [\"%s\", \"!old:example.org\"]\n", v12);
	struct policy *p = load_ok(text);

	ck_assert_uint_eq(strlen(v12), 44);
	ck_assert_uint_eq(p->protect.rooms.n, 2);
	ck_assert_str_eq(p->protect.rooms.items[0], v12);
	policy_free(p);
	free(text);
}
END_TEST

START_TEST(test_fractions)
{
	static const struct {
		const char *text;
		double want;
	} cases[] = { { "0", 0 }, { "0.5", 0.5 }, { "0.10", 0.10 }, { "1.0", 1 }, { "0.", 0 } };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = xasprintf(HS "delete:\n  max_fraction: %s\n", cases[i].text);
		struct policy *p = load_ok(text);

		ck_assert_msg(p->delete.max_fraction > cases[i].want - 1e-9 &&
			      p->delete.max_fraction < cases[i].want + 1e-9, "%s", cases[i].text);
		policy_free(p);
		free(text);
	}
}
END_TEST

START_TEST(test_booleans_and_quoting)
{
	/* A quoted duration or name is still a duration or name; an empty
	 * flow list is a list; ranges may give only min. */
	struct policy *p = load_ok(HS "dry_run: false\nprotect:\n  names: []\n  rooms: ['!a:b']\n"
				   R "      joined_members: {min: 3}\n      inactive_for: \"2w\"\n"
				   "      encrypted: false\n");

	ck_assert(!p->dry_run);
	ck_assert_uint_eq(p->protect.names.n, 0);
	ck_assert_str_eq(p->protect.rooms.items[0], "!a:b");
	ck_assert_int_eq(p->rules[0].joined_members.min, 3);
	ck_assert_int_eq(p->rules[0].joined_members.max, INT64_MAX);
	ck_assert_uint_eq(p->rules[0].inactive_for, 14 * 86400);
	ck_assert_int_eq(p->rules[0].is_encrypted, TRI_FALSE);
	policy_free(p);
}
END_TEST

START_TEST(test_token_credential_alone)
{
	struct policy *p = load_ok("homeserver:\n  url: http://h\n  token_credential: tok\n");

	ck_assert_str_eq(p->homeserver.token_credential, "tok");
	ck_assert_ptr_null(p->homeserver.token_file);
	policy_free(p);
}
END_TEST

START_TEST(test_relative_paths)
{
	static const char text[] =
		"homeserver:\n  url: http://h\n  token_file: admin-token\n  ca_file: certs/ca.pem\n"
		"records:\n  csv: out/c.csv\n  jsonl: \"\"\n"
		"state_file: state.json\nmetrics_file: ../m.prom\n";
	char dir[] = "/tmp/check_policy.XXXXXX", cwd[4096];
	struct policy_errors errs = { 0 };
	struct policy *p = NULL;
	char *path, *want;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = xasprintf("%s/p.yaml", dir);
	ck_assert_int_eq(file_write_atomic(path, text, strlen(text), 0600), 0);
	ck_assert_int_eq(policy_load(path, &p, &errs), 0);
	ck_assert_str_eq(p->path, path);
	want = xasprintf("%s/admin-token", dir);
	ck_assert_str_eq(p->homeserver.token_file, want);
	free(want);
	want = xasprintf("%s/certs/ca.pem", dir);
	ck_assert_str_eq(p->homeserver.ca_file, want);
	free(want);
	want = xasprintf("%s/out/c.csv", dir);
	ck_assert_str_eq(p->records.csv, want);
	free(want);
	ck_assert_str_eq(p->records.jsonl, "");
	want = xasprintf("%s/state.json", dir);
	ck_assert_str_eq(p->state_file, want);
	free(want);
	want = xasprintf("%s/../m.prom", dir);
	ck_assert_str_eq(p->metrics_file, want);
	free(want);
	policy_free(p);

	/* A relative policy path: the paths become absolute all the same, so
	 * that a later chdir() of the daemon changes nothing. */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_int_eq(policy_load("p.yaml", &p, &errs), 0);
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_str_eq(p->path, "p.yaml");
	want = xasprintf("%s/state.json", dir);
	ck_assert_str_eq(p->state_file, want);
	free(want);
	ck_assert_uint_eq(errs.n, 0);
	policy_free(p);
	unlink(path);
	rmdir(dir);
	free(path);
}
END_TEST

START_TEST(test_missing_file)
{
	struct policy_errors errs = { 0 };
	struct policy *p = (struct policy *)1;
	int r = policy_load("/nonexistent/dir/policy.yaml", &p, &errs);

	ck_assert_int_eq(r, -ENOENT);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_str_eq(errs.lines[0],
			 "/nonexistent/dir/policy.yaml: cannot read the policy file: No such file or directory");
	policy_errors_free(&errs);
	ck_assert_uint_eq(errs.n, 0);
	r = policy_load("/", &p, &errs);
	ck_assert_int_eq(r, -EISDIR);
	ck_assert_ptr_nonnull(strstr(errs.lines[0], "/: cannot read the policy file: Is a directory"));
	policy_errors_free(&errs);
}
END_TEST

START_TEST(test_alias_is_exact)
{
	ck_assert(policy_alias_is_exact("#room:example.org"));
	ck_assert(!policy_alias_is_exact("#support-*:example.org"));
	ck_assert(!policy_alias_is_exact("#room?:example.org"));
	ck_assert(!policy_alias_is_exact("#[ab]:example.org"));
	ck_assert(!policy_alias_is_exact(NULL));
}
END_TEST

/* The conditions on more facts of the list row, and the size guard. */
START_TEST(test_row_conditions)
{
	struct policy *p = load_ok(HS "rules:\n"
				   "  - name: a\n    action: record\n    match:\n"
				   "      join_rule: [invite, knock_restricted, invite]\n"
				   "      room_type: null\n"
				   "      state_events: {min: 10, max: 5000}\n"
				   "      room_version: \"1[0-2]\"\n"
				   "      federatable: false\n"
				   "  - name: b\n    action: record\n    match:\n"
				   "      join_rule: public\n"
				   "      room_type: \"m.*\"\n"
				   "      federatable: true\n"
				   "  - name: c\n    action: record\n    match:\n"
				   "      room_type: ~\n"
				   "  - name: d\n    action: record\n    match:\n"
				   "      state_events: {min: 1}\n"
				   "      federatable: any\n"
				   "delete:\n  max_state_events: 0\n");
	const struct rule *r = &p->rules[0];

	ck_assert_uint_eq(p->n_rules, 4);
	ck_assert_uint_eq(r->join_rules, JOIN_RULE_BIT(JOIN_RULE_INVITE) | JOIN_RULE_BIT(JOIN_RULE_KNOCK_RESTRICTED));
	ck_assert(r->has_room_type);
	ck_assert_ptr_null(r->room_type_glob);
	ck_assert(r->state_events.set);
	ck_assert_int_eq(r->state_events.min, 10);
	ck_assert_int_eq(r->state_events.max, 5000);
	ck_assert_str_eq(r->version_glob, "1[0-2]");
	ck_assert_int_eq(r->is_federatable, TRI_FALSE);
	r = &p->rules[1];
	ck_assert_uint_eq(r->join_rules, JOIN_RULE_BIT(JOIN_RULE_PUBLIC));
	ck_assert(r->has_room_type);
	ck_assert_str_eq(r->room_type_glob, "m.*");
	ck_assert(!r->state_events.set);
	ck_assert_int_eq(r->state_events.max, INT64_MAX);
	ck_assert_ptr_null(r->version_glob);
	ck_assert_int_eq(r->is_federatable, TRI_TRUE);
	ck_assert(p->rules[2].has_room_type);
	ck_assert_ptr_null(p->rules[2].room_type_glob);
	ck_assert_uint_eq(p->rules[2].join_rules, 0);
	ck_assert_int_eq(p->rules[3].state_events.min, 1);
	ck_assert_int_eq(p->rules[3].state_events.max, INT64_MAX);
	ck_assert_int_eq(p->rules[3].is_federatable, TRI_UNKNOWN);
	ck_assert(!p->rules[3].has_room_type);
	/* 0 is a limit (only --apply deletes), not "no limit" */
	ck_assert(p->delete.has_max_state_events);
	ck_assert_uint_eq(p->delete.max_state_events, 0);
	policy_free(p);

	p = load_ok(HS);
	ck_assert(!p->delete.has_max_state_events); /* no default */
	policy_free(p);

	for (unsigned i = 0; i < JOIN_RULE__MAX; i++) {
		ck_assert_uint_eq(policy_join_rule_bit(policy_join_rule_name((enum join_rule)i)), JOIN_RULE_BIT(i));
	}
	ck_assert_uint_eq(policy_join_rule_bit("Public"), 0);
	ck_assert_uint_eq(policy_join_rule_bit(""), 0);
	ck_assert_uint_eq(policy_join_rule_bit(NULL), 0);
}
END_TEST

/* ---- invalid policies -------------------------------------------------- */

struct bad_case {
	const char *text;
	const char *want;      /* the start of one error line: "p.yaml:L:C: key.path: " */
	const char *fragment;  /* and something of what it says; it is the only error */
};

static const struct bad_case bad_cases[] = {
	/* document */
	{ "", "p.yaml:1:1: (top level): ", "the policy is empty" },
	{ "# only a comment\n", "p.yaml:1:1: (top level): ", "the policy is empty" },
	{ "---\n...\n", "p.yaml:1:1: (top level): ", "the policy is empty" },
	{ "- homeserver\n", "p.yaml:1:1: (top level): ", "got a list" },
	{ "hello\n", "p.yaml:1:1: (top level): ", "got a string" },
	{ HS "---\n" HS, "p.yaml:4:1: (top level): ", "a second YAML document" },
	/* syntax */
	{ HS "protect:\n  names: [\"a\"\n", "p.yaml:6:1: syntax error: ", "did not find expected" },
	{ "homeserver:\n  url: http://h\n token_file: /t\n", "p.yaml:3:2: syntax error: ",
	  "did not find expected key while parsing a block mapping" },
	{ "homeserver:\n\turl: http://h\n", "p.yaml:2:1: syntax error: ", "found character that cannot start any token" },
	{ HS "dry_run: \"true\n", "p.yaml:5:1: syntax error: ", "unexpected end of stream" },
	{ HS "protect:\n  names: [\"\xff\xfe\"]\n", "p.yaml:5:12: syntax error: ", "UTF-8" },
	/* unknown and duplicate keys */
	{ HS "dryrun: true\n", "p.yaml:4:1: dryrun: ", "unknown key, expected one of homeserver, schedule," },
	{ HS "  tiemout: 3s\n", "p.yaml:4:3: homeserver.tiemout: ", "unknown key, expected one of url," },
	{ HS R "      inactivefor: 1d\n", "p.yaml:8:7: rules[0].match.inactivefor: ", "unknown key" },
	{ HS "delete:\n  Purge: true\n", "p.yaml:5:3: delete.Purge: ", "unknown key" },
	{ HS "dry_run: true\ndry_run: false\n", "p.yaml:5:1: dry_run: ", "duplicate key, first given at line 4" },
	{ HS "  url: http://other\n", "p.yaml:4:3: homeserver.url: ", "duplicate key, first given at line 2" },
	{ HS R "      joined_members: {max: 1, max: 2}\n      inactive_for: 1d\n",
	  "p.yaml:8:32: rules[0].match.joined_members.max: ", "duplicate key" },
	{ HS "? [a, b]\n: 1\n", "p.yaml:4:3: (top level): ", "expected a key name, got a list" },
	/* anchors, aliases, merges, tags */
	{ HS "protect:\n  names: &n [\"a\"]\n", "p.yaml:5:10: protect.names: ", "YAML anchors (&n)" },
	{ HS "protect:\n  names: [\"a\"]\n  creators: *n\n", "p.yaml:6:13: protect.creators: ",
	  "YAML aliases (*n)" },
	{ HS "delete:\n  <<: {purge: true}\n", "p.yaml:5:3: delete.<<: ", "merge keys" },
	{ HS "dry_run: !!bool true\n", "p.yaml:4:10: dry_run: ", "YAML tags" },
	/* types */
	{ HS "dry_run: \"true\"\n", "p.yaml:4:10: dry_run: ", "expected true or false, got a string \"true\"" },
	{ HS "dry_run: yes\n", "p.yaml:4:10: dry_run: ", "expected true or false, got a string \"yes\"" },
	{ HS "protect:\n  public: on\n", "p.yaml:5:11: protect.public: ", "expected true or false" },
	{ HS "records:\n  all_rooms: 1\n", "p.yaml:5:14: records.all_rooms: ", "got a number" },
	{ HS "dry_run: True\n", "p.yaml:4:10: dry_run: ", "expected true or false" },
	{ HS "protect: [a]\n", "p.yaml:4:10: protect: ", "expected a mapping (key: value), got a list" },
	{ HS "delete:\n", "p.yaml:4:8: delete: ", "got null" },
	{ HS "state_file:\n", "p.yaml:4:12: state_file: ", "expected a file path, got null" },
	{ HS "state_file: \"\"\n", "p.yaml:4:13: state_file: ", "empty, expected a file path" },
	{ HS "protect:\n  names: Incident *\n", "p.yaml:5:10: protect.names: ", "expected a list" },
	{ HS "protect:\n  names: [\"a\", \"\"]\n", "p.yaml:5:16: protect.names[1]: ", "got \"\"" },
	{ HS "protect:\n  names: [\"a\\tb\"]\n", "p.yaml:5:11: protect.names[0]: ", "control character" },
	{ HS "protect:\n  rooms: [\"#a:b\"]\n", "p.yaml:5:11: protect.rooms[0]: ", "expected a room id" },
	/* One room id syntax (API.md): "!abc" (room version 12 has no server
	 * part) is a room id; these are not. */
	{ HS "protect:\n  rooms: [\"!\"]\n", "p.yaml:5:11: protect.rooms[0]: ", "expected a room id" },
	{ HS "protect:\n  rooms: [\"!a b:x\"]\n", "p.yaml:5:11: protect.rooms[0]: ", "expected a room id" },
	{ HS "protect:\n  rooms: [\"abc:x\"]\n", "p.yaml:5:11: protect.rooms[0]: ", "expected a room id" },
	{ HS "protect:\n  aliases: [\"announce\"]\n", "p.yaml:5:13: protect.aliases[0]: ", "expected an alias" },
	{ HS "protect:\n  creators: [\"notices\"]\n", "p.yaml:5:14: protect.creators[0]: ", "expected a user id" },
	{ HS "activity: everything\n", "p.yaml:4:11: activity: ", "unknown value \"everything\", expected events or messages" },
	/* numbers */
	{ HS "  concurrency: 33\n", "p.yaml:4:16: homeserver.concurrency: ", "expected an integer from 1 to 32, got 33" },
	{ HS "  concurrency: 0\n", "p.yaml:4:16: homeserver.concurrency: ", "out of range" },
	{ HS "  concurrency: \"4\"\n", "p.yaml:4:16: homeserver.concurrency: ", "got a string" },
	{ HS "  concurrency: 4.5\n", "p.yaml:4:16: homeserver.concurrency: ", "got a number" },
	{ HS "  page_size: 1001\n", "p.yaml:4:14: homeserver.page_size: ", "from 1 to 1000" },
	{ HS "  rate_limit: -5\n", "p.yaml:4:15: homeserver.rate_limit: ", "must not be negative" },
	{ HS "  rate_limit: 99999999999999999999999\n", "p.yaml:4:15: homeserver.rate_limit: ", "out of range" },
	{ HS "delete:\n  concurrency: 6\n", "p.yaml:5:16: delete.concurrency: ", "from 1 to 5" },
	{ HS "delete:\n  max_per_run: -1\n", "p.yaml:5:16: delete.max_per_run: ", "must not be negative" },
	{ HS "delete:\n  max_fraction: 1.5\n", "p.yaml:5:17: delete.max_fraction: ", "from 0 to 1" },
	{ HS "delete:\n  max_fraction: -0.1\n", "p.yaml:5:17: delete.max_fraction: ", "must not be negative" },
	{ HS "delete:\n  max_fraction: 10%\n", "p.yaml:5:17: delete.max_fraction: ", "got a string" },
	{ HS "delete:\n  max_fraction: nan\n", "p.yaml:5:17: delete.max_fraction: ", "got a string" },
	/* durations */
	{ HS "  timeout: 5y\n", "p.yaml:4:12: homeserver.timeout: ", "no months or years), got \"5y\"" },
	{ HS "  timeout: 5mo\n", "p.yaml:4:12: homeserver.timeout: ", "expected a duration" },
	{ HS "  timeout: -1d\n", "p.yaml:4:12: homeserver.timeout: ", "expected a duration" },
	{ HS "  timeout: 1.5h\n", "p.yaml:4:12: homeserver.timeout: ", "expected a duration" },
	{ HS "  timeout: 30\n", "p.yaml:4:12: homeserver.timeout: ", "expected a duration" },
	{ HS "  timeout: 0s\n", "p.yaml:4:12: homeserver.timeout: ", "too short, expected at least 1s" },
	{ HS "  timeout: 99999999999999999999w\n", "p.yaml:4:12: homeserver.timeout: ", "too large" },
	/* each duration has a maximum (DESIGN.md §6.14) */
	{ HS "  timeout: 61m\n", "p.yaml:4:12: homeserver.timeout: ", "duration too large, expected at most 1h" },
	{ HS "delete:\n  grace_period: 9999999999999999s\n", "p.yaml:5:17: delete.grace_period: ",
	  "duration too large, expected at most 36500d" },
	{ HS "delete:\n  grace_period: 36501d\n", "p.yaml:5:17: delete.grace_period: ", "at most 36500d" },
	{ HS "delete:\n  timeout: 8d\n", "p.yaml:5:12: delete.timeout: ", "at most 1w" },
	{ HS "schedule:\n  every: 366d\n", "p.yaml:5:10: schedule.every: ", "at most 365d" },
	{ HS "schedule:\n  every: 1d\n  randomized_delay: 169h\n", "p.yaml:6:21: schedule.randomized_delay: ",
	  "at most 1w" },
	{ HS "rules:\n  - name: r\n    action: record\n    match:\n      inactive_for: 5215w\n",
	  "p.yaml:8:21: rules[0].match.inactive_for: ", "at most 36500d" },
	{ HS "rules:\n  - name: r\n    action: record\n    match:\n      older_than: 36501d\n",
	  "p.yaml:8:19: rules[0].match.older_than: ", "at most 36500d" },
	{ HS "delete:\n  grace_period: true\n", "p.yaml:5:17: delete.grace_period: ", "got a boolean" },
	/* homeserver */
	{ "homeserver:\n  url: http://h\n", "p.yaml:1:1: homeserver: ", "neither token_file nor token_credential" },
	{ "homeserver:\n  token_file: /t\n", "p.yaml:2:3: homeserver.url: ", "missing, expected the homeserver's base URL" },
	{ "dry_run: true\n", "p.yaml:1:1: homeserver: ", "missing" },
	{ "homeserver:\n  url: ftp://h\n  token_file: /t\n", "p.yaml:2:8: homeserver.url: ", "http:// or https://" },
	{ "homeserver:\n  url: http://\n  token_file: /t\n", "p.yaml:2:8: homeserver.url: ", "with a host" },
	{ "homeserver:\n  url: 127.0.0.1:8008\n  token_file: /t\n", "p.yaml:2:8: homeserver.url: ", "http:// or https://" },
	{ "homeserver:\n  url: http://h/?x=1\n  token_file: /t\n", "p.yaml:2:8: homeserver.url: ", "without spaces, query" },
	{ "homeserver:\n  url: http://h\n  token_credential: a/b\n", "p.yaml:3:21: homeserver.token_credential: ",
	  "without '/'" },
	/* schedule */
	{ HS "schedule:\n  at: [\"03:30\"]\n  every: 24h\n", "p.yaml:6:10: schedule.every: ", "both at and every" },
	{ HS "schedule:\n  randomized_delay: 5m\n", "p.yaml:4:1: schedule: ", "neither at nor every" },
	{ HS "schedule:\n  at: [\"24:00\"]\n", "p.yaml:5:8: schedule.at[0]: ", "got \"24:00\"" },
	{ HS "schedule:\n  at: [\"03:30\", \"3:30\"]\n", "p.yaml:5:17: schedule.at[1]: ", "\"HH:MM\"" },
	{ HS "schedule:\n  at: [\"12:60\"]\n", "p.yaml:5:8: schedule.at[0]: ", "\"HH:MM\"" },
	{ HS "schedule:\n  at: []\n", "p.yaml:5:7: schedule.at: ", "got an empty list" },
	{ HS "schedule:\n  at: \"03:30\"\n", "p.yaml:5:7: schedule.at: ", "expected a non-empty list" },
	{ HS "schedule:\n  every: 0s\n", "p.yaml:5:10: schedule.every: ", "too short, expected at least 1s" },
	/* rules */
	{ HS "rules: {a: 1}\n", "p.yaml:4:8: rules: ", "expected a list of rules" },
	{ HS "rules:\n  - just-a-name\n", "p.yaml:5:5: rules[0]: ", "expected a rule" },
	{ HS R, "p.yaml:7:11: rules[0].match: ", "got null" },
	{ HS R "      {}\n", "p.yaml:8:7: rules[0].match: ", "no conditions" },
	{ HS R "      encrypted: any\n      public: any\n", "p.yaml:8:7: rules[0].match: ", "no conditions" },
	{ HS "rules:\n  - name: r\n    action: delete\n    match:\n      joined_local_members: {max: 0}\n",
	  "p.yaml:8:7: rules[0].match: ", "needs inactive_for or older_than" },
	{ HS "rules:\n  - name: r\n    action: purge\n    match:\n      inactive_for: 1d\n",
	  "p.yaml:6:13: rules[0].action: ", "unknown value \"purge\", expected record or delete" },
	{ HS "rules:\n  - name: r\n    match:\n      inactive_for: 1d\n", "p.yaml:5:5: rules[0].action: ",
	  "missing, expected record or delete" },
	{ HS "rules:\n  - name: r\n    action: record\n", "p.yaml:5:5: rules[0].match: ", "missing" },
	{ HS "rules:\n  - action: record\n    match: {inactive_for: 1d}\n", "p.yaml:5:5: rules[0].name: ", "missing" },
	{ HS "rules:\n  - name: my rule\n    action: record\n    match: {inactive_for: 1d}\n",
	  "p.yaml:5:11: rules[0].name: ", "expected a rule name" },
	{ HS "rules:\n  - name: r\n    action: record\n    match: {inactive_for: 1d}\n"
	     "  - name: r\n    action: record\n    match: {older_than: 1d}\n",
	  "p.yaml:8:11: rules[1].name: ", "duplicate rule name \"r\", first used by the rule at line 5" },
	{ HS R "      joined_members: {min: 3, max: 1}\n", "p.yaml:8:23: rules[0].match.joined_members: ",
	  "min (3) is greater than max (1)" },
	{ HS R "      joined_members: {}\n", "p.yaml:8:23: rules[0].match.joined_members: ", "expected min and/or max" },
	{ HS R "      joined_members: 2\n", "p.yaml:8:23: rules[0].match.joined_members: ", "expected {min: N, max: N}" },
	{ HS R "      joined_members: {max: 1, maximum: 2}\n",
	  "p.yaml:8:32: rules[0].match.joined_members.maximum: ", "unknown key, expected one of min, max" },
	{ HS R "      joined_local_members: {max: -1}\n",
	  "p.yaml:8:35: rules[0].match.joined_local_members.max: ", "must not be negative" },
	{ HS R "      public: maybe\n", "p.yaml:8:15: rules[0].match.public: ", "expected true, false or any, got a string \"maybe\"" },
	{ HS R "      encrypted: \"true\"\n", "p.yaml:8:18: rules[0].match.encrypted: ", "expected true, false or any" },
	{ HS R "      name: \"\"\n", "p.yaml:8:13: rules[0].match.name: ", "empty" },
	{ HS R "      older_than: 2y\n", "p.yaml:8:19: rules[0].match.older_than: ", "expected a duration" },
	/* delete */
	{ HS "delete:\n  purge: false\n  force_purge: true\n", "p.yaml:6:16: delete.force_purge: ", "needs purge: true" },
	/* the conditions on more facts of the list row, and the size guard */
	{ HS R "      join_rule: open\n", "p.yaml:8:18: rules[0].match.join_rule: ",
	  "unknown value \"open\", expected public, invite, knock, restricted, knock_restricted or private" },
	{ HS R "      join_rule: [invite, Public]\n", "p.yaml:8:27: rules[0].match.join_rule[1]: ",
	  "unknown value \"Public\"" },
	{ HS R "      join_rule: []\n", "p.yaml:8:18: rules[0].match.join_rule: ", "got an empty list" },
	{ HS R "      join_rule: {public: true}\n", "p.yaml:8:18: rules[0].match.join_rule: ",
	  "expected a join rule or a non-empty list" },
	{ HS R "      join_rule: true\n", "p.yaml:8:18: rules[0].match.join_rule: ", "got a boolean" },
	{ HS R "      room_type:\n", "p.yaml:8:17: rules[0].match.room_type: ", "empty, expected a glob" },
	{ HS R "      room_type: \"\"\n", "p.yaml:8:18: rules[0].match.room_type: ", "empty, expected a glob" },
	{ HS R "      room_type: [m.space]\n", "p.yaml:8:18: rules[0].match.room_type: ", "got a list" },
	{ HS R "      state_events: {min: 5, max: 2}\n", "p.yaml:8:21: rules[0].match.state_events: ",
	  "min (5) is greater than max (2)" },
	{ HS R "      state_events: 1000\n", "p.yaml:8:21: rules[0].match.state_events: ", "expected {min: N, max: N}" },
	{ HS R "      state_events: {max: -1}\n", "p.yaml:8:27: rules[0].match.state_events.max: ",
	  "must not be negative" },
	{ HS R "      room_version: \"\"\n", "p.yaml:8:21: rules[0].match.room_version: ", "empty" },
	{ HS R "      room_version: null\n", "p.yaml:8:21: rules[0].match.room_version: ", "got null" },
	{ HS R "      federatable: maybe\n", "p.yaml:8:20: rules[0].match.federatable: ",
	  "expected true, false or any, got a string \"maybe\"" },
	{ HS R "      federatable: any\n", "p.yaml:8:7: rules[0].match: ", "no conditions" },
	{ HS "rules:\n  - name: r\n    action: delete\n    match:\n      state_events: {max: 10}\n",
	  "p.yaml:8:7: rules[0].match: ", "needs inactive_for or older_than" },
	{ HS "delete:\n  max_state_events: -1\n", "p.yaml:5:21: delete.max_state_events: ", "must not be negative" },
	{ HS "delete:\n  max_state_events: 1000000001\n", "p.yaml:5:21: delete.max_state_events: ",
	  "expected an integer from 0 to 1000000000" },
	{ HS "delete:\n  max_state_events: 10k\n", "p.yaml:5:21: delete.max_state_events: ", "got a string" },
	{ HS "delete:\n  max_state_events:\n", "p.yaml:5:20: delete.max_state_events: ", "got null" },
};

START_TEST(test_invalid)
{
	const struct bad_case *c = &bad_cases[_i];
	size_t want_n = 1;
	struct policy_errors errs = { 0 };
	struct policy *p = (struct policy *)1;
	int r = policy_load_buffer("p.yaml", c->text, strlen(c->text), &p, &errs);
	bool found = false;

	ck_assert_msg(r == -EINVAL, "case %d accepted:\n%s", _i, c->text);
	ck_assert_ptr_null(p);
	for (size_t i = 0; i < errs.n; i++) {
		ck_assert_msg(strncmp(errs.lines[i], "p.yaml:", 7) == 0, "%s", errs.lines[i]);
		ck_assert_msg(!strchr(errs.lines[i], '\n'), "not one line: %s", errs.lines[i]);
		if (strncmp(errs.lines[i], c->want, strlen(c->want)) == 0 && strstr(errs.lines[i], c->fragment))
			found = true;
	}
	if (!found || errs.n != want_n) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "case %d: %s\n", _i, errs.lines[i]);
		ck_abort_msg("case %d: want %zu error(s) with \"%s...%s\", got %zu", _i, want_n, c->want,
			     c->fragment, errs.n);
	}
	policy_errors_free(&errs);
}
END_TEST

START_TEST(test_several_errors)
{
	/* Errors from different sections, all reported, in file order. */
	static const char text[] =
		"homeserver:\n"
		"  url: ftp://h\n"                 /* 2:8 */
		"  token_file: /t\n"
		"  page_size: 0\n"                 /* 4:14 */
		"rules:\n"
		"  - name: r\n"
		"    action: delete\n"
		"    match:\n"
		"      inactive_for: 90days\n"     /* 9:21 */
		"dry_run: no\n"                    /* 10:10 */
		"delete:\n"
		"  max_fraction: 2\n"              /* 12:17 */
		"protect:\n"
		"  spacess: true\n";               /* 14:3 */
	static const char *const want[] = {
		"p.yaml:2:8: homeserver.url: ",
		"p.yaml:4:14: homeserver.page_size: ",
		"p.yaml:9:21: rules[0].match.inactive_for: ",
		"p.yaml:10:10: dry_run: ",
		"p.yaml:12:17: delete.max_fraction: ",
		"p.yaml:14:3: protect.spacess: ",
	};
	struct policy_errors errs = { 0 };
	struct policy *p;

	ck_assert_int_eq(policy_load_buffer("p.yaml", text, strlen(text), &p, &errs), -EINVAL);
	ck_assert_uint_eq(errs.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < errs.n; i++)
		ck_assert_msg(strncmp(errs.lines[i], want[i], strlen(want[i])) == 0, "line %zu: %s", i,
			      errs.lines[i]);
	policy_errors_free(&errs);
}
END_TEST

START_TEST(test_errors_suppressed)
{
	struct buf b = { 0 };
	struct policy_errors errs = { 0 };
	struct policy *p;

	buf_puts(&b, HS);
	for (int i = 0; i < POLICY_MAX_ERRORS + 7; i++)
		buf_printf(&b, "unknown_%d: 1\n", i);
	ck_assert_int_eq(policy_load_buffer("p.yaml", b.data, b.len, &p, &errs), -EINVAL);
	ck_assert_uint_eq(errs.n, POLICY_MAX_ERRORS + 1);
	ck_assert_str_eq(errs.lines[0], "p.yaml:4:1: unknown_0: unknown key, expected one of homeserver, schedule, "
			 "dry_run, protect, rules, activity, delete, records, state_file, metrics_file");
	ck_assert_ptr_nonnull(strstr(errs.lines[POLICY_MAX_ERRORS - 1], "unknown_49:"));
	ck_assert_str_eq(errs.lines[POLICY_MAX_ERRORS],
			 "p.yaml: 7 more errors suppressed (only the first 50 are shown)");
	policy_errors_free(&errs);
	buf_free(&b);
}
END_TEST

START_TEST(test_deep_nesting)
{
	struct buf b = { 0 };
	struct policy_errors errs = { 0 };
	struct policy *p;

	buf_puts(&b, HS "protect:\n  names: ");
	for (int i = 0; i < 100000; i++)
		buf_putc(&b, '[');
	ck_assert_int_eq(policy_load_buffer("p.yaml", b.data, b.len, &p, &errs), -EINVAL);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_ptr_nonnull(strstr(errs.lines[0], "nested deeper than"));
	policy_errors_free(&errs);
	buf_free(&b);
}
END_TEST

START_TEST(test_too_many_keys)
{
	struct buf b = { 0 };
	struct policy_errors errs = { 0 };
	struct policy *p;

	buf_puts(&b, HS "protect:\n");
	for (int i = 0; i < 1001; i++)
		buf_printf(&b, "  k%d: 1\n", i);
	ck_assert_int_eq(policy_load_buffer("p.yaml", b.data, b.len, &p, &errs), -EINVAL);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_str_eq(errs.lines[0], "p.yaml:5:3: protect: 1001 keys, expected at most 1000");
	policy_errors_free(&errs);
	buf_free(&b);
}
END_TEST

START_TEST(test_no_error_list)
{
	/* The caller may not want the lines; the result is the same. */
	struct policy *p;

	ck_assert_int_eq(policy_load_buffer("p.yaml", "dry_run: 1\n", 11, &p, NULL), -EINVAL);
	ck_assert_ptr_null(p);
}
END_TEST

/* ---- the --check-config summary and the shipped policies ---------------- */

static char *summary_of(const struct policy *p)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	policy_print_summary(p, f);
	fclose(f);
	return text;
}

START_TEST(test_summary)
{
	struct policy *p = load_ok(every_key);
	char *s = summary_of(p);

	ck_assert_msg(strncmp(s, "DELETING: rooms matching delete rules WILL BE DELETED\n", 54) == 0, "%s", s);
	ck_assert_ptr_nonnull(strstr(s, "https://matrix.example.org:8448"));
	ck_assert_ptr_nonnull(strstr(s, "#announcements:example.org (exact)"));
	ck_assert_ptr_nonnull(strstr(s, "#support-*:example.org (glob)"));
	ck_assert_ptr_nonnull(strstr(s, "protect important rooms by\n  room id"));
	/* The rules in order, with their conditions and actions. */
	char *r1 = strstr(s, "1. abandoned-by-locals (line 24): DELETE when joined_local_members = 0, inactive for 90d or more");
	char *r2 = strstr(s, "2. stale_small.v2 (line 29): record when joined_members 1..2, created 104w ago or more, "
			  "not public, encrypted, name matches \"Test *\", alias matches \"#test-*\", creator matches \"@bot:*\"");
	ck_assert_msg(r1 && r2 && r1 < r2, "%s", s);
	ck_assert_ptr_nonnull(strstr(s, "daily at 00:00, 03:30, 23:59 (local time), plus a random delay of up to 15m, and once at start"));
	ck_assert_ptr_nonnull(strstr(s, "grace period 1w; at most 0 deletes per run"));
	ck_assert_ptr_nonnull(strstr(s, "JSONL (off)"));
	ck_assert_ptr_nonnull(strstr(s, "State file:  /srv/state.json"));
	ck_assert_ptr_nonnull(strstr(s, "TLS NOT VERIFIED"));
	ck_assert_ptr_null(strstr(s, "DRY-RUN"));
	free(s);
	policy_free(p);

	p = load_ok(HS R "      inactive_for: 1d\n");
	s = summary_of(p);
	ck_assert_msg(strncmp(s, "DRY-RUN: nothing will be deleted", 32) == 0, "%s", s);
	ck_assert_ptr_nonnull(strstr(s, "1. r (line 5): record when inactive for 1d or more\n"));
	ck_assert_ptr_nonnull(strstr(s, "Schedule:    none"));
	free(s);
	policy_free(p);
}
END_TEST

/* --check-config shows the new conditions and the size guard. */
START_TEST(test_summary_row_conditions)
{
	struct policy *p = load_ok(HS "rules:\n"
				   "  - name: a\n    action: record\n    match:\n"
				   "      join_rule: [knock, invite]\n"
				   "      room_type: null\n"
				   "      state_events: {min: 10, max: 5000}\n"
				   "      room_version: \"1[0-2]\"\n"
				   "      federatable: false\n"
				   "  - name: b\n    action: record\n    match:\n"
				   "      room_type: \"m.*\"\n"
				   "      state_events: {max: 50}\n"
				   "      federatable: true\n"
				   "delete:\n  max_state_events: 1000\n");
	char *s = summary_of(p);

	ck_assert_msg(strstr(s, "1. a (line 5): record when join rule invite or knock, room type null (an ordinary room), "
			     "state_events 10..5000, room version matches \"1[0-2]\", not federatable\n"), "%s", s);
	ck_assert_msg(strstr(s, "2. b (line 13): record when room type matches \"m.*\", state_events <= 50, "
			     "federatable\n"), "%s", s);
	ck_assert_msg(strstr(s, "Size guard:  rooms with more than 1000 state events are deferred"), "%s", s);
	free(s);
	policy_free(p);

	p = load_ok(HS);
	s = summary_of(p);
	ck_assert_msg(strstr(s, "Size guard:  none (delete.max_state_events is not set"), "%s", s);
	free(s);
	policy_free(p);

	/* the shipped example sets the suggested size guard */
	s = test_src_path("etc/policy.yaml");
	ck_assert_int_eq(policy_load(s, &p, NULL), 0);
	ck_assert(p->delete.has_max_state_events);
	ck_assert_uint_eq(p->delete.max_state_events, 1000);
	policy_free(p);
	free(s);
}
END_TEST

START_TEST(test_shipped_example)
{
	struct policy_errors errs = { 0 };
	struct policy *p = NULL;
	char *path = test_src_path("etc/policy.yaml");
	int r = policy_load(path, &p, &errs);

	ck_assert_msg(r == 0, "%s", errs.n ? errs.lines[0] : "?");
	/* Safe as shipped (DESIGN.md §5). */
	ck_assert(p->dry_run);
	ck_assert(p->protect.is_public && p->protect.spaces);
	ck_assert(!p->delete.block);
	ck_assert_uint_eq(p->delete.grace_period, 7 * 86400);
	ck_assert_str_eq(p->homeserver.url, "http://127.0.0.1:8008");
	ck_assert_str_eq(p->homeserver.token_credential, "admin-token");
	ck_assert_str_eq(p->homeserver.token_file, "/etc/synapse-janitor/admin-token");
	ck_assert_uint_ge(p->protect.creators.n, 2);
	ck_assert_str_eq(p->protect.creators.items[0], "@notices:*");
	ck_assert_uint_eq(p->n_rules, 2);
	ck_assert_int_eq(p->rules[0].action, RULE_ACTION_DELETE);
	ck_assert(p->rules[0].has_inactive_for);
	policy_free(p);
	free(path);
}
END_TEST

START_TEST(test_demo_policy)
{
	char *path = test_src_path("etc/demo.yaml"), *text = test_slurp(path), *at;
	struct policy_errors errs = { 0 };
	struct policy *p = NULL;
	int n = 0;

	for (; (at = strstr(text, "@PORT@")); n++)
		memcpy(at, "8008  ", 6);   /* YAML drops the trailing blanks */
	ck_assert_int_ge(n, 1);
	ck_assert_int_eq(policy_load_buffer("/tmp/demo/demo.yaml", text, strlen(text), &p, &errs), 0);
	ck_assert(p->dry_run);
	ck_assert_str_eq(p->homeserver.url, "http://127.0.0.1:8008");
	ck_assert_str_eq(p->homeserver.token_file, "/tmp/demo/admin-token");
	ck_assert_str_eq(p->records.csv, "/tmp/demo/candidates.csv");
	ck_assert_str_eq(p->records.jsonl, "/tmp/demo/decisions.jsonl");
	ck_assert_str_eq(p->state_file, "/tmp/demo/state.json");
	ck_assert_uint_eq(p->n_rules, 2);
	ck_assert_uint_eq(p->rules[1].older_than, 52 * 7 * 86400);
	policy_free(p);
	free(text);
	free(path);
}
END_TEST

START_TEST(test_policy_files)
{
	/* tests/policies: good-*.yaml load, bad-*.yaml are refused with the
	 * first line of the matching .err file. */
	static const char *const files[] = { "good-minimal", "good-full", "bad-many", "bad-anchors" };
	char *dir = test_src_path("tests/policies");

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *path = xasprintf("%s/%s.yaml", dir, files[i]);
		struct policy_errors errs = { 0 };
		struct policy *p = NULL;
		int r = policy_load(path, &p, &errs);

		if (strncmp(files[i], "good", 4) == 0) {
			ck_assert_msg(r == 0, "%s: %s", path, errs.n ? errs.lines[0] : "?");
		} else {
			char *err_path = xasprintf("%s/%s.err", dir, files[i]);
			char *want = test_slurp(err_path);
			struct buf got = { 0 };

			ck_assert_int_eq(r, -EINVAL);
			for (size_t j = 0; j < errs.n; j++)
				buf_printf(&got, "%s\n", errs.lines[j] + strlen(dir) + 1);
			ck_assert_str_eq(got.data, want);
			buf_free(&got);
			free(want);
			free(err_path);
		}
		policy_errors_free(&errs);
		policy_free(p);
		free(path);
	}
	free(dir);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *valid = tcase_create("valid");
	TCase *invalid = tcase_create("invalid");
	TCase *output = tcase_create("summary");

	tcase_add_test(valid, test_defaults);
	tcase_add_test(valid, test_every_key);
	tcase_add_test(valid, test_schedule_every);
	tcase_add_test(valid, test_duration_maxima);
	tcase_add_test(valid, test_v12_room_id);
	tcase_add_test(valid, test_fractions);
	tcase_add_test(valid, test_booleans_and_quoting);
	tcase_add_test(valid, test_token_credential_alone);
	tcase_add_test(valid, test_relative_paths);
	tcase_add_test(valid, test_alias_is_exact);
	tcase_add_test(valid, test_row_conditions);
	tcase_add_loop_test(invalid, test_invalid, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(invalid, test_missing_file);
	tcase_add_test(invalid, test_several_errors);
	tcase_add_test(invalid, test_errors_suppressed);
	tcase_add_test(invalid, test_deep_nesting);
	tcase_add_test(invalid, test_too_many_keys);
	tcase_add_test(invalid, test_no_error_list);
	tcase_add_test(output, test_summary);
	tcase_add_test(output, test_summary_row_conditions);
	tcase_add_test(output, test_shipped_example);
	tcase_add_test(output, test_demo_policy);
	tcase_add_test(output, test_policy_files);
	suite_add_tcase(s, valid);
	suite_add_tcase(s, invalid);
	suite_add_tcase(s, output);
	return s;
}

int main(void)
{
	return test_suite_main(policy_suite());
}
