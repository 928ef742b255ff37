/* SPDX-License-Identifier: GPL-3.0-or-later */
/* duration.c: parsing, printing and the forms a policy must not use. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "duration.h"
#include "suite.h"

struct parse_case {
	const char *in;
	int want_r;
	uint64_t want;
};

static const struct parse_case parse_cases[] = {
	{ "30s", 0, 30 },
	{ "15m", 0, 15 * 60 },
	{ "36h", 0, 36 * 3600 },
	{ "90d", 0, 90 * 86400 },
	{ "2w", 0, 14 * 86400 },
	{ "104w", 0, 104 * 7 * 86400ULL },
	{ "0s", 0, 0 },
	{ "0d", 0, 0 },
	{ "007m", 0, 7 * 60 },
	{ "18446744073709551615s", 0, UINT64_MAX },
	/* refused */
	{ "", -EINVAL, 0 },
	{ "5", -EINVAL, 0 },
	{ "5y", -EINVAL, 0 },
	{ "5mo", -EINVAL, 0 },
	{ "-1d", -EINVAL, 0 },
	{ "+1d", -EINVAL, 0 },
	{ "1.5h", -EINVAL, 0 },
	{ "d", -EINVAL, 0 },
	{ "5D", -EINVAL, 0 },
	{ " 5d", -EINVAL, 0 },
	{ "5d ", -EINVAL, 0 },
	{ "5 d", -EINVAL, 0 },
	{ "1d2h", -EINVAL, 0 },
	{ "5ms", -EINVAL, 0 },
	{ "0x10s", -EINVAL, 0 },
	{ "18446744073709551616s", -ERANGE, 0 },
	{ "99999999999999999999999d", -ERANGE, 0 },
	{ "30600000000000w", -ERANGE, 0 },   /* fits as a number, not in seconds */
};

START_TEST(test_parse)
{
	const struct parse_case *c = &parse_cases[_i];
	uint64_t v = 12345;
	int r = duration_parse(c->in, &v);

	ck_assert_msg(r == c->want_r, "\"%s\": got %d, want %d", c->in, r, c->want_r);
	if (c->want_r == 0)
		ck_assert_msg(v == c->want, "\"%s\": got %llu", c->in, (unsigned long long)v);
	else
		ck_assert_msg(v == 12345, "\"%s\": output written on failure", c->in);
}
END_TEST

START_TEST(test_parse_null)
{
	uint64_t v;

	ck_assert_int_eq(duration_parse(NULL, &v), -EINVAL);
}
END_TEST

struct format_case {
	uint64_t in;
	const char *want;
};

static const struct format_case format_cases[] = {
	{ 0, "0s" },
	{ 1, "1s" },
	{ 59, "59s" },
	{ 60, "1m" },
	{ 61, "61s" },
	{ 90 * 60, "90m" },
	{ 3600, "1h" },
	{ 36 * 3600, "36h" },
	{ 86400, "1d" },
	{ 90 * 86400, "90d" },
	{ 7 * 86400, "1w" },
	{ 14 * 86400, "2w" },
	{ 104 * 7 * 86400ULL, "104w" },
	{ 86400 + 1, "86401s" },
	{ UINT64_MAX, "18446744073709551615s" },
};

START_TEST(test_format)
{
	const struct format_case *c = &format_cases[_i];
	char buf[32];

	duration_format(c->in, buf, sizeof(buf));
	ck_assert_str_eq(buf, c->want);
}
END_TEST

START_TEST(test_round_trip)
{
	/* Every printed form parses back to the same number of seconds. */
	static const uint64_t values[] = { 0, 1, 30, 59, 60, 120, 3599, 3600, 7200, 86399,
					   86400, 172800, 604800, 1209600, 7776000, 31536000,
					   62899200, 123456789, UINT64_MAX / 2, UINT64_MAX };
	char buf[32];
	uint64_t back;

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		duration_format(values[i], buf, sizeof(buf));
		ck_assert_int_eq(duration_parse(buf, &back), 0);
		ck_assert_msg(back == values[i], "%llu printed as %s parsed as %llu",
			      (unsigned long long)values[i], buf, (unsigned long long)back);
	}
}
END_TEST

/* The one saturating time sum (DESIGN.md §6.14), at the extremes: run
 * under UBSan, a wrap would be reported even where the result looked right. */
struct sum_case {
	int64_t ms;
	uint64_t seconds;
	int64_t want;
};

static const struct sum_case sum_cases[] = {
	{ 1000, 2, 3000 },
	{ 0, 0, 0 },
	{ -1, 1, 1000 },                               /* unknown: from 0 */
	{ INT64_MIN, 1, 1000 },
	{ 1795000000000LL, DURATION_MAX_AGE, 1795000000000LL + (int64_t)DURATION_MAX_AGE * 1000 },
	{ 1795000000000LL, 9999999999999999ull, INT64_MAX }, /* grace_period: 9999999999999999s */
	{ 1795000000000LL, UINT64_MAX, INT64_MAX },
	{ INT64_MAX, 0, INT64_MAX },
	{ INT64_MAX, 1, INT64_MAX },
	{ INT64_MAX - 999, 1, INT64_MAX },
	{ INT64_MAX - 1000, 1, INT64_MAX },
	{ INT64_MAX - 1001, 1, INT64_MAX - 1 },
	{ 0, (uint64_t)INT64_MAX / 1000, (INT64_MAX / 1000) * 1000 },
	{ 0, (uint64_t)INT64_MAX / 1000 + 1, INT64_MAX },
};

START_TEST(test_ms_after)
{
	const struct sum_case *c = &sum_cases[_i];

	ck_assert_int_eq(clock_ms_after(c->ms, c->seconds), c->want);
}
END_TEST

START_TEST(test_usec_after)
{
	ck_assert_uint_eq(clock_usec_after(5, 2), 2000005);
	ck_assert_uint_eq(clock_usec_after(0, DURATION_MAX_EVERY), DURATION_MAX_EVERY * 1000000);
	ck_assert_uint_eq(clock_usec_after(UINT64_MAX - 1, 1), UINT64_MAX);
	ck_assert_uint_eq(clock_usec_after(UINT64_MAX, 0), UINT64_MAX);
	ck_assert_uint_eq(clock_usec_after(1, UINT64_MAX / 1000000 + 1), UINT64_MAX);
	ck_assert_uint_eq(clock_usec_after(0, UINT64_MAX), UINT64_MAX);
}
END_TEST

START_TEST(test_format_small_buffer)
{
	char buf[3] = "xx";

	duration_format(90 * 86400 * 10ULL, buf, sizeof(buf)); /* "900d" does not fit */
	ck_assert_uint_eq(strlen(buf), 2);
	ck_assert_str_eq(buf, "90");
	duration_format(5, buf, 0); /* must not write */
	ck_assert_str_eq(buf, "90");
}
END_TEST

static Suite *duration_suite(void)
{
	Suite *s = suite_create("duration");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse, 0, sizeof(parse_cases) / sizeof(parse_cases[0]));
	tcase_add_test(tc, test_parse_null);
	tcase_add_loop_test(tc, test_format, 0, sizeof(format_cases) / sizeof(format_cases[0]));
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_format_small_buffer);
	tcase_add_loop_test(tc, test_ms_after, 0, sizeof(sum_cases) / sizeof(sum_cases[0]));
	tcase_add_test(tc, test_usec_after);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_suite_main(duration_suite());
}
