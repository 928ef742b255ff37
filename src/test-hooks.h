/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What exists only for the tests (DESIGN.md §9): hooks the end-to-end tests
 * steer through the environment. They are compiled in only where
 * SJ_TEST_HOOKS is defined, which Makefile.am does for synapse-janitor-test
 * (built by make check, never installed); in the installed synapse-janitor
 * every function here is a no-op and no test variable is read. */
#ifndef SJ_TEST_HOOKS_H
#define SJ_TEST_HOOKS_H

#include <stdint.h>

/* SYNAPSE_JANITOR_TEST_POLL_MS="first,max" replaces the delete-status
 * polling's first interval and its ceiling (both in ms, 0 < first <= max);
 * otherwise *first and *max are left as they are. */
void test_hooks_poll_ms(uint64_t *first, uint64_t *max);

/* SYNAPSE_JANITOR_TEST_KILL_AT=where: the process kills itself with
 * SIGKILL when it reaches the point of that name ("delete-answered": the
 * DELETE answered, its delete_id not yet saved; "delete-saved": after the
 * save), for the crash-safety tests. */
void test_hooks_kill_point(const char *where);

/* What --version adds after the version: "" in the installed program,
 * " (test build: ...)" in synapse-janitor-test, so a test can prove which
 * program it runs. */
const char *test_hooks_build(void);

#endif
