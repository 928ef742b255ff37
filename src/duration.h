/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_DURATION_H
#define SJ_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* "30s", "15m", "36h", "90d", "2w" <-> seconds. One integer and one unit;
 * no months or years (not a fixed length). Returns 0 or -EINVAL / -ERANGE. */
int duration_parse(const char *s, uint64_t *seconds);

/* Shortest exact form ("90d", "36h", "0s"). */
void duration_format(uint64_t seconds, char *buf, size_t len);

#endif
