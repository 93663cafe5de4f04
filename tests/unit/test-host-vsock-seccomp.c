/* host/vsock-seccomp.c: porthole-vsockd's filter loaded in a child process,
 * which then does what the back-end does (allowed) or what it never should
 * (an inet socket, executable memory, exec): the latter end the child with
 * VSOCK_SECCOMP_EXIT and a message naming the call. Children leave with
 * the exit_group call itself: the sanitizers' _exit does exit-time work
 * (the leak check) that is not the back-end's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vsock-seccomp.h"
#include "probe.h"

static __attribute__((noreturn)) void child_exit(int code)
{
	syscall(SYS_exit_group, code);
	__builtin_unreachable();
}

enum action { ALLOWED, INET_SOCKET, EXEC_MEMORY, EXEC_PROGRAM, PROTECT_EXEC };

/* Runs ACTION in a filtered child: its wait status; what it wrote to
 * stderr in ERRBUF. */
static int run(enum action action, char *errbuf, size_t size)
{
	int pipefd[2], status;
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int sv[1];
		void *p;

		dup2(pipefd[1], STDERR_FILENO);
		if (vsock_seccomp_apply() < 0)
			child_exit(99);
		switch (action) {
		case ALLOWED:
			/* the back-end's own moves: a unix socket, a read-write
			 * mapping, a write (failing: not connected, but made),
			 * closes */
			sv[0] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (sv[0] < 0)
				child_exit(1);
			p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				 -1, 0);
			if (p == MAP_FAILED || write(sv[0], "x", 1) != -1)
				child_exit(2);
			munmap(p, 4096);
			close(sv[0]);
			/* the exit's clean-up of the sockets: unlink(3), which
			 * is unlinkat(2) on aarch64 (it has no unlink(2)) */
			if (unlink("/nonexistent/porthole-vsockd.sock") != -1 || errno != ENOENT)
				child_exit(8);
			child_exit(0);
		case INET_SOCKET:
			socket(AF_INET, SOCK_STREAM, 0);
			child_exit(3);
		case EXEC_MEMORY:
			mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			child_exit(4);
		case PROTECT_EXEC:
			p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				 -1, 0);
			mprotect(p, 4096, PROT_READ | PROT_EXEC);
			child_exit(5);
		case EXEC_PROGRAM:
			execl("/bin/true", "true", (char *)NULL);
			child_exit(6);
		}
		child_exit(7);
	}
	close(pipefd[1]);
	n = read(pipefd[0], errbuf, size - 1);
	errbuf[n > 0 ? n : 0] = 0;
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_allowed(void **state)
{
	char err[256];
	int st = run(ALLOWED, err, sizeof(err));

	(void)state;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 99) {
		print_message("seccomp unavailable here\n");
		skip();
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("status %#x, stderr: %s", st, err);
	assert_string_equal(err, "");
}

static void refused(enum action action, int nr)
{
	char err[256], want[96];
	int st = run(action, err, sizeof(err));

	if (WIFEXITED(st) && WEXITSTATUS(st) == 99)
		skip();
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), VSOCK_SECCOMP_EXIT);
	snprintf(want, sizeof(want), "system call %d is not allowed", nr);
	if (!strstr(err, want))
		fail_msg("stderr '%s' does not say '%s'", err, want);
}

static void test_refused(void **state)
{
	(void)state;
	PROBE_SKIP_UNLESS(probe_seccomp());
	refused(INET_SOCKET, SYS_socket);
	refused(EXEC_MEMORY, SYS_mmap);
	refused(PROTECT_EXEC, SYS_mprotect);
	refused(EXEC_PROGRAM, SYS_execve);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
