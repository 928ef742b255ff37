/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "log.h"
#include "file.h"
#include "metrics.h"
#include "report.h"

#define PREFIX "synapse_janitor_"

static void family(struct buf *out, const char *name, const char *help)
{
	buf_printf(out, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s gauge\n", name, help, name);
}

static void gauge_u64(struct buf *out, const char *name, const char *help, uint64_t v)
{
	family(out, name, help);
	buf_printf(out, PREFIX "%s %" PRIu64 "\n", name, v);
}

/* Seconds with millisecond precision, from milliseconds: printed from
 * integers so no float rounding shows up in the file. */
static void gauge_ms(struct buf *out, const char *name, const char *help, int64_t ms)
{
	const char *sign = ms < 0 ? "-" : "";
	uint64_t a = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;

	family(out, name, help);
	buf_printf(out, PREFIX "%s %s%" PRIu64 ".%03" PRIu64 "\n", name, sign, a / 1000, a % 1000);
}

void metrics_format(struct buf *out, const struct run_summary *s, bool success)
{
	gauge_ms(out, "last_run_timestamp_seconds",
		 "Time the last run ended, in seconds since the epoch.",
		 s->started_ms + (int64_t)s->duration_ms);
	gauge_u64(out, "last_run_success", "1 if the last run completed without a failure, else 0.",
		  success ? 1 : 0);
	gauge_ms(out, "last_run_duration_seconds", "Duration of the last run in seconds.",
		 (int64_t)s->duration_ms);
	gauge_u64(out, "rooms_scanned", "Rooms listed by the last run.", s->scanned);
	gauge_u64(out, "candidates", "Rooms a rule matched in the last run (record and delete).",
		  s->candidates);
	gauge_u64(out, "deleted", "Rooms deleted by the last run.", s->counts[OUTCOME_DELETED]);
	gauge_u64(out, "failed", "Deletes that failed in the last run.", s->counts[OUTCOME_FAILED]);
	gauge_u64(out, "requests", "HTTP requests sent to the homeserver by the last run.",
		  s->requests);
	family(out, "rooms", "Rooms of the last run by outcome.");
	for (unsigned o = 0; o < OUTCOME__MAX; o++)
		buf_printf(out, PREFIX "rooms{outcome=\"%s\"} %" PRIu64 "\n",
			   report_outcome_name((enum outcome)o), s->counts[o]);
}

void metrics_after_run(const char *path, const struct run_summary *s, bool success)
{
	int r;

	if (!path)
		return;
	r = metrics_write(path, s, success);
	if (r < 0)
		log_warn("cannot write the metrics file %s: %s", path, strerror(-r));
}

int metrics_write(const char *path, const struct run_summary *s, bool success)
{
	struct buf b = { 0 };
	int r;

	metrics_format(&b, s, success);
	/* World-readable: node_exporter runs as another user (the unit's
	 * UMask= still applies; see synapse-janitor(8)). */
	r = file_write_atomic(path, b.data, b.len, 0644);
	buf_free(&b);
	return r;
}
