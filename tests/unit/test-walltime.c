/* lib/walltime.c: the one rule for times porthole sets on a clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "util.h"
#include "walltime.h"

#define BUILT (1790000000LL * NSEC_PER_SEC) /* 2026-09-21 */

static void test_bounds(void **state)
{
	char why[160];

	(void)state;
	assert_int_equal(walltime_check(BUILT, BUILT, why, sizeof(why)), 0);
	assert_int_equal(walltime_check(WALLTIME_END_S * NSEC_PER_SEC - 1, BUILT, why, sizeof(why)),
			 0);
	assert_int_equal(walltime_check(WALLTIME_END_S * NSEC_PER_SEC, BUILT, why, sizeof(why)),
			 -ERANGE);
	assert_non_null(strstr(why, "2070-01-01 00:00:00 UTC is after 2069"));
	assert_int_equal(walltime_check(BUILT - 1, BUILT, why, sizeof(why)), -ERANGE);
	assert_non_null(strstr(why, "before this image was built (2026-09-21"));
	/* what porthole-time-adjust once wrote to the RTC: 2125 */
	assert_int_equal(walltime_check(4917000000LL * NSEC_PER_SEC, BUILT, why, sizeof(why)),
			 -ERANGE);
	assert_non_null(strstr(why, "2125-"));
	assert_int_equal(walltime_check(INT64_MAX, BUILT, why, sizeof(why)), -ERANGE);
	assert_int_equal(walltime_check(INT64_MIN, BUILT, why, sizeof(why)), -ERANGE);
	assert_int_equal(walltime_check(-1, BUILT, why, sizeof(why)), -ERANGE);
	assert_non_null(strstr(why, "1969-12-31 23:59:59 UTC"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
