/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_LOG_H
#define SJ_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

#include "macro.h"

/* Where log lines go, decided once at start-up (DESIGN.md §4). */
enum log_target {
	LOG_TARGET_AUTO,    /* journal when JOURNAL_STREAM matches stderr, else console */
	LOG_TARGET_JOURNAL,
	LOG_TARGET_CONSOLE,
};

int log_target_from_string(const char *s, enum log_target *out); /* 0 or -EINVAL */
void log_init(enum log_target target, bool verbose);
bool log_verbose(void);

void log_info(const char *fmt, ...) SJ_PRINTF(1, 2);
void log_warn(const char *fmt, ...) SJ_PRINTF(1, 2);
void log_error(const char *fmt, ...) SJ_PRINTF(1, 2);
_Noreturn void fatal(const char *fmt, ...) SJ_PRINTF(1, 2);

/* A structured entry: priority (LOG_*), a MESSAGE_ID from message-ids.h (or
 * NULL), extra journal fields as "KEY=value" strings, and the human message.
 * The console backend prints only the message. */
void log_event(int priority, const char *message_id, const char *const *fields,
	       size_t n_fields, const char *fmt, ...) SJ_PRINTF(5, 6);
/* Whether an entry of priority is written at all, and whether its fields
 * go anywhere (the journal): a caller with costly fields asks first. */
bool log_enabled(int priority);
bool log_takes_fields(void);

#endif
