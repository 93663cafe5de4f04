/* agent/cmd-exec.c: guest-exec and guest-exec-status driven through a real
 * event loop: capture modes, input, bounds, errors, and qemu-ga's schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent-test.h"
#include "base64.h"
#include "cmd-exec.h"
#include "loop.h"
#include "probe.h"

/* The group's table, and the argument specs the schema gives its commands. */
static void test_table(void **state)
{
	(void)state;
	check_table(cmd_exec_table, 2);
	assert_int_equal(find("guest-exec-status")->args[0].type, ARG_INT);
	assert_true(find("guest-exec")->args[0].required);
}

static void quit_cb(struct loop *l, void *data)
{
	(void)data;
	loop_quit(l);
}

/* Runs the loop for MS milliseconds: pipes are read, children reaped. */
static void spin(unsigned ms)
{
	loop_timer(agent.loop, ms, quit_cb, NULL);
	loop_run(agent.loop);
}

static json_int_t exec_ok(const char *args)
{
	json_t *r = call_ok("guest-exec", args);
	json_int_t pid;

	assert_int_equal(json_object_size(r), 1);
	pid = json_integer_value(json_object_get(r, "pid"));
	assert_true(pid > 0);
	json_decref(r);
	return pid;
}

/* Polls guest-exec-status until it reports the exit (bounded: 8 s, more
 * than the 5 s a background child's pipe is given). */
static json_t *wait_status(json_int_t pid)
{
	static const struct member schema[] = {
		{ "exited", T_BOOL, true },	    { "exitcode", T_INT, false },
		{ "signal", T_INT, false },	    { "out-data", T_STR, false },
		{ "err-data", T_STR, false },	    { "out-truncated", T_BOOL, false },
		{ "err-truncated", T_BOOL, false }, { NULL, T_STR, false },
	};
	char args[64];

	snprintf(args, sizeof(args), "{\"pid\": %lld}", (long long)pid);
	for (int i = 0; i < 800; i++) {
		json_t *r = call_ok("guest-exec-status", args);

		check_struct(r, schema, "GuestExecStatus");
		if (json_is_true(json_object_get(r, "exited")))
			return r;
		/* while running: nothing but exited */
		assert_int_equal(json_object_size(r), 1);
		json_decref(r);
		spin(10);
	}
	fail_msg("process %lld did not exit", (long long)pid);
	return NULL;
}

static void assert_b64(json_t *r, const char *key, const char *expect)
{
	const char *s = json_string_value(json_object_get(r, key));
	void *dec;
	size_t len;

	assert_non_null(s);
	assert_int_equal(base64_decode(s, strlen(s), 0, &dec, &len), 0);
	assert_int_equal(len, strlen(expect));
	assert_memory_equal(dec, expect, len);
	free(dec);
}

static int exec_setup(void **state)
{
	(void)state;
	memset(&agent, 0, sizeof(agent));
	agent.cfg.exec_enabled = true;
	agent.cfg.exec_output_max = 1000;
	return loop_new(&agent.loop);
}

static int exec_teardown(void **state)
{
	(void)state;
	cmd_exec_free(&agent);
	assert_null(agent.exec);
	loop_free(agent.loop);
	agent.loop = NULL;
	return 0;
}

static void test_exec_flags(void **state)
{
	(void)state;
	assert_true(find("guest-exec")->flags & CMD_DISABLED_BY_DEFAULT);
	assert_true(find("guest-exec-status")->flags & CMD_DISABLED_BY_DEFAULT);
}

static void test_exec_echo(void **state)
{
	json_int_t pid;
	json_t *r;
	char args[64];

	(void)state;
	pid = exec_ok("{\"path\": \"/bin/echo\", \"arg\": [\"hello\"], \"capture-output\": true}");
	r = wait_status(pid);
	assert_int_equal(json_integer_value(json_object_get(r, "exitcode")), 0);
	assert_null(json_object_get(r, "signal"));
	assert_b64(r, "out-data", "hello\n");
	assert_true(json_is_false(json_object_get(r, "out-truncated")));
	/* no stderr output: no err-data */
	assert_null(json_object_get(r, "err-data"));
	json_decref(r);
	/* reported once, then forgotten, as qemu-ga does */
	snprintf(args, sizeof(args), "{\"pid\": %lld}", (long long)pid);
	call_fails("guest-exec-status", args, "Invalid parameter 'pid'");
}

static void test_exec_streams(void **state)
{
	json_t *r;

	(void)state;
	/* separated, exit code and PATH search */
	r = wait_status(
		exec_ok("{\"path\": \"sh\", \"arg\": [\"-c\", \"echo out; echo err >&2; exit "
			"3\"], \"capture-output\": \"separated\"}"));
	assert_int_equal(json_integer_value(json_object_get(r, "exitcode")), 3);
	assert_b64(r, "out-data", "out\n");
	assert_b64(r, "err-data", "err\n");
	json_decref(r);
	/* merged: both in out-data */
	r = wait_status(
		exec_ok("{\"path\": \"/bin/sh\", \"arg\": [\"-c\", \"echo a; echo b >&2\"], "
			"\"capture-output\": \"merged\"}"));
	assert_b64(r, "out-data", "a\nb\n");
	assert_null(json_object_get(r, "err-data"));
	json_decref(r);
	/* stderr only */
	r = wait_status(
		exec_ok("{\"path\": \"/bin/sh\", \"arg\": [\"-c\", \"echo a; echo b >&2\"], "
			"\"capture-output\": \"stderr\"}"));
	assert_null(json_object_get(r, "out-data"));
	assert_b64(r, "err-data", "b\n");
	json_decref(r);
	/* no capture: no data at all */
	r = wait_status(exec_ok("{\"path\": \"/bin/echo\", \"arg\": [\"x\"], \"capture-output\": "
				"false}"));
	assert_int_equal(json_object_size(r), 2); /* exited, exitcode */
	json_decref(r);
	/* env replaces the environment */
	r = wait_status(exec_ok("{\"path\": \"/usr/bin/env\", \"env\": [\"A=1\"], "
				"\"capture-output\": true}"));
	assert_b64(r, "out-data", "A=1\n");
	json_decref(r);
}

static void test_exec_input(void **state)
{
	json_t *r;

	(void)state;
	/* "hello" */
	r = wait_status(exec_ok("{\"path\": \"/bin/cat\", \"input-data\": \"aGVsbG8=\", "
				"\"capture-output\": true}"));
	assert_b64(r, "out-data", "hello");
	json_decref(r);
	/* without input-data, stdin is /dev/null: cat ends at once */
	r = wait_status(exec_ok("{\"path\": \"/bin/cat\", \"capture-output\": true}"));
	assert_int_equal(json_integer_value(json_object_get(r, "exitcode")), 0);
	assert_null(json_object_get(r, "out-data"));
	json_decref(r);
	/* input the process never reads: EPIPE, not a dead agent */
	r = wait_status(exec_ok("{\"path\": \"/bin/true\", \"input-data\": \"aGVsbG8=\"}"));
	assert_int_equal(json_integer_value(json_object_get(r, "exitcode")), 0);
	json_decref(r);
}

static void test_exec_bounds(void **state)
{
	json_t *r;
	json_int_t pids[64];
	const char *s;

	(void)state;
	/* past exec_output_max (1000 here): cut, and said so */
	r = wait_status(exec_ok("{\"path\": \"/usr/bin/head\", \"arg\": [\"-c\", \"100000\", "
				"\"/dev/zero\"], \"capture-output\": true}"));
	assert_true(json_is_true(json_object_get(r, "out-truncated")));
	s = json_string_value(json_object_get(r, "out-data"));
	assert_int_equal(strlen(s), (1000 + 2) / 3 * 4);
	assert_int_equal(json_integer_value(json_object_get(r, "exitcode")), 0);
	json_decref(r);
	/* killed by a signal: signal, no exitcode */
	r = wait_status(exec_ok("{\"path\": \"/bin/sh\", \"arg\": [\"-c\", \"kill -9 $$\"]}"));
	assert_int_equal(json_integer_value(json_object_get(r, "signal")), 9);
	assert_null(json_object_get(r, "exitcode"));
	json_decref(r);
	/* 64 processes not collected: the 65th is refused, then all collected */
	for (size_t i = 0; i < 64; i++)
		pids[i] = exec_ok("{\"path\": \"/bin/true\"}");
	call_fails("guest-exec", "{\"path\": \"/bin/true\"}", "64 processes");
	for (size_t i = 0; i < 64; i++)
		json_decref(wait_status(pids[i]));
	json_decref(wait_status(exec_ok("{\"path\": \"/bin/true\"}")));
}

/* a program that cannot run: the exec's own error, as the launcher reports it */
static void test_exec_spawn_errors(void **state)
{
	(void)state;
	PROBE_SKIP_UNLESS(probe_spawn_errors());
	call_fails("guest-exec", "{\"path\": \"/nonexistent/x\"}",
		   "Failed to execute child process \"/nonexistent/x\" (No such file");
	call_fails("guest-exec", "{\"path\": \"no-such-program-here\"}", "No such file");
	/* PATH from the given environment, as qemu-ga's g_spawn does */
	call_fails("guest-exec", "{\"path\": \"env\", \"env\": [\"PATH=/nonexistent\"]}",
		   "No such file");
	call_fails("guest-exec", "{\"path\": \"/etc\"}", "Failed to execute");
}

static void test_exec_errors(void **state)
{
	(void)state;
	call_fails("guest-exec", "{\"path\": \"\"}", "path");
	call_fails("guest-exec", "{\"path\": \"/bin/cat\", \"input-data\": \"!!!\"}",
		   "invalid base64");
	call_fails("guest-exec", "{\"path\": \"/bin/true\", \"capture-output\": \"all\"}",
		   "capture-output");
	call_fails("guest-exec", "{\"path\": \"/bin/true\", \"capture-output\": 1}",
		   "capture-output");
	/* elements of the wrong type, and NULs: the dispatcher's (test-agent-dispatch) */
	assert_int_equal(find("guest-exec")->args[1].type, ARG_STRING_ARRAY);
	call_fails("guest-exec-status", "{\"pid\": 1}", "Invalid parameter 'pid'");
	call_fails("guest-exec-status", "{\"pid\": -5}", "Invalid parameter 'pid'");
}

/* A process that leaves a child holding its stdout: reported as exited once
 * the drain time-out closes the pipe, not never (as qemu-ga would). */
static void test_exec_background_child(void **state)
{
	json_int_t pid;
	json_t *r;

	(void)state;
	pid = exec_ok("{\"path\": \"/bin/sh\", \"arg\": [\"-c\", \"sleep 8 & echo bg\"], "
		      "\"capture-output\": true}");
	r = wait_status(pid);
	assert_b64(r, "out-data", "bg\n");
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_exec_flags),
		cmocka_unit_test_setup_teardown(test_exec_echo, exec_setup, exec_teardown),
		cmocka_unit_test_setup_teardown(test_exec_streams, exec_setup, exec_teardown),
		cmocka_unit_test_setup_teardown(test_exec_input, exec_setup, exec_teardown),
		cmocka_unit_test_setup_teardown(test_exec_bounds, exec_setup, exec_teardown),
		cmocka_unit_test_setup_teardown(test_exec_spawn_errors, exec_setup, exec_teardown),
		cmocka_unit_test_setup_teardown(test_exec_errors, exec_setup, exec_teardown),
		cmocka_unit_test_setup_teardown(test_exec_background_child, exec_setup,
						exec_teardown),
	};

	return cmocka_run_group_tests(tests, agent_test_setup, NULL);
}
