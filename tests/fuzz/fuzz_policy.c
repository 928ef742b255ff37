/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness for the policy loader: any bytes in, a policy or error
 * lines out, nothing leaked, nothing read out of bounds. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_errors errs = { 0 };
	struct policy *p = NULL;
	int r = policy_load_buffer("/fuzz/policy.yaml", (const char *)data, size, &p, &errs);

	if (r == 0) {
		/* Exercise the readers of a loaded policy too. */
		FILE *null = fopen("/dev/null", "w");

		if (null) {
			policy_print_summary(p, null);
			fclose(null);
		}
		for (size_t i = 0; i < p->n_rules; i++)
			if (policy_find_rule(p, p->rules[i].name) != &p->rules[i])
				__builtin_trap();
		if (errs.n != 0)
			__builtin_trap();
	} else if (errs.n == 0 || p != NULL) {
		__builtin_trap();   /* a refusal always says why */
	}
	for (size_t i = 0; i < errs.n; i++)
		if (strchr(errs.lines[i], '\n'))
			__builtin_trap();   /* one line per error */
	policy_errors_free(&errs);
	policy_free(p);
	return 0;
}
