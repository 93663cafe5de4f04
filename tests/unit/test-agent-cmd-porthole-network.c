/* agent/cmd-porthole-network.c: porthole-network's shape (docs/protocol.md)
 * on this machine's links, routes and resolv.conf, and porthole-dns-set's
 * refusals, which come before anything is written. No test here calls
 * porthole-dns-set with values it takes: that would write this machine's
 * /etc/resolv.conf (the vm tier does it); should a refusal ever let a value
 * through, the test puts resolv.conf back and fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-test.h"
#include "dnsconf.h"
#include "util.h"

/* The group's table, and the argument specs the schema gives its commands. */
static void test_table(void **state)
{
	(void)state;
	check_table(cmd_porthole_network_table, 2);
	assert_int_equal(find("porthole-dns-set")->args[0].type, ARG_STRING_ARRAY);
	assert_true(find("porthole-dns-set")->args[0].required);
	assert_int_equal(find("porthole-dns-set")->args[1].type, ARG_STRING_ARRAY);
	assert_false(find("porthole-dns-set")->args[1].required);
}

static void test_network(void **state)
{
	static const struct member result[] = { { "interfaces", T_ARR, true },
						{ "routes", T_ARR, true },
						{ "dns", T_OBJ, true },
						{ NULL, T_STR, false } };
	static const struct member iface[] = {
		{ "name", T_STR, true },      { "index", T_INT, true },
		{ "mac", T_STR, true },	      { "state", T_STR, true },
		{ "carrier", T_BOOL, true },  { "mtu", T_INT, true },
		{ "addresses", T_ARR, true }, { "method", T_STR, false },
		{ "error", T_STR, false },    { "dhcp", T_OBJ, false },
		{ NULL, T_STR, false },
	};
	static const struct member route[] = {
		{ "destination", T_STR, true }, { "gateway", T_STR, false },
		{ "interface", T_STR, false },	{ "source", T_STR, false },
		{ "metric", T_INT, true },	{ "protocol", T_STR, false },
		{ NULL, T_STR, false },
	};
	static const struct member dns[] = { { "servers", T_ARR, true },
					     { "search", T_ARR, true },
					     { "source", T_STR, false },
					     { NULL, T_STR, false } };
	_cleanup_free_ char *resolv = NULL;
	json_t *r = call_ok("porthole-network", NULL), *f, *v;
	bool lo = false, init_state = access("/run/porthole/net.state", F_OK) == 0;
	json_int_t last_index = 0;
	size_t i, n_servers = 0;

	(void)state;
	check_struct(r, result, "porthole-network");
	json_array_foreach(json_object_get(r, "interfaces"), i, f)
	{
		const char *name = json_string_value(json_object_get(f, "name"));
		const char *st = json_string_value(json_object_get(f, "state"));
		json_int_t index = json_integer_value(json_object_get(f, "index"));

		check_struct(f, iface, "interface");
		/* in index order, each the kernel's */
		assert_true(index > last_index);
		last_index = index;
		assert_int_equal(index, if_nametoindex(name));
		assert_int_equal(strlen(json_string_value(json_object_get(f, "mac"))), 17);
		assert_true(strcmp(st, "up") == 0 || strcmp(st, "down") == 0);
		/* init's view only where init wrote one */
		if (!init_state)
			assert_null(json_object_get(f, "method"));
		if (strcmp(name, "lo") == 0) {
			json_t *a;
			size_t j;

			lo = true;
			assert_string_equal(json_string_value(json_object_get(f, "mac")),
					    "00:00:00:00:00:00");
			assert_string_equal(st, "up");
			json_array_foreach(json_object_get(f, "addresses"), j, a) lo &=
				strcmp(json_string_value(json_object_get(a, "ip-address")),
				       "127.0.0.1") != 0 ||
				json_integer_value(json_object_get(a, "prefix")) == 8;
		}
	}
	assert_true(lo);
	json_array_foreach(json_object_get(r, "routes"), i, v)
	{
		check_struct(v, route, "route");
		/* a known protocol's name, or its number */
		if (!json_is_string(json_object_get(v, "protocol")))
			assert_true(json_is_integer(json_object_get(v, "protocol")));
	}
	/* the servers are resolv.conf's (glibc reads 3) */
	v = json_object_get(r, "dns");
	check_struct(v, dns, "dns");
	if (!init_state)
		assert_null(json_object_get(v, "source"));
	if (read_file(RESOLV_CONF_PATH, DNSCONF_TEXT_MAX, &resolv, NULL) == 0)
		for (char *line = strtok(resolv, "\n"); line; line = strtok(NULL, "\n")) {
			char server[64];

			if (sscanf(line, " nameserver %63s", server) != 1 || n_servers == 3)
				continue;
			assert_string_equal(json_string_value(json_array_get(
						    json_object_get(v, "servers"), n_servers)),
					    server);
			n_servers++;
		}
	assert_int_equal(json_array_size(json_object_get(v, "servers")), n_servers);
	json_decref(r);
}

/* Every refusal is docs/protocol.md's text, and nothing is written. */
static void test_dns_set_refuses(void **state)
{
	static const struct {
		const char *args, *desc;
	} cases[] = {
		{ "{\"servers\": []}", "'servers' must name at least one name server" },
		{ "{\"servers\": [\"192.0.2.1\", \"192.0.2.2\", \"192.0.2.3\", \"192.0.2.4\"]}",
		  "Too many entries in 'servers': 4, at most 3" },
		{ "{\"servers\": [\"192.0.2.1\", \"999.0.2.2\"]}",
		  "Invalid name server '999.0.2.2' in 'servers': not an IPv4 or IPv6 address" },
		{ "{\"servers\": [\"dns.example\"]}",
		  "Invalid name server 'dns.example' in 'servers': not an IPv4 or IPv6 address" },
		{ "{\"servers\": [\"\"]}",
		  "Invalid name server '' in 'servers': not an IPv4 or IPv6 address" },
		/* a line break would add a line of the writer's choosing to resolv.conf */
		{ "{\"servers\": [\"192.0.2.1\\nsearch evil\"]}",
		  "Invalid name server '192.0.2.1\nsearch evil' in 'servers': not an IPv4 or IPv6 "
		  "address" },
		{ "{\"servers\": [\"192.0.2.1\"], \"search\": [\"a b\"]}",
		  "Invalid search domain 'a b' in 'search': not a domain name" },
		{ "{\"servers\": [\"192.0.2.1\"], \"search\": [\"corp.example\\noptions x\"]}",
		  "Invalid search domain 'corp.example\noptions x' in 'search': not a domain name" },
		{ "{\"servers\": [\"192.0.2.1\"], \"search\": [\"a\", \"b\", \"c\", \"d\", \"e\", "
		  "\"f\", \"g\"]}",
		  "Too many entries in 'search': 7, at most 6" },
	};
	_cleanup_free_ char *before = NULL;
	bool override = access(DNS_OVERRIDE_PATH, F_OK) == 0;
	bool run_dir = access("/run/porthole", F_OK) == 0;
	size_t before_len = 0;

	(void)state;
	if (read_file(RESOLV_CONF_PATH, DNSCONF_TEXT_MAX, &before, &before_len) < 0)
		before = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *after = NULL;
		size_t after_len = 0;
		json_t *res = NULL;
		int r = call("porthole-dns-set", cases[i].args, &res);
		bool same;

		json_decref(res);
		if (read_file(RESOLV_CONF_PATH, DNSCONF_TEXT_MAX, &after, &after_len) < 0)
			after = NULL;
		same = (!before && !after) || (before && after && before_len == after_len &&
					       memcmp(before, after, before_len) == 0);
		if (!same && before)
			(void)write_file_atomic(RESOLV_CONF_PATH, before, before_len, 0644);
		if (!override)
			unlink(DNS_OVERRIDE_PATH);
		if (!run_dir)
			rmdir("/run/porthole");
		if (!same)
			fail_msg("%s: resolv.conf was written (put back)", cases[i].args);
		if (r != CMD_FAILED || strcmp(err.desc, cases[i].desc) != 0)
			fail_msg("%s: %d '%s', not '%s'", cases[i].args, r, err.desc,
				 cases[i].desc);
		assert_string_equal(err.class, "GenericError");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_network),
		cmocka_unit_test(test_dns_set_refuses),
	};

	return cmocka_run_group_tests(tests, agent_test_setup, NULL);
}
