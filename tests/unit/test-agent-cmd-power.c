/* agent/cmd-power.c: guest-shutdown's modes and refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>

#include "agent-test.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_shutdown),
	};

	return cmocka_run_group_tests(tests, agent_test_setup, NULL);
}
