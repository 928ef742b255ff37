# SPDX-License-Identifier: GPL-3.0-or-later
# The test homeserver and its Check suite; included from Makefile.am.
EXTRA_DIST += tests/fixtures
if HAVE_TEST_DEPS
noinst_PROGRAMS += fake-synapse
fake_synapse_SOURCES = \
	tests/fake-synapse/fake.h \
	tests/fake-synapse/main.c \
	tests/fake-synapse/server.c \
	tests/fake-synapse/routes.c \
	tests/fake-synapse/hooks.c \
	tests/fake-synapse/rooms.c \
	tests/fake-synapse/timeline.c \
	tests/fake-synapse/events.c \
	tests/fake-synapse/tasks.c \
	tests/fake-synapse/faults.c \
	tests/fake-synapse/stats.c \
	tests/fake-synapse/world.c \
	tests/fake-synapse/fixture.c \
	tests/fake-synapse/generate.c \
	tests/fake-synapse/jsonw.c \
	tests/fake-synapse/mem.c
# A server, not a suite: no libjanitor, no Check.
fake_synapse_LDADD = $(MHD_LIBS) $(JSONC_LIBS) -lm -lpthread

check_PROGRAMS += check_fake_synapse
TESTS += check_fake_synapse
check_fake_synapse_SOURCES = tests/check_fake_synapse.c
endif
