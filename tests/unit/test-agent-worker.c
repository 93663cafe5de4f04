/* agent/worker.c: jobs run off the loop, come back on the loop's thread in
 * order, a full queue refuses, and stopping with a stuck job is bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "loop.h"
#include "util.h"
#include "worker.h"

/* a hang is a failure, not a wait forever */
#define HANG_MS 10000

struct job {
	int n;
	int gate; /* a pipe's read end the job waits on, or -1 */
	atomic_bool started;
	atomic_bool ran;
	pthread_t ran_on;
	int status; /* DONE's, or 1 before it */
	pthread_t done_on;
};

static int done_order[64];
static size_t n_done;
static size_t quit_after;
static atomic_int shutdown_seen;

static void run(void *data)
{
	struct job *j = data;
	char c;

	atomic_store(&j->started, true);
	if (j->gate >= 0)
		while (read(j->gate, &c, 1) < 0 && errno == EINTR)
			;
	j->ran_on = pthread_self();
	atomic_store(&j->ran, true);
}

static struct loop *the_loop;

static void done(void *data, int status)
{
	struct job *j = data;

	j->status = status;
	j->done_on = pthread_self();
	if (status == -ESHUTDOWN) {
		atomic_fetch_add(&shutdown_seen, 1);
		return;
	}
	done_order[n_done++] = j->n;
	if (n_done == quit_after)
		loop_quit(the_loop);
}

static void hang(struct loop *l, void *data)
{
	(void)l, (void)data;
	fail_msg("the loop waited %d ms for the jobs", HANG_MS);
}

static void setup_loop(void)
{
	assert_int_equal(loop_new(&the_loop), 0);
	n_done = 0;
	quit_after = 0;
}

static void run_loop_until(size_t n)
{
	int64_t t = loop_timer(the_loop, HANG_MS, hang, NULL);

	quit_after = n;
	assert_int_equal(loop_run(the_loop), 0);
	loop_cancel(the_loop, t);
}

/* One thread: jobs end in the order they were queued, and each DONE runs
 * on the loop's thread, only once the loop runs. */
static void test_order_and_done_on_loop(void **state)
{
	struct worker *w;
	struct job jobs[10];

	(void)state;
	setup_loop();
	assert_int_equal(worker_new(the_loop, 1, 16, &w), 0);
	for (int i = 0; i < 10; i++) {
		jobs[i] = (struct job){ .n = i, .gate = -1, .status = 1 };
		assert_int_equal(worker_submit(w, run, done, &jobs[i]), 0);
	}
	/* the jobs run meanwhile, but nothing comes back off the loop */
	for (int spin = 0; spin < HANG_MS && !atomic_load(&jobs[9].ran); spin++)
		usleep(1000);
	assert_true(atomic_load(&jobs[9].ran));
	assert_int_equal(n_done, 0);
	run_loop_until(10);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(done_order[i], i);
		assert_int_equal(jobs[i].status, 0);
		assert_true(pthread_equal(jobs[i].done_on, pthread_self()));
		assert_false(pthread_equal(jobs[i].ran_on, pthread_self()));
	}
	assert_int_equal(worker_free(w, 1000), 0);
	loop_free(the_loop);
}

/* A slow job does not hold up a quick one queued after it when there are
 * two threads: the quick one comes back first. */
static void test_slow_job_does_not_hold_others(void **state)
{
	struct worker *w;
	int gate[2];
	struct job slow, quick;

	(void)state;
	setup_loop();
	assert_int_equal(pipe(gate), 0);
	assert_int_equal(worker_new(the_loop, 2, 4, &w), 0);
	slow = (struct job){ .n = 1, .gate = gate[0], .status = 1 };
	quick = (struct job){ .n = 2, .gate = -1, .status = 1 };
	assert_int_equal(worker_submit(w, run, done, &slow), 0);
	assert_int_equal(worker_submit(w, run, done, &quick), 0);
	run_loop_until(1);
	assert_int_equal(done_order[0], 2);
	assert_int_equal(slow.status, 1);
	assert_int_equal(write(gate[1], "x", 1), 1);
	run_loop_until(2);
	assert_int_equal(done_order[1], 1);
	assert_int_equal(worker_free(w, 1000), 0);
	close(gate[0]);
	close(gate[1]);
	loop_free(the_loop);
}

/* JOBS_MAX outstanding, finished but undelivered ones included: the next
 * is refused with -EBUSY until the loop takes one back. */
static void test_queue_full(void **state)
{
	struct worker *w;
	int gate[2];
	struct job jobs[4];

	(void)state;
	setup_loop();
	assert_int_equal(pipe(gate), 0);
	assert_int_equal(worker_new(the_loop, 1, 3, &w), 0);
	assert_int_equal(worker_room(w), 3);
	for (int i = 0; i < 3; i++) {
		jobs[i] = (struct job){ .n = i, .gate = gate[0], .status = 1 };
		assert_int_equal(worker_submit(w, run, done, &jobs[i]), 0);
	}
	jobs[3] = (struct job){ .n = 3, .gate = -1, .status = 1 };
	assert_int_equal(worker_room(w), 0);
	assert_int_equal(worker_submit(w, run, done, &jobs[3]), -EBUSY);
	/* all three run and finish, but are not delivered: still full */
	assert_int_equal(write(gate[1], "xxx", 3), 3);
	for (int spin = 0; spin < HANG_MS && !atomic_load(&jobs[2].ran); spin++)
		usleep(1000);
	assert_int_equal(worker_submit(w, run, done, &jobs[3]), -EBUSY);
	run_loop_until(3);
	assert_int_equal(worker_room(w), 3);
	assert_int_equal(worker_submit(w, run, done, &jobs[3]), 0);
	run_loop_until(4);
	assert_int_equal(done_order[3], 3);
	assert_int_equal(worker_free(w, 1000), 0);
	close(gate[0]);
	close(gate[1]);
	loop_free(the_loop);
}

/* Stopping with a job stuck (a FITRIM, a dead share) returns after the
 * time-out; the queued job is cancelled on the caller's thread; the stuck
 * one frees its data from its thread once it ends. */
static void test_stop_is_bounded(void **state)
{
	struct worker *w;
	int gate[2];
	struct job stuck, queued;

	(void)state;
	setup_loop();
	atomic_store(&shutdown_seen, 0);
	assert_int_equal(pipe(gate), 0);
	assert_int_equal(worker_new(the_loop, 1, 4, &w), 0);
	stuck = (struct job){ .n = 1, .gate = gate[0], .status = 1 };
	queued = (struct job){ .n = 2, .gate = -1, .status = 1 };
	assert_int_equal(worker_submit(w, run, done, &stuck), 0);
	assert_int_equal(worker_submit(w, run, done, &queued), 0);
	for (int spin = 0; spin < HANG_MS && !atomic_load(&stuck.started); spin++)
		usleep(1000);
	/* the stuck job is running: the queued one waits */
	assert_int_equal(worker_free(w, 50), 1);
	assert_int_equal(queued.status, -ECANCELED);
	assert_false(atomic_load(&queued.ran));
	assert_int_equal(stuck.status, 1);
	assert_int_equal(write(gate[1], "x", 1), 1);
	for (int spin = 0; spin < HANG_MS && !atomic_load(&shutdown_seen); spin++)
		usleep(1000);
	assert_int_equal(atomic_load(&shutdown_seen), 1);
	assert_int_equal(stuck.status, -ESHUTDOWN);
	assert_false(pthread_equal(stuck.done_on, pthread_self()));
	close(gate[0]);
	close(gate[1]);
	loop_free(the_loop);
}

static enum cmd_result echo(json_t *args, void *ctx, json_t **result, struct cmd_error *err)
{
	(void)err;
	assert_string_equal(ctx, "ctx");
	*result = json_deep_copy(args);
	return CMD_OK;
}

/* With no connection to answer later on (what the unit tests of the
 * commands do), worker_cmd runs the work at once and returns its result. */
static void test_cmd_without_connection_runs_inline(void **state)
{
	struct agent a = { 0 };
	struct cmd_error err = { 0 };
	json_t *args = json_pack("{s:i}", "x", 7), *result = NULL;

	(void)state;
	assert_int_equal(worker_cmd(&a, "test", echo, NULL, args, strdup("ctx"), &result, &err),
			 CMD_OK);
	assert_int_equal(json_integer_value(json_object_get(result, "x")), 7);
	assert_null(a.worker);
	json_decref(result);
	json_decref(args);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_done_on_loop),
		cmocka_unit_test(test_slow_job_does_not_hold_others),
		cmocka_unit_test(test_queue_full),
		cmocka_unit_test(test_stop_is_bounded),
		cmocka_unit_test(test_cmd_without_connection_runs_inline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
