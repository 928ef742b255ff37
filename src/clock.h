/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_CLOCK_H
#define SJ_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The one clock reader: microseconds of any clock (CLOCK_REALTIME,
 * CLOCK_MONOTONIC, CLOCK_BOOTTIME), and the two millisecond readings most
 * code wants. */
uint64_t clock_usec(clockid_t id);
int64_t clock_wall_ms(void);           /* CLOCK_REALTIME */
int64_t clock_mono_ms(void);           /* CLOCK_MONOTONIC */

/* Time sums that cannot overflow (DESIGN.md §6.14): a time plus a duration
 * in seconds, saturating at the largest value (never wrapping into the past). */
int64_t clock_ms_after(int64_t ms, uint64_t seconds);
uint64_t clock_usec_after(uint64_t usec, uint64_t seconds);

/* RFC 3339 UTC with seconds ("2026-11-23T03:30:00Z"); empty string for ms < 0. */
void clock_format_rfc3339(int64_t ms, char *buf, size_t len);

#endif
