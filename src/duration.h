/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_DURATION_H
#define SJ_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* "30s", "15m", "36h", "90d", "2w" <-> seconds. One integer and one unit;
 * no months or years (not a fixed length). Returns 0 or -EINVAL / -ERANGE. */
int duration_parse(const char *s, uint64_t *seconds);

/* The largest value each kind of duration may have (DESIGN.md §6.14, the
 * policy's man page): a policy asking for more is an error, so no time sum
 * can overflow. */
#define DURATION_MAX_AGE       (36500ull * 86400) /* 100 years: inactive_for, older_than, grace_period */
#define DURATION_MAX_TIMEOUT   3600ull            /* homeserver.timeout: 1h */
#define DURATION_MAX_DELETE    (7ull * 86400)     /* delete.timeout: 7d, as long as a server keeps a task */
#define DURATION_MAX_EVERY     (365ull * 86400)   /* schedule.every: 365d */
#define DURATION_MAX_DELAY     (7ull * 86400)     /* schedule.randomized_delay: 7d */

/* Shortest exact form ("90d", "36h", "0s"). */
void duration_format(uint64_t seconds, char *buf, size_t len);

#endif
