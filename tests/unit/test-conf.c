/* lib/conf.c: the kernel command line split as the kernel's next_arg()
 * does, and list values split into words within their bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "conf.h"

static void test_cmdline_words(void **state)
{
	const char *p = "  a \"b c\"d  e\"\" \"unterminated x";
	char w[64];

	(void)state;
	assert_true(conf_cmdline_next(&p, w, sizeof(w)));
	assert_string_equal(w, "a");
	assert_true(conf_cmdline_next(&p, w, sizeof(w)));
	assert_string_equal(w, "b cd");
	assert_true(conf_cmdline_next(&p, w, sizeof(w)));
	assert_string_equal(w, "e");
	assert_true(conf_cmdline_next(&p, w, sizeof(w)));
	assert_string_equal(w, "unterminated x");
	assert_false(conf_cmdline_next(&p, w, sizeof(w)));
}

static void test_cmdline_word_truncated(void **state)
{
	const char *p = "porthole.hostname=abcdefghijklmnop next";
	char w[8];

	(void)state;
	assert_true(conf_cmdline_next(&p, w, sizeof(w)));
	assert_string_equal(w, "porthol");
	assert_true(conf_cmdline_next(&p, w, sizeof(w)));
	assert_string_equal(w, "next");
}

/* The list rule every list key shares (modules, net.dhcp, the agent's lists). */

static void test_list_split(void **state)
{
	char w[3][8];
	size_t n = 99;

	(void)state;
	assert_int_equal(conf_split(" a,b\t ,, c ", w[0], sizeof(w[0]), 3, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(w[0], "a");
	assert_string_equal(w[1], "b");
	assert_string_equal(w[2], "c");
	assert_int_equal(conf_split("", w[0], sizeof(w[0]), 3, &n), 0);
	assert_int_equal(n, 0);
	/* too many, or a word too long: refused, the count untouched */
	n = 7;
	assert_int_equal(conf_split("a b c d", w[0], sizeof(w[0]), 3, &n), -E2BIG);
	assert_int_equal(conf_split("abcdefgh", w[0], sizeof(w[0]), 3, &n), -E2BIG);
	assert_int_equal(n, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline_words),
		cmocka_unit_test(test_cmdline_word_truncated),
		cmocka_unit_test(test_list_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
