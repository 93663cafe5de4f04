/* porthole-vsockd's data path: packets between the device's two rings and
 * the connection table (vsock-conn.h), and each connection's host side, a
 * unix socket in the hybrid vsock convention (vsock-hybrid.h): a host
 * client of the listening socket asks for a guest port with "CONNECT
 * <port>\n", and a guest connection to host port P is a connection to the
 * unix socket "<uds path>_P". Every socket is non-blocking and in the
 * caller's epoll set, each registered with a pointer to a struct
 * vsock_watch; the front-end's socket and the rings' setup are the
 * caller's (host/vsockd.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vsock-conn.h"
#include "vsock-device.h"

/* What an epoll registration points to: its first member. */
enum vsock_watch_kind {
	VSOCK_WATCH_FRONTEND_LISTEN,
	VSOCK_WATCH_FRONTEND,
	VSOCK_WATCH_SIGNAL,
	VSOCK_WATCH_KICK, /* a ring's kick eventfd */
	VSOCK_WATCH_HOST_LISTEN, /* the hybrid socket */
	VSOCK_WATCH_HOST, /* one host connection */
};

struct vsock_watch {
	enum vsock_watch_kind kind;
};

/* How long a host client may take to send its CONNECT line, and the guest
 * to accept or refuse a connection we asked for (Linux answers a REQUEST
 * at once when its driver is up; before that, no buffer takes it). */
#define VSOCK_BRIDGE_HANDSHAKE_MS 10000
#define VSOCK_BRIDGE_CONNECT_MS 5000
/* Host connections at once, those still sending their CONNECT line
 * included: more are accepted and closed at once. */
#define VSOCK_BRIDGE_HOSTS_MAX (VSOCK_CONNS_MAX + 16)
/* What one host connection reads ahead for the guest; at most this much
 * waits in the bridge per connection, on top of the guest's 256 KiB. */
#define VSOCK_BRIDGE_STAGE (64 * 1024)
/* Chains taken off a ring in one turn: the other ring, and the host
 * sockets, get their turn between batches. */
#define VSOCK_BRIDGE_BATCH 256

struct vsock_bridge_stats {
	uint64_t to_guest, to_host; /* payload bytes */
	uint64_t conns_host, conns_guest; /* connections opened from either side */
	uint64_t refused; /* host clients refused: table full, bad line, nothing listening */
	uint64_t bad_chains, bad_packets; /* malformed chains and refused packets */
};

struct vsock_bridge;

/* A bridge for the device D (its rings, as vsock_device_ring gives them),
 * registering host sockets in EPFD. HOST_LISTEN_FD is the hybrid socket,
 * listening and non-blocking (the bridge registers it); UDS_PATH its path,
 * the prefix of the guest's "<path>_<port>" sockets. */
int vsock_bridge_new(int epfd, struct vsock_device *d, int host_listen_fd, const char *uds_path,
		     struct vsock_bridge **ret);
/* Every connection closed; HOST_LISTEN_FD is the caller's to close. */
void vsock_bridge_free(struct vsock_bridge *b);

/* The guest forgot its connections (the device was reset): each is closed
 * on the host, and no packet owed to the guest is sent. */
void vsock_bridge_reset(struct vsock_bridge *b);

/* An event on a watch the bridge registered (the hybrid socket, a host
 * connection). */
void vsock_bridge_event(struct vsock_bridge *b, struct vsock_watch *w, uint32_t events);

/* Takes the guest's packets off the tx ring and fills the rx ring with
 * what is owed to it and what the host sent, a batch of each; signals the
 * rings' call fds. Returns true when a ring has more to do at once (call
 * again without waiting). */
bool vsock_bridge_run(struct vsock_bridge *b);

/* Time-outs of handshakes and connects; the milliseconds until the next
 * one (-1: none), for epoll_wait. */
int vsock_bridge_timers(struct vsock_bridge *b);

const struct vsock_bridge_stats *vsock_bridge_stats(const struct vsock_bridge *b);
