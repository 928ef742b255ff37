/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_RUN_H
#define SJ_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"
#include "room.h"

/* One run (DESIGN.md §2): scan, decide, act, record. Used by --once,
 * --apply and each scheduled wake-up of the daemon. */

struct run_options {
	const struct policy *policy;
	const char *token;
	bool force_dry_run;          /* --dry-run */
	const char *apply_csv;       /* --apply FILE, or NULL for a scan */
	/* Polled at least every 100 ms; true stops the run (no new requests). */
	bool (*should_stop)(void *ud);
	void *stop_ud;
};

struct run_summary {
	char run_id[40];
	int64_t started_ms;
	uint64_t duration_ms;
	uint64_t scanned;
	uint64_t counts[OUTCOME__MAX];
	uint64_t candidates;         /* record + delete verdicts */
	uint64_t requests;
	bool completed;              /* the run reached its end */
	bool interrupted;            /* should_stop ended it */
	bool applied;                /* --apply: rows of a CSV, nothing scanned */
	int exit_code;               /* 0 or 1 (DESIGN.md §4) */
	char failure[256];           /* why exit_code is 1, "" otherwise */
};

/* Returns the exit code (0, 1, or 2 for an unusable state/records path). */
int run_once(const struct run_options *o, struct run_summary *s);

/* The start-up check of the daemon (DESIGN.md §8): server_version (the URL),
 * whoami (the token) and one admin call (admin rights). Returns 0, -EACCES
 * when the token is refused (why says: missing, unknown, or not an admin),
 * or another negative errno (unreachable, not Synapse). Logs the version. */
int run_check_server(const struct policy *p, const char *token, char *why, size_t whylen);

/* The summary line of DESIGN.md §4. */
void run_summary_format(const struct run_summary *s, bool dry_run, char *buf, size_t len);

#endif
