/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

#include "log.h"
#include "xmalloc.h"

static enum log_target resolved_target = LOG_TARGET_CONSOLE;
static bool verbose_enabled;

int log_target_from_string(const char *s, enum log_target *out)
{
	static const char *const names[] = { "auto", "journal", "console" };

	for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_target)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* JOURNAL_STREAM is "DEV:INODE" of the stream systemd connected to stderr;
 * it is inherited by children, so compare it with what stderr really is
 * (INVOCATION_ID alone would be wrong: any child of a service has it). */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(enum log_target target, bool verbose)
{
	verbose_enabled = verbose;
	if (target == LOG_TARGET_AUTO)
		target = stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_CONSOLE;
	resolved_target = target;
}

bool log_verbose(void)
{
	return verbose_enabled;
}

static const char *console_prefix(int priority)
{
	switch (priority) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
		return "ALERT: ";
	case LOG_ERR:
		return "error: ";
	case LOG_WARNING:
		return "warning: ";
	case LOG_DEBUG:
		return "debug: ";
	default:
		return "";
	}
}

static void console_write(int priority, const char *message)
{
	fprintf(stderr, "%s%s\n", console_prefix(priority), message);
	fflush(stderr);
}

static void journal_write(int priority, const char *message_id, const char *const *fields,
			  size_t n_fields, const char *message)
{
	size_t n = 0, cap = n_fields + 4;
	struct iovec *iov = xcalloc(cap, sizeof(*iov));
	char *msg = xasprintf("MESSAGE=%s", message);
	char prio[16], *mid = NULL;

	snprintf(prio, sizeof(prio), "PRIORITY=%d", priority);
	iov[n++] = (struct iovec){ msg, strlen(msg) };
	iov[n++] = (struct iovec){ prio, strlen(prio) };
	iov[n++] = (struct iovec){ (char *)"SYSLOG_IDENTIFIER=synapse-janitor",
				   strlen("SYSLOG_IDENTIFIER=synapse-janitor") };
	if (message_id) {
		mid = xasprintf("MESSAGE_ID=%s", message_id);
		iov[n++] = (struct iovec){ mid, strlen(mid) };
	}
	for (size_t i = 0; i < n_fields; i++)
		iov[n++] = (struct iovec){ (char *)fields[i], strlen(fields[i]) };
	/* Not fatal: the journal may be restarting; say so where a human looks. */
	if (sd_journal_sendv(iov, (int)n) < 0)
		console_write(priority, message);
	free(mid);
	free(msg);
	free(iov);
}

/* A control character, C0 or DEL, or a C1 one in UTF-8 (U+0080..U+009F:
 * some terminals act on CSI U+009B as on ESC [): the length of its bytes
 * at s, or 0. */
static size_t control_at(const unsigned char *s)
{
	if (*s < 0x20 || *s == 0x7f)
		return 1;
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
		return 2;
	return 0;
}

/* The last guard of every line written: a console line or a journal
 * MESSAGE never carries a control character (as \xNN instead), whatever a
 * caller forgot to escape of what the server sent. A newline would forge a
 * line of its own, an escape sequence rewrite the admin's terminal. Callers
 * still escape server text themselves (report_append_printable), which
 * also marks quotes and backslashes. Returns message, or a malloc'd escaped
 * copy in *copy. */
static const char *without_controls(const char *message, char **copy)
{
	const unsigned char *s = (const unsigned char *)message;
	size_t n = 0, extra = 0, k;
	char *out;

	*copy = NULL;
	for (; s[n]; n++)
		if ((k = control_at(s + n)) > 0) {
			extra += 4 * k - k;
			n += k - 1;
		}
	if (extra == 0)
		return message;
	out = xmalloc(n + extra + 1);
	*copy = out;
	for (s = (const unsigned char *)message; *s;) {
		k = control_at(s);
		if (k == 0) {
			*out++ = (char)*s++;
			continue;
		}
		for (; k > 0; k--, s++)
			out += sprintf(out, "\\x%02x", *s);
	}
	*out = '\0';
	return *copy;
}

bool log_enabled(int priority)
{
	return priority != LOG_DEBUG || verbose_enabled;
}

bool log_takes_fields(void)
{
	return resolved_target == LOG_TARGET_JOURNAL;
}

static void log_vevent(int priority, const char *message_id, const char *const *fields,
		       size_t n_fields, const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
static void log_vevent(int priority, const char *message_id, const char *const *fields,
		       size_t n_fields, const char *fmt, va_list ap)
{
	char *message, *escaped;
	const char *line;

	if (!log_enabled(priority))
		return;
	if (vasprintf(&message, fmt, ap) < 0)
		return;
	line = without_controls(message, &escaped);
	if (resolved_target == LOG_TARGET_JOURNAL)
		journal_write(priority, message_id, fields, n_fields, line);
	else
		console_write(priority, line);
	free(escaped);
	free(message);
}

void log_event(int priority, const char *message_id, const char *const *fields,
	       size_t n_fields, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vevent(priority, message_id, fields, n_fields, fmt, ap);
	va_end(ap);
}

#define DEFINE_LOG_FN(fn, prio)                                   \
	void fn(const char *fmt, ...)                             \
	{                                                         \
		va_list ap;                                       \
		va_start(ap, fmt);                                \
		log_vevent(prio, NULL, NULL, 0, fmt, ap);         \
		va_end(ap);                                       \
	}

DEFINE_LOG_FN(log_info, LOG_INFO)
DEFINE_LOG_FN(log_warn, LOG_WARNING)
DEFINE_LOG_FN(log_error, LOG_ERR)

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vevent(LOG_CRIT, NULL, NULL, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
