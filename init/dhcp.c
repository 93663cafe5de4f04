/* The DHCPv4 client's state machine (RFC 2131 4.4, figure 5) on init's loop.
 * Without an address it speaks through an AF_PACKET socket (packet(7)) with
 * a BPF filter for UDP to port 68, building the IPv4/UDP headers itself, as
 * the kernel cannot send from 0.0.0.0 nor deliver a reply for an address it
 * does not have yet. Once bound, a UDP socket on port 68 of the interface
 * (SO_BINDTODEVICE) renews unicast and rebinds by broadcast. One timerfd on
 * CLOCK_BOOTTIME, so that time spent suspended counts against the lease. */
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
#include "net-link.h"
#include "util.h"

#define NS 1000000000ull
/* REQUESTING: this many REQUESTs for one OFFER, then DISCOVER again */
#define REQUEST_TRIES 4
/* systemd-networkd's metric for DHCP routes: below static ones' 0 */
#define DHCP_ROUTE_METRIC 1024

struct dhcp_client {
	struct supervisor *sup;
	int ifindex;
	char ifname[NET_IFNAME_MAX];
	uint8_t mac[6];
	struct dhcp_settings set;
	char hostname[DHCP_NAME_MAX + 1];
	dhcp_change_fn fn;
	void *data;

	int sock; /* packet or UDP socket; -1 */
	bool sock_udp;
	int timerfd;
	uint32_t xid;
	unsigned attempt;
	uint64_t exchange_start_ns; /* for the secs field */
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

static void set_timer_at(struct dhcp_client *c, uint64_t at_ns)
{
	struct itimerspec its = { 0 };

	if (at_ns == 0)
		at_ns = 1; /* 0 would disarm */
	its.it_value.tv_sec = (time_t)(at_ns / NS);
	its.it_value.tv_nsec = (long)(at_ns % NS);
	if (timerfd_settime(c->timerfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		log_error_errno(-errno, "%s: dhcp: timerfd_settime", c->ifname);
}

static void set_timer_in(struct dhcp_client *c, uint64_t ns)
{
	set_timer_at(c, now_boot_ns() + ns);
}

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

/* Sends a message of TYPE for the current state: broadcast from 0.0.0.0
 * through the packet socket without a lease, else over UDP (unicast to the
 * server when RENEWING, broadcast when REBINDING). */
static int send_message(struct dhcp_client *c, uint8_t type)
{
	static const uint8_t any[4], bcast[4] = { 255, 255, 255, 255 };
	struct dhcp_request rq = { .type = type, .xid = c->xid };
	uint8_t msg[DHCP_MSG_MAX], pkt[DHCP_MSG_MAX + 28];
	uint64_t secs = (now_boot_ns() - c->exchange_start_ns) / NS;
	bool udp = c->info.state >= DHCP_BOUND;
	int len, r;
	ssize_t n;

	memcpy(rq.mac, c->mac, 6);
	rq.secs = (uint16_t)(secs > 0xffff ? 0xffff : secs);
	rq.hostname = c->hostname[0] ? c->hostname : NULL;
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
	case DHCP_REBINDING:
		/* ciaddr set, neither option 50 nor 54 */
		memcpy(rq.ciaddr, c->info.lease.yiaddr, 4);
		break;
	case DHCP_BOUND:
		if (type == DHCP_RELEASE) {
			memcpy(rq.ciaddr, c->info.lease.yiaddr, 4);
			memcpy(rq.server_id, c->info.lease.server_id, 4);
		}
		break;
	default:
		return -EINVAL;
	}
	len = dhcp_build(&rq, msg, sizeof(msg));
	if (len < 0)
		return log_error_errno(len, "%s: dhcp: build %s", c->ifname, dhcp_type_name(type));
	r = ensure_socket(c, udp);
	if (r < 0)
		return r;
	if (udp) {
		struct sockaddr_in to = { .sin_family = AF_INET,
					  .sin_port = htons(DHCP_SERVER_PORT) };

		if (c->info.state == DHCP_REBINDING)
			memcpy(&to.sin_addr, bcast, 4);
		else
			memcpy(&to.sin_addr, c->info.lease.server_id, 4);
		n = sendto(c->sock, msg, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to));
	} else {
		struct sockaddr_ll to = {
			.sll_family = AF_PACKET,
			.sll_protocol = htons(ETH_P_IP),
			.sll_ifindex = c->ifindex,
			.sll_halen = 6,
			.sll_addr = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		};
		int plen = dhcp_udp_wrap(any, bcast, msg, (size_t)len, pkt, sizeof(pkt));

		if (plen < 0)
			return log_error_errno(plen, "%s: dhcp: frame", c->ifname);
		n = sendto(c->sock, pkt, (size_t)plen, 0, (struct sockaddr *)&to, sizeof(to));
	}
	if (n < 0)
		return log_warn_errno(-errno, "%s: dhcp: send %s", c->ifname, dhcp_type_name(type));
	log_debug("%s: dhcp: %s sent (%s, xid %08x)", c->ifname, dhcp_type_name(type),
		  dhcp_state_name(c->info.state), c->xid);
	return 0;
}

static void addr_of(const struct dhcp_lease *l, struct net_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = AF_INET;
	memcpy(p->addr, l->yiaddr, 4);
	/* without option 1, the address's class (RFC 2132 3.3 leaves it open) */
	p->len = l->has_subnet	      ? l->prefix_len
		 : l->yiaddr[0] < 128 ? 8
		 : l->yiaddr[0] < 192 ? 16
				      : 24;
}

static void default_route(const struct dhcp_client *c, const struct dhcp_lease *l,
			  struct net_route *rt)
{
	struct net_prefix p;

	addr_of(l, &p);
	memset(rt, 0, sizeof(*rt));
	rt->dst.family = AF_INET;
	rt->gw = l->routers[0];
	rt->src = l->yiaddr;
	rt->metric = DHCP_ROUTE_METRIC;
	rt->proto = RTPROT_DHCP;
	/* a router outside the subnet (a /32 lease) is still on the link */
	rt->onlink = !net_prefix_contains(&p, l->routers[0]);
	(void)c;
}

/* Takes the address, the default route and the lease's routes off. */
static void unapply(struct dhcp_client *c)
{
	struct net_prefix p;
	struct net_route rt;

	if (!c->applied)
		return;
	addr_of(&c->info.lease, &p);
	if (c->info.lease.n_routers) {
		default_route(c, &c->info.lease, &rt);
		net_route_del(c->ifindex, c->ifname, &rt);
	}
	net_addr_del(c->ifindex, c->ifname, &p);
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
	c->exchange_start_ns = now_boot_ns();
	close_socket(c);
	if (delay_ns) {
		set_timer_in(c, delay_ns);
		return;
	}
	if (send_message(c, DHCP_DISCOVER) < 0) {
		/* logged; the timer retries with backoff */
	}
	set_timer_in(c, dhcp_backoff_ms(c->attempt++, random32()) * 1000000);
}

/* An ACK: the lease is (re)applied and its timers set (RFC 2131 4.4.5). */
static void bind_lease(struct dhcp_client *c, const struct dhcp_lease *l)
{
	uint64_t now = now_boot_ns();
	struct dhcp_times t;
	struct net_prefix p;
	struct net_route rt;
	char a[INET_ADDRSTRLEN] = "?", gw[INET_ADDRSTRLEN] = "-", ps[64];
	unsigned mtu = c->set.mtu ? c->set.mtu : l->mtu;
	bool renewal = c->info.has_lease && memcmp(c->info.lease.yiaddr, l->yiaddr, 4) == 0;
	uint32_t valid;
	int r;

	if (c->info.has_lease && !renewal)
		unapply(c); /* another address: the old one goes */
	dhcp_lease_times(l, &t);
	addr_of(l, &p);
	/* the kernel removes the address itself should init not get to it */
	valid = t.lease_s;
	if (mtu)
		net_link_set(c->ifindex, c->ifname, true, mtu);
	r = net_addr_add(c->ifindex, c->ifname, &p, valid, valid);
	if (r == 0 && l->n_routers) {
		default_route(c, l, &rt);
		net_route_add(c->ifindex, c->ifname, &rt);
	}
	/* a failure was logged by net-link.c; the lease is still held, and the
	 * renewal applies it again */
	c->applied = r == 0;
	c->info.lease = *l;
	c->info.times = t;
	c->info.has_lease = true;
	c->info.leases++;
	c->info.obtained_ns = now;
	if (t.lease_s == UINT32_MAX) {
		c->info.t1_ns = c->info.t2_ns = c->info.expires_ns = UINT64_MAX;
	} else {
		c->info.t1_ns = now + (uint64_t)t.t1_s * NS;
		c->info.t2_ns = now + (uint64_t)t.t2_s * NS;
		c->info.expires_ns = now + (uint64_t)t.lease_s * NS;
	}
	c->info.state = DHCP_BOUND;
	c->info.names_ignored += l->n_ignored;
	inet_ntop(AF_INET, l->yiaddr, a, sizeof(a));
	if (l->n_routers)
		inet_ntop(AF_INET, l->routers[0], gw, sizeof(gw));
	(void)a;
	/* once bound, the UDP socket: the packet socket's copies of all the
	 * interface's traffic are not needed any more */
	ensure_socket(c, true);
	if (c->info.t1_ns != UINT64_MAX)
		set_timer_at(c, c->info.t1_ns);
	else
		set_timer_at(c, UINT64_MAX / 2);
	if (c->fn)
		c->fn(c, c->data);
	/* logged once resolv.conf and the state file say so too: who reads the
	 * log line and then asks the agent finds the lease there */
	log_info("%s: dhcp: %s %s, router %s, lease %us (T1 %us, T2 %us)%s", c->ifname,
		 renewal ? "renewed" : "bound", net_prefix_str(&p, ps, sizeof(ps)), gw, t.lease_s,
		 t.t1_s, t.t2_s, l->rapid_commit ? ", rapid commit" : "");
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
			set_timer_in(c, dhcp_backoff_ms(c->attempt++, random32()) * 1000000);
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
			start_discover(c, dhcp_backoff_ms(0, random32()) * 1000000 / 4);
		}
		break;
	default:
		break; /* BOUND, STOPPED: nothing expected */
	}
}

static void on_readable(struct supervisor *s, int fd, uint32_t events, void *data)
{
	struct dhcp_client *c = data;
	uint8_t buf[DHCP_PACKET_MAX + 64];

	(void)s, (void)events;
	/* bounded: what is queued, at most 32 datagrams a wakeup */
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
		size_t plen;
		struct dhcp_lease l;
		enum dhcp_reject r;
		ssize_t n = recvmsg(fd, &mh, 0);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn_errno(-errno, "%s: dhcp: receive", c->ifname);
			return;
		}
		if (!c->sock_udp) {
			if (from.sll_pkttype == PACKET_OUTGOING)
				continue;
			for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
				if (cm->cmsg_level == SOL_PACKET &&
				    cm->cmsg_type == PACKET_AUXDATA &&
				    cm->cmsg_len >= CMSG_LEN(sizeof(struct tpacket_auxdata))) {
					struct tpacket_auxdata aux;

					memcpy(&aux, CMSG_DATA(cm), sizeof(aux));
					check_udp = !(aux.tp_status & TP_STATUS_CSUMNOTREADY);
				}
			r = dhcp_udp_unwrap(buf, (size_t)n, check_udp, &payload, &plen);
		} else {
			plen = (size_t)n;
			r = DHCP_OK;
		}
		if (r == DHCP_OK)
			r = dhcp_parse(payload, plen, c->xid, c->mac, &l);
		if (r != DHCP_OK) {
			c->info.rejected[r]++;
			log_debug("%s: dhcp: packet of %zd bytes ignored: %s", c->ifname, n,
				  dhcp_reject_name(r));
			continue;
		}
		log_debug("%s: dhcp: %s received", c->ifname, dhcp_type_name(l.type));
		on_reply(c, &l);
	}
}

static void on_timer(struct supervisor *s, int fd, uint32_t events, void *data)
{
	struct dhcp_client *c = data;
	uint64_t expirations, now = now_boot_ns();

	(void)s, (void)events;
	if (read(fd, &expirations, sizeof(expirations)) < 0)
		return; /* EAGAIN: already handled */
	switch (c->info.state) {
	case DHCP_STOPPED:
		break;
	case DHCP_SELECTING:
		if (c->attempt == 0)
			c->exchange_start_ns = now;
		send_message(c, DHCP_DISCOVER);
		set_timer_in(c, dhcp_backoff_ms(c->attempt++, random32()) * 1000000);
		break;
	case DHCP_REQUESTING:
		if (c->attempt >= REQUEST_TRIES) {
			log_info("%s: dhcp: no ACK for the OFFER; DISCOVER again", c->ifname);
			start_discover(c, 0);
			break;
		}
		send_message(c, DHCP_REQUEST);
		set_timer_in(c, dhcp_backoff_ms(c->attempt++, random32()) * 1000000);
		break;
	case DHCP_BOUND:
	case DHCP_RENEWING:
	case DHCP_REBINDING:
		if (now >= c->info.expires_ns) {
			lose_lease(c, "expired");
			start_discover(c, 0);
			break;
		}
		if (now >= c->info.t2_ns) {
			if (c->info.state != DHCP_REBINDING)
				log_info("%s: dhcp: T2 passed, rebinding", c->ifname);
			c->info.state = DHCP_REBINDING;
		} else if (c->info.state == DHCP_BOUND) {
			log_debug("%s: dhcp: T1 passed, renewing", c->ifname);
			c->info.state = DHCP_RENEWING;
			c->xid = random32();
			c->exchange_start_ns = now;
		}
		send_message(c, DHCP_REQUEST);
		{
			/* RFC 2131 4.4.5: half the time left to T2 (RENEWING) or
			 * to the end (REBINDING), at least 60 s, never past it */
			uint64_t until =
				c->info.state == DHCP_RENEWING ? c->info.t2_ns : c->info.expires_ns;
			uint32_t left = (uint32_t)((until - now + NS - 1) / NS);

			set_timer_at(c, now + (uint64_t)dhcp_retransmit_s(left) * NS);
		}
		break;
	}
}

int dhcp_client_new(struct supervisor *s, int ifindex, const char *ifname, const uint8_t mac[6],
		    const struct dhcp_settings *set, dhcp_change_fn fn, void *data,
		    struct dhcp_client **ret)
{
	struct dhcp_client *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->sup = s;
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

void dhcp_client_start(struct dhcp_client *c)
{
	if (c->info.state != DHCP_STOPPED)
		return;
	log_info("%s: dhcp: starting", c->ifname);
	start_discover(c, 0);
}

void dhcp_client_stop(struct dhcp_client *c)
{
	struct itimerspec off = { 0 };

	if (c->info.state == DHCP_STOPPED)
		return;
	lose_lease(c, "dropped: link down");
	close_socket(c);
	timerfd_settime(c->timerfd, 0, &off, NULL);
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
	supervise_unwatch(c->sup, c->timerfd);
	close(c->timerfd);
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
