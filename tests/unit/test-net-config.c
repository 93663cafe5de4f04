/* init/net-config.c: the kernel's ip= (nfsroot.rst's syntax) and init.conf's
 * net.static, parsed into what net-setup.c applies, and refused with the
 * reason when they are wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "net-config.h"

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_EMERG);
	return 0;
}

static void test_kernel_ip(void **state)
{
	struct net_config n;
	const char *why = "";
	char buf[64];

	(void)state;
	net_config_defaults(&n);
	assert_int_equal(net_config_parse_ip(&n, "dhcp", &why), 0);
	assert_int_equal(n.n_dhcp, 1);
	assert_string_equal(n.dhcp[0], "*");
	assert_int_equal(net_config_parse_ip(&n, "off", &why), 0);
	assert_int_equal(n.n_dhcp, 0);

	net_config_defaults(&n);
	assert_int_equal(
		net_config_parse_ip(&n,
				    "10.0.2.20:10.0.2.2:10.0.2.1:255.255.255.0:vm-2:eth1:off:"
				    "10.0.2.3:10.0.2.4:10.0.2.5",
				    &why),
		0);
	assert_int_equal(n.n_statics, 1);
	assert_string_equal(n.statics[0].match, "eth1");
	assert_string_equal(net_prefix_str(&n.statics[0].addrs[0], buf, sizeof(buf)),
			    "10.0.2.20/24");
	assert_int_equal(n.statics[0].gw4.family, AF_INET);
	assert_memory_equal(n.statics[0].gw4.addr, ((uint8_t[]){ 10, 0, 2, 1 }), 4);
	assert_string_equal(n.ip_hostname, "vm-2");
	assert_int_equal(n.dns.n_servers, 2);
	assert_string_equal(n.dns.servers[1], "10.0.2.4");

	/* no netmask: the address's class; no device: the first NIC */
	net_config_defaults(&n);
	assert_int_equal(net_config_parse_ip(&n, "172.16.1.2:::::", &why), 0);
	assert_string_equal(net_prefix_str(&n.statics[0].addrs[0], buf, sizeof(buf)),
			    "172.16.1.2/16");
	assert_string_equal(n.statics[0].match, "*");
	/* autoconf on a device; a client address is then ignored */
	net_config_defaults(&n);
	assert_int_equal(net_config_parse_ip(&n, ":::::eth0:dhcp", &why), 0);
	assert_int_equal(n.n_dhcp, 1);
	assert_string_equal(n.dhcp[0], "eth0");
	assert_int_equal(n.n_statics, 0);

	/* bad input names the field and changes nothing */
	net_config_defaults(&n);
	assert_int_equal(net_config_parse_ip(&n, "10.0.2.300::::::off", &why), -EINVAL);
	assert_non_null(strstr(why, "client-ip '10.0.2.300'"));
	assert_int_equal(net_config_parse_ip(&n, "10.0.2.3:::255.0.255.0:::off", &why), -EINVAL);
	assert_non_null(strstr(why, "netmask"));
	assert_int_equal(net_config_parse_ip(&n, "::::::sometimes", &why), -EINVAL);
	assert_int_equal(net_config_parse_ip(&n, "1:2:3:4:5:6:7:8:9:10:11", &why), -EINVAL);
	assert_int_equal(net_config_parse_ip(&n, "::::bad_host!::", &why), -EINVAL);
	assert_int_equal(n.n_statics, 0);
	assert_int_equal(n.n_dhcp, 0);
}

static void test_static(void **state)
{
	struct net_static s;
	struct net_config n;
	const char *why = "";
	char buf[64];

	(void)state;
	assert_int_equal(net_config_parse_static("eth1 192.168.1.2/24 fd00::2/64 gw 192.168.1.1 "
						 "gw fd00::1 mtu 1400",
						 &s, &why),
			 0);
	assert_string_equal(s.match, "eth1");
	assert_int_equal(s.n_addrs, 2);
	assert_string_equal(net_prefix_str(&s.addrs[1], buf, sizeof(buf)), "fd00::2/64");
	assert_int_equal(s.gw4.family, AF_INET);
	assert_int_equal(s.gw6.family, AF_INET6);
	assert_int_equal(s.mtu, 1400);
	assert_int_equal(net_config_parse_static("52:54:00:12:34:56 10.0.0.2/8", &s, &why), 0);
	assert_string_equal(s.match, "52:54:00:12:34:56");

	assert_int_equal(net_config_parse_static("eth1 10.0.0.2/33", &s, &why), -EINVAL);
	assert_non_null(strstr(why, "'10.0.0.2/33' is an invalid prefix"));
	assert_int_equal(net_config_parse_static("eth1 10.0.0.2", &s, &why), -EINVAL);
	assert_int_equal(net_config_parse_static("eth1 fd00::1/129", &s, &why), -EINVAL);
	assert_int_equal(net_config_parse_static("eth1", &s, &why), -EINVAL);
	assert_int_equal(net_config_parse_static("eth1 10.0.0.2/24 gw", &s, &why), -EINVAL);
	assert_int_equal(net_config_parse_static("eth1 10.0.0.2/24 gw x", &s, &why), -EINVAL);
	assert_int_equal(net_config_parse_static("eth1 10.0.0.2/24 mtu 20", &s, &why), -EINVAL);
	assert_int_equal(net_config_parse_static("a/b 10.0.0.2/24", &s, &why), -EINVAL);
	assert_int_equal(net_config_parse_static("averyveryverylongname 10.0.0.2/24", &s, &why),
			 -EINVAL);

	/* a later entry for the same interface replaces it; a bad one changes nothing */
	net_config_defaults(&n);
	assert_int_equal(net_config_set(&n, "static", "eth1 10.0.0.2/24", false, "a", &why), 0);
	assert_int_equal(net_config_set(&n, "static", "eth2 10.0.1.2/24", false, "a", &why), 0);
	assert_int_equal(net_config_set(&n, "static", "eth1 10.0.0.3/24", false, "b", &why), 0);
	assert_int_equal(net_config_set(&n, "static", "eth3 10.0.0.3/99", false, "b", &why),
			 -EINVAL);
	assert_int_equal(n.n_statics, 2);
	assert_string_equal(net_prefix_str(&n.statics[0].addrs[0], buf, sizeof(buf)),
			    "10.0.0.3/24");
	assert_int_equal(net_config_set(&n, "dhcp", "eth0 *", false, "a", &why), 0);
	assert_int_equal(net_config_set(&n, "dhcp", "eth5", true, "a", &why), 0);
	assert_int_equal(n.n_dhcp, 3);
	assert_int_equal(net_config_set(&n, "dns", "1.1.1.1 1.1.1.1.1", false, "a", &why), -EINVAL);
	assert_non_null(strstr(why, "'1.1.1.1.1' is not an address"));
	assert_int_equal(net_config_set(&n, "dns", "1.1.1.1 2 3 4", false, "a", &why), -EINVAL);
	assert_int_equal(n.dns.n_servers, 0);
	assert_int_equal(net_config_set(&n, "colour", "1", false, "a", &why), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_ip),
		cmocka_unit_test(test_static),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
