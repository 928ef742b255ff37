# SPDX-License-Identifier: GPL-3.0-or-later
# Tests of the decision, the records and the run; included from Makefile.am.
if HAVE_TEST_DEPS
check_PROGRAMS += check_decide check_records check_e2e
TESTS += check_decide check_records check_e2e tests/journal.sh
check_decide_SOURCES = tests/check_decide.c
check_records_SOURCES = tests/check_records.c
check_e2e_SOURCES = tests/check_e2e.c
endif
EXTRA_DIST += tests/e2e tests/quiet tests/journal.sh

# The real binary against a real Synapse 1.68.0, brought up by
# ../shared/realsyn/bringup.sh beside the clone (skipped where that is
# missing, as under make distcheck). Needs python3, curl and journalctl.
TESTS += tests/realsyn.sh
EXTRA_DIST += tests/realsyn.sh

# The end-to-end tests again, with the program under test run by valgrind
# (tests/testlib.c and the scripts honour SJ_TEST_WRAPPER); a valgrind
# error or a definite/indirect leak exits 99, which no test expects.
VALGRIND_TESTS = check_e2e check_delete check_daemon check_faults tests/journal.sh tests/policy-cli.sh \
	tests/realsyn.sh
VALGRIND_CMD = $(VALGRIND) -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
check-valgrind:
if SANITIZERS
	@echo "check-valgrind: valgrind cannot run a sanitizer build; configure without --enable-sanitizers" >&2; exit 1
else
if HAVE_VALGRIND
	SJ_TEST_WRAPPER='$(VALGRIND_CMD)' $(MAKE) $(AM_MAKEFLAGS) check TESTS='$(VALGRIND_TESTS)'
else
	@echo "check-valgrind: valgrind not found (apt-get install valgrind), configure again" >&2; exit 1
endif
endif
.PHONY: check-valgrind
