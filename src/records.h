/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_RECORDS_H
#define SJ_RECORDS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "policy.h"
#include "report.h"

/* The candidates CSV (rewritten atomically by each run that listed every
 * room) and the decisions JSONL (appended, one write(2) per line, fsynced
 * at the end of each run), DESIGN.md §7. */

struct records;

/* Paths may hold strftime patterns, expanded with the run's start time. */
int records_open(const struct policy *p, int64_t run_start_ms, struct records **out);
/* Returns 0 or the first write error so far (the rest of the run's lines
 * still go where they can). */
int records_add(struct records *r, const struct decision *d);
/* Finish: rename the CSV into place (commit: the listing finished) or drop
 * it, and fsync the JSONL. Returns 0 or the first error, with why (may be
 * NULL) saying "PATH: error text". */
int records_close(struct records *r, bool commit, char *why, size_t whylen);
const char *records_csv_path(const struct records *r);   /* NULL: no CSV */
const char *records_jsonl_path(const struct records *r); /* NULL: no JSONL */

#endif
