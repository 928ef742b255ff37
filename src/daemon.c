/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The long-running service (DESIGN.md §8). The one file that uses sd-event
 * and sd-daemon.
 *
 * Shape: signal, timer and clock-change sources only set flags; the main
 * loop does the work. A run is blocking: run_once() polls should_stop at
 * least every 100 ms, and that hook turns the loop (sd_event_run with a zero
 * timeout: we are never inside a dispatch there) so signals and the watchdog
 * are served during a run. So runs never overlap, by construction. The
 * checks of the homeserver at start and after a reload wait through the
 * same hook, with a deadline of their own. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "clock.h"
#include "daemon.h"
#include "exit-codes.h"
#include "log.h"
#include "message-ids.h"
#include "metrics.h"
#include "policy.h"
#include "random.h"
#include "run.h"
#include "schedule.h"
#include "token.h"

#define USEC_PER_SEC UINT64_C(1000000)
#define USEC_PER_MSEC UINT64_C(1000)
/* Scheduled runs need no better precision; sd-event may coalesce wake-ups
 * within it. */
#define TIMER_ACCURACY (100 * USEC_PER_MSEC)
/* The clock-change timerfd is armed this far ahead: it is there only to be
 * cancelled by a clock change, not to expire. */
#define CLOCK_WATCH_AHEAD_SEC (10 * 365 * 86400LL)


struct daemon {
	sd_event *event;
	const char *policy_path;
	struct policy *policy;
	char *token;
	bool force_dry_run;

	/* Set by event sources, acted on by the main loop. */
	bool stop;
	bool reload_requested;
	bool run_due;
	bool running;
	bool stopping_notified;
	bool checking;                /* a check of the homeserver is in progress */
	bool check_timed_out;
	uint64_t check_deadline;      /* CLOCK_MONOTONIC usec, while checking */

	sd_event_source *run_timer;
	sd_event_source *watchdog_timer;
	sd_event_source *clock_watch;
	sd_event_source *signals[4];
	int clock_fd;
	uint64_t watchdog_interval;   /* usec, 0 = no watchdog */

	struct schedule_memory at;    /* at: the slot waited for, the one that ran */
	bool slot_due;                /* the run timer fired: the run due is the slot's */
	uint64_t every_base;          /* CLOCK_BOOTTIME usec every: counts from */
	int64_t next_run_ms;          /* wall clock, for STATUS and the journal */
	char last_run[640];           /* the last run's summary, "" before one */
};

static bool effective_dry_run(const struct daemon *d)
{
	return d->force_dry_run || d->policy->dry_run;
}

static void format_local(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms < 0 || !localtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(buf, len, "(none)");
}

/* STATUS= of systemctl status: the last run and the next one. */
static void notify_status(const struct daemon *d, const char *prefix)
{
	char next[64];

	format_local(d->next_run_ms, next, sizeof(next));
	sd_notifyf(0, "%sSTATUS=%s%snext run at %s%s", prefix ? prefix : "", d->last_run,
		   d->last_run[0] ? "; " : "", next, effective_dry_run(d) ? " (dry-run)" : "");
}

static void notice_stop(struct daemon *d)
{
	if (!d->stop || d->stopping_notified)
		return;
	d->stopping_notified = true;
	sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
	log_event(LOG_INFO, MSGID_DAEMON_STOPPING, NULL, 0,
		  d->running ? "stopping: ending the current run" : "stopping");
}

/* --- Schedule ----------------------------------------------------------- */

static int on_run_timer(sd_event_source *s, uint64_t usec, void *ud)
{
	struct daemon *d = ud;

	/* A run started by SIGUSR1 may still be going: it stands for this
	 * slot (no catch-up); the schedule is re-armed when it ends. */
	if (d->running) {
		log_info("scheduled run skipped: a run is in progress");
		schedule_slot_done(&d->at);
	} else {
		d->run_due = true;
		d->slot_due = true;
	}
	return 0;
}

/* Arm the timer of the next scheduled run: at: on CLOCK_REALTIME, planned
 * from what was remembered (schedule_plan_at: a slot whose time has come
 * runs once, even after a clock change; one that ran never again); every:
 * on CLOCK_BOOTTIME, which counts suspend, with a fresh randomized delay.
 * A deadline already past fires at once. */
static int arm_schedule(struct daemon *d)
{
	const struct policy *p = d->policy;
	uint64_t delay, deadline;
	clockid_t clock;
	char when[64], rfc[40], field[64];
	const char *fields[1];
	int r;

	d->run_timer = sd_event_source_unref(d->run_timer);
	if (p->schedule.n_at > 0) {
		time_t now = time(NULL);

		r = schedule_plan_at(p, now, NULL, random_u64(), &d->at, &deadline);
		if (r < 0)
			return r;
		clock = CLOCK_REALTIME;
		d->next_run_ms = (int64_t)(deadline / USEC_PER_MSEC);
		if (d->next_run_ms <= (int64_t)now * 1000) {
			format_local(d->at.slot * 1000, when, sizeof(when));
			log_info("the run due at %s has not been made yet: it starts now", when);
		}
	} else {
		uint64_t now = clock_usec(CLOCK_BOOTTIME);

		delay = schedule_random_delay(p->schedule.randomized_delay, random_u64());
		clock = CLOCK_BOOTTIME;
		deadline = schedule_next_every(d->every_base, clock_usec_after(0, p->schedule.every), now);
		if (deadline == UINT64_MAX)
			return -ERANGE;
		deadline += delay;
		d->next_run_ms = (int64_t)((clock_usec(CLOCK_REALTIME) + (deadline - now)) / USEC_PER_MSEC);
	}
	r = sd_event_add_time(d->event, &d->run_timer, clock, deadline, TIMER_ACCURACY,
			      on_run_timer, d);
	if (r < 0)
		return r;
	format_local(d->next_run_ms, when, sizeof(when));
	clock_format_rfc3339(d->next_run_ms, rfc, sizeof(rfc));
	snprintf(field, sizeof(field), "NEXT_RUN=%s", rfc);
	fields[0] = field;
	log_event(LOG_INFO, MSGID_NEXT_RUN, fields, 1, "next run at %s", when);
	return 0;
}

/* The clock-change watch: a CLOCK_REALTIME timerfd with
 * TFD_TIMER_CANCEL_ON_SET is cancelled (read() fails with ECANCELED)
 * whenever the wall clock is set, which is when at: times must be
 * recomputed. */
static int clock_watch_arm(int fd)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = time(NULL) + CLOCK_WATCH_AHEAD_SEC;
	if (timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) < 0)
		return -errno;
	return 0;
}

static int on_clock_change(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct daemon *d = ud;
	uint64_t expirations;
	int r;

	if (read(fd, &expirations, sizeof(expirations)) >= 0 || errno != ECANCELED) {
		/* Expired (ten years on) or spurious: just re-arm. */
		r = clock_watch_arm(fd);
		if (r < 0)
			log_warn("cannot re-arm the clock-change watch: %s", strerror(-r));
		return 0;
	}
	r = clock_watch_arm(fd);
	if (r < 0)
		log_warn("cannot re-arm the clock-change watch: %s", strerror(-r));
	log_info("the system clock was changed: recomputing the next run");
	/* During a run, or a check of the homeserver, the schedule is re-armed
	 * when it ends. */
	if (!d->running && !d->checking && d->policy->schedule.n_at > 0) {
		r = arm_schedule(d);
		if (r < 0)
			log_error("cannot arm the schedule: %s", strerror(-r));
		notify_status(d, NULL);
	}
	return 0;
}

static int clock_watch_add(struct daemon *d)
{
	int r;

	d->clock_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->clock_fd < 0)
		return -errno;
	r = clock_watch_arm(d->clock_fd);
	if (r < 0)
		return r;
	r = sd_event_add_io(d->event, &d->clock_watch, d->clock_fd, EPOLLIN, on_clock_change, d);
	if (r < 0)
		return r;
	/* Before the run timer, which may be due at the same wake-up after
	 * the clock jumped past it: recompute first. */
	return sd_event_source_set_priority(d->clock_watch, SD_EVENT_PRIORITY_IMPORTANT);
}

/* --- Watchdog ----------------------------------------------------------- */

static int on_watchdog(sd_event_source *s, uint64_t usec, void *ud)
{
	struct daemon *d = ud;
	int r;

	sd_notify(0, "WATCHDOG=1");
	r = sd_event_source_set_time(s, usec + d->watchdog_interval);
	if (r >= 0)
		r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	if (r < 0)
		log_error("cannot re-arm the watchdog timer: %s", strerror(-r));
	return 0;
}

static int watchdog_add(struct daemon *d)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	/* Half the period, as sd_watchdog_enabled(3) recommends. */
	d->watchdog_interval = usec / 2;
	return sd_event_add_time(d->event, &d->watchdog_timer, CLOCK_MONOTONIC,
				 clock_usec(CLOCK_MONOTONIC) + d->watchdog_interval, 0, on_watchdog, d);
}

/* --- Signals ------------------------------------------------------------ */

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	struct daemon *d = ud;

	switch (si->ssi_signo) {
	case SIGTERM:
	case SIGINT:
		d->stop = true;
		break;
	case SIGHUP:
		d->reload_requested = true;
		break;
	case SIGUSR1:
		if (d->running)
			log_info("SIGUSR1: a run is in progress, not starting another");
		else
			d->run_due = true;
		break;
	}
	return 0;
}

static int signals_add(struct daemon *d)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		r = sd_event_add_signal(d->event, &d->signals[i], sigs[i], on_signal, d);
		if (r < 0)
			return r;
	}
	return 0;
}

/* sd-event needs its signals blocked; block them before anything else so
 * a SIGTERM during the start-up check is not lost but handled. */
static void signals_block(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* --- The homeserver and the token ---------------------------------------- */

/* The stop hook of runs and checks, called at least every 100 ms: serve
 * the loop (signals, watchdog, clock changes) without blocking. Legal here:
 * runs and checks are called from daemon_main and the main loop, never from
 * inside a dispatch. */
static bool daemon_should_stop(void *ud)
{
	struct daemon *d = ud;

	for (int i = 0; i < 16; i++)
		if (sd_event_run(d->event, 0) <= 0)
			break;
	notice_stop(d);
	return d->stop;
}

/* The hook of a check of the homeserver: a run's, and its deadline. */
static bool daemon_check_should_stop(void *ud)
{
	struct daemon *d = ud;

	if (daemon_should_stop(d))
		return true;
	if (clock_usec(CLOCK_MONOTONIC) < d->check_deadline)
		return false;
	d->check_timed_out = true;
	return true;
}

/* The check at start and after a reload (DESIGN.md §8). It waits through
 * the stop hook, so signals and the watchdog are served, and gives up after
 * DAEMON_CHECK_DEADLINE_SEC. Returns 0, -EACCES (token refused), -ECANCELED
 * (stopped by a signal), -ETIMEDOUT (the deadline), or another negative
 * errno (logged as a warning: the server may come back before the run). */
static int check_homeserver(struct daemon *d, bool at_start)
{
	const char *url = d->policy->homeserver.url;
	char why[256] = "";
	int r;

	d->checking = true;
	d->check_timed_out = false;
	d->check_deadline = clock_usec_after(clock_usec(CLOCK_MONOTONIC), DAEMON_CHECK_DEADLINE_SEC);
	sd_notifyf(0, "STATUS=Checking the homeserver at %s", url);
	r = run_check_server(d->policy, d->token, daemon_check_should_stop, d, why, sizeof(why));
	d->checking = false;
	if (r == -ECANCELED && d->check_timed_out)
		r = -ETIMEDOUT;
	if (r == -EACCES)
		log_event(LOG_ERR, MSGID_AUTH_REFUSED, NULL, 0,
			  "the homeserver refused the admin token: %s", why[0] ? why : "refused");
	else if (r == -ETIMEDOUT && at_start)
		log_event(LOG_ERR, MSGID_SERVER_ERROR, NULL, 0,
			  "the start-up check of the homeserver at %s did not end within %d s (%s); "
			  "exiting with status %d, to be started again later", url,
			  DAEMON_CHECK_DEADLINE_SEC, why, EXIT_RUN_FAILED);
	else if (r == -ETIMEDOUT)
		log_event(LOG_WARNING, MSGID_SERVER_ERROR, NULL, 0,
			  "the check of the homeserver at %s did not end within %d s (%s); "
			  "continuing, the run will try again", url, DAEMON_CHECK_DEADLINE_SEC, why);
	else if (r < 0 && r != -ECANCELED)
		log_event(LOG_WARNING, MSGID_SERVER_ERROR, NULL, 0,
			  "cannot check the homeserver at %s: %s (continuing; the run will try again)",
			  url, why[0] ? why : strerror(-r));
	return r;
}

static bool schedule_usable(const struct policy *p)
{
	return p->schedule.present && (p->schedule.n_at > 0 || p->schedule.every > 0);
}

static void log_policy_errors(const char *path, int r, const struct policy_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		log_event(LOG_ERR, MSGID_POLICY_INVALID, NULL, 0, "%s", errs->lines[i]);
	if (errs->n == 0)
		log_event(LOG_ERR, MSGID_POLICY_INVALID, NULL, 0, "%s: %s", path, strerror(-r));
}

/* SIGHUP: load into a fresh struct; only a valid policy with a usable
 * schedule and a readable token replaces the current one. */
static void apply_reload(struct daemon *d)
{
	struct policy_errors errs = { 0 };
	struct policy *np = NULL;
	char err[512], *token = NULL;
	int r;

	d->reload_requested = false;
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\nSTATUS=Reloading the policy",
		   clock_usec(CLOCK_MONOTONIC));
	r = policy_load(d->policy_path, &np, &errs);
	if (r < 0) {
		log_policy_errors(d->policy_path, r, &errs);
		log_error("reload: %s is invalid, keeping the current policy", d->policy_path);
		goto out;
	}
	if (!schedule_usable(np)) {
		log_event(LOG_ERR, MSGID_POLICY_INVALID, NULL, 0,
			  "%s: no schedule: section (the daemon needs schedule.at or schedule.every); keeping the current policy",
			  d->policy_path);
		goto out;
	}
	if (token_read(np, &token, err, sizeof(err)) < 0) {
		log_error("reload: %s; keeping the current policy", err);
		goto out;
	}
	policy_free(d->policy);
	d->policy = np;
	np = NULL;
	run_warn_token_exposure(d->policy);
	token_free(d->token);
	d->token = token;
	log_event(LOG_INFO, MSGID_POLICY_LOADED, (const char *[]){ effective_dry_run(d) ? "DRY_RUN=1" : "DRY_RUN=0" },
		  1, "policy %s reloaded%s", d->policy_path, effective_dry_run(d) ? " (dry-run)" : "");
	/* A refused token is logged; the daemon keeps running so a corrected
	 * token can be reloaded again. A SIGTERM during the check ends it. */
	check_homeserver(d, false);
	if (d->stop)
		goto out;
	r = arm_schedule(d);
	if (r < 0)
		log_error("cannot arm the schedule: %s", strerror(-r));
out:
	policy_free(np);
	policy_errors_free(&errs);
	if (!d->stop)
		notify_status(d, "READY=1\n");
}

/* --- Runs --------------------------------------------------------------- */

static void do_run(struct daemon *d)
{
	struct run_options o = {
		.policy = d->policy,
		.token = d->token,
		.force_dry_run = d->force_dry_run,
		.should_stop = daemon_should_stop,
		.stop_ud = d,
	};
	struct run_summary s;
	char summary[320];
	int code, r;

	memset(&s, 0, sizeof(s));
	d->run_due = false;
	if (d->slot_due) {
		schedule_slot_done(&d->at);
		d->slot_due = false;
	}
	d->running = true;
	sd_notify(0, "STATUS=Running");
	code = run_once(&o, &s);
	d->running = false;

	report_summary_line(&s, effective_dry_run(d), summary, sizeof(summary));
	if (code == 0)
		snprintf(d->last_run, sizeof(d->last_run), "last run: %s", summary);
	else
		snprintf(d->last_run, sizeof(d->last_run), "last run failed (%s): %s",
			 s.failure[0] ? s.failure : "see the journal", summary);
	metrics_after_run(d->policy->metrics_file, &s, code == 0 && s.completed);
	if (d->stop)
		return;
	r = arm_schedule(d);
	if (r < 0)
		log_error("cannot arm the schedule: %s", strerror(-r));
	/* A reload that came during the run applies now (and re-arms the
	 * schedule for the new policy when it succeeds). */
	if (d->reload_requested)
		apply_reload(d);
	notify_status(d, NULL);
}

static void main_loop(struct daemon *d)
{
	int r;

	while (!d->stop) {
		if (d->reload_requested)
			apply_reload(d);
		else if (d->run_due)
			do_run(d);
		else if ((r = sd_event_run(d->event, UINT64_MAX)) < 0) {
			log_error("event loop: %s", strerror(-r));
			d->stop = true;
		}
		notice_stop(d);
	}
}

/* --- Start and end ------------------------------------------------------ */

static int setup_loop(struct daemon *d)
{
	int r = sd_event_new(&d->event);

	if (r >= 0)
		r = signals_add(d);
	if (r >= 0)
		r = clock_watch_add(d);
	if (r >= 0)
		r = watchdog_add(d);
	return r;
}

static void daemon_free(struct daemon *d)
{
	for (size_t i = 0; i < ARRAY_SIZE(d->signals); i++)
		sd_event_source_unref(d->signals[i]);
	sd_event_source_unref(d->run_timer);
	sd_event_source_unref(d->watchdog_timer);
	sd_event_source_unref(d->clock_watch);
	if (d->clock_fd >= 0)
		close(d->clock_fd);
	sd_event_unref(d->event);
	token_free(d->token);
	policy_free(d->policy);
}

int daemon_main(const char *policy_path, struct policy *policy, bool force_dry_run)
{
	struct daemon d = {
		.policy_path = policy_path,
		.policy = policy,
		.force_dry_run = force_dry_run,
		.clock_fd = -1,
		.next_run_ms = -1,
		.at = SCHEDULE_MEMORY_INIT,
	};
	char err[512];
	int code = EXIT_USAGE, r;

	signals_block();
	if (!schedule_usable(policy)) {
		log_event(LOG_ERR, MSGID_POLICY_INVALID, NULL, 0,
			  "%s: no schedule: section; the daemon needs schedule.at or schedule.every (or use --once)",
			  policy_path);
		goto out;
	}
	run_warn_token_exposure(policy);
	r = setup_loop(&d);
	if (r < 0) {
		log_error("cannot set up the event loop: %s", strerror(-r));
		code = EXIT_RUN_FAILED;
		goto out;
	}
	if (token_read(policy, &d.token, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out;
	}
	r = check_homeserver(&d, true);
	if (r == -EACCES || r == -ETIMEDOUT) {
		code = EXIT_RUN_FAILED;
		goto out;
	}
	if (d.stop) {
		/* SIGTERM during the check: a stop like any other. */
		code = EXIT_OK;
		goto out;
	}

	d.every_base = clock_usec(CLOCK_BOOTTIME);
	r = arm_schedule(&d);
	if (r < 0) {
		log_error("cannot arm the schedule: %s", strerror(-r));
		code = EXIT_RUN_FAILED;
		goto out;
	}
	log_event(LOG_INFO, MSGID_DAEMON_STARTED,
		  (const char *[]){ effective_dry_run(&d) ? "DRY_RUN=1" : "DRY_RUN=0" }, 1,
		  "synapse-janitor %s started with policy %s%s", PACKAGE_VERSION, policy_path,
		  effective_dry_run(&d) ? " (dry-run)" : "");
	notify_status(&d, "READY=1\n");
	d.run_due = policy->schedule.run_at_start;

	main_loop(&d);
	code = EXIT_OK;
out:
	daemon_free(&d);
	return code;
}
