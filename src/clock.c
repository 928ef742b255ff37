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
