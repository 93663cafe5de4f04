/* host/client-reader.c: replies framed out of any split of the bytes, what
 * is not a reply, the size limit, and the skip to guest-sync-delimited's
 * 0xFF (the bytes are qemu-ga 7.2's, tests/fixtures/qga-7.2-replies.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-reader.h"

/* qemu-ga's answer to "\xff" + guest-sync-delimited with id 123, byte for byte. */
static const char qga_sync_reply[] =
	"{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray "
	"'\\\\uFFFD'\"}}\n\xff{\"return\": 123}\n";

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

	/* over the limit, then cut by a 0xFF in the same read: over the limit
	 * still, as when the bytes come one read at a time (it was "cut short",
	 * EBADMSG, and the reader went on: fuzz-host-client-reader) */
	big[sizeof(big) - 2] = '\xff';
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
	assert_int_equal(client_reader_push(&r, "\xff{\"return\": 9}", 14), 0);
	assert_int_equal(client_reader_skip_to_sync(&r, &dropped), 1);
	assert_int_equal(client_reader_next(&r, &v, NULL), 1);
	json_decref(v);

	/* half an object not framed yet is counted once (fuzz-host-client-reader
	 * found it counted twice: fed to the framer, then dropped by it) */
	assert_int_equal(client_reader_push(&r, "[1]\n{\"return\": {\"a", 18), 0);
	assert_int_equal(client_reader_skip_to_sync(&r, &dropped), 0);
	assert_int_equal(dropped, 18);
	/* and half a reply framed before the marker is dropped with it */
	assert_int_equal(client_reader_push(&r, "{\"a", 3), 0);
	assert_int_equal(client_reader_next(&r, &v, NULL), 0);
	assert_int_equal(client_reader_push(&r, "\xff{}", 3), 0);
	assert_int_equal(client_reader_skip_to_sync(&r, &dropped), 1);
	assert_int_equal(dropped, 4);
	assert_int_equal(client_reader_next(&r, &v, NULL), 1);
	json_decref(v);
	client_reader_free(&r);
}

static void test_framing_cut_and_deep(void **state)
{
	struct client_reader r;
	char out[512], deep[2100];
	json_t *v = NULL;
	size_t n = 0;

	(void)state;
	/* a 0xFF inside a reply: that reply is lost, the next one is whole */
	frame_all("{\"return\": \"a\xff{\"return\": 5}", 27, 0, out, sizeof(out));
	assert_string_equal(out, "EBADMSG|{\"return\":5}");
	/* nesting past the framer's depth (1024) is an error, not a crash,
	 * and the reply after it still comes */
	memcpy(deep, "{\"return\":", 10);
	n = 10;
	memset(deep + n, '[', 1025);
	n += 1025;
	memset(deep + n, ']', 1025);
	n += 1025;
	memcpy(deep + n, "}{\"return\":6}", 13);
	n += 13;
	client_reader_init(&r, 0);
	assert_int_equal(client_reader_push(&r, deep, n), 0);
	assert_int_equal(client_reader_next(&r, &v, NULL), -EBADMSG);
	assert_int_equal(client_reader_next(&r, &v, NULL), 1);
	assert_int_equal(json_integer_value(json_object_get(v, "return")), 6);
	json_decref(v);
	client_reader_free(&r);
}

static void test_read_into_the_reader(void **state)
{
	struct client_reader r;
	json_t *v = NULL;
	size_t room;
	char *at;

	(void)state;
	client_reader_init(&r, 0);
	assert_int_equal(r.max, 16u * 1024 * 1024);
	assert_int_equal(client_reader_reserve(&r, 100, &at, &room), 0);
	assert_true(room >= 100);
	memcpy(at, "{\"return\": 1}\n{\"ret", 19);
	client_reader_commit(&r, 19);
	assert_int_equal(client_reader_next(&r, &v, NULL), 1);
	json_decref(v);
	assert_int_equal(client_reader_next(&r, &v, NULL), 0);
	/* the rest of a reply arrives in the next read */
	assert_int_equal(client_reader_reserve(&r, 100, &at, &room), 0);
	memcpy(at, "urn\": 2}", 8);
	client_reader_commit(&r, 8);
	assert_int_equal(client_reader_next(&r, &v, NULL), 1);
	assert_int_equal(json_integer_value(json_object_get(v, "return")), 2);
	json_decref(v);
	client_reader_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_framing_any_split),
		cmocka_unit_test(test_framing_bad_input),
		cmocka_unit_test(test_framing_limit),
		cmocka_unit_test(test_skip_to_sync),
		cmocka_unit_test(test_framing_cut_and_deep),
		cmocka_unit_test(test_read_into_the_reader),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
