/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_RUNAS_H
#define SJ_RUNAS_H

#include <sys/types.h>

/* Who a run must be started as. The service user owns the state directory
 * (the package creates it, StateDirectory= keeps it so); a run started by
 * root would leave root-owned files there (the state file, its lock, the
 * records) that the service could not open afterwards.
 *
 * When euid is 0 and the directory of state_file belongs to another user:
 * returns 1 and that user's uid in *owner. Returns 0 when the run may go
 * ahead as this process (not root, a directory of root's, or no directory
 * yet), or a negative errno when the directory cannot be examined. */
int runas_state_dir_owner(const char *state_file, uid_t euid, uid_t *owner);

/* The name of uid (malloc'd), or NULL when it has none. */
char *runas_user_name(uid_t uid);

/* The command that runs the same argv as user, for a POSIX shell:
 * "runuser -u USER -- ARGV..." with each word quoted where it needs it
 * (malloc'd). */
char *runas_command(const char *user, char *const argv[]);

#endif
