/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness for the --apply CSV reader: an admin-edited file, so
 * anything at all; the reader and the row parser must neither crash nor
 * leak, and every record must have a field. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rule rules[2] = {
		{ .name = "abandoned", .action = RULE_ACTION_DELETE },
		{ .name = "stale-small", .action = RULE_ACTION_RECORD },
	};
	static char *names[] = { "Incident *" };
	static struct policy p = {
		.rules = rules,
		.n_rules = 2,
		.protect = { .names = { names, 1 }, .is_public = true, .spaces = true },
	};
	static bool quiet;
	struct decide_context d = { .policy = &p, .now_ms = 1700000000000LL };
	struct csv_reader r;
	struct csv_record rec = { 0 };
	struct apply_rows rows;
	char err[256];
	int k;

	if (!quiet) {
		log_init(LOG_TARGET_CONSOLE, false);
		quiet = true;
	}
	apply_csv_init(&r, (const char *)data, size);
	while ((k = apply_csv_next(&r, &rec, err, sizeof(err))) != 0)
		if (k > 0 && rec.n == 0)
			abort();
	apply_csv_record_free(&rec);
	if (apply_parse(&p, "fuzz.csv", (const char *)data, size, &rows, err, sizeof(err)) == 0) {
		apply_refuse_protected(&d, "fuzz.csv", &rows);
		if (rows.refused > rows.n)
			abort();
		apply_rows_free(&rows);
	}
	return 0;
}
