/* host/timesync.c: the offset estimator on synthetic samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>

#include "timesync.h"

#define MS 1000000LL
#define HOST0 1800000000000000000LL /* some realtime */

/* A round trip starting at host time T (realtime = monotonic + HOST0), with
 * the request taking UP ns, the reply DOWN ns, and the guest OFFSET ahead. */
static struct ts_sample trip(int64_t t, int64_t up, int64_t down, int64_t offset)
{
	return (struct ts_sample){ .rt0 = HOST0 + t,
				   .mono0 = t,
				   .guest = HOST0 + t + up + offset,
				   .rt1 = HOST0 + t + up + down,
				   .mono1 = t + up + down };
}

static void test_symmetric_delays_exact(void **state)
{
	struct ts_sample s[4];
	struct ts_estimate e;

	(void)state;
	for (int i = 0; i < 4; i++)
		s[i] = trip(i * 100 * MS, 2 * MS, 2 * MS, 123456789);
	assert_int_equal(timesync_estimate(s, 4, &e), 0);
	assert_int_equal(e.offset_ns, 123456789);
	assert_int_equal(e.bound_ns, 2 * MS);
}

/* However asymmetric the two directions, the error stays within the bound. */
static void test_asymmetric_within_bound(void **state)
{
	struct ts_sample s[3] = {
		trip(0, 9 * MS, 1 * MS, -5 * MS),
		trip(100 * MS, 1 * MS, 9 * MS, -5 * MS),
		trip(200 * MS, 3 * MS, 0, -5 * MS),
	};
	struct ts_estimate e;

	(void)state;
	assert_int_equal(timesync_estimate(s, 3, &e), 0);
	/* the shortest round trip (3 ms) is used */
	assert_int_equal(e.used, 2);
	assert_int_equal(e.rtt_ns, 3 * MS);
	assert_true(llabs(e.offset_ns - (-5 * MS)) <= e.bound_ns);
}

/* A slow outlier is never chosen over a fast sample. */
static void test_outliers_ignored(void **state)
{
	struct ts_sample s[5];
	struct ts_estimate e;

	(void)state;
	s[0] = trip(0, 400 * MS, 5 * MS, 7 * MS); /* a scheduling hiccup */
	s[1] = trip(1000 * MS, 1 * MS, 1 * MS, 7 * MS);
	s[2] = trip(2000 * MS, 900 * MS, 900 * MS, 7 * MS);
	s[3] = trip(3000 * MS, 2 * MS, 1 * MS, 7 * MS);
	s[4] = trip(4000 * MS, 50 * MS, 1 * MS, 7 * MS);
	assert_int_equal(timesync_estimate(s, 5, &e), 0);
	assert_int_equal(e.used, 1);
	assert_int_equal(e.offset_ns, 7 * MS);
	assert_int_equal(e.bound_ns, 1 * MS);
}

/* The host's clock stepped during a sample: its realtime difference is not
 * its monotonic one, and the sample is thrown out even with the least delay. */
static void test_host_clock_stepped_mid_measurement(void **state)
{
	struct ts_sample s[3];
	struct ts_estimate e;

	(void)state;
	s[0] = trip(0, 2 * MS, 2 * MS, 10 * MS);
	s[1] = trip(100 * MS, 0, 1000, 10 * MS);
	s[1].rt1 += 3600LL * 1000 * MS; /* an hour's step, between rt0 and rt1 */
	s[2] = trip(200 * MS, 1 * MS, 2 * MS, 10 * MS);
	assert_int_equal(timesync_estimate(s, 3, &e), 0);
	assert_int_equal(e.rejected, 1);
	assert_int_equal(e.used, 2);
	assert_true(llabs(e.offset_ns - 10 * MS) <= e.bound_ns);
	/* stepped backwards too */
	s[2].rt1 -= 7200LL * 1000 * MS;
	assert_int_equal(timesync_estimate(s, 3, &e), 0);
	assert_int_equal(e.used, 0);
	assert_int_equal(e.rejected, 2);
}

static void test_nothing_usable(void **state)
{
	struct ts_sample s = trip(0, 1 * MS, 1 * MS, 0);
	struct ts_estimate e;

	(void)state;
	s.mono1 = s.mono0 - 1;
	assert_int_equal(timesync_estimate(&s, 1, &e), -EINVAL);
	assert_int_equal(timesync_estimate(&s, 0, &e), -EINVAL);
}

/* Years of offset, as a guest booted with its RTC far off has. */
static void test_large_offsets_exact(void **state)
{
	struct ts_sample s = trip(0, 1000, 1000, -6LL * 365 * 86400 * 1000 * MS);
	struct ts_estimate e;

	(void)state;
	assert_int_equal(timesync_estimate(&s, 1, &e), 0);
	assert_int_equal(e.offset_ns, -6LL * 365 * 86400 * 1000 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symmetric_delays_exact),
		cmocka_unit_test(test_asymmetric_within_bound),
		cmocka_unit_test(test_outliers_ignored),
		cmocka_unit_test(test_host_clock_stepped_mid_measurement),
		cmocka_unit_test(test_nothing_usable),
		cmocka_unit_test(test_large_offsets_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
