/* A porthole-shell session process (shell-session.h). Everything it waits
 * for is in one poll(2): the connection, the pty's master (or the pipes),
 * and a signalfd for SIGCHLD and the signals that end it. Both directions
 * are bounded: the command's output is read only while less than
 * SESSION_TX_MAX waits for the host, a frame from the host is taken only
 * once the command has taken the input before it, and the connection is
 * read only while less than SESSION_RX_MAX waits to be taken. So a host
 * that does not read stops the command's output (it blocks in write(2), as
 * on a terminal that is not read), and a command that does not read stops
 * the host's frames. */
#include "shell-session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* After the last frame, how long the host's own close is waited for, what
 * it still sends read and dropped: closing a socket with bytes unread
 * resets the host's side, which could cost it the exit frame. */
#define SESSION_CLOSE_MS 1000

struct session {
	int conn;
	int sigfd;
	bool tty;
	int pty; /* the master; -1 without a tty, or once the command's side closed */
	int in_fd, out_fd, err_fd; /* without a tty; -1 once closed */
	pid_t pid; /* the command, 0 once reaped */
	int status;
	bool exited;
	uint64_t drain_deadline;
	/* from the host */
	uint8_t rx[SESSION_RX_MAX];
	size_t rx_len;
	bool rx_started; /* the white space before the first frame is behind */
	uint8_t in[SHELLFRAME_DATA_MAX]; /* input the command has not taken yet */
	size_t in_off, in_len;
	bool in_eof; /* stdin-eof taken */
	int last_in; /* the last byte written to the pty, -1 before any */
	/* to the host */
	uint8_t *tx;
	size_t tx_off, tx_len, tx_cap;
};

/* One session per process: the agent forks one for each. */
static struct session session;

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void shell_io_init(struct shell_io *io)
{
	*io = (struct shell_io){
		.pty = -1, .slave = -1, .in = { -1, -1 }, .out = { -1, -1 }, .err = { -1, -1 }
	};
}

void shell_io_close(struct shell_io *io)
{
	int *all[] = { &io->pty,    &io->slave,	 &io->in[0],  &io->in[1],
		       &io->out[0], &io->out[1], &io->err[0], &io->err[1] };

	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		close_fd(all[i]);
}

/* FD moved above 2, close-on-exec: the agent may run with 0, 1 or 2
 * closed, and the command's side is dup2'ed onto them. */
static int above_stdio(int *fd)
{
	int n;

	if (*fd > 2)
		return 0;
	n = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
	if (n < 0)
		return -errno;
	close(*fd);
	*fd = n;
	return 0;
}

static int fail_why(char *why, size_t why_size, int r, const char *what)
{
	snprintf(why, why_size, "%s: %s", what, strerror(-r));
	return r;
}

int shell_io_open(struct shell_io *io, const struct shell_spec *spec, char *why, size_t why_size)
{
	int r;

	if (!spec->tty) {
		int *p[] = { io->in, io->out, io->err };

		for (size_t i = 0; i < ARRAY_SIZE(p); i++)
			if (pipe2(p[i], O_CLOEXEC) < 0 || above_stdio(&p[i][0]) < 0 ||
			    above_stdio(&p[i][1]) < 0) {
				r = -errno;
				shell_io_close(io);
				return fail_why(why, why_size, r, "pipe");
			}
		return 0;
	}
	/* pty(7): the master from /dev/ptmx, the slave unlocked; the
	 * command makes it its controlling terminal (TIOCSCTTY) */
	io->pty = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (io->pty < 0 || above_stdio(&io->pty) < 0 || grantpt(io->pty) < 0 ||
	    unlockpt(io->pty) < 0) {
		r = -errno;
		shell_io_close(io);
		return fail_why(why, why_size, r,
				"porthole-shell: open a pseudo-terminal (/dev/ptmx)");
	}
	r = ptsname_r(io->pty, io->pts, sizeof(io->pts));
	if (r != 0) {
		shell_io_close(io);
		return fail_why(why, why_size, -r, "ptsname");
	}
	io->slave = open(io->pts, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (io->slave < 0 || above_stdio(&io->slave) < 0) {
		r = -errno;
		snprintf(why, why_size, "open %s: %s", io->pts, strerror(-r));
		shell_io_close(io);
		return r;
	}
	if (ioctl(io->pty, TIOCSWINSZ,
		  &(struct winsize){ .ws_row = (unsigned short)spec->rows,
				     .ws_col = (unsigned short)spec->cols }) < 0) {
		r = -errno;
		shell_io_close(io);
		return fail_why(why, why_size, r, "set the window size");
	}
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Closes every descriptor above 2 but KEEP's: the agent's listeners, its
 * epoll and signalfds, and other clients' connections, which must see the
 * agent close them. Logging opens its sink again. */
static void close_all_but(int *keep, size_t n)
{
	bool kmsg = log_get_target() == LOG_TARGET_KMSG;
	unsigned next = 3;

	log_set_target(LOG_TARGET_STDERR);
	qsort(keep, n, sizeof(*keep), cmp_int);
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < (int)next)
			continue;
		if ((unsigned)keep[i] > next)
			close_range(next, (unsigned)keep[i] - 1, 0);
		next = (unsigned)keep[i] + 1;
	}
	close_range(next, ~0U, 0);
	if (kmsg)
		log_set_target(LOG_TARGET_KMSG);
}

/* The command's side of the fork: a session of its own (setsid) with the
 * pty as its controlling terminal, or the pipes; no signal blocked and
 * every one at its default (the agent blocks some and ignores SIGPIPE);
 * the agent's OOM protection (its service's oom_score_adj) undone; umask
 * 022; the home directory. A program that cannot be run is told on its
 * stderr and exits 127 (not found) or 126, as a shell's would. */
static void run_command(const struct shell_spec *spec, const struct shell_io *io)
{
	sigset_t none;
	int e;

	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL); /* SIGKILL, SIGSTOP and glibc's own refuse: so be it */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (spec->tty) {
		if (ioctl(io->slave, TIOCSCTTY, 0) < 0)
			dprintf(io->slave, "porthole-shell: TIOCSCTTY: %s\n", strerror(errno));
		dup2(io->slave, 0);
		dup2(io->slave, 1);
		dup2(io->slave, 2);
	} else {
		dup2(io->in[0], 0);
		dup2(io->out[1], 1);
		dup2(io->err[1], 2);
	}
	close_range(3, ~0U, 0);
	(void)!write_file("/proc/self/oom_score_adj", "0"); /* no procfs: nothing to undo */
	umask(022);
	if (chdir(spec->dir) < 0)
		(void)!chdir("/");
	execve(spec->file, spec->argv, spec->envp);
	e = errno;
	dprintf(2, "porthole-shell: %s: %s\n", spec->file, strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

static size_t tx_pending(const struct session *s)
{
	return s->tx_len - s->tx_off;
}

/* Room for SIZE more bytes at the end of the output, compacted first. */
static uint8_t *tx_room(struct session *s, size_t size)
{
	if (s->tx_off == s->tx_len)
		s->tx_off = s->tx_len = 0;
	if (s->tx_cap - s->tx_len < size && s->tx_off) {
		memmove(s->tx, s->tx + s->tx_off, tx_pending(s));
		s->tx_len -= s->tx_off;
		s->tx_off = 0;
	}
	return s->tx_cap - s->tx_len < size ? NULL : s->tx + s->tx_len;
}

/* Sends what it can without blocking; -errno when the host is gone. */
static int tx_flush(struct session *s)
{
	while (tx_pending(s)) {
		ssize_t n = send(s->conn, s->tx + s->tx_off, tx_pending(s),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		s->tx_off += (size_t)n;
	}
	return 0;
}

/* The last frames, for SESSION_FLUSH_MS at most; then the close, after
 * the host's (SESSION_CLOSE_MS at most). */
static void close_host(struct session *s)
{
	uint64_t deadline = now_mono_ns() + SESSION_FLUSH_MS * NSEC_PER_MSEC;
	char buf[4096];

	while (tx_pending(s) && tx_flush(s) == 0 && tx_pending(s))
		if (fd_wait(s->conn, POLLOUT, deadline) < 0)
			break;
	if (tx_pending(s))
		log_warn("porthole-shell: session %d: the host did not take the last %zu bytes "
			 "within %d ms, closing",
			 (int)getpid(), tx_pending(s), SESSION_FLUSH_MS);
	shutdown(s->conn, SHUT_WR);
	deadline = now_mono_ns() + SESSION_CLOSE_MS * NSEC_PER_MSEC;
	for (;;) {
		ssize_t n = recv(s->conn, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		if (n < 0 && errno == EAGAIN && fd_wait(s->conn, POLLIN, deadline) == 0)
			continue;
		break;
	}
	close_fd(&s->conn);
}

/* Reaps the command (the session has no other child). */
static void reap(struct session *s)
{
	pid_t p;
	int st;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		if (p != s->pid)
			continue;
		s->pid = 0;
		s->status = st;
		s->exited = true;
		s->drain_deadline = now_mono_ns() + SESSION_DRAIN_MS * NSEC_PER_MSEC;
	}
}

/* Waits for the command's exit until DEADLINE; true when it came. */
static bool wait_exit(struct session *s, uint64_t deadline)
{
	struct signalfd_siginfo si;

	for (;;) {
		reap(s);
		if (!s->pid)
			return true;
		if (fd_wait(s->sigfd, POLLIN, deadline) < 0)
			return false;
		while (read(s->sigfd, &si, sizeof(si)) > 0)
			;
	}
}

/* SIG to process group PGRP. The command makes its own group when it
 * calls setsid(2), just after the fork: a signal sent before that finds no
 * group (ESRCH) and goes to the command itself, which has it blocked until
 * it has reset its signals, and then gets it. */
static int group_kill(const struct session *s, pid_t pgrp, int sig)
{
	if (kill(-pgrp, sig) == 0)
		return 0;
	if (errno != ESRCH || pgrp != s->pid)
		return -errno;
	return kill(pgrp, sig) < 0 ? -errno : 0;
}

/* The host has gone, or the session is being ended: the command's process
 * group is hung up as a terminal's would be (SIGHUP, SIGCONT so that a
 * stopped job sees it), then killed when it does not go. */
static void hang_up(struct session *s)
{
	pid_t pgrp = s->pid;

	close_fd(&s->pty);
	close_fd(&s->in_fd);
	close_fd(&s->out_fd);
	close_fd(&s->err_fd);
	if (!pgrp)
		return;
	group_kill(s, pgrp, SIGHUP);
	group_kill(s, pgrp, SIGCONT);
	if (wait_exit(s, now_mono_ns() + SESSION_HUP_MS * NSEC_PER_MSEC))
		return;
	log_info("porthole-shell: session %d: process group %d still there %d ms after SIGHUP: "
		 "SIGKILL",
		 (int)getpid(), (int)pgrp, SESSION_HUP_MS);
	group_kill(s, pgrp, SIGKILL);
	if (!wait_exit(s, now_mono_ns() + SESSION_REAP_MS * NSEC_PER_MSEC))
		log_warn("porthole-shell: session %d: process %d not reaped %d ms after SIGKILL, "
			 "leaving it to init",
			 (int)getpid(), (int)pgrp, SESSION_REAP_MS);
}

static void host_gone(struct session *s, const char *why) __attribute__((noreturn));
static void host_gone(struct session *s, const char *why)
{
	log_info("porthole-shell: session %d: the host %s%s", (int)getpid(), why,
		 s->pid ? ": hanging the command up" : "");
	hang_up(s);
	_exit(0);
}

/* Ends the session with an error frame saying why, then hangs the command
 * up. Used for what the host did wrong and for a signal to the session. */
static void end_session(struct session *s, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
static void end_session(struct session *s, const char *fmt, ...)
{
	char text[SHELLFRAME_ERROR_MAX];
	uint8_t *at;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_warn("porthole-shell: session %d: %s: ending it", (int)getpid(), text);
	/* the output waiting goes first, the error last; tx_cap keeps room */
	at = tx_room(s, SHELLFRAME_HEADER + SHELLFRAME_ERROR_MAX);
	if (at) {
		long n =
			shellframe_encode_error(at, SHELLFRAME_HEADER + SHELLFRAME_ERROR_MAX, text);

		if (n > 0)
			s->tx_len += (size_t)n;
	}
	close_host(s);
	hang_up(s);
	_exit(1);
}

/* The command has exited and its output is read: its exit goes last. */
static void finish(struct session *s) __attribute__((noreturn));
static void finish(struct session *s)
{
	int code = WIFEXITED(s->status) ? WEXITSTATUS(s->status) : 0;
	int sig = WIFSIGNALED(s->status) ? WTERMSIG(s->status) : 0;
	uint8_t *at = tx_room(s, SHELLFRAME_HEADER + 2);
	long n = at ? shellframe_encode_exit(at, SHELLFRAME_HEADER + 2, code, sig) : -ENOBUFS;

	if (n > 0)
		s->tx_len += (size_t)n;
	if (sig)
		log_info("porthole-shell: session %d: the command was killed by signal %d",
			 (int)getpid(), sig);
	else
		log_info("porthole-shell: session %d: the command exited with status %d",
			 (int)getpid(), code);
	close_fd(&s->pty);
	close_fd(&s->in_fd);
	close_host(s);
	_exit(0);
}

/* stdin-eof on a pty: what a user types for it, the terminal's VEOF (^D)
 * when the line discipline is canonical, twice when a line is half typed
 * (the first one only ends that line). In raw mode nothing says EOF: the
 * program sees none, as on a terminal. */
static void pty_eof(struct session *s)
{
	struct termios t;
	cc_t eof;

	if (s->pty < 0 || tcgetattr(s->pty, &t) < 0 || !(t.c_lflag & ICANON))
		return;
	eof = t.c_cc[VEOF];
	if (eof == _POSIX_VDISABLE)
		return;
	s->in[0] = s->in[1] = eof;
	s->in_off = 0;
	s->in_len = s->last_in < 0 || s->last_in == '\n' || s->last_in == eof ? 1 : 2;
}

/* A signal frame: to the terminal's foreground process group (a job a
 * shell started), else the command's. */
static void send_signal(struct session *s, int sig)
{
	pid_t pgrp = s->pty >= 0 ? tcgetpgrp(s->pty) : -1;

	if (pgrp <= 0)
		pgrp = s->pid;
	if (pgrp > 0 && group_kill(s, pgrp, sig) < 0)
		log_debug("porthole-shell: session %d: signal %d to process group %d: %s",
			  (int)getpid(), sig, (int)pgrp, strerror(errno));
}

static void take_frame(struct session *s, const struct shellframe *f)
{
	switch (f->type) {
	case SHELLFRAME_STDIN:
		if (s->in_eof)
			end_session(s, "a bad frame from the host: stdin after stdin-eof");
		memcpy(s->in, f->data, f->len);
		s->in_off = 0;
		s->in_len = f->len;
		break;
	case SHELLFRAME_STDIN_EOF:
		if (s->in_eof)
			end_session(s, "a bad frame from the host: a second stdin-eof");
		s->in_eof = true;
		if (s->tty)
			pty_eof(s);
		else
			close_fd(&s->in_fd);
		break;
	case SHELLFRAME_RESIZE:
		/* the kernel sends SIGWINCH to the foreground process group */
		if (s->pty >= 0 &&
		    ioctl(s->pty, TIOCSWINSZ,
			  &(struct winsize){ .ws_row = (unsigned short)f->rows,
					     .ws_col = (unsigned short)f->cols }) < 0)
			log_debug("porthole-shell: session %d: TIOCSWINSZ: %s", (int)getpid(),
				  strerror(errno));
		break;
	case SHELLFRAME_SIGNAL:
		send_signal(s, f->signal);
		break;
	default:
		break; /* the decoder takes only the host's */
	}
}

/* Takes the host's frames in order while the command has taken all the
 * input so far; a frame that is not one ends the session. */
static void take_frames(struct session *s)
{
	char why[SHELLFRAME_WHY_MAX];
	size_t off = 0;

	if (!s->rx_started) {
		off = shellframe_skip_space(s->rx, s->rx_len);
		s->rx_started = off < s->rx_len;
	}
	while (s->in_off == s->in_len && off < s->rx_len) {
		struct shellframe f;
		long n = shellframe_decode(s->rx + off, s->rx_len - off, SHELLFRAME_FROM_HOST, &f,
					   why, sizeof(why));

		if (n == 0)
			break;
		if (n < 0)
			end_session(s, "a bad frame from the host: %s", why);
		take_frame(s, &f);
		off += (size_t)n;
	}
	memmove(s->rx, s->rx + off, s->rx_len - off);
	s->rx_len -= off;
}

/* Reads the host's bytes; its end of stream, or an error, is its going. */
static void read_host(struct session *s)
{
	ssize_t n;

	if (s->rx_len == sizeof(s->rx))
		return;
	n = read(s->conn, s->rx + s->rx_len, sizeof(s->rx) - s->rx_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0)
		host_gone(s, strerror(errno));
	if (n == 0)
		host_gone(s, "hung up");
	s->rx_len += (size_t)n;
}

/* Writes the input the command has not taken. Its side closed (EPIPE from
 * a pipe, EIO from a pty whose slave is closed): the input is dropped, as
 * a terminal's would be. */
static void write_input(struct session *s)
{
	int fd = s->tty ? s->pty : s->in_fd;
	ssize_t n;

	if (s->in_off == s->in_len)
		return;
	if (fd < 0) {
		s->in_off = s->in_len = 0;
		return;
	}
	n = write(fd, s->in + s->in_off, s->in_len - s->in_off);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		s->in_off = s->in_len = 0;
		if (!s->tty)
			close_fd(&s->in_fd);
		return;
	}
	s->in_off += (size_t)n;
	if (s->tty)
		s->last_in = s->in[s->in_off - 1];
	if (s->in_off == s->in_len)
		s->in_off = s->in_len = 0;
}

/* Room for output: a frame's header and a byte, within SESSION_TX_MAX. */
static size_t output_room(const struct session *s)
{
	size_t pending = tx_pending(s);

	if (pending + SHELLFRAME_HEADER >= SESSION_TX_MAX)
		return 0;
	pending = SESSION_TX_MAX - pending - SHELLFRAME_HEADER;
	return pending < SHELLFRAME_DATA_MAX ? pending : SHELLFRAME_DATA_MAX;
}

/* Reads the command's output from *FD straight into a frame of TYPE. The
 * end of it: 0 from a pipe, EIO from a pty's master once no process has
 * the slave open. */
static void read_output(struct session *s, int *fd, enum shellframe_type type)
{
	size_t want = output_room(s);
	uint8_t *at;
	ssize_t n;

	if (!want || !(at = tx_room(s, SHELLFRAME_HEADER + want)))
		return;
	n = read(*fd, at + SHELLFRAME_HEADER, want);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_fd(fd);
		return;
	}
	shellframe_put_header(at, type, (size_t)n);
	s->tx_len += SHELLFRAME_HEADER + (size_t)n;
}

static void take_signals(struct session *s)
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		end_session(s, "the session was ended in the guest (signal %u, %s)", si.ssi_signo,
			    strsignal((int)si.ssi_signo));
	}
	reap(s);
}

/* A descriptor to poll for EVENTS, or none (fd -1, which poll skips): a
 * pipe or pty that reports POLLHUP for ever is not watched while nothing
 * is wanted of it, or the loop would spin. */
static void watch(struct pollfd *p, int fd, short events)
{
	p->fd = events ? fd : -1;
	p->events = events;
	p->revents = 0;
}

static void relay(struct session *s) __attribute__((noreturn));
static void relay(struct session *s)
{
	for (;;) {
		enum { P_CONN, P_SIG, P_PTY, P_IN, P_OUT, P_ERR, P_N };
		struct pollfd p[P_N];
		bool room;
		int timeout = -1;

		/* the host's frames as far as the command takes its input:
		 * those that came with the request first */
		take_frames(s);
		write_input(s);
		take_frames(s);
		room = output_room(s) > 0;
		if (s->exited) {
			if (s->pty < 0 && s->out_fd < 0 && s->err_fd < 0)
				finish(s);
			if (now_mono_ns() >= s->drain_deadline) {
				log_info("porthole-shell: session %d: the command exited %d ms ago "
					 "but its output is still held open (by a child it left "
					 "running?): sending its exit",
					 (int)getpid(), SESSION_DRAIN_MS);
				close_fd(&s->out_fd);
				close_fd(&s->err_fd);
				finish(s);
			}
			timeout = ms_until(s->drain_deadline);
		}
		/* the connection is always watched: its hang-up is news */
		p[P_CONN] =
			(struct pollfd){ .fd = s->conn,
					 .events =
						 (short)((s->rx_len < sizeof(s->rx) ? POLLIN : 0) |
							 (tx_pending(s) ? POLLOUT : 0)) };
		watch(&p[P_SIG], s->sigfd, POLLIN);
		watch(&p[P_PTY], s->pty,
		      (short)((room ? POLLIN : 0) | (s->in_off < s->in_len ? POLLOUT : 0)));
		watch(&p[P_IN], s->in_fd, s->in_off < s->in_len ? POLLOUT : 0);
		watch(&p[P_OUT], s->out_fd, room ? POLLIN : 0);
		watch(&p[P_ERR], s->err_fd, room ? POLLIN : 0);
		if (poll(p, P_N, timeout) < 0) {
			if (errno == EINTR)
				continue;
			end_session(s, "poll: %s", strerror(errno));
		}
		if (p[P_SIG].revents)
			take_signals(s);
		if ((p[P_CONN].revents & POLLOUT) && tx_flush(s) < 0)
			host_gone(s, strerror(errno));
		if (p[P_CONN].revents & (POLLIN | POLLHUP | POLLERR)) {
			/* a host that hung up with its frames not taken is gone all
			 * the same: nothing it sent matters any more */
			if (s->rx_len == sizeof(s->rx))
				host_gone(s, "hung up");
			read_host(s);
		}
		if (p[P_PTY].revents & (POLLIN | POLLHUP | POLLERR))
			read_output(s, &s->pty, SHELLFRAME_STDOUT);
		if (p[P_OUT].revents & (POLLIN | POLLHUP | POLLERR))
			read_output(s, &s->out_fd, SHELLFRAME_STDOUT);
		if (p[P_ERR].revents & (POLLIN | POLLHUP | POLLERR))
			read_output(s, &s->err_fd, SHELLFRAME_STDERR);
		if (tx_flush(s) < 0)
			host_gone(s, strerror(errno));
	}
}

static void set_nonblock(int fd)
{
	if (fd >= 0)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

void shell_session_run(const struct shell_spec *spec, struct shell_io *io, int conn,
		       const void *owed, size_t owed_len, const void *sent, size_t sent_len)
{
	struct session *s = &session;
	int keep[] = { conn,	   io->pty,    io->slave,  io->in[0], io->in[1],
		       io->out[0], io->out[1], io->err[0], io->err[1] };
	sigset_t set;
	pid_t pid;

	/* out of the agent's session and process group: what is sent to the
	 * agent's is not for the shell */
	setsid();
	prctl(PR_SET_NAME, "porthole-shell");
	close_all_but(keep, ARRAY_SIZE(keep));
	*s = (struct session){ .conn = conn,
			       .sigfd = -1,
			       .tty = spec->tty,
			       .pty = io->pty,
			       .in_fd = io->in[1],
			       .out_fd = io->out[0],
			       .err_fd = io->err[0],
			       .last_in = -1 };
	/* SIGCHLD and the signals that end the session, read from a
	 * signalfd; nothing else blocked (the agent blocks more) */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_SETMASK, &set, NULL);
	s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	/* the reply and what came before it go first; room kept after them
	 * for the output and the last frame */
	s->tx_cap = owed_len + SESSION_TX_MAX + SHELLFRAME_HEADER + SHELLFRAME_ERROR_MAX;
	s->tx = malloc(s->tx_cap);
	if (!s->tx || s->sigfd < 0) {
		log_error("porthole-shell: session %d: %s", (int)getpid(),
			  s->tx ? strerror(errno) : "out of memory");
		_exit(1);
	}
	if (owed_len)
		memcpy(s->tx, owed, owed_len);
	s->tx_len = owed_len;
	set_nonblock(s->conn);
	if (sent_len > sizeof(s->rx))
		end_session(s, "the host sent %zu bytes before the reply, more than %zu", sent_len,
			    sizeof(s->rx));
	if (sent_len)
		memcpy(s->rx, sent, sent_len);
	s->rx_len = sent_len;

	pid = fork();
	if (pid < 0)
		end_session(s, "the command could not be started: fork: %s", strerror(errno));
	if (pid == 0)
		run_command(spec, io);
	s->pid = pid;
	/* the command's ends are the command's */
	close_fd(&io->slave);
	close_fd(&io->in[0]);
	close_fd(&io->out[1]);
	close_fd(&io->err[1]);
	set_nonblock(s->pty);
	set_nonblock(s->in_fd);
	set_nonblock(s->out_fd);
	set_nonblock(s->err_fd);
	log_info("porthole-shell: session %d: %s runs as process %d, %s%s", (int)getpid(),
		 spec->file, (int)pid, spec->tty ? "on " : "without a terminal",
		 spec->tty ? io->pts : "");
	relay(s);
}
