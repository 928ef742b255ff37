/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_METRICS_H
#define SJ_METRICS_H

#include <stdbool.h>

#include "report.h"
#include "buf.h"

/* The Prometheus text exposition of one run (DESIGN.md §7), for the
 * node_exporter textfile collector: gauges named synapse_janitor_*, each
 * family with its HELP and TYPE lines. Appended to out. */
void metrics_format(struct buf *out, const struct run_summary *s, bool success);

/* Write it to path atomically (node_exporter must never read half a file).
 * Returns 0 or a negative errno. */
int metrics_write(const char *path, const struct run_summary *s, bool success);

/* After every run, daemon or --once: writes path when set, and only warns
 * when it cannot (the metrics never decide a run's outcome). */
void metrics_after_run(const char *path, const struct run_summary *s, bool success);

#endif
