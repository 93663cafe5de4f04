/* lib/buf.c: a buffer grows by doubling, stops at its bound, and refuses
 * past it without losing what it holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static void test_grows_within_bound(void **state)
{
	char *b = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(buf_reserve(&b, &cap, 1, 16, 100), 0);
	assert_int_equal(cap, 16);
	memcpy(b, "keep", 4);
	assert_int_equal(buf_reserve(&b, &cap, 16, 16, 100), 0);
	assert_int_equal(cap, 16); /* enough already: nothing changes */
	assert_int_equal(buf_reserve(&b, &cap, 17, 16, 100), 0);
	assert_int_equal(cap, 32);
	assert_int_equal(buf_reserve(&b, &cap, 65, 16, 100), 0);
	assert_int_equal(cap, 100); /* 128 would pass the bound: the bound */
	assert_int_equal(buf_reserve(&b, &cap, 100, 16, 100), 0);
	assert_int_equal(buf_reserve(&b, &cap, 101, 16, 100), -E2BIG);
	assert_int_equal(cap, 100);
	assert_memory_equal(b, "keep", 4);
	free(b);
	/* a bound near SIZE_MAX: no overflow in the doubling */
	b = NULL;
	cap = 0;
	assert_int_equal(buf_reserve(&b, &cap, 3, 2, SIZE_MAX), 0);
	assert_int_equal(cap, 4);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grows_within_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
