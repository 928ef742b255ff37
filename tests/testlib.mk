# SPDX-License-Identifier: GPL-3.0-or-later
# What every Check suite shares; included from Makefile.am. A suite names
# only its sources: it is compiled with AM_CFLAGS and linked with LDADD,
# the defaults below, which the targets of the installed program override.
# (A library configure did not find adds empty flags.)
AM_CFLAGS += -pthread $(CHECK_CFLAGS) $(MHD_CFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS)
LDADD = libtestlib.la libjanitor.la $(CHECK_LIBS) $(MHD_LIBS) $(CURL_LIBS) $(JSONC_LIBS)

# The test library: the test homeserver as a child process, the test world
# of the end-to-end suites (testlib.c), and the main() of every suite
# (suite.c, its own object, so a suite that needs only that pulls in
# nothing else).
if HAVE_TEST_DEPS
check_LTLIBRARIES = libtestlib.la
libtestlib_la_SOURCES = tests/testlib.c tests/testlib.h tests/suite.c tests/suite.h
endif
