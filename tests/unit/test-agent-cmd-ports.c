/* agent/cmd-ports.c: porthole-ports' answer (generation, ports, error) and
 * its argument checks, in this process's network namespace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "agent-test.h"
#include "cmd-ports.h"
#include "loop.h"

static void test_table(void **state)
{
	(void)state;
	check_table(cmd_ports_table, 1);
}

static bool listed(json_t *ports, const char *proto, int port)
{
	size_t i;
	json_t *p;

	json_array_foreach(ports, i, p)
	{
		if (strcmp(json_string_value(json_object_get(p, "protocol")), proto) == 0 &&
		    json_integer_value(json_object_get(p, "port")) == port)
			return true;
	}
	return false;
}

static void test_ports(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int t = socket(AF_INET, SOCK_STREAM, 0);
	json_t *r, *r2;
	int64_t gen;
	char args[64];

	(void)state;
	assert_int_equal(loop_new(&agent.loop), 0);
	assert_int_equal(bind(t, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(t, 1), 0);
	assert_int_equal(getsockname(t, (struct sockaddr *)&sa, &len), 0);

	r = call_ok("porthole-ports", NULL);
	/* where sock_diag cannot be had (qemu-user has no NETLINK_SOCK_DIAG),
	 * no scan has made a generation yet */
	if (json_object_get(r, "error")) {
		print_message("sock_diag unavailable here: %s\n",
			      json_string_value(json_object_get(r, "error")));
		json_decref(r);
		close(t);
		ports_stop(&agent);
		loop_free(agent.loop);
		skip();
	}
	gen = json_integer_value(json_object_get(r, "generation"));
	assert_true(gen >= 1);
	assert_true(json_is_array(json_object_get(r, "ports")));
	assert_true(listed(json_object_get(r, "ports"), "tcp", ntohs(sa.sin_port)));
	json_decref(r);
	/* the same generation while nothing changed; a new one once it has */
	snprintf(args, sizeof(args), "{\"after\": %lld}", (long long)gen);
	r = call_ok("porthole-ports", args);
	assert_int_equal(json_integer_value(json_object_get(r, "generation")), gen);
	json_decref(r);
	close(t);
	r2 = call_ok("porthole-ports", args);
	assert_int_equal(json_integer_value(json_object_get(r2, "generation")), gen + 1);
	assert_false(listed(json_object_get(r2, "ports"), "tcp", ntohs(sa.sin_port)));
	json_decref(r2);

	call_fails_exactly("porthole-ports", "{\"timeout_ms\": 60001}",
			   "Parameter 'timeout_ms' must be 0 to 60000");
	call_fails_exactly("porthole-ports", "{\"timeout_ms\": -1}",
			   "Parameter 'timeout_ms' must be 0 to 60000");
	ports_stop(&agent);
	loop_free(agent.loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_ports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
