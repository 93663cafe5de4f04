/* The DHCPv4 client (RFC 2131), one per interface, inside init's event loop:
 * a socket and a timerfd watched by the supervisor, no thread and no other
 * process. It applies its lease over rtnetlink (address with the lease's
 * lifetime, default route, MTU) and tells its owner (net-setup.c), which
 * writes resolv.conf and the state file. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dhcp-packet.h"
#include "supervise.h"

enum dhcp_state {
	DHCP_STOPPED, /* link down, or not started */
	DHCP_SELECTING, /* DISCOVER sent, waiting for an OFFER */
	DHCP_REQUESTING, /* REQUEST sent for an OFFER */
	DHCP_BOUND,
	DHCP_RENEWING, /* past T1: REQUEST unicast to the server */
	DHCP_REBINDING, /* past T2: REQUEST broadcast to any server */
};

struct dhcp_settings {
	bool rapid_commit; /* ask for RFC 4039 rapid commit */
	unsigned mtu; /* 0: the server's option 26, if any */
	const char *hostname; /* sent as option 12; NULL: none */
};

/* What the owner reads: the lease and when it was obtained and ends
 * (CLOCK_BOOTTIME nanoseconds), and the packets refused, by reason. */
struct dhcp_info {
	enum dhcp_state state;
	bool has_lease;
	struct dhcp_lease lease;
	struct dhcp_times times;
	uint64_t obtained_ns, t1_ns, t2_ns, expires_ns;
	unsigned leases; /* ACKs taken, renewals included */
	unsigned rejected[DHCP_R_MAX];
	unsigned names_ignored;
};

struct dhcp_client;
/* Called after the lease changed (obtained, renewed, lost). */
typedef void (*dhcp_change_fn)(struct dhcp_client *c, void *data);

int dhcp_client_new(struct supervisor *s, int ifindex, const char *ifname, const uint8_t mac[6],
		    const struct dhcp_settings *set, dhcp_change_fn fn, void *data,
		    struct dhcp_client **ret);
/* The link is up and running: (re)start from DISCOVER. */
void dhcp_client_start(struct dhcp_client *c);
/* The link went down: the lease is dropped and its address removed. */
void dhcp_client_stop(struct dhcp_client *c);
void dhcp_client_free(struct dhcp_client *c);
const struct dhcp_info *dhcp_client_info(const struct dhcp_client *c);
const char *dhcp_client_ifname(const struct dhcp_client *c);
const char *dhcp_state_name(enum dhcp_state s);
