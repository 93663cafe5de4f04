/* host/client.c, the call engine: replies checked, the resync past a
 * previous client's leftovers, ids matched, pipelining, commands that answer
 * nothing on success, against a scripted peer on a unix socket (the replies
 * are qemu-ga 7.2's, from tests/fixtures/qga-7.2-replies.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "host-test.h"

static json_t *parse(const char *s)
{
	json_t *v = json_loads(s, 0, NULL);

	assert_non_null(v);
	return v;
}

static void test_reply_result(void **state)
{
	struct client_error err;
	json_t *v, *result = NULL;

	(void)state;
	v = parse("{\"return\": 1795784978129112000}");
	assert_int_equal(client_reply_result(v, &result, &err), 0);
	assert_true(json_integer_value(result) == 1795784978129112000LL);
	json_decref(v);

	v = parse("{\"id\": 7, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The "
		  "command guest-nonexistent has not been found\"}}");
	assert_int_equal(client_reply_result(v, &result, &err), -EREMOTEIO);
	assert_string_equal(err.class, "CommandNotFound");
	assert_string_equal(err.desc, "The command guest-nonexistent has not been found");
	assert_int_equal(client_status(-EREMOTEIO), CLIENT_GUEST_ERROR);
	json_decref(v);

	static const char *const bad[] = {
		"{}",
		"{\"id\": 1}",
		"{\"return\": 1, \"error\": {\"class\": \"A\", \"desc\": \"B\"}}",
		"{\"error\": \"x\"}",
		"{\"error\": {\"class\": \"A\"}}",
		"{\"error\": {\"class\": 1, \"desc\": \"B\"}}",
		"[1]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = parse(bad[i]);
		assert_int_equal(client_reply_result(v, &result, &err), -EBADMSG);
		assert_string_equal(err.class, "");
		json_decref(v);
	}
	assert_int_equal(client_status(-EBADMSG), CLIENT_PROTOCOL_ERROR);
	assert_int_equal(client_status(-ETIMEDOUT), CLIENT_TIMEOUT);
	assert_int_equal(client_status(-ECONNREFUSED), CLIENT_IO_ERROR);
	assert_int_equal(client_status(0), CLIENT_OK);
}

static struct client *open_peer(struct peer *p, int timeout_ms, int expect_r,
				struct client_error *err)
{
	struct client_options o = { .connect_timeout_ms = timeout_ms };
	struct client *c = NULL;

	assert_int_equal(client_open(p->address, &o, &c, err), expect_r);
	return c;
}

static void test_open_resyncs_past_leftovers(void **state)
{
	/* the port holds a previous client's replies, an old sync reply and
	 * half an object; then qemu-ga's answer to our 0xFF and sync */
	static const char leftovers[] = "{\"return\": {}, \"id\": 99}\n\xff{\"return\": 555}\n"
					"{\"return\": {\"half\": ";
	const struct step steps[] = {
		{ "guest-sync-delimited", leftovers, 0 },
		{ "",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, "
		  "stray '\\\\uFFFD'\"}}\n\xff{\"return\": %ID%}\n",
		  0 },
		{ "\"execute\":\"guest-ping\"", "{\"return\": {}, \"id\": 1}\n", 0 },
		{ "\"execute\":\"guest-info\"",
		  "{\"id\": 2, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command "
		  "guest-info has been disabled\"}}\n",
		  0 },
	};
	struct peer p = { 0 };
	struct client_error err;
	json_t *result = NULL;
	struct client *c;

	(void)state;
	peer_start(&p, steps, sizeof(steps) / sizeof(steps[0]));
	c = open_peer(&p, 5000, 0, &err);
	/* the 0xFF comes first, then the request */
	assert_true(p.got_len > 0 && (unsigned char)p.got[0] == 0xff);
	assert_int_equal(client_call(c, "guest-ping", NULL, 5000, &result, &err), 0);
	assert_true(json_is_object(result) && json_object_size(result) == 0);
	json_decref(result);
	assert_int_equal(client_call(c, "guest-info", "{}", 5000, &result, &err), -EREMOTEIO);
	assert_string_equal(err.class, "CommandNotFound");
	assert_string_equal(err.desc, "Command guest-info has been disabled");
	assert_int_equal(client_pending(c), 0);
	client_close(c);
	peer_stop(&p);
	/* the requests as sent: an increasing id, arguments only when given */
	assert_non_null(memmem(p.got, p.got_len, "{\"execute\":\"guest-ping\",\"id\":1}", 31));
	assert_non_null(memmem(p.got, p.got_len,
			       "{\"execute\":\"guest-info\",\"id\":2,\"arguments\":{}}", 46));
}

static void test_call_ids(void **state)
{
	const struct step steps[] = {
		{ "guest-sync-delimited", "\xff{\"return\": %ID%}\n", 0 },
		/* a late reply to an earlier id is skipped, then ours */
		{ "\"id\":1}", "", 0 },
		{ "\"id\":2}", "{\"return\": 5, \"id\": 1}\n{\"return\": 6, \"id\": 2}\n", 0 },
		/* an id never sent is a protocol error */
		{ "\"id\":3}", "{\"return\": 7, \"id\": 42}\n", 0 },
		{ "\"id\":4}", "{\"return\": 8}\n", 0 },
		{ "\"id\":5}", NULL, 0 },
	};
	struct peer p = { 0 };
	struct client_error err;
	json_t *result = NULL;
	struct client *c;

	(void)state;
	peer_start(&p, steps, sizeof(steps) / sizeof(steps[0]));
	c = open_peer(&p, 5000, 0, &err);
	/* id 1 gets no reply in time */
	assert_int_equal(client_call(c, "guest-get-time", NULL, 100, &result, &err), -ETIMEDOUT);
	assert_int_equal(client_status(-ETIMEDOUT), CLIENT_TIMEOUT);
	assert_int_equal(client_call(c, "guest-get-time", NULL, 5000, &result, &err), 0);
	assert_int_equal(json_integer_value(result), 6);
	json_decref(result);
	assert_int_equal(client_call(c, "guest-get-time", NULL, 5000, &result, &err), -EPROTO);
	assert_int_equal(client_call(c, "guest-get-time", NULL, 5000, &result, &err), -EPROTO);
	/* the peer closes: an I/O error, not a hang */
	assert_int_equal(client_call(c, "guest-get-time", NULL, 5000, &result, &err), -EPIPE);
	assert_int_equal(client_status(-EPIPE), CLIENT_IO_ERROR);
	client_close(c);
	peer_stop(&p);
}

static void test_sync_timeout_and_garbage(void **state)
{
	/* a peer that answers only with bytes that are not a sync reply */
	const struct step steps[] = {
		{ "guest-sync-delimited", "garbage {\"return\": 1}\n\xffnot json\n", 0 },
		{ "never", NULL, 0 },
	};
	struct peer p = { 0 };
	struct client_error err;

	(void)state;
	peer_start(&p, steps, sizeof(steps) / sizeof(steps[0]));
	assert_null(open_peer(&p, 200, -ETIMEDOUT, &err));
	assert_non_null(strstr(err.desc, "resync"));
	peer_stop(&p);
}

static void test_pipeline(void **state)
{
	const struct step steps[] = {
		{ "guest-sync-delimited", "\xff{\"return\": %ID%}\n", 0 },
		/* three requests in one write, three replies in one */
		{ "\"id\":3}",
		  "{\"return\": {}, \"id\": 1}\n{\"return\": {}, \"id\": 2}\n"
		  "{\"id\": 3, \"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}}\n",
		  0 },
	};
	struct peer p = { 0 };
	struct client_error err;
	struct client *c;

	(void)state;
	peer_start(&p, steps, sizeof(steps) / sizeof(steps[0]));
	c = open_peer(&p, 5000, 0, &err);
	for (uint64_t i = 1; i <= 3; i++) {
		uint64_t id = 0;

		assert_int_equal(client_queue(c, "guest-ping", NULL, &id, &err), 0);
		assert_int_equal(id, i);
	}
	assert_int_equal(client_pending(c), 3);
	assert_int_equal(client_flush(c, 5000, &err), 0);
	for (uint64_t i = 1; i <= 3; i++) {
		json_t *reply = NULL;
		uint64_t id = 0;

		/* a guest error is a reply like any other here */
		assert_int_equal(client_recv(c, 5000, &reply, &id, &err), 0);
		assert_int_equal(id, i);
		assert_int_equal(client_reply_result(reply, NULL, &err), i == 3 ? -EREMOTEIO : 0);
		json_decref(reply);
	}
	assert_int_equal(client_pending(c), 0);
	client_close(c);
	peer_stop(&p);
}

static void test_call_silent(void **state)
{
	/* guest-shutdown answers nothing when it succeeds: the sync behind
	 * it, or the agent closing, says it was taken; its error, that not */
	static const char *const answers[] = {
		"{\"return\": 2, \"id\": 2}\n",
		NULL,
		"{\"id\": 1, \"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}}\n",
	};
	struct client_error err;

	(void)state;
	assert_true(client_command_silent("guest-shutdown"));
	assert_true(client_command_silent("guest-suspend-ram"));
	assert_false(client_command_silent("guest-ping"));
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		const struct step steps[] = {
			{ "guest-sync-delimited", "\xff{\"return\": %ID%}\n", 0 },
			{ "\"execute\":\"guest-sync\"", answers[i], 0 },
		};
		struct peer p = { 0 };
		json_t *args = json_pack("{s:s}", "mode", "halt");
		bool closed = true;
		struct client *c;
		int r;

		peer_start(&p, steps, sizeof(steps) / sizeof(steps[0]));
		c = open_peer(&p, 5000, 0, &err);
		r = client_call_silent(c, "guest-shutdown", args, 5000, &closed, &err);
		json_decref(args);
		if (i == 0) {
			assert_int_equal(r, 0);
			assert_false(closed);
		} else if (i == 1) {
			assert_int_equal(r, 0);
			assert_true(closed);
		} else {
			assert_int_equal(r, -EREMOTEIO);
			assert_string_equal(err.desc, "no");
		}
		client_close(c);
		peer_stop(&p);
		/* the command first, then the sync with the next id */
		assert_non_null(
			memmem(p.got, p.got_len,
			       "{\"execute\":\"guest-shutdown\",\"id\":1,"
			       "\"arguments\":{\"mode\":\"halt\"}}"
			       "{\"execute\":\"guest-sync\",\"id\":2,\"arguments\":{\"id\":2}}",
			       115));
	}
}

static void test_connect_errors(void **state)
{
	struct client_error err;
	struct client *c = NULL;

	(void)state;
	assert_int_equal(client_open("unix:/nonexistent/agent.sock", NULL, &c, &err), -ENOENT);
	assert_non_null(strstr(err.desc, "unix:/nonexistent/agent.sock"));
	assert_int_equal(client_open("tcp:x", NULL, &c, &err), -EINVAL);
	assert_null(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_result),
		cmocka_unit_test(test_open_resyncs_past_leftovers),
		cmocka_unit_test(test_call_ids),
		cmocka_unit_test(test_sync_timeout_and_garbage),
		cmocka_unit_test(test_pipeline),
		cmocka_unit_test(test_call_silent),
		cmocka_unit_test(test_connect_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
