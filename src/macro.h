/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_MACRO_H
#define SJ_MACRO_H

#define SJ_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
