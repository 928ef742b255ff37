/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "duration.h"

#include <errno.h>
#include <stdio.h>

/* Units a policy may use. Months and years are left out on purpose: they have
 * no fixed length, and "older_than: 2y" would silently mean some number of
 * days the admin did not choose (DESIGN.md §5). Largest first for printing. */
static const struct {
	char unit;
	uint64_t seconds;
} units[] = {
	{ 'w', 7 * 24 * 3600 },
	{ 'd', 24 * 3600 },
	{ 'h', 3600 },
	{ 'm', 60 },
	{ 's', 1 },
};

static uint64_t unit_seconds(char c)
{
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (units[i].unit == c)
			return units[i].seconds;
	return 0;
}

int duration_parse(const char *s, uint64_t *seconds)
{
	uint64_t n = 0, mult;
	const char *p = s;

	if (!s || *p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (n > (UINT64_MAX - d) / 10)
			return -ERANGE;
		n = n * 10 + d;
	}
	mult = unit_seconds(*p);
	if (mult == 0 || p[1] != '\0')
		return -EINVAL;
	if (n > UINT64_MAX / mult)
		return -ERANGE;
	*seconds = n * mult;
	return 0;
}

void duration_format(uint64_t seconds, char *buf, size_t len)
{
	size_t i = 0;

	if (len == 0)
		return;
	if (seconds == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	while (seconds % units[i].seconds != 0)
		i++;
	snprintf(buf, len, "%llu%c", (unsigned long long)(seconds / units[i].seconds), units[i].unit);
}
