/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "exit-codes.h"
#include "explain.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "run.h"
#include "token.h"

#define DEFAULT_POLICY SYSCONFDIR "/synapse-janitor/policy.yaml"


struct options {
	const char *policy_path;
	const char *apply_csv;
	const char *explain_room;
	enum log_target log_target;
	bool once;
	bool dry_run;
	bool check_config;
	bool verbose;
};

static void print_help(FILE *f)
{
	fprintf(f,
		"Usage: synapse-janitor [OPTIONS]\n"
		"Keep a Matrix Synapse homeserver free of abandoned rooms, by policy.\n"
		"\n"
		"  -c, --config=FILE       policy file (default " DEFAULT_POLICY ")\n"
		"      --once              one run now, then exit (default: run as a daemon)\n"
		"      --apply=FILE        delete the rooms still listed in a reviewed candidates CSV\n"
		"      --explain=ROOM_ID   explain what the next run would do with one room, and why\n"
		"  -n, --dry-run           decide and record, delete nothing (overrides the policy)\n"
		"      --check-config      validate the policy, print a summary, exit\n"
		"      --log-target=TARGET auto (default), journal or console\n"
		"  -v, --verbose           also log rooms that are simply kept\n"
		"  -h, --help              show this help and exit\n"
		"  -V, --version           show the version and exit\n"
		"\n"
		"Exit status: 0 the run completed; 1 the run could not complete or a delete\n"
		"failed; 2 usage error, invalid policy or unusable token file.\n"
		"See synapse-janitor(8) and synapse-janitor.yaml(5).\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_ONCE = 256, OPT_APPLY, OPT_EXPLAIN, OPT_CHECK, OPT_LOG_TARGET };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "apply", required_argument, NULL, OPT_APPLY },
		{ "explain", required_argument, NULL, OPT_EXPLAIN },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "log-target", required_argument, NULL, OPT_LOG_TARGET },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:nvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->policy_path = optarg;
			break;
		case OPT_ONCE:
			o->once = true;
			break;
		case OPT_APPLY:
			o->apply_csv = optarg;
			break;
		case OPT_EXPLAIN:
			o->explain_room = optarg;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case OPT_CHECK:
			o->check_config = true;
			break;
		case OPT_LOG_TARGET:
			if (log_target_from_string(optarg, &o->log_target) < 0) {
				fprintf(stderr, "synapse-janitor: --log-target: '%s' is not one of auto, journal, console\n", optarg);
				return -EINVAL;
			}
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			print_help(stdout);
			exit(EXIT_OK);
		case 'V':
			printf("synapse-janitor %s\n", PACKAGE_VERSION);
			exit(EXIT_OK);
		default:
			fprintf(stderr, "Try 'synapse-janitor --help'.\n");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "synapse-janitor: unexpected argument '%s'\nTry 'synapse-janitor --help'.\n", argv[optind]);
		return -EINVAL;
	}
	if (o->once && o->apply_csv) {
		fprintf(stderr, "synapse-janitor: --once and --apply cannot be combined\n");
		return -EINVAL;
	}
	if (o->explain_room && (o->once || o->apply_csv || o->check_config)) {
		fprintf(stderr, "synapse-janitor: --explain cannot be combined with --once, --apply or --check-config\n");
		return -EINVAL;
	}
	return 0;
}

static int load_policy(const char *path, struct policy **out)
{
	struct policy_errors errs = { 0 };
	int r = policy_load(path, out, &errs);

	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.lines[i]);
	if (r < 0 && errs.n == 0)
		fprintf(stderr, "%s: %s\n", path, strerror(-r));
	policy_errors_free(&errs);
	return r;
}

/* SIGTERM/SIGINT during --once or --apply: the run stops at its next
 * check (every 100 ms at most), leaves what is in flight to the state file
 * and exits 1 (DESIGN.md §8), instead of dying mid-write. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static bool one_run_should_stop(void *ud)
{
	(void)ud;
	return stop_requested != 0;
}

static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static int run_one(const struct options *o, const struct policy *p)
{
	struct run_options ro = {
		.policy = p,
		.force_dry_run = o->dry_run,
		.apply_csv = o->apply_csv,
		.should_stop = one_run_should_stop,
	};
	struct run_summary s = { 0 };
	char err[512], *token = NULL;
	int code;

	if (token_read(p, &token, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return EXIT_USAGE;
	}
	ro.token = token;
	catch_stop_signals();
	code = run_once(&ro, &s);
	metrics_after_run(p->metrics_file, &s, code == 0 && s.completed);
	token_free(token);
	return code;
}

/* --explain ROOM: read-only; prints for a person on standard output. */
static int explain_one(const struct options *o, const struct policy *p)
{
	struct explain_options eo = {
		.policy = p,
		.room_id = o->explain_room,
		.force_dry_run = o->dry_run,
		.should_stop = one_run_should_stop,
	};
	char err[512], *token = NULL;
	int code;

	if (!room_id_valid(o->explain_room)) {
		fprintf(stderr, "synapse-janitor: --explain: '%s' is not a room id (expected '!' and up to 254 "
			"more bytes without spaces or control characters)\n", o->explain_room);
		return EXIT_USAGE;
	}
	if (token_read(p, &token, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return EXIT_USAGE;
	}
	eo.token = token;
	catch_stop_signals();
	code = explain_room(&eo, stdout);
	token_free(token);
	return code;
}

int main(int argc, char **argv)
{
	struct options o = { .policy_path = DEFAULT_POLICY, .log_target = LOG_TARGET_AUTO };
	struct policy *p = NULL;
	int code;

	/* Buffers of 64 KiB and more (page bodies, the de-duplication set, the
	 * candidates) get their own mappings, returned when freed: glibc would
	 * otherwise raise this threshold as they are freed and keep a run's
	 * high-water mark in the heap for the daemon's whole life. */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	if (parse_options(argc, argv, &o) < 0)
		return EXIT_USAGE;
	/* --check-config and --explain talk to a person: never to the journal. */
	log_init(o.check_config || o.explain_room ? LOG_TARGET_CONSOLE : o.log_target, o.verbose);
	if (load_policy(o.policy_path, &p) < 0)
		return EXIT_USAGE;
	if (o.check_config) {
		policy_print_summary(p, stdout);
		code = EXIT_OK;
	} else if (o.explain_room) {
		code = explain_one(&o, p);
	} else if (o.once || o.apply_csv) {
		code = run_one(&o, p);
	} else {
		code = daemon_main(o.policy_path, p, o.dry_run);
		p = NULL; /* the daemon owns (and reloads) the policy */
	}
	policy_free(p);
	return code;
}
