/* host/client-error.c: the groups errors fall into (the CLI's exit codes
 * rest on them), and messages with their context. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "client-error.h"

static void test_status(void **state)
{
	static const struct {
		int r;
		enum client_status status;
	} cases[] = {
		{ 0, CLIENT_OK },
		{ 1, CLIENT_OK },
		{ -EREMOTEIO, CLIENT_GUEST_ERROR },
		{ -ETIMEDOUT, CLIENT_TIMEOUT },
		{ -EBADMSG, CLIENT_PROTOCOL_ERROR },
		{ -EPROTO, CLIENT_PROTOCOL_ERROR },
		{ -EMSGSIZE, CLIENT_PROTOCOL_ERROR },
		{ -ECONNREFUSED, CLIENT_IO_ERROR },
		{ -EPIPE, CLIENT_IO_ERROR },
		{ -ENOMEM, CLIENT_IO_ERROR },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(client_status(cases[i].r), cases[i].status);
}

static void test_messages(void **state)
{
	struct client_error err;

	(void)state;
	memcpy(err.class, "GenericError", 13);
	assert_int_equal(client_fail(&err, -EPIPE, "%s closed the connection", "unix:/a"), -EPIPE);
	assert_string_equal(err.class, "");
	assert_string_equal(err.desc, "unix:/a closed the connection");
	/* the context goes before what the deeper function said */
	assert_int_equal(client_fail_in(&err, -EPIPE, "from %s", "vsock:3:1024"), -EPIPE);
	assert_string_equal(err.desc, "from vsock:3:1024: unix:/a closed the connection");
	/* no ERR: nothing said, the error still returned */
	assert_int_equal(client_fail(NULL, -EBADMSG, "x"), -EBADMSG);
	assert_int_equal(client_fail_in(NULL, -EBADMSG, "x"), -EBADMSG);
	/* cut to fit, never overrun */
	memset(err.desc, 'x', sizeof(err.desc) - 1);
	err.desc[sizeof(err.desc) - 1] = '\0';
	client_fail_in(&err, -EIO, "context");
	assert_int_equal(strlen(err.desc), sizeof(err.desc) - 1);
	assert_memory_equal(err.desc, "context: xxx", 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
