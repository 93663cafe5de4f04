/* init/net-link.c's address helpers: prefixes, netmasks, hardware addresses
 * parsed and printed. (The requests themselves are lib/rtnl's, tested in
 * test-rtnl.c, and run for real in the sandbox tier's network tests.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "net-link.h"

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_EMERG);
	return 0;
}

static void test_net_helpers(void **state)
{
	struct net_prefix p;
	unsigned len;
	uint8_t m[6];

	(void)state;
	assert_int_equal(net_netmask_to_len((uint8_t[]){ 255, 255, 254, 0 }, &len), 0);
	assert_int_equal(len, 23);
	assert_int_equal(net_netmask_to_len((uint8_t[]){ 255, 255, 255, 255 }, &len), 0);
	assert_int_equal(len, 32);
	assert_int_equal(net_netmask_to_len((uint8_t[]){ 255, 0, 255, 0 }, &len), -EINVAL);
	assert_int_equal(net_prefix_parse("10.1.2.3/16", &p), 0);
	assert_true(net_prefix_contains(&p, (uint8_t[]){ 10, 1, 200, 1 }));
	assert_false(net_prefix_contains(&p, (uint8_t[]){ 10, 2, 0, 1 }));
	assert_int_equal(net_prefix_parse("10.1.2.3/", &p), -EINVAL);
	assert_int_equal(net_prefix_parse("10.1.2.3/-1", &p), -EINVAL);
	assert_int_equal(net_hwaddr_parse("52:54:00:AB:cd:ef", m), 0);
	assert_int_equal(m[3], 0xab);
	assert_int_equal(net_hwaddr_parse("52:54:00:ab:cd", m), -EINVAL);
	assert_int_equal(net_hwaddr_parse("52-54-00-ab-cd-ef", m), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_helpers),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
