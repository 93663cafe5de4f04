/* The rtnetlink dumps (lib/rtnl) behind guest-network-get-interfaces and
 * porthole-network: an RTM_GETLINK dump (names, hardware addresses,
 * IFLA_STATS64), an RTM_GETADDR dump shaped as qemu-ga's getifaddrs(3)
 * answer, and the main table's routes. What to show is the commands'. */
#include "net-dump.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent.h"
#include "cmd-json.h"
#include "command.h"
#include "log.h"
#include "rtnl.h"
#include "util.h"

/* The counters read from struct rtnl_link_stats64, which has grown over
 * kernel versions: everything up to rx_missed_errors (16 u64) has been there
 * since 2.6.35. */
#define STATS64_MIN_LEN (16 * sizeof(__u64))

/* The attributes read, and what each must be: one of the wrong type or
 * length is left out, never read (and logged). */
static const struct rtnl_attr_policy link_policy[] = {
	{ IFLA_IFNAME, MNL_TYPE_NUL_STRING, 0, IFNAMSIZ },
	{ IFLA_ADDRESS, MNL_TYPE_BINARY, 0, 32 }, /* MAX_ADDR_LEN in the kernel */
	{ IFLA_MTU, MNL_TYPE_U32, 0, 0 },
	{ IFLA_STATS64, MNL_TYPE_BINARY, STATS64_MIN_LEN, 0 },
};
/* the lengths of addresses are checked against the family by the callers */
static const struct rtnl_attr_policy addr_policy[] = {
	{ IFA_ADDRESS, MNL_TYPE_BINARY, 0, 0 },
	{ IFA_LOCAL, MNL_TYPE_BINARY, 0, 0 },
};
static const struct rtnl_attr_policy route_policy[] = {
	{ RTA_OIF, MNL_TYPE_U32, 0, 0 },	{ RTA_PRIORITY, MNL_TYPE_U32, 0, 0 },
	{ RTA_TABLE, MNL_TYPE_U32, 0, 0 },	{ RTA_DST, MNL_TYPE_BINARY, 0, 0 },
	{ RTA_GATEWAY, MNL_TYPE_BINARY, 0, 0 }, { RTA_PREFSRC, MNL_TYPE_BINARY, 0, 0 },
};
static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct net_dump *d = data;
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	const struct ifinfomsg *ifm;
	struct net_iface *f;
	unsigned bad;

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifm))
		return MNL_CB_OK;
	ifm = mnl_nlmsg_get_payload(nlh);
	if (rtnl_attrs(nlh, sizeof(*ifm), link_policy, ARRAY_SIZE(link_policy), tb, ARRAY_SIZE(tb),
		       &bad) < 0 ||
	    !tb[IFLA_IFNAME])
		return MNL_CB_OK;
	if (bad)
		log_warn("guest-network-get-interfaces: %u malformed attributes of link %d, "
			 "ignoring them",
			 bad, ifm->ifi_index);
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct net_iface *grown;

		if (d->cap == NET_IFACES_MAX) {
			d->truncated = true;
			return MNL_CB_OK; /* keep reading: the dump must be drained */
		}
		if (cap > NET_IFACES_MAX)
			cap = NET_IFACES_MAX;
		grown = realloc(d->ifaces, cap * sizeof(*grown));
		if (!grown) {
			d->error = -ENOMEM;
			return MNL_CB_ERROR;
		}
		d->ifaces = grown;
		d->cap = cap;
	}
	f = &d->ifaces[d->n++];
	memset(f, 0, sizeof(*f));
	f->index = ifm->ifi_index;
	f->flags = ifm->ifi_flags;
	if (tb[IFLA_MTU])
		f->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	snprintf(f->name, sizeof(f->name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	/* SIOCGIFHWADDR, qemu-ga's source, gives the first 6 bytes of the
	 * device address, zeros when it has none (lo, tun, wireguard) */
	if (tb[IFLA_ADDRESS]) {
		size_t len = mnl_attr_get_payload_len(tb[IFLA_ADDRESS]);

		memcpy(f->hwaddr, mnl_attr_get_payload(tb[IFLA_ADDRESS]),
		       len < sizeof(f->hwaddr) ? len : sizeof(f->hwaddr));
	}
	if (tb[IFLA_STATS64]) {
		size_t len = mnl_attr_get_payload_len(tb[IFLA_STATS64]);

		/* attributes are 4-byte aligned, the u64 counters need 8: copy */
		memcpy(&f->stats, mnl_attr_get_payload(tb[IFLA_STATS64]),
		       len < sizeof(f->stats) ? len : sizeof(f->stats));
		f->has_stats = true;
	}
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct net_dump *d = data;
	const struct nlattr *tb[IFA_MAX + 1] = { 0 }, *at;
	const struct ifaddrmsg *ifa;
	char text[INET6_ADDRSTRLEN];
	struct net_iface *f = NULL;
	size_t alen;
	json_t *addr;

	if (nlh->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return MNL_CB_OK;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family == AF_INET)
		alen = 4;
	else if (ifa->ifa_family == AF_INET6)
		alen = 16;
	else
		return MNL_CB_OK;
	if (rtnl_attrs(nlh, sizeof(*ifa), addr_policy, ARRAY_SIZE(addr_policy), tb, ARRAY_SIZE(tb),
		       NULL) < 0)
		return MNL_CB_OK;
	/* getifaddrs(3): the local address when there is one (IFA_ADDRESS is
	 * the peer's on a point-to-point link), else IFA_ADDRESS */
	at = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!at || mnl_attr_get_payload_len(at) != alen)
		return MNL_CB_OK;
	for (size_t i = 0; i < d->n; i++)
		if (d->ifaces[i].index == (int)ifa->ifa_index)
			f = &d->ifaces[i];
	if (!f)
		return MNL_CB_OK; /* a link that appeared after the link dump */
	if (d->n_addrs == NET_ADDRS_MAX) {
		d->truncated = true;
		return MNL_CB_OK;
	}
	if (!inet_ntop(ifa->ifa_family, mnl_attr_get_payload(at), text, sizeof(text)))
		return MNL_CB_OK;
	if (!f->addrs && !(f->addrs = json_array())) {
		d->error = -ENOMEM;
		return MNL_CB_ERROR;
	}
	addr = json_pack("{s:s,s:s,s:i}", "ip-address", text, "ip-address-type",
			 ifa->ifa_family == AF_INET ? "ipv4" : "ipv6", "prefix",
			 (int)ifa->ifa_prefixlen);
	if (cmd_json_append(f->addrs, addr) < 0) {
		d->error = -ENOMEM;
		return MNL_CB_ERROR;
	}
	d->n_addrs++;
	return MNL_CB_OK;
}

static json_t *route_addr(const struct nlattr *at, int family, size_t alen, int prefix)
{
	char text[INET6_ADDRSTRLEN + 8];

	if (!at || mnl_attr_get_payload_len(at) != alen ||
	    !inet_ntop(family, mnl_attr_get_payload(at), text, INET6_ADDRSTRLEN))
		return NULL;
	if (prefix >= 0)
		snprintf(text + strlen(text), 8, "/%d", prefix);
	return json_string(text);
}

/* The main table's unicast routes, as `ip route` shows them. */
static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	static const char *const protos[] = { [RTPROT_KERNEL] = "kernel",
					      [RTPROT_BOOT] = "boot",
					      [RTPROT_STATIC] = "static",
					      [RTPROT_RA] = "ra",
					      [RTPROT_DHCP] = "dhcp" };
	struct net_dump *d = data;
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rtm;
	const struct net_iface *f = NULL;
	uint32_t table;
	size_t alen;
	json_t *o;

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return MNL_CB_OK;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return MNL_CB_OK;
	alen = rtm->rtm_family == AF_INET ? 4 : 16;
	if (rtnl_attrs(nlh, sizeof(*rtm), route_policy, ARRAY_SIZE(route_policy), tb,
		       ARRAY_SIZE(tb), NULL) < 0)
		return MNL_CB_OK;
	table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	if (table != RT_TABLE_MAIN || rtm->rtm_type != RTN_UNICAST)
		return MNL_CB_OK;
	if (json_array_size(d->routes) >= NET_ADDRS_MAX) {
		d->truncated = true;
		return MNL_CB_OK;
	}
	o = json_object();
	if (!o)
		goto oom;
	if (rtm->rtm_dst_len == 0) {
		if (cmd_json_set(o, "destination", json_string("default")) < 0)
			goto oom;
	} else if (cmd_json_set(o, "destination",
				route_addr(tb[RTA_DST], rtm->rtm_family, alen, rtm->rtm_dst_len)) <
		   0) {
		json_decref(o);
		return MNL_CB_OK; /* a destination that did not parse */
	}
	if (tb[RTA_GATEWAY] &&
	    cmd_json_set(o, "gateway", route_addr(tb[RTA_GATEWAY], rtm->rtm_family, alen, -1)) < 0)
		goto oom;
	if (tb[RTA_OIF])
		f = net_dump_find(d, (int)mnl_attr_get_u32(tb[RTA_OIF]));
	if (f && cmd_json_set(o, "interface", utf8_json_string(f->name)) < 0)
		goto oom;
	if (tb[RTA_PREFSRC] &&
	    cmd_json_set(o, "source", route_addr(tb[RTA_PREFSRC], rtm->rtm_family, alen, -1)) < 0)
		goto oom;
	if (cmd_json_set(o, "metric",
			 json_integer(tb[RTA_PRIORITY] ? mnl_attr_get_u32(tb[RTA_PRIORITY]) : 0)) <
	    0)
		goto oom;
	if (rtm->rtm_protocol < ARRAY_SIZE(protos) && protos[rtm->rtm_protocol]) {
		if (cmd_json_set(o, "protocol", json_string(protos[rtm->rtm_protocol])) < 0)
			goto oom;
	} else if (cmd_json_set(o, "protocol", json_integer(rtm->rtm_protocol)) < 0) {
		goto oom;
	}
	if (cmd_json_append(d->routes, o) < 0) {
		d->error = -ENOMEM;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
oom:
	json_decref(o);
	d->error = -ENOMEM;
	return MNL_CB_ERROR;
}

const struct net_iface *net_dump_find(const struct net_dump *d, int index)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->ifaces[i].index == index)
			return &d->ifaces[i];
	return NULL;
}

/* Runs one dump of TYPE (RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE) for all
 * families: rtnl_dump's result, with the kernel's text in WHY. A callback
 * that fails sets d->error. */
static int dump(struct rtnl *r, uint16_t type, mnl_cb_t cb, struct net_dump *d, char *why,
		size_t why_size)
{
	struct nlmsghdr *nlh = rtnl_msg(r, type, 0);
	int e;

	if (type == RTM_GETLINK) {
		struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

		ifm->ifi_family = AF_UNSPEC;
	} else if (type == RTM_GETADDR) {
		struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

		ifa->ifa_family = AF_UNSPEC;
	} else {
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

		rtm->rtm_family = AF_UNSPEC;
	}
	e = rtnl_dump(r, nlh, cb, d, why, why_size);
	return e < 0 && d->error ? d->error : e;
}

static void dump_clear(struct net_dump *d)
{
	for (size_t i = 0; i < d->n; i++)
		json_decref(d->ifaces[i].addrs);
	d->n = 0;
	d->n_addrs = 0;
	json_decref(d->routes);
	d->routes = NULL;
	d->truncated = false;
	d->error = 0;
}

int net_dump_run(struct net_dump *d, bool routes, struct cmd_error *err)
{
	char why[256] = "";
	struct rtnl r;
	int e = rtnl_open(&r);

	if (e < 0)
		return cmd_fail_errno(err, e, "open a netlink socket");
	/* three dumps that change may interrupt: all of them again, then */
	for (int tries = 1;; tries++) {
		const char *what = "RTM_GETLINK";

		e = dump(&r, RTM_GETLINK, link_cb, d, why, sizeof(why));
		if (e == 0) {
			what = "RTM_GETADDR";
			e = dump(&r, RTM_GETADDR, addr_cb, d, why, sizeof(why));
		}
		if (e == 0 && routes) {
			what = "RTM_GETROUTE";
			d->routes = json_array();
			e = d->routes ? dump(&r, RTM_GETROUTE, route_cb, d, why, sizeof(why))
				      : -ENOMEM;
		}
		if (e == -EINTR && tries < RTNL_DUMP_TRIES) {
			dump_clear(d);
			continue;
		}
		if (e < 0 && why[0])
			e = cmd_fail(err, "netlink %s dump: %s (%s)", what, strerror(-e), why);
		else if (e < 0)
			e = cmd_fail_errno(err, e, "netlink %s dump", what);
		break;
	}
	rtnl_close(&r);
	return e;
}

void net_dump_free(struct net_dump *d)
{
	dump_clear(d);
	free(d->ifaces);
	d->ifaces = NULL;
	d->cap = 0;
}
