/* relay/target.c: the CONNECT line a porthole-relay client sends (unix:,
 * tcp: and udp: targets), against lines that are cut, too long, malformed
 * or name what is not a target, and the reasons the client is given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "target.h"

static int parse(const char *line, struct relay_target *t)
{
	const char *why = NULL;
	int r = relay_parse_connect(line, strlen(line), t, &why);

	if (r < 0)
		assert_non_null(why);
	return r;
}

static void test_targets(void **state)
{
	struct relay_target t;

	(void)state;
	assert_int_equal(parse("CONNECT unix:/run/docker.sock\n", &t), 30);
	assert_int_equal(t.family, AF_UNIX);
	assert_string_equal(((struct sockaddr_un *)&t.addr)->sun_path, "/run/docker.sock");

	assert_int_equal(parse("CONNECT tcp:127.0.0.1:8080\r\nGET /", &t), 28);
	assert_int_equal(t.family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&t.addr)->sin_port), 8080);
	assert_int_equal(ntohl(((struct sockaddr_in *)&t.addr)->sin_addr.s_addr), 0x7f000001);

	assert_int_equal(parse("CONNECT tcp:[::1]:65535\n", &t), 24);
	assert_int_equal(t.family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&t.addr)->sin6_port), 65535);
	assert_true(IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&t.addr)->sin6_addr));
	assert_int_equal(t.type, SOCK_STREAM);

	/* udp: the same addresses, a datagram socket */
	assert_int_equal(parse("CONNECT udp:10.0.2.15:53\n", &t), 25);
	assert_int_equal(t.family, AF_INET);
	assert_int_equal(t.type, SOCK_DGRAM);
	assert_int_equal(ntohs(((struct sockaddr_in *)&t.addr)->sin_port), 53);
	assert_int_equal(ntohl(((struct sockaddr_in *)&t.addr)->sin_addr.s_addr), 0x0a00020f);
	assert_int_equal(parse("CONNECT udp:[fe80::1]:5353\r\n", &t), 28);
	assert_int_equal(t.family, AF_INET6);
	assert_int_equal(t.type, SOCK_DGRAM);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&t.addr)->sin6_port), 5353);
	assert_int_equal(t.addr_len, sizeof(struct sockaddr_in6));
}

/* The reason a bad line gets, as the client reads it in its ERR line. */
static void test_reasons(void **state)
{
	static const struct {
		const char *line, *why;
	} cases[] = {
		{ "CONNECT udp:1.2.3.4\n", "expected udp:ADDRESS:PORT" },
		{ "CONNECT udp:[::1]\n", "expected udp:[IPv6]:PORT" },
		{ "CONNECT tcp:[::1]\n", "expected tcp:[IPv6]:PORT" },
		{ "CONNECT udp:::1:53\n", "not an IPv4 address (IPv6 goes in brackets)" },
		{ "CONNECT udp:1.2.3.4:0\n", "the port must be 1 to 65535" },
		{ "CONNECT sctp:1.2.3.4:9\n",
		  "the target must be unix:PATH, tcp:ADDRESS:PORT or udp:ADDRESS:PORT" },
	};
	struct relay_target t;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;

		assert_int_equal(
			relay_parse_connect(cases[i].line, strlen(cases[i].line), &t, &why),
			-EINVAL);
		assert_string_equal(why, cases[i].why);
	}
}

static void test_partial(void **state)
{
	struct relay_target t;
	char longline[RELAY_LINE_MAX + 10];

	(void)state;
	assert_int_equal(parse("", &t), 0);
	assert_int_equal(parse("CONN", &t), 0);
	assert_int_equal(parse("CONNECT unix:/ru", &t), 0);
	/* a line that can no longer fit is refused before its end */
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = 0;
	memcpy(longline, "CONNECT unix:/", 14);
	assert_int_equal(parse(longline, &t), -EINVAL);
}

static void test_bad(void **state)
{
	static const char *const bad[] = {
		"HELLO\n",
		"connect unix:/x\n",
		"CONNECT\n",
		"CONNECT  unix:/x\n",
		"CONNECT unix:relative\n",
		"CONNECT udp:1.2.3.4\n",
		"CONNECT udp:1.2.3.4:70000\n",
		"CONNECT udp:[::1]53\n",
		"CONNECT udp:localhost:53\n",
		"CONNECT UDP:1.2.3.4:53\n",
		"CONNECT sctp:1.2.3.4:5\n",
		"CONNECT tcp:1.2.3.4\n",
		"CONNECT tcp:1.2.3.4:0\n",
		"CONNECT tcp:1.2.3.4:65536\n",
		"CONNECT tcp:1.2.3.4:080\n",
		"CONNECT tcp:1.2.3.4:-1\n",
		"CONNECT tcp:1.2.3.4:80x\n",
		"CONNECT tcp:256.1.1.1:80\n",
		"CONNECT tcp:::1:80\n",
		"CONNECT tcp:[::1]80\n",
		"CONNECT tcp:[::1\n",
		"CONNECT tcp:[1.2.3.4]:80\n",
		"CONNECT tcp:localhost:80\n",
		"CONNECT unix:/a\rb\n",
		"CONNECT unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	};
	struct relay_target t;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &t) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	}
	/* a NUL inside the line */
	const char nul[] = "CONNECT unix:/a\0b\n";
	const char *why;

	assert_int_equal(relay_parse_connect(nul, sizeof(nul) - 1, &t, &why), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
