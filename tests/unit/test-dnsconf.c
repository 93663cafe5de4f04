/* lib/dnsconf.c: name servers and search domains checked, resolv.conf
 * written and read back, host names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "dnsconf.h"
#include "log.h"

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_EMERG);
	return 0;
}

static void test_dnsconf(void **state)
{
	struct dnsconf d = { 0 }, back;
	char text[DNSCONF_TEXT_MAX];

	(void)state;
	assert_true(dnsconf_server_valid("10.0.2.3"));
	assert_true(dnsconf_server_valid("2001:db8::1"));
	assert_false(dnsconf_server_valid("0.0.0.0"));
	assert_false(dnsconf_server_valid("10.0.2"));
	assert_false(dnsconf_server_valid("dns.example"));
	assert_true(dnsconf_domain_valid("corp.example.com"));
	assert_true(dnsconf_domain_valid("example.com."));
	assert_false(dnsconf_domain_valid("-bad.example"));
	assert_false(dnsconf_domain_valid("a..b"));
	assert_false(dnsconf_domain_valid("a b"));
	assert_false(dnsconf_domain_valid("nameserver 1.2.3.4\nx"));
	assert_int_equal(dnsconf_add_server(&d, "10.0.2.3"), 0);
	assert_int_equal(dnsconf_add_server(&d, "10.0.2.3"), 0); /* duplicate */
	assert_int_equal(dnsconf_add_server(&d, "2001:db8::1"), 0);
	assert_int_equal(dnsconf_add_server(&d, "1.1.1.1"), 0);
	assert_int_equal(dnsconf_add_server(&d, "8.8.8.8"), -E2BIG);
	assert_int_equal(dnsconf_add_search(&d, "example.com"), 0);
	assert_true(dnsconf_format(&d, "test", text, sizeof(text)) > 0);
	assert_string_equal(text, "# written by test\nsearch example.com\nnameserver 10.0.2.3\n"
				  "nameserver 2001:db8::1\nnameserver 1.1.1.1\n");
	assert_int_equal(dnsconf_parse(text, &back), 0);
	assert_memory_equal(&back, &d, sizeof(d));
	assert_int_equal(dnsconf_parse("nameserver bogus\n", &back), -EINVAL);
	assert_int_equal(dnsconf_format(&d, "test", text, 40), -ENOBUFS);
}

static void test_hostname_rules(void **state)
{
	static const char *const good[] = { "a", "porthole", "vm-1", "a.b.c", "1abc" };
	static const char *const bad[] = {
		"",	"-a",  "a-",
		"a..b", ".a",  "a b",
		"a_b",	"x/y", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(dnsconf_hostname_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(dnsconf_hostname_valid(bad[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dnsconf),
		cmocka_unit_test(test_hostname_rules),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
