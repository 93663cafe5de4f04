/* lib/jsonstream.c: framing by brace balance, 0xFF resync, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonstream.h"

#define ITEMS_MAX 64

struct got {
	enum jsonstream_event ev[ITEMS_MAX];
	char *val[ITEMS_MAX];
	size_t n;
};

static bool collect(void *user, const struct jsonstream_item *item)
{
	struct got *g = user;

	if (g->n == ITEMS_MAX)
		return false;
	g->ev[g->n] = item->event;
	g->val[g->n] = item->event == JSONSTREAM_VALUE ? strndup(item->data, item->len) : NULL;
	g->n++;
	return true;
}

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->val[i]);
	memset(g, 0, sizeof(*g));
}

/* Feeds TEXT in pieces of CHUNK bytes (0: whole). */
static void feed(struct jsonstream *s, struct got *g, const char *text, size_t len, size_t chunk)
{
	for (size_t off = 0; off < len;) {
		size_t n = chunk && chunk < len - off ? chunk : len - off;

		assert_int_equal(jsonstream_feed(s, text + off, n, collect, g), (long)n);
		off += n;
	}
}

static void test_requests_back_to_back_and_split(void **state)
{
	static const char text[] = "{\"execute\":\"a\"}{\"execute\":\n\"b\",\"id\":\"}{\\\"\"}"
				   "  \r\n [1,{\"x\":[2]}] ";
	struct jsonstream s;
	struct got g = { 0 };

	(void)state;
	/* the same values whatever the pieces the bytes arrive in */
	for (size_t chunk = 0; chunk < 8; chunk++) {
		jsonstream_init(&s, 1024);
		feed(&s, &g, text, sizeof(text) - 1, chunk);
		assert_int_equal(g.n, 3);
		assert_string_equal(g.val[0], "{\"execute\":\"a\"}");
		/* a "}" and an escaped quote inside a string are not structure */
		assert_string_equal(g.val[1], "{\"execute\":\n\"b\",\"id\":\"}{\\\"\"}");
		assert_string_equal(g.val[2], "[1,{\"x\":[2]}]");
		assert_false(jsonstream_pending(&s));
		got_free(&g);
		jsonstream_free(&s);
	}
}

static void test_scalars_and_stray_closers(void **state)
{
	static const char text[] = "42 \"str\" } garbage{\"a\":1}";
	struct jsonstream s;
	struct got g = { 0 };

	(void)state;
	jsonstream_init(&s, 1024);
	feed(&s, &g, text, sizeof(text) - 1, 0);
	assert_int_equal(g.n, 5);
	assert_string_equal(g.val[0], "42");
	assert_string_equal(g.val[1], "\"str\"");
	assert_string_equal(g.val[2], "}");
	assert_string_equal(g.val[3], "garbage");
	assert_string_equal(g.val[4], "{\"a\":1}");
	got_free(&g);
	/* a scalar is whole only once the next byte says so, as in qemu-ga */
	feed(&s, &g, "42", 2, 0);
	assert_int_equal(g.n, 0);
	assert_true(jsonstream_pending(&s));
	feed(&s, &g, "\n", 1, 0);
	assert_int_equal(g.n, 1);
	got_free(&g);
	jsonstream_free(&s);
}

static void test_ff_resets(void **state)
{
	/* after 0xFF, bytes up to a structural one are dropped (QEMU's lexer) */
	static const char text[] = "{\"execute\":\"half\xffgarbage{\"execute\":\"whole\"}\xff";
	struct jsonstream s;
	struct got g = { 0 };

	(void)state;
	jsonstream_init(&s, 1024);
	feed(&s, &g, text, sizeof(text) - 1, 0);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.ev[0], JSONSTREAM_RESYNC);
	assert_int_equal(g.ev[1], JSONSTREAM_VALUE);
	assert_string_equal(g.val[1], "{\"execute\":\"whole\"}");
	assert_int_equal(g.ev[2], JSONSTREAM_RESYNC);
	got_free(&g);
	jsonstream_free(&s);
}

static void test_too_long_is_dropped_and_reported_once(void **state)
{
	struct jsonstream s;
	struct got g = { 0 };
	size_t big = 1 << 20;
	char *text = malloc(big + 64);
	size_t n;

	(void)state;
	n = (size_t)sprintf(text, "{\"execute\":\"");
	memset(text + n, 'x', big);
	n += big;
	n += (size_t)sprintf(text + n, "\"}{\"execute\":\"next\"}");
	jsonstream_init(&s, 1000);
	feed(&s, &g, text, n, 4096);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.ev[0], JSONSTREAM_TOO_LONG);
	assert_string_equal(g.val[1], "{\"execute\":\"next\"}");
	/* memory: never more than the limit */
	assert_true(s.cap <= 1000);
	got_free(&g);
	jsonstream_free(&s);
	free(text);
}

/* The limit is the same byte for byte or many bytes at once (a string's
 * bytes are kept in spans): a value of exactly the limit is kept, one byte
 * more is dropped, whatever the pieces, and 0xFF inside a string resets. */
static void test_limit_exact_in_any_pieces(void **state)
{
	static const char ff[] = "{\"x\":\"ab\xff{\"y\":\"\\\"\"}";
	char text[64];
	struct jsonstream s;
	struct got g = { 0 };

	(void)state;
	for (size_t chunk = 0; chunk < 12; chunk++) {
		for (size_t extra = 0; extra < 2; extra++) {
			/* {"x":"aaaa..."}: 20 bytes with 12 a's, 21 with 13 */
			size_t n = (size_t)snprintf(text, sizeof(text), "{\"x\":\"%.*s\"}",
						    (int)(12 + extra), "aaaaaaaaaaaaaaaa");

			jsonstream_init(&s, 20);
			feed(&s, &g, text, n, chunk);
			assert_int_equal(g.n, 1);
			if (extra) {
				assert_int_equal(g.ev[0], JSONSTREAM_TOO_LONG);
			} else {
				assert_int_equal(g.ev[0], JSONSTREAM_VALUE);
				assert_string_equal(g.val[0], text);
			}
			assert_false(jsonstream_pending(&s));
			got_free(&g);
			jsonstream_free(&s);
		}
		/* filled to the limit inside a string: not over it until one
		 * more byte comes (the host's reader acts on over_limit) */
		jsonstream_init(&s, 20);
		feed(&s, &g, "{\"x\":\"aaaaaaaaaaaaaa", 20, chunk);
		assert_false(jsonstream_over_limit(&s));
		feed(&s, &g, "a", 1, chunk);
		assert_true(jsonstream_over_limit(&s));
		assert_int_equal(g.n, 0);
		jsonstream_free(&s);
		jsonstream_init(&s, 64);
		feed(&s, &g, ff, sizeof(ff) - 1, chunk);
		assert_int_equal(g.n, 2);
		assert_int_equal(g.ev[0], JSONSTREAM_RESYNC);
		assert_string_equal(g.val[1], "{\"y\":\"\\\"\"}");
		got_free(&g);
		jsonstream_free(&s);
	}
}

static void test_too_deep(void **state)
{
	struct jsonstream s;
	struct got g = { 0 };
	size_t depth = 100000;
	char *text = malloc(2 * depth + 32);

	(void)state;
	memset(text, '[', depth);
	memset(text + depth, ']', depth);
	strcpy(text + 2 * depth, "{\"a\":1}");
	jsonstream_init(&s, 1 << 20);
	feed(&s, &g, text, strlen(text), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.ev[0], JSONSTREAM_TOO_DEEP);
	assert_string_equal(g.val[1], "{\"a\":1}");
	got_free(&g);
	jsonstream_free(&s);
	free(text);
}

static bool stop_after_first(void *user, const struct jsonstream_item *item)
{
	(void)item;
	(*(int *)user)++;
	return false;
}

static void test_callback_can_stop(void **state)
{
	static const char text[] = "{\"a\":1}{\"b\":2}";
	struct jsonstream s;
	int calls = 0;
	long n;

	(void)state;
	jsonstream_init(&s, 1024);
	n = jsonstream_feed(&s, text, sizeof(text) - 1, stop_after_first, &calls);
	/* consumed exactly the first value; the caller resumes at the second */
	assert_int_equal(n, 7);
	assert_int_equal(calls, 1);
	n = jsonstream_feed(&s, text + 7, sizeof(text) - 8, stop_after_first, &calls);
	assert_int_equal(n, 7);
	assert_int_equal(calls, 2);
	jsonstream_free(&s);
}

static void test_over_limit_seen_before_the_end(void **state)
{
	static const char head[] = "{\"return\": \"";
	struct jsonstream s;
	struct got g = { 0 };
	char body[64];

	(void)state;
	jsonstream_init(&s, 32);
	feed(&s, &g, head, sizeof(head) - 1, 0);
	assert_false(jsonstream_over_limit(&s));
	memset(body, 'x', sizeof(body));
	feed(&s, &g, body, sizeof(body), 0);
	/* no event yet: the value has not ended, but a reader can tell */
	assert_int_equal(g.n, 0);
	assert_true(jsonstream_over_limit(&s));
	feed(&s, &g, "\"}", 2, 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.ev[0], JSONSTREAM_TOO_LONG);
	assert_false(jsonstream_over_limit(&s));
	got_free(&g);
	/* too deep is not too long */
	memset(body, '[', sizeof(body));
	s.depth_max = 4;
	feed(&s, &g, body, 8, 0);
	assert_false(jsonstream_over_limit(&s));
	assert_true(jsonstream_pending(&s));
	jsonstream_free(&s);
}

static void test_reset_forgets_the_value_under_way(void **state)
{
	struct jsonstream s;
	struct got g = { 0 };

	(void)state;
	jsonstream_init(&s, 1024);
	feed(&s, &g, "{\"return\": {\"a", 14, 0);
	assert_true(jsonstream_pending(&s));
	assert_int_equal(jsonstream_reset(&s), 14);
	assert_false(jsonstream_pending(&s));
	/* what follows is framed from scratch, without an event for the drop */
	feed(&s, &g, "{\"return\": 1}", 13, 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.val[0], "{\"return\": 1}");
	got_free(&g);
	assert_int_equal(jsonstream_reset(&s), 0);
	jsonstream_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests_back_to_back_and_split),
		cmocka_unit_test(test_scalars_and_stray_closers),
		cmocka_unit_test(test_ff_resets),
		cmocka_unit_test(test_too_long_is_dropped_and_reported_once),
		cmocka_unit_test(test_limit_exact_in_any_pieces),
		cmocka_unit_test(test_too_deep),
		cmocka_unit_test(test_callback_can_stop),
		cmocka_unit_test(test_over_limit_seen_before_the_end),
		cmocka_unit_test(test_reset_forgets_the_value_under_way),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
