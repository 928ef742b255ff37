# SPDX-License-Identifier: GPL-3.0-or-later
# The fuzz harnesses (tests/fuzz/fuzz_*.c: the policy loader, the Admin API
# parsers, the --apply CSV reader) and their corpora; included from
# Makefile.am. A fuzzing build (--enable-fuzzing) links each harness with
# libFuzzer's main as fuzz_NAME; otherwise make check replays its corpus
# (seeds and every crasher found) through it as replay_NAME, with
# tests/fuzz/replay.c's main. No Check: these build without the test
# libraries.
if FUZZING
noinst_PROGRAMS += fuzz_policy fuzz_synapse fuzz_csv
fuzz_policy_SOURCES = tests/fuzz/fuzz_policy.c
fuzz_policy_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_policy_LDADD = libjanitor.la
fuzz_synapse_SOURCES = tests/fuzz/fuzz_synapse.c
fuzz_synapse_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_synapse_LDADD = libjanitor.la
fuzz_csv_SOURCES = tests/fuzz/fuzz_csv.c
fuzz_csv_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_csv_LDADD = libjanitor.la
else
check_PROGRAMS += replay_policy replay_synapse replay_csv
TESTS += replay_policy replay_synapse replay_csv
replay_policy_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_policy.c
replay_policy_CPPFLAGS = $(AM_CPPFLAGS) -DREPLAY_CORPUS='"policy"'
replay_policy_LDADD = libjanitor.la
replay_synapse_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_synapse.c
replay_synapse_CPPFLAGS = $(AM_CPPFLAGS) -DREPLAY_CORPUS='"synapse"'
replay_synapse_LDADD = libjanitor.la
replay_csv_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_csv.c
replay_csv_CPPFLAGS = $(AM_CPPFLAGS) -DREPLAY_CORPUS='"csv"'
replay_csv_LDADD = libjanitor.la
endif
EXTRA_DIST += tests/fuzz/corpus
