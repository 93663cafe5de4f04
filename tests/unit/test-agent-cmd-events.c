/* agent/cmd-events.c: porthole-events with and without init's events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "agent-test.h"
#include "options.h"

/* The group's table, and the argument specs the schema gives its commands. */
static void test_table(void **state)
{
	(void)state;
	check_table(cmd_events_table, 1);
}

static void test_events_command(void **state)
{
	const struct command *c = find("porthole-events");
	json_t *args, *r = NULL, *ev;

	(void)state;
	options_defaults(&agent.cfg);
	fake_start(FAKE_REPLY,
		   "{\"events\": [{\"seq\": 4, \"time\": 1795766401.2, \"service\": \"web\", "
		   "\"type\": \"exited\", \"detail\": \"status 1\"}, {\"seq\": 5, \"time\": "
		   "1795766402.5, \"service\": \"dockerd\", \"type\": \"oom_kill\", \"detail\": "
		   "\"\"}], \"next\": 5}");
	/* without service_after: the clock's events only, as before */
	args = json_pack("{}");
	assert_int_equal(c->handler(&agent, args, &r, &err), 0);
	assert_null(json_object_get(r, "service_events"));
	assert_true(json_is_array(json_object_get(r, "events")));
	json_decref(r);
	json_decref(args);
	assert_int_equal(fake.connections, 0);
	/* with it: init's events after it, and where to go on from */
	args = json_pack("{s:i}", "service_after", 4);
	assert_int_equal(c->handler(&agent, args, &r, &err), 0);
	ev = json_object_get(r, "service_events");
	assert_int_equal(json_array_size(ev), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 0), "type")),
			    "oom_kill");
	assert_int_equal(json_integer_value(json_object_get(r, "service_next")), 5);
	assert_null(json_object_get(r, "service_error"));
	json_decref(r);
	json_decref(args);
	fake_stop();
	assert_int_equal(fake.connections, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_events_command),
	};

	return cmocka_run_group_tests(tests, agent_test_setup, NULL);
}
