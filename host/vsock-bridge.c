/* porthole-vsockd's data path (vsock-bridge.h). A host connection is freed
 * only by vsock_bridge_run, after the caller has handled a whole batch of
 * epoll events, so that an event queued for a connection that ended in the
 * same batch finds it marked dead rather than freed. Bytes go through two
 * bounded buffers: the guest's in its connection (256 KiB, its credit), the
 * host's in a 64 KiB stage read only when empty and when the guest has
 * room, so that neither side makes the other buffer without bound. */
#include "vsock-bridge.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "vsock-hybrid.h"
#include "vsock-pkt.h"

enum host_state {
	HOST_LINE, /* a host client, reading its CONNECT line */
	HOST_CONNECTING, /* waiting for the guest to accept */
	HOST_OPEN,
	HOST_DEAD, /* closed; freed at the end of vsock_bridge_run */
};

struct host {
	struct vsock_watch w;
	struct vsock_bridge *b;
	int fd;
	enum host_state st;
	struct vsock_conn *c;
	char line[VSOCK_HYBRID_LINE_MAX];
	size_t line_len;
	uint8_t *stage; /* the host's bytes for the guest */
	uint32_t stage_off, stage_len;
	bool host_eof; /* the host will send no more */
	bool wr_shut; /* we told the host the guest will send no more */
	bool hup; /* the host hung up: out of epoll, read by vsock_bridge_run */
	uint32_t events; /* registered */
	uint64_t deadline; /* HOST_LINE, HOST_CONNECTING */
	struct host *prev, *next;
};

struct vsock_bridge {
	struct vsock_watch listen_w;
	int epfd, listen_fd;
	char uds_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct vsock_device *d;
	struct vsock_dev dev;
	struct host *hosts, *dead;
	unsigned n_hosts;
	struct host *rr; /* the host whose data goes first next time */
	bool ctl_pending;
	struct vsock_hdr ctl;
	struct vsock_bridge_stats st;
	uint8_t bounce[VSOCK_PAYLOAD_MAX];
};

static void host_update(struct host *h);

static void host_kill(struct host *h)
{
	struct vsock_bridge *b = h->b;

	if (h->st == HOST_DEAD)
		return;
	h->st = HOST_DEAD;
	(void)close(h->fd); /* a socket: nothing to flush; also leaves the epoll set */
	h->fd = -1;
	if (h->prev)
		h->prev->next = h->next;
	else
		b->hosts = h->next;
	if (h->next)
		h->next->prev = h->prev;
	if (b->rr == h)
		b->rr = h->next;
	h->prev = NULL;
	h->next = b->dead;
	b->dead = h;
	b->n_hosts--;
}

static struct host *host_new(struct vsock_bridge *b, int fd, enum host_state st, uint32_t events)
{
	struct host *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->stage = malloc(VSOCK_BRIDGE_STAGE);
	if (!h->stage) {
		free(h);
		return NULL;
	}
	h->w.kind = VSOCK_WATCH_HOST;
	h->b = b;
	h->fd = fd;
	h->st = st;
	h->events = events;
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd,
		      &(struct epoll_event){ .events = events, .data.ptr = &h->w }) < 0) {
		free(h->stage);
		free(h);
		return NULL;
	}
	h->next = b->hosts;
	if (b->hosts)
		b->hosts->prev = h;
	b->hosts = h;
	b->n_hosts++;
	return h;
}

static void host_reset(struct host *h)
{
	if (h->c)
		vsock_conn_reset(&h->b->dev, h->c); /* closed() kills h */
	else
		host_kill(h);
}

/* The guest's bytes to the host socket, as far as it takes them; then the
 * guest's end of sending passed on. */
static void host_flush(struct host *h)
{
	struct vsock_bridge *b = h->b;

	while (h->c && !h->wr_shut) {
		const uint8_t *p;
		size_t n = vsock_conn_peek(h->c, &p);
		ssize_t w;

		if (!n)
			break;
		w = send(h->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (w <= 0) {
			log_debug("host port %" PRIu32
				  ": the host socket refused the guest's bytes: %s",
				  h->c->host_port, strerror(errno));
			host_reset(h);
			return;
		}
		b->st.to_host += (uint64_t)w;
		vsock_conn_consume(&b->dev, h->c, (size_t)w);
		if ((size_t)w < n)
			break;
	}
	if (!h->c)
		return; /* the guest had shut both ways and everything was taken */
	if (!h->wr_shut && (h->c->peer_shutdown & VSOCK_SHUTDOWN_SEND) && !h->c->rx_len) {
		(void)shutdown(h->fd, SHUT_WR); /* a peer gone already is found on the next read */
		h->wr_shut = true;
	}
	host_update(h);
}

/* The host's bytes into the stage, when it is empty. */
static void host_read(struct host *h)
{
	ssize_t n;

	if (h->st != HOST_OPEN || !h->c || h->host_eof || h->stage_len)
		return;
	n = read(h->fd, h->stage, VSOCK_BRIDGE_STAGE);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		log_debug("host port %" PRIu32 ": reading the host socket: %s", h->c->host_port,
			  strerror(errno));
		host_reset(h);
		return;
	}
	h->stage_off = 0;
	h->stage_len = (uint32_t)n;
	if (!n) {
		h->host_eof = true;
		(void)vsock_conn_shutdown(&h->b->dev, h->c, VSOCK_SHUTDOWN_SEND);
	}
	host_update(h);
}

/* The events H waits for now: level-triggered epoll would spin on one it
 * cannot act on. A host that hung up is out of the set (EPOLLHUP cannot be
 * masked) and read by vsock_bridge_run while the guest takes its bytes. */
static void host_update(struct host *h)
{
	uint32_t ev = 0;
	const uint8_t *p;

	if (h->st == HOST_DEAD || h->hup)
		return;
	if (h->st == HOST_LINE)
		ev = EPOLLIN;
	else if (h->st == HOST_OPEN && h->c) {
		if (!h->host_eof && !h->stage_len && vsock_conn_credit(h->c))
			ev |= EPOLLIN;
		if (!h->wr_shut && vsock_conn_peek(h->c, &p))
			ev |= EPOLLOUT;
	}
	if (ev == h->events)
		return;
	h->events = ev;
	(void)epoll_ctl(h->b->epfd, EPOLL_CTL_MOD, h->fd,
			&(struct epoll_event){ .events = ev, .data.ptr = &h->w });
}

/* A host client's CONNECT line; the bytes after it are the connection's. */
static void host_line(struct host *h)
{
	struct vsock_bridge *b = h->b;
	ssize_t n = read(h->fd, h->line + h->line_len, sizeof(h->line) - h->line_len);
	uint32_t port;
	int r;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		log_debug("a host client left before its CONNECT line");
		host_kill(h);
		return;
	}
	h->line_len += (size_t)n;
	r = vsock_hybrid_parse_connect(h->line, h->line_len, &port);
	if (!r)
		return;
	if (r < 0) {
		log_warn("a host client sent \"%.*s\", not \"CONNECT <port>\\n\": closed",
			 (int)strcspn(h->line, "\n"), h->line);
		b->st.refused++;
		host_kill(h);
		return;
	}
	memcpy(h->stage, h->line + r, h->line_len - (size_t)r);
	h->stage_len = (uint32_t)(h->line_len - (size_t)r);
	if (vsock_dev_connect(&b->dev, port, h, &h->c) < 0) {
		log_warn("guest port %" PRIu32 ": %d connections are open already: refused", port,
			 VSOCK_CONNS_MAX);
		b->st.refused++;
		host_kill(h);
		return;
	}
	h->st = HOST_CONNECTING;
	h->deadline = now_mono_ns() + VSOCK_BRIDGE_CONNECT_MS * NSEC_PER_MSEC;
	host_update(h);
}

static void host_accept(struct vsock_bridge *b)
{
	for (;;) {
		int fd = accept4(b->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct host *h;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn_errno(-errno, "accepting on %s", b->uds_path);
			return;
		}
		if (b->n_hosts >= VSOCK_BRIDGE_HOSTS_MAX) {
			log_warn("%u host connections are open already: one more refused",
				 b->n_hosts);
			b->st.refused++;
			(void)close(fd);
			continue;
		}
		h = host_new(b, fd, HOST_LINE, EPOLLIN);
		if (!h) {
			log_warn("no memory for a host connection: refused");
			(void)close(fd);
			continue;
		}
		h->deadline = now_mono_ns() + VSOCK_BRIDGE_HANDSHAKE_MS * NSEC_PER_MSEC;
	}
}

void vsock_bridge_event(struct vsock_bridge *b, struct vsock_watch *w, uint32_t events)
{
	struct host *h;

	if (w == &b->listen_w) {
		host_accept(b);
		return;
	}
	h = (struct host *)w;
	if (h->st == HOST_DEAD)
		return;
	if (h->st == HOST_LINE) {
		host_line(h);
		return;
	}
	if (events & EPOLLOUT)
		host_flush(h);
	if (h->st != HOST_DEAD && (events & EPOLLIN))
		host_read(h);
	if (h->st != HOST_DEAD && (events & (EPOLLHUP | EPOLLERR)) && !h->hup) {
		if (events & EPOLLERR) {
			host_reset(h);
			return;
		}
		/* what it sent is still read; what the guest sends now fails */
		h->hup = true;
		(void)epoll_ctl(b->epfd, EPOLL_CTL_DEL, h->fd, NULL);
		host_flush(h);
	}
}

/* vsock_host_ops: the guest asks for host port P, the socket "<path>_P" */
static int op_connect(void *ctx, struct vsock_conn *c)
{
	struct vsock_bridge *b = ctx;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct host *h;
	int fd, n;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%" PRIu32, b->uds_path, c->host_port);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		log_warn("host port %" PRIu32 ": the socket path is too long: refused",
			 c->host_port);
		return -ENAMETOOLONG;
	}
	if (b->n_hosts >= VSOCK_BRIDGE_HOSTS_MAX)
		return -EMFILE;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a unix socket's connect does not wait: EAGAIN is a full backlog */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		log_debug("guest port %" PRIu32 " to %s: %s: reset", c->guest_port, sa.sun_path,
			  strerror(-r));
		(void)close(fd);
		return r;
	}
	h = host_new(b, fd, HOST_OPEN, 0);
	if (!h) {
		(void)close(fd);
		return -ENOMEM;
	}
	h->c = c;
	c->host = h;
	b->st.conns_guest++;
	return 0;
}

static void op_connected(void *ctx, struct vsock_conn *c)
{
	struct vsock_bridge *b = ctx;
	struct host *h = c->host;
	char ok[VSOCK_HYBRID_LINE_MAX];
	int n = vsock_hybrid_format_ok(c->host_port, ok, sizeof(ok));

	if (!h)
		return;
	/* the first bytes on a fresh socket: its buffer takes them whole */
	if (n < 0 || send(h->fd, ok, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
		host_reset(h);
		return;
	}
	h->st = HOST_OPEN;
	b->st.conns_host++;
	host_update(h);
}

static void op_data(void *ctx, struct vsock_conn *c)
{
	(void)ctx;
	if (c->host)
		host_flush(c->host);
}

static void op_credit(void *ctx, struct vsock_conn *c)
{
	(void)ctx;
	if (c->host)
		host_update(c->host);
}

static void op_shutdown(void *ctx, struct vsock_conn *c, uint32_t flags)
{
	(void)ctx;
	(void)flags;
	if (c->host)
		host_flush(c->host); /* passes SEND on once the bytes are out */
}

static void op_closed(void *ctx, struct vsock_conn *c)
{
	struct host *h = c->host;

	(void)ctx;
	if (!h)
		return;
	h->c = NULL;
	host_kill(h);
}

static const struct vsock_host_ops host_ops = {
	.connect = op_connect,
	.connected = op_connected,
	.data = op_data,
	.credit = op_credit,
	.shutdown = op_shutdown,
	.closed = op_closed,
};

int vsock_bridge_new(int epfd, struct vsock_device *d, int host_listen_fd, const char *uds_path,
		     struct vsock_bridge **ret)
{
	struct vsock_bridge *b;

	if (strlen(uds_path) >= sizeof(b->uds_path))
		return -ENAMETOOLONG;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->listen_w.kind = VSOCK_WATCH_HOST_LISTEN;
	b->epfd = epfd;
	b->listen_fd = host_listen_fd;
	b->d = d;
	strcpy(b->uds_path, uds_path);
	vsock_dev_init(&b->dev, d->guest_cid, &host_ops, b);
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, host_listen_fd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &b->listen_w }) < 0) {
		int r = -errno;

		free(b);
		return r;
	}
	*ret = b;
	return 0;
}

static void reap(struct vsock_bridge *b)
{
	while (b->dead) {
		struct host *h = b->dead;

		b->dead = h->next;
		free(h->stage);
		free(h);
	}
}

void vsock_bridge_reset(struct vsock_bridge *b)
{
	vsock_dev_free(&b->dev); /* closed() for each: their hosts die */
	vsock_dev_init(&b->dev, b->d->guest_cid, &host_ops, b);
	b->ctl_pending = false;
	reap(b);
}

void vsock_bridge_free(struct vsock_bridge *b)
{
	if (!b)
		return;
	vsock_dev_free(&b->dev);
	while (b->hosts)
		host_kill(b->hosts);
	reap(b);
	(void)epoll_ctl(b->epfd, EPOLL_CTL_DEL, b->listen_fd, NULL);
	free(b);
}

static void ring_call(struct vsock_bridge *b, unsigned index, struct virtq *q)
{
	uint64_t one = 1;
	int fd = b->d->vr[index].call_fd;

	/* an eventfd: fails only when saturated, when the front-end is
	 * being told already */
	if (fd >= 0 && virtq_need_call(q) && write(fd, &one, sizeof(one)) < 0) {
	}
}

/* Takes a chain: 1 with C filled, 0 when the ring is empty or broken. A
 * malformed chain is given back empty and the next one tried. */
static int ring_pop(struct vsock_bridge *b, unsigned index, struct virtq *q, struct virtq_chain *c,
		    bool *pushed)
{
	for (;;) {
		int r = virtq_pop(q, &b->d->mem, c);

		if (r >= 0)
			return r;
		if (r == -EPROTO) {
			log_error("%s ring: the guest claims more buffers than the ring holds; "
				  "the ring is stopped until the device is reset",
				  index == VSOCK_DEVICE_RX ? "rx" : "tx");
			q->num = 0; /* vsock_device_ring now refuses it */
			return 0;
		}
		log_debug_errno(r, "%s ring: a malformed chain given back",
				index == VSOCK_DEVICE_RX ? "rx" : "tx");
		b->st.bad_chains++;
		(void)virtq_push(q, c->head, 0);
		*pushed = true;
	}
}

/* The guest's packets, a batch: true when more may wait. */
static bool run_tx(struct vsock_bridge *b)
{
	struct virtq *q = vsock_device_ring(b->d, VSOCK_DEVICE_TX);
	struct virtq_chain c;
	bool pushed = false;
	unsigned n = 0;

	if (!q)
		return false;
	for (; n < VSOCK_BRIDGE_BATCH && ring_pop(b, VSOCK_DEVICE_TX, q, &c, &pushed) == 1; n++) {
		uint8_t raw[VSOCK_HDR_SIZE];
		struct vsock_hdr h;
		uint32_t len;
		int r;

		pushed = true;
		if (c.readable < VSOCK_HDR_SIZE) {
			b->st.bad_chains++;
			(void)virtq_push(q, c.head, 0);
			continue;
		}
		(void)virtq_chain_read(&c, 0, raw, sizeof(raw));
		vsock_hdr_decode(raw, &h);
		len = c.readable - VSOCK_HDR_SIZE;
		if (len <= sizeof(b->bounce))
			(void)virtq_chain_read(&c, VSOCK_HDR_SIZE, b->bounce, len);
		/* a longer payload is refused for its length before it is read */
		r = vsock_dev_recv(&b->dev, &h, len <= sizeof(b->bounce) ? b->bounce : NULL, len);
		if (r < 0) {
			b->st.bad_packets++;
			log_debug_errno(r,
					"a packet from guest port %" PRIu32 " to %" PRIu32
					" (op %u, len %" PRIu32 ") refused",
					h.src_port, h.dst_port, h.op, h.len);
		}
		(void)virtq_push(q, c.head, 0);
	}
	if (pushed)
		ring_call(b, VSOCK_DEVICE_TX, q);
	return n == VSOCK_BRIDGE_BATCH;
}

/* The next host connection with bytes the guest has room for, round robin. */
static struct host *next_sender(struct vsock_bridge *b)
{
	struct host *start = b->rr ? b->rr : b->hosts;
	struct host *h = start;

	if (!h)
		return NULL;
	do {
		if (h->st == HOST_OPEN && h->c && h->stage_len && vsock_conn_credit(h->c)) {
			b->rr = h->next;
			return h;
		}
		h = h->next ? h->next : b->hosts;
	} while (h != start);
	return NULL;
}

static void send_data(struct vsock_bridge *b, struct host *h, const struct virtq_chain *c,
		      uint32_t room, uint32_t *len)
{
	struct vsock_hdr hdr;
	uint8_t raw[VSOCK_HDR_SIZE];
	uint32_t n = h->stage_len;
	uint32_t credit = vsock_conn_credit(h->c);

	if (n > credit)
		n = credit;
	if (n > room)
		n = room;
	if (!n || vsock_conn_send_hdr(&b->dev, h->c, n, &hdr) < 0)
		return;
	vsock_hdr_encode(&hdr, raw);
	(void)virtq_chain_write(c, 0, raw, sizeof(raw));
	(void)virtq_chain_write(c, VSOCK_HDR_SIZE, h->stage + h->stage_off, n);
	*len = VSOCK_HDR_SIZE + n;
	b->st.to_guest += n;
	h->stage_off += n;
	h->stage_len -= n;
	if (h->stage_len)
		return;
	h->stage_off = 0;
	if (h->host_eof)
		(void)vsock_conn_shutdown(&b->dev, h->c, VSOCK_SHUTDOWN_SEND);
	host_update(h);
}

/* What is owed to the guest, then the hosts' bytes, into its rx buffers, a
 * batch: true when more may wait. Control packets go first, so that a
 * connection's RESPONSE precedes its data, and its SHUTDOWN follows it
 * (owed only once the stage is empty). */
static bool run_rx(struct vsock_bridge *b)
{
	struct virtq *q = vsock_device_ring(b->d, VSOCK_DEVICE_RX);
	struct virtq_chain c;
	bool pushed = false;
	unsigned n = 0;

	if (!q)
		return false;
	for (; n < VSOCK_BRIDGE_BATCH; n++) {
		struct host *h = NULL;
		uint32_t len = 0;

		if (!b->ctl_pending)
			b->ctl_pending = vsock_dev_next_ctl(&b->dev, &b->ctl) == 1;
		if (!b->ctl_pending && !(h = next_sender(b)))
			break;
		if (ring_pop(b, VSOCK_DEVICE_RX, q, &c, &pushed) != 1)
			break; /* the guest kicks when it adds buffers */
		pushed = true;
		if (c.readable || c.writable < VSOCK_HDR_SIZE) {
			b->st.bad_chains++;
		} else if (b->ctl_pending) {
			uint8_t raw[VSOCK_HDR_SIZE];

			vsock_hdr_encode(&b->ctl, raw);
			(void)virtq_chain_write(&c, 0, raw, sizeof(raw));
			len = VSOCK_HDR_SIZE;
			b->ctl_pending = false;
		} else {
			uint32_t room = c.writable - VSOCK_HDR_SIZE;

			send_data(b, h, &c, room < VSOCK_PAYLOAD_MAX ? room : VSOCK_PAYLOAD_MAX,
				  &len);
		}
		(void)virtq_push(q, c.head, len);
	}
	if (pushed)
		ring_call(b, VSOCK_DEVICE_RX, q);
	return n == VSOCK_BRIDGE_BATCH;
}

bool vsock_bridge_run(struct vsock_bridge *b)
{
	bool more = run_tx(b);

	/* hosts that hung up are read here, as the guest takes their bytes (a
	 * read may end one: it moves to the dead list, so the next is taken
	 * first) */
	for (struct host *h = b->hosts, *next; h; h = next) {
		next = h->next;
		if (h->hup && h->st == HOST_OPEN && h->c && !h->stage_len &&
		    vsock_conn_credit(h->c))
			host_read(h);
	}
	more |= run_rx(b);
	reap(b);
	return more;
}

int vsock_bridge_timers(struct vsock_bridge *b)
{
	uint64_t now = now_mono_ns(), next = UINT64_MAX;
	struct host *h = b->hosts;

	while (h) {
		struct host *following = h->next;

		if (h->st == HOST_LINE || h->st == HOST_CONNECTING) {
			if (h->deadline <= now) {
				log_warn(
					"%s: closed",
					h->st == HOST_LINE
						? "a host client sent no CONNECT line in time"
						: "the guest did not answer a connection request in time");
				b->st.refused++;
				host_reset(h);
			} else if (h->deadline < next)
				next = h->deadline;
		}
		h = following;
	}
	if (next == UINT64_MAX)
		return -1;
	return (int)((next - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
}

const struct vsock_bridge_stats *vsock_bridge_stats(const struct vsock_bridge *b)
{
	return &b->st;
}
