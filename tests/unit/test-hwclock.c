/* lib/hwclock.c, without an RTC: what a guest without /dev/rtc0 or with
 * the wrong device gets is an error to report, never a crash or a time.
 * Nothing here opens /dev/rtc0, or sets any clock: the vm tier reads and
 * writes QEMU's RTC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hwclock.h"

static void test_read_without_rtc(void **state)
{
	char tmp[] = "/tmp/test-hwclock.XXXXXX";
	const char *const not_rtc[] = { "/dev/null", "/dev/zero", "/tmp", tmp };
	char why[64] = "untouched";
	int64_t s = 12345;
	int fd;

	(void)state;
	fd = mkstemp(tmp);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "2026-01-01 00:00:00\n", 20), 20);
	close(fd);
	/* no device: -ENOENT, as a guest without an RTC sees it */
	assert_int_equal(hwclock_read("/nonexistent/rtc0", &s, why, sizeof(why)), -ENOENT);
	/* a device or file that is not an RTC: RTC_RD_TIME is not its ioctl */
	for (size_t i = 0; i < sizeof(not_rtc) / sizeof(not_rtc[0]); i++) {
		int r = hwclock_read(not_rtc[i], &s, why, sizeof(why));

		if (r != -ENOTTY)
			fail_msg("%s: %d, not -ENOTTY", not_rtc[i], r);
	}
	/* nothing returned, nothing said: WHY is for an RTC's bad fields */
	assert_int_equal(s, 12345);
	assert_string_equal(why, "untouched");
	unlink(tmp);
}

static void test_write_without_rtc(void **state)
{
	(void)state;
	assert_int_equal(hwclock_write("/nonexistent/rtc0"), -ENOENT);
	assert_int_equal(hwclock_write("/dev/null"), -ENOTTY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_without_rtc),
		cmocka_unit_test(test_write_without_rtc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
