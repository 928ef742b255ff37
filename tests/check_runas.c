/* SPDX-License-Identifier: GPL-3.0-or-later */
/* src/runas.c: whose state directory it is, and the runuser command line
 * (quoted for a shell) that runs the same arguments as that user. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runas.h"

/* Each argv word as the shell must see it again. */
static const struct {
	const char *argv[8];
	const char *want;
} commands[] = {
	{ { "synapse-janitor", "--once", "--dry-run", NULL },
	  "runuser -u _synapse-janitor -- synapse-janitor --once --dry-run" },
	{ { "/usr/sbin/synapse-janitor", "-c", "/etc/synapse-janitor/policy.yaml", "--apply=/var/lib/x/c-2026-01-02.csv", NULL },
	  "runuser -u _synapse-janitor -- /usr/sbin/synapse-janitor -c /etc/synapse-janitor/policy.yaml "
	  "--apply=/var/lib/x/c-2026-01-02.csv" },
	{ { "synapse-janitor", "-c", "/tmp/my policy.yaml", NULL },
	  "runuser -u _synapse-janitor -- synapse-janitor -c '/tmp/my policy.yaml'" },
	{ { "synapse-janitor", "--apply", "it's $HOME `x` \"q\".csv", NULL },
	  "runuser -u _synapse-janitor -- synapse-janitor --apply 'it'\\''s $HOME `x` \"q\".csv'" },
	{ { "synapse-janitor", "-c", "", "~/p.yaml", "a*b", NULL },
	  "runuser -u _synapse-janitor -- synapse-janitor -c '' '~/p.yaml' 'a*b'" },
};

START_TEST(test_command)
{
	char *cmd = runas_command("_synapse-janitor", (char *const *)commands[_i].argv);

	ck_assert_str_eq(cmd, commands[_i].want);
	free(cmd);
}
END_TEST

START_TEST(test_user_name)
{
	char *name = runas_user_name(0);

	ck_assert_str_eq(name, "root");
	free(name);
	/* A uid no passwd entry has: runuser could not be told it. */
	ck_assert_ptr_null(runas_user_name(3999999));
}
END_TEST

static char dir[] = "/tmp/check_runas.XXXXXX";
static char state[64];

static void dir_setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(state, sizeof(state), "%s/state.json", dir);
}

static void dir_teardown(void)
{
	rmdir(dir);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
}

/* Not root: nothing to check, whoever owns the directory. */
START_TEST(test_not_root)
{
	uid_t owner = 12345;

	ck_assert_int_eq(runas_state_dir_owner(state, 1000, &owner), 0);
	ck_assert_int_eq(runas_state_dir_owner("/var/lib/nonexistent/state.json", 1000, &owner), 0);
	ck_assert_uint_eq(owner, 12345);
}
END_TEST

/* Root and a directory of another user's: 1 and that uid. As root the
 * directory is given to nobody (65534); otherwise it is the tester's own,
 * which is another user's as far as euid 0 is concerned. */
START_TEST(test_other_owner)
{
	uid_t other = getuid() == 0 ? 65534 : getuid(), owner = 0;

	if (getuid() == 0)
		ck_assert_int_eq(chown(dir, other, other), 0);
	ck_assert_int_eq(runas_state_dir_owner(state, 0, &owner), 1);
	ck_assert_uint_eq(owner, other);
	if (getuid() == 0) {
		/* Back to root's: the run may go ahead. */
		ck_assert_int_eq(chown(dir, 0, 0), 0);
		owner = 777;
		ck_assert_int_eq(runas_state_dir_owner(state, 0, &owner), 0);
		ck_assert_uint_eq(owner, 777);
	}
}
END_TEST

/* No directory yet: go ahead (the run says what is missing); a path that
 * cannot be a directory: the error. */
START_TEST(test_no_dir)
{
	uid_t owner = 777;
	char path[128];

	snprintf(path, sizeof(path), "%s/gone/state.json", dir);
	ck_assert_int_eq(runas_state_dir_owner(path, 0, &owner), 0);
	ck_assert_int_eq(runas_state_dir_owner("/etc/passwd/x/state.json", 0, &owner), -ENOTDIR);
	ck_assert_uint_eq(owner, 777);
	/* "/state.json": the directory is "/", root's. */
	ck_assert_int_eq(runas_state_dir_owner("/state.json", 0, &owner), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("runas");
	TCase *tc = tcase_create("command");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_command, 0, (int)(sizeof(commands) / sizeof(commands[0])));
	tcase_add_test(tc, test_user_name);
	suite_add_tcase(s, tc);
	tc = tcase_create("state directory");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, test_not_root);
	tcase_add_test(tc, test_other_owner);
	tcase_add_test(tc, test_no_dir);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_VERBOSE);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
