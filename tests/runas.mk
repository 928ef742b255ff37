# SPDX-License-Identifier: GPL-3.0-or-later
# Who a run starts as (src/runas.c): its Check suite, and the real binary
# started by root in a state directory of another user's; included from
# Makefile.am.
if HAVE_TEST_DEPS
check_PROGRAMS += check_runas
TESTS += check_runas
check_runas_SOURCES = tests/check_runas.c
check_runas_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
check_runas_LDADD = libjanitor.la $(CHECK_LIBS)

# The real binary and the test homeserver (exit 77 when not root).
TESTS += tests/runas.sh
tests/runas.log: synapse-janitor$(EXEEXT) fake-synapse$(EXEEXT)
endif
dist_noinst_SCRIPTS += tests/runas.sh

# The Debian package, built, linted, installed and purged on this machine:
# run by scripts/test as a step of its own (it needs root and apt), not by
# make check.
dist_noinst_SCRIPTS += tests/package.sh
