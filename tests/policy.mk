# SPDX-License-Identifier: GPL-3.0-or-later
# The policy loader, durations and the admin token: their tests, the policy
# fuzzer, the example policies and synapse-janitor.yaml(5). Included from
# Makefile.am.

# The shipped example, installed next to where the real policy goes (never
# over it: the admin copies it to policy.yaml after reading it).
policyexampledir = $(sysconfdir)/synapse-janitor
nodist_policyexample_DATA = policy.yaml.example
policy.yaml.example: $(srcdir)/etc/policy.yaml
	$(AM_V_GEN)cp $(srcdir)/etc/policy.yaml $@
CLEANFILES += policy.yaml.example

if HAVE_TEST_DEPS
POLICY_CHECK_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) \
	-DTEST_POLICIES_DIR='"$(abs_top_srcdir)/tests/policies"' \
	-DTOP_SRCDIR='"$(abs_top_srcdir)"'
POLICY_CHECK_LDADD = libjanitor.la $(CHECK_LIBS)

check_PROGRAMS += check_policy check_duration check_token
TESTS += check_policy check_duration check_token

check_policy_SOURCES = tests/check_policy.c
check_policy_CFLAGS = $(POLICY_CHECK_CFLAGS)
check_policy_LDADD = $(POLICY_CHECK_LDADD)

check_duration_SOURCES = tests/check_duration.c
check_duration_CFLAGS = $(POLICY_CHECK_CFLAGS)
check_duration_LDADD = $(POLICY_CHECK_LDADD)

check_token_SOURCES = tests/check_token.c
check_token_CFLAGS = $(POLICY_CHECK_CFLAGS)
check_token_LDADD = $(POLICY_CHECK_LDADD)
endif

# Drives the real binary: needs nothing but the build.
TESTS += tests/policy-cli.sh

if FUZZING
noinst_PROGRAMS += fuzz_policy
fuzz_policy_SOURCES = tests/fuzz/fuzz_policy.c
fuzz_policy_CFLAGS = $(AM_CFLAGS)
fuzz_policy_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_policy_LDADD = libjanitor.la
endif

EXTRA_DIST += tests/policies tests/policy-cli.sh \
	tests/fuzz/corpus/policy
dist_man_MANS += man/synapse-janitor.yaml.5
