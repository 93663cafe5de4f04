/* agent/loop.c: timers, fds and children in the agent's event loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop.h"
#include "util.h"

static int fired[8];

static void on_timer(struct loop *l, void *data)
{
	int *slot = data;

	(*slot)++;
	if (slot == &fired[0])
		loop_quit(l);
}

static void test_timers_fire_in_order_and_cancel(void **state)
{
	struct loop *l;
	int64_t cancelled;
	uint64_t t0;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	memset(fired, 0, sizeof(fired));
	loop_timer(l, 5, on_timer, &fired[1]);
	cancelled = loop_timer(l, 10, on_timer, &fired[2]);
	loop_timer(l, 30, on_timer, &fired[0]); /* quits */
	loop_cancel(l, cancelled);
	t0 = now_mono_ns();
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(fired[0], 1);
	assert_int_equal(fired[1], 1);
	assert_int_equal(fired[2], 0);
	/* it waited for the timer, not less */
	assert_true(now_mono_ns() - t0 >= 30 * 1000000ull);
	/* the slots are reused: many more timers than ever at once */
	for (int i = 0; i < 5000; i++) {
		loop_timer(l, 0, on_timer, &fired[3]);
		loop_timer(l, 0, on_timer, &fired[0]);
		loop_run(l);
	}
	assert_int_equal(fired[3], 5000);
	loop_free(l);
}

static void add_quick_timer(struct loop *l, void *data)
{
	(void)data;
	/* takes the slot this timer just left */
	loop_timer(l, 0, on_timer, &fired[0]);
}

/* A timer that a timer's callback adds is waited for, not the one after:
 * a long poll that times out answers through a 0 ms timer. */
static void test_timer_added_by_timer(void **state)
{
	struct loop *l;
	uint64_t t0;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	memset(fired, 0, sizeof(fired));
	loop_timer(l, 10, add_quick_timer, NULL);
	loop_timer(l, 3000, on_timer, &fired[0]); /* a bound: quits too */
	t0 = now_mono_ns();
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(fired[0], 1);
	assert_true(now_mono_ns() - t0 < 1000 * 1000000ull);
	loop_free(l);
}

static int reaped_pid, reaped_status;

static bool on_child(struct loop *l, pid_t pid, int status, void *data)
{
	(void)data;
	reaped_pid = pid;
	reaped_status = status;
	loop_quit(l);
	return true;
}

static void on_read(struct loop *l, int fd, uint32_t events, void *data)
{
	char buf[16];

	(void)events;
	*(ssize_t *)data = read(fd, buf, sizeof(buf));
	loop_del_fd(l, fd);
}

static void test_children_and_fds(void **state)
{
	struct loop *l;
	ssize_t got = -2;
	int p[2];
	pid_t pid;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(loop_watch_children(l, on_child, NULL), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(loop_add_fd(l, p[0], EPOLLIN, on_read, &got), 0);
	pid = fork();
	if (pid == 0) {
		if (write(p[1], "hello", 5) < 0)
			_exit(1);
		_exit(7);
	}
	loop_timer(l, 10000, on_timer, &fired[0]); /* a bound, should the child be lost */
	loop_run(l);
	if (reaped_pid == 0)
		loop_run(l);
	assert_int_equal(reaped_pid, pid);
	assert_true(WIFEXITED(reaped_status) && WEXITSTATUS(reaped_status) == 7);
	if (got == -2)
		loop_run(l);
	assert_int_equal(got, 5);
	close(p[0]);
	close(p[1]);
	loop_free(l);
}

/* Two modules start children: each watcher claims its own, and a child is
 * not offered to the watchers after the one that claimed it. */
static pid_t mine[2];
static int asked[2], claimed[2];

static bool on_child_of(struct loop *l, pid_t pid, int status, void *data)
{
	int who = (int)(intptr_t)data;

	(void)status;
	asked[who]++;
	if (pid != mine[who])
		return false;
	claimed[who]++;
	if (claimed[0] && claimed[1])
		loop_quit(l);
	return true;
}

static void test_several_watchers(void **state)
{
	struct loop *l;

	(void)state;
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(loop_watch_children(l, on_child_of, (void *)0), 0);
	assert_int_equal(loop_watch_children(l, on_child_of, (void *)1), 0);
	/* the same again adds nothing */
	assert_int_equal(loop_watch_children(l, on_child_of, (void *)1), 0);
	assert_int_equal(loop_watch_children(l, on_child, (void *)2), 0);
	assert_int_equal(loop_watch_children(l, on_child, (void *)3), 0);
	assert_int_equal(loop_watch_children(l, on_child, (void *)4), -ENOSPC);
	loop_unwatch_children(l, on_child, (void *)2);
	loop_unwatch_children(l, on_child, (void *)3);
	for (int i = 0; i < 2; i++) {
		mine[i] = fork();
		if (mine[i] == 0)
			_exit(0);
	}
	loop_timer(l, 10000, on_timer, &fired[0]); /* a bound */
	loop_run(l);
	if (!claimed[1] || !claimed[0])
		loop_run(l);
	assert_int_equal(claimed[0], 1);
	assert_int_equal(claimed[1], 1);
	/* the first watcher was asked about both, the second only about its own */
	assert_int_equal(asked[0], 2);
	assert_int_equal(asked[1], 1);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_fire_in_order_and_cancel),
		cmocka_unit_test(test_timer_added_by_timer),
		cmocka_unit_test(test_children_and_fds),
		cmocka_unit_test(test_several_watchers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
