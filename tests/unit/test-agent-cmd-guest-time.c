/* agent/cmd-guest-time.c: guest-get-time against the clock, and the times
 * guest-set-time refuses before it touches anything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "agent-test.h"

/* The group's table, and the argument specs the schema gives its commands. */
static void test_table(void **state)
{
	(void)state;
	check_table(cmd_guest_time_table, 2);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void test_get_time(void **state)
{
	int64_t before = now_ns(), after;
	json_t *r = call_ok("guest-get-time", NULL);

	(void)state;
	after = now_ns();
	assert_true(json_is_integer(r));
	assert_true(json_integer_value(r) >= before && json_integer_value(r) <= after);
	json_decref(r);
}

/* Out-of-range times are refused before anything is touched. (A valid time
 * would set this machine's clock: not tested here, but in the VM tests.) */
static void test_set_time_refuses_absurd(void **state)
{
	int64_t before = now_ns();

	(void)state;
	call_fails("guest-set-time", "{\"time\": -1}", "Invalid time -1");
	call_fails("guest-set-time", "{\"time\": 3155760000000000000}", "after 2069");
	/* before this image was built: the rule porthole-time-adjust follows too */
	call_fails("guest-set-time", "{\"time\": 1000000000000000000}",
		   "before this image was built");
	call_fails("guest-set-time", "{\"time\": 9223372036854775807}", "Invalid time");
	/* the clock has not moved by much more than the test took */
	assert_true(llabs(now_ns() - before) < 1000000000LL);
	assert_int_equal(find("guest-set-time")->args[0].type, ARG_INT);
	assert_false(find("guest-set-time")->args[0].required);
}

static void test_set_time_without_rtc(void **state)
{
	(void)state;
	if (access("/dev/rtc0", F_OK) == 0)
		skip(); /* it would set this machine's clock from its RTC */
	call_fails("guest-set-time", NULL, "/dev/rtc0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_get_time),
		cmocka_unit_test(test_set_time_refuses_absurd),
		cmocka_unit_test(test_set_time_without_rtc),
	};

	return cmocka_run_group_tests(tests, agent_test_setup, NULL);
}
