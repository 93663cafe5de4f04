/* agent/memory-policy.c with a fake clock and fake readings: idle after
 * idle_after of quiet, one full reclaim per idle period, engine CPU and
 * the host's requests as activity, a gentle step while the cache is high,
 * and a clock that goes back taken as a new start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memory-policy.h"

#define MiB (1ull << 20)
#define TOTAL (1024 * MiB)

static struct mem_policy_config cfg;
static struct mem_policy p;
static struct mem_sample s;

static int setup(void **state)
{
	(void)state;
	mem_policy_config_defaults(&cfg, 20000);
	p = (struct mem_policy){ 0 };
	s = (struct mem_sample){ .now_ms = 1000000,
				 .total_bytes = TOTAL,
				 .page_cache_bytes = 100 * MiB };
	return 0;
}

/* The next check, INTERVAL_MS later, the engine having used CPU_MS of CPU. */
static struct mem_decision tick(uint64_t interval_ms, uint64_t cpu_ms)
{
	s.now_ms += interval_ms;
	s.cpu_usec += cpu_ms * 1000;
	return mem_policy_step(&p, &cfg, &s);
}

static void test_idle_once(void **state)
{
	struct mem_decision d;

	(void)state;
	/* the first sample is a start: activity, never a reclaim */
	d = mem_policy_step(&p, &cfg, &s);
	assert_int_equal(d.action, MEM_NONE);
	assert_false(d.idle);
	d = tick(10000, 0);
	assert_false(d.idle);
	assert_int_equal(d.idle_for_ms, 10000);
	/* 20 s quiet: idle, one full reclaim */
	d = tick(10000, 0);
	assert_true(d.idle);
	assert_int_equal(d.action, MEM_FULL);
	/* and only one while the VM stays idle */
	for (int i = 0; i < 10; i++) {
		d = tick(10000, 0);
		assert_true(d.idle);
		assert_int_equal(d.action, MEM_NONE);
	}
}

static void test_cpu_is_activity(void **state)
{
	struct mem_decision d;

	(void)state;
	mem_policy_step(&p, &cfg, &s);
	/* 5% of a CPU is the line: 500 ms in 10 s is not above it, 501 is */
	d = tick(10000, 500);
	assert_int_equal(d.idle_for_ms, 10000);
	d = tick(10000, 501);
	assert_int_equal(d.idle_for_ms, 0);
	d = tick(10000, 0);
	d = tick(10000, 0);
	assert_true(d.idle);
	assert_int_equal(d.action, MEM_FULL);
	/* busy again ends the idle period: the next one gets its full reclaim */
	d = tick(10000, 2000);
	assert_false(d.idle);
	assert_int_equal(d.action, MEM_NONE);
	tick(10000, 0);
	d = tick(10000, 0);
	assert_int_equal(d.action, MEM_FULL);
}

static void test_requests_are_activity(void **state)
{
	struct mem_decision d;

	(void)state;
	mem_policy_step(&p, &cfg, &s);
	tick(10000, 0);
	/* a request 5 s before this check: quiet for 5 s only */
	s.last_request_ms = s.now_ms + 5000;
	d = tick(10000, 0);
	assert_int_equal(d.idle_for_ms, 5000);
	d = tick(10000, 0);
	assert_false(d.idle);
	d = tick(10000, 0);
	assert_true(d.idle);
	assert_int_equal(d.action, MEM_FULL);
	/* a stamp from the future (another clock) is ignored */
	s.last_request_ms = s.now_ms + 60000;
	d = tick(10000, 0);
	assert_true(d.idle);
}

static void test_gentle_when_cache_high(void **state)
{
	struct mem_decision d;

	(void)state;
	mem_policy_step(&p, &cfg, &s);
	/* busy, the cache a third of memory and more: a tenth of it */
	s.page_cache_bytes = 400 * MiB;
	d = tick(10000, 5000);
	assert_int_equal(d.action, MEM_GENTLE);
	assert_int_equal(d.bytes, 400 * MiB / 1000 * 100);
	/* capped per step */
	s.page_cache_bytes = 2000 * MiB;
	d = tick(10000, 5000);
	assert_int_equal(d.action, MEM_GENTLE);
	assert_int_equal(d.bytes, 128 * MiB);
	/* below the line: nothing */
	s.page_cache_bytes = 300 * MiB;
	d = tick(10000, 5000);
	assert_int_equal(d.action, MEM_NONE);
	/* idle: the full reclaim, no gentle steps after */
	tick(10000, 0);
	d = tick(10000, 0);
	assert_int_equal(d.action, MEM_FULL);
	s.page_cache_bytes = 20 * MiB;
	d = tick(10000, 0);
	assert_int_equal(d.action, MEM_NONE);
	/* grown back a little: nothing; by more than 64 MiB from the least
	 * seen since (someone outside the engine read files): full again */
	s.page_cache_bytes = 84 * MiB;
	d = tick(10000, 0);
	assert_int_equal(d.action, MEM_NONE);
	s.page_cache_bytes = 500 * MiB;
	d = tick(10000, 0);
	assert_true(d.idle);
	assert_int_equal(d.action, MEM_FULL);
	d = tick(10000, 0);
	assert_int_equal(d.action, MEM_NONE);
}

static void test_requested_full_counts(void **state)
{
	struct mem_decision d;

	(void)state;
	mem_policy_step(&p, &cfg, &s);
	tick(10000, 0);
	/* the host asked for a full reclaim while quiet: no second one */
	mem_policy_note_full(&p, s.page_cache_bytes);
	d = tick(10000, 0);
	assert_true(d.idle);
	assert_int_equal(d.action, MEM_NONE);
}

static void test_clock_back(void **state)
{
	struct mem_decision d;

	(void)state;
	mem_policy_step(&p, &cfg, &s);
	tick(30000, 0);
	/* the clock went back: a new start, no CPU figure from the old one */
	s.now_ms -= 100000;
	s.cpu_usec = 0;
	d = mem_policy_step(&p, &cfg, &s);
	assert_false(d.idle);
	assert_int_equal(d.action, MEM_NONE);
	d = tick(20000, 0);
	assert_int_equal(d.action, MEM_FULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_idle_once, setup),
		cmocka_unit_test_setup(test_cpu_is_activity, setup),
		cmocka_unit_test_setup(test_requests_are_activity, setup),
		cmocka_unit_test_setup(test_gentle_when_cache_high, setup),
		cmocka_unit_test_setup(test_requested_full_counts, setup),
		cmocka_unit_test_setup(test_clock_back, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
