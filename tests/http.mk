# SPDX-License-Identifier: GPL-3.0-or-later
# Tests of the JSON helpers, the Admin API client and the HTTP engine;
# included from Makefile.am.
if HAVE_TEST_DEPS
HTTP_CHECK_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(MHD_CFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS)
HTTP_CHECK_LDADD = libjanitor.la $(CHECK_LIBS) $(MHD_LIBS) $(CURL_LIBS) $(JSONC_LIBS)

check_PROGRAMS += check_json check_synapse check_http
TESTS += check_json check_synapse check_http

check_json_SOURCES = tests/check_json.c
check_json_CFLAGS = $(HTTP_CHECK_CFLAGS)
check_json_LDADD = $(HTTP_CHECK_LDADD)

check_synapse_SOURCES = tests/check_synapse.c tests/capture.c tests/capture.h
check_synapse_CFLAGS = $(HTTP_CHECK_CFLAGS)
check_synapse_LDADD = $(HTTP_CHECK_LDADD)

check_http_SOURCES = tests/check_http.c
check_http_CFLAGS = $(HTTP_CHECK_CFLAGS)
check_http_LDADD = $(HTTP_CHECK_LDADD)
endif

if FUZZING
noinst_PROGRAMS += fuzz_synapse
fuzz_synapse_SOURCES = tests/fuzz/fuzz_synapse.c
fuzz_synapse_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
fuzz_synapse_LDFLAGS = $(FUZZ_LDFLAGS)
fuzz_synapse_LDADD = libjanitor.la $(CURL_LIBS) $(JSONC_LIBS)
endif
EXTRA_DIST += tests/fuzz/corpus/synapse
