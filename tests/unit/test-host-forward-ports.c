/* host/forward-ports.c: what `porthole forward ports` makes of the guest's
 * listening sockets: the target each port's connections go to (the
 * loopback for a wildcard, ::1 for an IPv6 one, else the guest's own
 * address), porthole-ports' answer checked and folded into one forward per
 * protocol and port, the changes between two sets, --port and --bind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "forward-ports.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_target(void **state)
{
	static const struct {
		const char *addrs[3];
		size_t n;
		const char *want;
	} cases[] = {
		{ { "0.0.0.0" }, 1, "127.0.0.1" },
		{ { "127.0.0.1" }, 1, "127.0.0.1" },
		{ { "::" }, 1, "::1" },
		{ { "::1" }, 1, "::1" },
		/* docker-proxy listens on both wildcards */
		{ { "::", "0.0.0.0" }, 2, "127.0.0.1" },
		{ { "10.0.2.15", "::1" }, 2, "::1" },
		{ { "10.0.2.15" }, 1, "10.0.2.15" },
		{ { "127.0.0.53" }, 1, "127.0.0.53" },
		{ { "172.17.0.1", "10.0.2.15" }, 2, "10.0.2.15" },
		{ { "fd00::5", "10.0.2.15" }, 2, "10.0.2.15" },
		{ { "fd00::5" }, 1, "fd00::5" },
		{ { "0:0:0:0:0:0:0:1" }, 1, "::1" },
		{ { "fe80::1", "fd00::5" }, 2, "fd00::5" },
		{ { "fe80::1" }, 1, NULL },
		{ { "nonsense" }, 1, NULL },
		{ { 0 }, 0, NULL },
	};
	char buf[FORWARD_ADDR_MAX];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		const char *got = forward_ports_target(cases[i].addrs, cases[i].n, buf);

		if (!cases[i].want != !got || (got && strcmp(got, cases[i].want) != 0))
			fail_msg("case %zu (%s...): got %s, want %s", i, cases[i].addrs[0],
				 got ? got : "NULL", cases[i].want ? cases[i].want : "NULL");
	}
}

static struct forward_port_set *set_from(const char *text, int64_t *gen)
{
	static struct forward_port_set s;
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	char why[128];

	assert_non_null(j);
	if (forward_ports_from_json(j, gen, &s, why, sizeof(why)) < 0)
		fail_msg("refused: %s", why);
	json_decref(j);
	return &s;
}

static void test_from_json(void **state)
{
	int64_t gen = 0;
	struct forward_port_set *s;

	(void)state;
	s = set_from("{\"generation\": 7, \"ports\": ["
		     "{\"protocol\": \"tcp\", \"address\": \"::\", \"port\": 8080},"
		     "{\"protocol\": \"udp\", \"address\": \"0.0.0.0\", \"port\": 53},"
		     "{\"protocol\": \"tcp\", \"address\": \"0.0.0.0\", \"port\": 8080},"
		     "{\"protocol\": \"tcp\", \"address\": \"10.0.2.15\", \"port\": 22},"
		     "{\"protocol\": \"udp\", \"address\": \"fe80::1\", \"port\": 546},"
		     "{\"protocol\": \"tcp\", \"address\": \"::1\", \"port\": 9000}],"
		     "\"dropped\": 0}",
		     &gen);
	assert_int_equal(gen, 7);
	/* one forward per protocol and port, sorted: tcp first */
	assert_int_equal(s->n, 4);
	assert_int_equal(s->ignored, 1); /* the link-local one */
	assert_int_equal(s->p[0].proto, FORWARD_TCP);
	assert_int_equal(s->p[0].port, 22);
	assert_string_equal(s->p[0].target, "10.0.2.15");
	assert_int_equal(s->p[1].port, 8080);
	assert_string_equal(s->p[1].target, "127.0.0.1");
	assert_int_equal(s->p[2].port, 9000);
	assert_string_equal(s->p[2].target, "::1");
	assert_int_equal(s->p[3].proto, FORWARD_UDP);
	assert_int_equal(s->p[3].port, 53);
	assert_string_equal(s->p[3].target, "127.0.0.1");

	s = set_from("{\"generation\": 0, \"ports\": []}", &gen);
	assert_int_equal(gen, 0);
	assert_int_equal(s->n, 0);
}

static void test_from_json_bad(void **state)
{
	static const struct {
		const char *json, *why;
	} cases[] = {
		{ "[]", "expected an object" },
		{ "{\"ports\": []}", "generation: expected an integer" },
		{ "{\"generation\": 1}", "ports: expected an array" },
		{ "{\"generation\": 1, \"ports\": [5]}", "ports[0]: expected an object" },
		{ "{\"generation\": 1, \"ports\": [{\"protocol\": \"tcp\", \"address\": \"::\", "
		  "\"port\": 1}, {\"protocol\": \"sctp\", \"address\": \"::\", \"port\": 1}]}",
		  "ports[1].protocol: expected \"tcp\" or \"udp\"" },
		{ "{\"generation\": 1, \"ports\": [{\"protocol\": \"tcp\", \"address\": \"host\", "
		  "\"port\": 1}]}",
		  "ports[0].address: expected an IP address" },
		{ "{\"generation\": 1, \"ports\": [{\"protocol\": \"udp\", \"address\": \"::\", "
		  "\"port\": 0}]}",
		  "ports[0].port: expected 1 to 65535" },
		{ "{\"generation\": 1, \"ports\": [{\"protocol\": \"udp\", \"address\": \"::\", "
		  "\"port\": 65536}]}",
		  "ports[0].port: expected 1 to 65535" },
		{ "{\"generation\": 1, \"ports\": [{\"protocol\": \"udp\", \"address\": \"::\", "
		  "\"port\": \"53\"}]}",
		  "ports[0].port: expected 1 to 65535" },
	};
	static struct forward_port_set s;

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		json_t *j = json_loads(cases[i].json, 0, NULL);
		char why[128] = "";
		int64_t gen = -5;

		assert_non_null(j);
		assert_int_equal(forward_ports_from_json(j, &gen, &s, why, sizeof(why)), -EBADMSG);
		assert_string_equal(why, cases[i].why);
		assert_int_equal(gen, -5);
		json_decref(j);
	}
}

static void test_from_json_bounded(void **state)
{
	static struct forward_port_set s;
	json_t *ports = json_array(), *j;
	int64_t gen;
	char why[128];

	(void)state;
	for (int p = 1; p <= FORWARD_PORTS_MAX + 10; p++)
		json_array_append_new(ports, json_pack("{s:s,s:s,s:i}", "protocol", "tcp",
						       "address", "0.0.0.0", "port", p));
	j = json_pack("{s:i,s:o}", "generation", 3, "ports", ports);
	assert_int_equal(forward_ports_from_json(j, &gen, &s, why, sizeof(why)), 0);
	assert_int_equal(s.n, FORWARD_PORTS_MAX);
	assert_int_equal(s.ignored, 10);
	json_decref(j);
}

struct change_log {
	char lines[16][96];
	size_t n;
};

static void record(void *data, enum forward_change change, const struct forward_port *before,
		   const struct forward_port *after)
{
	struct change_log *log = data;
	char b[80] = "", a[80] = "";

	assert_true(log->n < 16);
	if (before)
		forward_ports_format(before, b, sizeof(b));
	if (after)
		forward_ports_format(after, a, sizeof(a));
	snprintf(log->lines[log->n++], sizeof(log->lines[0]), "%s%s%s%s",
		 change == FORWARD_ADDED     ? "+ "
		 : change == FORWARD_REMOVED ? "- "
					     : "~ ",
		 b, *a && *b ? " => " : "", a);
}

static void test_diff(void **state)
{
	static struct forward_port_set before, after;
	static const char *const want[] = {
		"- tcp 22 -> guest 10.0.2.15:22",
		"+ tcp 443 -> guest 127.0.0.1:443",
		"~ tcp 8080 -> guest 127.0.0.1:8080 => tcp 8080 -> guest [::1]:8080",
		"- udp 53 -> guest 127.0.0.1:53",
		"+ udp 8080 -> guest 127.0.0.1:8080",
	};
	struct forward_port p;
	struct change_log log = { 0 };

	(void)state;
	assert_int_equal(forward_ports_parse_spec("8080", &p), 0);
	assert_int_equal(forward_ports_add(&before, &p), 0);
	assert_int_equal(forward_ports_parse_spec("udp:53", &p), 0);
	assert_int_equal(forward_ports_add(&before, &p), 0);
	assert_int_equal(forward_ports_parse_spec("tcp:22", &p), 0);
	strcpy(p.target, "10.0.2.15");
	assert_int_equal(forward_ports_add(&before, &p), 0);
	assert_int_equal(forward_ports_parse_spec("9000", &p), 0);
	assert_int_equal(forward_ports_add(&before, &p), 0);
	/* sorted, by protocol then port */
	assert_int_equal(before.n, 4);
	assert_int_equal(before.p[0].port, 22);
	assert_int_equal(before.p[3].proto, FORWARD_UDP);

	assert_int_equal(forward_ports_parse_spec("udp:8080", &p), 0);
	assert_int_equal(forward_ports_add(&after, &p), 0);
	assert_int_equal(forward_ports_parse_spec("9000", &p), 0);
	assert_int_equal(forward_ports_add(&after, &p), 0);
	assert_int_equal(forward_ports_parse_spec("443", &p), 0);
	assert_int_equal(forward_ports_add(&after, &p), 0);
	assert_int_equal(forward_ports_parse_spec("8080", &p), 0);
	strcpy(p.target, "::1");
	assert_int_equal(forward_ports_add(&after, &p), 0);

	forward_ports_diff(&before, &after, record, &log);
	assert_int_equal(log.n, N(want));
	for (size_t i = 0; i < N(want); i++)
		assert_string_equal(log.lines[i], want[i]);

	/* the same set: nothing; and from nothing, everything added */
	log.n = 0;
	forward_ports_diff(&after, &after, record, &log);
	assert_int_equal(log.n, 0);
	memset(&before, 0, sizeof(before));
	forward_ports_diff(&before, &after, record, &log);
	assert_int_equal(log.n, after.n);
	assert_string_equal(log.lines[0], "+ tcp 443 -> guest 127.0.0.1:443");

	/* adding the same protocol and port replaces it */
	assert_int_equal(forward_ports_parse_spec("8080", &p), 0);
	assert_int_equal(forward_ports_add(&after, &p), 0);
	assert_int_equal(after.n, 4);
}

static void test_add_full(void **state)
{
	static struct forward_port_set s;
	struct forward_port p = { .proto = FORWARD_UDP, .target = "127.0.0.1" };

	(void)state;
	for (unsigned i = 0; i < FORWARD_PORTS_MAX; i++) {
		p.port = (uint16_t)(FORWARD_PORTS_MAX - i);
		assert_int_equal(forward_ports_add(&s, &p), 0);
	}
	p.port = 5000;
	assert_int_equal(forward_ports_add(&s, &p), -ENOSPC);
	assert_int_equal(s.p[0].port, 1);
}

static void test_spec(void **state)
{
	static const char *const bad[] = { "",	     "0",	 "65536",  "tcp:",     "udp:0",
					   "sctp:9", "080",	 "8080x",  " 80",      "+80",
					   "-1",     "tcp:80:1", "TCP:80", "udp:65536" };
	struct forward_port p;
	char buf[64];

	(void)state;
	assert_int_equal(forward_ports_parse_spec("8080", &p), 0);
	assert_int_equal(p.proto, FORWARD_TCP);
	assert_int_equal(p.port, 8080);
	assert_string_equal(p.target, "127.0.0.1");
	assert_int_equal(forward_ports_parse_spec("udp:65535", &p), 0);
	assert_int_equal(p.proto, FORWARD_UDP);
	assert_int_equal(p.port, 65535);
	forward_ports_relay_target(&p, buf, sizeof(buf));
	assert_string_equal(buf, "udp:127.0.0.1:65535");
	strcpy(p.target, "fd00::5");
	forward_ports_relay_target(&p, buf, sizeof(buf));
	assert_string_equal(buf, "udp:[fd00::5]:65535");
	forward_ports_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "udp 65535 -> guest [fd00::5]:65535");
	assert_int_equal(forward_ports_parse_spec("tcp:1", &p), 0);
	assert_int_equal(p.port, 1);
	for (size_t i = 0; i < N(bad); i++)
		if (forward_ports_parse_spec(bad[i], &p) != -EINVAL)
			fail_msg("accepted --port %s", bad[i]);
}

static void test_bind(void **state)
{
	static const char *const bad[] = { "",	   "localhost", "[1.2.3.4]", "1.2.3.4:80",
					   "[::1", "::1]",	"1.2.3",     "[]" };
	struct forward_bind b;

	(void)state;
	assert_int_equal(forward_ports_parse_bind("0.0.0.0", &b), 0);
	assert_int_equal(b.family, AF_INET);
	assert_string_equal(b.text, "0.0.0.0");
	assert_int_equal(forward_ports_parse_bind("::", &b), 0);
	assert_int_equal(b.family, AF_INET6);
	assert_string_equal(b.text, "::");
	assert_int_equal(forward_ports_parse_bind("[0:0::1]", &b), 0);
	assert_int_equal(b.family, AF_INET6);
	assert_string_equal(b.text, "::1");
	assert_int_equal(forward_ports_parse_bind("192.168.1.20", &b), 0);
	assert_string_equal(b.text, "192.168.1.20");
	for (size_t i = 0; i < N(bad); i++)
		if (forward_ports_parse_bind(bad[i], &b) != -EINVAL)
			fail_msg("accepted --bind %s", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target),	      cmocka_unit_test(test_from_json),
		cmocka_unit_test(test_from_json_bad), cmocka_unit_test(test_from_json_bounded),
		cmocka_unit_test(test_diff),	      cmocka_unit_test(test_add_full),
		cmocka_unit_test(test_spec),	      cmocka_unit_test(test_bind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
