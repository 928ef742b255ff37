/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_DAEMON_H
#define SJ_DAEMON_H

#include <stdbool.h>

#include "policy.h"

/* The check of the homeserver at start (and after a reload) gives up after
 * this long, whatever homeserver.timeout says: the unit's TimeoutStartSec=
 * (90 s) is above it, so a homeserver that never answers ends the start
 * with a message and exit status 1 (the unit restarts the service after
 * RestartSec=), not with systemd killing a silent process. Documented with
 * TimeoutStartSec in synapse-janitor(8); tests/unit-check.sh compares them. */
#define DAEMON_CHECK_DEADLINE_SEC 60

/* The long-running service (DESIGN.md §8): sd-event loop, schedule, signals,
 * sd_notify, reload. Takes ownership of policy. Returns the exit code. */
int daemon_main(const char *policy_path, struct policy *policy, bool force_dry_run);

#endif
