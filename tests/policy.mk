# SPDX-License-Identifier: GPL-3.0-or-later
# Tests of the policy loader, durations, the admin token and the command
# line; included from Makefile.am.
if HAVE_TEST_DEPS
check_PROGRAMS += check_policy check_duration check_token
TESTS += check_policy check_duration check_token
check_policy_SOURCES = tests/check_policy.c
check_duration_SOURCES = tests/check_duration.c
check_token_SOURCES = tests/check_token.c
endif

# The command line against the test build: needs nothing but the build.
TESTS += tests/policy-cli.sh

EXTRA_DIST += tests/policies tests/policy-cli.sh
