/* The virtio-vsock device's connections (virtio 1.2, 5.10.6): what a packet
 * from the guest does to a connection, the control packets owed to the
 * guest, and per-connection credit. No I/O: the host side (the hybrid vsock
 * unix sockets, a later slice) plugs in through struct vsock_host_ops, and
 * the caller moves packets between this and the virtqueues. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vsock-pkt.h"

/* Connections at once; a REQUEST beyond it is answered with an RST. */
#define VSOCK_CONNS_MAX 256
/* What each connection buffers of the guest's bytes for the host side: our
 * buf_alloc, the guest's credit. */
#define VSOCK_BUF_ALLOC (256 * 1024)
/* RSTs owed for packets that belong to no connection; more are dropped
 * (the guest's connect times out instead of failing at once). */
#define VSOCK_RST_QUEUE_MAX 64
/* Host ports for host-initiated connections are taken from here up. */
#define VSOCK_EPHEMERAL_PORT_MIN 49152u

enum vsock_conn_state {
	VSOCK_CONN_CONNECTING, /* we sent (or owe) a REQUEST, waiting for the RESPONSE */
	VSOCK_CONN_ESTABLISHED,
	VSOCK_CONN_RESET, /* gone; an RST is owed to the guest */
	VSOCK_CONN_DEAD, /* gone; the slot is freed by vsock_dev_next_ctl */
};

struct vsock_conn {
	uint32_t host_port, guest_port;
	enum vsock_conn_state state;
	void *host; /* the host side's, set by it */

	/* the guest's bytes, waiting for the host side: a ring of VSOCK_BUF_ALLOC */
	uint8_t *rx;
	uint32_t rx_start, rx_len;
	uint32_t fwd_cnt; /* bytes the host side took */
	uint32_t fwd_cnt_sent; /* fwd_cnt as the guest last heard it */

	/* what we send the guest */
	uint32_t tx_cnt;
	uint32_t peer_buf_alloc, peer_fwd_cnt;

	uint32_t peer_shutdown, local_shutdown; /* VSOCK_SHUTDOWN_* */
	unsigned owed; /* control packets owed to the guest (vsock-conn.c's OWE_*) */
};

struct vsock_dev;

/* The host side. Every callback is optional. A callback may call the
 * vsock_conn_* functions on the connection it is given. */
struct vsock_host_ops {
	/* The guest asks for host port c->host_port: >= 0 accepted (c->host
	 * may be set), -errno refused (the guest gets an RST). */
	int (*connect)(void *ctx, struct vsock_conn *c);
	/* A host-initiated connection was accepted by the guest. */
	void (*connected)(void *ctx, struct vsock_conn *c);
	/* The guest's bytes wait in c: vsock_conn_peek. */
	void (*data)(void *ctx, struct vsock_conn *c);
	/* The guest gave credit: vsock_conn_credit may have grown. */
	void (*credit)(void *ctx, struct vsock_conn *c);
	/* The guest shut down (VSOCK_SHUTDOWN_*, the bits new this time). */
	void (*shutdown)(void *ctx, struct vsock_conn *c, uint32_t flags);
	/* The connection is gone, once for each connection: release c->host,
	 * and never use c again. */
	void (*closed)(void *ctx, struct vsock_conn *c);
};

struct vsock_dev {
	uint64_t guest_cid;
	const struct vsock_host_ops *ops;
	void *ctx;
	struct vsock_conn *conns[VSOCK_CONNS_MAX];
	struct {
		uint32_t host_port, guest_port;
	} rst[VSOCK_RST_QUEUE_MAX];
	unsigned rst_start, rst_n;
	unsigned scan; /* where vsock_dev_next_ctl looks first: round robin */
	uint32_t next_port;
};

void vsock_dev_init(struct vsock_dev *d, uint64_t guest_cid, const struct vsock_host_ops *ops,
		    void *ctx);
/* Every connection closed (ops->closed) and freed. */
void vsock_dev_free(struct vsock_dev *d);

/* One packet from the guest's tx queue, with the PAYLOAD_LEN bytes of
 * payload its descriptors held after the header. >= 0 taken; otherwise
 * -errno with why the packet was refused (for a debug log; what it
 * deserved, an RST or nothing, is owed already): -EPROTO malformed (that
 * connection is reset; a packet not from the guest's CID to ours is
 * dropped), -ENOBUFS the guest sent more than its credit (reset),
 * -ECONNREFUSED nothing listens or the table is full (RST), -ENOTCONN no
 * such connection (RST unless the packet was one). */
int vsock_dev_recv(struct vsock_dev *d, const struct vsock_hdr *h, const uint8_t *payload,
		   size_t payload_len);

/* The next control packet owed to the guest (header only, len 0): 1 with
 * *ret set, 0 when none is owed. Frees the connections that are gone. */
int vsock_dev_next_ctl(struct vsock_dev *d, struct vsock_hdr *ret);

/* Asks the guest for a connection to GUEST_PORT (the hybrid socket's
 * "CONNECT <port>"): ops->connected or ops->closed tells the outcome.
 * -EMFILE when the table is full. */
int vsock_dev_connect(struct vsock_dev *d, uint32_t guest_port, void *host,
		      struct vsock_conn **ret);

/* Bytes we may send the guest now: peer_buf_alloc - (tx_cnt - peer_fwd_cnt)
 * in wrapping u32 arithmetic, 0 when the guest claims more in flight than
 * it allows (or acknowledges more than we sent), when not established, or
 * after a shutdown of sending by us or of receiving by the guest. */
uint32_t vsock_conn_credit(const struct vsock_conn *c);

/* The header of an RW packet of LEN bytes (the caller copies the bytes
 * after it), counted as sent: -ENOBUFS when LEN exceeds the credit or
 * VSOCK_PAYLOAD_MAX, -EPIPE when nothing may be sent, -EINVAL for 0. */
int vsock_conn_send_hdr(struct vsock_dev *d, struct vsock_conn *c, uint32_t len,
			struct vsock_hdr *ret);

/* The guest's bytes in place: *RET and how many lie there contiguously
 * (the first span of the buffer; 0 when none, or the connection is gone),
 * so that a socket is written straight from the buffer. vsock_conn_consume
 * then says how many the host side took (at most what is there): the
 * guest is owed a CREDIT_UPDATE when it has not heard of half the buffer
 * or more, or the buffer is now empty; the connection is reset when the
 * guest has shut down both ways and everything was taken. */
size_t vsock_conn_peek(const struct vsock_conn *c, const uint8_t **ret);
void vsock_conn_consume(struct vsock_dev *d, struct vsock_conn *c, size_t n);

/* The host side will send (VSOCK_SHUTDOWN_SEND) or receive no more: owes
 * the guest a SHUTDOWN. Call after every byte has been sent. */
int vsock_conn_shutdown(struct vsock_dev *d, struct vsock_conn *c, uint32_t flags);

/* The host side aborts: owes the guest an RST, ops->closed follows now. */
void vsock_conn_reset(struct vsock_dev *d, struct vsock_conn *c);
