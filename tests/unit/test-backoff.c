/* init/backoff.c: the restart delays users see in the log ("restarting in
 * N ms"), doubling from restart_delay to restart_delay_max and starting
 * over after a stable run; and the crash window that fails a service after
 * crash_limit restarts, including limits above the slots it remembers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backoff.h"
#include "util.h"

#define S NSEC_PER_SEC

static void test_doubling_and_ceiling(void **state)
{
	static const uint64_t want[] = { 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000 };
	struct backoff b;

	(void)state;
	backoff_reset(&b);
	/* the defaults: 0.5, 1, 2, ... 30, 30 (docs/services.md) */
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		assert_int_equal(backoff_next_ms(&b, 100, BACKOFF_FIRST_MS, BACKOFF_MAX_MS),
				 want[i]);
	/* many restarts later the delay is still the ceiling, not an overflow */
	for (int i = 0; i < 100; i++)
		assert_int_equal(backoff_next_ms(&b, 100, 3600000, 3600000), 3600000);
	backoff_reset(&b);
	assert_int_equal(backoff_next_ms(&b, 0, 100, 1000), 100);
	assert_int_equal(backoff_next_ms(&b, 0, 100, 1000), 200);
	assert_int_equal(backoff_next_ms(&b, 0, 100, 1000), 400);
	assert_int_equal(backoff_next_ms(&b, 0, 100, 1000), 800);
	assert_int_equal(backoff_next_ms(&b, 0, 100, 1000), 1000);
}

static void test_stable_run_starts_over(void **state)
{
	struct backoff b;

	(void)state;
	backoff_reset(&b);
	assert_int_equal(backoff_next_ms(&b, 10, 500, 30000), 500);
	assert_int_equal(backoff_next_ms(&b, 10, 500, 30000), 1000);
	assert_int_equal(backoff_next_ms(&b, BACKOFF_STABLE_MS - 1, 500, 30000), 2000);
	/* a run of 10 s: the next restart waits the first delay again */
	assert_int_equal(backoff_next_ms(&b, BACKOFF_STABLE_MS, 500, 30000), 500);
	assert_int_equal(backoff_next_ms(&b, 10, 500, 30000), 1000);
}

static void test_crash_window(void **state)
{
	struct backoff b;
	uint64_t t = 1000 * S;

	(void)state;
	backoff_reset(&b);
	/* crash_limit 3 in 60 s: three restarts, the fourth is a crash loop */
	assert_false(backoff_crash_loop(&b, t, 3, 60000));
	assert_false(backoff_crash_loop(&b, t + 1 * S, 3, 60000));
	assert_false(backoff_crash_loop(&b, t + 2 * S, 3, 60000));
	assert_int_equal(b.in_window, 3);
	assert_true(backoff_crash_loop(&b, t + 3 * S, 3, 60000));
	assert_int_equal(b.in_window, 3);
	/* restarts that left the window no longer count */
	backoff_reset(&b);
	assert_false(backoff_crash_loop(&b, t, 3, 60000));
	assert_false(backoff_crash_loop(&b, t + 30 * S, 3, 60000));
	assert_false(backoff_crash_loop(&b, t + 61 * S, 3, 60000));
	assert_false(backoff_crash_loop(&b, t + 62 * S, 3, 60000));
	assert_int_equal(b.in_window, 3);
	assert_true(backoff_crash_loop(&b, t + 63 * S, 3, 60000));
	/* limit 0: never a crash loop */
	backoff_reset(&b);
	for (int i = 0; i < 1000; i++)
		assert_false(backoff_crash_loop(&b, t + (uint64_t)i * S / 100, 0, 60000));
}

static void test_limit_above_the_slots(void **state)
{
	struct backoff b;
	uint64_t t = 1000 * S;
	int i;

	(void)state;
	/* crash_limit may be up to 1000: 100 restarts in a minute fail it on the
	 * 101st, though only BACKOFF_RECENT_MAX times are kept */
	backoff_reset(&b);
	for (i = 0; i < 100; i++)
		assert_false(backoff_crash_loop(&b, t + (uint64_t)i * S / 10, 100, 60000));
	assert_true(backoff_crash_loop(&b, t + 10 * S, 100, 60000));
	assert_int_equal(b.in_window, 100);
	/* and, spread over 200 s, the same 100 never are a loop of 100 in 60 s */
	backoff_reset(&b);
	for (i = 0; i < 100; i++)
		assert_false(backoff_crash_loop(&b, t + (uint64_t)i * 2 * S, 100, 60000));
	assert_true(b.in_window <= 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubling_and_ceiling),
		cmocka_unit_test(test_stable_run_starts_over),
		cmocka_unit_test(test_crash_window),
		cmocka_unit_test(test_limit_above_the_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
