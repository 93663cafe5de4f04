/* host/vsock-hybrid.c: the "CONNECT <port>\n" line, whole, in pieces, and
 * every way a client can get it wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "vsock-hybrid.h"

static int parse(const char *s, uint32_t *port)
{
	return vsock_hybrid_parse_connect(s, strlen(s), port);
}

static void test_connect_lines(void **state)
{
	uint32_t port = 7;

	(void)state;
	assert_int_equal(parse("CONNECT 1024\n", &port), 13);
	assert_int_equal(port, 1024);
	assert_int_equal(parse("CONNECT 0\n", &port), 10);
	assert_int_equal(port, 0);
	assert_int_equal(parse("CONNECT 4294967295\r\n", &port), 20);
	assert_int_equal(port, UINT32_MAX);
	/* the bytes after the line are the connection's */
	assert_int_equal(parse("CONNECT 52\nhello", &port), 11);
	assert_int_equal(port, 52);
}

/* Every prefix of a good line asks for more, and sets nothing. */
static void test_partial(void **state)
{
	const char *line = "CONNECT 1024\r\n";
	uint32_t port = 7;

	(void)state;
	for (size_t n = 0; n < strlen(line); n++)
		assert_int_equal(vsock_hybrid_parse_connect(line, n, &port), 0);
	assert_int_equal(port, 7);
}

static void test_refused(void **state)
{
	static const char *bad[] = {
		"connect 1024\n",
		"CONNECT  1024\n",
		"CONNECT\n",
		"CONNECT \n",
		"CONNECT -1\n",
		"CONNECT +1\n",
		"CONNECT 01\n",
		"CONNECT 4294967296\n",
		"CONNECT 99999999999\n",
		"CONNECT 12 \n",
		"CONNECT 12\r\r\n",
		"CONNECT 1x\n",
		"CONNECT 0x10\n",
		"OK 1024\n",
		"CONNECT 12\rx",
		"X",
	};
	uint32_t port = 7;
	char longline[64];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &port), -EINVAL);
		assert_int_equal(port, 7);
	}
	/* a NUL inside */
	assert_int_equal(vsock_hybrid_parse_connect("CONNECT 1\0\n", 11, &port), -EINVAL);
	/* leading zeros forever, digits forever: refused, not read forever */
	memset(longline, '0', sizeof(longline));
	memcpy(longline, "CONNECT 1", 9);
	assert_int_equal(vsock_hybrid_parse_connect(longline, sizeof(longline), &port), -EINVAL);
	memcpy(longline, "CONNECT 0", 9);
	assert_int_equal(vsock_hybrid_parse_connect(longline, sizeof(longline), &port), -EINVAL);
}

static void test_ok(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(vsock_hybrid_format_ok(49152, buf, sizeof(buf)), 9);
	assert_string_equal(buf, "OK 49152\n");
	assert_int_equal(vsock_hybrid_format_ok(UINT32_MAX, buf, 14), -ENOSPC);
	assert_int_equal(vsock_hybrid_format_ok(UINT32_MAX, buf, 15), 14);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_lines),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
