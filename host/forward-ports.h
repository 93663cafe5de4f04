/* `porthole forward ports`' pure part: the guest's listening ports as
 * porthole-ports reports them, made into the set of forwards (one per
 * protocol and port number, with the guest address its connections go
 * to), the difference between two such sets, and the command line's
 * --port and --bind. No I/O: cli-forward-ports.c listens and carries. */
#pragma once

#include <jansson.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* Forwards at once (the agent reports at most 512 sockets). */
#define FORWARD_PORTS_MAX 1024
/* An address as text: INET6_ADDRSTRLEN. */
#define FORWARD_ADDR_MAX 46

enum forward_proto {
	FORWARD_TCP,
	FORWARD_UDP,
};

struct forward_port {
	enum forward_proto proto;
	uint16_t port;
	/* where the guest's relay connects: "127.0.0.1", "::1", or the
	 * guest's own address ("10.0.2.15") */
	char target[FORWARD_ADDR_MAX];
};

struct forward_port_set {
	size_t n;
	/* guest sockets left out: beyond FORWARD_PORTS_MAX forwards, or on a
	 * link-local IPv6 address (a connect would need its interface) */
	size_t ignored;
	struct forward_port p[FORWARD_PORTS_MAX]; /* by protocol, then port */
};

/* porthole-ports' RESULT, checked: its generation, and the forwards its
 * ports make, the best target of each protocol and port
 * (forward_ports_target). -EBADMSG, with WHY ("ports[2].port: expected 1
 * to 65535"), for a result that is not one; RET is then undefined. */
int forward_ports_from_json(json_t *result, int64_t *ret_generation, struct forward_port_set *ret,
			    char *why, size_t why_size);

/* The guest address that connections to a port are carried to, given the
 * N addresses the guest listens on it at (text, as porthole-ports gives
 * them): 127.0.0.1 when one of them is 0.0.0.0 or 127.0.0.1 (IPv4's
 * wildcard or loopback); else ::1 when one is :: or ::1; else the lowest
 * of the guest's own addresses, IPv4 first; link-local IPv6 ones are left
 * out. Written into BUF (FORWARD_ADDR_MAX); NULL when none is usable. */
const char *forward_ports_target(const char *const *addrs, size_t n, char *buf);

enum forward_change {
	FORWARD_ADDED,
	FORWARD_REMOVED,
	FORWARD_RETARGETED, /* the same protocol and port, another target */
};

typedef void (*forward_change_fn)(void *data, enum forward_change change,
				  const struct forward_port *before,
				  const struct forward_port *after);

/* Calls FN for what changes from BEFORE to AFTER (both sorted, as
 * forward_ports_from_json and forward_ports_add make them), in order of
 * protocol and port: BEFORE's entry for a removal, AFTER's for an
 * addition, both for a new target. */
void forward_ports_diff(const struct forward_port_set *before, const struct forward_port_set *after,
			forward_change_fn fn, void *data);

/* Adds P to S in order, replacing the one of the same protocol and port.
 * -ENOSPC when S is full. */
int forward_ports_add(struct forward_port_set *s, const struct forward_port *p);

/* --port [tcp:|udp:]PORT (tcp by default): a forward to the guest's
 * 127.0.0.1. -EINVAL for anything else. */
int forward_ports_parse_spec(const char *s, struct forward_port *ret);

/* A host address to listen on (--bind): IPv4, or IPv6 with or without
 * brackets; TEXT is its canonical form. */
struct forward_bind {
	int family; /* AF_INET or AF_INET6 */
	struct in_addr v4;
	struct in6_addr v6;
	char text[FORWARD_ADDR_MAX];
};

int forward_ports_parse_bind(const char *s, struct forward_bind *ret);

/* For messages: "tcp 8080 -> guest 127.0.0.1:8080", "udp 53 -> guest [::1]:53". */
void forward_ports_format(const struct forward_port *p, char *buf, size_t size);
/* The relay's target: "tcp:127.0.0.1:8080", "udp:[::1]:53". */
void forward_ports_relay_target(const struct forward_port *p, char *buf, size_t size);
/* "tcp" or "udp". */
const char *forward_ports_proto_name(enum forward_proto proto);
