/* init/tool.c: an external program's status as the caller sees it (exit
 * status, 128+N for a signal, -ENOENT, -ETIMEDOUT at the deadline, also for
 * one that closed its output and runs on), and its output in init's log as
 * "NAME: line", bounded. Runs /bin/sh for real; the log is read back from a
 * file put in place of stderr. */
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
#include <unistd.h>

#include "log.h"
#include "stderr-capture.h"
#include "tool.h"
#include "util.h"

static char logged[64 * 1024];

/* Runs SCRIPT through tool_run with the log caught in LOGGED. */
static int run_sh(const char *script, unsigned timeout_s)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	struct stderr_capture c;
	int r;

	stderr_capture_start(&c);
	r = tool_run(argv, timeout_s);
	stderr_capture_stop(&c, logged, sizeof(logged));
	return r;
}

static void test_status_and_output(void **state)
{
	(void)state;
	assert_int_equal(run_sh("echo one; echo two >&2; printf 'no newline'; exit 3", 10), 3);
	assert_non_null(strstr(logged, "test: sh: one\n"));
	assert_non_null(strstr(logged, "test: sh: two\n"));
	/* the last line, without its newline, is logged all the same */
	assert_non_null(strstr(logged, "test: sh: no newline\n"));
	assert_int_equal(run_sh("exit 0", 10), 0);
}

static void test_signal_and_missing(void **state)
{
	char *missing[] = { "/nonexistent/mke2fs", NULL };

	(void)state;
	assert_int_equal(run_sh("kill -9 $$", 10), 128 + 9);
	assert_int_equal(tool_run(missing, 10), -ENOENT);
}

static void test_deadline(void **state)
{
	uint64_t t0 = now_mono_ns();

	(void)state;
	assert_int_equal(run_sh("echo working; sleep 30", 1), -ETIMEDOUT);
	assert_non_null(strstr(logged, "sh: killed after 1 s"));
	/* one that closes its output and runs on is killed at the deadline too */
	assert_int_equal(run_sh("exec >/dev/null 2>&1; sleep 30", 1), -ETIMEDOUT);
	assert_true(now_mono_ns() - t0 < 10 * NSEC_PER_SEC);
}

static void test_output_bounded(void **state)
{
	(void)state;
	/* 40000 bytes in 400 lines: 16 KiB logged, the rest counted */
	assert_int_equal(run_sh("i=0; while [ $i -lt 400 ]; do "
				"printf '%099d\\n' $i; i=$((i+1)); done",
				10),
			 0);
	assert_non_null(strstr(logged, "sh: 23616 more bytes of output not logged"));
	assert_null(strstr(logged, "0000399\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_and_output),
		cmocka_unit_test(test_signal_and_missing),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_output_bounded),
	};

	log_setup("test");
	log_set_level(LOG_LEVEL_INFO);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
