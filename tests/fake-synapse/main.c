/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fake-synapse: a test homeserver that answers the Synapse Admin API calls
 * synapse-janitor makes, with the shapes and quirks of a real Synapse, and
 * injects faults on demand. Prints "port N" once it listens. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fake-synapse [--port N] [--bind ADDR] (--fixture FILE | --generate N [--seed S])\n"
		   "       [--server-name NAME] [--admin-token T] [--user-token T] [--delete-style old|new]\n"
		   "       [--latency-ms N] [--threads N] [--port-file FILE]\n"
		   "       fake-synapse --silent [--port N] [--bind ADDR] [--port-file FILE]\n"
		   "         (accepts connections and never answers)\n");
}

static int parse_num(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || !*s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct config *cfg)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' }, { "bind", required_argument, NULL, 'b' },
		{ "fixture", required_argument, NULL, 'f' }, { "generate", required_argument, NULL, 'g' },
		{ "seed", required_argument, NULL, 's' }, { "server-name", required_argument, NULL, 'n' },
		{ "admin-token", required_argument, NULL, 'a' }, { "user-token", required_argument, NULL, 'u' },
		{ "delete-style", required_argument, NULL, 'd' }, { "latency-ms", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' }, { "port-file", required_argument, NULL, 'o' },
		{ "silent", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	long v;
	int c;

	*cfg = (struct config){ .bind = "127.0.0.1", .server_name = "test.local", .generate = -1,
				.admin_token = "admin-secret-token", .user_token = "user-token",
				.style = STYLE_OLD, .threads = 16 };
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': if (parse_num(optarg, 0, 65535, &v) < 0) goto bad; cfg->port = (int)v; break;
		case 'b': cfg->bind = optarg; break;
		case 'f': cfg->fixture = optarg; break;
		case 'g': if (parse_num(optarg, 0, 10000000, &v) < 0) goto bad; cfg->generate = v; break;
		case 's': cfg->seed = strtoull(optarg, NULL, 10); break;
		case 'n': cfg->server_name = optarg; break;
		case 'a': cfg->admin_token = optarg; break;
		case 'u': cfg->user_token = optarg; break;
		case 'd':
			if (strcmp(optarg, "old") != 0 && strcmp(optarg, "new") != 0)
				goto bad;
			cfg->style = strcmp(optarg, "new") == 0 ? STYLE_NEW : STYLE_OLD;
			break;
		case 'l': if (parse_num(optarg, 0, 600000, &v) < 0) goto bad; cfg->latency_ms = (int)v; break;
		case 't': if (parse_num(optarg, 1, 1024, &v) < 0) goto bad; cfg->threads = (int)v; break;
		case 'o': cfg->port_file = optarg; break;
		case 'S': cfg->silent = true; break;
		case 'h': usage(stdout); exit(0);
		default: goto bad;
		}
	}
	if (optind != argc || (!cfg->silent && (!cfg->fixture) == (cfg->generate < 0)))
		goto bad;
	return 0;
bad:
	usage(stderr);
	return -EINVAL;
}

static int load_world(struct fake *fk)
{
	char *err = NULL;

	world_init(&fk->world, fk->cfg.server_name);
	if (fk->cfg.fixture) {
		if (world_load_fixture(&fk->world, fk->cfg.fixture, &err) < 0) {
			fprintf(stderr, "fake-synapse: %s\n", err);
			free(err);
			return -EINVAL;
		}
	} else {
		world_generate(&fk->world, (size_t)fk->cfg.generate, fk->cfg.seed);
	}
	return 0;
}

/* The port file is complete before "port N" is printed: whoever waits for
 * the line may read the file at once. */
static int announce(const struct fake *fk, int port)
{
	char tmp[4096];
	FILE *f;

	if (fk->cfg.port_file) {
		snprintf(tmp, sizeof(tmp), "%s.tmp", fk->cfg.port_file);
		f = fopen(tmp, "w");
		if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 ||
		    rename(tmp, fk->cfg.port_file) != 0) {
			fprintf(stderr, "fake-synapse: cannot write %s\n", fk->cfg.port_file);
			return -EIO;
		}
	}
	printf("port %d\n", port);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct fake fk = { 0 };
	struct MHD_Daemon *d = NULL;
	sigset_t set;
	int port = 0, sig, rc = 1;

	if (parse_args(argc, argv, &fk.cfg) < 0)
		return 2;
	/* SIGTERM/SIGINT are taken by sigwait() below; block them before any
	 * thread starts so that none of them gets the signal instead. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (fk.cfg.silent)
		return silent_run(&fk, announce);
	pthread_mutex_init(&fk.lock, NULL);
	tasks_reset_rng(&fk.tasks, (uint64_t)fs_now_ms() ^ ((uint64_t)getpid() << 32));
	if (load_world(&fk) < 0)
		goto out;
	d = server_start(&fk, &port);
	if (!d || announce(&fk, port) < 0)
		goto out;
	while (sigwait(&set, &sig) != 0)
		;
	rc = 0;
out:
	if (d)
		server_stop(&fk, d);
	world_free(&fk.world);
	faults_clear(&fk.faults);
	stats_reset(&fk.stats);
	tasks_free(&fk.tasks);
	pthread_mutex_destroy(&fk.lock);
	return rc;
}
