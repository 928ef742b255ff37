# SPDX-License-Identifier: GPL-3.0-or-later
# Tests of the deletion path: the state file, the caps, the --apply CSV
# reader, and the deletes end to end against the test homeserver; included
# from Makefile.am.
if HAVE_TEST_DEPS
check_PROGRAMS += check_state check_act check_apply check_delete
TESTS += check_state check_act check_apply check_delete
check_state_SOURCES = tests/check_state.c
check_act_SOURCES = tests/check_act.c
check_apply_SOURCES = tests/check_apply.c
check_delete_SOURCES = tests/check_delete.c
endif
EXTRA_DIST += tests/delete
