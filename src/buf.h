/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_BUF_H
#define SJ_BUF_H

#include <stddef.h>

#include "macro.h"

/* A growable, always NUL-terminated byte buffer. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) SJ_PRINTF(2, 3);
void buf_reset(struct buf *b);         /* len = 0, keeps the memory */
void buf_free(struct buf *b);

#endif
