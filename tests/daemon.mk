# SPDX-License-Identifier: GPL-3.0-or-later
# Tests of the schedule, the metrics file, the daemon, the unit, the
# catalog and the manual page; included from Makefile.am.

# Checks of the unit (systemd-analyze verify/security), the catalog and the
# manual page (mandoc -T lint). Runs the installed program (verify needs
# ExecStart's binary), which make builds before any test.
TESTS += tests/unit-check.sh
dist_noinst_SCRIPTS += tests/unit-check.sh

if HAVE_TEST_DEPS
check_PROGRAMS += check_schedule check_metrics check_daemon
TESTS += check_schedule check_metrics check_daemon
check_schedule_SOURCES = tests/check_schedule.c
check_metrics_SOURCES = tests/check_metrics.c
# The test build of the daemon against the fake homeserver, with a real
# NOTIFY_SOCKET.
check_daemon_SOURCES = tests/check_daemon.c
endif
