/* host/forward-seccomp.c: in a child that loads the forwarders' filter,
 * what a taken-over forwarder would want first fails with EPERM, and what a
 * forwarder does (threads, sockets, files, time) still works. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "forward-seccomp.h"
#include "probe.h"

/* The child's verdict: 0, or the first check that failed (the exit
 * status has 8 bits). */
enum {
	BAD_LOAD = 1,
	BAD_EXEC,
	BAD_FORK,
	BAD_PTRACE,
	BAD_MOUNT,
	BAD_UNSHARE,
	BAD_THREAD,
	BAD_SOCKET,
	BAD_FILE,
	BAD_TIME,
};

static void *thread_main(void *arg)
{
	return arg;
}

static int child_checks(void)
{
	/* should the exec work, the child says so with its status */
	char *const argv[] = { "sh", "-c", "exit 99", NULL };
	struct timespec ts;
	pthread_t t;
	void *ret = NULL;
	int bad = 0, sv[2], fd;
	pid_t pid;

	if (forward_seccomp_apply() < 0)
		return BAD_LOAD;
	if (execv("/bin/sh", argv) == 0 || errno != EPERM)
		if (!bad)
			bad = BAD_EXEC;
	pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid >= 0 || errno != EPERM)
		if (!bad)
			bad = BAD_FORK;
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0 || errno != EPERM)
		if (!bad)
			bad = BAD_PTRACE;
	if (mount("none", "/mnt", "tmpfs", 0, NULL) == 0 || errno != EPERM)
		if (!bad)
			bad = BAD_MOUNT;
	if (unshare(CLONE_NEWNET) == 0 || errno != EPERM)
		if (!bad)
			bad = BAD_UNSHARE;
	/* what a forwarder does */
	if (pthread_create(&t, NULL, thread_main, &bad) != 0 || pthread_join(t, &ret) != 0 ||
	    ret != &bad)
		if (!bad)
			bad = BAD_THREAD;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || write(sv[0], "x", 1) != 1)
		if (!bad)
			bad = BAD_SOCKET;
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "x", 1) != 1)
		if (!bad)
			bad = BAD_FILE;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		if (!bad)
			bad = BAD_TIME;
	return bad;
}

static void test_refuses_what_a_forwarder_never_does(void **state)
{
	int status = 0;
	pid_t pid;

	(void)state;
	PROBE_SKIP_UNLESS(probe_seccomp());
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_checks());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refuses_what_a_forwarder_never_does),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
