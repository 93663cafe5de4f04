/* lib/utf8.c: text cut between characters, and JSON strings from bytes that
 * need not be UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static void test_seq_len(void **state)
{
	static const struct {
		const char *s;
		size_t len;
	} cases[] = {
		{ "a", 1 },
		{ "\xc3\xa9", 2 }, /* é */
		{ "\xe2\x82\xac", 3 }, /* € */
		{ "\xf0\x9f\x98\x80", 4 }, /* U+1F600 */
		{ "\xc3", 0 }, /* cut */
		{ "\xe2\x82", 0 }, /* cut */
		{ "\xc0\xaf", 0 }, /* overlong '/' */
		{ "\xe0\x80\xaf", 0 }, /* overlong */
		{ "\xed\xa0\x80", 0 }, /* a surrogate */
		{ "\xf4\x90\x80\x80", 0 }, /* past U+10FFFF */
		{ "\x80", 0 }, /* a continuation byte alone */
		{ "\xff", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(
			utf8_seq_len((const unsigned char *)cases[i].s, strlen(cases[i].s)),
			cases[i].len);
}

static void test_cut(void **state)
{
	char s[32];

	(void)state;
	strcpy(s, "ab\xe2\x82\xac");
	assert_int_equal(utf8_cut(s), 5); /* whole: unchanged */
	strcpy(s, "ab\xe2\x82");
	assert_int_equal(utf8_cut(s), 2);
	assert_string_equal(s, "ab");
	strcpy(s, "ab\xc3");
	assert_int_equal(utf8_cut(s), 2);
	strcpy(s, "\xf0\x9f\x98");
	assert_int_equal(utf8_cut(s), 0);
	strcpy(s, "");
	assert_int_equal(utf8_cut(s), 0);
}

static void test_format_cuts_on_a_boundary(void **state)
{
	char buf[8];

	(void)state;
	/* "é" is two bytes: seven of them do not fit in 7 bytes and a NUL */
	assert_int_equal(utf8_format(buf, sizeof(buf), "%s", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"),
			 6);
	assert_string_equal(buf, "\xc3\xa9\xc3\xa9\xc3\xa9");
	assert_int_equal(utf8_format(buf, 6, "x%s", "\xe2\x82\xac\xe2\x82\xac"), 4);
	assert_string_equal(buf, "x\xe2\x82\xac");
	assert_int_equal(utf8_format(buf, 1, "abc"), 0);
}

static void test_prefix(void **state)
{
	const char *s = "a\xe2\x82\xac"
			"b";

	(void)state;
	assert_int_equal(utf8_prefix(s, 1), 1);
	assert_int_equal(utf8_prefix(s, 2), 1); /* not half of the € */
	assert_int_equal(utf8_prefix(s, 3), 1);
	assert_int_equal(utf8_prefix(s, 4), 4);
	assert_int_equal(utf8_prefix(s, 100), 5);
	assert_int_equal(utf8_prefix("", 10), 0);
}

static void test_json_string_mends(void **state)
{
	json_t *j;

	(void)state;
	j = utf8_json_string("ok \xc3\xa9");
	assert_string_equal(json_string_value(j), "ok \xc3\xa9");
	json_decref(j);
	/* jansson refuses these bytes; each becomes U+FFFD */
	j = utf8_json_string("a\xff"
			     "b\xe2\x82");
	assert_non_null(j);
	assert_string_equal(json_string_value(j), "a\xef\xbf\xbd"
						  "b\xef\xbf\xbd\xef\xbf\xbd");
	json_decref(j);
	/* a Latin-1 file name, an overlong '/', a surrogate */
	j = utf8_json_string("/mnt/caf\xe9");
	assert_string_equal(json_string_value(j), "/mnt/caf\xef\xbf\xbd");
	json_decref(j);
	j = utf8_json_string("a\xc0\xaf"
			     "b");
	assert_string_equal(json_string_value(j), "a\xef\xbf\xbd\xef\xbf\xbd"
						  "b");
	json_decref(j);
	j = utf8_json_string("\xed\xa0\x80");
	assert_int_equal(json_string_length(j), 9);
	json_decref(j);
	/* a NUL inside a counted string */
	j = utf8_json_stringn("a\0b", 3);
	assert_string_equal(json_string_value(j), "a\xef\xbf\xbd"
						  "b");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_len),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_format_cuts_on_a_boundary),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_json_string_mends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
