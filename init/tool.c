/* External programs run by init: output to the log, a deadline. Started
 * through launch.c; waits for its own child only (waitpid(PID)), so it can
 * run before the supervisor's loop and never reaps a service. */
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "launch.h"
#include "util.h"

static void log_lines(const char *name, char *buf, size_t *len, bool flush)
{
	char *start = buf, *nl;

	while ((nl = memchr(start, '\n', *len - (size_t)(start - buf)))) {
		*nl = '\0';
		if (nl > start)
			log_info("%s: %s", name, start);
		start = nl + 1;
	}
	*len -= (size_t)(start - buf);
	memmove(buf, start, *len);
	/* a line longer than the buffer, or the last one without a newline */
	if (*len && (flush || *len == 1024)) {
		log_info("%s: %.*s", name, (int)*len, buf);
		*len = 0;
	}
}

int tool_run(char *const argv[], unsigned timeout_s)
{
	static char *const env[] = { "LANG=C.UTF-8", NULL };
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	uint64_t deadline = now_mono_ns() + (uint64_t)timeout_s * NSEC_PER_SEC;
	char buf[1024];
	size_t len = 0, logged = 0;
	int pipefd[2], status = 0;
	bool timed_out = false;
	struct launch_opts opts;
	pid_t pid;

	/* busybox APPLET: the applet's name in the log */
	if (strcmp(name, "busybox") == 0 && argv[1])
		name = argv[1];
	if (access(argv[0], X_OK) < 0)
		return -errno;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return log_error_errno(-errno, "%s: pipe", name);
	/* stdout and stderr both into the pipe; no session of its own: it is
	 * waited for here and killed by pid */
	launch_opts_init(&opts, argv);
	opts.env = env;
	opts.stdout_fd = opts.stderr_fd = pipefd[1];
	pid = launch_start(&opts);
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return log_error_errno(pid, "%s: fork", name);
	}
	close(pipefd[1]);
	for (;;) {
		uint64_t now = now_mono_ns();
		struct pollfd p = { pipefd[0], POLLIN, 0 };
		ssize_t n;

		if (now >= deadline) {
			timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, (int)((deadline - now) / NSEC_PER_MSEC) + 1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (!p.revents)
			continue;
		n = read(pipefd[0], buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (logged >= TOOL_OUTPUT_MAX) {
			logged += (size_t)n;
			continue;
		}
		logged += (size_t)n;
		len += (size_t)n;
		log_lines(name, buf, &len, false);
	}
	log_lines(name, buf, &len, true);
	if (logged > TOOL_OUTPUT_MAX)
		log_info("%s: %zu more bytes of output not logged", name, logged - TOOL_OUTPUT_MAX);
	close(pipefd[0]);
	/* the pipe closed or time ran out: the child is done or being killed;
	 * a tool that closed its output but runs on is killed at the deadline */
	while (waitpid(pid, &status, timed_out ? 0 : WNOHANG) == 0) {
		if (now_mono_ns() >= deadline) {
			timed_out = true;
			kill(pid, SIGKILL);
		} else {
			poll(NULL, 0, 10);
		}
	}
	if (timed_out) {
		log_error("%s: killed after %u s", name, timeout_s);
		return -ETIMEDOUT;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
