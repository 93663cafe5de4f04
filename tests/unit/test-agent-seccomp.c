/* agent/seccomp.c: the agent's filter loaded in a child process, which then
 * makes what the agent makes (allowed: it works) and what it never should
 * (reboot, ptrace, module and kexec loading, an inet socket, exec, fork,
 * executable memory: EPERM, the choice docs/security.md explains). Each
 * refused call is first made without the filter, where it gives something
 * else, so a test cannot pass with no filter at all. Children leave with the
 * exit_group call itself: a sanitizer build's _exit does exit-time work
 * (the leak check) that is not the agent's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/reboot.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seccomp.h"
#include "util.h"
#include "probe.h"

static __attribute__((noreturn)) void child_exit(int code)
{
	syscall(SYS_exit_group, code);
	__builtin_unreachable();
}

/* A call the agent never makes: its result, -errno or >= 0. */
enum refused {
	REBOOT, /* a bad magic: EINVAL unfiltered (as root) */
	PTRACE, /* PTRACE_TRACEME: 0 unfiltered, when nothing traces us */
	INIT_MODULE, /* no image: EFAULT or EPERM unfiltered */
	KEXEC, /* a bad flag: EINVAL or EPERM unfiltered */
	INET_SOCKET,
	EXECVE, /* a path that does not exist: ENOENT unfiltered */
	FORK,
	EXEC_MEMORY,
	REFUSED_N,
};

static long attempt(enum refused what)
{
	long r = 0;
	void *p;

	switch (what) {
	case REBOOT:
		r = syscall(SYS_reboot, 0x12345678, 0x12345678, LINUX_REBOOT_CMD_CAD_OFF, NULL);
		break;
	case PTRACE:
		r = syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL);
		break;
	case INIT_MODULE:
		r = syscall(SYS_init_module, NULL, 0, "");
		break;
	case KEXEC:
		r = syscall(SYS_kexec_load, 0, 0, NULL, ~0ul);
		break;
	case INET_SOCKET:
		r = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
		break;
	case EXECVE: {
		char *const argv[] = { (char *)"/nonexistent/porthole-test", NULL };

		r = syscall(SYS_execve, argv[0], argv, NULL);
		break;
	}
	case FORK:
		/* fork(2) as glibc makes it: clone without CLONE_THREAD */
		r = syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0);
		if (r == 0)
			child_exit(0);
		if (r > 0)
			waitpid((pid_t)r, NULL, 0);
		break;
	case EXEC_MEMORY:
		p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		r = p == MAP_FAILED ? -1 : 0;
		if (p != MAP_FAILED)
			munmap(p, 4096);
		break;
	case REFUSED_N:
		break;
	}
	return r < 0 ? -errno : r;
}

/* Runs FN(ARG) in a child with the filter of MODE loaded (or none when
 * MODE < 0): what FN returned, as the child's exit status (0 to 254), 255
 * when the filter could not be loaded. */
static int in_child(int mode, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		if (mode >= 0 && agent_seccomp_apply((enum agent_seccomp_mode)mode) < 0)
			child_exit(255);
		child_exit(fn(arg));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* child: the errno of a refused call (0 when it succeeded), capped */
static int attempt_errno(void *arg)
{
	long r = attempt((enum refused)(intptr_t)arg);

	return r < 0 ? (int)(-r > 250 ? 250 : -r) : 0;
}

static void refused_calls_get_eperm(void **state)
{
	static const char *const names[] = { "reboot",	   "ptrace",	      "init_module",
					     "kexec_load", "socket(AF_INET)", "execve",
					     "fork",	   "mmap(PROT_EXEC)" };

	(void)state;
	PROBE_SKIP_UNLESS(probe_seccomp());
	for (int w = 0; w < REFUSED_N; w++) {
		int unfiltered = in_child(-1, attempt_errno, (void *)(intptr_t)w);
		int filtered = in_child(AGENT_SECCOMP_ENFORCE, attempt_errno, (void *)(intptr_t)w);

		print_message("# %s: %d unfiltered, %d filtered\n", names[w], unfiltered, filtered);
		assert_int_not_equal(filtered, 255);
		assert_int_equal(filtered, AGENT_SECCOMP_ERRNO);
		/* the control: without the filter the same call gives another
		 * answer. Not for the calls that the kernel itself may refuse
		 * with EPERM (no CAP_SYS_BOOT or CAP_SYS_MODULE, kexec disabled,
		 * lockdown, a tracer already there): the others carry it. */
		if (w == INET_SOCKET || w == EXECVE || w == FORK || w == EXEC_MEMORY)
			assert_int_not_equal(unfiltered, AGENT_SECCOMP_ERRNO);
	}
}

/* child: what the agent does, each step's failure its own status */
static int agent_like(void *arg)
{
	struct timespec ts;
	int sv[2], fd;
	char buf[4];
	void *p;

	(void)arg;
	if (getpid() <= 0)
		return 1;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 2;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 3;
	if (write(sv[0], "abc", 3) != 3 || read(sv[1], buf, sizeof(buf)) != 3)
		return 4;
	close(sv[0]);
	close(sv[1]);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 5;
	close(fd);
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 6;
	munmap(p, 1 << 20);
	free(malloc(1 << 20));
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 7;
	close(fd);
	return 0;
}

static void allowed_calls_work(void **state)
{
	(void)state;
	PROBE_SKIP_UNLESS(probe_seccomp());
	assert_int_equal(in_child(AGENT_SECCOMP_ENFORCE, agent_like, NULL), 0);
}

static void *thread_main(void *arg)
{
	*(int *)arg = 1;
	return NULL;
}

/* child: a worker thread started after the filter (pthread_create) */
static int start_thread(void *arg)
{
	pthread_t t;
	int ran = 0;

	(void)arg;
	if (pthread_create(&t, NULL, thread_main, &ran) != 0)
		return 1;
	if (pthread_join(t, NULL) != 0)
		return 2;
	return ran ? 0 : 3;
}

static void threads_can_start(void **state)
{
	(void)state;
	PROBE_SKIP_UNLESS(probe_seccomp());
	assert_int_equal(in_child(AGENT_SECCOMP_ENFORCE, start_thread, NULL), 0);
}

/* A thread that ran before the filter was loaded is filtered too
 * (SCMP_FLTATR_CTL_TSYNC): it tries an inet socket once told to. */
struct early {
	int go[2];
	long r;
};

static void *early_main(void *arg)
{
	struct early *e = arg;
	char c;

	if (read(e->go[0], &c, 1) != 1)
		return NULL;
	e->r = attempt(INET_SOCKET);
	return NULL;
}

static int early_thread(void *arg)
{
	struct early e = { .r = 1 };
	pthread_t t;

	(void)arg;
	if (pipe(e.go) < 0 || pthread_create(&t, NULL, early_main, &e) != 0)
		return 1;
	if (agent_seccomp_apply(AGENT_SECCOMP_ENFORCE) < 0)
		return 2;
	if (write(e.go[1], "x", 1) != 1 || pthread_join(t, NULL) != 0)
		return 3;
	return e.r == -AGENT_SECCOMP_ERRNO ? 0 : 4;
}

static void earlier_threads_are_filtered(void **state)
{
	(void)state;
	PROBE_SKIP_UNLESS(probe_seccomp());
	assert_int_equal(in_child(-1, early_thread, NULL), 0);
}

/* child: the kernel's view of this process, Seccomp: 2 and NoNewPrivs: 1
 * (0 when NONE is set: the filter is off) */
static int status_shows(void *arg)
{
	_cleanup_free_ char *s = NULL;
	bool none = arg != NULL;

	if (read_file("/proc/self/status", 1 << 16, &s, NULL) < 0)
		return 1;
	if (!strstr(s, none ? "\nSeccomp:\t0\n" : "\nSeccomp:\t2\n"))
		return 2;
	if (!none && !strstr(s, "\nNoNewPrivs:\t1\n"))
		return 3;
	return 0;
}

static void filter_and_no_new_privs_are_set(void **state)
{
	(void)state;
	PROBE_SKIP_UNLESS(probe_seccomp());
	assert_int_equal(in_child(AGENT_SECCOMP_ENFORCE, status_shows, NULL), 0);
	assert_int_equal(in_child(AGENT_SECCOMP_OFF, status_shows, (void *)1), 0);
}

/* log: what enforce refuses is done, and only logged by the kernel */
static void log_mode_allows(void **state)
{
	(void)state;
	PROBE_SKIP_UNLESS(probe_seccomp());
	assert_int_equal(in_child(AGENT_SECCOMP_LOG, attempt_errno, (void *)(intptr_t)INET_SOCKET),
			 0);
	assert_int_equal(in_child(AGENT_SECCOMP_LOG, status_shows, NULL), 0);
}

static void modes_by_name(void **state)
{
	(void)state;
	assert_int_equal(agent_seccomp_mode_from_string("enforce"), AGENT_SECCOMP_ENFORCE);
	assert_int_equal(agent_seccomp_mode_from_string("log"), AGENT_SECCOMP_LOG);
	assert_int_equal(agent_seccomp_mode_from_string("off"), AGENT_SECCOMP_OFF);
	assert_int_equal(agent_seccomp_mode_from_string("Enforce"), -EINVAL);
	assert_int_equal(agent_seccomp_mode_from_string(""), -EINVAL);
	for (int m = AGENT_SECCOMP_ENFORCE; m <= AGENT_SECCOMP_OFF; m++)
		assert_int_equal(agent_seccomp_mode_from_string(
					 agent_seccomp_mode_to_string((enum agent_seccomp_mode)m)),
				 m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(refused_calls_get_eperm),
		cmocka_unit_test(allowed_calls_work),
		cmocka_unit_test(threads_can_start),
		cmocka_unit_test(earlier_threads_are_filtered),
		cmocka_unit_test(filter_and_no_new_privs_are_set),
		cmocka_unit_test(log_mode_allows),
		cmocka_unit_test(modes_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
