/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metrics_write(): the file is read back with a small strict parser of the
 * Prometheus text exposition format, and every value compared with the
 * summary it came from. */
#include "config.h"

#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "room.h"
#include "suite.h"

#define MAX_SAMPLES 64

struct sample {
	char key[160];   /* name, or name{label="value"} as written */
	double value;
};

struct exposition {
	struct sample samples[MAX_SAMPLES];
	size_t n;
	char families[MAX_SAMPLES][96];
	size_t n_families;
};

static bool valid_metric_name(const char *s, size_t len)
{
	if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
			return false;
	return true;
}

static bool valid_label_name(const char *s, size_t len)
{
	if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

static bool family_seen(const struct exposition *e, const char *name)
{
	for (size_t i = 0; i < e->n_families; i++)
		if (strcmp(e->families[i], name) == 0)
			return true;
	return false;
}

static char parse_error[1024];

/* Record why the text is not a valid exposition and make the parser fail. */
#define REQUIRE(cond, ...)                                                      \
	do {                                                                    \
		if (!(cond)) {                                                  \
			snprintf(parse_error, sizeof(parse_error), __VA_ARGS__); \
			return -1;                                              \
		}                                                               \
	} while (0)

/* '{' name="value" (, name="value")* '}' ; returns the length or -1. */
static int parse_labels(const char *p)
{
	const char *s = p;

	p++;
	while (*p != '}') {
		size_t n = strcspn(p, "=");

		REQUIRE(valid_label_name(p, n), "bad label name in %s", s);
		p += n;
		REQUIRE(p[0] == '=' && p[1] == '"', "label without a quoted value: %s", s);
		p += 2;
		while (*p != '"') {
			REQUIRE(*p, "unterminated label value: %s", s);
			if (*p == '\\') {
				p++;
				REQUIRE(*p == '\\' || *p == '"' || *p == 'n', "bad escape: %s", s);
			}
			p++;
		}
		p++;
		if (*p == ',')
			p++;
		else
			REQUIRE(*p == '}', "bad label list: %s", s);
	}
	return (int)(p + 1 - s);
}

static int parse_comment(struct exposition *e, const char *buf, char *family,
			 char *typed, char *helped)
{
	char kind[8], name[96], rest[256] = "";

	REQUIRE(sscanf(buf, "# %7s %95s %255[^\n]", kind, name, rest) >= 2, "bad comment: %s", buf);
	REQUIRE(valid_metric_name(name, strlen(name)), "bad family name %s", name);
	if (strcmp(kind, "HELP") == 0) {
		REQUIRE(strcmp(helped, name) != 0, "two HELP for %s", name);
		REQUIRE(rest[0], "empty HELP for %s", name);
		snprintf(helped, 96, "%s", name);
	} else if (strcmp(kind, "TYPE") == 0) {
		REQUIRE(strcmp(typed, name) != 0, "two TYPE for %s", name);
		REQUIRE(strcmp(helped, name) == 0, "TYPE before HELP for %s", name);
		REQUIRE(strcmp(rest, "gauge") == 0 || strcmp(rest, "counter") == 0 ||
			strcmp(rest, "untyped") == 0, "bad type %s", rest);
		snprintf(typed, 96, "%s", name);
	} else {
		REQUIRE(false, "unexpected comment: %s", buf);
	}
	if (strcmp(family, name) != 0) {
		REQUIRE(!family_seen(e, name), "family %s reappears", name);
		REQUIRE(e->n_families < MAX_SAMPLES, "too many families");
		snprintf(e->families[e->n_families++], sizeof(e->families[0]), "%s", name);
		snprintf(family, 96, "%s", name);
	}
	return 0;
}

static int parse_sample(struct exposition *e, const char *buf, const char *family,
			const char *typed, const char *helped)
{
	size_t n = strcspn(buf, "{ ");
	const char *v;
	char *vend;
	double value;

	REQUIRE(n > 0, "empty line");
	REQUIRE(valid_metric_name(buf, n), "bad metric name: %s", buf);
	REQUIRE(strlen(family) == n && strncmp(buf, family, n) == 0,
		"sample %s outside its family (%s)", buf, family);
	REQUIRE(strcmp(typed, family) == 0 && strcmp(helped, family) == 0,
		"sample %s without HELP and TYPE", buf);
	if (buf[n] == '{') {
		int l = parse_labels(buf + n);

		if (l < 0)
			return -1;
		n += (size_t)l;
	}
	REQUIRE(buf[n] == ' ', "no value: %s", buf);
	v = buf + n + 1;
	value = strtod(v, &vend);
	REQUIRE(vend != v && *vend == '\0', "value is not a float: %s", buf);
	REQUIRE(e->n < MAX_SAMPLES && n < sizeof(e->samples[0].key), "too many samples");
	memcpy(e->samples[e->n].key, buf, n);
	e->samples[e->n].key[n] = '\0';
	for (size_t i = 0; i < e->n; i++)
		REQUIRE(strcmp(e->samples[i].key, e->samples[e->n].key) != 0, "duplicate sample %s", buf);
	e->samples[e->n++].value = value;
	return 0;
}

/* Strict: only HELP and TYPE comments, each once per family and HELP first,
 * before the family's samples; a family's samples are contiguous and follow
 * its announcement; values are floats; the file ends with a newline.
 * Returns 0, or -1 with the reason in parse_error. */
static int parse_exposition(const char *text, struct exposition *e)
{
	char family[96] = "", typed[96] = "", helped[96] = "";
	const char *line = text;

	memset(e, 0, sizeof(*e));
	REQUIRE(*text && text[strlen(text) - 1] == '\n', "no final newline");
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = (size_t)(end - line);
		char buf[512];
		int r;

		REQUIRE(len < sizeof(buf), "line too long");
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = end + 1;
		if (buf[0] == '#')
			r = parse_comment(e, buf, family, typed, helped);
		else
			r = parse_sample(e, buf, family, typed, helped);
		if (r < 0)
			return r;
	}
	return 0;
}

static double sample(const struct exposition *e, const char *key)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->samples[i].key, key) == 0)
			return e->samples[i].value;
	ck_abort_msg("no sample %s", key);
	return NAN;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *data = calloc(1, 65536);
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(data, 1, 65535, f);
	ck_assert_uint_lt(n, 65535);
	fclose(f);
	return data;
}

static char tmpdir[64];
static char path[128];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_metrics.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/synapse-janitor.prom", tmpdir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(tmpdir);
}

static void fill(struct run_summary *s, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->run_id, sizeof(s->run_id), "run-%llu", (unsigned long long)seed);
	s->started_ms = 1779500000123 + (int64_t)seed;
	s->duration_ms = 3100 + seed;
	s->scanned = 12034 + seed;
	for (unsigned o = 0; o < OUTCOME__MAX; o++)
		s->counts[o] = 100 * seed + o * 7 + 1; /* distinct per outcome */
	s->candidates = 103 + seed;
	s->requests = 4242 + seed;
	s->completed = true;
}

static void check_file_matches(const struct run_summary *s, bool success)
{
	char *text = read_all(path);
	struct exposition e;
	char key[96];

	ck_assert_msg(parse_exposition(text, &e) == 0, "%s\n%s", parse_error, text);
	ck_assert_double_eq_tol(sample(&e, "synapse_janitor_last_run_timestamp_seconds"),
				(double)(s->started_ms + (int64_t)s->duration_ms) / 1000.0, 0.0005);
	ck_assert_double_eq(sample(&e, "synapse_janitor_last_run_success"), success ? 1 : 0);
	ck_assert_double_eq_tol(sample(&e, "synapse_janitor_last_run_duration_seconds"),
				(double)s->duration_ms / 1000.0, 0.0005);
	ck_assert_double_eq(sample(&e, "synapse_janitor_rooms_scanned"), (double)s->scanned);
	ck_assert_double_eq(sample(&e, "synapse_janitor_candidates"), (double)s->candidates);
	ck_assert_double_eq(sample(&e, "synapse_janitor_deleted"), (double)s->counts[OUTCOME_DELETED]);
	ck_assert_double_eq(sample(&e, "synapse_janitor_failed"), (double)s->counts[OUTCOME_FAILED]);
	ck_assert_double_eq(sample(&e, "synapse_janitor_requests"), (double)s->requests);
	for (unsigned o = 0; o < OUTCOME__MAX; o++) {
		snprintf(key, sizeof(key), "synapse_janitor_rooms{outcome=\"%s\"}",
			 report_outcome_name((enum outcome)o));
		ck_assert_double_eq(sample(&e, key), (double)s->counts[o]);
	}
	/* Nothing else: 8 single gauges and one per outcome. */
	ck_assert_uint_eq(e.n, 8 + OUTCOME__MAX);
	ck_assert_uint_eq(e.n_families, 9);
	for (size_t i = 0; i < e.n_families; i++)
		ck_assert_msg(strncmp(e.families[i], "synapse_janitor_", 16) == 0, "%s", e.families[i]);
	free(text);
}

START_TEST(test_write_and_parse)
{
	struct run_summary s;

	fill(&s, 1);
	ck_assert_int_eq(metrics_write(path, &s, true), 0);
	check_file_matches(&s, true);
}
END_TEST

START_TEST(test_failure_and_replace)
{
	struct run_summary s;
	struct dirent *d;
	DIR *dir;
	int entries = 0;

	fill(&s, 1);
	ck_assert_int_eq(metrics_write(path, &s, true), 0);
	fill(&s, 2);
	s.completed = false;
	s.exit_code = 1;
	ck_assert_int_eq(metrics_write(path, &s, false), 0);
	check_file_matches(&s, false);
	/* Replaced in place: no temporary file left behind. */
	dir = opendir(tmpdir);
	ck_assert_ptr_nonnull(dir);
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			entries++;
	closedir(dir);
	ck_assert_int_eq(entries, 1);
}
END_TEST

START_TEST(test_zero_run)
{
	struct run_summary s;

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(metrics_write(path, &s, false), 0);
	check_file_matches(&s, false);
}
END_TEST

START_TEST(test_readable_by_exporter)
{
	struct run_summary s;
	struct stat st;
	mode_t old = umask(022);

	fill(&s, 3);
	ck_assert_int_eq(metrics_write(path, &s, true), 0);
	umask(old);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
}
END_TEST

START_TEST(test_unwritable)
{
	struct run_summary s;
	char bad[160];

	fill(&s, 1);
	snprintf(bad, sizeof(bad), "%s/missing-dir/x.prom", tmpdir);
	ck_assert_int_eq(metrics_write(bad, &s, true), -ENOENT);
}
END_TEST

/* The parser itself must reject what node_exporter would reject. */
START_TEST(test_parser_rejects)
{
	static const char *const bad[] = {
		"synapse_janitor_x 1\n",                                        /* no HELP/TYPE */
		"# HELP a h\n# TYPE a gauge\na one\n",                          /* not a float */
		"# HELP a h\n# TYPE a gauge\nb 1\n",                            /* other family */
		"# HELP 1a h\n# TYPE 1a gauge\n1a 1\n",                         /* bad name */
		"# HELP a h\n# TYPE a gauge\na{x=\"1} 1\n",                     /* unterminated */
		"# HELP a h\n# TYPE a gauge\na 1",                              /* no newline */
		"# HELP a h\n# TYPE a gauge\na 1\na 2\n",                       /* duplicate */
		"# TYPE a gauge\n# HELP a h\na 1\n",                            /* order */
		"# HELP a h\n# TYPE a gauge\na 1\n# HELP b h\n# TYPE b gauge\nb 1\n"
		"# HELP a h\n# TYPE a gauge\na{x=\"y\"} 1\n",                 /* reappears */
		"# HELP a h\n# TYPE a summary\na 1\n",                         /* not a gauge */
		"# HELP a h\n# TYPE a gauge\na{1x=\"y\"} 1\n",                /* label name */
		"# HELP a h\n# TYPE a gauge\n# a comment\na 1\n",               /* other comment */
	};
	struct exposition e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse_exposition(bad[i], &e) < 0, "accepted: %s", bad[i]);
	/* And accepts a minimal valid one. */
	ck_assert_msg(parse_exposition("# HELP a h\n# TYPE a gauge\na{x=\"q\\\"\"} 1e3\n", &e) == 0,
		      "%s", parse_error);
	ck_assert_double_eq(e.samples[0].value, 1000.0);
}
END_TEST

START_TEST(test_promtool)
{
	struct run_summary s;
	char cmd[256];

	if (system("command -v promtool >/dev/null 2>&1") != 0)
		return; /* optional: not packaged small on Debian 12 */
	fill(&s, 4);
	ck_assert_int_eq(metrics_write(path, &s, true), 0);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s'", path);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");
	TCase *neg = tcase_create("parser");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_write_and_parse);
	tcase_add_test(tc, test_failure_and_replace);
	tcase_add_test(tc, test_zero_run);
	tcase_add_test(tc, test_readable_by_exporter);
	tcase_add_test(tc, test_unwritable);
	tcase_add_test(tc, test_promtool);
	suite_add_tcase(s, tc);
	tcase_add_test(neg, test_parser_rejects);
	suite_add_tcase(s, neg);
	return s;
}

int main(void)
{
	return test_suite_main(metrics_suite());
}
