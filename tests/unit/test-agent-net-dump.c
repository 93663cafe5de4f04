/* agent/net-dump.c: a real dump of this machine's links, addresses and
 * routes (rtnetlink reads only), held against what other interfaces of the
 * kernel say: every link if_nameindex(3) lists, with its index; every
 * address getifaddrs(3) lists, on its link, with its prefix; every IPv4
 * route of /proc/net/route; and lo, which every network namespace has,
 * with 127.0.0.1/8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent-test.h"
#include "net-dump.h"

static bool has_addr(const struct net_iface *f, const char *text, const char *type, int prefix)
{
	json_t *a;
	size_t i;

	json_array_foreach(f->addrs, i, a)
	{
		if (strcmp(json_string_value(json_object_get(a, "ip-address")), text) == 0 &&
		    strcmp(json_string_value(json_object_get(a, "ip-address-type")), type) == 0 &&
		    json_integer_value(json_object_get(a, "prefix")) == prefix)
			return true;
	}
	return false;
}

static bool named(const struct if_nameindex *l, unsigned index, const char *name)
{
	for (; l->if_index; l++)
		if (l->if_index == index && strcmp(l->if_name, name) == 0)
			return true;
	return false;
}

static void test_links(void **state)
{
	struct if_nameindex *before, *after;
	struct net_dump d = { 0 };
	const struct net_iface *lo = NULL;
	size_t listed = 0;

	(void)state;
	before = if_nameindex();
	assert_non_null(before);
	assert_int_equal(net_dump_run(&d, false, &err), 0);
	after = if_nameindex();
	assert_non_null(after);
	assert_null(d.routes);
	assert_false(d.truncated);
	/* every link there before and after the dump is in it, once, by index */
	for (const struct if_nameindex *l = before; l->if_index; l++) {
		const struct net_iface *f = net_dump_find(&d, (int)l->if_index);

		if (!named(after, l->if_index, l->if_name))
			continue; /* came or went meanwhile */
		if (!f)
			fail_msg("link %s (%u) is not in the dump", l->if_name, l->if_index);
		assert_string_equal(f->name, l->if_name);
		listed++;
	}
	assert_true(listed > 0 && listed <= d.n);
	for (size_t i = 0; i < d.n; i++)
		if (strcmp(d.ifaces[i].name, "lo") == 0)
			lo = &d.ifaces[i];
	assert_non_null(lo);
	assert_ptr_equal(net_dump_find(&d, lo->index), lo);
	assert_int_equal(lo->index, (int)if_nametoindex("lo"));
	assert_true(lo->flags & IFF_LOOPBACK);
	assert_true(lo->flags & IFF_UP);
	assert_true(lo->mtu > 0);
	assert_true(lo->has_stats);
	/* no device address: zeros, as SIOCGIFHWADDR gives qemu-ga */
	assert_memory_equal(lo->hwaddr, "\0\0\0\0\0\0", 6);
	assert_true(has_addr(lo, "127.0.0.1", "ipv4", 8));
	assert_null(net_dump_find(&d, 0));
	assert_null(net_dump_find(&d, -1));
	if_freenameindex(before);
	if_freenameindex(after);
	net_dump_free(&d);
	assert_int_equal(d.n, 0);
	assert_null(d.ifaces);
}

static int prefix_of(const struct sockaddr *mask)
{
	const unsigned char *b;
	size_t len;
	int n = 0;

	if (!mask)
		return -1;
	if (mask->sa_family == AF_INET) {
		b = (const unsigned char *)&((const struct sockaddr_in *)mask)->sin_addr;
		len = 4;
	} else {
		b = (const unsigned char *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
		len = 16;
	}
	for (size_t i = 0; i < len; i++)
		n += __builtin_popcount(b[i]);
	return n;
}

/* getifaddrs(3) asks the kernel too, and is what qemu-ga answers from. */
static void test_addresses(void **state)
{
	struct ifaddrs *before, *after;
	struct net_dump d = { 0 };
	size_t seen = 0;

	(void)state;
	assert_int_equal(getifaddrs(&before), 0);
	assert_int_equal(net_dump_run(&d, false, &err), 0);
	assert_int_equal(getifaddrs(&after), 0);
	for (struct ifaddrs *a = before; a; a = a->ifa_next) {
		char text[INET6_ADDRSTRLEN], name[IF_NAMESIZE + 8];
		const struct net_iface *f;
		const void *addr;
		bool stayed = false;
		int family;

		if (!a->ifa_addr ||
		    (a->ifa_addr->sa_family != AF_INET && a->ifa_addr->sa_family != AF_INET6))
			continue;
		family = a->ifa_addr->sa_family;
		addr = family == AF_INET
			       ? (const void *)&((struct sockaddr_in *)a->ifa_addr)->sin_addr
			       : (const void *)&((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr;
		assert_non_null(inet_ntop(family, addr, text, sizeof(text)));
		for (struct ifaddrs *b = after; b && !stayed; b = b->ifa_next)
			stayed = b->ifa_addr && b->ifa_addr->sa_family == family &&
				 strcmp(a->ifa_name, b->ifa_name) == 0 &&
				 memcmp(a->ifa_addr, b->ifa_addr,
					family == AF_INET ? sizeof(struct sockaddr_in)
							  : sizeof(struct sockaddr_in6)) == 0;
		if (!stayed)
			continue; /* came or went meanwhile */
		/* an IPv4 label (eth0:1) names its link before the colon */
		snprintf(name, sizeof(name), "%s", a->ifa_name);
		name[strcspn(name, ":")] = '\0';
		f = net_dump_find(&d, (int)if_nametoindex(name));
		if (!f)
			fail_msg("%s (%s) is not in the dump", name, text);
		if (!has_addr(f, text, family == AF_INET ? "ipv4" : "ipv6",
			      prefix_of(a->ifa_netmask)))
			fail_msg("%s/%d on %s is not in the dump", text, prefix_of(a->ifa_netmask),
				 name);
		seen++;
	}
	assert_true(seen >= 1); /* 127.0.0.1 at least */
	assert_true(d.n_addrs >= seen);
	freeifaddrs(before);
	freeifaddrs(after);
	net_dump_free(&d);
}

/* /proc/net/route lists the main table's IPv4 routes: each is in the dump,
 * with its destination, link and metric, as `ip route` shows them. */
static void test_routes(void **state)
{
	struct net_dump d = { 0 };
	char line[512];
	json_t *route;
	size_t i, found = 0, listed = 0;
	FILE *f;

	(void)state;
	assert_int_equal(net_dump_run(&d, true, &err), 0);
	assert_true(json_is_array(d.routes));
	json_array_foreach(d.routes, i, route)
	{
		const char *dev = json_string_value(json_object_get(route, "interface"));

		assert_true(json_is_string(json_object_get(route, "destination")));
		assert_true(json_is_integer(json_object_get(route, "metric")));
		assert_non_null(json_object_get(route, "protocol"));
		/* a link of the same dump, by name */
		if (dev) {
			bool known = false;

			for (size_t k = 0; k < d.n; k++)
				known |= strcmp(d.ifaces[k].name, dev) == 0;
			assert_true(known);
		}
	}
	f = fopen("/proc/net/route", "re");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f)); /* the header */
	while (fgets(line, sizeof(line), f)) {
		char dev[IF_NAMESIZE + 1], want[INET_ADDRSTRLEN + 8];
		unsigned dst, gw, flags, refcnt, use, metric, mask;
		struct in_addr in;

		if (sscanf(line, "%16s %x %x %x %u %u %u %x", dev, &dst, &gw, &flags, &refcnt, &use,
			   &metric, &mask) != 8)
			continue;
		if (flags & 0x0200) /* RTF_REJECT: not unicast */
			continue;
		in.s_addr = dst;
		if (mask == 0)
			snprintf(want, sizeof(want), "default");
		else
			snprintf(want, sizeof(want), "%s/%d", inet_ntoa(in),
				 __builtin_popcount(mask));
		listed++;
		json_array_foreach(d.routes, i, route)
		{
			const char *dev2 = json_string_value(json_object_get(route, "interface"));

			if (strcmp(json_string_value(json_object_get(route, "destination")),
				   want) == 0 &&
			    dev2 && strcmp(dev2, dev) == 0 &&
			    json_integer_value(json_object_get(route, "metric")) == metric) {
				found++;
				break;
			}
		}
		if (found != listed)
			fail_msg("route %s dev %s metric %u is not in the dump", want, dev, metric);
	}
	fclose(f);
	net_dump_free(&d);
	assert_null(d.routes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_routes),
	};

	return cmocka_run_group_tests(tests, agent_test_setup, NULL);
}
