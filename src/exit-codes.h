/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef SJ_EXIT_CODES_H
#define SJ_EXIT_CODES_H

#include <stdlib.h>

/* The exit statuses of DESIGN.md §4, README and synapse-janitor(8); the
 * unit's RestartPreventExitStatus= names EXIT_USAGE. */
#define EXIT_OK         EXIT_SUCCESS /* the run completed (rooms kept in doubt are no failure) */
#define EXIT_RUN_FAILED 1            /* the run could not complete, or a delete failed */
#define EXIT_USAGE      2            /* usage error, invalid policy or unusable token file */

#endif
