/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "daemon.h"

/* Placeholder until the daemon lands. */
int daemon_main(const char *policy_path, struct policy *policy, bool force_dry_run)
{
	(void)policy_path; (void)policy; (void)force_dry_run;
	return 1;
}
