/* Network configuration over rtnetlink (libmnl): links up with their MTU,
 * IPv4 and IPv6 addresses, routes, and the link events init's loop watches.
 * Every request's answer is checked and a failure names the interface and
 * the operation, with the kernel's extended ack message. What to configure
 * is left to net-setup.c and dhcp.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_IFNAME_MAX 16 /* IFNAMSIZ */
#define NET_HWADDR_MAX 32 /* MAX_ADDR_LEN */

/* An address with its prefix length: 10.0.2.15/24, fd00::2/64. */
struct net_prefix {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned len;
};

/* What RTM_NEWLINK says of a link. */
struct net_link {
	int index;
	char name[NET_IFNAME_MAX];
	uint8_t hwaddr[NET_HWADDR_MAX];
	size_t hwaddr_len;
	unsigned flags; /* IFF_UP, IFF_RUNNING, IFF_LOWER_UP, IFF_LOOPBACK */
	unsigned mtu;
	bool deleted; /* RTM_DELLINK, or moved out of this namespace */
};

/* "10.0.2.15", "fd00::1": -EINVAL unless a valid IPv4 or IPv6 address. */
int net_addr_parse(const char *s, int family_or_0, struct net_prefix *ret);
/* "10.0.2.15/24", "fd00::2/64": the prefix length is required and at most
 * 32 or 128. */
int net_prefix_parse(const char *s, struct net_prefix *ret);
/* "255.255.255.0" -> 24; -EINVAL for a mask that is not contiguous. */
int net_netmask_to_len(const uint8_t mask[4], unsigned *ret);
/* Whether ADDR (same family) is inside P's network. */
bool net_prefix_contains(const struct net_prefix *p, const uint8_t *addr);
/* "10.0.2.15/24" (or without "/len" when LEN is negative). */
const char *net_prefix_str(const struct net_prefix *p, char *buf, size_t size);
/* "52:54:00:12:34:56" -> 6 bytes. */
int net_hwaddr_parse(const char *s, uint8_t ret[6]);

/* Sets the link IFNAME up; the kernel's extended ack, if any, is logged. */
int net_link_up(const char *ifname);
/* Sets link INDEX up or down, and its MTU when MTU is not 0. NAME is for
 * messages. */
int net_link_set(int index, const char *name, bool up, unsigned mtu);
/* Adds (or, with REPLACE semantics, updates) an address. VALID_S and
 * PREFERRED_S are lifetimes in seconds (UINT32_MAX: forever): the kernel
 * removes the address itself when the valid lifetime ends. */
int net_addr_add(int index, const char *name, const struct net_prefix *p, uint32_t valid_s,
		 uint32_t preferred_s);
int net_addr_del(int index, const char *name, const struct net_prefix *p);
/* A route to DST (len 0: the default route) through GW (NULL: on-link),
 * out of INDEX, from SRC (NULL: none), with METRIC; PROTO is RTPROT_*. ONLINK
 * tells the kernel the gateway is reachable on the link even outside the
 * interface's subnets (RFC 3442's /32 leases do that). */
struct net_route {
	struct net_prefix dst;
	const uint8_t *gw;
	const uint8_t *src;
	uint32_t metric;
	uint8_t proto;
	bool onlink;
};
int net_route_add(int index, const char *name, const struct net_route *rt);
int net_route_del(int index, const char *name, const struct net_route *rt);

/* Calls FN for every link (an RTM_GETLINK dump). */
typedef void (*net_link_fn)(const struct net_link *link, void *data);
int net_links_dump(net_link_fn fn, void *data);
/* A non-blocking netlink socket subscribed to link events (RTMGRP_LINK);
 * returns its fd. net_monitor_read calls FN for each event queued. */
int net_monitor_open(void);
int net_monitor_read(int fd, net_link_fn fn, void *data);
/* Parses one RTM_NEWLINK / RTM_DELLINK message of LEN bytes (pure: tests). */
int net_link_parse(const void *msg, size_t len, struct net_link *ret);
