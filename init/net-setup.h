/* Boot step 4, the network, and what follows it in the loop: loopback up,
 * sysctl.conf, static interfaces, a DHCP client per DHCP interface (also for
 * interfaces that appear later), /etc/resolv.conf and the state file that
 * the agent reports (/run/porthole/net.state). The rtnetlink requests are
 * net-link.c's, the DHCP protocol dhcp.c's. What to configure, resolv.conf's
 * content and the state file's text are the pure functions below
 * (tests/unit/test-net-setup.c); applying them needs the kernel, and is
 * tests/sandbox/net.sh's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dhcp.h"
#include "net-config.h"
#include "net-link.h"
#include "supervise.h"

#define NET_STATE_PATH "/run/porthole/net.state"
#define NET_ERROR_MAX 96

/* Configures what CFG asks for and keeps watching link events. Failures are
 * logged with the interface and the operation; none stops the boot. */
void net_setup(struct supervisor *s, const struct init_config *cfg, bool sandbox);

enum net_method {
	NET_METHOD_NONE, /* not init's to configure */
	NET_METHOD_STATIC,
	NET_METHOD_DHCP,
};

/* What CFG asks for link L, which has a device behind it when NIC (what
 * "*" stands for: not lo, a veth or a bridge). net.static comes first: its
 * first entry that matches and that no link has TAKEN yet, in
 * *RET_STATIC; then net.dhcp. */
enum net_method net_setup_method(const struct net_config *cfg, const struct net_link *l, bool nic,
				 const bool taken[NETCFG_IFACES_MAX], int *ret_static);

/* The DNS to write, in RET: OVERRIDE (the host's, porthole-dns-set; NULL:
 * none), else the configuration's, else what the leases carry (INFO, N of
 * them: the DHCP clients', those without a lease skipped); the
 * configuration's search domains with the leases' servers when it names no
 * server. Returns where it came from: "override", "config" or "dhcp". */
const char *net_setup_dns(const struct net_config *cfg, const struct dnsconf *override,
			  const struct dhcp_info *const *info, size_t n, struct dnsconf *ret);
/* resolv.conf's text for D from SOURCE (net_setup_dns's), its first line
 * naming who wrote it. Returns the length, or -ENOBUFS. */
int net_setup_resolv_text(const struct dnsconf *d, const char *source, char *buf, size_t size);

/* An interface init configures, as the state file tells it. */
struct net_iface {
	int index;
	char name[NET_IFNAME_MAX];
	uint8_t mac[6];
	enum net_method method;
	int static_idx; /* STATIC: its net.static entry */
	unsigned flags; /* the link's IFF_UP, IFF_RUNNING */
	const struct dhcp_info *dhcp; /* DHCP: its client's; NULL without one */
	char error[NET_ERROR_MAX]; /* the last configuration failure; "" none */
};

/* What /run/porthole/net.state says (docs/protocol.md, porthole-network). */
struct net_state {
	const struct net_config *cfg;
	const char *dns_source; /* net_setup_dns's */
	const struct dnsconf *dns;
	const struct net_iface *const *ifaces;
	size_t n_ifaces;
	/* per net.static entry: why no interface has it ("" : none to say) */
	const char (*static_errors)[NET_ERROR_MAX];
	/* the clocks as the text is made: it gives CLOCK_REALTIME seconds */
	uint64_t boot_ns;
	int64_t real_s;
};

/* The state file's text, an INI file: [dns], then a section per interface.
 * Returns the length it needs, as snprintf: SIZE or more means it was cut. */
size_t net_setup_state_text(const struct net_state *st, char *buf, size_t size);
