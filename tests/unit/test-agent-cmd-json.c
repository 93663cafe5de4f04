/* agent/cmd-json.c: the JSON insertions the handlers build replies with
 * report a value that was lost (an allocation that failed upstream, an
 * insertion jansson refused) instead of dropping it silently. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "cmd-json.h"

static void test_json_insertions(void **state)
{
	json_t *o = json_object(), *a = json_array(), *v = json_string("x");

	(void)state;
	/* the value's reference is taken */
	assert_int_equal(cmd_json_set(o, "k", v), 0);
	assert_int_equal(v->refcount, 1);
	assert_ptr_equal(json_object_get(o, "k"), v);
	assert_int_equal(cmd_json_append(a, json_integer(5)), 0);
	assert_int_equal(json_integer_value(json_array_get(a, 0)), 5);
	/* a value whose allocation failed upstream: -ENOMEM, nothing inserted */
	assert_int_equal(cmd_json_set(o, "lost", NULL), -ENOMEM);
	assert_null(json_object_get(o, "lost"));
	assert_int_equal(cmd_json_append(a, NULL), -ENOMEM);
	assert_int_equal(json_array_size(a), 1);
	/* an insertion jansson refuses: the key is not UTF-8 */
	assert_int_equal(cmd_json_set(o, "\xff", json_true()), -ENOMEM);
	assert_int_equal(json_object_size(o), 1);
	json_decref(o);
	json_decref(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_insertions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
