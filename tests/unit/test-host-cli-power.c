/* host/cli-power.c: porthole shutdown, whose guest-shutdown answers nothing
 * when it succeeds: taken (the sync behind it answered, or the agent went
 * away), refused (its error), and the modes of its command line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host-test.h"

static void test_shutdown(void **state)
{
	static const char *const reboot[] = { "shutdown", "--reboot", NULL };
	static const char *const plain[] = { "shutdown", NULL };
	static const char *const bad[] = { "shutdown", "now", NULL };
	const struct step taken[] = {
		STEP_SYNC,
		{ "\"execute\":\"guest-sync\"", "{\"return\": 2, \"id\": 2}\n", 0 },
	};
	const struct step gone[] = {
		STEP_SYNC,
		{ "\"execute\":\"guest-sync\"", NULL, 0 },
	};
	const struct step refused[] = {
		STEP_SYNC,
		{ "\"execute\":\"guest-sync\"",
		  "{\"id\": 1, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command "
		  "guest-shutdown has been disabled\"}}\n",
		  0 },
	};
	struct cli_run *r = calloc(1, sizeof(*r));

	(void)state;
	cli_run(r, cli_shutdown, false, taken, 2, reboot);
	assert_int_equal(r->code, CLI_EXIT_OK);
	assert_string_equal(r->out, "reboot requested\n");
	assert_true(peer_got(&r->peer, "{\"execute\":\"guest-shutdown\",\"id\":1,\"arguments\":{"
				       "\"mode\":\"reboot\"}}"));

	cli_run(r, cli_shutdown, false, gone, 2, plain);
	assert_int_equal(r->code, CLI_EXIT_OK);
	assert_string_equal(r->out, "powerdown requested (the agent closed the connection)\n");
	cli_run(r, cli_shutdown, true, gone, 2, plain);
	assert_string_equal(r->out, "{}\n");

	cli_run(r, cli_shutdown, false, refused, 2, plain);
	assert_int_equal(r->code, CLI_EXIT_GUEST);
	assert_non_null(strstr(r->err, "Command guest-shutdown has been disabled"));

	cli_run(r, cli_shutdown, false, taken, 2, bad);
	assert_int_equal(r->code, CLI_EXIT_USAGE);
	assert_false(peer_got(&r->peer, "guest-shutdown"));
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shutdown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
