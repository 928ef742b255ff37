/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libmicrohttpd glue: a thread pool, chunked JSON answers (Synapse sends
 * them chunked, capture 100), and delays done by suspending the connection
 * and resuming it from a timer thread, so injected latency never blocks
 * other clients served by the same pool thread. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fake.h"

/* ---- the delay queue ---- */

struct pending {
	struct MHD_Connection *conn;
	int64_t due;
};

struct delayq {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pending *items;
	size_t n, cap;
	bool stop;
	pthread_t thread;
};

/* Microseconds: whole milliseconds would add up to 1 ms to each delay, and
 * the benchmark's lower bound assumes the latency it asked for. */
static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *delayq_main(void *arg)
{
	struct delayq *q = arg;

	pthread_mutex_lock(&q->mu);
	while (!q->stop || q->n) {
		int64_t now = mono_us(), next = INT64_MAX;
		size_t i = 0;

		while (i < q->n) {
			if (q->stop || q->items[i].due <= now) {
				struct MHD_Connection *c = q->items[i].conn;

				q->items[i] = q->items[--q->n];
				pthread_mutex_unlock(&q->mu);
				MHD_resume_connection(c);
				pthread_mutex_lock(&q->mu);
				continue;
			}
			if (q->items[i].due < next)
				next = q->items[i].due;
			i++;
		}
		if (q->stop)
			continue;
		if (next == INT64_MAX) {
			pthread_cond_wait(&q->cv, &q->mu);
		} else {
			struct timespec ts = { .tv_sec = next / 1000000, .tv_nsec = next % 1000000 * 1000 };

			pthread_cond_timedwait(&q->cv, &q->mu, &ts);
		}
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

static struct delayq *delayq_start(void)
{
	struct delayq *q = fs_xcalloc(1, sizeof(*q));
	pthread_condattr_t attr;

	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cv, &attr);
	pthread_condattr_destroy(&attr);
	pthread_create(&q->thread, NULL, delayq_main, q);
	return q;
}

/* Suspends the connection and schedules its resumption; false once the
 * queue is stopping (then the caller answers at once). */
static bool delayq_add(struct delayq *q, struct MHD_Connection *c, int ms)
{
	pthread_mutex_lock(&q->mu);
	if (q->stop) {
		pthread_mutex_unlock(&q->mu);
		return false;
	}
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 64;
		q->items = fs_xrealloc(q->items, q->cap * sizeof(*q->items));
	}
	MHD_suspend_connection(c);
	q->items[q->n++] = (struct pending){ c, mono_us() + (int64_t)ms * 1000 };
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return true;
}

/* Resumes everything still waiting, then ends the thread: libmicrohttpd
 * must not be stopped with suspended connections. */
static void delayq_stop(struct delayq *q)
{
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
}

static void delayq_free(struct delayq *q)
{
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q->items);
	free(q);
}

/* ---- one request ---- */

struct conn_ctx {
	struct fbuf body;
	bool has_body;
	bool decided, delayed, counted;
	int64_t arrived_ms;   /* CLOCK_MONOTONIC, when the request was whole */
	struct request rq;
	struct route rt;
	struct fault_hit hit;
	char *method, *path, *auth;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct request *rq = cls;

	(void)kind;
	rq->qkeys = fs_xrealloc(rq->qkeys, (rq->nq + 1) * sizeof(char *));
	rq->qvals = fs_xrealloc(rq->qvals, (rq->nq + 1) * sizeof(char *));
	rq->qkeys[rq->nq] = fs_url_decode(key);
	rq->qvals[rq->nq] = value ? fs_url_decode(value) : NULL;
	rq->nq++;
	return MHD_YES;
}

static void ctx_free(struct conn_ctx *c)
{
	for (size_t i = 0; i < c->rq.nq; i++) {
		free(c->rq.qkeys[i]);
		free(c->rq.qvals[i]);
	}
	free(c->rq.qkeys);
	free(c->rq.qvals);
	route_free(&c->rt);
	fbuf_free(&c->body);
	free(c->method);
	free(c->path);
	free(c->auth);
	free(c);
}

/* ---- sending ---- */

#define HUGE_BYTES (20u << 20)

struct body_src {
	char *data;
	size_t len, limit; /* limit < len: truncate, then abort */
	bool huge;
};

static ssize_t body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct body_src *b = cls;

	if (b->huge) {
		/* {"results":[],"padding":"xxx...x"}: valid JSON, 20 MiB */
		static const char head[] = "{\"results\":[],\"padding\":\"";

		if (pos >= HUGE_BYTES + 2)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (max > HUGE_BYTES + 2 - pos)
			max = (size_t)(HUGE_BYTES + 2 - pos);
		memset(buf, 'x', max);
		for (uint64_t p = pos; p < sizeof(head) - 1 && p < pos + max; p++)
			buf[p - pos] = head[p];
		for (uint64_t p = pos > HUGE_BYTES ? pos : HUGE_BYTES; p < pos + max; p++)
			buf[p - pos] = p == HUGE_BYTES ? '"' : '}';
		return (ssize_t)max;
	}
	if (pos >= b->limit)
		return b->limit < b->len ? MHD_CONTENT_READER_END_WITH_ERROR
					 : MHD_CONTENT_READER_END_OF_STREAM;
	if (max > b->limit - pos)
		max = b->limit - pos;
	memcpy(buf, b->data + pos, max);
	return (ssize_t)max;
}

static void body_free(void *cls)
{
	struct body_src *b = cls;

	free(b->data);
	free(b);
}

static void http_date(time_t t, struct MHD_Response *resp, const char *header)
{
	struct tm tm;
	char date[64];

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	MHD_add_response_header(resp, header, date);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct reply *rp)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (rp->fixed_length) {
		resp = MHD_create_response_from_buffer(rp->len, rp->body, MHD_RESPMEM_MUST_FREE);
		rp->body = NULL;
	} else {
		struct body_src *b = fs_xcalloc(1, sizeof(*b));

		b->data = rp->body;
		b->len = b->limit = rp->len;
		b->huge = rp->huge;
		if (rp->truncate)
			b->limit = rp->len > 1 ? rp->len / 2 : 0;
		rp->body = NULL;
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, body_read, b, body_free);
	}
	if (!resp)
		return MHD_NO;
	if (rp->content_type)
		MHD_add_response_header(resp, "Content-Type", rp->content_type);
	MHD_add_response_header(resp, "Server", "Synapse/1.68.0");
	MHD_add_response_header(resp, "Cache-Control", "no-cache, no-store, must-revalidate");
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
	MHD_add_response_header(resp, "Access-Control-Allow-Methods",
				"GET, HEAD, POST, PUT, DELETE, OPTIONS");
	MHD_add_response_header(resp, "Access-Control-Allow-Headers",
				"X-Requested-With, Content-Type, Authorization, Date");
	if (rp->date_offset_s || (rp->retry_after_s > 0 && rp->retry_after_date)) {
		/* A server whose clock is off (RFC 9110 IMF-fixdate); MHD adds no
		 * Date of its own once the response has one. A Retry-After date
		 * is counted from this Date, from one reading of the clock. */
		time_t t = time(NULL) + (time_t)rp->date_offset_s;

		http_date(t, resp, "Date");
		if (rp->retry_after_s > 0 && rp->retry_after_date)
			http_date(t + (time_t)rp->retry_after_s, resp, "Retry-After");
	}
	if (rp->retry_after_s > 0 && !rp->retry_after_date) {
		char s[32];

		snprintf(s, sizeof(s), "%lld", (long long)rp->retry_after_s);
		MHD_add_response_header(resp, "Retry-After", s);
	}
	ret = MHD_queue_response(conn, (unsigned)rp->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- the access handler ---- */

static void decide(struct fake *fk, struct conn_ctx *c)
{
	c->decided = true;
	c->arrived_ms = fs_mono_ms();
	route_parse(&c->rq, &c->rt);
	if (c->rt.fake_hook)
		return;
	pthread_mutex_lock(&fk->lock);
	stats_count(&fk->stats, c->rt.ep);
	if (++fk->stats.in_flight > fk->stats.max_concurrent)
		fk->stats.max_concurrent = fk->stats.in_flight;
	c->counted = true;
	faults_match(&fk->faults, endpoint_name(c->rt.ep), c->rt.room_id,
		     route_is_paging(&c->rq, &c->rt), &c->hit);
	pthread_mutex_unlock(&fk->lock);
}

static enum MHD_Result answer(struct fake *fk, struct MHD_Connection *conn, struct conn_ctx *c)
{
	struct reply rp = { 0 };
	enum MHD_Result ret;

	c->rq.body = c->body.data;
	c->rq.body_len = c->body.len;
	if (c->hit.kind == FK_RESET) {
		pthread_mutex_lock(&fk->lock);
		stats_arrival(&fk->stats, c->arrived_ms, c->rt.ep, 0);
		pthread_mutex_unlock(&fk->lock);
		return MHD_NO; /* close without answering */
	}
	pthread_mutex_lock(&fk->lock);
	if (c->rt.fake_hook)
		hooks_handle(fk, &c->rq, &c->rt, &rp);
	else
		route_handle(fk, &c->rq, &c->rt, &c->hit, &rp);
	pthread_mutex_unlock(&fk->lock);
	if (rp.reset) {
		free(rp.body);
		return MHD_NO;
	}
	rp.truncate = c->hit.kind == FK_TRUNCATE;
	rp.date_offset_s = c->hit.date_offset_s;
	if (c->counted) {
		pthread_mutex_lock(&fk->lock);
		stats_arrival(&fk->stats, c->arrived_ms, c->rt.ep, rp.status);
		pthread_mutex_unlock(&fk->lock);
	}
	ret = send_reply(conn, &rp);
	free(rp.body);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct fake *fk = cls;
	struct conn_ctx *c = *con_cls;
	const char *auth;
	int delay;

	(void)version;
	if (!c) {
		c = fs_xcalloc(1, sizeof(*c));
		c->method = fs_xstrdup(method);
		c->path = fs_xstrdup(url);
		auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
		c->auth = fs_xstrdup(auth);
		c->rq.method = c->method;
		c->rq.path = c->path;
		c->rq.auth = c->auth;
		MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &c->rq);
		*con_cls = c;
		return MHD_YES;
	}
	if (*upload_size) {
		fbuf_add(&c->body, upload, *upload_size);
		c->rq.has_body = true;
		*upload_size = 0;
		return MHD_YES;
	}
	if (!c->decided) {
		decide(fk, c);
		delay = c->rt.fake_hook ? 0 : fk->cfg.latency_ms + c->hit.delay_ms;
		if (delay > 0 && !fk->stopping && delayq_add(fk->delayq, conn, delay)) {
			c->delayed = true;
			return MHD_YES;
		}
	}
	return answer(fk, conn, c);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct fake *fk = cls;
	struct conn_ctx *c = *con_cls;

	(void)conn;
	(void)toe;
	if (!c)
		return;
	if (c->counted) {
		pthread_mutex_lock(&fk->lock);
		fk->stats.in_flight--;
		pthread_mutex_unlock(&fk->lock);
	}
	ctx_free(c);
	*con_cls = NULL;
}

/* Keep the raw, percent-encoded path and arguments: the routes decode
 * each segment themselves, so an encoded '/' or '?' cannot split one. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static int bind_addr(const char *bind, int port, struct sockaddr_storage *ss, bool *v6)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	*v6 = strchr(bind, ':') != NULL;
	if (*v6) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, bind, &in6->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	in4->sin_family = AF_INET;
	in4->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, bind, &in4->sin_addr) == 1 ? 0 : -EINVAL;
}

struct MHD_Daemon *server_start(struct fake *fk, int *port)
{
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	bool v6;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME;

	if (bind_addr(fk->cfg.bind, fk->cfg.port, &ss, &v6) < 0) {
		fprintf(stderr, "fake-synapse: bad --bind address %s\n", fk->cfg.bind);
		return NULL;
	}
	if (v6)
		flags |= MHD_USE_IPv6;
	fk->delayq = delayq_start();
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, fk,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)fk->cfg.threads,
			     MHD_OPTION_NOTIFY_COMPLETED, on_completed, fk,
			     MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
			     MHD_OPTION_CONNECTION_TIMEOUT, 120u,
			     MHD_OPTION_CONNECTION_LIMIT, 1000u,
			     MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "fake-synapse: cannot listen on %s:%d\n", fk->cfg.bind, fk->cfg.port);
		delayq_stop(fk->delayq);
		delayq_free(fk->delayq);
		fk->delayq = NULL;
		return NULL;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	*port = info ? info->port : fk->cfg.port;
	return d;
}

void server_stop(struct fake *fk, struct MHD_Daemon *d)
{
	fk->stopping = true;
	delayq_stop(fk->delayq);
	MHD_stop_daemon(d);
	delayq_free(fk->delayq);
	fk->delayq = NULL;
}

/* ---- --silent: a homeserver that accepts and never answers ---- */

struct silent {
	int fd;
	int *held;
	size_t n, cap;
	pthread_t thread;
};

static void *silent_main(void *arg)
{
	struct silent *sl = arg;

	for (;;) {
		int c = accept4(sl->fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL; /* shut down */
		}
		/* Held open, never read, never answered: the request sits in
		 * the kernel's buffer, as with a server stuck before reading. */
		if (sl->n == sl->cap) {
			sl->cap = sl->cap ? sl->cap * 2 : 64;
			sl->held = fs_xrealloc(sl->held, sl->cap * sizeof(*sl->held));
		}
		sl->held[sl->n++] = c;
	}
}

int silent_run(struct fake *fk, int (*announce)(const struct fake *fk, int port))
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct silent sl = { .fd = -1 };
	sigset_t set;
	bool v6;
	int sig, rc = 1;

	if (bind_addr(fk->cfg.bind, fk->cfg.port, &ss, &v6) < 0) {
		fprintf(stderr, "fake-synapse: bad --bind address %s\n", fk->cfg.bind);
		return 1;
	}
	sl.fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sl.fd < 0 || bind(sl.fd, (struct sockaddr *)&ss, v6 ? sizeof(struct sockaddr_in6)
								  : sizeof(struct sockaddr_in)) < 0 ||
	    listen(sl.fd, 128) < 0 || getsockname(sl.fd, (struct sockaddr *)&ss, &len) < 0) {
		fprintf(stderr, "fake-synapse: cannot listen on %s:%d: %s\n", fk->cfg.bind, fk->cfg.port,
			strerror(errno));
		goto out;
	}
	if (pthread_create(&sl.thread, NULL, silent_main, &sl) != 0)
		goto out;
	if (announce(fk, ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
				  : ((struct sockaddr_in *)&ss)->sin_port)) == 0) {
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		while (sigwait(&set, &sig) != 0)
			;
		rc = 0;
	}
	shutdown(sl.fd, SHUT_RDWR);
	pthread_join(sl.thread, NULL);
out:
	if (sl.fd >= 0)
		close(sl.fd);
	for (size_t i = 0; i < sl.n; i++)
		close(sl.held[i]);
	free(sl.held);
	return rc;
}
