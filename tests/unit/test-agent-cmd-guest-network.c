/* agent/cmd-guest-network.c: guest-network-get-interfaces against qemu-ga's
 * schema, on this machine's links. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "agent-test.h"

/* The group's table, and the argument specs the schema gives its commands. */
static void test_table(void **state)
{
	(void)state;
	check_table(cmd_guest_network_table, 1);
}

static void test_network(void **state)
{
	static const struct member iface_schema[] = { { "name", T_STR, true },
						      { "hardware-address", T_STR, false },
						      { "ip-addresses", T_ARR, false },
						      { "statistics", T_OBJ, false },
						      { NULL, T_STR, false } };
	static const struct member addr_schema[] = { { "ip-address", T_STR, true },
						     { "ip-address-type", T_STR, true },
						     { "prefix", T_INT, true },
						     { NULL, T_STR, false } };
	static const struct member stat_schema[] = {
		{ "rx-bytes", T_INT, true }, { "rx-packets", T_INT, true },
		{ "rx-errs", T_INT, true },  { "rx-dropped", T_INT, true },
		{ "tx-bytes", T_INT, true }, { "tx-packets", T_INT, true },
		{ "tx-errs", T_INT, true },  { "tx-dropped", T_INT, true },
		{ NULL, T_STR, false },
	};
	json_t *r = call_ok("guest-network-get-interfaces", NULL), *f, *a;
	bool lo_seen = false, lo_v4 = false;
	size_t i, j;

	(void)state;
	assert_true(json_is_array(r));
	json_array_foreach(r, i, f)
	{
		const char *name = json_string_value(json_object_get(f, "name"));
		const char *mac = json_string_value(json_object_get(f, "hardware-address"));
		json_t *addrs = json_object_get(f, "ip-addresses");
		unsigned b[6];

		check_struct(f, iface_schema, "GuestNetworkInterface");
		assert_non_null(mac);
		assert_int_equal(strlen(mac), 17);
		assert_int_equal(sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3],
					&b[4], &b[5]),
				 6);
		/* as qemu-ga: no empty list; statistics come with addresses */
		if (addrs)
			assert_true(json_array_size(addrs) > 0);
		else
			assert_null(json_object_get(f, "statistics"));
		if (json_object_get(f, "statistics"))
			check_struct(json_object_get(f, "statistics"), stat_schema,
				     "GuestNetworkInterfaceStat");
		json_array_foreach(addrs, j, a)
		{
			const char *type = json_string_value(json_object_get(a, "ip-address-type"));
			json_int_t prefix = json_integer_value(json_object_get(a, "prefix"));

			check_struct(a, addr_schema, "GuestIpAddress");
			assert_true(strcmp(type, "ipv4") == 0 || strcmp(type, "ipv6") == 0);
			assert_true(prefix >= 0 && prefix <= (strcmp(type, "ipv4") ? 128 : 32));
		}
		if (strcmp(name, "lo") == 0) {
			lo_seen = true;
			assert_string_equal(mac, "00:00:00:00:00:00");
			json_array_foreach(addrs, j, a)
			{
				if (strcmp(json_string_value(json_object_get(a, "ip-address")),
					   "127.0.0.1") == 0) {
					lo_v4 = true;
					assert_int_equal(
						json_integer_value(json_object_get(a, "prefix")),
						8);
				}
			}
		}
	}
	/* every network namespace has lo; up, it has 127.0.0.1/8 */
	assert_true(lo_seen);
	if (lo_seen && !lo_v4)
		print_message("lo has no 127.0.0.1 here (down?)\n");
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_network),
	};

	return cmocka_run_group_tests(tests, agent_test_setup, NULL);
}
