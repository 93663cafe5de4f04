/* The DHCPv4 client (RFC 2131), one per interface, inside init's event loop:
 * a socket and a timerfd watched by the supervisor, no thread and no other
 * process. It applies its lease over rtnetlink (address with the lease's
 * lifetime, default route, MTU) and tells its owner (net-setup.c), which
 * writes resolv.conf and the state file. What it does to the world goes
 * through a table of operations (struct dhcp_ops), so that tests drive the
 * state machine without sockets, root or a real clock. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp-packet.h"
#include "net-link.h"
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

/* How a message leaves, and where replies are awaited. */
enum dhcp_path {
	DHCP_PATH_NONE, /* nowhere: stopped, or waiting to DISCOVER again */
	DHCP_PATH_LINK, /* no address yet: a link-layer broadcast from 0.0.0.0 */
	DHCP_PATH_UDP, /* bound: UDP from the lease's address, port 68 */
};

/* One message to send: built by dhcp_build, for TO (255.255.255.255, or
 * the server when RENEWING). */
struct dhcp_send {
	uint8_t type; /* enum dhcp_type */
	enum dhcp_path path; /* LINK or UDP */
	uint8_t to[4];
	const uint8_t *msg;
	size_t len;
};

/* What a lease puts on the interface, and takes off when it goes. */
struct dhcp_apply {
	struct net_prefix addr; /* yiaddr, option 1's length (else its class's) */
	uint32_t valid_s; /* the lease's time: the kernel's valid lifetime */
	bool has_router;
	uint8_t router[4]; /* the default route's gateway: option 3's first */
	bool onlink; /* the router is outside the subnet (a /32 lease) */
	unsigned mtu; /* dhcp_settings' mtu, else option 26; 0: left alone */
};

/* The client's effects on the world, as dinit's tests replace a service's:
 * dhcp_client_new's are the real ones (an AF_PACKET and a UDP socket, a
 * timerfd on CLOCK_BOOTTIME, rtnetlink through net-link.c); a test passes
 * its own to dhcp_client_new_ops and feeds the inputs below. Each is called
 * with the DATA given with them. */
struct dhcp_ops {
	/* Sends M; replies come back through dhcp_client_receive. -errno when
	 * it could not (logged): the next retransmission tries again. */
	int (*send)(void *data, const struct dhcp_send *m);
	/* Replies are awaited on PATH from now on (NONE: nowhere). */
	void (*listen)(void *data, enum dhcp_path path);
	/* dhcp_client_timeout is due at AT_NS (the now op's clock); 0 disarms.
	 * One timer per client: arming it again replaces the time. */
	void (*arm)(void *data, uint64_t at_ns);
	/* Puts A on the interface; 0, or -errno (logged) when the address
	 * could not be added (the renewal applies it again). */
	int (*apply)(void *data, const struct dhcp_apply *a);
	void (*unapply)(void *data, const struct dhcp_apply *a);
	/* CLOCK_BOOTTIME nanoseconds: time suspended counts against a lease */
	uint64_t (*now)(void *data);
};

struct dhcp_client;
/* Called after the lease changed (obtained, renewed, lost). */
typedef void (*dhcp_change_fn)(struct dhcp_client *c, void *data);

int dhcp_client_new(struct supervisor *s, int ifindex, const char *ifname, const uint8_t mac[6],
		    const struct dhcp_settings *set, dhcp_change_fn fn, void *data,
		    struct dhcp_client **ret);
/* The same client, acting through OPS (called with OPS_DATA) instead. */
int dhcp_client_new_ops(const struct dhcp_ops *ops, void *ops_data, int ifindex, const char *ifname,
			const uint8_t mac[6], const struct dhcp_settings *set, dhcp_change_fn fn,
			void *data, struct dhcp_client **ret);
/* The link is up and running: (re)start from DISCOVER. */
void dhcp_client_start(struct dhcp_client *c);
/* The link went down: the lease is dropped and its address removed. */
void dhcp_client_stop(struct dhcp_client *c);
void dhcp_client_free(struct dhcp_client *c);

/* The state machine's inputs, which the real operations feed from the
 * socket and the timerfd: a DHCP message (a UDP payload of LEN bytes) that
 * came for C, refused and counted by its reason or acted on; and the time
 * armed through ops->arm, come. */
void dhcp_client_receive(struct dhcp_client *c, const uint8_t *msg, size_t len);
void dhcp_client_timeout(struct dhcp_client *c);

const struct dhcp_info *dhcp_client_info(const struct dhcp_client *c);
/* The address lease L puts on the interface, which net.state reports too:
 * yiaddr with option 1's length, or without it the address's class's
 * (RFC 2132 3.3 leaves it open). */
void dhcp_lease_prefix(const struct dhcp_lease *l, struct net_prefix *ret);
const char *dhcp_client_ifname(const struct dhcp_client *c);
const char *dhcp_state_name(enum dhcp_state s);
