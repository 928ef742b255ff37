/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_TOKEN_H
#define SJ_TOKEN_H

#include <stddef.h>

struct policy;

/* Read the admin token (DESIGN.md §6.7): $CREDENTIALS_DIRECTORY/<token_credential>
 * when that is set and exists, else token_file. A missing, empty or
 * world-readable file is refused. One trailing newline is stripped.
 * Returns 0 and a malloc'd *token, or a negative errno with a message in err
 * that names the file (never the token). */
int token_read(const struct policy *p, char **token, char *err, size_t errlen);

/* Overwrite and free. */
void token_free(char *token);

#endif
