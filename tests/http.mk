# SPDX-License-Identifier: GPL-3.0-or-later
# Tests of the JSON helpers, the Admin API client and the HTTP engine;
# included from Makefile.am.
if HAVE_TEST_DEPS
check_PROGRAMS += check_json check_synapse check_http
TESTS += check_json check_synapse check_http
check_json_SOURCES = tests/check_json.c
check_synapse_SOURCES = tests/check_synapse.c tests/capture.c tests/capture.h
check_http_SOURCES = tests/check_http.c
endif
