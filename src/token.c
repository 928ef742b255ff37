/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "token.h"

#include <errno.h>
#include <stdlib.h>

/* Placeholder until token handling lands. */
int token_read(const struct policy *p, char **token, char *err, size_t errlen)
{
	(void)p; (void)token; (void)err; (void)errlen;
	return -ENOSYS;
}
void token_free(char *token) { free(token); }
