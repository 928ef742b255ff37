/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_DAEMON_H
#define SJ_DAEMON_H

#include <stdbool.h>

#include "policy.h"

/* The long-running service (DESIGN.md §8): sd-event loop, schedule, signals,
 * sd_notify, reload. Takes ownership of policy. Returns the exit code. */
int daemon_main(const char *policy_path, struct policy *policy, bool force_dry_run);

#endif
