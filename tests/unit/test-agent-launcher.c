/* agent/launcher.c: the launcher forked from the test, asked to spawn
 * programs with pipes for their stdio: their output, their exit status
 * reported back with their pid, an exec error returned as posix_spawn's,
 * the agent's descriptors not inherited, and exits reported while a spawn
 * waits for its answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launcher.h"
#include "probe.h"

static const char *const no_env[] = { NULL };

struct exits {
	pid_t pid[8];
	int status[8];
	int n;
};

static bool on_exit_cb(pid_t pid, int status, void *data)
{
	struct exits *e = data;

	if (e->n < 8) {
		e->pid[e->n] = pid;
		e->status[e->n] = status;
	}
	e->n++;
	return true;
}

/* Waits (at most 10 s: a hang, not a timing) until E has N exits. */
static void wait_exits(struct launcher *l, struct exits *e, int n)
{
	for (int i = 0; i < 1000 && e->n < n; i++) {
		struct pollfd p = { .fd = launcher_fd(l), .events = POLLIN };

		if (poll(&p, 1, 10) > 0)
			assert_int_equal(launcher_dispatch(l), 0);
	}
	assert_int_equal(e->n, n);
}

/* Everything the pipe's read end gives until EOF, into BUF. */
static size_t read_all(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t k;

	while (n < size - 1 && (k = read(fd, buf + n, size - 1 - n)) > 0)
		n += (size_t)k;
	buf[n] = '\0';
	return n;
}

static void output_and_status(void **state)
{
	const char *const argv[] = { "sh", "-c", "echo out; echo err >&2; exit 7", NULL };
	struct launcher *l;
	struct exits e = { 0 };
	int out[2], err[2];
	char buf[64];
	pid_t pid = 0;

	(void)state;
	assert_int_equal(launcher_start(&l), 0);
	assert_int_equal(launcher_watch(l, on_exit_cb, &e), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	assert_int_equal(
		launcher_spawn(l, "/bin/sh", argv, no_env, (int[3]){ -1, out[1], err[1] }, &pid),
		0);
	assert_true(pid > 0);
	/* the launcher closed its copies: EOF once the program ends */
	close(out[1]);
	close(err[1]);
	read_all(out[0], buf, sizeof(buf));
	assert_string_equal(buf, "out\n");
	read_all(err[0], buf, sizeof(buf));
	assert_string_equal(buf, "err\n");
	wait_exits(l, &e, 1);
	assert_int_equal(e.pid[0], pid);
	assert_true(WIFEXITED(e.status[0]));
	assert_int_equal(WEXITSTATUS(e.status[0]), 7);
	close(out[0]);
	close(err[0]);
	launcher_free(l);
}

static void exec_error(void **state)
{
	const char *const argv[] = { "nope", NULL };
	struct launcher *l;
	pid_t pid = 0;

	(void)state;
	PROBE_SKIP_UNLESS(probe_spawn_errors());
	assert_int_equal(launcher_start(&l), 0);
	assert_int_equal(
		launcher_spawn(l, "/nonexistent/nope", argv, no_env, (int[3]){ -1, -1, -1 }, &pid),
		-ENOENT);
	launcher_free(l);
}

/* Only 0, 1 and 2: a descriptor of the test's (the agent's listeners) is
 * not the program's, and its environment is the one given. */
static void nothing_else_inherited(void **state)
{
	const char *const argv[] = { "sh", "-c",
				     "ls /proc/self/fd | tr '\\n' ' '; echo \"[$PORTHOLE_T]\"",
				     NULL };
	const char *const env[] = { "PORTHOLE_T=x", NULL };
	struct launcher *l;
	struct exits e = { 0 };
	int out[2], extra = open("/dev/null", O_RDONLY); /* not CLOEXEC on purpose */
	char buf[128];
	pid_t pid;

	(void)state;
	assert_true(extra >= 0);
	assert_int_equal(launcher_start(&l), 0);
	assert_int_equal(launcher_watch(l, on_exit_cb, &e), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(launcher_spawn(l, "/bin/sh", argv, env, (int[3]){ -1, out[1], -1 }, &pid),
			 0);
	close(out[1]);
	read_all(out[0], buf, sizeof(buf));
	/* 0 1 2, and the one ls opens for the listing */
	assert_string_equal(buf, "0 1 2 3 [x]\n");
	wait_exits(l, &e, 1);
	close(out[0]);
	close(extra);
	launcher_free(l);
}

/* An exit reported while a later spawn waits for its answer still reaches
 * the handler. */
static void exits_during_a_spawn(void **state)
{
	const char *const quick[] = { "true", NULL };
	const char *const slow[] = { "sleep", "0.2", NULL };
	struct launcher *l;
	struct exits e = { 0 };
	pid_t a, b;

	(void)state;
	assert_int_equal(launcher_start(&l), 0);
	assert_int_equal(launcher_watch(l, on_exit_cb, &e), 0);
	assert_int_equal(launcher_spawn(l, "/bin/true", quick, no_env, (int[3]){ -1, -1, -1 }, &a),
			 0);
	/* let the first one end and be reported before the second request */
	usleep(100000);
	assert_int_equal(launcher_spawn(l, "/bin/sleep", slow, no_env, (int[3]){ -1, -1, -1 }, &b),
			 0);
	wait_exits(l, &e, 2);
	assert_true((e.pid[0] == a && e.pid[1] == b) || (e.pid[0] == b && e.pid[1] == a));
	launcher_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(output_and_status),
		cmocka_unit_test(exec_error),
		cmocka_unit_test(nothing_else_inherited),
		cmocka_unit_test(exits_during_a_spawn),
	};

	/* the launcher's children are its own; the test reaps only its launchers */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
