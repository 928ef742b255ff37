/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "run.h"

/* Placeholder until the run lands. */
int run_once(const struct run_options *o, struct run_summary *s)
{
	(void)o; (void)s;
	return 1;
}
