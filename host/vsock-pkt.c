/* The vsock header's byte layout (vsock-pkt.h): offsets from virtio 1.2,
 * 5.10.6, struct virtio_vsock_hdr (packed). */
#include "vsock-pkt.h"

#include <endian.h>
#include <string.h>

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return le16toh(v);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

void vsock_hdr_decode(const uint8_t b[VSOCK_HDR_SIZE], struct vsock_hdr *ret)
{
	ret->src_cid = get64(b);
	ret->dst_cid = get64(b + 8);
	ret->src_port = get32(b + 16);
	ret->dst_port = get32(b + 20);
	ret->len = get32(b + 24);
	ret->type = get16(b + 28);
	ret->op = get16(b + 30);
	ret->flags = get32(b + 32);
	ret->buf_alloc = get32(b + 36);
	ret->fwd_cnt = get32(b + 40);
}

void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t b[VSOCK_HDR_SIZE])
{
	put64(b, h->src_cid);
	put64(b + 8, h->dst_cid);
	put32(b + 16, h->src_port);
	put32(b + 20, h->dst_port);
	put32(b + 24, h->len);
	put16(b + 28, h->type);
	put16(b + 30, h->op);
	put32(b + 32, h->flags);
	put32(b + 36, h->buf_alloc);
	put32(b + 40, h->fwd_cnt);
}
