/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_XMALLOC_H
#define SJ_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

#include "macro.h"

/* Allocation failure is handled here, once: the program logs and exits. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);          /* NULL stays NULL */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) SJ_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) SJ_PRINTF(1, 0);

#endif
