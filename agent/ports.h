/* The guest's listening ports, for the host's published-port forwarder:
 * TCP sockets in LISTEN and UDP sockets bound but not connected, IPv4 and
 * IPv6, in the agent's network namespace, read with netlink sock_diag (not
 * by parsing /proc/net). No I/O but the dump itself; when to look is
 * ports-watch.c's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* At most this many distinct ports are reported; more are dropped (and
 * counted). */
#define PORTS_MAX 512

struct port {
	uint8_t protocol; /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t family; /* AF_INET or AF_INET6 */
	uint16_t port;
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
};

struct port_set {
	struct port p[PORTS_MAX];
	size_t n;
	size_t dropped; /* beyond PORTS_MAX */
};

/* Adds one sock_diag answer (an inet_diag_msg of LEN bytes, for PROTOCOL)
 * to S when it is a listener: a UDP socket with a peer port is connected,
 * not one, and the DHCP clients' UDP ports (68, 546) are not services. -EBADMSG for a message too short. Pure: the tests feed it. */
int ports_add_diag(struct port_set *s, uint8_t protocol, const void *msg, size_t len);

/* Sorts S and drops duplicates (SO_REUSEPORT groups, v4 and v6 twins stay
 * apart: they are different listeners). */
void ports_normalize(struct port_set *s);

/* Whether A and B (normalized) hold the same ports. */
bool ports_equal(const struct port_set *a, const struct port_set *b);

/* Every listener now: 0, or -errno of the netlink exchange. */
int ports_scan(struct port_set *ret);

/* "0.0.0.0", "::1": P's address as text into BUF (INET6_ADDRSTRLEN). */
const char *ports_addr_str(const struct port *p, char *buf, size_t size);
