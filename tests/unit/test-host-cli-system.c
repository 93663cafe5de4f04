/* host/cli-system.c: what porthole ping, info, health, osinfo, users and
 * hostname print of the agent's answers (qemu-ga 7.2's forms, and
 * porthole-health's), members they do not know included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host-test.h"

static void test_ping(void **state)
{
	struct cli_run *run = *state;

	cli_ask(run, cli_ping, false, "guest-ping", "{\"return\": {}, \"id\": 1}\n", NULL);
	assert_int_equal(run->code, CLI_EXIT_OK);
	assert_memory_equal(run->out, "ok (", 4);
	assert_non_null(strstr(run->out, " ms)\n"));
	cli_ask(run, cli_ping, true, "guest-ping", "{\"return\": {}, \"id\": 1}\n", NULL);
	assert_string_equal(run->out, "{}\n");
}

static void test_info(void **state)
{
	struct cli_run *run = *state;

	cli_ask(run, cli_info, false, "guest-info",
		"{\"return\": {\"version\": \"7.2.19\", \"supported_commands\": ["
		"{\"enabled\": true, \"name\": \"guest-shutdown\", \"success-response\": false},"
		"{\"enabled\": false, \"name\": \"guest-exec\", \"success-response\": true},"
		"{\"enabled\": true, \"name\": \"guest-ping\", \"success-response\": true}]}, "
		"\"id\": 1}\n",
		NULL);
	assert_int_equal(run->code, CLI_EXIT_OK);
	/* sorted by name, the disabled and the silent marked */
	assert_string_equal(run->out, "version:  7.2.19\n"
				      "commands: 3 (1 disabled)\n"
				      "  guest-exec  (disabled)\n"
				      "  guest-ping\n"
				      "  guest-shutdown  (no reply on success)\n");
}

static void test_health(void **state)
{
	struct cli_run *run = *state;

	cli_ask(run, cli_health, false, "porthole-health",
		"{\"return\": {\"status\": \"degraded\", \"reasons\": [\"disk / 91% full\", "
		"\"service web failed\"], \"uptime_ns\": 93784000000000, \"load\": [0.5, 0.25, 0], "
		"\"memory\": {\"total_bytes\": 4294967296, \"available_bytes\": 1073741824}, "
		"\"disks\": [{\"path\": \"/\", \"total_bytes\": 10737418240, \"used_bytes\": "
		"9771686297, \"used_percent\": 91}, {\"path\": \"/var/lib/porthole\", \"mounted\": "
		"false}], \"services\": [{\"name\": \"web\", \"state\": \"failed\", \"restarts\": "
		"5}], \"brand_new\": \"shown\"}, \"id\": 1}\n",
		NULL);
	assert_int_equal(run->code, CLI_EXIT_OK);
	assert_string_equal(run->out, "status:   degraded\n"
				      "reasons:  disk / 91% full\n"
				      "          service web failed\n"
				      "uptime:   1d 2h 3m\n"
				      "load:     0.50 0.25 0.00\n"
				      "memory:   1.0 GiB available of 4.0 GiB (75% used)\n"
				      "disks:\n"
				      "  PATH               SIZE      USED     USE%\n"
				      "  /                  10.0 GiB  9.1 GiB  91%\n"
				      "  /var/lib/porthole  -         -        not mounted\n"
				      "services:\n"
				      "  NAME  STATE   DETAILS\n"
				      "  web   failed  restarts=5\n"
				      "brand_new: shown\n");
}

static void test_osinfo_users_hostname(void **state)
{
	struct cli_run *run = *state;

	cli_ask(run, cli_osinfo, false, "guest-get-osinfo",
		"{\"return\": {\"name\": \"Debian GNU/Linux\", \"kernel-release\": \"6.1.0-57-amd64\", "
		"\"machine\": \"x86_64\", \"id\": \"debian\"}, \"id\": 1}\n",
		NULL);
	assert_string_equal(run->out, "name:            Debian GNU/Linux\n"
				      "id:              debian\n"
				      "kernel-release:  6.1.0-57-amd64\n"
				      "machine:         x86_64\n");

	/* a login time past what a date can be shows as "-", not garbage */
	cli_ask(run, cli_users, false, "guest-get-users",
		"{\"return\": [{\"user\": \"root\", \"login-time\": 1795784978.5}, {\"user\": "
		"\"eve\", \"login-time\": 1e300, \"domain\": \"x\"}], \"id\": 1}\n",
		NULL);
	assert_string_equal(run->out, "USER  LOGIN TIME               DOMAIN\n"
				      "root  2026-11-27 13:09:38 UTC  -\n"
				      "eve   -                        x\n");
	cli_ask(run, cli_users, false, "guest-get-users", "{\"return\": [], \"id\": 1}\n", NULL);
	assert_string_equal(run->out, "no users logged in\n");

	cli_ask(run, cli_hostname, false, "guest-get-host-name",
		"{\"return\": {\"host-name\": \"vm\"}, \"id\": 1}\n", NULL);
	assert_string_equal(run->out, "vm\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ping),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_osinfo_users_hostname),
	};

	return cmocka_run_group_tests(tests, cli_run_setup, cli_run_teardown);
}
