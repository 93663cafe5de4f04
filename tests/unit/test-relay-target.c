/* relay/target.c: the CONNECT line a porthole-relay client sends, against
 * lines that are cut, too long, malformed or name what is not a target. */
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
		"CONNECT udp:1.2.3.4:5\n",
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
