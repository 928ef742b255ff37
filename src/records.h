/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_RECORDS_H
#define SJ_RECORDS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "policy.h"
#include "report.h"

/* The candidates CSV (rewritten atomically per run) and the decisions JSONL
 * (appended), DESIGN.md §7. */

struct records;

/* Paths may hold strftime patterns, expanded with the run's start time. */
int records_open(const struct policy *p, int64_t run_start_ms, struct records **out);
int records_add(struct records *r, const struct decision *d);
/* Finish: rename the CSV into place (commit) or drop it. Returns 0 or -errno. */
int records_close(struct records *r, bool commit);
const char *records_csv_path(const struct records *r); /* NULL: no CSV */

#endif
