/* agent/initctl.c: the client of init's control socket, against a stand-in
 * for init: the exchange, init's error, a reply that is not JSON, and the
 * bounds (a reply too long, a server that never answers, one that closes,
 * a request too long, nobody listening). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "agent-test.h"
#include "initctl.h"
#include "util.h"

static char why[INITCTL_WHY_MAX];

static int call_fake(int timeout_ms, json_t **reply)
{
	json_t *req = json_pack("{s:s}", "op", "services");
	int r;

	*reply = NULL;
	why[0] = '\0';
	r = initctl_call(fake.path, req, timeout_ms, reply, why, sizeof(why));
	json_decref(req);
	return r;
}

static void test_initctl_exchange(void **state)
{
	json_t *reply, *sent;

	(void)state;
	fake_start(FAKE_REPLY, "{\"services\": []}");
	assert_int_equal(call_fake(2000, &reply), 0);
	assert_true(json_is_array(json_object_get(reply, "services")));
	json_decref(reply);
	sent = request_sent();
	assert_string_equal(json_string_value(json_object_get(sent, "op")), "services");
	json_decref(sent);
	fake_stop();

	/* init's error: its text, as it is */
	fake_start(FAKE_REPLY, "{\"error\": \"no service named \\\"x\\\"\"}");
	assert_int_equal(call_fake(2000, &reply), -EREMOTEIO);
	assert_null(reply);
	assert_string_equal(why, "no service named \"x\"");
	fake_stop();

	fake_start(FAKE_REPLY, "[1, 2");
	assert_int_equal(call_fake(2000, &reply), -EPROTO);
	assert_non_null(strstr(why, "the reply is not JSON"));
	fake_stop();

	fake_start(FAKE_REPLY, "{\"error\": 5}");
	assert_int_equal(call_fake(2000, &reply), -EPROTO);
	fake_stop();
}

static void test_initctl_bounds(void **state)
{
	char path_why[INITCTL_WHY_MAX];
	json_t *reply, *big;
	uint64_t t0, ms;
	char *s;

	(void)state;
	/* a reply past 1 MiB and its slack: refused, not buffered for ever */
	fake_start(FAKE_LONG, NULL);
	assert_int_equal(call_fake(5000, &reply), -EMSGSIZE);
	assert_non_null(strstr(why, "longer than"));
	fake_stop();

	/* a server that never answers: an error within the bound */
	fake_start(FAKE_SILENT, NULL);
	t0 = now_mono_ns();
	assert_int_equal(call_fake(300, &reply), -ETIMEDOUT);
	ms = (now_mono_ns() - t0) / 1000000;
	assert_true(ms >= 290 && ms < 1500);
	assert_non_null(strstr(why, "no answer within 300 ms"));
	fake_stop();

	fake_start(FAKE_CLOSE, NULL);
	assert_int_equal(call_fake(2000, &reply), -EPIPE);
	assert_non_null(strstr(why, "without answering"));
	fake_stop();

	/* a request over init's line limit is not sent */
	fake_start(FAKE_REPLY, "{}");
	s = calloc(1, INITCTL_REQUEST_MAX);
	assert_non_null(s);
	memset(s, 'a', INITCTL_REQUEST_MAX - 1);
	big = json_pack("{s:s,s:s}", "op", "logs", "name", s);
	assert_int_equal(initctl_call(fake.path, big, 2000, &reply, why, sizeof(why)), -E2BIG);
	json_decref(big);
	free(s);
	assert_int_equal(fake.connections, 0);
	fake_stop();

	/* nobody listening: the socket file is there, its listener gone */
	fake_start(FAKE_REPLY, "{}");
	shutdown(fake.lfd, SHUT_RDWR);
	pthread_join(fake.thread, NULL);
	close(fake.lfd);
	big = json_pack("{s:s}", "op", "services");
	assert_int_equal(initctl_call(fake.path, big, 2000, &reply, path_why, sizeof(path_why)),
			 -ECONNREFUSED);
	snprintf(why, sizeof(why), "porthole-init's control socket %s: Connection refused",
		 fake.path);
	assert_string_equal(path_why, why);
	unlink(fake.path);
	assert_int_equal(initctl_call(fake.path, big, 2000, &reply, path_why, sizeof(path_why)),
			 -ENOENT);
	assert_non_null(strstr(path_why, "No such file or directory"));
	assert_int_equal(initctl_call("", big, 2000, &reply, path_why, sizeof(path_why)), -ENOENT);
	assert_non_null(strstr(path_why, "not configured"));
	json_decref(big);
	rmdir(fake.dir);
	fake.lfd = -1;
}

/* What init's reply may look like, and what it may not. */
static void test_initctl_replies(void **state)
{
	json_t *const untouched = json_null();
	json_t *reply, *req = json_pack("{s:s}", "op", "services");
	size_t big = 1 << 20;
	char *text, path[200];

	(void)state;
	/* JSON, but not an object; a member twice: not init's */
	for (const char *const *bad =
		     (const char *const[]){ "[1]", "5", "\"ok\"", "{\"ok\": true, \"ok\": false}",
					    NULL };
	     *bad; bad++) {
		fake_start(FAKE_REPLY, *bad);
		reply = untouched;
		assert_int_equal(initctl_call(fake.path, req, 2000, &reply, why, sizeof(why)),
				 -EPROTO);
		assert_ptr_equal(reply, untouched);
		assert_non_null(strstr(why, fake.path));
		fake_stop();
	}
	/* init's error leaves the reply alone too */
	fake_start(FAKE_REPLY, "{\"error\": \"no\"}");
	reply = untouched;
	assert_int_equal(initctl_call(fake.path, req, 2000, &reply, why, sizeof(why)), -EREMOTEIO);
	assert_ptr_equal(reply, untouched);
	assert_string_equal(why, "no");
	fake_stop();

	/* a reply in pieces is read whole; what follows its newline is not
	 * read as the reply (one request, one reply) */
	fake_start(FAKE_TRICKLE, "{\"services\": [{\"name\": \"web\"}]}");
	assert_int_equal(call_fake(2000, &reply), 0);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(reply, "services"), 0), "name")),
			    "web");
	json_decref(reply);
	fake_stop();

	/* init's largest reply, 1 MiB, fits */
	text = malloc(big + 1);
	assert_non_null(text);
	memset(text, 'a', big);
	memcpy(text, "{\"t\": \"", 7);
	memcpy(text + big - 2, "\"}", 2);
	text[big] = '\0';
	fake_start(FAKE_REPLY, text);
	assert_int_equal(call_fake(5000, &reply), 0);
	assert_int_equal(strlen(json_string_value(json_object_get(reply, "t"))), big - 9);
	json_decref(reply);
	fake_stop();
	free(text);

	/* a socket path longer than sun_path: said, and nothing connected */
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	reply = untouched;
	assert_int_equal(initctl_call(path, req, 2000, &reply, why, sizeof(why)), -ENAMETOOLONG);
	assert_ptr_equal(reply, untouched);
	assert_non_null(strstr(why, "path too long"));
	json_decref(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initctl_exchange),
		cmocka_unit_test(test_initctl_bounds),
		cmocka_unit_test(test_initctl_replies),
	};

	return cmocka_run_group_tests(tests, agent_test_setup, NULL);
}
