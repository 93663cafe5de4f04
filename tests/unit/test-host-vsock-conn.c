/* host/vsock-conn.c: the vsock connection state machine against a guest
 * that floods, overruns its credit, lies about its address or credit, and
 * sends packets in states they do not belong to; a fake host side records
 * what it is told. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vsock-conn.h"

#define GUEST 3

struct fake {
	int connect_result;
	int connects, connected, data, credit, shutdowns, closed;
	uint32_t shutdown_flags;
};

static int fake_connect(void *ctx, struct vsock_conn *c)
{
	struct fake *f = ctx;

	(void)c;
	f->connects++;
	return f->connect_result;
}

static void fake_connected(void *ctx, struct vsock_conn *c)
{
	(void)c;
	((struct fake *)ctx)->connected++;
}

static void fake_data(void *ctx, struct vsock_conn *c)
{
	(void)c;
	((struct fake *)ctx)->data++;
}

static void fake_credit(void *ctx, struct vsock_conn *c)
{
	(void)c;
	((struct fake *)ctx)->credit++;
}

static void fake_shutdown(void *ctx, struct vsock_conn *c, uint32_t flags)
{
	struct fake *f = ctx;

	(void)c;
	f->shutdowns++;
	f->shutdown_flags |= flags;
}

static void fake_closed(void *ctx, struct vsock_conn *c)
{
	(void)c;
	((struct fake *)ctx)->closed++;
}

static const struct vsock_host_ops ops = {
	.connect = fake_connect,
	.connected = fake_connected,
	.data = fake_data,
	.credit = fake_credit,
	.shutdown = fake_shutdown,
	.closed = fake_closed,
};

static struct vsock_dev dev;
static struct fake fk;
static uint8_t payload[VSOCK_PAYLOAD_MAX];

/* Takes up to N of the guest's bytes into BUF the way the bridge does,
 * span by span with peek and consume: how many. */
static size_t conn_read(struct vsock_dev *d, struct vsock_conn *c, void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		const uint8_t *p;
		size_t k = vsock_conn_peek(c, &p);

		if (!k)
			break;
		if (k > n - done)
			k = n - done;
		memcpy((uint8_t *)buf + done, p, k);
		done += k;
		vsock_conn_consume(d, c, k);
	}
	return done;
}

static int setup(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	vsock_dev_init(&dev, GUEST, &ops, &fk);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vsock_dev_free(&dev);
	return 0;
}

/* A packet from guest port GPORT to host port HPORT. */
static struct vsock_hdr pkt(uint16_t op, uint32_t gport, uint32_t hport, uint32_t len)
{
	return (struct vsock_hdr){ .src_cid = GUEST,
				   .dst_cid = VSOCK_CID_HOST,
				   .src_port = gport,
				   .dst_port = hport,
				   .len = len,
				   .type = VSOCK_TYPE_STREAM,
				   .op = op,
				   .buf_alloc = 65536 };
}

static int recv_op(uint16_t op, uint32_t gport, uint32_t hport)
{
	struct vsock_hdr h = pkt(op, gport, hport, 0);

	return vsock_dev_recv(&dev, &h, NULL, 0);
}

static int recv_rw(uint32_t gport, uint32_t hport, uint32_t len)
{
	struct vsock_hdr h = pkt(VSOCK_OP_RW, gport, hport, len);

	return vsock_dev_recv(&dev, &h, payload, len);
}

/* The control packets owed, into H (at most MAX): how many. */
static int drain(struct vsock_hdr *h, int max)
{
	struct vsock_hdr scratch;
	int n = 0;

	while (vsock_dev_next_ctl(&dev, n < max ? &h[n] : &scratch) == 1)
		n++;
	return n;
}

static struct vsock_conn *conn_of(uint32_t hport, uint32_t gport)
{
	for (unsigned i = 0; i < VSOCK_CONNS_MAX; i++)
		if (dev.conns[i] && dev.conns[i]->host_port == hport &&
		    dev.conns[i]->guest_port == gport)
			return dev.conns[i];
	return NULL;
}

/* The guest connects to host port 1024 and is answered. */
static struct vsock_conn *guest_connects(uint32_t gport)
{
	struct vsock_hdr h[4];

	assert_int_equal(recv_op(VSOCK_OP_REQUEST, gport, 1024), 0);
	assert_int_equal(drain(h, 4), 1);
	assert_int_equal(h[0].op, VSOCK_OP_RESPONSE);
	return conn_of(1024, gport);
}

static void test_guest_connects(void **state)
{
	struct vsock_hdr h[4];

	(void)state;
	assert_int_equal(recv_op(VSOCK_OP_REQUEST, 5000, 1024), 0);
	assert_int_equal(fk.connects, 1);
	assert_int_equal(drain(h, 4), 1);
	assert_int_equal(h[0].op, VSOCK_OP_RESPONSE);
	assert_int_equal(h[0].src_cid, VSOCK_CID_HOST);
	assert_int_equal(h[0].dst_cid, GUEST);
	assert_int_equal(h[0].src_port, 1024);
	assert_int_equal(h[0].dst_port, 5000);
	assert_int_equal(h[0].type, VSOCK_TYPE_STREAM);
	assert_int_equal(h[0].len, 0);
	assert_int_equal(h[0].buf_alloc, VSOCK_BUF_ALLOC);
	assert_non_null(conn_of(1024, 5000));
	/* a second REQUEST on it resets it: closed once, one RST */
	assert_int_equal(recv_op(VSOCK_OP_REQUEST, 5000, 1024), -EPROTO);
	assert_int_equal(fk.closed, 1);
	assert_int_equal(drain(h, 4), 1);
	assert_int_equal(h[0].op, VSOCK_OP_RST);
	assert_null(conn_of(1024, 5000));
}

static void test_refused_and_strays(void **state)
{
	struct vsock_hdr h[VSOCK_RST_QUEUE_MAX + 8];

	(void)state;
	fk.connect_result = -ECONNREFUSED;
	assert_int_equal(recv_op(VSOCK_OP_REQUEST, 5000, 9999), -ECONNREFUSED);
	assert_int_equal(drain(h, 4), 1);
	assert_int_equal(h[0].op, VSOCK_OP_RST);
	assert_int_equal(h[0].src_port, 9999);
	assert_int_equal(h[0].dst_port, 5000);
	assert_int_equal(fk.closed, 0); /* never opened */
	assert_null(conn_of(9999, 5000));

	/* packets for no connection: an RST each, but never for an RST */
	assert_int_equal(recv_rw(1, 2, 0), -ENOTCONN);
	assert_int_equal(recv_op(VSOCK_OP_RST, 1, 2), -ENOTCONN);
	assert_int_equal(drain(h, 4), 1);
	/* a flood of them: the queue of RSTs stays bounded */
	for (int i = 0; i < 1000; i++)
		recv_op(VSOCK_OP_CREDIT_REQUEST, (uint32_t)i, 2);
	assert_int_equal(drain(h, VSOCK_RST_QUEUE_MAX + 8), VSOCK_RST_QUEUE_MAX);
}

static void test_malformed(void **state)
{
	struct vsock_hdr h[4], p;
	struct vsock_conn *c;

	(void)state;
	/* not from the guest's CID, not to the host's: dropped silently */
	p = pkt(VSOCK_OP_REQUEST, 1, 1024, 0);
	p.src_cid = 4;
	assert_int_equal(vsock_dev_recv(&dev, &p, NULL, 0), -EPROTO);
	p = pkt(VSOCK_OP_REQUEST, 1, 1024, 0);
	p.dst_cid = 1;
	assert_int_equal(vsock_dev_recv(&dev, &p, NULL, 0), -EPROTO);
	assert_int_equal(drain(h, 4), 0);
	assert_int_equal(fk.connects, 0);
	/* not a stream (SEQPACKET was not offered): RST */
	p = pkt(VSOCK_OP_REQUEST, 1, 1024, 0);
	p.type = 2;
	assert_int_equal(vsock_dev_recv(&dev, &p, NULL, 0), -EPROTO);
	assert_int_equal(drain(h, 4), 1);
	assert_int_equal(h[0].op, VSOCK_OP_RST);

	/* on a connection: a len the descriptors did not hold, a len on a
	 * packet that has none, a payload too long, an unknown op, a RESPONSE
	 * when established: each resets it */
	static const struct {
		uint16_t op;
		uint32_t len;
		size_t have;
	} bad[] = {
		{ VSOCK_OP_RW, 100, 99 },
		{ VSOCK_OP_CREDIT_UPDATE, 4, 4 },
		{ VSOCK_OP_RW, VSOCK_PAYLOAD_MAX + 1, VSOCK_PAYLOAD_MAX + 1 },
		{ 99, 0, 0 },
		{ VSOCK_OP_INVALID, 0, 0 },
		{ VSOCK_OP_RESPONSE, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = guest_connects(7000 + (uint32_t)i);
		assert_non_null(c);
		p = pkt(bad[i].op, 7000 + (uint32_t)i, 1024, bad[i].len);
		assert_int_equal(vsock_dev_recv(&dev, &p, payload, bad[i].have), -EPROTO);
		assert_int_equal(fk.closed, (int)i + 1);
		assert_int_equal(drain(h, 4), 1);
		assert_int_equal(h[0].op, VSOCK_OP_RST);
		assert_int_equal(h[0].dst_port, 7000 + i);
	}
}

/* The guest resets: the host side hears it, and no RST goes back. */
static void test_rst_never_answered(void **state)
{
	struct vsock_hdr h[4];

	(void)state;
	assert_non_null(guest_connects(5000));
	assert_int_equal(recv_op(VSOCK_OP_RST, 5000, 1024), 0);
	assert_int_equal(fk.closed, 1);
	assert_int_equal(drain(h, 4), 0);
	assert_null(conn_of(1024, 5000));
	assert_int_equal(recv_op(VSOCK_OP_RST, 5000, 1024), -ENOTCONN);
	assert_int_equal(drain(h, 4), 0);
}

static void test_credit(void **state)
{
	struct vsock_hdr h[4], p;
	struct vsock_conn *c;

	(void)state;
	p = pkt(VSOCK_OP_REQUEST, 5000, 1024, 0);
	p.buf_alloc = 1000;
	assert_int_equal(vsock_dev_recv(&dev, &p, NULL, 0), 0);
	drain(h, 4);
	c = conn_of(1024, 5000);
	assert_int_equal(vsock_conn_credit(c), 1000);
	assert_int_equal(vsock_conn_send_hdr(&dev, c, 600, &h[0]), 0);
	assert_int_equal(h[0].op, VSOCK_OP_RW);
	assert_int_equal(h[0].len, 600);
	assert_int_equal(vsock_conn_credit(c), 400);
	assert_int_equal(vsock_conn_send_hdr(&dev, c, 401, &h[0]), -ENOBUFS);
	assert_int_equal(vsock_conn_send_hdr(&dev, c, 0, &h[0]), -EINVAL);
	assert_int_equal(vsock_conn_send_hdr(&dev, c, 400, &h[0]), 0);
	assert_int_equal(vsock_conn_credit(c), 0);

	/* the guest consumed 600: credit again, and the host side is told */
	p = pkt(VSOCK_OP_CREDIT_UPDATE, 5000, 1024, 0);
	p.buf_alloc = 1000;
	p.fwd_cnt = 600;
	assert_int_equal(vsock_dev_recv(&dev, &p, NULL, 0), 0);
	assert_int_equal(vsock_conn_credit(c), 600);
	assert_int_equal(fk.credit, 1);

	/* wrapping u32 counters */
	c->tx_cnt = UINT32_MAX - 99;
	c->peer_fwd_cnt = UINT32_MAX - 99;
	assert_int_equal(vsock_conn_credit(c), 1000);
	assert_int_equal(vsock_conn_send_hdr(&dev, c, 300, &h[0]), 0);
	assert_int_equal(c->tx_cnt, 200);
	assert_int_equal(vsock_conn_credit(c), 700);

	/* a guest acknowledging more than was sent, or shrinking its buffer
	 * below what is in flight, gives no credit, not 4 GiB of it */
	p.fwd_cnt = 300;
	assert_int_equal(vsock_dev_recv(&dev, &p, NULL, 0), 0);
	assert_int_equal(vsock_conn_credit(c), 0);
	p.fwd_cnt = UINT32_MAX - 99;
	p.buf_alloc = 100;
	assert_int_equal(vsock_dev_recv(&dev, &p, NULL, 0), 0);
	assert_int_equal(vsock_conn_credit(c), 0);
	assert_int_equal(vsock_conn_send_hdr(&dev, c, 1, &h[0]), -ENOBUFS);
}

/* A flood of CREDIT_REQUESTs is answered, with one CREDIT_UPDATE. */
static void test_credit_request(void **state)
{
	struct vsock_hdr h[4];

	(void)state;
	assert_non_null(guest_connects(5000));
	for (int i = 0; i < 1000; i++)
		assert_int_equal(recv_op(VSOCK_OP_CREDIT_REQUEST, 5000, 1024), 0);
	assert_int_equal(drain(h, 4), 1);
	assert_int_equal(h[0].op, VSOCK_OP_CREDIT_UPDATE);
	assert_int_equal(h[0].buf_alloc, VSOCK_BUF_ALLOC);
	assert_int_equal(h[0].fwd_cnt, 0);
	assert_int_equal(recv_op(VSOCK_OP_CREDIT_REQUEST, 5000, 1024), 0);
	assert_int_equal(drain(h, 4), 1);
}

/* The guest's bytes reach the host side in order, its credit is returned
 * as they are taken, and overrunning it resets that connection only. */
static void test_receive_and_overrun(void **state)
{
	static uint8_t got[VSOCK_BUF_ALLOC];
	struct vsock_hdr h[4];
	struct vsock_conn *c, *other;
	uint32_t sent = 0;

	(void)state;
	c = guest_connects(5000);
	other = guest_connects(5001);
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	/* 3 x 64 KiB = 192 KiB: within the 256 KiB we allow */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(recv_rw(5000, 1024, VSOCK_PAYLOAD_MAX), 0);
		sent += VSOCK_PAYLOAD_MAX;
	}
	assert_int_equal(fk.data, 3);
	assert_int_equal(c->rx_len, sent);
	/* taking less than half the buffer owes nothing yet */
	assert_int_equal(conn_read(&dev, c, got, 100000), 100000);
	assert_memory_equal(got, payload, 100);
	assert_int_equal(got[VSOCK_PAYLOAD_MAX + 1], payload[1]);
	assert_int_equal(drain(h, 4), 0);
	/* taking the rest empties it: a CREDIT_UPDATE with all of it */
	assert_int_equal(conn_read(&dev, c, got, sizeof(got)), sent - 100000);
	assert_int_equal(drain(h, 4), 1);
	assert_int_equal(h[0].op, VSOCK_OP_CREDIT_UPDATE);
	assert_int_equal(h[0].fwd_cnt, sent);
	assert_int_equal(conn_read(&dev, c, got, sizeof(got)), 0);

	/* the ring wraps: fill it exactly, then one byte more is an overrun */
	for (int i = 0; i < 4; i++)
		assert_int_equal(recv_rw(5000, 1024, VSOCK_PAYLOAD_MAX), 0);
	assert_int_equal(c->rx_len, VSOCK_BUF_ALLOC);
	assert_int_equal(conn_read(&dev, c, got, 10), 10);
	assert_memory_equal(got, payload, 10);
	assert_int_equal(recv_rw(5000, 1024, 11), -ENOBUFS);
	assert_int_equal(fk.closed, 1);
	assert_int_equal(drain(h, 4), 1);
	assert_int_equal(h[0].op, VSOCK_OP_RST);
	assert_int_equal(h[0].dst_port, 5000);
	/* the other connection goes on */
	assert_ptr_equal(conn_of(1024, 5001), other);
	assert_int_equal(recv_rw(5001, 1024, 5), 0);
	assert_int_equal(other->rx_len, 5);
}

/* peek/consume: the bytes in place, in two spans when the ring wraps, and
 * the credit owed and the end that follow what was taken. */
static void test_peek_consume(void **state)
{
	struct vsock_hdr h[4];
	struct vsock_conn *c;
	const uint8_t *p;
	size_t n;

	(void)state;
	c = guest_connects(5000);
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13);
	assert_int_equal(vsock_conn_peek(c, &p), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(recv_rw(5000, 1024, VSOCK_PAYLOAD_MAX), 0);
	/* the whole buffer in one span; 100 bytes taken */
	assert_int_equal(vsock_conn_peek(c, &p), VSOCK_BUF_ALLOC);
	assert_memory_equal(p, payload, 100);
	vsock_conn_consume(&dev, c, 100);
	assert_int_equal(c->fwd_cnt, 100);
	assert_int_equal(drain(h, 4), 0);
	/* the guest fills the 100 bytes freed: they wrap to the front */
	assert_int_equal(recv_rw(5000, 1024, 100), 0);
	n = vsock_conn_peek(c, &p);
	assert_int_equal(n, VSOCK_BUF_ALLOC - 100);
	assert_memory_equal(p, payload + 100, 16);
	vsock_conn_consume(&dev, c, n);
	assert_int_equal(c->rx_len, 100);
	assert_int_equal(drain(h, 4), 1);
	assert_int_equal(h[0].op, VSOCK_OP_CREDIT_UPDATE);
	n = vsock_conn_peek(c, &p);
	assert_int_equal(n, 100);
	assert_memory_equal(p, payload, 100);
	/* the guest shut down both ways: consuming the last byte (and more than
	 * there is: capped) resets */
	struct vsock_hdr s = pkt(VSOCK_OP_SHUTDOWN, 5000, 1024, 0);
	s.flags = VSOCK_SHUTDOWN_BOTH;
	assert_int_equal(vsock_dev_recv(&dev, &s, NULL, 0), 0);
	assert_int_equal(fk.closed, 0);
	vsock_conn_consume(&dev, c, 1000);
	assert_int_equal(fk.closed, 1);
	assert_int_equal(drain(h, 4), 1);
	assert_int_equal(h[0].op, VSOCK_OP_RST);
}

static void test_shutdown(void **state)
{
	static uint8_t got[64];
	struct vsock_hdr h[4];
	struct vsock_conn *c;

	(void)state;
	/* the guest stops sending: the host side hears it, more data resets */
	c = guest_connects(5000);
	assert_int_equal(recv_rw(5000, 1024, 10), 0);
	struct vsock_hdr p = pkt(VSOCK_OP_SHUTDOWN, 5000, 1024, 0);
	p.flags = VSOCK_SHUTDOWN_SEND | 0xf0;
	assert_int_equal(vsock_dev_recv(&dev, &p, NULL, 0), 0);
	assert_int_equal(fk.shutdowns, 1);
	assert_int_equal(fk.shutdown_flags, VSOCK_SHUTDOWN_SEND);
	assert_int_equal(vsock_conn_credit(c), 65536); /* it still receives */
	/* both ways, with 10 bytes unread: closed only once they are taken */
	p.flags = VSOCK_SHUTDOWN_BOTH;
	assert_int_equal(vsock_dev_recv(&dev, &p, NULL, 0), 0);
	assert_int_equal(fk.shutdown_flags, VSOCK_SHUTDOWN_BOTH);
	assert_int_equal(fk.closed, 0);
	assert_int_equal(conn_read(&dev, c, got, sizeof(got)), 10);
	assert_int_equal(fk.closed, 1);
	assert_int_equal(drain(h, 4), 1);
	assert_int_equal(h[0].op, VSOCK_OP_RST);

	c = guest_connects(5001);
	assert_int_equal(recv_rw(5001, 1024, 0), 0);
	p = pkt(VSOCK_OP_SHUTDOWN, 5001, 1024, 0);
	p.flags = VSOCK_SHUTDOWN_SEND;
	assert_int_equal(vsock_dev_recv(&dev, &p, NULL, 0), 0);
	assert_int_equal(recv_rw(5001, 1024, 1), -EPROTO);
	assert_int_equal(fk.closed, 2);
	drain(h, 4);

	/* the host side stops sending: one SHUTDOWN, then nothing may be sent */
	c = guest_connects(5002);
	assert_int_equal(vsock_conn_shutdown(&dev, c, 4), -EINVAL);
	assert_int_equal(vsock_conn_shutdown(&dev, c, VSOCK_SHUTDOWN_SEND), 0);
	assert_int_equal(vsock_conn_shutdown(&dev, c, VSOCK_SHUTDOWN_SEND), 0);
	assert_int_equal(drain(h, 4), 1);
	assert_int_equal(h[0].op, VSOCK_OP_SHUTDOWN);
	assert_int_equal(h[0].flags, VSOCK_SHUTDOWN_SEND);
	assert_int_equal(vsock_conn_credit(c), 0);
	assert_int_equal(vsock_conn_send_hdr(&dev, c, 1, &h[0]), -EPIPE);
	/* the host side aborts: RST, closed once */
	vsock_conn_reset(&dev, c);
	vsock_conn_reset(&dev, c);
	assert_int_equal(fk.closed, 3);
	assert_int_equal(drain(h, 4), 1);
	assert_int_equal(h[0].op, VSOCK_OP_RST);
}

static void test_host_connects(void **state)
{
	struct vsock_hdr h[4], p;
	struct vsock_conn *c, *d;
	int marker;

	(void)state;
	assert_int_equal(vsock_dev_connect(&dev, 1024, &marker, &c), 0);
	assert_ptr_equal(c->host, &marker);
	assert_int_equal(vsock_conn_credit(c), 0);
	assert_int_equal(drain(h, 4), 1);
	assert_int_equal(h[0].op, VSOCK_OP_REQUEST);
	assert_int_equal(h[0].dst_port, 1024);
	assert_true(h[0].src_port >= VSOCK_EPHEMERAL_PORT_MIN);
	p = pkt(VSOCK_OP_RESPONSE, 1024, h[0].src_port, 0);
	assert_int_equal(vsock_dev_recv(&dev, &p, NULL, 0), 0);
	assert_int_equal(fk.connected, 1);
	assert_int_equal(vsock_conn_credit(c), 65536);

	/* nothing listens in the guest: its RST closes the attempt */
	assert_int_equal(vsock_dev_connect(&dev, 1025, NULL, &d), 0);
	assert_int_equal(drain(h, 4), 1);
	assert_int_not_equal(h[0].src_port, c->host_port);
	assert_int_equal(recv_op(VSOCK_OP_RST, 1025, h[0].src_port), 0);
	assert_int_equal(fk.connected, 1);
	assert_int_equal(fk.closed, 1);
	assert_int_equal(drain(h, 4), 0);
}

/* A full table refuses with an RST, and frees up when connections end. */
static void test_table_full(void **state)
{
	struct vsock_hdr h[4];
	struct vsock_conn *c;

	(void)state;
	for (uint32_t i = 0; i < VSOCK_CONNS_MAX; i++) {
		assert_int_equal(recv_op(VSOCK_OP_REQUEST, 10000 + i, 1024), 0);
		drain(h, 4);
	}
	assert_int_equal(recv_op(VSOCK_OP_REQUEST, 9, 1024), -ECONNREFUSED);
	assert_int_equal(drain(h, 4), 1);
	assert_int_equal(h[0].op, VSOCK_OP_RST);
	assert_int_equal(vsock_dev_connect(&dev, 1024, NULL, &c), -EMFILE);
	assert_int_equal(recv_op(VSOCK_OP_RST, 10000, 1024), 0);
	drain(h, 4);
	assert_int_equal(recv_op(VSOCK_OP_REQUEST, 9, 1024), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_guest_connects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_and_strays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rst_never_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credit_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_and_overrun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peek_consume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_connects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
