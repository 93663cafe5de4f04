/* agent/cmd-system.c: guest-get-osinfo, -host-name, -timezone, -load and
 * -users against qemu-ga's schema and against what this machine says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "agent-test.h"

/* The group's table, and the argument specs the schema gives its commands. */
static void test_table(void **state)
{
	(void)state;
	check_table(cmd_system_table, 5);
}

static void test_osinfo(void **state)
{
	static const struct member schema[] = {
		{ "kernel-release", T_STR, false },
		{ "kernel-version", T_STR, false },
		{ "machine", T_STR, false },
		{ "id", T_STR, false },
		{ "name", T_STR, false },
		{ "pretty-name", T_STR, false },
		{ "version", T_STR, false },
		{ "version-id", T_STR, false },
		{ "variant", T_STR, false },
		{ "variant-id", T_STR, false },
		{ NULL, T_STR, false },
	};
	json_t *r = call_ok("guest-get-osinfo", NULL);
	struct utsname u;

	(void)state;
	check_struct(r, schema, "GuestOSInfo");
	assert_int_equal(uname(&u), 0);
	assert_string_equal(json_string_value(json_object_get(r, "kernel-release")), u.release);
	assert_string_equal(json_string_value(json_object_get(r, "kernel-version")), u.version);
	assert_string_equal(json_string_value(json_object_get(r, "machine")), u.machine);
	/* os-release's quotes are gone ("Debian GNU/Linux", not "\"Debian...") */
	if (access("/etc/os-release", R_OK) == 0) {
		const char *name = json_string_value(json_object_get(r, "name"));

		FILE *sh;
		char shell[512] = "";

		assert_non_null(json_object_get(r, "id"));
		assert_non_null(name);
		assert_null(strchr(name, '"'));
		/* the unquoting agrees with the shell's (os-release(5) is made to
		 * be sourced) */
		sh = popen(". /etc/os-release; printf %s \"$PRETTY_NAME\"", "r");
		assert_non_null(sh);
		if (!fgets(shell, sizeof(shell), sh))
			shell[0] = '\0';
		pclose(sh);
		if (shell[0])
			assert_string_equal(json_string_value(json_object_get(r, "pretty-name")),
					    shell);
	}
	json_decref(r);
}

static void test_host_name(void **state)
{
	static const struct member schema[] = { { "host-name", T_STR, true },
						{ NULL, T_STR, false } };
	char name[256];
	json_t *r = call_ok("guest-get-host-name", NULL);

	(void)state;
	check_struct(r, schema, "GuestHostName");
	assert_int_equal(gethostname(name, sizeof(name)), 0);
	assert_string_equal(json_string_value(json_object_get(r, "host-name")), name);
	json_decref(r);
}

static void test_timezone(void **state)
{
	static const struct member schema[] = { { "zone", T_STR, false },
						{ "offset", T_INT, true },
						{ NULL, T_STR, false } };
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	json_t *r;

	(void)state;
	r = call_ok("guest-get-timezone", NULL);
	check_struct(r, schema, "GuestTimezone");
	json_decref(r);
	/* a zone with no daylight time: a fixed answer; offsets are east of UTC */
	setenv("TZ", "JST-9", 1);
	r = call_ok("guest-get-timezone", NULL);
	assert_string_equal(json_string_value(json_object_get(r, "zone")), "JST");
	assert_int_equal(json_integer_value(json_object_get(r, "offset")), 9 * 3600);
	json_decref(r);
	setenv("TZ", "UTC0", 1);
	r = call_ok("guest-get-timezone", NULL);
	assert_string_equal(json_string_value(json_object_get(r, "zone")), "UTC");
	assert_int_equal(json_integer_value(json_object_get(r, "offset")), 0);
	json_decref(r);
	if (old)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	free(old);
	tzset();
}

/* QEMU 10.0's GuestLoadAverage */
static void test_load(void **state)
{
	static const struct member schema[] = { { "load1m", T_NUM, true },
						{ "load5m", T_NUM, true },
						{ "load15m", T_NUM, true },
						{ NULL, T_STR, false } };
	json_t *r = call_ok("guest-get-load", NULL);

	(void)state;
	check_struct(r, schema, "GuestLoadAverage");
	assert_true(json_real_value(json_object_get(r, "load1m")) >= 0);
	json_decref(r);
}

static void test_users(void **state)
{
	static const struct member schema[] = { { "user", T_STR, true },
						{ "login-time", T_NUM, true },
						{ "domain", T_STR, false },
						{ NULL, T_STR, false } };
	json_t *r = call_ok("guest-get-users", NULL), *u;
	size_t i;

	(void)state;
	assert_true(json_is_array(r));
	json_array_foreach(r, i, u)
	{
		check_struct(u, schema, "GuestUser");
		/* a unique list */
		for (size_t j = 0; j < i; j++)
			assert_false(json_equal(json_object_get(json_array_get(r, j), "user"),
						json_object_get(u, "user")));
	}
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),	  cmocka_unit_test(test_osinfo),
		cmocka_unit_test(test_host_name), cmocka_unit_test(test_timezone),
		cmocka_unit_test(test_load),	  cmocka_unit_test(test_users),
	};

	return cmocka_run_group_tests(tests, agent_test_setup, NULL);
}
