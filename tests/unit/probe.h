/* tests/unit/probe.h: what the machine under a unit test can do, asked of it
 * directly, so that a test that needs what it lacks skips and says why (never
 * passes). It matters under user-mode emulation: tests/run's unit-arm64 tier
 * runs the tests under qemu-aarch64 (QEMU 7.2), which emulates no seccomp, runs
 * posix_spawn's clone(CLONE_VM|CLONE_VFORK) as a plain fork, has no openat2,
 * drops MSG_CTRUNC and runs a thread of its own. A kernel may lack some of it too.
 * Each probe returns NULL when the machine can, or why not. */
#ifndef PORTHOLE_TEST_PROBE_H
#define PORTHOLE_TEST_PROBE_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* One reason at a time: a test asks, and skips with it at once. */
static char probe_why[160];

/* Skips the calling test, saying why, when WHY (a probe's answer) is not NULL. */
#define PROBE_SKIP_UNLESS(why)                                 \
	do {                                                   \
		const char *probe_w_ = (why);                  \
		if (probe_w_) {                                \
			print_message("skip: %s\n", probe_w_); \
			skip();                                \
		}                                              \
	} while (0)

/* seccomp(2) itself, which libseccomp asks before it builds a filter */
static inline const char *probe_seccomp(void)
{
	unsigned int action = SECCOMP_RET_KILL_PROCESS;

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0)
		return NULL;
	snprintf(probe_why, sizeof(probe_why), "seccomp(2) is not available here: %s",
		 strerror(errno));
	return probe_why;
}

/* posix_spawn's report of a failed exec, which needs the child to share the
 * parent's memory until it execs */
static inline const char *probe_spawn_errors(void)
{
	char *const argv[] = { "probe", NULL };
	pid_t pid;
	int r = posix_spawn(&pid, "/nonexistent/porthole-probe", NULL, NULL, argv, NULL);

	if (r == ENOENT)
		return NULL;
	if (r == 0)
		(void)waitpid(pid, NULL, 0);
	snprintf(probe_why, sizeof(probe_why),
		 "posix_spawn of a missing program answers %s, not ENOENT: no exec failure "
		 "reaches the parent here",
		 r ? strerror(r) : "with a child");
	return probe_why;
}

/* openat2(2), which lib/sharemount resolves a share's target with */
static inline const char *probe_openat2(void)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS };
	long fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));

	if (fd >= 0) {
		close((int)fd);
		return NULL;
	}
	snprintf(probe_why, sizeof(probe_why), "openat2(2) is not available here: %s",
		 strerror(errno));
	return probe_why;
}

/* recvmsg's MSG_CTRUNC when more fds come than the control buffer holds */
static inline const char *probe_ctrunc(void)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} out = { 0 }, in = { 0 };
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	char byte;
	struct iovec riov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr rh = { .msg_iov = &riov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	int sv[2], fds[4], cut = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return "socketpair(AF_UNIX) failed";
	/* four of the socket's own fd */
	for (size_t i = 0; i < 4; i++)
		fds[i] = sv[0];
	mh.msg_control = out.buf;
	mh.msg_controllen = CMSG_SPACE(4 * sizeof(int));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(4 * sizeof(int));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	/* room for one fd of the four (two would fit in one's alignment) */
	rh.msg_control = in.buf;
	rh.msg_controllen = CMSG_SPACE(sizeof(int));
	if (sendmsg(sv[0], &mh, 0) == 1 && recvmsg(sv[1], &rh, MSG_CMSG_CLOEXEC) == 1) {
		cut = !!(rh.msg_flags & MSG_CTRUNC);
		for (c = CMSG_FIRSTHDR(&rh); c; c = CMSG_NXTHDR(&rh, c))
			for (size_t i = 0; c->cmsg_type == SCM_RIGHTS &&
					   i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			     i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(fd);
			}
	}
	close(sv[0]);
	close(sv[1]);
	return cut ? NULL
		   : "recvmsg does not flag MSG_CTRUNC here when fds do not fit its "
		     "control buffer";
}

/* a process of one thread, as the tests that drop capabilities need (a
 * thread started before keeps its own) */
static inline const char *probe_one_thread(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return "/proc/self/task cannot be read";
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	if (n == 1)
		return NULL;
	snprintf(probe_why, sizeof(probe_why),
		 "this process has %d threads before the test starts any (an emulator's own)", n);
	return probe_why;
}

#endif
