/* init/supervise.c, the PID-1 loop, in this process: signals asking for a
 * shutdown as init's table maps them, fd watches (a callback may let its
 * own fd go; the limit), every child reaped though SIGCHLDs coalesce, the
 * console shell's respawn with the services' backoff, and init's own fds
 * (uevents, power buttons) registered as watches like any module's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backoff.h"
#include "log.h"
#include "supervise.h"
#include "util.h"

static struct supervisor s;

static int setup(void **state)
{
	int sigfd;

	(void)state;
	assert_int_equal(supervise_block_signals(&sigfd), 0);
	assert_int_equal(supervise_init(&s, sigfd, true), 0);
	return 0;
}

static int teardown(void **state)
{
	sigset_t none;

	(void)state;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	return 0;
}

static bool watched(int fd)
{
	for (int i = 0; i < WATCHES_MAX; i++)
		if (s.watches[i].fd == fd)
			return true;
	return false;
}

static void test_signal_table(void **state)
{
	(void)state;
	/* as busybox init and systemd users expect (docs/boot.md) */
	assert_int_equal(supervise_signal_action(SIGTERM), SHUTDOWN_POWEROFF);
	assert_int_equal(supervise_signal_action(SIGUSR2), SHUTDOWN_POWEROFF);
	assert_int_equal(supervise_signal_action(SIGPWR), SHUTDOWN_POWEROFF);
	assert_int_equal(supervise_signal_action(SIGINT), SHUTDOWN_REBOOT);
	assert_int_equal(supervise_signal_action(SIGUSR1), SHUTDOWN_HALT);
	assert_int_equal(supervise_signal_action(SIGHUP), SHUTDOWN_NONE);
	assert_int_equal(supervise_signal_action(SIGCHLD), SHUTDOWN_NONE);
}

static void test_signals_ask(void **state)
{
	(void)state;
	/* the signalfd is a watch like any other */
	assert_true(watched(s.sigfd));
	raise(SIGUSR1);
	assert_int_equal(supervise_poll_once(&s, 1000), SHUTDOWN_HALT);
	raise(SIGHUP);
	assert_int_equal(supervise_poll_once(&s, 1000), SHUTDOWN_NONE);
	raise(SIGTERM);
	assert_int_equal(supervise_poll_once(&s, 1000), SHUTDOWN_POWEROFF);
	/* nothing pending: the wait is bounded by its time-out */
	assert_int_equal(supervise_poll_once(&s, 10), SHUTDOWN_NONE);
}

static int calls;
static int last_fd;

static void on_readable(struct supervisor *sup, int fd, uint32_t events, void *data)
{
	char buf[16];

	(void)events;
	assert_ptr_equal(sup, &s);
	assert_ptr_equal(data, &calls);
	calls++;
	last_fd = fd;
	assert_true(read(fd, buf, sizeof(buf)) > 0);
	/* letting its own fd go, from its callback */
	if (calls == 2)
		supervise_unwatch(sup, fd);
}

static void test_watches(void **state)
{
	int p[2], fds[WATCHES_MAX], n = 0, r;

	(void)state;
	calls = 0;
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(supervise_watch(&s, p[0], on_readable, &calls), 0);
	assert_int_equal(supervise_poll_once(&s, 10), SHUTDOWN_NONE);
	assert_int_equal(calls, 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	supervise_poll_once(&s, 1000);
	assert_int_equal(calls, 1);
	assert_int_equal(last_fd, p[0]);
	assert_int_equal(write(p[1], "x", 1), 1);
	supervise_poll_once(&s, 1000);
	assert_int_equal(calls, 2);
	/* unwatched: readable, but no longer called */
	assert_int_equal(write(p[1], "x", 1), 1);
	supervise_poll_once(&s, 10);
	assert_int_equal(calls, 2);
	assert_false(watched(p[0]));
	supervise_close(&s, &p[0]);
	assert_int_equal(p[0], -1);
	supervise_close(&s, &p[0]); /* twice is nothing */
	close(p[1]);

	/* the limit: the signalfd holds one, the rest can be had, no more */
	do {
		fds[n] = dup(s.sigfd);
		assert_true(fds[n] >= 0);
		r = supervise_watch(&s, fds[n], on_readable, &calls);
		n++;
	} while (r == 0 && n < WATCHES_MAX);
	assert_int_equal(r, -ENOSPC);
	assert_int_equal(n, WATCHES_MAX);
	for (int i = 0; i < n; i++)
		supervise_close(&s, &fds[i]);
	assert_true(watched(s.sigfd));
}

static pid_t exited_pids[64];
static int exited_status[64];
static int n_exited;
static bool claim = true;

static bool on_exit_hook(void *data, pid_t pid, int status)
{
	(void)data;
	if (!claim)
		return false;
	assert_true(n_exited < 64);
	exited_pids[n_exited] = pid;
	exited_status[n_exited++] = status;
	return true;
}

#define REAP_BOUND_NS (120 * NSEC_PER_SEC)

static void test_reap_many(void **state)
{
	pid_t pids[50];
	uint64_t deadline;

	(void)state;
	s.on_exit = on_exit_hook;
	n_exited = 0;
	claim = true;
	/* 50 children ending together: fewer SIGCHLDs than deaths */
	for (int i = 0; i < 50; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(i);
	}
	/* the bound is on the reaping, from here: forking a sanitizer's
	 * process (its shadow memory's page tables) under an emulator takes
	 * seconds. A bound for a hang, not a time to meet: under qemu-aarch64
	 * at a load of 25, 10 s saw none of the 50 exits */
	deadline = now_mono_ns() + REAP_BOUND_NS;
	while (n_exited < 50 && now_mono_ns() < deadline)
		supervise_poll_once(&s, 100);
	assert_int_equal(n_exited, 50);
	for (int i = 0; i < 50; i++) {
		int j;

		for (j = 0; j < 50 && exited_pids[j] != pids[i]; j++)
			;
		assert_true(j < 50);
		assert_true(WIFEXITED(exited_status[j]) && WEXITSTATUS(exited_status[j]) == i);
	}
	/* ones nobody claims are orphans, counted */
	claim = false;
	s.reaped_orphans = 0;
	for (int i = 0; i < 5; i++)
		if (fork() == 0)
			_exit(0);
	deadline = now_mono_ns() + REAP_BOUND_NS;
	while (s.reaped_orphans < 5 && now_mono_ns() < deadline)
		supervise_poll_once(&s, 100);
	assert_int_equal(s.reaped_orphans, 5);
	s.on_exit = NULL;
}

static void on_timer(struct supervisor *sup, int fd, uint32_t events, void *data)
{
	uint64_t n;

	(void)events;
	(void)data;
	assert_int_equal(read(fd, &n, sizeof(n)), sizeof(n));
	sup->requested = SHUTDOWN_HALT;
}

static void test_respawn_with_backoff(void **state)
{
	static char *const argv[] = { "/bin/true", NULL };
	struct itimerspec at = { .it_value = { 1, 200000000 } };
	uint64_t deadline = now_mono_ns() + 10 * NSEC_PER_SEC, first_start;
	struct child *c;
	int slot, tfd;

	(void)state;
	slot = supervise_start(&s, "console-shell", argv, true, false);
	assert_true(slot >= 0);
	c = &s.children[slot];
	first_start = c->started_ns;
	while (c->pid && now_mono_ns() < deadline)
		supervise_poll_once(&s, 100);
	assert_int_equal(c->pid, 0);
	/* restarted after the services' first delay, not at once */
	assert_true(c->next_start_ns > now_mono_ns());
	assert_true(c->next_start_ns - now_mono_ns() <= BACKOFF_FIRST_MS * NSEC_PER_MSEC);
	assert_true(c->next_start_ns - now_mono_ns() > (BACKOFF_FIRST_MS - 100) * NSEC_PER_MSEC);

	/* the loop restarts it when due; its second death waits twice as long */
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	assert_true(tfd >= 0);
	assert_int_equal(timerfd_settime(tfd, 0, &at, NULL), 0);
	assert_int_equal(supervise_watch(&s, tfd, on_timer, NULL), 0);
	s.requested = SHUTDOWN_NONE;
	assert_int_equal(supervise_run(&s), SHUTDOWN_HALT);
	assert_true(c->started_ns > first_start + (BACKOFF_FIRST_MS - 100) * NSEC_PER_MSEC);
	assert_int_equal(c->pid, 0);
	assert_int_equal(c->backoff.step, 2);
	assert_true(c->next_start_ns - c->started_ns >
		    2 * (BACKOFF_FIRST_MS - 100) * NSEC_PER_MSEC);
	supervise_close(&s, &tfd);
	/* a child not to respawn frees its slot when it ends */
	c->respawn = false;
	c->argv = NULL;
	slot = supervise_start(&s, "once", argv, false, false);
	c = &s.children[slot];
	while (c->argv && now_mono_ns() < deadline)
		supervise_poll_once(&s, 100);
	assert_null(c->argv);
	s.requested = SHUTDOWN_NONE;
}

static void test_late_watches(void **state)
{
	(void)state;
	/* uevents and power buttons: watches of the loop like any other */
	supervise_init_late(&s);
	if (s.ueventfd < 0)
		skip();
	assert_true(watched(s.ueventfd));
	for (int i = 0; i < POWER_BUTTONS_MAX; i++)
		if (s.power_fds[i] >= 0)
			assert_true(watched(s.power_fds[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signal_table),
		cmocka_unit_test(test_signals_ask),
		cmocka_unit_test(test_watches),
		cmocka_unit_test(test_reap_many),
		cmocka_unit_test(test_respawn_with_backoff),
		cmocka_unit_test(test_late_watches),
	};

	log_set_level(LOG_LEVEL_EMERG);
	return cmocka_run_group_tests(tests, setup, teardown);
}
