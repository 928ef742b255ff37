/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "util.h"

void candidate_clear(struct candidate *c)
{
	room_facts_clear(&c->facts);
	free(c->delete_id);
	memset(c, 0, sizeof(*c));
}

/* Until the delete path exists, nothing is ever deleted: a real run refuses. */
void act_run(const struct act_context *ctx, struct candidate *c, size_t n, struct act_result *res)
{
	memset(res, 0, sizeof(*res));
	for (size_t i = 0; i < n; i++) {
		if (ctx->dry_run) {
			c[i].outcome = OUTCOME_WOULD_DELETE;
		} else {
			c[i].outcome = OUTCOME_REFUSED;
			snprintf(c[i].reason, sizeof(c[i].reason), "deleting is not available yet");
		}
		ctx->emit(ctx->emit_ud, &c[i]);
	}
}
