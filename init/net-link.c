/* rtnetlink through libmnl: a request is built with lib/rtnl's rtnl_msg and
 * mnl_attr_put_*, sent by rtnl_request, and a failure logged with the
 * extended ack's message when the kernel gave one. Link events
 * come from a socket subscribed to RTMGRP_LINK (rtnetlink(7)). */
#include "net-link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "rtnl.h"
#include "util.h"

int net_addr_parse(const char *s, int family_or_0, struct net_prefix *ret)
{
	struct net_prefix p = { 0 };

	if ((family_or_0 == 0 || family_or_0 == AF_INET) && inet_pton(AF_INET, s, p.addr) == 1) {
		p.family = AF_INET;
		p.len = 32;
	} else if ((family_or_0 == 0 || family_or_0 == AF_INET6) &&
		   inet_pton(AF_INET6, s, p.addr) == 1) {
		p.family = AF_INET6;
		p.len = 128;
	} else {
		return -EINVAL;
	}
	*ret = p;
	return 0;
}

int net_prefix_parse(const char *s, struct net_prefix *ret)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	struct net_prefix p;
	int64_t len;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (net_addr_parse(addr, 0, &p) < 0)
		return -EINVAL;
	if (parse_int64(slash + 1, 0, p.family == AF_INET ? 32 : 128, &len) < 0)
		return -EINVAL;
	p.len = (unsigned)len;
	*ret = p;
	return 0;
}

int net_netmask_to_len(const uint8_t mask[4], unsigned *ret)
{
	uint32_t m = (uint32_t)mask[0] << 24 | (uint32_t)mask[1] << 16 | (uint32_t)mask[2] << 8 |
		     mask[3];
	unsigned len = 0;

	while (len < 32 && (m & (1u << (31 - len))))
		len++;
	/* the bits after the first 0 must all be 0 */
	if (len < 32 && (m << len) != 0)
		return -EINVAL;
	*ret = len;
	return 0;
}

bool net_prefix_contains(const struct net_prefix *p, const uint8_t *addr)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (memcmp(p->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((p->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

const char *net_prefix_str(const struct net_prefix *p, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(p->family, p->addr, a, sizeof(a));
	snprintf(buf, size, "%s/%u", a, p->len);
	return buf;
}

int net_hwaddr_parse(const char *s, uint8_t ret[6])
{
	unsigned b[6];
	char end;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
				      &b[4], &b[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (s[i * 3 + 2] != ':' && i < 5)
			return -EINVAL;
		ret[i] = (uint8_t)b[i];
	}
	return 0;
}

/* Sends the request built in R and logs its failure, with the kernel's
 * extended-ack text: WHAT names the interface and the operation. QUIET_ERR
 * is an error that is no failure (EEXIST when adding, ESRCH when
 * deleting): returned, not logged. Closes R. */
static int net_request(struct rtnl *r, struct nlmsghdr *nlh, const char *what, int quiet_err)
{
	char why[256];
	int e = rtnl_request(r, nlh, why, sizeof(why));

	rtnl_close(r);
	if (e == 0 || e == quiet_err)
		return e;
	if (why[0])
		log_error("%s: %s (%s)", what, strerror(-e), why);
	else
		log_error("%s: %s", what, strerror(-e));
	return e;
}

/* Opens R for a request on behalf of WHAT, logging a failure. */
static int net_open(struct rtnl *r, const char *what)
{
	int e = rtnl_open(r);

	return e < 0 ? log_error_errno(e, "%s: netlink socket", what) : 0;
}

int net_link_set(int index, const char *name, bool up, unsigned mtu)
{
	struct rtnl r;
	int e;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	char what[80];

	if (mtu)
		snprintf(what, sizeof(what), "%s: set %s, mtu %u", name, up ? "up" : "down", mtu);
	else
		snprintf(what, sizeof(what), "%s: set %s", name, up ? "up" : "down");
	e = net_open(&r, what);
	if (e < 0)
		return e;
	nlh = rtnl_msg(&r, RTM_NEWLINK, 0);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = index;
	ifm->ifi_flags = up ? IFF_UP : 0;
	ifm->ifi_change = IFF_UP;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return net_request(&r, nlh, what, 0);
}

int net_link_up(const char *ifname)
{
	unsigned idx = if_nametoindex(ifname);

	if (idx == 0)
		return log_error_errno(-errno, "%s: set up", ifname);
	return net_link_set((int)idx, ifname, true, 0);
}

static int addr_request(uint16_t type, uint16_t flags, int index, const char *name,
			const struct net_prefix *p, uint32_t valid_s, uint32_t preferred_s)
{
	char what[96], ps[64];
	struct rtnl r;
	int e;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	size_t alen = p->family == AF_INET ? 4 : 16;

	snprintf(what, sizeof(what), "%s: %s address %s", name,
		 type == RTM_NEWADDR ? "add" : "remove", net_prefix_str(p, ps, sizeof(ps)));
	e = net_open(&r, what);
	if (e < 0)
		return e;
	nlh = rtnl_msg(&r, type, flags);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)p->family;
	ifa->ifa_prefixlen = (uint8_t)p->len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)index;
	mnl_attr_put(nlh, IFA_LOCAL, alen, p->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, p->addr);
	if (type == RTM_NEWADDR && p->family == AF_INET && p->len < 31) {
		/* "brd +" in ip-address(8): the host part all ones */
		uint8_t brd[4];

		for (int i = 0; i < 4; i++) {
			unsigned bits = p->len > (unsigned)i * 8 ? p->len - (unsigned)i * 8 : 0;
			uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

			brd[i] = (uint8_t)(p->addr[i] | (uint8_t)~mask);
		}
		mnl_attr_put(nlh, IFA_BROADCAST, 4, brd);
	}
	if (type == RTM_NEWADDR && valid_s != UINT32_MAX) {
		struct ifa_cacheinfo ci = { .ifa_prefered = preferred_s, .ifa_valid = valid_s };

		mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
	}
	return net_request(&r, nlh, what, type == RTM_DELADDR ? -EADDRNOTAVAIL : 0);
}

int net_addr_add(int index, const char *name, const struct net_prefix *p, uint32_t valid_s,
		 uint32_t preferred_s)
{
	/* REPLACE: a renewal updates the lifetimes of the address in place */
	return addr_request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, index, name, p, valid_s,
			    preferred_s);
}

int net_addr_del(int index, const char *name, const struct net_prefix *p)
{
	int r = addr_request(RTM_DELADDR, 0, index, name, p, 0, 0);

	return r == -EADDRNOTAVAIL ? 0 : r;
}

static int route_request(uint16_t type, uint16_t flags, int index, const char *name,
			 const struct net_route *rt)
{
	char what[160], ps[64], gw[INET6_ADDRSTRLEN] = "";
	struct rtnl r;
	int e;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	size_t alen = rt->dst.family == AF_INET ? 4 : 16;

	if (rt->gw)
		inet_ntop(rt->dst.family, rt->gw, gw, sizeof(gw));
	snprintf(what, sizeof(what), "%s: %s route %s%s%s", name,
		 type == RTM_NEWROUTE ? "add" : "remove",
		 rt->dst.len ? net_prefix_str(&rt->dst, ps, sizeof(ps)) : "default",
		 rt->gw ? " via " : "", gw);
	e = net_open(&r, what);
	if (e < 0)
		return e;
	nlh = rtnl_msg(&r, type, flags);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)rt->dst.family;
	rtm->rtm_dst_len = (uint8_t)rt->dst.len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = rt->proto;
	rtm->rtm_scope = rt->gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	if (rt->onlink)
		rtm->rtm_flags |= RTNH_F_ONLINK;
	if (rt->dst.len)
		mnl_attr_put(nlh, RTA_DST, alen, rt->dst.addr);
	if (rt->gw)
		mnl_attr_put(nlh, RTA_GATEWAY, alen, rt->gw);
	if (rt->src)
		mnl_attr_put(nlh, RTA_PREFSRC, alen, rt->src);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)index);
	if (rt->metric)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, rt->metric);
	return net_request(&r, nlh, what, type == RTM_DELROUTE ? -ESRCH : 0);
}

int net_route_add(int index, const char *name, const struct net_route *rt)
{
	return route_request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, index, name, rt);
}

int net_route_del(int index, const char *name, const struct net_route *rt)
{
	int r = route_request(RTM_DELROUTE, 0, index, name, rt);

	return r == -ESRCH ? 0 : r;
}

/* The attributes read, and what each must be: one of the wrong type or
 * length is left out, never read. */
static const struct rtnl_attr_policy link_policy[] = {
	{ IFLA_IFNAME, MNL_TYPE_NUL_STRING, 0, NET_IFNAME_MAX },
	{ IFLA_ADDRESS, MNL_TYPE_BINARY, 0, NET_HWADDR_MAX },
	{ IFLA_MTU, MNL_TYPE_U32, 0, 0 },
};
int net_link_parse(const void *msg, size_t len, struct net_link *ret)
{
	const struct nlmsghdr *nlh = msg;
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	const struct ifinfomsg *ifm;
	struct net_link l = { 0 };

	if (len < sizeof(*nlh) || nlh->nlmsg_len > len || !mnl_nlmsg_ok(nlh, (int)len) ||
	    (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifm))
		return -EINVAL;
	ifm = mnl_nlmsg_get_payload(nlh);
	if (rtnl_attrs(nlh, sizeof(*ifm), link_policy, ARRAY_SIZE(link_policy), tb, ARRAY_SIZE(tb),
		       NULL) < 0 ||
	    !tb[IFLA_IFNAME])
		return -EINVAL;
	l.index = ifm->ifi_index;
	l.flags = ifm->ifi_flags;
	l.deleted = nlh->nlmsg_type == RTM_DELLINK;
	snprintf(l.name, sizeof(l.name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (tb[IFLA_ADDRESS]) {
		l.hwaddr_len = mnl_attr_get_payload_len(tb[IFLA_ADDRESS]);
		memcpy(l.hwaddr, mnl_attr_get_payload(tb[IFLA_ADDRESS]), l.hwaddr_len);
	}
	if (tb[IFLA_MTU])
		l.mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	*ret = l;
	return 0;
}

struct link_cb_data {
	net_link_fn fn;
	void *data;
};

static int link_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_cb_data *d = data;
	struct net_link l;

	if (net_link_parse(nlh, nlh->nlmsg_len, &l) == 0)
		d->fn(&l, d->data);
	return MNL_CB_OK;
}

int net_links_dump(net_link_fn fn, void *data)
{
	struct link_cb_data d = { fn, data };
	char why[256];
	struct rtnl r;
	int e = net_open(&r, "link dump");

	if (e < 0)
		return e;
	/* FN acts on each link as it is seen: an interrupted dump is simply
	 * run again, and links seen twice are seen twice */
	for (int tries = 1; tries <= RTNL_DUMP_TRIES; tries++) {
		struct nlmsghdr *nlh = rtnl_msg(&r, RTM_GETLINK, 0);
		struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

		ifm->ifi_family = AF_UNSPEC;
		e = rtnl_dump(&r, nlh, link_msg_cb, &d, why, sizeof(why));
		if (e != -EINTR)
			break;
	}
	rtnl_close(&r);
	if (e < 0 && why[0])
		log_error("link dump: %s (%s)", strerror(-e), why);
	else if (e < 0)
		log_error_errno(e, "link dump");
	return e;
}

int net_monitor_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);

	if (fd < 0)
		return log_error_errno(-errno, "link events: netlink socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = log_error_errno(-errno, "link events: netlink bind");

		close(fd);
		return r;
	}
	return fd;
}

int net_monitor_read(int fd, net_link_fn fn, void *data)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));

	/* bounded: what is queued now, at most 256 reads a wakeup */
	for (int i = 0; i < 256; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* ENOBUFS: events were lost; the caller dumps the links again */
			return errno == EAGAIN ? 0 : -errno;
		}
		if (n == 0)
			return 0;
		for (len = (int)n; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			struct net_link l;

			if (nlh->nlmsg_pid != 0)
				continue; /* only the kernel's */
			if (net_link_parse(nlh, nlh->nlmsg_len, &l) == 0)
				fn(&l, data);
		}
	}
	return 0;
}
