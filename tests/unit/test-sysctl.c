/* init/sysctl.c: sysctl.conf lines parsed and applied under a directory of
 * the test's own, bad lines refused with their reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sysctl.h"

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_EMERG);
	return 0;
}

static void test_sysctl(void **state)
{
	char key[SYSCTL_KEY_MAX], value[SYSCTL_VALUE_MAX], path[256];
	bool quiet = false;

	(void)state;
	assert_int_equal(sysctl_parse_line("  net.ipv4.ip_forward = 1 ", key, value, &quiet), 0);
	assert_string_equal(key, "net.ipv4.ip_forward");
	assert_string_equal(value, "1");
	assert_false(quiet);
	assert_int_equal(sysctl_parse_line("-net.bridge.x=1", key, value, &quiet), 0);
	assert_true(quiet);
	assert_string_equal(key, "net.bridge.x");
	assert_int_equal(sysctl_parse_line("# comment", key, value, &quiet), 1);
	assert_int_equal(sysctl_parse_line("", key, value, &quiet), 1);
	assert_int_equal(sysctl_parse_line("no equals", key, value, &quiet), -EINVAL);
	assert_int_equal(sysctl_parse_line(" = 1", key, value, &quiet), -EINVAL);
	assert_int_equal(sysctl_path("net.ipv4.ip_forward", path, sizeof(path)), 0);
	assert_string_equal(path, "/proc/sys/net/ipv4/ip_forward");
	assert_int_equal(sysctl_path("net/ipv4/conf/eth0.100/rp_filter", path, sizeof(path)), 0);
	assert_string_equal(path, "/proc/sys/net/ipv4/conf/eth0.100/rp_filter");
	assert_int_equal(sysctl_path("net/../../etc/passwd", path, sizeof(path)), -EINVAL);
	assert_int_equal(sysctl_path("/etc/passwd", path, sizeof(path)), -EINVAL);
	assert_int_equal(sysctl_path("kernel.x y", path, sizeof(path)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sysctl),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
