/* The DHCPv4 client's state machine (RFC 2131 4.4, figure 5) on init's loop,
 * and the real operations it acts through (struct dhcp_ops, dhcp.h).
 * Without an address it speaks through an AF_PACKET socket (packet(7)) with
 * a BPF filter for UDP to port 68, building the IPv4/UDP headers itself, as
 * the kernel cannot send from 0.0.0.0 nor deliver a reply for an address it
 * does not have yet. Once bound, a UDP socket on port 68 of the interface
 * (SO_BINDTODEVICE) renews unicast and rebinds by broadcast. One timerfd on
 * CLOCK_BOOTTIME, so that time spent suspended counts against the lease.
 * The messages themselves are dhcp-packet.c's. */
#include "dhcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* REQUESTING: this many REQUESTs for one OFFER, then DISCOVER again */
#define REQUEST_TRIES 4
/* systemd-networkd's metric for DHCP routes: below static ones' 0 */
#define DHCP_ROUTE_METRIC 1024

struct dhcp_client {
	const struct dhcp_ops *ops;
	void *ops_data;
	int ifindex;
	char ifname[NET_IFNAME_MAX];
	uint8_t mac[6];
	struct dhcp_settings set;
	char hostname[DHCP_NAME_MAX + 1];
	dhcp_change_fn fn;
	void *data;

	/* the real operations' (dhcp_client_new); -1 with a test's */
	struct supervisor *sup;
	int sock; /* packet or UDP socket; -1 */
	bool sock_udp;
	int timerfd;

	uint32_t xid;
	unsigned attempt;
	uint64_t exchange_start_ns; /* for the secs field */
	uint16_t discover_secs; /* the last DISCOVER's: its REQUEST repeats it */
	struct dhcp_lease offer; /* SELECTING's pick, REQUESTING's subject */
	bool applied; /* the lease's address is on the interface */
	struct dhcp_info info;
};

static const char *const state_names[] = {
	[DHCP_STOPPED] = "stopped",	  [DHCP_SELECTING] = "selecting",
	[DHCP_REQUESTING] = "requesting", [DHCP_BOUND] = "bound",
	[DHCP_RENEWING] = "renewing",	  [DHCP_REBINDING] = "rebinding",
};

const char *dhcp_state_name(enum dhcp_state s)
{
	return (unsigned)s < ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

static uint32_t random32(void)
{
	uint32_t v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (uint32_t)(now_mono_ns() ^ (now_mono_ns() >> 32)) * 2654435761u;
	return v;
}

static uint64_t now(const struct dhcp_client *c)
{
	return c->ops->now(c->ops_data);
}

static void arm_at(struct dhcp_client *c, uint64_t at_ns)
{
	c->ops->arm(c->ops_data, at_ns ? at_ns : 1); /* 0 would disarm */
}

static void arm_in(struct dhcp_client *c, uint64_t ns)
{
	arm_at(c, now(c) + ns);
}

/* The next retransmission while no lease is held (RFC 2131 4.1). */
static void arm_backoff(struct dhcp_client *c)
{
	arm_in(c, dhcp_backoff_ms(c->attempt++, random32()) * NSEC_PER_MSEC);
}

/* Sends a message of TYPE for the current state: broadcast from 0.0.0.0
 * over the link without a lease, else over UDP (unicast to the server when
 * RENEWING, broadcast when REBINDING). */
static int send_message(struct dhcp_client *c, uint8_t type)
{
	static const uint8_t bcast[4] = { 255, 255, 255, 255 };
	struct dhcp_request rq = { .type = type, .xid = c->xid };
	uint8_t msg[DHCP_MSG_MAX];
	struct dhcp_send m = { .type = type, .msg = msg };
	uint64_t secs = (now(c) - c->exchange_start_ns) / NSEC_PER_SEC;
	int len, r;

	memcpy(rq.mac, c->mac, 6);
	rq.secs = (uint16_t)(secs > 0xffff ? 0xffff : secs);
	/* RFC 2131 4.4.1: the REQUEST that answers an OFFER MUST use the same
	 * secs as the DISCOVER it came from */
	if (type == DHCP_DISCOVER)
		c->discover_secs = rq.secs;
	else if (c->info.state == DHCP_REQUESTING)
		rq.secs = c->discover_secs;
	rq.hostname = c->hostname[0] ? c->hostname : NULL;
	m.path = c->info.state >= DHCP_BOUND ? DHCP_PATH_UDP : DHCP_PATH_LINK;
	memcpy(m.to, bcast, 4);
	switch (c->info.state) {
	case DHCP_SELECTING:
		rq.broadcast = true;
		rq.rapid_commit = c->set.rapid_commit;
		break;
	case DHCP_REQUESTING:
		/* RFC 2131 4.3.2, table 4: SELECTING's REQUEST names the server
		 * and the address, ciaddr 0 */
		rq.broadcast = true;
		memcpy(rq.requested, c->offer.yiaddr, 4);
		memcpy(rq.server_id, c->offer.server_id, 4);
		break;
	case DHCP_RENEWING:
		/* ciaddr set, neither option 50 nor 54; to the server */
		memcpy(rq.ciaddr, c->info.lease.yiaddr, 4);
		memcpy(m.to, c->info.lease.server_id, 4);
		break;
	case DHCP_REBINDING:
		/* the same, to any server */
		memcpy(rq.ciaddr, c->info.lease.yiaddr, 4);
		break;
	case DHCP_BOUND:
		if (type == DHCP_RELEASE) {
			memcpy(rq.ciaddr, c->info.lease.yiaddr, 4);
			memcpy(rq.server_id, c->info.lease.server_id, 4);
		}
		memcpy(m.to, c->info.lease.server_id, 4);
		break;
	default:
		return -EINVAL;
	}
	len = dhcp_build(&rq, msg, sizeof(msg));
	if (len < 0)
		return log_error_errno(len, "%s: dhcp: build %s", c->ifname, dhcp_type_name(type));
	m.len = (size_t)len;
	r = c->ops->send(c->ops_data, &m);
	if (r < 0)
		return r;
	log_debug("%s: dhcp: %s sent (%s, xid %08x)", c->ifname, dhcp_type_name(type),
		  dhcp_state_name(c->info.state), c->xid);
	return 0;
}

void dhcp_lease_prefix(const struct dhcp_lease *l, struct net_prefix *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->family = AF_INET;
	memcpy(ret->addr, l->yiaddr, 4);
	ret->len = l->has_subnet	? l->prefix_len
		   : l->yiaddr[0] < 128 ? 8
		   : l->yiaddr[0] < 192 ? 16
					: 24;
}

/* What lease L puts on the interface. */
static void lease_apply(const struct dhcp_client *c, const struct dhcp_lease *l,
			struct dhcp_apply *ret)
{
	struct dhcp_times t;

	memset(ret, 0, sizeof(*ret));
	dhcp_lease_prefix(l, &ret->addr);
	/* the kernel removes the address itself should init not get to it */
	dhcp_lease_times(l, &t);
	ret->valid_s = t.lease_s;
	ret->mtu = c->set.mtu ? c->set.mtu : l->mtu;
	if (l->n_routers) {
		ret->has_router = true;
		memcpy(ret->router, l->routers[0], 4);
		/* a router outside the subnet (a /32 lease) is still on the link */
		ret->onlink = !net_prefix_contains(&ret->addr, l->routers[0]);
	}
}

/* Takes the address and the default route off. */
static void unapply(struct dhcp_client *c)
{
	struct dhcp_apply a;

	if (!c->applied)
		return;
	lease_apply(c, &c->info.lease, &a);
	c->ops->unapply(c->ops_data, &a);
	c->applied = false;
}

static void lose_lease(struct dhcp_client *c, const char *why)
{
	char a[INET_ADDRSTRLEN] = "?";

	if (!c->info.has_lease)
		return;
	inet_ntop(AF_INET, c->info.lease.yiaddr, a, sizeof(a));
	log_info("%s: dhcp: lease of %s %s: address removed", c->ifname, a, why);
	unapply(c);
	c->info.has_lease = false;
	if (c->fn)
		c->fn(c, c->data);
}

static void start_discover(struct dhcp_client *c, uint64_t delay_ns)
{
	c->info.state = DHCP_SELECTING;
	c->xid = random32();
	c->attempt = 0;
	c->exchange_start_ns = now(c);
	c->ops->listen(c->ops_data, DHCP_PATH_NONE);
	if (delay_ns) {
		arm_in(c, delay_ns);
		return;
	}
	/* a failure to send was logged; the timer retries with backoff */
	send_message(c, DHCP_DISCOVER);
	arm_backoff(c);
}

/* An ACK: the lease is (re)applied and its timers set (RFC 2131 4.4.5). */
static void bind_lease(struct dhcp_client *c, const struct dhcp_lease *l)
{
	uint64_t t = now(c);
	struct dhcp_apply a;
	char gw[INET_ADDRSTRLEN] = "-", ps[64];
	bool renewal = c->info.has_lease && memcmp(c->info.lease.yiaddr, l->yiaddr, 4) == 0;

	if (c->info.has_lease && !renewal)
		unapply(c); /* another address: the old one goes */
	lease_apply(c, l, &a);
	/* a failure was logged by the operation; the lease is still held, and
	 * the renewal applies it again */
	c->applied = c->ops->apply(c->ops_data, &a) >= 0;
	c->info.lease = *l;
	dhcp_lease_times(l, &c->info.times);
	c->info.has_lease = true;
	c->info.leases++;
	c->info.obtained_ns = t;
	if (c->info.times.lease_s == UINT32_MAX) {
		c->info.t1_ns = c->info.t2_ns = c->info.expires_ns = UINT64_MAX;
	} else {
		c->info.t1_ns = t + (uint64_t)c->info.times.t1_s * NSEC_PER_SEC;
		c->info.t2_ns = t + (uint64_t)c->info.times.t2_s * NSEC_PER_SEC;
		c->info.expires_ns = t + (uint64_t)c->info.times.lease_s * NSEC_PER_SEC;
	}
	c->info.state = DHCP_BOUND;
	c->info.names_ignored += l->n_ignored;
	if (l->n_routers)
		inet_ntop(AF_INET, l->routers[0], gw, sizeof(gw));
	/* once bound, the UDP socket: the packet socket's copies of all the
	 * interface's traffic are not needed any more */
	c->ops->listen(c->ops_data, DHCP_PATH_UDP);
	if (c->info.t1_ns != UINT64_MAX)
		arm_at(c, c->info.t1_ns);
	else
		c->ops->arm(c->ops_data, 0); /* an infinite lease: nothing to do */
	if (c->fn)
		c->fn(c, c->data);
	/* logged once resolv.conf and the state file say so too: who reads the
	 * log line and then asks the agent finds the lease there */
	log_info("%s: dhcp: %s %s, router %s, lease %us (T1 %us, T2 %us)%s", c->ifname,
		 renewal ? "renewed" : "bound", net_prefix_str(&a.addr, ps, sizeof(ps)), gw,
		 c->info.times.lease_s, c->info.times.t1_s, c->info.times.t2_s,
		 l->rapid_commit ? ", rapid commit" : "");
}

static void on_reply(struct dhcp_client *c, const struct dhcp_lease *l)
{
	char a[INET_ADDRSTRLEN] = "?";

	inet_ntop(AF_INET, l->yiaddr, a, sizeof(a));
	switch (c->info.state) {
	case DHCP_SELECTING:
		if (l->type == DHCP_ACK && l->rapid_commit && c->set.rapid_commit) {
			bind_lease(c, l);
		} else if (l->type == DHCP_OFFER) {
			log_debug("%s: dhcp: OFFER of %s", c->ifname, a);
			c->offer = *l;
			c->info.state = DHCP_REQUESTING;
			c->attempt = 0;
			send_message(c, DHCP_REQUEST);
			arm_backoff(c);
		}
		break;
	case DHCP_REQUESTING:
	case DHCP_RENEWING:
	case DHCP_REBINDING:
		if (l->type == DHCP_ACK) {
			bind_lease(c, l);
		} else if (l->type == DHCP_NAK) {
			/* RFC 2131 3.1 step 5, 4.4.5: start over */
			log_warn("%s: dhcp: NAK%s%s", c->ifname, l->message[0] ? ": " : "",
				 l->message);
			lose_lease(c, "refused by the server (NAK)");
			start_discover(c, dhcp_backoff_ms(0, random32()) * NSEC_PER_MSEC / 4);
		}
		break;
	default:
		break; /* BOUND, STOPPED: nothing expected */
	}
}

void dhcp_client_receive(struct dhcp_client *c, const uint8_t *msg, size_t len)
{
	struct dhcp_lease l;
	enum dhcp_reject r = dhcp_parse(msg, len, c->xid, c->mac, &l);

	if (r != DHCP_OK) {
		c->info.rejected[r]++;
		log_debug("%s: dhcp: message of %zu bytes ignored: %s", c->ifname, len,
			  dhcp_reject_name(r));
		return;
	}
	log_debug("%s: dhcp: %s received", c->ifname, dhcp_type_name(l.type));
	on_reply(c, &l);
}

void dhcp_client_timeout(struct dhcp_client *c)
{
	uint64_t t = now(c);

	switch (c->info.state) {
	case DHCP_STOPPED:
		break;
	case DHCP_SELECTING:
		if (c->attempt == 0)
			c->exchange_start_ns = t;
		send_message(c, DHCP_DISCOVER);
		arm_backoff(c);
		break;
	case DHCP_REQUESTING:
		if (c->attempt >= REQUEST_TRIES) {
			log_info("%s: dhcp: no ACK for the OFFER; DISCOVER again", c->ifname);
			start_discover(c, 0);
			break;
		}
		send_message(c, DHCP_REQUEST);
		arm_backoff(c);
		break;
	case DHCP_BOUND:
	case DHCP_RENEWING:
	case DHCP_REBINDING:
		if (t >= c->info.expires_ns) {
			lose_lease(c, "expired");
			start_discover(c, 0);
			break;
		}
		/* leaving BOUND, a transaction of its own, whichever comes
		 * first: T1, or T2 when it is T1 too or the timer came late
		 * (the VM suspended) */
		if (c->info.state == DHCP_BOUND) {
			c->xid = random32();
			c->exchange_start_ns = t;
		}
		if (t >= c->info.t2_ns) {
			if (c->info.state != DHCP_REBINDING)
				log_info("%s: dhcp: T2 passed, rebinding", c->ifname);
			c->info.state = DHCP_REBINDING;
		} else if (c->info.state == DHCP_BOUND) {
			log_debug("%s: dhcp: T1 passed, renewing", c->ifname);
			c->info.state = DHCP_RENEWING;
		}
		send_message(c, DHCP_REQUEST);
		{
			/* RFC 2131 4.4.5: half the time left to T2 (RENEWING) or
			 * to the end (REBINDING), at least 60 s, never past it */
			uint64_t until =
				c->info.state == DHCP_RENEWING ? c->info.t2_ns : c->info.expires_ns;
			uint32_t left = (uint32_t)((until - t + NSEC_PER_SEC - 1) / NSEC_PER_SEC);

			arm_at(c, t + (uint64_t)dhcp_retransmit_s(left) * NSEC_PER_SEC);
		}
		break;
	}
}

static struct dhcp_client *client_alloc(const struct dhcp_ops *ops, void *ops_data, int ifindex,
					const char *ifname, const uint8_t mac[6],
					const struct dhcp_settings *set, dhcp_change_fn fn,
					void *data)
{
	struct dhcp_client *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ops = ops;
	c->ops_data = ops_data;
	c->ifindex = ifindex;
	snprintf(c->ifname, sizeof(c->ifname), "%s", ifname);
	memcpy(c->mac, mac, 6);
	c->set = *set;
	if (set->hostname)
		snprintf(c->hostname, sizeof(c->hostname), "%s", set->hostname);
	c->set.hostname = NULL;
	c->fn = fn;
	c->data = data;
	c->sock = -1;
	c->timerfd = -1;
	return c;
}

int dhcp_client_new_ops(const struct dhcp_ops *ops, void *ops_data, int ifindex, const char *ifname,
			const uint8_t mac[6], const struct dhcp_settings *set, dhcp_change_fn fn,
			void *data, struct dhcp_client **ret)
{
	struct dhcp_client *c = client_alloc(ops, ops_data, ifindex, ifname, mac, set, fn, data);

	if (!c)
		return -ENOMEM;
	*ret = c;
	return 0;
}

void dhcp_client_start(struct dhcp_client *c)
{
	if (c->info.state != DHCP_STOPPED)
		return;
	log_info("%s: dhcp: starting", c->ifname);
	start_discover(c, 0);
}

void dhcp_client_stop(struct dhcp_client *c)
{
	if (c->info.state == DHCP_STOPPED)
		return;
	lose_lease(c, "dropped: link down");
	c->ops->listen(c->ops_data, DHCP_PATH_NONE);
	c->ops->arm(c->ops_data, 0);
	c->info.state = DHCP_STOPPED;
	log_info("%s: dhcp: stopped", c->ifname);
}

void dhcp_client_free(struct dhcp_client *c)
{
	if (!c)
		return;
	/* freed when the link is gone: its addresses went with it */
	c->applied = false;
	dhcp_client_stop(c);
	if (c->timerfd >= 0) {
		supervise_unwatch(c->sup, c->timerfd);
		close(c->timerfd);
	}
	free(c);
}

const struct dhcp_info *dhcp_client_info(const struct dhcp_client *c)
{
	return &c->info;
}

const char *dhcp_client_ifname(const struct dhcp_client *c)
{
	return c->ifname;
}

/* The real operations: sockets and a timerfd in the supervisor's loop,
 * rtnetlink through net-link.c. DATA is the client itself. */

static void close_socket(struct dhcp_client *c)
{
	if (c->sock < 0)
		return;
	supervise_unwatch(c->sup, c->sock);
	close(c->sock);
	c->sock = -1;
}

static void on_readable(struct supervisor *s, int fd, uint32_t events, void *data);

/* FD becomes the client's socket, watched in the loop (closed on failure). */
static int watch_socket(struct dhcp_client *c, int fd, bool udp)
{
	int r = supervise_watch(c->sup, fd, on_readable, c);

	if (r < 0) {
		close(fd);
		return log_error_errno(r, "%s: dhcp: watch the socket", c->ifname);
	}
	c->sock = fd;
	c->sock_udp = udp;
	return 0;
}

/* The packet socket: IPv4 frames of this interface, filtered in the kernel
 * to UDP datagrams for port 68 that are not fragments. */
static int open_packet_socket(struct dhcp_client *c)
{
	static struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9), /* protocol */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 6),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6), /* flags, fragment offset */
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 4, 0),
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0), /* X = header length */
		BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2), /* UDP destination port */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, DHCP_CLIENT_PORT, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(code), .filter = code };
	int one = 1;
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
		.sll_ifindex = c->ifindex,
	};
	int fd, r;

	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_IP));
	if (fd < 0)
		return log_error_errno(-errno, "%s: dhcp: packet socket", c->ifname);
	/* PACKET_AUXDATA: each packet says whether its checksum is filled in */
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		r = log_error_errno(-errno, "%s: dhcp: packet socket set-up", c->ifname);
		close(fd);
		return r;
	}
	return watch_socket(c, fd, false);
}

/* Once bound: UDP port 68 on this interface, broadcast allowed (REBINDING). */
static int open_udp_socket(struct dhcp_client *c)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(DHCP_CLIENT_PORT) };
	int fd, one = 1, r;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_error_errno(-errno, "%s: dhcp: UDP socket", c->ifname);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, c->ifname, (socklen_t)strlen(c->ifname)) <
		    0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		r = log_error_errno(-errno, "%s: dhcp: UDP socket on port 68", c->ifname);
		close(fd);
		return r;
	}
	return watch_socket(c, fd, true);
}

static int ensure_socket(struct dhcp_client *c, bool udp)
{
	if (c->sock >= 0 && c->sock_udp == udp)
		return 0;
	close_socket(c);
	return udp ? open_udp_socket(c) : open_packet_socket(c);
}

static void real_listen(void *data, enum dhcp_path path)
{
	struct dhcp_client *c = data;

	if (path == DHCP_PATH_NONE)
		close_socket(c);
	else
		(void)ensure_socket(c, path == DHCP_PATH_UDP); /* logged; the send retries */
}

static int real_send(void *data, const struct dhcp_send *m)
{
	static const uint8_t any[4];
	struct dhcp_client *c = data;
	uint8_t pkt[DHCP_MSG_MAX + 28];
	int r = ensure_socket(c, m->path == DHCP_PATH_UDP);
	ssize_t n;

	if (r < 0)
		return r;
	if (m->path == DHCP_PATH_UDP) {
		struct sockaddr_in to = { .sin_family = AF_INET,
					  .sin_port = htons(DHCP_SERVER_PORT) };

		memcpy(&to.sin_addr, m->to, 4);
		n = sendto(c->sock, m->msg, m->len, 0, (struct sockaddr *)&to, sizeof(to));
	} else {
		struct sockaddr_ll to = {
			.sll_family = AF_PACKET,
			.sll_protocol = htons(ETH_P_IP),
			.sll_ifindex = c->ifindex,
			.sll_halen = 6,
			.sll_addr = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		};
		int plen = dhcp_udp_wrap(any, m->to, m->msg, m->len, pkt, sizeof(pkt));

		if (plen < 0)
			return log_error_errno(plen, "%s: dhcp: frame", c->ifname);
		n = sendto(c->sock, pkt, (size_t)plen, 0, (struct sockaddr *)&to, sizeof(to));
	}
	if (n < 0)
		return log_warn_errno(-errno, "%s: dhcp: send %s", c->ifname,
				      dhcp_type_name(m->type));
	return 0;
}

static void real_arm(void *data, uint64_t at_ns)
{
	struct dhcp_client *c = data;
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = (time_t)(at_ns / NSEC_PER_SEC);
	its.it_value.tv_nsec = (long)(at_ns % NSEC_PER_SEC);
	if (timerfd_settime(c->timerfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		log_error_errno(-errno, "%s: dhcp: timerfd_settime", c->ifname);
}

static void default_route(const struct dhcp_apply *a, struct net_route *rt)
{
	memset(rt, 0, sizeof(*rt));
	rt->dst.family = AF_INET;
	rt->gw = a->router;
	rt->src = a->addr.addr;
	rt->metric = DHCP_ROUTE_METRIC;
	rt->proto = RTPROT_DHCP;
	rt->onlink = a->onlink;
}

static int real_apply(void *data, const struct dhcp_apply *a)
{
	struct dhcp_client *c = data;
	struct net_route rt;
	int r;

	if (a->mtu)
		net_link_set(c->ifindex, c->ifname, true, a->mtu);
	r = net_addr_add(c->ifindex, c->ifname, &a->addr, a->valid_s, a->valid_s);
	if (r == 0 && a->has_router) {
		default_route(a, &rt);
		net_route_add(c->ifindex, c->ifname, &rt);
	}
	return r;
}

static void real_unapply(void *data, const struct dhcp_apply *a)
{
	struct dhcp_client *c = data;
	struct net_route rt;

	if (a->has_router) {
		default_route(a, &rt);
		net_route_del(c->ifindex, c->ifname, &rt);
	}
	net_addr_del(c->ifindex, c->ifname, &a->addr);
}

static uint64_t real_now(void *data)
{
	(void)data;
	return now_boot_ns();
}

static const struct dhcp_ops real_ops = {
	.send = real_send,
	.listen = real_listen,
	.arm = real_arm,
	.apply = real_apply,
	.unapply = real_unapply,
	.now = real_now,
};

static void on_readable(struct supervisor *s, int fd, uint32_t events, void *data)
{
	struct dhcp_client *c = data;
	uint8_t buf[DHCP_PACKET_MAX + 64];

	(void)s, (void)events;
	/* bounded: what is queued, at most 32 datagrams a wakeup; a reply
	 * may switch the socket (bound: UDP), which ends the round */
	for (int i = 0; i < 32 && c->sock == fd; i++) {
		struct sockaddr_ll from;
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		} ctl;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = {
			.msg_name = &from,
			.msg_namelen = sizeof(from),
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = &ctl,
			.msg_controllen = sizeof(ctl),
		};
		const uint8_t *payload = buf;
		bool check_udp = true;
		size_t plen = 0;
		enum dhcp_reject r;
		ssize_t n = recvmsg(fd, &mh, 0);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn_errno(-errno, "%s: dhcp: receive", c->ifname);
			return;
		}
		if (c->sock_udp) {
			dhcp_client_receive(c, buf, (size_t)n);
			continue;
		}
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_PACKET && cm->cmsg_type == PACKET_AUXDATA &&
			    cm->cmsg_len >= CMSG_LEN(sizeof(struct tpacket_auxdata))) {
				struct tpacket_auxdata aux;

				memcpy(&aux, CMSG_DATA(cm), sizeof(aux));
				check_udp = !(aux.tp_status & TP_STATUS_CSUMNOTREADY);
			}
		r = dhcp_udp_unwrap(buf, (size_t)n, check_udp, &payload, &plen);
		if (r != DHCP_OK) {
			c->info.rejected[r]++;
			log_debug("%s: dhcp: packet of %zd bytes ignored: %s", c->ifname, n,
				  dhcp_reject_name(r));
			continue;
		}
		dhcp_client_receive(c, payload, plen);
	}
}

static void on_timer(struct supervisor *s, int fd, uint32_t events, void *data)
{
	uint64_t expirations;

	(void)s, (void)events;
	if (read(fd, &expirations, sizeof(expirations)) < 0)
		return; /* EAGAIN: already handled */
	dhcp_client_timeout(data);
}

int dhcp_client_new(struct supervisor *s, int ifindex, const char *ifname, const uint8_t mac[6],
		    const struct dhcp_settings *set, dhcp_change_fn fn, void *data,
		    struct dhcp_client **ret)
{
	struct dhcp_client *c = client_alloc(&real_ops, NULL, ifindex, ifname, mac, set, fn, data);
	int r;

	if (!c)
		return -ENOMEM;
	c->ops_data = c;
	c->sup = s;
	c->timerfd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (c->timerfd < 0) {
		r = log_error_errno(-errno, "%s: dhcp: timerfd", ifname);
		free(c);
		return r;
	}
	r = supervise_watch(s, c->timerfd, on_timer, c);
	if (r < 0) {
		log_error_errno(r, "%s: dhcp: watch the timer", ifname);
		close(c->timerfd);
		free(c);
		return r;
	}
	*ret = c;
	return 0;
}
