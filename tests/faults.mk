# SPDX-License-Identifier: GPL-3.0-or-later
# The fault matrix: every fault the test homeserver can inject, against a
# dry-run and a deleting policy; included from Makefile.am.
if HAVE_TEST_DEPS
check_PROGRAMS += check_faults
TESTS += check_faults
check_faults_SOURCES = tests/check_faults.c
endif
EXTRA_DIST += tests/faults
