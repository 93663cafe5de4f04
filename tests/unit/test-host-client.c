/* host/client.c: addresses, reply framing and checking, and whole
 * calls against a scripted peer on a unix socket (the replies are qemu-ga
 * 7.2's, from tests/fixtures/qga-7.2-replies.md). */
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

/* qemu-ga's answer to "\xff" + guest-sync-delimited with id 123, byte for byte. */
static const char qga_sync_reply[] =
	"{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray "
	"'\\\\uFFFD'\"}}\n\xff{\"return\": 123}\n";

static void test_addr_parse(void **state)
{
	struct client_addr a;
	char buf[200];

	(void)state;
	assert_int_equal(client_addr_parse("unix:/run/agent.sock", &a), 0);
	assert_int_equal(a.kind, CLIENT_ADDR_UNIX);
	assert_string_equal(a.path, "/run/agent.sock");

	assert_int_equal(client_addr_parse("unix:rel/a:b.sock", &a), 0);
	assert_string_equal(a.path, "rel/a:b.sock");

	assert_int_equal(client_addr_parse("vsock:3:1024", &a), 0);
	assert_int_equal(a.kind, CLIENT_ADDR_VSOCK);
	assert_int_equal(a.cid, 3);
	assert_int_equal(a.port, 1024);
	assert_int_equal(client_addr_parse("vsock:4294967295:4294967295", &a), 0);
	assert_int_equal(a.cid, UINT32_MAX);

	/* the port follows the last colon; the path may have colons */
	assert_int_equal(client_addr_parse("hvsock:/tmp/a:b/v.sock:52", &a), 0);
	assert_int_equal(a.kind, CLIENT_ADDR_HVSOCK);
	assert_string_equal(a.path, "/tmp/a:b/v.sock");
	assert_int_equal(a.port, 52);

	client_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "hvsock:/tmp/a:b/v.sock:52");
	assert_int_equal(client_addr_parse("vsock:2:1024", &a), 0);
	client_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "vsock:2:1024");
}

static void test_addr_parse_errors(void **state)
{
	static const char *const bad[] = {
		"",	      "/run/agent.sock", "unix:",	  "tcp:1.2.3.4:5",
		"vsock:3",    "vsock::1024",	 "vsock:3:",	  "vsock:-1:1024",
		"vsock:3:x",  "vsock:3:1024:5",	 "hvsock:/a/b",	  "hvsock::52",
		"hvsock:/a:", "hvsock:/a:+5",	 "vsock: 3:1024", "UNIX:/a",
	};
	struct client_addr a;
	char longpath[200];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = client_addr_parse(bad[i], &a);

		if (r >= 0)
			fail_msg("\"%s\" was accepted", bad[i]);
	}
	assert_int_equal(client_addr_parse("vsock:4294967296:1", &a), -ERANGE);
	memset(longpath, 'x', sizeof(longpath));
	memcpy(longpath, "unix:", 5);
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(client_addr_parse(longpath, &a), -ENAMETOOLONG);
}

/* Pushes TEXT in pieces of CHUNK bytes (0: at once) and collects the
 * replies' compact forms, and the errors, into OUT separated by '|'. */
static void frame_all(const char *text, size_t len, size_t chunk, char *out, size_t size)
{
	struct client_reader r;
	size_t off = 0;

	out[0] = '\0';
	client_reader_init(&r, 1024);
	while (off < len) {
		size_t n = chunk && chunk < len - off ? chunk : len - off;
		json_t *v;
		int ret;

		assert_int_equal(client_reader_push(&r, text + off, n), 0);
		off += n;
		while ((ret = client_reader_next(&r, &v, NULL)) != 0) {
			char *s = ret == 1 ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

			snprintf(out + strlen(out), size - strlen(out), "%s%s", *out ? "|" : "",
				 ret == 1	   ? s
				 : ret == -EBADMSG ? "EBADMSG"
						   : "ERR");
			free(s);
			if (ret == 1)
				json_decref(v);
			if (ret < 0 && ret != -EBADMSG)
				break;
		}
	}
	client_reader_free(&r);
}

static void test_framing_any_split(void **state)
{
	/* qemu-ga's forms: one space after ':' and ','; "\n" after each; a
	 * brace and an escaped quote inside strings; 0xFF before a sync reply. */
	static const char text[] = "{\"return\": {}, \"id\": 1}\n"
				   "{\"return\": 1, \"id\": \"a}b{c\"}\n"
				   "\xff{\"return\": 123}\n"
				   "{\"return\": \"q\\\"}\"}{\"return\": [1, {\"x\": []}]}\r\n";
	static const char want[] = "{\"id\":1,\"return\":{}}|{\"id\":\"a}b{c\",\"return\":1}|"
				   "{\"return\":123}|{\"return\":\"q\\\"}\"}|"
				   "{\"return\":[1,{\"x\":[]}]}";
	char out[512];

	(void)state;
	for (size_t chunk = 0; chunk <= sizeof(text); chunk++) {
		frame_all(text, sizeof(text) - 1, chunk, out, sizeof(out));
		assert_string_equal(out, want);
	}
}

static void test_framing_bad_input(void **state)
{
	char out[512];

	(void)state;
	/* a stray byte is one error, and the reply after it still comes */
	frame_all("x{\"return\": 1}", 14, 0, out, sizeof(out));
	assert_string_equal(out, "EBADMSG|{\"return\":1}");
	/* an object jansson refuses is consumed: the next one is read */
	frame_all("{\"return\":}\n{\"return\": 2}\n", 26, 0, out, sizeof(out));
	assert_string_equal(out, "EBADMSG|{\"return\":2}");
	/* a bare array or number between replies is not a reply: one error
	 * each, and the reply after them still comes */
	frame_all("[1]{\"return\": 3}", 16, 0, out, sizeof(out));
	assert_string_equal(out, "EBADMSG|{\"return\":3}");
	frame_all("7 } \"s\" {\"return\": 4}", 21, 0, out, sizeof(out));
	assert_string_equal(out, "EBADMSG|EBADMSG|EBADMSG|{\"return\":4}");
	/* an incomplete object is no reply yet */
	frame_all("{\"return\": {\"a\": \"}\"", 20, 0, out, sizeof(out));
	assert_string_equal(out, "");
}

static void test_framing_limit(void **state)
{
	struct client_reader r;
	char big[2048];
	json_t *v = NULL;

	(void)state;
	memset(big, ' ', sizeof(big));
	memcpy(big, "{\"return\": \"", 12);
	client_reader_init(&r, 1024);
	assert_int_equal(client_reader_push(&r, big, sizeof(big)), 0);
	assert_int_equal(client_reader_next(&r, &v, NULL), -EMSGSIZE);
	assert_null(v);
	client_reader_free(&r);

	/* complete, but over the limit */
	memcpy(big + sizeof(big) - 2, "\"}", 2);
	client_reader_init(&r, 1024);
	assert_int_equal(client_reader_push(&r, big, sizeof(big)), 0);
	assert_int_equal(client_reader_next(&r, &v, NULL), -EMSGSIZE);
	client_reader_free(&r);
}

static void test_skip_to_sync(void **state)
{
	struct client_reader r;
	size_t dropped = 0;
	json_t *v = NULL;

	(void)state;
	client_reader_init(&r, 0);
	assert_int_equal(client_reader_push(&r, qga_sync_reply, sizeof(qga_sync_reply) - 1), 0);
	/* the error drawn by the client's own 0xFF has no raw 0xFF in it */
	assert_int_equal(client_reader_skip_to_sync(&r, &dropped), 1);
	assert_int_equal(dropped, strchr(qga_sync_reply, '\xff') - qga_sync_reply + 1);
	assert_int_equal(client_reader_next(&r, &v, NULL), 1);
	assert_int_equal(json_integer_value(json_object_get(v, "return")), 123);
	json_decref(v);
	assert_int_equal(client_reader_next(&r, &v, NULL), 0);
	assert_int_equal(client_reader_skip_to_sync(&r, &dropped), 0);
	assert_int_equal(dropped, 0);

	/* half an object is dropped with the rest when no marker follows */
	assert_int_equal(client_reader_push(&r, "{\"return\": {\"a", 14), 0);
	assert_int_equal(client_reader_next(&r, &v, NULL), 0);
	assert_int_equal(client_reader_skip_to_sync(&r, &dropped), 0);
	assert_int_equal(dropped, 14);
	assert_int_equal(client_reader_push(&r, "\xff{\"return\": 9}", 15), 0);
	assert_int_equal(client_reader_skip_to_sync(&r, &dropped), 1);
	assert_int_equal(client_reader_next(&r, &v, NULL), 1);
	json_decref(v);
	client_reader_free(&r);
}

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

/* A scripted peer: accepts one connection on a unix socket and runs STEPS:
 * wait until the bytes received contain EXPECT ("" for none), then write
 * SEND (with "%ID%" replaced by the id of the last guest-sync-delimited
 * seen), or close when SEND is NULL. */
struct step {
	const char *expect;
	const char *send;
	size_t send_len; /* 0: strlen(send) */
};

struct peer {
	char dir[64];
	char path[108];
	int listen_fd;
	bool hvsock; /* expect "CONNECT 52\n" first and answer HVSOCK_ANSWER */
	const char *hvsock_answer;
	const struct step *steps;
	size_t n_steps;
	char got[8192];
	size_t got_len;
	pthread_t thread;
};

static bool peer_wait_for(struct peer *p, int fd, const char *expect)
{
	while (!memmem(p->got, p->got_len, expect, strlen(expect))) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 5000) <= 0 || p->got_len == sizeof(p->got))
			return false;
		n = read(fd, p->got + p->got_len, sizeof(p->got) - p->got_len);
		if (n <= 0)
			return false;
		p->got_len += (size_t)n;
	}
	return true;
}

static void *peer_run(void *arg)
{
	struct peer *p = arg;
	char sync_id[32] = "0";
	int fd = accept(p->listen_fd, NULL, NULL);

	if (fd < 0)
		return NULL;
	if (p->hvsock) {
		if (!peer_wait_for(p, fd, "CONNECT 52\n"))
			goto out;
		if (!p->hvsock_answer)
			goto out;
		if (write(fd, p->hvsock_answer, strlen(p->hvsock_answer)) < 0)
			goto out;
	}
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct step *s = &p->steps[i];
		char buf[1024], *at;
		const char *id;
		size_t len;

		if (!peer_wait_for(p, fd, s->expect))
			break;
		/* the last sync id seen so far */
		for (const char *q = p->got; (q = memmem(q, p->got_len - (size_t)(q - p->got),
							 "\"arguments\":{\"id\":", 18));
		     q += 18)
			snprintf(sync_id, sizeof(sync_id), "%.*s",
				 (int)strspn(q + 18, "0123456789"), q + 18);
		if (!s->send)
			break;
		len = s->send_len ? s->send_len : strlen(s->send);
		at = memmem(s->send, len, "%ID%", 4);
		if (at) {
			id = sync_id;
			snprintf(buf, sizeof(buf), "%.*s%s%.*s", (int)(at - s->send), s->send, id,
				 (int)(len - (size_t)(at - s->send) - 4), at + 4);
			if (write(fd, buf, strlen(buf)) < 0)
				break;
		} else if (write(fd, s->send, len) < 0) {
			break;
		}
	}
out:
	close(fd);
	return NULL;
}

static void peer_start(struct peer *p, const struct step *steps, size_t n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(p->dir, sizeof(p->dir), "/tmp/test-host-client.XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(p->path, sizeof(p->path), "%s/agent.sock", p->dir);
	strcpy(sa.sun_path, p->path);
	p->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(p->listen_fd >= 0);
	assert_int_equal(bind(p->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(p->listen_fd, 1), 0);
	p->steps = steps;
	p->n_steps = n;
	assert_int_equal(pthread_create(&p->thread, NULL, peer_run, p), 0);
}

static void peer_stop(struct peer *p)
{
	pthread_join(p->thread, NULL);
	close(p->listen_fd);
	unlink(p->path);
	rmdir(p->dir);
}

static struct client *open_peer(struct peer *p, int timeout_ms, int expect_r,
				struct client_error *err)
{
	struct client_options o = { .connect_timeout_ms = timeout_ms };
	struct client *c = NULL;
	char addr[160];

	snprintf(addr, sizeof(addr), p->hvsock ? "hvsock:%s:52" : "unix:%s", p->path);
	assert_int_equal(client_open(addr, &o, &c, err), expect_r);
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

static void test_hvsock_handshake(void **state)
{
	const struct step steps[] = {
		{ "guest-sync-delimited", "\xff{\"return\": %ID%}\n", 0 },
		{ "\"execute\":\"guest-ping\"", "{\"return\": {}, \"id\": 1}\n", 0 },
	};
	struct peer p = { .hvsock = true, .hvsock_answer = "OK 1073741824\n" };
	struct client_error err;
	json_t *result = NULL;
	struct client *c;

	(void)state;
	peer_start(&p, steps, sizeof(steps) / sizeof(steps[0]));
	c = open_peer(&p, 5000, 0, &err);
	assert_int_equal(memcmp(p.got, "CONNECT 52\n\xff", 12), 0);
	assert_int_equal(client_call(c, "guest-ping", NULL, 5000, &result, &err), 0);
	json_decref(result);
	client_close(c);
	peer_stop(&p);

	/* the backend closes when nothing listens on the port */
	p = (struct peer){ .hvsock = true, .hvsock_answer = NULL };
	peer_start(&p, steps, 0);
	assert_null(open_peer(&p, 5000, -ECONNREFUSED, &err));
	assert_non_null(strstr(err.desc, "port 52"));
	peer_stop(&p);

	/* anything but "OK ..." */
	p = (struct peer){ .hvsock = true, .hvsock_answer = "ERR no\n" };
	peer_start(&p, steps, 0);
	assert_null(open_peer(&p, 5000, -EPROTO, &err));
	peer_stop(&p);
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
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_addr_parse_errors),
		cmocka_unit_test(test_framing_any_split),
		cmocka_unit_test(test_framing_bad_input),
		cmocka_unit_test(test_framing_limit),
		cmocka_unit_test(test_skip_to_sync),
		cmocka_unit_test(test_reply_result),
		cmocka_unit_test(test_open_resyncs_past_leftovers),
		cmocka_unit_test(test_call_ids),
		cmocka_unit_test(test_sync_timeout_and_garbage),
		cmocka_unit_test(test_hvsock_handshake),
		cmocka_unit_test(test_connect_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
