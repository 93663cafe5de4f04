/* The rtnetlink dumps behind guest-network-get-interfaces
 * (cmd-guest-network.c) and porthole-network (cmd-porthole-network.c):
 * links with their addresses, and routes. */
#pragma once

#include <jansson.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "command.h"

/* Docker puts a veth per container in the VM's namespace: room for many,
 * with a reply that stays well under the transport's output bound. More
 * are left out, and the dump says so (truncated). */
#define NET_IFACES_MAX 1024
#define NET_ADDRS_MAX 4096

struct net_iface {
	int index;
	char name[IFNAMSIZ];
	unsigned char hwaddr[6];
	unsigned flags; /* IFF_UP, IFF_RUNNING, IFF_LOOPBACK */
	unsigned mtu;
	bool has_stats;
	struct rtnl_link_stats64 stats;
	json_t *addrs; /* qemu-ga's shape; NULL until the first address */
};

struct net_dump {
	struct net_iface *ifaces; /* grown by doubling, up to NET_IFACES_MAX */
	size_t n, cap;
	size_t n_addrs;
	json_t *routes; /* with routes: [{destination, gateway, interface...}] */
	bool truncated;
	int error; /* a callback's -errno (out of memory) */
};

/* Dumps links and addresses, and with ROUTES the main table's routes.
 * Returns 0, or -1 with ERR filled. */
int net_dump_run(struct net_dump *d, bool routes, struct cmd_error *err);
void net_dump_free(struct net_dump *d);
const struct net_iface *net_dump_find(const struct net_dump *d, int index);
