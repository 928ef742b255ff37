/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_TRI_H
#define SJ_TRI_H

/* A yes/no that may be neither: a fact not known (doubt keeps the room),
 * or a rule condition not set (either answer will do). Zero is that third
 * state, so a zeroed struct knows and demands nothing. */
enum tri { TRI_UNKNOWN = 0, TRI_FALSE, TRI_TRUE };

/* "true", "false" or "unknown". */
static inline const char *tri_name(enum tri t)
{
	return t == TRI_TRUE ? "true" : t == TRI_FALSE ? "false" : "unknown";
}

#endif
