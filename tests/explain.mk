# SPDX-License-Identifier: GPL-3.0-or-later
# --explain and the size guard, end to end against the test homeserver;
# included from Makefile.am.
if HAVE_TEST_DEPS
check_PROGRAMS += check_explain
TESTS += check_explain
check_explain_SOURCES = tests/check_explain.c
check_explain_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS)
check_explain_LDADD = libtestlib.la libjanitor.la $(CHECK_LIBS) $(CURL_LIBS) $(JSONC_LIBS)
endif
# Also under valgrind (make check-valgrind): it drives the real binary.
VALGRIND_TESTS += check_explain
