/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The test hooks (test-hooks.h). This file is compiled twice: into
 * libjanitor without SJ_TEST_HOOKS (no-ops, for the installed program), and
 * with it into synapse-janitor-test, whose own copy takes precedence over
 * the library's. */
#include "config.h"

#include "test-hooks.h"

#ifdef SJ_TEST_HOOKS

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void test_hooks_poll_ms(uint64_t *first, uint64_t *max)
{
	const char *poll = getenv("SYNAPSE_JANITOR_TEST_POLL_MS");
	unsigned long f, m;

	if (poll && sscanf(poll, "%lu,%lu", &f, &m) == 2 && f > 0 && m >= f) {
		*first = f;
		*max = m;
	}
}

void test_hooks_kill_point(const char *where)
{
	const char *kill_at = getenv("SYNAPSE_JANITOR_TEST_KILL_AT");

	if (kill_at && strcmp(kill_at, where) == 0)
		raise(SIGKILL);
}

const char *test_hooks_build(void)
{
	return " (test build: SYNAPSE_JANITOR_TEST_* hooks compiled in)";
}

#else

void test_hooks_poll_ms(uint64_t *first, uint64_t *max)
{
}

void test_hooks_kill_point(const char *where)
{
}

const char *test_hooks_build(void)
{
	return "";
}

#endif
