# SPDX-License-Identifier: GPL-3.0-or-later
# The fuzz corpora (seeds and every crasher found) replayed through their
# harnesses by make check; included from Makefile.am. A fuzzing build links
# the harnesses with libFuzzer's own main instead.
if !FUZZING
check_PROGRAMS += replay_policy replay_synapse replay_csv
TESTS += replay_policy replay_synapse replay_csv

replay_policy_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_policy.c
replay_policy_CPPFLAGS = $(AM_CPPFLAGS) -DREPLAY_CORPUS='"policy"'
replay_policy_LDADD = libjanitor.la

replay_synapse_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_synapse.c
replay_synapse_CPPFLAGS = $(AM_CPPFLAGS) -DREPLAY_CORPUS='"synapse"'
replay_synapse_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
replay_synapse_LDADD = libjanitor.la $(CURL_LIBS) $(JSONC_LIBS)

replay_csv_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_csv.c
replay_csv_CPPFLAGS = $(AM_CPPFLAGS) -DREPLAY_CORPUS='"csv"'
replay_csv_LDADD = libjanitor.la
endif
EXTRA_DIST += tests/fuzz/replay.c
