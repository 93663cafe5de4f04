/* lib/parallel.c: every job runs once, on at most the threads asked for,
 * each worker number below the number of threads used. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "parallel.h"

#define JOBS 200

struct tally {
	int runs[JOBS];
	unsigned worker_of[JOBS];
	bool caller_ran[JOBS];
	unsigned max_worker;
	pthread_t caller;
	int on_caller;
	/* the first job waits (5 s at most) for a job on another worker: the
	 * threads certainly shared the work, whatever the machine's load */
	bool rendezvous;
	int others; /* jobs run by a worker other than the first job's */
	unsigned first_worker;
};

static void count(void *arg, unsigned worker, size_t job)
{
	struct tally *t = arg;
	unsigned seen = __atomic_load_n(&t->max_worker, __ATOMIC_RELAXED);

	__atomic_add_fetch(&t->runs[job], 1, __ATOMIC_RELAXED);
	t->worker_of[job] = worker;
	while (worker > seen && !__atomic_compare_exchange_n(&t->max_worker, &seen, worker, false,
							     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	t->caller_ran[job] = pthread_equal(pthread_self(), t->caller);
	if (t->caller_ran[job])
		__atomic_add_fetch(&t->on_caller, 1, __ATOMIC_RELAXED);
	if (!t->rendezvous)
		return;
	if (job == 0) {
		t->first_worker = worker;
		for (int i = 0; i < 5000 && !__atomic_load_n(&t->others, __ATOMIC_ACQUIRE); i++)
			usleep(1000);
	} else if (worker != __atomic_load_n(&t->first_worker, __ATOMIC_RELAXED)) {
		__atomic_add_fetch(&t->others, 1, __ATOMIC_RELEASE);
	}
}

static void run(struct tally *t, size_t n, unsigned threads, unsigned *used)
{
	memset(t, 0, sizeof(*t));
	t->caller = pthread_self();
	t->rendezvous = threads > 1 && n > 1;
	t->first_worker = ~0u;
	*used = parallel_run(n, threads, count, t);
}

static void test_each_job_once(void **state)
{
	struct tally t;
	unsigned used;

	(void)state;
	run(&t, JOBS, 4, &used);
	assert_true(used >= 1 && used <= 4);
	for (size_t i = 0; i < JOBS; i++) {
		assert_int_equal(t.runs[i], 1);
		assert_true(t.worker_of[i] < used);
	}
	/* threads were made, and another than the first job's took jobs */
	assert_true(used > 1);
	assert_true(t.others > 0);
	assert_true(t.max_worker >= 1);
	/* worker 0 is the caller's thread, and only it */
	for (size_t i = 0; i < JOBS; i++)
		assert_int_equal(t.caller_ran[i], t.worker_of[i] == 0);
}

static void test_one_thread_is_the_caller(void **state)
{
	struct tally t;
	unsigned used;

	(void)state;
	run(&t, 10, 1, &used);
	assert_int_equal(used, 1);
	assert_int_equal(t.on_caller, 10);
	assert_int_equal(t.max_worker, 0);
	/* 0 counts as 1 */
	run(&t, 10, 0, &used);
	assert_int_equal(used, 1);
	assert_int_equal(t.on_caller, 10);
}

static void test_bounds(void **state)
{
	struct tally t;
	unsigned used;

	(void)state;
	/* no jobs: nothing runs, no thread */
	run(&t, 0, 4, &used);
	assert_int_equal(used, 0);
	/* never more threads than jobs, nor than the cap */
	run(&t, 3, 8, &used);
	assert_true(used <= 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(t.runs[i], 1);
	run(&t, JOBS, 1000, &used);
	assert_true(used <= PARALLEL_THREADS_MAX);
	for (size_t i = 0; i < JOBS; i++)
		assert_int_equal(t.runs[i], 1);
}

static void test_cpus(void **state)
{
	(void)state;
	assert_true(parallel_cpus() >= 1);
	assert_true(parallel_cpus() <= (unsigned)sysconf(_SC_NPROCESSORS_CONF) ||
		    sysconf(_SC_NPROCESSORS_CONF) < 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_job_once),
		cmocka_unit_test(test_one_thread_is_the_caller),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_cpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
