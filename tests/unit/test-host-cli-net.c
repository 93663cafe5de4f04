/* host/cli-net.c: porthole network's view of porthole-network (interfaces,
 * leases, routes, DNS), its fallback to a plain qemu-ga's
 * guest-network-get-interfaces, and the request dns set makes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host-test.h"

static void test_network(void **state)
{
	static const char *const argv[] = { "network", NULL };
	const struct step steps[] = {
		STEP_SYNC,
		{ "\"execute\":\"porthole-network\"",
		  "{\"return\": {\"interfaces\": ["
		  "{\"name\": \"lo\", \"state\": \"up\", \"carrier\": true, \"mac\": "
		  "\"00:00:00:00:00:00\", \"mtu\": 65536, \"addresses\": [{\"ip-address\": "
		  "\"127.0.0.1\", \"prefix\": 8}]},"
		  "{\"name\": \"eth0\", \"state\": \"up\", \"carrier\": false, \"mac\": "
		  "\"52:54:00:12:34:56\", \"mtu\": 1500, \"addresses\": [{\"ip-address\": "
		  "\"10.0.2.15\", \"prefix\": 24}, {\"ip-address\": \"fec0::1\", \"prefix\": 64}], "
		  "\"dhcp\": {\"state\": \"bound\", \"address\": [\"10.0.2.15/24\"], \"server\": "
		  "\"10.0.2.2\", \"router\": \"10.0.2.2\", \"dns\": [\"10.0.2.3\"], \"obtained\": "
		  "1795784978, \"expires\": 99999999999999}}], "
		  "\"routes\": [{\"destination\": \"default\", \"gateway\": \"10.0.2.2\", "
		  "\"interface\": \"eth0\", \"protocol\": \"dhcp\", \"metric\": 100}], "
		  "\"dns\": {\"servers\": [\"10.0.2.3\"], \"search\": [\"lan\"], \"source\": "
		  "\"dhcp\"}}, \"id\": 1}\n",
		  0 },
	};
	const struct step qga[] = {
		STEP_SYNC,
		{ "\"execute\":\"porthole-network\"",
		  "{\"id\": 1, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
		  "porthole-network has not been found\"}}\n",
		  0 },
		{ "\"execute\":\"guest-network-get-interfaces\"",
		  "{\"return\": [{\"name\": \"lo\", \"hardware-address\": \"00:00:00:00:00:00\", "
		  "\"ip-addresses\": [{\"ip-address-type\": \"ipv4\", \"ip-address\": "
		  "\"127.0.0.1\", \"prefix\": 8}, {\"ip-address-type\": \"ipv6\", \"ip-address\": "
		  "\"::1\", \"prefix\": 128}]}, {\"name\": \"eth1\"}], \"id\": 2}\n",
		  0 },
	};
	struct cli_run *r = calloc(1, sizeof(*r));

	(void)state;
	cli_run(r, cli_network, false, steps, 2, argv);
	assert_int_equal(r->code, CLI_EXIT_OK);
	/* an interface up without a carrier says so; a lease's time the
	 * guest got wrong is "-" */
	assert_string_equal(r->out,
			    "NAME  STATE       MAC                MTU    ADDRESS\n"
			    "lo    up          00:00:00:00:00:00  65536  127.0.0.1/8\n"
			    "eth0  no-carrier  52:54:00:12:34:56  1500   10.0.2.15/24\n"
			    "                                            fec0::1/64\n"
			    "eth0: dhcp bound, 10.0.2.15/24 from 10.0.2.2, router 10.0.2.2, dns "
			    "10.0.2.3; obtained 2026-11-27 13:09:38 UTC, expires -\n"
			    "\n"
			    "routes:\n"
			    "  default via 10.0.2.2 dev eth0 (dhcp, metric 100)\n"
			    "\n"
			    "dns: 10.0.2.3; search lan (dhcp)\n");

	/* a plain qemu-ga: its own command, its own shape */
	cli_run(r, cli_network, false, qga, 3, argv);
	assert_int_equal(r->code, CLI_EXIT_OK);
	assert_string_equal(r->out, "NAME  MAC                ADDRESS\n"
				    "lo    00:00:00:00:00:00  127.0.0.1/8\n"
				    "                         ::1/128\n"
				    "eth1  -                  -\n");
	free(r);
}

static void test_dns_set(void **state)
{
	static const char *const argv[] = { "dns",	"set", "1.1.1.1", "9.9.9.9",
					    "--search", "lan", NULL };
	static const char *const bad[][4] = {
		{ "dns", NULL },
		{ "dns", "get", "1.1.1.1", NULL },
		{ "dns", "set", "--search", "lan" },
	};
	const struct step steps[] = {
		STEP_SYNC,
		{ "porthole-dns-set", "{\"return\": {}, \"id\": 1}\n", 0 },
	};
	struct cli_run *r = calloc(1, sizeof(*r));

	(void)state;
	cli_run(r, cli_dns, false, steps, 2, argv);
	assert_int_equal(r->code, CLI_EXIT_OK);
	assert_true(peer_got(&r->peer, "{\"execute\":\"porthole-dns-set\",\"id\":1,\"arguments\":{"
				       "\"servers\":[\"1.1.1.1\",\"9.9.9.9\"],\"search\":["
				       "\"lan\"]}}"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[5] = { bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL };

		cli_run(r, cli_dns, false, steps, 2, args);
		if (r->code != CLI_EXIT_USAGE)
			fail_msg("command line %zu: exit %d", i, r->code);
		assert_false(peer_got(&r->peer, "porthole-dns-set"));
	}
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_network),
		cmocka_unit_test(test_dns_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
