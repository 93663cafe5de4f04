/* agent/cmd-error.c: the error a handler returns: qemu-ga's class, the
 * text, ": strerror" whichever sign the errno has, cut between UTF-8
 * characters so that the reply can always be built. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "agent-test.h"

/* Whole UTF-8 characters, and jansson takes it as a string. */
static void assert_whole_utf8(const char *s)
{
	json_t *j = json_string(s);

	if (!j)
		fail_msg("not UTF-8 (cut inside a character?): %s", s);
	json_decref(j);
}

static void test_fail(void **state)
{
	struct cmd_error e = { 0 };

	(void)state;
	assert_int_equal(cmd_fail(&e, "Parameter '%s' must be %d to %d", "lines", 1, 10000),
			 CMD_FAILED);
	assert_string_equal(e.class, "GenericError");
	assert_string_equal(e.desc, "Parameter 'lines' must be 1 to 10000");
	memset(&e, 0, sizeof(e));
	assert_int_equal(cmd_fail_errno(&e, -ENOENT, "open %s", "/etc/x"), CMD_FAILED);
	assert_string_equal(e.class, "GenericError");
	assert_string_equal(e.desc, "open /etc/x: No such file or directory");
	/* the sign does not matter: handlers have both at hand */
	assert_int_equal(cmd_fail_errno(&e, EACCES, "write %s", "/etc/y"), CMD_FAILED);
	assert_string_equal(e.desc, "write /etc/y: Permission denied");
}

/* A text longer than the 512 bytes of desc is cut, between characters. */
static void test_long_text_cut_between_characters(void **state)
{
	struct cmd_error e = { 0 };
	char euros[3 * 300 + 1] = "";
	size_t len;

	(void)state;
	for (int i = 0; i < 300; i++)
		strcat(euros, "\xe2\x82\xac");
	cmd_fail(&e, "x%s", euros);
	len = strlen(e.desc);
	assert_true(len < sizeof(e.desc));
	/* "x" and as many whole euro signs as fit in 511 bytes */
	assert_int_equal(len, 1 + 3 * ((sizeof(e.desc) - 1 - 1) / 3));
	assert_whole_utf8(e.desc);
	/* a text that fills desc before the reason: still within it, and UTF-8 */
	cmd_fail_errno(&e, ENOSPC, "%s", euros);
	assert_true(strlen(e.desc) < sizeof(e.desc));
	assert_whole_utf8(e.desc);
	cmd_fail_errno(&e, ENOSPC, "yy%.*s", 3 * 160, euros);
	assert_whole_utf8(e.desc);
	/* room left for the reason: all of it */
	len = strlen(e.desc);
	assert_int_equal(len, 2 + 3 * 160 + strlen(": No space left on device"));
	assert_string_equal(e.desc + len - strlen(": No space left on device"),
			    ": No space left on device");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fail),
		cmocka_unit_test(test_long_text_cut_between_characters),
	};

	return cmocka_run_group_tests(tests, agent_test_setup, NULL);
}
