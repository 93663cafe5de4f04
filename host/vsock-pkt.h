/* The virtio-vsock packet header (virtio 1.2, 5.10.6): 44 bytes,
 * little-endian, decoded from and encoded to bytes, wherever the caller
 * found them (a header may span descriptors: see virtq_chain_read). */
#pragma once

#include <stdint.h>

#define VSOCK_HDR_SIZE 44
/* The host's CID (5.10.4) */
#define VSOCK_CID_HOST 2
/* The most payload one packet carries here, as Linux's driver
 * (VIRTIO_VSOCK_MAX_PKT_BUF_SIZE): a longer len is malformed. */
#define VSOCK_PAYLOAD_MAX (64 * 1024)

/* 5.10.6 */
#define VSOCK_TYPE_STREAM 1

enum vsock_op {
	VSOCK_OP_INVALID = 0,
	VSOCK_OP_REQUEST = 1,
	VSOCK_OP_RESPONSE = 2,
	VSOCK_OP_RST = 3,
	VSOCK_OP_SHUTDOWN = 4,
	VSOCK_OP_RW = 5,
	VSOCK_OP_CREDIT_UPDATE = 6,
	VSOCK_OP_CREDIT_REQUEST = 7,
};

/* SHUTDOWN's flags: the sender will receive (RCV) or send (SEND) no more */
#define VSOCK_SHUTDOWN_RCV 1
#define VSOCK_SHUTDOWN_SEND 2
#define VSOCK_SHUTDOWN_BOTH (VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND)

struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint32_t len;
	uint16_t type, op;
	uint32_t flags;
	uint32_t buf_alloc, fwd_cnt;
};

void vsock_hdr_decode(const uint8_t b[VSOCK_HDR_SIZE], struct vsock_hdr *ret);
void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t b[VSOCK_HDR_SIZE]);
