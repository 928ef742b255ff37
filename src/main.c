/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>

#include "daemon.h"
#include "exit-codes.h"
#include "explain.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "run.h"
#include "runas.h"
#include "test-hooks.h"
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
		"failed; 2 usage error, invalid policy, unusable token file, or root starting\n"
		"a run in another user's state directory (it prints the runuser command).\n"
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
			printf("synapse-janitor %s%s\n", PACKAGE_VERSION, test_hooks_build());
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

/* The admin token lives in this process's memory: no core dump may carry
 * it (the unit sets LimitCORE=0 as well), and no process of the same user
 * may ptrace it out. */
static void forbid_core_dumps(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		log_warn("cannot turn core dumps off (prctl PR_SET_DUMPABLE): %s", strerror(errno));
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

	run_warn_token_exposure(p);
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

/* Root starting a run in the service user's state directory would leave
 * root-owned files there (the state file, its lock, the records) that the
 * service cannot open afterwards: stop before writing anything and say
 * how to run as that user. Under the shipped unit the daemon runs as the
 * user already, and a unit changed to run as root gets a root-owned
 * StateDirectory=, so this only stops hand-started runs. Returns 0 to go
 * on, or -EPERM when it said why not. */
static int check_run_user(const struct policy *p, char **argv)
{
	uid_t owner;
	char *user, *cmd;
	int r = runas_state_dir_owner(p->state_file, geteuid(), &owner);

	/* r < 0: the directory cannot be examined; the run reports that
	 * itself when it opens the state file. */
	if (r <= 0)
		return 0;
	user = runas_user_name(owner);
	if (!user) {
		fprintf(stderr,
			"synapse-janitor: the directory of %s belongs to uid %lu, not root; nothing was written.\n"
			"Run synapse-janitor as that uid, so that no file there ends up owned by root.\n",
			p->state_file, (unsigned long)owner);
		return -EPERM;
	}
	cmd = runas_command(user, argv);
	fprintf(stderr,
		"synapse-janitor: the directory of %s belongs to %s, not root; nothing was written.\n"
		"Run it as %s, so that no file there ends up owned by root:\n"
		"  %s\n",
		p->state_file, user, user, cmd);
	free(cmd);
	free(user);
	return -EPERM;
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
		fflush(stdout);
		run_warn_token_exposure(p);
		code = EXIT_OK;
	} else if (o.explain_room) {
		code = explain_one(&o, p);
	} else if (check_run_user(p, argv) < 0) {
		code = EXIT_USAGE;
	} else if (o.once || o.apply_csv) {
		forbid_core_dumps();
		code = run_one(&o, p);
	} else {
		forbid_core_dumps();
		code = daemon_main(o.policy_path, p, o.dry_run);
		p = NULL; /* the daemon owns (and reloads) the policy */
	}
	policy_free(p);
	return code;
}
