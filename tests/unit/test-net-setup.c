/* init/net-setup.c's pure part: which interfaces the configuration (parsed
 * by net-config.c) gives a static address or DHCP, the DNS resolv.conf gets
 * and its text, and /run/porthole/net.state's text, which the agent reads
 * for porthole-network. Applying them (rtnetlink, link events, sysctls,
 * writing the files) needs the kernel: tests/sandbox/net.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "net-setup.h"
#include "util.h"

#define S ((uint64_t)NSEC_PER_SEC)

static struct net_config cfg;

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_EMERG);
	return 0;
}

/* CFG from init.conf's [net] lines, as config.c hands them over. */
static void configure(const char *const *lines)
{
	net_config_defaults(&cfg);
	for (; *lines; lines += 2) {
		const char *why = "";

		if (net_config_set(&cfg, lines[0], lines[1], false, "init.conf", &why) < 0)
			fail_msg("net.%s = %s: %s", lines[0], lines[1], why);
	}
}

static struct net_link link_named(const char *name, const uint8_t mac[6])
{
	struct net_link l = { .index = 3, .hwaddr_len = 6 };

	snprintf(l.name, sizeof(l.name), "%s", name);
	memcpy(l.hwaddr, mac, 6);
	return l;
}

/* net.static before net.dhcp; by name, by MAC, "*" for devices only; an
 * entry once taken is not taken twice. */
static void test_method(void **state)
{
	static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a },
			     mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };
	bool taken[NETCFG_IFACES_MAX] = { false };
	struct net_link l;
	int idx = -1;

	(void)state;
	configure((const char *const[]){ "static", "eth2 192.168.50.2/24", "static",
					 "02:00:00:00:00:0b 10.1.0.2/16", "dhcp", "eth0 *", NULL });
	l = link_named("eth0", mac_a);
	assert_int_equal(net_setup_method(&cfg, &l, true, taken, &idx), NET_METHOD_DHCP);
	assert_int_equal(net_setup_method(&cfg, &l, false, taken, &idx), NET_METHOD_DHCP);
	l = link_named("eth2", mac_a);
	assert_int_equal(net_setup_method(&cfg, &l, true, taken, &idx), NET_METHOD_STATIC);
	assert_int_equal(idx, 0);
	/* by its MAC, whatever its name */
	l = link_named("enp0s4", mac_b);
	assert_int_equal(net_setup_method(&cfg, &l, false, taken, &idx), NET_METHOD_STATIC);
	assert_int_equal(idx, 1);
	/* "*": a device's link gets DHCP, a veth or a bridge nothing */
	l = link_named("ens3", mac_a);
	assert_int_equal(net_setup_method(&cfg, &l, true, taken, &idx), NET_METHOD_DHCP);
	l = link_named("veth12ab", mac_a);
	assert_int_equal(net_setup_method(&cfg, &l, false, taken, &idx), NET_METHOD_NONE);
	/* eth2's entry already taken, by a link of that name that came first:
	 * a second one is left to net.dhcp */
	taken[0] = true;
	idx = -1;
	l = link_named("eth2", mac_a);
	assert_int_equal(net_setup_method(&cfg, &l, false, taken, &idx), NET_METHOD_NONE);
	assert_int_equal(net_setup_method(&cfg, &l, true, taken, &idx), NET_METHOD_DHCP);
	assert_int_equal(idx, -1);

	/* nothing configured: nothing is init's */
	configure((const char *const[]){ NULL });
	assert_int_equal(net_setup_method(&cfg, &l, true, taken, &idx), NET_METHOD_NONE);
}

/* A DHCP client's view: bound to 10.0.2.15/24 from 10.0.2.2, NOW_S into
 * the boot, with 3600 s, T1 1800, T2 3150. */
static struct dhcp_info bound_at(uint64_t now_s)
{
	struct dhcp_info in = {
		.state = DHCP_BOUND,
		.has_lease = true,
		.leases = 3,
		.lease = {
			.type = DHCP_ACK,
			.yiaddr = { 10, 0, 2, 15 },
			.server_id = { 10, 0, 2, 2 },
			.has_server_id = true,
			.prefix_len = 24,
			.has_subnet = true,
			.routers = { { 10, 0, 2, 2 } },
			.n_routers = 1,
			.dns = { { 10, 0, 2, 3 }, { 10, 0, 2, 4 } },
			.n_dns = 2,
			.hostname = "vm-1",
			.domain = "example.test",
			.mtu = 1400,
			.lease_s = 3600,
		},
		.times = { 1800, 3150, 3600 },
		.obtained_ns = now_s * S,
		.t1_ns = (now_s + 1800) * S,
		.t2_ns = (now_s + 3150) * S,
		.expires_ns = (now_s + 3600) * S,
	};

	return in;
}

/* The host's override, else the configuration, else the leases: their
 * servers in order and once, their domain unless net.search says. */
static void test_dns(void **state)
{
	struct dhcp_info a = bound_at(10), b = bound_at(20), none = { .state = DHCP_SELECTING };
	const struct dhcp_info *leases[] = { &none, &a, &b };
	struct dnsconf d, override = { .n_servers = 1, .servers = { "192.0.2.53" } };
	char text[DNSCONF_TEXT_MAX];

	(void)state;
	b.lease.dns[0][3] = 9; /* 10.0.2.9, then 10.0.2.4 again */
	configure((const char *const[]){ NULL });
	assert_string_equal(net_setup_dns(&cfg, NULL, leases, 3, &d), "dhcp");
	assert_int_equal(d.n_servers, 3);
	assert_string_equal(d.servers[0], "10.0.2.3");
	assert_string_equal(d.servers[1], "10.0.2.4");
	assert_string_equal(d.servers[2], "10.0.2.9");
	assert_int_equal(d.n_search, 1);
	assert_string_equal(d.search[0], "example.test");
	assert_true(net_setup_resolv_text(&d, "dhcp", text, sizeof(text)) > 0);
	assert_string_equal(text, "# written by porthole-init\n"
				  "search example.test\n"
				  "nameserver 10.0.2.3\n"
				  "nameserver 10.0.2.4\n"
				  "nameserver 10.0.2.9\n");
	/* no lease: nothing */
	assert_string_equal(net_setup_dns(&cfg, NULL, leases, 1, &d), "dhcp");
	assert_int_equal(d.n_servers + d.n_search, 0);

	/* net.dns: the configuration only */
	configure((const char *const[]){ "dns", "1.1.1.1", NULL });
	assert_string_equal(net_setup_dns(&cfg, NULL, leases, 3, &d), "config");
	assert_int_equal(d.n_servers, 1);
	assert_string_equal(d.servers[0], "1.1.1.1");
	assert_int_equal(d.n_search, 0);
	/* net.search alone: its domains, the leases' servers */
	configure((const char *const[]){ "search", "corp.test", NULL });
	assert_string_equal(net_setup_dns(&cfg, NULL, leases, 3, &d), "config");
	assert_int_equal(d.n_search, 1);
	assert_string_equal(d.search[0], "corp.test");
	assert_int_equal(d.n_servers, 3);

	/* porthole-dns-set's override: over everything, and it says who */
	assert_string_equal(net_setup_dns(&cfg, &override, leases, 3, &d), "override");
	assert_int_equal(d.n_servers, 1);
	assert_int_equal(d.n_search, 0);
	assert_true(net_setup_resolv_text(&d, "override", text, sizeof(text)) > 0);
	assert_string_equal(text, "# written by porthole-agent (porthole-dns-set)\n"
				  "nameserver 192.0.2.53\n");
	assert_int_equal(net_setup_resolv_text(&d, "override", text, 10), -ENOBUFS);
}

static const char (*no_errors)[NET_ERROR_MAX] = (const char[NETCFG_IFACES_MAX][NET_ERROR_MAX]){
	""
};

/* What porthole-network reads: every field of a bound DHCP interface with
 * its times on the wall clock, a static one, one that failed, and a
 * net.static entry that matched nothing. */
static void test_state_text(void **state)
{
	char static_errors[NETCFG_IFACES_MAX][NET_ERROR_MAX] = { "", "no such interface" };
	struct dhcp_info eth0_info = bound_at(990);
	struct net_iface eth0 = { .index = 2,
				  .name = "eth0",
				  .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 },
				  .method = NET_METHOD_DHCP,
				  .flags = IFF_UP | IFF_RUNNING,
				  .dhcp = &eth0_info },
			 eth2 = { .index = 4,
				  .name = "eth2",
				  .mac = { 2, 0, 0, 0, 0, 0x12 },
				  .method = NET_METHOD_STATIC,
				  .static_idx = 0,
				  .flags = IFF_UP },
			 ib0 = { .index = 5,
				 .name = "ib0",
				 .method = NET_METHOD_DHCP,
				 .error = "not an Ethernet link" };
	const struct net_iface *ifaces[] = { &eth0, &eth2, &ib0 };
	struct dnsconf d;
	struct net_state st = {
		.cfg = &cfg,
		.dns = &d,
		.ifaces = ifaces,
		.n_ifaces = 3,
		.static_errors = static_errors,
		.boot_ns = 1000 * S,
		.real_s = 1700000000,
	};
	const struct dhcp_info *leases[] = { &eth0_info };
	char buf[4096];
	size_t n;

	(void)state;
	configure((const char *const[]){ "static",
					 "eth2 192.168.50.2/24 fd00:50::2/64 gw 192.168.50.1 gw "
					 "fd00:50::1 mtu 1300",
					 "static", "nosuch0 10.9.0.2/24", "dhcp", "eth0 ib0",
					 NULL });
	eth0_info.rejected[DHCP_R_XID] = 2;
	eth0_info.rejected[DHCP_R_CHADDR] = 1;
	eth0_info.names_ignored = 1;
	st.dns_source = net_setup_dns(&cfg, NULL, leases, 1, &d);
	n = net_setup_state_text(&st, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "# porthole-init's network state (docs/protocol.md, "
				 "porthole-network)\n"
				 "[dns]\n"
				 "source = dhcp\n"
				 "servers = 10.0.2.3 10.0.2.4\n"
				 "search = example.test\n"
				 "\n[eth0]\n"
				 "index = 2\n"
				 "mac = 52:54:00:12:34:56\n"
				 "method = dhcp\n"
				 "up = 1\n"
				 "carrier = 1\n"
				 "state = bound\n"
				 "leases = 3\n"
				 "rejected = 4\n"
				 "address = 10.0.2.15/24\n"
				 "server = 10.0.2.2\n"
				 "router = 10.0.2.2\n"
				 "dns = 10.0.2.3 10.0.2.4\n"
				 "domain = example.test\n"
				 "hostname = vm-1\n"
				 "mtu = 1400\n"
				 "lease_time = 3600\n"
				 "obtained = 1699999990\n"
				 "renew = 1700001790\n"
				 "rebind = 1700003140\n"
				 "expires = 1700003590\n"
				 "\n[eth2]\n"
				 "index = 4\n"
				 "mac = 02:00:00:00:00:12\n"
				 "method = static\n"
				 "up = 1\n"
				 "carrier = 0\n"
				 "address = 192.168.50.2/24 fd00:50::2/64\n"
				 "router = 192.168.50.1\n"
				 "router6 = fd00:50::1\n"
				 "\n[ib0]\n"
				 "index = 5\n"
				 "mac = 00:00:00:00:00:00\n"
				 "method = dhcp\n"
				 "up = 0\n"
				 "carrier = 0\n"
				 "error = not an Ethernet link\n"
				 "\n[nosuch0]\n"
				 "method = static\n"
				 "error = no such interface\n");

	/* a lease that never ends has no times; a client without one, its
	 * state and counts only */
	eth0_info.times.lease_s = UINT32_MAX;
	eth0_info.t1_ns = eth0_info.t2_ns = eth0_info.expires_ns = UINT64_MAX;
	st.n_ifaces = 1;
	st.static_errors = no_errors;
	net_setup_state_text(&st, buf, sizeof(buf));
	assert_non_null(strstr(buf, "lease_time = 4294967295\nobtained = 1699999990\n"
				    "renew = -1\nrebind = -1\nexpires = -1\n"));
	/* no option 1: the prefix dhcp.c put on the interface, the class's */
	eth0_info.lease.has_subnet = false;
	eth0_info.lease.prefix_len = 0;
	memcpy(eth0_info.lease.yiaddr, ((uint8_t[]){ 192, 168, 7, 9 }), 4);
	net_setup_state_text(&st, buf, sizeof(buf));
	assert_non_null(strstr(buf, "address = 192.168.7.9/24\n"));
	eth0_info.has_lease = false;
	eth0_info.state = DHCP_SELECTING;
	net_setup_state_text(&st, buf, sizeof(buf));
	assert_non_null(strstr(buf, "carrier = 1\nstate = selecting\nleases = 3\nrejected = 4\n"));
	assert_null(strstr(buf, "address"));
}

/* A text longer than the buffer: cut, ended, and the length it needs
 * returned, so that the caller can tell. */
static void test_state_text_cut(void **state)
{
	struct dhcp_info in = bound_at(10);
	struct net_iface eth0 = { .name = "eth0", .method = NET_METHOD_DHCP, .dhcp = &in };
	const struct net_iface *ifaces[] = { &eth0 };
	struct dnsconf d = { 0 };
	struct net_state st = { .cfg = &cfg,
				.dns_source = "dhcp",
				.dns = &d,
				.ifaces = ifaces,
				.n_ifaces = 1,
				.static_errors = no_errors };
	char full[4096], small[100];
	size_t n;

	(void)state;
	configure((const char *const[]){ NULL });
	n = net_setup_state_text(&st, full, sizeof(full));
	assert_true(n > sizeof(small));
	memset(small, 'x', sizeof(small));
	assert_int_equal(net_setup_state_text(&st, small, sizeof(small)), n);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, full, sizeof(small) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_method),
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_state_text),
		cmocka_unit_test(test_state_text_cut),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
