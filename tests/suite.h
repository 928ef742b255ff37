/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The main() of every Check suite: a suite builds its Suite and returns
 * test_suite_main(its_suite()). */
#ifndef SJ_SUITE_H
#define SJ_SUITE_H

#include <check.h>

/* Runs every test of s (each in a child process, Check's default) with
 * Check's normal output, or the verbosity $CK_VERBOSITY asks for, and frees
 * it. Returns EXIT_SUCCESS when no test failed, else EXIT_FAILURE. */
int test_suite_main(Suite *s);

#endif
