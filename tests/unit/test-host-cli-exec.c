/* host/cli-exec.c: porthole exec against a scripted agent: the request its
 * command line makes, the polling until the exit, the output written back
 * and the exit status, a time-out, and what it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "host-test.h"

#define EXEC_REPLY "{\"return\": {\"pid\": 4242}, \"id\": 1}\n"
#define STATUS_RUNNING(id) "{\"return\": {\"exited\": false}, \"id\": " #id "}\n"

static void test_output_and_status(void **state)
{
	static const char *const argv[] = {
		"exec", "--env", "A=1", "--", "sh", "-c", "echo out; echo err >&2; exit 3", NULL
	};
	const struct step steps[] = {
		STEP_SYNC,
		{ "\"execute\":\"guest-exec\"", EXEC_REPLY, 0 },
		/* polled until it says exited */
		{ "guest-exec-status", STATUS_RUNNING(2), 0 },
		{ "guest-exec-status",
		  "{\"return\": {\"exited\": true, \"exitcode\": 3, \"out-data\": \"b3V0Cg==\", "
		  "\"err-data\": \"ZXJyCg==\"}, \"id\": 3}\n",
		  0 },
	};
	struct cli_run *run = *state;

	cli_run(run, cli_exec, false, steps, 4, argv);
	assert_int_equal(run->code, 3);
	assert_string_equal(run->out, "out\n");
	assert_string_equal(run->err, "err\n");
	assert_true(peer_got(&run->peer,
			     "{\"execute\":\"guest-exec\",\"id\":1,\"arguments\":{"
			     "\"path\":\"sh\",\"arg\":[\"-c\",\"echo out; echo err "
			     ">&2; exit 3\"],\"env\":[\"A=1\"],\"capture-output\":true}}"));
	assert_true(peer_got(&run->peer, "\"execute\":\"guest-exec-status\",\"id\":3,"
					 "\"arguments\":{\"pid\":4242}"));

	/* --json: the status as it came */
	cli_run(run, cli_exec, true, steps, 4, argv);
	assert_int_equal(run->code, 3);
	assert_string_equal(run->out, "{\"exited\":true,\"exitcode\":3,\"out-data\":\"b3V0Cg==\","
				      "\"err-data\":\"ZXJyCg==\"}\n");
}

static void test_signal_truncation_and_bad_output(void **state)
{
	static const char *const argv[] = { "exec", "yes", NULL };
	const struct step steps[] = {
		STEP_SYNC,
		{ "\"execute\":\"guest-exec\"", EXEC_REPLY, 0 },
		{ "guest-exec-status",
		  "{\"return\": {\"exited\": true, \"signal\": 9, \"out-data\": \"eQp5Cg==\", "
		  "\"out-truncated\": true, \"err-data\": \"not base64!\"}, \"id\": 2}\n",
		  0 },
	};
	struct cli_run *run = *state;

	cli_run(run, cli_exec, false, steps, 3, argv);
	/* as a shell says it: 128 + the signal */
	assert_int_equal(run->code, 137);
	assert_string_equal(run->out, "y\ny\n");
	assert_non_null(strstr(run->err, "yes: the guest truncated the captured stdout"));
	assert_non_null(strstr(run->err, "yes: killed by signal 9"));
	assert_non_null(strstr(run->err, "err-data is not base64, ignoring"));
}

static void test_stdin(void **state)
{
	static const char *const argv[] = { "exec", "--stdin", "cat", NULL };
	const struct step steps[] = {
		STEP_SYNC,
		{ "\"execute\":\"guest-exec\"", EXEC_REPLY, 0 },
		{ "guest-exec-status",
		  "{\"return\": {\"exited\": true, \"exitcode\": 0}, \"id\": 2}\n", 0 },
	};
	char path[] = "/tmp/test-host-cli-exec.XXXXXX";
	int fd = mkstemp(path), saved = dup(STDIN_FILENO);
	struct cli_run *run = *state;

	assert_true(fd >= 0 && saved >= 0);
	unlink(path);
	assert_int_equal(write(fd, "hello\n", 6), 6);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	dup2(fd, STDIN_FILENO);
	close(fd);
	cli_run(run, cli_exec, false, steps, 3, argv);
	dup2(saved, STDIN_FILENO);
	close(saved);
	assert_int_equal(run->code, 0);
	assert_true(peer_got(&run->peer, "\"input-data\":\"aGVsbG8K\""));
	assert_string_equal(run->out, "");
}

static void test_wait_runs_out(void **state)
{
	static const char *const argv[] = { "exec", "--wait", "0.05", "sleep", "60", NULL };
	const struct step steps[] = {
		STEP_SYNC,
		{ "\"execute\":\"guest-exec\"", EXEC_REPLY, 0 },
		{ "guest-exec-status", STATUS_RUNNING(2), 0 },
		{ "guest-exec-status", STATUS_RUNNING(3), 0 },
		{ "guest-exec-status", STATUS_RUNNING(4), 0 },
		{ "guest-exec-status", STATUS_RUNNING(5), 0 },
		{ "guest-exec-status", STATUS_RUNNING(6), 0 },
		{ "guest-exec-status", STATUS_RUNNING(7), 0 },
	};
	struct cli_run *run = *state;

	cli_run(run, cli_exec, false, steps, 8, argv);
	assert_int_equal(run->code, CLI_EXIT_CONNECT);
	assert_non_null(strstr(run->err, "sleep (pid 4242) still runs in the guest after 0.05 s"));
}

static void test_refused_command_lines(void **state)
{
	static const char *const bad[][5] = {
		{ "exec", NULL },
		{ "exec", "--env", "NOEQUALS", "true", NULL },
		{ "exec", "--wait", "0", "true", NULL },
		{ "exec", "--wait", "1e3", "true", NULL },
		{ "exec", "--frobnicate", "true", NULL },
	};
	const struct step steps[] = { STEP_SYNC };
	struct cli_run *run = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cli_run(run, cli_exec, false, steps, 1, bad[i]);
		if (run->code != CLI_EXIT_USAGE)
			fail_msg("command line %zu: exit %d", i, run->code);
		assert_false(peer_got(&run->peer, "guest-exec"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_and_status),
		cmocka_unit_test(test_signal_truncation_and_bad_output),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_wait_runs_out),
		cmocka_unit_test(test_refused_command_lines),
	};

	return cmocka_run_group_tests(tests, cli_run_setup, cli_run_teardown);
}
