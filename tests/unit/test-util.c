/* lib/util.c: the duration syntax every program parses, and list lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>

#include "util.h"

static void test_parse_seconds_ms(void **state)
{
	static const struct {
		const char *s;
		unsigned min_ms, max_ms;
		int r;
		unsigned ms;
	} cases[] = {
		{ "90", 0, 86400000, 0, 90000 },
		{ "0.5", 0, 86400000, 0, 500 },
		{ "1.250", 0, 86400000, 0, 1250 },
		{ "1.25", 0, 86400000, 0, 1250 },
		{ "0.001", 1, 86400000, 0, 1 },
		{ "0", 0, 1000, 0, 0 },
		{ "86400", 1, 86400000, 0, 86400000 },
		/* out of range */
		{ "0", 1, 86400000, -ERANGE, 0 },
		{ "0.05", 100, 1000, -ERANGE, 0 },
		{ "86400.001", 1, 86400000, -ERANGE, 0 },
		{ "4294968", 0, UINT_MAX, -ERANGE, 0 },
		{ "99999999999999999999999", 0, UINT_MAX, -ERANGE, 0 },
		/* not the syntax */
		{ "", 0, 1000, -EINVAL, 0 },
		{ ".5", 0, 1000, -EINVAL, 0 },
		{ "1.", 0, 1000, -EINVAL, 0 },
		{ "0.0001", 0, 1000, -EINVAL, 0 },
		{ "-1", 0, 1000, -EINVAL, 0 },
		{ "+1", 0, 1000, -EINVAL, 0 },
		{ " 1", 0, 1000, -EINVAL, 0 },
		{ "1 ", 0, 1000, -EINVAL, 0 },
		{ "1e3", 0, 1000000, -EINVAL, 0 },
		{ "0x10", 0, 1000000, -EINVAL, 0 },
		{ "1s", 0, 1000000, -EINVAL, 0 },
		{ "inf", 0, 1000000, -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned ms = 12345;
		int r = parse_seconds_ms(cases[i].s, cases[i].min_ms, cases[i].max_ms, &ms);

		if (r != cases[i].r)
			fail_msg("\"%s\": %d, expected %d", cases[i].s, r, cases[i].r);
		/* the result, or untouched on failure */
		assert_int_equal(ms, r == 0 ? cases[i].ms : 12345);
	}
}

static void test_str_in_list(void **state)
{
	static const char *const list[] = { "name", "state", NULL };
	static const char *const empty[] = { NULL };

	(void)state;
	assert_true(str_in_list("name", list));
	assert_true(str_in_list("state", list));
	assert_false(str_in_list("nam", list));
	assert_false(str_in_list("", list));
	assert_false(str_in_list("name", empty));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_seconds_ms),
		cmocka_unit_test(test_str_in_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
