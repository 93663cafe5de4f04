/* agent/cmd-shell.c and agent/shell-session.c: porthole-shell's arguments
 * refused with errors that name them, and real sessions, a pty's and
 * pipes', run on one end of a socket pair as the agent's fork runs them,
 * with this test as the host on the other: what the client is owed comes
 * first, then the frames; the exit code and signal; input sent with the
 * request; stdout and stderr apart; a bad frame, a signal frame and the
 * host's hang-up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "agent-test.h"
#include "cmd-shell.h"
#include "shell-session.h"
#include "shellframe.h"
#include "util.h"

static void test_table(void **state)
{
	(void)state;
	check_table(cmd_shell_table, 1);
}

static void test_arguments_refused(void **state)
{
	(void)state;
	assert_int_equal(loop_new(&agent.loop), 0);
	call_fails_exactly("porthole-shell", "{\"rows\": 0}",
			   "Parameter 'rows' must be 1 to 65535");
	call_fails_exactly("porthole-shell", "{\"cols\": 65536}",
			   "Parameter 'cols' must be 1 to 65535");
	call_fails("porthole-shell", "{\"term\": \"xterm\\u001b[31m\"}",
		   "Parameter 'term' must be a terminal type");
	call_fails("porthole-shell", "{\"term\": \"\"}",
		   "Parameter 'term' must be a terminal type");
	call_fails("porthole-shell", "{\"argv\": []}", "Parameter 'argv' must name a program");
	call_fails("porthole-shell", "{\"argv\": [\"\", \"x\"]}",
		   "Parameter 'argv' must name a program");
	call_fails_exactly("porthole-shell", "{\"argv\": [\"sh\"], \"env\": [\"A=1\", \"B\"]}",
			   "Parameter 'env': element 1 is not NAME=VALUE");
	call_fails_exactly("porthole-shell", "{\"argv\": [\"sh\"], \"env\": [\"=x\"]}",
			   "Parameter 'env': element 0 is not NAME=VALUE");
	call_fails_exactly("porthole-shell", "{\"argv\": [\"no-such-program-here\"]}",
			   "porthole-shell: cannot run \"no-such-program-here\" (No such file or "
			   "directory)");
	/* all well, but a handler called without a connection has none to
	 * hand over: said, and nothing started */
	call_fails("porthole-shell", "{\"argv\": [\"sh\"]}", "came from no connection");
	assert_int_equal(shell_sessions_open(&agent), 0);
	cmd_shell_free(&agent);
	loop_free(agent.loop);
	agent.loop = NULL;
}

static char *argv_sh[4];
static char *envp_default[] = { "PATH=/usr/local/bin:/usr/bin:/bin", "TERM=xterm", NULL };

static struct shell_spec spec_sh(const char *script, bool tty)
{
	struct shell_spec s = { .tty = tty, .rows = 24, .cols = 80 };

	snprintf(s.file, sizeof(s.file), "/bin/sh");
	snprintf(s.dir, sizeof(s.dir), "/");
	argv_sh[0] = "sh";
	argv_sh[1] = "-c";
	argv_sh[2] = (char *)script;
	argv_sh[3] = NULL;
	s.argv = argv_sh;
	s.envp = envp_default;
	return s;
}

/* The session, as the agent forks it; the host's end of the pair back. */
static int start(const struct shell_spec *spec, const char *owed, const void *sent, size_t sent_len,
		 pid_t *ret_pid)
{
	struct shell_io io;
	char why[256];
	int sv[2];
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	shell_io_init(&io);
	if (shell_io_open(&io, spec, why, sizeof(why)) < 0)
		fail_msg("shell_io_open: %s", why);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		shell_session_run(spec, &io, sv[1], owed, strlen(owed), sent, sent_len);
	}
	shell_io_close(&io);
	close(sv[1]);
	*ret_pid = pid;
	return sv[0];
}

struct seen {
	char owed[64];
	char out[8192], err[1024], error[SHELLFRAME_ERROR_MAX + 1];
	size_t out_len, err_len;
	int exit_code, signal;
	bool exited;
};

/* Reads until the session closes (10 s at most): the OWED_LEN bytes owed,
 * then frames. */
static void read_session(int fd, size_t owed_len, struct seen *w)
{
	static uint8_t buf[1 << 20];
	uint64_t deadline = now_mono_ns() + 10 * NSEC_PER_SEC;
	size_t len = 0, off;
	char why[SHELLFRAME_WHY_MAX];

	memset(w, 0, sizeof(*w));
	for (;;) {
		ssize_t n;

		if (fd_wait(fd, POLLIN, deadline) < 0)
			fail_msg("the session did not close within 10 s");
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	assert_true(len >= owed_len);
	memcpy(w->owed, buf, owed_len);
	off = owed_len + shellframe_skip_space(buf + owed_len, len - owed_len);
	while (off < len) {
		struct shellframe f;
		long n = shellframe_decode(buf + off, len - off, SHELLFRAME_FROM_GUEST, &f, why,
					   sizeof(why));

		if (n <= 0)
			fail_msg("a frame from the session: %ld %s", n, why);
		off += (size_t)n;
		if (f.type == SHELLFRAME_STDOUT && w->out_len + f.len < sizeof(w->out)) {
			memcpy(w->out + w->out_len, f.data, f.len);
			w->out_len += f.len;
		} else if (f.type == SHELLFRAME_STDERR && w->err_len + f.len < sizeof(w->err)) {
			memcpy(w->err + w->err_len, f.data, f.len);
			w->err_len += f.len;
		} else if (f.type == SHELLFRAME_EXIT) {
			w->exited = true;
			w->exit_code = f.exit_code;
			w->signal = f.signal;
		} else if (f.type == SHELLFRAME_ERROR) {
			memcpy(w->error, f.data, f.len);
		}
	}
}

static int reap(pid_t pid)
{
	int status = -1;

	for (int i = 0; i < 1000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10000);
	}
	fail_msg("the session process did not end within 10 s");
	return status;
}

static void test_pty_session(void **state)
{
	struct shell_spec spec = spec_sh("tty; stty size; exit 3", true);
	static struct seen w;
	pid_t pid;
	int fd;

	(void)state;
	spec.rows = 33;
	spec.cols = 99;
	fd = start(&spec, "{\"return\": {}}\n", NULL, 0, &pid);
	read_session(fd, 15, &w);
	/* the reply the client was owed, then the command's output */
	assert_string_equal(w.owed, "{\"return\": {}}\n");
	assert_non_null(strstr(w.out, "/dev/pts/"));
	assert_non_null(strstr(w.out, "33 99\r\n"));
	assert_true(w.exited);
	assert_int_equal(w.exit_code, 3);
	assert_int_equal(w.err_len, 0);
	close(fd);
	assert_true(WIFEXITED(reap(pid)));
}

static void test_pipe_session_with_early_input(void **state)
{
	struct shell_spec spec = spec_sh("cat; echo err >&2", false);
	static struct seen w;
	uint8_t sent[64];
	size_t len = 0;
	pid_t pid;
	int fd;

	(void)state;
	/* sent right behind the request: a newline, the input and its end */
	sent[len++] = '\n';
	len += (size_t)shellframe_encode_data(sent + len, sizeof(sent) - len, SHELLFRAME_STDIN,
					      "hello\n", 6);
	len += (size_t)shellframe_encode_eof(sent + len, sizeof(sent) - len);
	fd = start(&spec, "", sent, len, &pid);
	read_session(fd, 0, &w);
	assert_int_equal(w.out_len, 6);
	assert_memory_equal(w.out, "hello\n", 6);
	assert_string_equal(w.err, "err\n");
	assert_true(w.exited);
	assert_int_equal(w.exit_code, 0);
	close(fd);
	reap(pid);
}

static void test_signal_frame(void **state)
{
	struct shell_spec spec = spec_sh("exec sleep 100", false);
	static struct seen w;
	uint8_t sent[8];
	long n = shellframe_encode_signal(sent, sizeof(sent), SIGTERM);
	pid_t pid;
	int fd;

	(void)state;
	fd = start(&spec, "", sent, (size_t)n, &pid);
	read_session(fd, 0, &w);
	assert_true(w.exited);
	assert_int_equal(w.exit_code, -1);
	assert_int_equal(w.signal, SIGTERM);
	close(fd);
	reap(pid);
}

/* A frame that is not one: the session says why and ends, its command
 * with it; nothing else is touched (the agent is another process). */
static void test_bad_frame(void **state)
{
	struct shell_spec spec = spec_sh("echo $$; exec sleep 100", false);
	static struct seen w;
	pid_t pid, cmd;
	int fd, status;
	char buf[64] = "";
	ssize_t n;

	(void)state;
	fd = start(&spec, "", NULL, 0, &pid);
	/* the command's pid, once it runs */
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n > 4);
	cmd = atoi(buf + 4);
	assert_true(cmd > 0);
	assert_int_equal(write(fd, "\x01\x00\xff\xff", 4), 4);
	read_session(fd, 0, &w);
	assert_false(w.exited);
	assert_string_equal(w.error, "a bad frame from the host: a stdin frame of 65535 bytes: it "
				     "carries 1 to 32768");
	status = reap(pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	assert_int_equal(kill(cmd, 0), -1);
	close(fd);
}

/* The host goes: the command is hung up and reaped, the session ends. */
static void test_host_hangs_up(void **state)
{
	struct shell_spec spec = spec_sh("echo $$; exec sleep 100", true);
	pid_t pid, cmd;
	char buf[64] = "";
	ssize_t n;
	int fd, status;

	(void)state;
	fd = start(&spec, "", NULL, 0, &pid);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n > 4);
	cmd = atoi(buf + 4);
	assert_true(cmd > 0);
	close(fd);
	status = reap(pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(kill(cmd, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_arguments_refused),
		cmocka_unit_test(test_pty_session),
		cmocka_unit_test(test_pipe_session_with_early_input),
		cmocka_unit_test(test_signal_frame),
		cmocka_unit_test(test_bad_frame),
		cmocka_unit_test(test_host_hangs_up),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
