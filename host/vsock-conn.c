/* The vsock connection state machine (vsock-conn.h). A connection that
 * ends stays in its slot (RESET or DEAD) until vsock_dev_next_ctl has
 * sent what it owes and frees it, so that a pointer a callback holds stays
 * valid for the rest of the call that ended it. Control packets owed are
 * bits on the connection, not a queue: a guest flooding CREDIT_REQUESTs
 * gets one CREDIT_UPDATE, and nothing grows. */
#include "vsock-conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
	OWE_REQUEST = 1 << 0,
	OWE_RESPONSE = 1 << 1,
	OWE_CREDIT_UPDATE = 1 << 2,
	OWE_SHUTDOWN = 1 << 3,
	OWE_RST = 1 << 4,
};

void vsock_dev_init(struct vsock_dev *d, uint64_t guest_cid, const struct vsock_host_ops *ops,
		    void *ctx)
{
	static const struct vsock_host_ops none;

	memset(d, 0, sizeof(*d));
	d->guest_cid = guest_cid;
	d->ops = ops ? ops : &none;
	d->ctx = ctx;
	d->next_port = VSOCK_EPHEMERAL_PORT_MIN;
}

static void conn_free(struct vsock_dev *d, unsigned i)
{
	free(d->conns[i]->rx);
	free(d->conns[i]);
	d->conns[i] = NULL;
}

static bool conn_live(const struct vsock_conn *c)
{
	return c->state == VSOCK_CONN_CONNECTING || c->state == VSOCK_CONN_ESTABLISHED;
}

/* Ends a live connection: the host side hears of it once. */
static void conn_end(struct vsock_dev *d, struct vsock_conn *c, bool owe_rst)
{
	if (!conn_live(c))
		return;
	c->state = owe_rst ? VSOCK_CONN_RESET : VSOCK_CONN_DEAD;
	c->owed = owe_rst ? OWE_RST : 0;
	if (d->ops->closed)
		d->ops->closed(d->ctx, c);
	c->host = NULL;
}

void vsock_dev_free(struct vsock_dev *d)
{
	for (unsigned i = 0; i < VSOCK_CONNS_MAX; i++) {
		if (!d->conns[i])
			continue;
		conn_end(d, d->conns[i], false);
		conn_free(d, i);
	}
}

static struct vsock_conn *conn_find(struct vsock_dev *d, uint32_t host_port, uint32_t guest_port)
{
	for (unsigned i = 0; i < VSOCK_CONNS_MAX; i++) {
		struct vsock_conn *c = d->conns[i];

		if (c && c->state != VSOCK_CONN_DEAD && c->host_port == host_port &&
		    c->guest_port == guest_port)
			return c;
	}
	return NULL;
}

static struct vsock_conn *conn_new(struct vsock_dev *d, uint32_t host_port, uint32_t guest_port,
				   enum vsock_conn_state state)
{
	for (unsigned i = 0; i < VSOCK_CONNS_MAX; i++) {
		struct vsock_conn *c;

		if (d->conns[i])
			continue;
		c = calloc(1, sizeof(*c));
		if (!c)
			return NULL;
		c->rx = malloc(VSOCK_BUF_ALLOC);
		if (!c->rx) {
			free(c);
			return NULL;
		}
		c->host_port = host_port;
		c->guest_port = guest_port;
		c->state = state;
		d->conns[i] = c;
		return c;
	}
	return NULL;
}

static void owe_rst_for(struct vsock_dev *d, const struct vsock_hdr *h)
{
	/* never an RST in reply to an RST (5.10.6.4): two peers would loop */
	if (h->op == VSOCK_OP_RST || d->rst_n >= VSOCK_RST_QUEUE_MAX)
		return;
	d->rst[(d->rst_start + d->rst_n) % VSOCK_RST_QUEUE_MAX].host_port = h->dst_port;
	d->rst[(d->rst_start + d->rst_n) % VSOCK_RST_QUEUE_MAX].guest_port = h->src_port;
	d->rst_n++;
}

uint32_t vsock_conn_credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	if (c->state != VSOCK_CONN_ESTABLISHED || (c->local_shutdown & VSOCK_SHUTDOWN_SEND) ||
	    (c->peer_shutdown & VSOCK_SHUTDOWN_RCV))
		return 0;
	if (in_flight > c->peer_buf_alloc)
		return 0;
	return c->peer_buf_alloc - in_flight;
}

static uint32_t rx_free(const struct vsock_conn *c)
{
	return VSOCK_BUF_ALLOC - c->rx_len;
}

static void rx_append(struct vsock_conn *c, const uint8_t *p, uint32_t n)
{
	uint32_t end = (c->rx_start + c->rx_len) % VSOCK_BUF_ALLOC;
	uint32_t first = VSOCK_BUF_ALLOC - end;

	if (first > n)
		first = n;
	memcpy(c->rx + end, p, first);
	memcpy(c->rx, p + first, n - first);
	c->rx_len += n;
}

/* Linux's driver resets once both directions are shut and nothing is left
 * to read (virtio_transport_recv_connected); the guest waits for it. */
static bool conn_finished(const struct vsock_conn *c)
{
	return c->peer_shutdown == VSOCK_SHUTDOWN_BOTH && !c->rx_len;
}

static int recv_rw(struct vsock_dev *d, struct vsock_conn *c, const struct vsock_hdr *h,
		   const uint8_t *payload)
{
	if (c->state != VSOCK_CONN_ESTABLISHED || (c->peer_shutdown & VSOCK_SHUTDOWN_SEND)) {
		conn_end(d, c, true);
		return -EPROTO;
	}
	if (!h->len)
		return 0;
	/* the guest may send buf_alloc - (rx_cnt - fwd_cnt): what is free */
	if (h->len > rx_free(c)) {
		conn_end(d, c, true);
		return -ENOBUFS;
	}
	rx_append(c, payload, h->len);
	if (d->ops->data)
		d->ops->data(d->ctx, c);
	return 0;
}

static int recv_shutdown(struct vsock_dev *d, struct vsock_conn *c, const struct vsock_hdr *h)
{
	uint32_t fresh = h->flags & VSOCK_SHUTDOWN_BOTH & ~c->peer_shutdown;

	if (c->state != VSOCK_CONN_ESTABLISHED) {
		conn_end(d, c, true);
		return -EPROTO;
	}
	c->peer_shutdown |= fresh;
	if (conn_finished(c)) {
		conn_end(d, c, true);
		return 0;
	}
	if (fresh && d->ops->shutdown)
		d->ops->shutdown(d->ctx, c, fresh);
	return 0;
}

static int recv_request(struct vsock_dev *d, const struct vsock_hdr *h)
{
	struct vsock_conn *c = conn_new(d, h->dst_port, h->src_port, VSOCK_CONN_ESTABLISHED);
	int r;

	if (!c) {
		owe_rst_for(d, h);
		return -ECONNREFUSED;
	}
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	r = d->ops->connect ? d->ops->connect(d->ctx, c) : -ECONNREFUSED;
	if (r < 0) {
		/* never told the host side: no closed() for it */
		c->state = VSOCK_CONN_RESET;
		c->owed = OWE_RST;
		return -ECONNREFUSED;
	}
	c->owed |= OWE_RESPONSE;
	return 0;
}

int vsock_dev_recv(struct vsock_dev *d, const struct vsock_hdr *h, const uint8_t *payload,
		   size_t payload_len)
{
	struct vsock_conn *c;

	/* whatever the guest claims as its address is refused silently: an RST
	 * to it would go nowhere the guest expects */
	if (h->src_cid != d->guest_cid || h->dst_cid != VSOCK_CID_HOST)
		return -EPROTO;
	c = conn_find(d, h->dst_port, h->src_port);
	if (h->type != VSOCK_TYPE_STREAM || h->len > VSOCK_PAYLOAD_MAX || h->len != payload_len ||
	    (h->len && h->op != VSOCK_OP_RW)) {
		if (c)
			conn_end(d, c, h->op != VSOCK_OP_RST);
		else
			owe_rst_for(d, h);
		return -EPROTO;
	}
	if (!c) {
		if (h->op == VSOCK_OP_REQUEST)
			return recv_request(d, h);
		owe_rst_for(d, h);
		return -ENOTCONN;
	}
	if (!conn_live(c))
		return -ENOTCONN; /* its RST is on the way */

	/* every packet carries the sender's credit (5.10.6.3) */
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;

	switch (h->op) {
	case VSOCK_OP_RST:
		conn_end(d, c, false);
		return 0;
	case VSOCK_OP_RESPONSE:
		if (c->state != VSOCK_CONN_CONNECTING)
			break;
		c->state = VSOCK_CONN_ESTABLISHED;
		if (d->ops->connected)
			d->ops->connected(d->ctx, c);
		return 0;
	case VSOCK_OP_RW:
		return recv_rw(d, c, h, payload);
	case VSOCK_OP_SHUTDOWN:
		return recv_shutdown(d, c, h);
	case VSOCK_OP_CREDIT_REQUEST:
		if (c->state != VSOCK_CONN_ESTABLISHED)
			break;
		c->owed |= OWE_CREDIT_UPDATE;
		return 0;
	case VSOCK_OP_CREDIT_UPDATE:
		if (c->state != VSOCK_CONN_ESTABLISHED)
			break;
		if (d->ops->credit && vsock_conn_credit(c))
			d->ops->credit(d->ctx, c);
		return 0;
	default:
		/* a second REQUEST, an unknown op */
		break;
	}
	conn_end(d, c, true);
	return -EPROTO;
}

static void hdr_for(const struct vsock_dev *d, struct vsock_conn *c, uint16_t op,
		    struct vsock_hdr *h)
{
	*h = (struct vsock_hdr){ .src_cid = VSOCK_CID_HOST,
				 .dst_cid = d->guest_cid,
				 .src_port = c->host_port,
				 .dst_port = c->guest_port,
				 .type = VSOCK_TYPE_STREAM,
				 .op = op,
				 .buf_alloc = VSOCK_BUF_ALLOC,
				 .fwd_cnt = c->fwd_cnt };
	c->fwd_cnt_sent = c->fwd_cnt;
}

/* The first control packet C owes, in the order the guest must see them. */
static int conn_next_ctl(const struct vsock_dev *d, struct vsock_conn *c, struct vsock_hdr *ret)
{
	static const struct {
		unsigned bit;
		uint16_t op;
	} order[] = {
		{ OWE_REQUEST, VSOCK_OP_REQUEST },
		{ OWE_RESPONSE, VSOCK_OP_RESPONSE },
		{ OWE_CREDIT_UPDATE, VSOCK_OP_CREDIT_UPDATE },
		{ OWE_SHUTDOWN, VSOCK_OP_SHUTDOWN },
		{ OWE_RST, VSOCK_OP_RST },
	};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(c->owed & order[i].bit))
			continue;
		c->owed &= ~order[i].bit;
		hdr_for(d, c, order[i].op, ret);
		if (order[i].op == VSOCK_OP_SHUTDOWN)
			ret->flags = c->local_shutdown;
		return 1;
	}
	return 0;
}

int vsock_dev_next_ctl(struct vsock_dev *d, struct vsock_hdr *ret)
{
	if (d->rst_n) {
		*ret = (struct vsock_hdr){ .src_cid = VSOCK_CID_HOST,
					   .dst_cid = d->guest_cid,
					   .src_port = d->rst[d->rst_start].host_port,
					   .dst_port = d->rst[d->rst_start].guest_port,
					   .type = VSOCK_TYPE_STREAM,
					   .op = VSOCK_OP_RST };
		d->rst_start = (d->rst_start + 1) % VSOCK_RST_QUEUE_MAX;
		d->rst_n--;
		return 1;
	}
	for (unsigned k = 0; k < VSOCK_CONNS_MAX; k++) {
		unsigned i = (d->scan + k) % VSOCK_CONNS_MAX;
		struct vsock_conn *c = d->conns[i];
		int r;

		if (!c)
			continue;
		r = conn_next_ctl(d, c, ret);
		if (!c->owed && !conn_live(c))
			conn_free(d, i);
		if (r) {
			d->scan = (i + 1) % VSOCK_CONNS_MAX;
			return 1;
		}
	}
	return 0;
}

int vsock_dev_connect(struct vsock_dev *d, uint32_t guest_port, void *host, struct vsock_conn **ret)
{
	struct vsock_conn *c;

	/* a port no connection to GUEST_PORT uses: at most VSOCK_CONNS_MAX are */
	for (unsigned tries = 0; tries <= VSOCK_CONNS_MAX; tries++) {
		uint32_t port = d->next_port;

		d->next_port = port == UINT32_MAX - 1 ? VSOCK_EPHEMERAL_PORT_MIN : port + 1;
		if (conn_find(d, port, guest_port))
			continue;
		c = conn_new(d, port, guest_port, VSOCK_CONN_CONNECTING);
		if (!c)
			return -EMFILE;
		c->host = host;
		c->owed = OWE_REQUEST;
		*ret = c;
		return 0;
	}
	return -EMFILE;
}

int vsock_conn_send_hdr(struct vsock_dev *d, struct vsock_conn *c, uint32_t len,
			struct vsock_hdr *ret)
{
	if (!len)
		return -EINVAL;
	if (c->state != VSOCK_CONN_ESTABLISHED || (c->local_shutdown & VSOCK_SHUTDOWN_SEND) ||
	    (c->peer_shutdown & VSOCK_SHUTDOWN_RCV))
		return -EPIPE;
	if (len > vsock_conn_credit(c) || len > VSOCK_PAYLOAD_MAX)
		return -ENOBUFS;
	hdr_for(d, c, VSOCK_OP_RW, ret);
	ret->len = len;
	c->tx_cnt += len;
	/* the header carries fwd_cnt: no separate update owed for it */
	c->owed &= ~OWE_CREDIT_UPDATE;
	return 0;
}

size_t vsock_conn_peek(const struct vsock_conn *c, const uint8_t **ret)
{
	uint32_t first = VSOCK_BUF_ALLOC - c->rx_start;

	*ret = c->rx + c->rx_start;
	if (!conn_live(c))
		return 0;
	return first < c->rx_len ? first : c->rx_len;
}

void vsock_conn_consume(struct vsock_dev *d, struct vsock_conn *c, size_t n)
{
	if (!conn_live(c))
		return;
	if (n > c->rx_len)
		n = c->rx_len;
	c->rx_start = (uint32_t)((c->rx_start + n) % VSOCK_BUF_ALLOC);
	c->rx_len -= (uint32_t)n;
	c->fwd_cnt += (uint32_t)n;
	if (conn_finished(c)) {
		conn_end(d, c, true);
		return;
	}
	/* a guest blocked on credit waits for this: it never asks (Linux) */
	if (c->fwd_cnt != c->fwd_cnt_sent &&
	    (c->fwd_cnt - c->fwd_cnt_sent >= VSOCK_BUF_ALLOC / 2 || !c->rx_len))
		c->owed |= OWE_CREDIT_UPDATE;
}

int vsock_conn_shutdown(struct vsock_dev *d, struct vsock_conn *c, uint32_t flags)
{
	(void)d;
	if (c->state != VSOCK_CONN_ESTABLISHED)
		return -ENOTCONN;
	if (!flags || (flags & ~VSOCK_SHUTDOWN_BOTH))
		return -EINVAL;
	if ((c->local_shutdown | flags) == c->local_shutdown)
		return 0;
	c->local_shutdown |= flags;
	c->owed |= OWE_SHUTDOWN;
	return 0;
}

void vsock_conn_reset(struct vsock_dev *d, struct vsock_conn *c)
{
	conn_end(d, c, true);
}
