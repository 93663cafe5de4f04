/* The launcher (launcher.h): the agent's end of the socket pair, and the
 * launcher process itself, which only spawns, forks sessions, reaps and
 * reports.
 * Every message is one SOCK_SEQPACKET record, so no framing is needed and a
 * short or oversized one is refused whole. */
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* the most strings of one request: guest-exec's own bound is lower */
#define STRINGS_MAX 8192

enum msg_type {
	MSG_SPAWN = 1, /* agent -> launcher: struct msg_spawn, strings, fds */
	MSG_SPAWNED = 2, /* launcher -> agent: struct msg_result, r and pid */
	MSG_EXITED = 3, /* launcher -> agent: struct msg_result, pid and status */
	MSG_SESSION = 4, /* agent -> launcher: struct msg_session, strings, bytes, fds */
};

struct msg_spawn {
	uint32_t type;
	uint32_t fdmask; /* bit N: stdio N comes with the message */
	uint32_t argc;
	uint32_t envc;
	/* then file, argv[0..argc), envp[0..envc), each NUL-terminated */
};

/* The descriptors of a session, in this order, those present in fdmask */
enum { S_CONN, S_PTY, S_SLAVE, S_IN0, S_IN1, S_OUT0, S_OUT1, S_ERR0, S_ERR1, S_FDS };

struct msg_session {
	uint32_t type;
	uint32_t fdmask;
	uint32_t tty, rows, cols;
	uint32_t argc, envc;
	uint32_t owed_len, sent_len;
	/* then file, dir, the pty's name, argv[0..argc), envp[0..envc), each
	 * NUL-terminated,
	 * then the owed bytes, then the sent ones */
};

struct msg_result {
	uint32_t type;
	int32_t r;
	int32_t pid;
	int32_t status;
};

struct launcher {
	int fd;
	pid_t pid;
	bool gone;
	struct {
		launcher_exit_fn fn;
		void *data;
	} watchers[LAUNCHER_WATCHERS_MAX];
};

/* ---- the launcher process ---- */

static void send_result(int sock, enum msg_type type, int r, pid_t pid, int status)
{
	struct msg_result m = { .type = type, .r = r, .pid = pid, .status = status };

	/* a full buffer blocks: at most one record per child waits there */
	(void)!send(sock, &m, sizeof(m), MSG_NOSIGNAL);
}

/* The strings of a request: N of them, each ending inside BUF[0..LEN).
 * The bytes they take, or -EINVAL. */
static long split(char *buf, size_t len, char **out, size_t n)
{
	size_t off = 0;

	for (size_t i = 0; i < n; i++) {
		char *end = memchr(buf + off, '\0', len - off);

		if (off >= len || !end)
			return -EINVAL;
		out[i] = buf + off;
		off = (size_t)(end - buf) + 1;
	}
	out[n] = NULL;
	return (long)off;
}

static int do_spawn(const struct msg_spawn *h, char *strings, size_t len, const int *fds,
		    size_t n_fds, pid_t *ret_pid)
{
	static const char *const null_paths[3] = { "/dev/null", "/dev/null", "/dev/null" };
	static const int null_modes[3] = { O_RDONLY, O_WRONLY, O_WRONLY };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	_cleanup_free_ char **all = NULL, **argv = NULL;
	sigset_t none, all_signals;
	size_t n, next = 0;
	int r;

	if (h->fdmask > 7 || (size_t)__builtin_popcount(h->fdmask) != n_fds ||
	    h->argc > STRINGS_MAX || h->envc > STRINGS_MAX || h->argc == 0)
		return -EINVAL;
	/* file, argv's, envp's: all of the record, nothing after them */
	n = 1 + (size_t)h->argc + (size_t)h->envc;
	all = calloc(n + 1, sizeof(*all));
	argv = calloc((size_t)h->argc + 1, sizeof(*argv));
	if (!all || !argv)
		return -ENOMEM;
	if (split(strings, len, all, n) != (long)len)
		return -EINVAL;
	memcpy(argv, all + 1, h->argc * sizeof(*argv));
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all_signals);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all_signals);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
						POSIX_SPAWN_SETSID);
	for (int i = 0; i < 3; i++) {
		if (h->fdmask & (1u << i))
			posix_spawn_file_actions_adddup2(&fa, fds[next++], i);
		else
			posix_spawn_file_actions_addopen(&fa, i, null_paths[i], null_modes[i], 0);
	}
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	r = -posix_spawn(ret_pid, all[0], &fa, &attr, argv, all + 1 + h->argc);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return r;
}

/* A session process: what shell_session_run needs, from the record. */
static int do_session(const struct msg_session *h, char *data, size_t len, const int *fds,
		      size_t n_fds, pid_t *ret_pid)
{
	struct shell_io io;
	int *slots[S_FDS] = { NULL,	  &io.pty,    &io.slave,  &io.in[0], &io.in[1],
			      &io.out[0], &io.out[1], &io.err[0], &io.err[1] };
	int conn = -1;
	size_t n = 3 + (size_t)h->argc + (size_t)h->envc, next = 0;
	_cleanup_free_ char **all = NULL;
	long used;
	pid_t pid;

	if (h->fdmask >= (1u << S_FDS) || !(h->fdmask & 1u) ||
	    (size_t)__builtin_popcount(h->fdmask) != n_fds || h->argc > STRINGS_MAX ||
	    h->envc > STRINGS_MAX || h->argc == 0)
		return -EINVAL;
	all = calloc(n + 2, sizeof(*all));
	if (!all)
		return -ENOMEM;
	used = split(data, len, all, n);
	if (used < 0 || (size_t)used + h->owed_len + h->sent_len != len ||
	    strlen(all[0]) >= PATH_MAX || strlen(all[1]) >= PATH_MAX ||
	    strlen(all[2]) >= sizeof(io.pts))
		return -EINVAL;
	shell_io_init(&io);
	snprintf(io.pts, sizeof(io.pts), "%s", all[2]);
	for (int i = 0; i < S_FDS; i++) {
		if (!(h->fdmask & (1u << i)))
			continue;
		if (i == S_CONN)
			conn = fds[next++];
		else
			*slots[i] = fds[next++];
	}
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		static struct shell_spec spec;
		char **argv = calloc((size_t)h->argc + 1, sizeof(*argv));

		if (!argv)
			_exit(1);
		snprintf(spec.file, sizeof(spec.file), "%s", all[0]);
		snprintf(spec.dir, sizeof(spec.dir), "%s", all[1]);
		memcpy(argv, all + 3, h->argc * sizeof(*argv));
		/* envp: the strings after argv's, and the NULL split left */
		spec.argv = argv;
		spec.envp = all + 3 + h->argc;
		spec.tty = h->tty != 0;
		spec.rows = h->rows;
		spec.cols = h->cols;
		shell_session_run(&spec, &io, conn, data + used, h->owed_len,
				  data + used + h->owed_len, h->sent_len);
	}
	*ret_pid = pid;
	return 0;
}

static void on_request(int sock, char *buf, size_t cap)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(S_FDS * sizeof(int))];
	} c;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = c.buf,
			     .msg_controllen = sizeof(c.buf) };
	int fds[S_FDS] = { -1, -1, -1, -1, -1, -1, -1, -1, -1 };
	size_t n_fds = 0;
	struct msg_spawn h;
	pid_t pid = 0;
	ssize_t n;
	int r;

	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
		_exit(0); /* the agent is gone: so are we */
	if (n < 0)
		return;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < k; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				if (n_fds < S_FDS)
					fds[n_fds++] = fd;
				else
					close(fd);
			}
		}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)n < sizeof(h)) {
		r = -EMSGSIZE;
	} else {
		memcpy(&h, buf, sizeof(h));
		if (h.type == MSG_SPAWN) {
			r = do_spawn(&h, buf + sizeof(h), (size_t)n - sizeof(h), fds, n_fds, &pid);
		} else if (h.type == MSG_SESSION && (size_t)n >= sizeof(struct msg_session)) {
			struct msg_session hs;

			memcpy(&hs, buf, sizeof(hs));
			r = do_session(&hs, buf + sizeof(hs), (size_t)n - sizeof(hs), fds, n_fds,
				       &pid);
		} else {
			r = -EINVAL;
		}
	}
	for (size_t i = 0; i < n_fds; i++)
		close(fds[i]);
	send_result(sock, MSG_SPAWNED, r, r < 0 ? 0 : pid, 0);
}

static void reap(int sock, int sigfd)
{
	struct signalfd_siginfo si;
	int status;
	pid_t pid;

	while (read(sigfd, &si, sizeof(si)) == sizeof(si))
		;
	/* one SIGCHLD may stand for several exits */
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		send_result(sock, MSG_EXITED, 0, pid, status);
}

static __attribute__((noreturn)) void launcher_main(int sock, pid_t parent)
{
	_cleanup_free_ char *buf = malloc(sizeof(struct msg_session) + LAUNCHER_MSG_MAX);
	sigset_t chld, rest;
	int sigfd;

	/* it ends with the agent, whichever way the agent ends */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(0);
	prctl(PR_SET_NAME, "porthole-launch");
	/* nothing of the agent's but the socket: no listener, no client */
	if (dup2(sock, 3) < 0 || close_range(4, ~0u, 0) < 0)
		_exit(111);
	sock = 3;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigfillset(&rest);
	sigdelset(&rest, SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &rest, NULL);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0 || !buf)
		_exit(111);
	/* the agent's own umask (077) is for what it creates; a command run
	 * for the host gets the usual 022, as under qemu-ga */
	umask(022);
	for (;;) {
		struct pollfd p[2] = { { .fd = sock, .events = POLLIN },
				       { .fd = sigfd, .events = POLLIN } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(111);
		}
		if (p[1].revents)
			reap(sock, sigfd);
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
			on_request(sock, buf, sizeof(struct msg_session) + LAUNCHER_MSG_MAX);
	}
}

/* ---- the agent's end ---- */

int launcher_start(struct launcher **ret)
{
	struct launcher *l = calloc(1, sizeof(*l));
	pid_t parent = getpid();
	int sv[2];

	if (!l)
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		free(l);
		return -errno;
	}
	l->pid = fork();
	if (l->pid < 0) {
		int r = -errno;

		close(sv[0]);
		close(sv[1]);
		free(l);
		return r;
	}
	if (l->pid == 0) {
		close(sv[0]);
		launcher_main(sv[1], parent);
	}
	close(sv[1]);
	l->fd = sv[0];
	*ret = l;
	return 0;
}

int launcher_fd(const struct launcher *l)
{
	return l->fd;
}

int launcher_watch(struct launcher *l, launcher_exit_fn fn, void *data)
{
	for (size_t i = 0; i < LAUNCHER_WATCHERS_MAX; i++)
		if (!l->watchers[i].fn) {
			l->watchers[i].fn = fn;
			l->watchers[i].data = data;
			return 0;
		}
	return -ENOSPC;
}

void launcher_unwatch(struct launcher *l, launcher_exit_fn fn, void *data)
{
	for (size_t i = 0; i < LAUNCHER_WATCHERS_MAX; i++)
		if (l->watchers[i].fn == fn && l->watchers[i].data == data)
			l->watchers[i].fn = NULL;
}

static void deliver(struct launcher *l, pid_t pid, int status)
{
	for (size_t i = 0; i < LAUNCHER_WATCHERS_MAX; i++)
		if (l->watchers[i].fn && l->watchers[i].fn(pid, status, l->watchers[i].data))
			return;
}

/* One record from the launcher: its result into *M. 0, -EAGAIN when there
 * is none, -EPIPE when the launcher is gone. */
static int receive(struct launcher *l, struct msg_result *m)
{
	ssize_t n = recv(l->fd, m, sizeof(*m), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -EAGAIN;
	if (n != (ssize_t)sizeof(*m)) {
		if (!l->gone)
			log_error("guest-exec: the launcher is gone: no command can run until the "
				  "agent restarts");
		l->gone = true;
		return -EPIPE;
	}
	return 0;
}

int launcher_dispatch(struct launcher *l)
{
	struct msg_result m;
	int r;

	while ((r = receive(l, &m)) == 0)
		if (m.type == MSG_EXITED)
			deliver(l, m.pid, m.status);
	return r == -EAGAIN ? 0 : r;
}

/* Sends the record BUF[0..LEN) with FDS and waits for its answer; exits
 * that come first are delivered. */
static int request(struct launcher *l, const void *buf, size_t len, const int *fds, size_t n_fds,
		   pid_t *ret_pid)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(S_FDS * sizeof(int))];
	} c;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	uint64_t deadline = now_mono_ns() + (uint64_t)LAUNCHER_TIMEOUT_MS * 1000000u;

	if (l->gone)
		return -EPIPE;
	if (n_fds) {
		memset(&c, 0, sizeof(c));
		mh.msg_control = c.buf;
		mh.msg_controllen = CMSG_SPACE(n_fds * sizeof(int));
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), fds, n_fds * sizeof(int));
	}
	if (sendmsg(l->fd, &mh, MSG_NOSIGNAL) < 0)
		return -errno;
	for (;;) {
		uint64_t now = now_mono_ns();
		struct pollfd p = { .fd = l->fd, .events = POLLIN };
		struct msg_result m;
		int r;

		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)((deadline - now) / 1000000u) + 1);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		r = receive(l, &m);
		if (r == -EAGAIN)
			continue;
		if (r < 0)
			return r;
		if (m.type == MSG_EXITED) {
			deliver(l, m.pid, m.status);
		} else if (m.type == MSG_SPAWNED) {
			if (m.r < 0)
				return m.r;
			*ret_pid = m.pid;
			return 0;
		}
	}
}

/* Appends the NUL-terminated S to BUF at *OFF. */
static void put(char *buf, size_t *off, const void *s, size_t n)
{
	memcpy(buf + *off, s, n);
	*off += n;
}

int launcher_spawn(struct launcher *l, const char *file, const char *const *argv,
		   const char *const *envp, const int fds[3], pid_t *ret_pid)
{
	struct msg_spawn h = { .type = MSG_SPAWN };
	_cleanup_free_ char *buf = NULL;
	size_t len = sizeof(h) + strlen(file) + 1, off = 0, n_fds = 0;
	int sent[3];

	for (h.argc = 0; argv[h.argc]; h.argc++)
		len += strlen(argv[h.argc]) + 1;
	for (h.envc = 0; envp[h.envc]; h.envc++)
		len += strlen(envp[h.envc]) + 1;
	if (len > sizeof(h) + LAUNCHER_MSG_MAX)
		return -E2BIG;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0) {
			h.fdmask |= 1u << i;
			sent[n_fds++] = fds[i];
		}
	put(buf, &off, &h, sizeof(h));
	put(buf, &off, file, strlen(file) + 1);
	for (size_t i = 0; i < h.argc; i++)
		put(buf, &off, argv[i], strlen(argv[i]) + 1);
	for (size_t i = 0; i < h.envc; i++)
		put(buf, &off, envp[i], strlen(envp[i]) + 1);
	return request(l, buf, len, sent, n_fds, ret_pid);
}

int launcher_session(struct launcher *l, const struct shell_spec *spec, const struct shell_io *io,
		     int conn, const void *owed, size_t owed_len, const void *sent, size_t sent_len,
		     pid_t *ret_pid)
{
	struct msg_session h = { .type = MSG_SESSION,
				 .tty = spec->tty,
				 .rows = spec->rows,
				 .cols = spec->cols,
				 .owed_len = (uint32_t)owed_len,
				 .sent_len = (uint32_t)sent_len };
	const int all[S_FDS] = { conn,	     io->pty,	 io->slave,  io->in[0], io->in[1],
				 io->out[0], io->out[1], io->err[0], io->err[1] };
	_cleanup_free_ char *buf = NULL;
	size_t len = sizeof(h) + strlen(spec->file) + 1 + strlen(spec->dir) + 1 + strlen(io->pts) +
		     1 + owed_len + sent_len,
	       off = 0, n_fds = 0;
	int fds[S_FDS];

	for (h.argc = 0; spec->argv[h.argc]; h.argc++)
		len += strlen(spec->argv[h.argc]) + 1;
	for (h.envc = 0; spec->envp[h.envc]; h.envc++)
		len += strlen(spec->envp[h.envc]) + 1;
	if (len > sizeof(h) + LAUNCHER_MSG_MAX)
		return -E2BIG;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	for (int i = 0; i < S_FDS; i++)
		if (all[i] >= 0) {
			h.fdmask |= 1u << i;
			fds[n_fds++] = all[i];
		}
	put(buf, &off, &h, sizeof(h));
	put(buf, &off, spec->file, strlen(spec->file) + 1);
	put(buf, &off, spec->dir, strlen(spec->dir) + 1);
	put(buf, &off, io->pts, strlen(io->pts) + 1);
	for (size_t i = 0; i < h.argc; i++)
		put(buf, &off, spec->argv[i], strlen(spec->argv[i]) + 1);
	for (size_t i = 0; i < h.envc; i++)
		put(buf, &off, spec->envp[i], strlen(spec->envp[i]) + 1);
	if (owed_len)
		put(buf, &off, owed, owed_len);
	if (sent_len)
		put(buf, &off, sent, sent_len);
	return request(l, buf, len, fds, n_fds, ret_pid);
}

void launcher_free(struct launcher *l)
{
	if (!l)
		return;
	close(l->fd);
	/* it exits on the end of its socket; the loop may have reaped it */
	for (int i = 0; i < 100; i++) {
		pid_t w = waitpid(l->pid, NULL, WNOHANG);

		if (w != 0)
			break;
		if (i == 99) {
			kill(l->pid, SIGKILL);
			waitpid(l->pid, NULL, 0);
		}
		usleep(10000);
	}
	free(l);
}
