/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The main() of every Check suite (suite.h). Its own object in the test
 * library, so a unit suite links nothing else of it. */
#include "config.h"

#include <stdlib.h>

#include "suite.h"

int test_suite_main(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
