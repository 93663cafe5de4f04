/* agent/cmd-boot.c: what porthole-boot passes on from init's reply. A reply
 * of the right shape goes through whole (unknown members left out); one
 * with a member of the wrong type or range is refused, saying which, so
 * that the host never draws from a bad time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "cmd-boot.h"

#define GOOD_ENTRY                                                                        \
	"{\"name\":\"dockerd\",\"kind\":\"service\",\"start_ns\":2000,\"ready_ns\":9000," \
	"\"end_ns\":null,\"runs\":2,\"extra\":1}"

static json_t *run(const char *text, int expect, const char *needle)
{
	json_t *reply = json_loads(text, 0, NULL), *out = NULL;
	char why[256] = "";
	int r;

	assert_non_null(reply);
	r = cmd_boot_from_init(reply, &out, why, sizeof(why));
	json_decref(reply);
	if (r != expect)
		fail_msg("%s: returned %d, expected %d (%s)", text, r, expect, why);
	if (needle && !strstr(why, needle))
		fail_msg("%s: expected '%s' in '%s'", text, needle, why);
	return out;
}

static void test_good_reply(void **state)
{
	json_t *out, *e;

	(void)state;
	out = run("{\"boot\":[" GOOD_ENTRY "],\"now_ns\":10000,\"dropped\":0,\"more\":true}", 0,
		  NULL);
	assert_int_equal(json_integer_value(json_object_get(out, "now_ns")), 10000);
	assert_int_equal(json_integer_value(json_object_get(out, "dropped")), 0);
	assert_null(json_object_get(out, "more"));
	e = json_array_get(json_object_get(out, "boot"), 0);
	assert_string_equal(json_string_value(json_object_get(e, "name")), "dockerd");
	assert_string_equal(json_string_value(json_object_get(e, "kind")), "service");
	assert_int_equal(json_integer_value(json_object_get(e, "start_ns")), 2000);
	assert_int_equal(json_integer_value(json_object_get(e, "ready_ns")), 9000);
	assert_true(json_is_null(json_object_get(e, "end_ns")));
	assert_int_equal(json_integer_value(json_object_get(e, "runs")), 2);
	assert_null(json_object_get(e, "extra"));
	json_decref(out);
}

static void test_bad_replies(void **state)
{
	char big[8192] = "{\"boot\":[";

	(void)state;
	assert_null(run("{\"now_ns\":1,\"dropped\":0}", -EPROTO, "\"boot\": expected an array"));
	assert_null(run("{\"boot\":[],\"dropped\":0}", -EPROTO, "now_ns"));
	assert_null(run("{\"boot\":[],\"now_ns\":-1,\"dropped\":0}", -EPROTO, "now_ns"));
	assert_null(run("{\"boot\":[],\"now_ns\":1,\"dropped\":\"x\"}", -EPROTO, "dropped"));
	assert_null(run("{\"boot\":[5],\"now_ns\":1,\"dropped\":0}", -EPROTO,
			"boot[0]: expected an object"));
	assert_null(run("{\"boot\":[{\"kind\":\"step\",\"start_ns\":1,\"ready_ns\":null,"
			"\"end_ns\":2,\"runs\":1}],\"now_ns\":1,\"dropped\":0}",
			-EPROTO, "boot[0].name"));
	assert_null(run("{\"boot\":[{\"name\":\"a\",\"kind\":\"step\",\"start_ns\":-5,"
			"\"ready_ns\":null,\"end_ns\":2,\"runs\":1}],\"now_ns\":1,\"dropped\":0}",
			-EPROTO, "boot[0].start_ns"));
	assert_null(run("{\"boot\":[{\"name\":\"a\",\"kind\":\"step\",\"start_ns\":5,"
			"\"ready_ns\":1.5,\"end_ns\":2,\"runs\":1}],\"now_ns\":1,\"dropped\":0}",
			-EPROTO, "boot[0].ready_ns"));
	assert_null(run("{\"boot\":[{\"name\":\"a\",\"kind\":\"step\",\"start_ns\":5,"
			"\"ready_ns\":null,\"end_ns\":\"2\",\"runs\":1}],\"now_ns\":1,"
			"\"dropped\":0}",
			-EPROTO, "boot[0].end_ns"));
	assert_null(run("{\"boot\":[{\"name\":\"a\",\"kind\":\"step\",\"start_ns\":5,"
			"\"ready_ns\":null,\"end_ns\":null}],\"now_ns\":1,\"dropped\":0}",
			-EPROTO, "boot[0].runs"));
	/* more entries than init keeps is not init's reply */
	for (int i = 0; i < 65; i++)
		strcat(big, i ? "," GOOD_ENTRY : GOOD_ENTRY);
	strcat(big, "],\"now_ns\":1,\"dropped\":0}");
	assert_null(run(big, -EPROTO, "at most 64"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_reply),
		cmocka_unit_test(test_bad_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
