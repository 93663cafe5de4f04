/* agent/cmd-clock.c: which corrections are applied how, and which refused.
 * (Applying them needs root and changes the clock: the vm tier does that.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "agent-test.h"
#include "cmd-clock.h"

#define MS 1000000LL
#define S (1000 * MS)
#define NOW (1800000000LL * S)
#define BUILT (1790000000LL * S)

/* The group's table, and the argument specs the schema gives its commands. */
static void test_table(void **state)
{
	(void)state;
	check_table(cmd_clock_table, 2);
	assert_null(find("porthole-time")->args[0].name);
}

static int check(int64_t offset, enum clock_mode mode, enum clock_mode *applied, char *why)
{
	return clock_adjust_check(NOW, offset, mode, CLOCK_THRESHOLD_DEFAULT_NS, BUILT, applied,
				  why, 256);
}

static void test_auto_steps_above_threshold_slews_below(void **state)
{
	enum clock_mode m;
	char why[256];

	(void)state;
	assert_int_equal(check(99 * MS, CLOCK_AUTO, &m, why), 0);
	assert_int_equal(m, CLOCK_SLEW);
	assert_int_equal(check(-99 * MS, CLOCK_AUTO, &m, why), 0);
	assert_int_equal(m, CLOCK_SLEW);
	assert_int_equal(check(101 * MS, CLOCK_AUTO, &m, why), 0);
	assert_int_equal(m, CLOCK_STEP);
	assert_int_equal(check(-3 * S, CLOCK_AUTO, &m, why), 0);
	assert_int_equal(m, CLOCK_STEP);
	/* asked for: as asked */
	assert_int_equal(check(5 * MS, CLOCK_STEP, &m, why), 0);
	assert_int_equal(m, CLOCK_STEP);
	assert_int_equal(check(400 * MS, CLOCK_SLEW, &m, why), 0);
	assert_int_equal(m, CLOCK_SLEW);
}

static void test_refusals(void **state)
{
	enum clock_mode m = CLOCK_AUTO;
	char why[256] = "";

	(void)state;
	/* more than a century */
	assert_int_equal(check(101LL * 366 * 86400 * S, CLOCK_STEP, &m, why), -EINVAL);
	assert_non_null(strstr(why, "century"));
	assert_int_equal(check(INT64_MIN, CLOCK_STEP, &m, why), -EINVAL);
	/* before the image was built */
	assert_int_equal(check(-(NOW - BUILT) - S, CLOCK_STEP, &m, why), -EINVAL);
	assert_non_null(strstr(why, "before this image was built"));
	/* a guest started years in the past is moved forward: fine */
	assert_int_equal(clock_adjust_check(BUILT - 6LL * 365 * 86400 * S, 6LL * 365 * 86400 * S,
					    CLOCK_AUTO, CLOCK_THRESHOLD_DEFAULT_NS, BUILT, &m, why,
					    sizeof(why)),
			 0);
	assert_int_equal(m, CLOCK_STEP);
	/* past 2262 */
	assert_int_equal(clock_adjust_check(INT64_MAX - S, 2 * S, CLOCK_STEP, 0, BUILT, &m, why,
					    sizeof(why)),
			 -EINVAL);
	/* past 2069: what guest-set-time refuses, whatever the path */
	assert_int_equal(check(99LL * 365 * 86400 * S, CLOCK_STEP, &m, why), -EINVAL);
	assert_non_null(strstr(why, "after 2069"));
	/* too much to slew */
	assert_int_equal(check(600 * MS, CLOCK_SLEW, &m, why), -EINVAL);
	assert_non_null(strstr(why, "step it"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_auto_steps_above_threshold_slews_below),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
