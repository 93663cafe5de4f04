/* agent/cmd-power.c: guest-shutdown's modes and refusals, one request
 * acted on once, on the loop's next turn, by asking init over its control
 * socket (a stand-in here), and the agent stopping when no init takes it.
 * Nothing here signals this machine's PID 1: the agent only signals a PID 1
 * named porthole-init, and the test that reaches that step makes sure
 * this machine's is not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "agent-test.h"
#include "dispatch.h"
#include "loop.h"
#include "options.h"
#include "util.h"

/* The group's table, and the argument specs the schema gives its commands. */
static void test_table(void **state)
{
	(void)state;
	check_table(cmd_power_table, 1);
	assert_int_equal(find("guest-shutdown")->args[0].type, ARG_STRING);
}

static void test_shutdown(void **state)
{
	static const struct {
		const char *args;
		int sig;
	} cases[] = {
		{ NULL, SIGTERM },
		{ "{\"mode\": \"powerdown\"}", SIGTERM },
		{ "{\"mode\": \"halt\"}", SIGUSR1 },
		{ "{\"mode\": \"reboot\"}", SIGINT },
	};
	json_t *r;

	(void)state;
	assert_true(find("guest-shutdown")->flags & CMD_NO_REPLY_ON_SUCCESS);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		agent.shutdown_requested = false;
		agent.shutdown_signal = 0;
		assert_int_equal(call("guest-shutdown", cases[i].args, &r), 0);
		assert_true(agent.shutdown_requested);
		assert_int_equal(agent.shutdown_signal, cases[i].sig);
		json_decref(r);
	}
	agent.shutdown_requested = false;
	agent.shutdown_signal = 0;
	call_fails("guest-shutdown", "{\"mode\": \"suspend\"}", "halt|powerdown|reboot");
	assert_false(agent.shutdown_requested);
	assert_int_equal(agent.shutdown_signal, 0);
}

/* Words that are not a mode, null included, are refused and nothing is
 * requested: no power-off on a typo. */
static void test_refusals(void **state)
{
	static const char *const bad[] = { "", "Powerdown", "poweroff", "reboot ", "suspend" };
	struct reply rep = { 0 };
	char req[128];

	(void)state;
	memset(&agent, 0, sizeof(agent));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(req, sizeof(req), "{\"mode\": \"%s\"}", bad[i]);
		call_fails_exactly("guest-shutdown", req,
				   "mode is invalid (valid values are: halt|powerdown|reboot)");
		assert_false(agent.shutdown_requested);
	}
	/* null never reaches the handler: the dispatcher refuses it, as qemu-ga */
	options_defaults(&agent.cfg);
	dispatch_init(&agent);
	snprintf(req, sizeof(req),
		 "{\"execute\": \"guest-shutdown\", \"arguments\": "
		 "{\"mode\": null}}");
	assert_int_equal(dispatch_value(&agent, req, strlen(req), &rep), DISPATCH_REPLY);
	assert_non_null(strstr(rep.data, "Invalid parameter type for 'mode', expected: string"));
	free(rep.data);
	assert_false(agent.shutdown_requested);
	assert_int_equal(agent.shutdown_signal, 0);
}

static void quit_cb(struct loop *l, void *data)
{
	*(bool *)data = true;
	loop_quit(l);
}

/* Runs the loop until it quits or MS milliseconds pass; true when it
 * quit by itself. */
static bool run_loop(unsigned ms)
{
	bool timed_out = false;
	int64_t id = loop_timer(agent.loop, ms, quit_cb, &timed_out);

	assert_true(id >= 0);
	assert_int_equal(loop_run(agent.loop), 0);
	if (!timed_out)
		loop_cancel(agent.loop, id);
	return !timed_out;
}

/* The request is acted on once, on the loop's next turn (after the replies
 * to what came with it), by asking init; a second request while the first
 * is under way changes nothing; the agent goes on until init stops it. */
static void test_asks_init_once(void **state)
{
	json_t *r, *sent;

	(void)state;
	memset(&agent, 0, sizeof(agent));
	assert_int_equal(loop_new(&agent.loop), 0);
	fake_start(FAKE_REPLY, "{\"ok\": true}");
	assert_int_equal(call("guest-shutdown", "{\"mode\": \"reboot\"}", &r), 0);
	assert_null(r);
	assert_true(agent.shutdown_requested);
	/* not yet: the handler only records it */
	assert_int_equal(fake.connections, 0);
	assert_int_equal(call("guest-shutdown", "{\"mode\": \"halt\"}", &r), 0);
	assert_int_equal(agent.shutdown_signal, SIGINT);
	assert_false(run_loop(300));
	fake_stop();
	assert_int_equal(fake.connections, 1);
	sent = request_sent();
	assert_string_equal(json_string_value(json_object_get(sent, "op")), "shutdown");
	assert_string_equal(json_string_value(json_object_get(sent, "kind")), "reboot");
	json_decref(sent);
	loop_free(agent.loop);
	agent.loop = NULL;
}

/* init's socket refuses, or there is none, and PID 1 is not porthole-init
 * (an agent run by hand): nothing is signalled, and the agent stops, which
 * is all of the request that can be honoured. */
static void test_no_init_stops_the_agent(void **state)
{
	_cleanup_free_ char *comm = NULL;
	json_t *r;

	(void)state;
	assert_int_equal(read_file("/proc/1/comm", 64, &comm, NULL), 0);
	if (strcmp(comm, "porthole-init\n") == 0) {
		/* the agent would signal it: this machine's PID 1 is not for a test */
		print_message("# PID 1 is porthole-init: the fallback is not exercised here\n");
		return;
	}
	memset(&agent, 0, sizeof(agent));
	assert_int_equal(loop_new(&agent.loop), 0);
	fake_start(FAKE_REPLY, "{\"error\": \"shutting down already\"}");
	assert_int_equal(call("guest-shutdown", NULL, &r), 0);
	assert_int_equal(agent.shutdown_signal, SIGTERM);
	assert_true(run_loop(5000));
	fake_stop();
	assert_int_equal(fake.connections, 1);

	/* no control socket configured: straight to the check of PID 1 */
	agent.shutdown_requested = false;
	agent.cfg.init_socket[0] = '\0';
	assert_int_equal(call("guest-shutdown", "{\"mode\": \"halt\"}", &r), 0);
	assert_true(run_loop(5000));
	loop_free(agent.loop);
	agent.loop = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_shutdown),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_asks_init_once),
		cmocka_unit_test(test_no_init_stops_the_agent),
	};

	return cmocka_run_group_tests(tests, agent_test_setup, NULL);
}
