/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "policy.h"

#include <errno.h>
#include <stdlib.h>

/* Placeholder until the loader lands. */
int policy_load(const char *path, struct policy **out, struct policy_errors *errs)
{
	(void)path; (void)out; (void)errs;
	return -ENOSYS;
}
void policy_free(struct policy *p) { free(p); }
void policy_errors_free(struct policy_errors *errs) { (void)errs; }
void policy_print_summary(const struct policy *p, FILE *f) { (void)p; (void)f; }
