# SPDX-License-Identifier: GPL-3.0-or-later
# Tests and programs of this area; included from Makefile.am.

# --- The systemd unit and the journal catalog --------------------------------

systemdsystemunit_DATA = systemd/synapse-janitor.service
dist_systemdcatalog_DATA = systemd/synapse-janitor.catalog
EXTRA_DIST += systemd/synapse-janitor.service.in
CLEANFILES += systemd/synapse-janitor.service

# configure does not substitute the unit itself (paths must be fully
# expanded, which AC_CONFIG_FILES cannot do for ${exec_prefix}).
systemd/synapse-janitor.service: systemd/synapse-janitor.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		$(srcdir)/systemd/synapse-janitor.service.in > $@.tmp && mv $@.tmp $@

# --- Manual page -------------------------------------------------------------

dist_man_MANS += man/synapse-janitor.8

# --- Tests -------------------------------------------------------------------

# Checks of the unit (systemd-analyze verify/security), the catalog and the
# manual page (mandoc -T lint). Needs the built daemon for verify.
TESTS += tests/unit-check.sh
dist_noinst_SCRIPTS += tests/unit-check.sh
tests/unit-check.log: synapse-janitor$(EXEEXT) systemd/synapse-janitor.service

if HAVE_TEST_DEPS
check_PROGRAMS += check_schedule check_metrics check_daemon
TESTS += check_schedule check_metrics check_daemon

check_schedule_SOURCES = tests/check_schedule.c
check_schedule_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
check_schedule_LDADD = libjanitor.la $(CHECK_LIBS)

check_metrics_SOURCES = tests/check_metrics.c
check_metrics_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
check_metrics_LDADD = libjanitor.la $(CHECK_LIBS)

# The real daemon binary against the fake homeserver, with a real
# NOTIFY_SOCKET. Runs after synapse-janitor and fake-synapse are built.
check_daemon_SOURCES = tests/check_daemon.c
check_daemon_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS)
check_daemon_LDADD = libtestlib.la $(CHECK_LIBS) $(CURL_LIBS) $(JSONC_LIBS) -lpthread
tests/check_daemon.log: synapse-janitor$(EXEEXT)
endif
