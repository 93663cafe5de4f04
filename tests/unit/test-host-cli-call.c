/* host/cli-call.c: porthole call NAME [ARGS-JSON]: the arguments sent as
 * given, the result printed as it came, {} for a command that answers
 * nothing on success, and arguments that are not a JSON object refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host-test.h"

static void test_call(void **state)
{
	static const char *const argv[] = { "call", "guest-get-time", "{\"x\": [1]}", NULL };
	static const char *const silent[] = { "call", "guest-suspend-ram", NULL };
	static const char *const bad[][4] = {
		{ "call", NULL },
		{ "call", "guest-ping", "{", NULL },
		{ "call", "guest-ping", "[1]", NULL },
		{ "call", "guest-ping", "{}", "extra" },
	};
	const struct step steps[] = {
		STEP_SYNC,
		{ "\"execute\":\"guest-get-time\"",
		  "{\"return\": {\"a\": 1795784978129112000}, \"id\": 1}\n", 0 },
	};
	const struct step taken[] = {
		STEP_SYNC,
		{ "\"execute\":\"guest-sync\"", "{\"return\": 2, \"id\": 2}\n", 0 },
	};
	struct cli_run *r = calloc(1, sizeof(*r));

	(void)state;
	cli_run(r, cli_call_any, false, steps, 2, argv);
	assert_int_equal(r->code, CLI_EXIT_OK);
	assert_true(peer_got(&r->peer, "\"id\":1,\"arguments\":{\"x\":[1]}}"));
	assert_string_equal(r->out, "{\n  \"a\": 1795784978129112000\n}\n");
	cli_run(r, cli_call_any, true, steps, 2, argv);
	assert_string_equal(r->out, "{\"a\":1795784978129112000}\n");

	cli_run(r, cli_call_any, false, taken, 2, silent);
	assert_int_equal(r->code, CLI_EXIT_OK);
	assert_string_equal(r->out, "{}\n");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[5] = { bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL };

		cli_run(r, cli_call_any, false, steps, 2, args);
		if (r->code != CLI_EXIT_USAGE)
			fail_msg("command line %zu: exit %d", i, r->code);
		assert_false(peer_got(&r->peer, "guest-ping"));
	}
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
