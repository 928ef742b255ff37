# SPDX-License-Identifier: GPL-3.0-or-later
# Tests of the deletion path: the state file, the caps, the --apply CSV
# reader; included from Makefile.am.
if HAVE_TEST_DEPS
ACT_CHECK_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS)
ACT_CHECK_LDADD = libjanitor.la $(CHECK_LIBS) $(JSONC_LIBS)

check_PROGRAMS += check_state check_act check_apply
TESTS += check_state check_act check_apply

check_state_SOURCES = tests/check_state.c
check_state_CFLAGS = $(ACT_CHECK_CFLAGS)
check_state_LDADD = $(ACT_CHECK_LDADD)

check_act_SOURCES = tests/check_act.c
check_act_CFLAGS = $(ACT_CHECK_CFLAGS)
check_act_LDADD = $(ACT_CHECK_LDADD)

check_apply_SOURCES = tests/check_apply.c
check_apply_CFLAGS = $(ACT_CHECK_CFLAGS)
check_apply_LDADD = $(ACT_CHECK_LDADD)
endif

if FUZZING
noinst_PROGRAMS += fuzz_csv
fuzz_csv_SOURCES = tests/fuzz/fuzz_csv.c
fuzz_csv_CFLAGS = $(AM_CFLAGS)
fuzz_csv_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_csv_LDADD = libjanitor.la
endif
EXTRA_DIST += tests/fuzz/fuzz_csv.c tests/fuzz/corpus/csv

# End to end against the test homeserver (tests/fake-synapse).
if HAVE_TEST_DEPS
check_PROGRAMS += check_delete
TESTS += check_delete
check_delete_SOURCES = tests/check_delete.c
check_delete_CFLAGS = $(ACT_CHECK_CFLAGS)
check_delete_LDADD = libtestlib.la $(ACT_CHECK_LDADD) $(CURL_LIBS)
endif
EXTRA_DIST += tests/delete
