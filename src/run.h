/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_RUN_H
#define SJ_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"
#include "report.h"

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

/* Returns the exit code: 0, or 1 when the run could not complete (an
 * unreadable state file or unwritable records included). */
int run_once(const struct run_options *o, struct run_summary *s);

/* The start-up check of the daemon (DESIGN.md §8): server_version (the URL),
 * whoami (the token) and one admin call (admin rights). It waits through
 * should_stop (may be NULL) like a run: true ends it with -ECANCELED.
 * Returns 0, -EACCES when the token is refused (why says: missing, unknown,
 * or not an admin), -ECANCELED, or another negative errno (unreachable,
 * not Synapse). Logs the version. */
int run_check_server(const struct policy *p, const char *token, bool (*should_stop)(void *ud),
		     void *stop_ud, char *why, size_t whylen);

/* Warns (once, at the caller's start) when the policy would send the token
 * in clear to another machine or to an unverified TLS peer. */
void run_warn_token_exposure(const struct policy *p);

/* The start of a run without the run, for --explain: the HTTP client, the
 * server checked as a run checks it (server_version with the clock check,
 * whoami, one admin call) and the exact protect.aliases resolved. Writes
 * nothing: no state, no records, no journal entry of a run. */
struct run_probe {
	struct http_client *http;
	char *server_name;          /* ours, from whoami */
	char **protected_ids;       /* resolved exact aliases, sorted */
	size_t n_protected_ids;
	char *forbid_deletes;       /* why a run now would delete nothing, or NULL */
	char failure[256];          /* why run_probe_open failed */
};

/* Returns 0, or a negative errno with pr->failure set (-EACCES: the token
 * was refused). pr is to be closed with run_probe_close in every case. */
int run_probe_open(const struct policy *p, const char *token, bool (*should_stop)(void *ud),
		   void *stop_ud, struct run_probe *pr);
void run_probe_close(struct run_probe *pr);

#endif
