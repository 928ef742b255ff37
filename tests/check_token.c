/* SPDX-License-Identifier: GPL-3.0-or-later */
/* token.c: where the admin token comes from, what is refused, and that the
 * token never appears in a message. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "suite.h"
#include "token.h"
#include "xmalloc.h"

#define SECRET "syt_c2VjcmV0_SeCrEtToKeN_0123"

struct fixture {
	char dir[64];
	char *cred_dir;
	char *file;
	struct policy p;
	char err[512];
};

static void write_mode(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_msg(fd >= 0, "cannot create %s", path);
	ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	ck_assert_int_eq(chmod(path, mode), 0);
}

static void fx_init(struct fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	strcpy(fx->dir, "/tmp/check_token.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fx->dir));
	fx->cred_dir = xasprintf("%s/creds", fx->dir);
	ck_assert_int_eq(mkdir(fx->cred_dir, 0700), 0);
	fx->file = xasprintf("%s/admin-token", fx->dir);
	fx->p.path = "policy.yaml";
	fx->p.homeserver.token_file = fx->file;
	unsetenv("CREDENTIALS_DIRECTORY");
}

static void fx_free(struct fixture *fx)
{
	char *cmd = xasprintf("rm -rf '%s'", fx->dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(fx->cred_dir);
	free(fx->file);
	unsetenv("CREDENTIALS_DIRECTORY");
}

/* A refusal: the return code, the file named, the secret never shown. */
static void expect_refused(struct fixture *fx, int want_r, const char *path, const char *fragment)
{
	char *token = (char *)"untouched";
	int r = token_read(&fx->p, &token, fx->err, sizeof(fx->err));

	ck_assert_msg(r == want_r, "got %d (%s), want %d", r, fx->err, want_r);
	ck_assert_ptr_null(token);
	ck_assert_msg(strstr(fx->err, path), "message does not name %s: %s", path, fx->err);
	ck_assert_msg(strstr(fx->err, fragment), "message lacks \"%s\": %s", fragment, fx->err);
	ck_assert_msg(!strstr(fx->err, "SeCrEt"), "the token leaked into: %s", fx->err);
	ck_assert_msg(!strchr(fx->err, '\n'), "message is not one line: %s", fx->err);
}

static char *read_ok(struct fixture *fx)
{
	char *token = NULL;
	int r = token_read(&fx->p, &token, fx->err, sizeof(fx->err));

	ck_assert_msg(r == 0, "refused: %d %s", r, fx->err);
	ck_assert_ptr_nonnull(token);
	return token;
}

START_TEST(test_file)
{
	struct fixture fx;
	char *t;

	fx_init(&fx);
	write_mode(fx.file, SECRET "\n", 0600);
	t = read_ok(&fx);
	ck_assert_str_eq(t, SECRET);
	token_free(t);
	fx_free(&fx);
}
END_TEST

START_TEST(test_credential_preferred)
{
	struct fixture fx;
	char *cred, *t;

	fx_init(&fx);
	cred = xasprintf("%s/admin-token", fx.cred_dir);
	write_mode(fx.file, "from-file", 0600);
	write_mode(cred, "from-credential\n", 0400);
	fx.p.homeserver.token_credential = "admin-token";
	setenv("CREDENTIALS_DIRECTORY", fx.cred_dir, 1);
	t = read_ok(&fx);
	ck_assert_str_eq(t, "from-credential");
	token_free(t);
	/* The same policy without the environment falls back to the file. */
	unsetenv("CREDENTIALS_DIRECTORY");
	t = read_ok(&fx);
	ck_assert_str_eq(t, "from-file");
	token_free(t);
	free(cred);
	fx_free(&fx);
}
END_TEST

START_TEST(test_credential_missing_falls_back)
{
	struct fixture fx;
	char *t;

	fx_init(&fx);
	write_mode(fx.file, "from-file\n", 0640);   /* group-readable is fine */
	fx.p.homeserver.token_credential = "admin-token";
	setenv("CREDENTIALS_DIRECTORY", fx.cred_dir, 1);   /* but no such credential */
	t = read_ok(&fx);
	ck_assert_str_eq(t, "from-file");
	token_free(t);
	fx_free(&fx);
}
END_TEST

START_TEST(test_credential_only)
{
	struct fixture fx;
	char *cred, *t;

	fx_init(&fx);
	fx.p.homeserver.token_file = NULL;
	fx.p.homeserver.token_credential = "tok";
	/* Not under systemd: nothing to read, and the message says why. */
	expect_refused(&fx, -ENOENT, "tok", "CREDENTIALS_DIRECTORY");
	cred = xasprintf("%s/tok", fx.cred_dir);
	write_mode(cred, SECRET, 0400);
	setenv("CREDENTIALS_DIRECTORY", fx.cred_dir, 1);
	t = read_ok(&fx);
	ck_assert_str_eq(t, SECRET);   /* no newline: taken as is */
	token_free(t);
	/* A credential is checked like a file. */
	write_mode(cred, SECRET "\n", 0444);
	expect_refused(&fx, -EACCES, cred, "readable by every user");
	free(cred);
	fx_free(&fx);
}
END_TEST

struct refuse_case {
	const char *content;   /* NULL: the file does not exist */
	mode_t mode;
	int want_r;
	const char *fragment;
};

static const struct refuse_case refuse_cases[] = {
	{ NULL, 0, -ENOENT, "No such file" },
	{ SECRET "\n", 0644, -EACCES, "readable by every user" },
	{ SECRET "\n", 0604, -EACCES, "readable by every user" },
	{ SECRET, 0666, -EACCES, "mode 0666" },
	{ "", 0600, -EINVAL, "empty" },
	{ "\n", 0600, -EINVAL, "empty" },
	{ SECRET "\n\n", 0600, -EINVAL, "whitespace or control" },
	{ SECRET "\r\n", 0600, -EINVAL, "whitespace or control" },
	{ "Bearer " SECRET "\n", 0600, -EINVAL, "whitespace or control" },
	{ SECRET " \n", 0600, -EINVAL, "whitespace or control" },
	{ "\t" SECRET, 0600, -EINVAL, "whitespace or control" },
	{ SECRET "\x7f", 0600, -EINVAL, "whitespace or control" },
};

START_TEST(test_refused)
{
	const struct refuse_case *c = &refuse_cases[_i];
	struct fixture fx;

	fx_init(&fx);
	if (c->content)
		write_mode(fx.file, c->content, c->mode);
	expect_refused(&fx, c->want_r, fx.file, c->fragment);
	fx_free(&fx);
}
END_TEST

START_TEST(test_nul_inside_refused)
{
	struct fixture fx;
	int fd;

	fx_init(&fx);
	fd = open(fx.file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_eq(write(fd, "SeCrEt\0tail\n", 12), 12);
	close(fd);
	expect_refused(&fx, -EINVAL, fx.file, "whitespace or control");
	fx_free(&fx);
}
END_TEST

START_TEST(test_not_regular)
{
	struct fixture fx;

	fx_init(&fx);
	fx.p.homeserver.token_file = fx.cred_dir;   /* a directory */
	expect_refused(&fx, -EINVAL, fx.cred_dir, "not a regular file");
	fx.p.homeserver.token_file = fx.file;
	fx_free(&fx);
}
END_TEST

START_TEST(test_too_large)
{
	struct fixture fx;
	char *big = xmalloc(10001);

	fx_init(&fx);
	memset(big, 'a', 10000);
	big[10000] = '\0';
	write_mode(fx.file, big, 0600);
	expect_refused(&fx, -EFBIG, fx.file, "larger than");
	free(big);
	fx_free(&fx);
}
END_TEST

START_TEST(test_free_null)
{
	token_free(NULL);
}
END_TEST

static Suite *token_suite(void)
{
	Suite *s = suite_create("token");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_file);
	tcase_add_test(tc, test_credential_preferred);
	tcase_add_test(tc, test_credential_missing_falls_back);
	tcase_add_test(tc, test_credential_only);
	tcase_add_loop_test(tc, test_refused, 0, sizeof(refuse_cases) / sizeof(refuse_cases[0]));
	tcase_add_test(tc, test_nul_inside_refused);
	tcase_add_test(tc, test_not_regular);
	tcase_add_test(tc, test_too_large);
	tcase_add_test(tc, test_free_null);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_suite_main(token_suite());
}
