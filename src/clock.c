/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <time.h>

#include "clock.h"

uint64_t clock_usec(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t clock_wall_ms(void)
{
	return (int64_t)(clock_usec(CLOCK_REALTIME) / 1000u);
}

int64_t clock_mono_ms(void)
{
	return (int64_t)(clock_usec(CLOCK_MONOTONIC) / 1000u);
}

/* a + b * unit, saturating at max. */
static uint64_t add_scaled(uint64_t a, uint64_t b, uint64_t unit, uint64_t max)
{
	if (a >= max || b > (max - a) / unit)
		return max;
	return a + b * unit;
}

int64_t clock_ms_after(int64_t ms, uint64_t seconds)
{
	if (ms < 0) /* an unknown (-1) or pre-1970 time: measure from 0 */
		ms = 0;
	return (int64_t)add_scaled((uint64_t)ms, seconds, 1000, INT64_MAX);
}

uint64_t clock_usec_after(uint64_t usec, uint64_t seconds)
{
	return add_scaled(usec, seconds, 1000000, UINT64_MAX);
}

void clock_format_rfc3339(int64_t ms, char *buf, size_t len)
{
	struct tm tm;
	time_t t;

	if (ms < 0 || len == 0) {
		if (len)
			buf[0] = '\0';
		return;
	}
	t = (time_t)(ms / 1000);
	if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		buf[0] = '\0';
}
