/* porthole shell, and porthole exec -t / -i: a command in the guest on a
 * connection of its own (porthole-shell, docs/protocol.md), relayed in
 * frames (lib/shellframe.h) between it and porthole's stdin, stdout and
 * stderr. With a pty asked for and a terminal on stdin, the terminal is put
 * in raw mode, so that every key (Ctrl-C, Ctrl-Z, Ctrl-D) goes to the
 * guest's pty and its line discipline, and is restored on every way out;
 * SIGWINCH sends the new window size. Signals are read from a signalfd, so
 * none ends porthole with the terminal left raw. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "shellframe.h"
#include "util.h"

/* Frames for the guest not yet sent: stdin is not read while this much
 * waits (a guest command that does not read its input stops ours). */
#define SESSION_TX_MAX (2 * SHELLFRAME_MAX)
#define SESSION_RX_MAX (2 * SHELLFRAME_MAX)
#define SESSION_ENV_MAX 64
/* How long the close waits for the agent's side after the exit. */
#define SESSION_CLOSE_MS 250

/* The terminal as it was, restored at exit whatever the path (atexit too,
 * should one be missed). */
static struct termios saved_termios;
static bool raw_mode;

static void restore_terminal(void)
{
	if (!raw_mode)
		return;
	tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
	raw_mode = false;
}

/* A signal that porthole does not read as data (those are blocked, for its
 * signalfd) ends it as it would have, the terminal restored first:
 * tcsetattr(3) is async-signal-safe. A fault (SIGSEGV) comes back at the
 * same instruction once the handler returns, and then ends porthole. */
static void restore_and_die(int sig)
{
	if (raw_mode)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* cfmakeraw(3): no echo, no line editing, no signals from keys, no output
 * processing (the guest's pty turns "\n" into "\r\n" itself). */
static int make_raw(void)
{
	static const int deadly[] = { SIGABRT, SIGALRM,	  SIGBUS,  SIGFPE, SIGILL,  SIGIO,
				      SIGPROF, SIGPWR,	  SIGSEGV, SIGSYS, SIGTRAP, SIGUSR1,
				      SIGUSR2, SIGVTALRM, SIGXCPU, SIGXFSZ };
	static bool registered;
	struct termios raw;

	if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
		return -errno;
	raw = saved_termios;
	cfmakeraw(&raw);
	if (!registered) {
		atexit(restore_terminal);
		for (size_t i = 0; i < ARRAY_SIZE(deadly); i++)
			signal(deadly[i], restore_and_die);
		registered = true;
	}
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) < 0)
		return -errno;
	raw_mode = true;
	return 0;
}

struct relay {
	const char *address;
	const char *what; /* the command, for messages */
	int fd;
	int sigfd;
	int winsize_fd; /* the terminal whose size the guest's follows, or -1 */
	bool stdin_open;
	bool eof_due; /* stdin ended: stdin-eof to send */
	bool resize_due;
	uint64_t signals_due; /* bit N-1: signal N to send */
	uint8_t rx[SESSION_RX_MAX];
	size_t rx_len;
	bool rx_started;
	uint8_t tx[SESSION_TX_MAX];
	size_t tx_off, tx_len;
};

/* The size of the terminal on FD, when it has one that is known. */
static bool window_size(int fd, unsigned *rows, unsigned *cols)
{
	struct winsize ws;

	if (fd < 0 || ioctl(fd, TIOCGWINSZ, &ws) < 0 || !ws.ws_row || !ws.ws_col)
		return false;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return true;
}

/* $TERM when it is a terminal type the agent takes. */
static const char *term_name(void)
{
	const char *t = getenv("TERM");
	size_t len = t ? strlen(t) : 0;

	if (len < 1 || len > 64)
		return NULL;
	for (const char *p = t; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && !strchr("._+-", *p))
			return NULL;
	return t;
}

/* Writes all of LEN bytes to FD, waiting when it is non-blocking. */
static int out_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			poll(&pfd, 1, -1);
			continue;
		}
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static size_t tx_room(struct relay *s)
{
	if (s->tx_off == s->tx_len)
		s->tx_off = s->tx_len = 0;
	if (s->tx_off && sizeof(s->tx) - s->tx_len < SHELLFRAME_MAX) {
		memmove(s->tx, s->tx + s->tx_off, s->tx_len - s->tx_off);
		s->tx_len -= s->tx_off;
		s->tx_off = 0;
	}
	return sizeof(s->tx) - s->tx_len;
}

/* The small frames owed (the window's size, signals, stdin's end) go as
 * soon as there is room for them: they never wait for room for input. */
static void queue_control(struct relay *s)
{
	unsigned rows, cols;
	long n;

	if (s->resize_due && tx_room(s) >= SHELLFRAME_HEADER + 4) {
		s->resize_due = false;
		if (window_size(s->winsize_fd, &rows, &cols) && rows <= 0xffff && cols <= 0xffff &&
		    (n = shellframe_encode_resize(s->tx + s->tx_len, tx_room(s), rows, cols)) > 0)
			s->tx_len += (size_t)n;
	}
	for (int sig = 1; sig <= SHELLFRAME_SIGNAL_MAX && s->signals_due; sig++) {
		if (!(s->signals_due & (1ull << (sig - 1))) || tx_room(s) < SHELLFRAME_HEADER + 1)
			continue;
		s->signals_due &= ~(1ull << (sig - 1));
		n = shellframe_encode_signal(s->tx + s->tx_len, tx_room(s), sig);
		if (n > 0)
			s->tx_len += (size_t)n;
	}
	if (s->eof_due && tx_room(s) >= SHELLFRAME_HEADER) {
		s->eof_due = false;
		n = shellframe_encode_eof(s->tx + s->tx_len, tx_room(s));
		if (n > 0)
			s->tx_len += (size_t)n;
	}
}

/* Reads stdin straight into a stdin frame; its end is sent as stdin-eof,
 * and so is a read error (a terminal hung up: EIO). */
static void read_stdin(struct relay *s)
{
	size_t room = tx_room(s), want;
	ssize_t n;

	if (room <= SHELLFRAME_HEADER)
		return;
	want = room - SHELLFRAME_HEADER;
	if (want > SHELLFRAME_DATA_MAX)
		want = SHELLFRAME_DATA_MAX;
	n = read(STDIN_FILENO, s->tx + s->tx_len + SHELLFRAME_HEADER, want);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		s->stdin_open = false;
		s->eof_due = true;
		return;
	}
	shellframe_put_header(s->tx + s->tx_len, SHELLFRAME_STDIN, (size_t)n);
	s->tx_len += SHELLFRAME_HEADER + (size_t)n;
}

static int flush(struct relay *s)
{
	while (s->tx_off < s->tx_len) {
		ssize_t n = send(s->fd, s->tx + s->tx_off, s->tx_len - s->tx_off,
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

/* The agent's error text, its control characters made harmless: it goes
 * to a terminal. */
static void print_error_frame(struct relay *s, const struct shellframe *f)
{
	char text[SHELLFRAME_ERROR_MAX + 1];

	for (size_t i = 0; i < f->len; i++)
		text[i] = f->data[i] < 0x20 || f->data[i] == 0x7f ? '?' : (char)f->data[i];
	text[f->len] = '\0';
	restore_terminal();
	cli_error("the session on %s ended: %s", s->address, text);
}

/* Takes the guest's frames: output is written as it comes (blocking: a
 * full stdout stops the reading of the connection, and the guest's output
 * with it). Returns -1 to go on, or porthole's exit status. */
static int take_frames(struct relay *s)
{
	char why[SHELLFRAME_WHY_MAX];
	size_t off = 0;
	int r, status = -1;

	if (!s->rx_started) {
		off = shellframe_skip_space(s->rx, s->rx_len);
		s->rx_started = off < s->rx_len;
	}
	while (status < 0 && off < s->rx_len) {
		struct shellframe f;
		long n = shellframe_decode(s->rx + off, s->rx_len - off, SHELLFRAME_FROM_GUEST, &f,
					   why, sizeof(why));

		if (n == 0)
			break;
		if (n < 0) {
			restore_terminal();
			cli_error("from %s: a bad frame: %s", s->address, why);
			return CLI_EXIT_CONNECT;
		}
		off += (size_t)n;
		switch (f.type) {
		case SHELLFRAME_STDOUT:
		case SHELLFRAME_STDERR:
			r = out_all(f.type == SHELLFRAME_STDOUT ? STDOUT_FILENO : STDERR_FILENO,
				    f.data, f.len);
			if (r == -EPIPE) {
				/* what a command whose reader has gone gets */
				status = 128 + SIGPIPE;
			} else if (r < 0) {
				restore_terminal();
				cli_error("write to %s: %s",
					  f.type == SHELLFRAME_STDOUT ? "stdout" : "stderr",
					  strerror(-r));
				status = CLI_EXIT_CONNECT;
			}
			break;
		case SHELLFRAME_EXIT:
			restore_terminal();
			if (f.signal) {
				cli_error("%s: killed by signal %d", s->what, f.signal);
				status = 128 + f.signal;
			} else {
				status = f.exit_code;
			}
			break;
		case SHELLFRAME_ERROR:
			print_error_frame(s, &f);
			status = CLI_EXIT_CONNECT;
			break;
		default:
			break; /* the decoder takes only the guest's */
		}
	}
	memmove(s->rx, s->rx + off, s->rx_len - off);
	s->rx_len -= off;
	return status;
}

/* Returns -1 to go on, or porthole's exit status. */
static int take_signals(struct relay *s)
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
		int sig = (int)si.ssi_signo;

		switch (sig) {
		case SIGWINCH:
			s->resize_due = true;
			break;
		case SIGINT:
		case SIGQUIT:
			/* keys of a terminal that is not raw, or kill(1): for the
			 * guest's command */
			s->signals_due |= 1ull << (sig - 1);
			break;
		default:
			/* SIGTERM, SIGHUP: porthole is ended; the agent hangs the
			 * command up when the connection closes */
			restore_terminal();
			return 128 + sig;
		}
	}
	return -1;
}

static int relay_run(struct relay *s)
{
	for (;;) {
		enum { P_CONN, P_SIG, P_IN, P_N };
		struct pollfd p[P_N] = {
			[P_CONN] = { .fd = s->fd, .events = POLLIN },
			[P_SIG] = { .fd = s->sigfd, .events = POLLIN },
			[P_IN] = { .fd = -1, .events = POLLIN },
		};
		int status, r;
		ssize_t n;

		queue_control(s);
		if (s->tx_off < s->tx_len)
			p[P_CONN].events |= POLLOUT;
		if (s->stdin_open && tx_room(s) > SHELLFRAME_HEADER)
			p[P_IN].fd = STDIN_FILENO;
		if (poll(p, P_N, -1) < 0 && errno != EINTR) {
			restore_terminal();
			cli_error("poll: %s", strerror(errno));
			return CLI_EXIT_CONNECT;
		}
		if (p[P_SIG].revents && (status = take_signals(s)) >= 0)
			return status;
		/* EPIPE: the agent has closed; reading says how it ended */
		if ((p[P_CONN].revents & POLLOUT) && (r = flush(s)) < 0 && r != -EPIPE) {
			restore_terminal();
			cli_error("write to %s: %s", s->address, strerror(-r));
			return CLI_EXIT_CONNECT;
		}
		if (p[P_CONN].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(s->fd, s->rx + s->rx_len, sizeof(s->rx) - s->rx_len, MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				restore_terminal();
				cli_error("read from %s: %s", s->address, strerror(errno));
				return CLI_EXIT_CONNECT;
			}
			if (n == 0) {
				restore_terminal();
				cli_error("%s closed the session without an exit status",
					  s->address);
				return CLI_EXIT_CONNECT;
			}
			if (n > 0)
				s->rx_len += (size_t)n;
			status = take_frames(s);
			if (status >= 0)
				return status;
		}
		if (p[P_IN].revents & (POLLIN | POLLHUP | POLLERR))
			read_stdin(s);
		if ((r = flush(s)) < 0 && r != -EPIPE) {
			restore_terminal();
			cli_error("write to %s: %s", s->address, strerror(-r));
			return CLI_EXIT_CONNECT;
		}
	}
}

/* Closes the connection after the exit: what the agent still sends is read
 * first (a close with bytes unread resets its side), for a bounded time. */
static void close_session(int fd)
{
	uint64_t deadline = now_mono_ns() + SESSION_CLOSE_MS * NSEC_PER_MSEC;
	char buf[4096];

	shutdown(fd, SHUT_WR);
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		if (n < 0 && errno == EAGAIN && fd_wait(fd, POLLIN, deadline) == 0)
			continue;
		break;
	}
	close(fd);
}

int cli_session(struct cli *cli, const char *what, json_t *argv, json_t *env, bool tty)
{
	static struct relay s;
	static char vsock[256];
	json_t *args = json_object(), *result = NULL;
	char *early = NULL;
	size_t early_len = 0;
	unsigned rows, cols;
	sigset_t set;
	int r;

	s = (struct relay){ .what = what, .fd = -1, .sigfd = -1, .winsize_fd = -1 };
	if (tty)
		s.winsize_fd = isatty(STDIN_FILENO)    ? STDIN_FILENO
			       : isatty(STDOUT_FILENO) ? STDOUT_FILENO
						       : -1;
	if (!args || json_object_set_new(args, "tty", json_boolean(tty)) < 0 ||
	    (argv && json_object_set(args, "argv", argv) < 0) ||
	    (env && json_array_size(env) && json_object_set(args, "env", env) < 0) ||
	    (tty && window_size(s.winsize_fd, &rows, &cols) && rows <= 0xffff && cols <= 0xffff &&
	     (json_object_set_new(args, "rows", json_integer(rows)) < 0 ||
	      json_object_set_new(args, "cols", json_integer(cols)) < 0)) ||
	    (tty && term_name() &&
	     json_object_set_new(args, "term", json_string(term_name())) < 0)) {
		json_decref(args);
		cli_error("out of memory");
		return CLI_EXIT_CONNECT;
	}
	/* A session needs a connection of its own, which the virtio-serial
	 * port that porthole uses by default is not: make run's VM is reached
	 * over vsock instead, when it has it. */
	if (!cli->address && cli_vsock_address(CLI_AGENT_VSOCK_PORT, vsock, sizeof(vsock)) == 0)
		cli->address = vsock;
	r = cli_call(cli, "porthole-shell", args, &result);
	json_decref(args);
	json_decref(result);
	if (r != CLI_EXIT_OK)
		return r;
	/* the connection is the session's from here on: frames, not replies */
	r = client_detach(cli->c, &s.fd, &early, &early_len);
	if (r < 0) {
		cli_error("out of memory");
		return CLI_EXIT_CONNECT;
	}
	cli->c = NULL;
	s.address = cli->address;

	/* Signals as data from here on: a terminal left raw by a signal that
	 * ended porthole would be a broken terminal. SIGPIPE (a reader of our
	 * stdout that went) is an error from write(2) instead. */
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	s.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s.sigfd < 0) {
		cli_error("signalfd: %s", strerror(errno));
		free(early);
		close(s.fd);
		return CLI_EXIT_CONNECT;
	}
	s.stdin_open = true;
	if (tty && isatty(STDIN_FILENO) && make_raw() < 0)
		cli_error("stdin: cannot put the terminal in raw mode (%s), going on without",
			  strerror(errno));
	/* What came with the reply, a piece at a time: one read may have
	 * brought more than rx holds. take_frames leaves less than a frame,
	 * so each piece finds room. */
	r = -1;
	for (size_t off = 0, n; r < 0 && off < early_len; off += n) {
		n = sizeof(s.rx) - s.rx_len;
		if (n > early_len - off)
			n = early_len - off;
		memcpy(s.rx + s.rx_len, early + off, n);
		s.rx_len += n;
		r = take_frames(&s);
	}
	free(early);
	if (r < 0)
		r = relay_run(&s);
	restore_terminal();
	close_session(s.fd);
	close(s.sigfd);
	return r;
}

static const struct option shell_longs[] = {
	{ "env", required_argument, NULL, 'e' },
	{ 0 },
};
const struct cli_options cli_shell_options = { "+", shell_longs };

int cli_shell(struct cli *cli, int argc, char **argv)
{
	json_t *env = json_array();
	int c, r = CLI_EXIT_OK;

	optind = 1;
	while (r == CLI_EXIT_OK && (c = getopt_long(argc, argv, cli_shell_options.shorts,
						    cli_shell_options.longs, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=')
				r = cli_usage_error(argv[0], "--env wants NAME=VALUE, not %s",
						    optarg);
			else if (json_array_size(env) >= SESSION_ENV_MAX)
				r = cli_usage_error(argv[0], "at most %d --env", SESSION_ENV_MAX);
			else
				json_array_append_new(env, json_string(optarg));
			break;
		default:
			r = cli_usage_error(argv[0], "bad option");
		}
	}
	if (r == CLI_EXIT_OK && optind < argc)
		r = cli_usage_error(
			argv[0],
			"shell runs the login shell; porthole exec -t -- CMD [ARG...] runs "
			"a command");
	if (r == CLI_EXIT_OK)
		r = cli_session(cli, "shell", NULL, env, true);
	json_decref(env);
	return r;
}
