/* libFuzzer target: a guest's tx virtqueue and the packets on it, as
 * porthole-vsockd takes them. The input is guest memory (4 KiB at guest
 * address 0x1000): a queue of 8 with its descriptor table at 0x1000, the
 * available ring at 0x1080 and the used ring at 0x1100. Each chain is
 * walked (virtq_pop), its header read across descriptors, its payload
 * handed with the header to vsock_dev_recv, and the chain given back; the
 * control packets owed are written into the writable part of the next
 * chain, as the rx queue would take them. A host client has asked for
 * guest port 1024 first (from host port 49152). Whatever the input: nothing is
 * read outside guest memory, credit never exceeds what the guest allows,
 * buffers stay bounded, and only the host's packets go to the guest. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtq.h"
#include "vsock-conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GPA 0x1000
#define GUEST_CID 3

static uint8_t ram[4096] __attribute__((aligned(16)));
static uint8_t payload[VSOCK_PAYLOAD_MAX];
static uint8_t sink[VSOCK_BUF_ALLOC];

/* The host side accepts even ports, drains what arrives, and sends
 * whenever it has credit, to drive every path. */
static int fz_connect(void *ctx, struct vsock_conn *c)
{
	(void)ctx;
	return c->host_port % 2 ? -1 : 0;
}

static void fz_data(void *ctx, struct vsock_conn *c)
{
	struct vsock_dev *d = ctx;

	if (c->rx_len % 7 == 6)
		vsock_conn_reset(d, c);
	else if (c->rx_len % 3) {
		const uint8_t *p;
		size_t n = vsock_conn_peek(c, &p);

		/* the host side takes a part of the first span, as a socket would */
		if (n)
			memcpy(sink, p, n / 2 + 1);
		vsock_conn_consume(d, c, n / 2 + 1);
	}
}

static void fz_credit(void *ctx, struct vsock_conn *c)
{
	struct vsock_dev *d = ctx;
	struct vsock_hdr h;
	uint32_t credit = vsock_conn_credit(c);

	if (credit > c->peer_buf_alloc)
		abort();
	if (credit && vsock_conn_send_hdr(d, c, credit > 100 ? 100 : credit, &h) == 0 &&
	    (h.op != VSOCK_OP_RW || !h.len || h.len > credit))
		abort();
}

static void fz_shutdown(void *ctx, struct vsock_conn *c, uint32_t flags)
{
	if (flags & VSOCK_SHUTDOWN_RCV)
		vsock_conn_shutdown(ctx, c, VSOCK_SHUTDOWN_SEND);
}

static const struct vsock_host_ops fz_ops = {
	.connect = fz_connect,
	.data = fz_data,
	.credit = fz_credit,
	.shutdown = fz_shutdown,
};

static void check_dev(struct vsock_dev *d)
{
	unsigned n = 0;

	for (unsigned i = 0; i < VSOCK_CONNS_MAX; i++) {
		struct vsock_conn *c = d->conns[i];

		if (!c)
			continue;
		n++;
		if (c->rx_len > VSOCK_BUF_ALLOC || vsock_conn_credit(c) > c->peer_buf_alloc)
			abort();
	}
	if (n > VSOCK_CONNS_MAX || d->rst_n > VSOCK_RST_QUEUE_MAX)
		abort();
}

/* Control packets into the chain's writable part, one per chain. */
static void deliver_ctl(struct vsock_dev *d, const struct virtq_chain *c)
{
	struct vsock_hdr h;
	uint8_t b[VSOCK_HDR_SIZE];

	if (vsock_dev_next_ctl(d, &h) != 1)
		return;
	if (h.src_cid != VSOCK_CID_HOST || h.dst_cid != GUEST_CID || h.len ||
	    h.type != VSOCK_TYPE_STREAM || h.op == VSOCK_OP_RW || h.op == VSOCK_OP_INVALID ||
	    h.op > VSOCK_OP_CREDIT_REQUEST)
		abort();
	vsock_hdr_encode(&h, b);
	(void)virtq_chain_write(c, 0, b, sizeof(b)); /* too short: the packet is dropped */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmem_table mem = { 0 };
	struct vsock_dev d;
	struct virtq q;
	struct virtq_chain c;
	struct vsock_hdr h;

	memset(ram, 0, sizeof(ram));
	memcpy(ram, data, size < sizeof(ram) ? size : sizeof(ram));
	if (vmem_table_add(&mem, &(struct vmem_region){ .guest_addr = GPA,
							.size = sizeof(ram),
							.user_addr = 0x7f0000000000,
							.host = ram }) < 0 ||
	    virtq_setup(&q, &mem, VMEM_GUEST, 8, GPA, GPA + 0x80, GPA + 0x100, 0) < 0)
		abort();
	vsock_dev_init(&d, GUEST_CID, &fz_ops, &d);
	/* a host client's CONNECT 1024, from host port VSOCK_EPHEMERAL_PORT_MIN */
	struct vsock_conn *hc;
	if (vsock_dev_connect(&d, 1024, NULL, &hc) < 0 || hc->host_port != VSOCK_EPHEMERAL_PORT_MIN)
		abort();

	/* at most a queue's worth: virtq_pop refuses an index further ahead */
	for (int k = 0; k < 8; k++) {
		uint8_t b[VSOCK_HDR_SIZE];
		size_t plen;
		int r = virtq_pop(&q, &mem, &c);

		if (r == 0 || r == -EPROTO)
			break;
		if (r < 0) {
			(void)virtq_push(&q, c.head, 0);
			continue;
		}
		if (c.readable > UINT32_MAX || c.n > VIRTQ_CHAIN_MAX)
			abort();
		if (virtq_chain_read(&c, 0, b, sizeof(b)) == 0) {
			vsock_hdr_decode(b, &h);
			/* the addresses right most of the time, to get further */
			if (!(h.flags & 0x80000000u)) {
				h.src_cid = GUEST_CID;
				h.dst_cid = VSOCK_CID_HOST;
			}
			plen = c.readable - VSOCK_HDR_SIZE;
			if (plen > sizeof(payload))
				plen = sizeof(payload);
			if (virtq_chain_read(&c, VSOCK_HDR_SIZE, payload, plen) < 0)
				abort();
			(void)vsock_dev_recv(&d, &h, payload, plen);
			check_dev(&d);
		}
		deliver_ctl(&d, &c);
		if (virtq_push(&q, c.head, c.writable) < 0)
			abort();
	}
	while (vsock_dev_next_ctl(&d, &h) == 1)
		;
	check_dev(&d);
	vsock_dev_free(&d);
	return 0;
}
