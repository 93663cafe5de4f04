/* host/vsock-pkt.c: the 44-byte header's layout, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "vsock-pkt.h"

/* A REQUEST from CID 3 port 0x11223344 to CID 2 port 1024, as the guest's
 * driver lays it out (virtio 1.2, 5.10.6: little-endian, packed). */
static const uint8_t request[VSOCK_HDR_SIZE] = {
	3,    0,    0,	  0,	0, 0, 0, 0, /* src_cid */
	2,    0,    0,	  0,	0, 0, 0, 0, /* dst_cid */
	0x44, 0x33, 0x22, 0x11, /* src_port */
	0,    4,    0,	  0, /* dst_port 1024 */
	0,    0,    0,	  0, /* len */
	1,    0, /* type STREAM */
	1,    0, /* op REQUEST */
	0,    0,    0,	  0, /* flags */
	0,    0,    4,	  0, /* buf_alloc 256 KiB */
	0xff, 0xff, 0xff, 0xff, /* fwd_cnt */
};

static void test_decode(void **state)
{
	struct vsock_hdr h;

	(void)state;
	vsock_hdr_decode(request, &h);
	assert_int_equal(h.src_cid, 3);
	assert_int_equal(h.dst_cid, VSOCK_CID_HOST);
	assert_int_equal(h.src_port, 0x11223344);
	assert_int_equal(h.dst_port, 1024);
	assert_int_equal(h.len, 0);
	assert_int_equal(h.type, VSOCK_TYPE_STREAM);
	assert_int_equal(h.op, VSOCK_OP_REQUEST);
	assert_int_equal(h.buf_alloc, 256 * 1024);
	assert_int_equal(h.fwd_cnt, UINT32_MAX);
}

static void test_encode_round_trip(void **state)
{
	struct vsock_hdr h, back;
	uint8_t b[VSOCK_HDR_SIZE];

	(void)state;
	vsock_hdr_decode(request, &h);
	vsock_hdr_encode(&h, b);
	assert_memory_equal(b, request, VSOCK_HDR_SIZE);

	h = (struct vsock_hdr){ .src_cid = UINT64_MAX,
				.dst_cid = 0x0102030405060708,
				.src_port = 1,
				.dst_port = 2,
				.len = 65536,
				.type = 0xfffe,
				.op = VSOCK_OP_SHUTDOWN,
				.flags = VSOCK_SHUTDOWN_BOTH,
				.buf_alloc = 5,
				.fwd_cnt = 6 };
	vsock_hdr_encode(&h, b);
	assert_int_equal(b[8], 0x08);
	assert_int_equal(b[15], 0x01);
	assert_int_equal(b[26], 1); /* len 65536, little-endian */
	assert_int_equal(b[30], VSOCK_OP_SHUTDOWN);
	assert_int_equal(b[32], 3);
	vsock_hdr_decode(b, &back);
	assert_true(back.src_cid == h.src_cid && back.dst_cid == h.dst_cid &&
		    back.src_port == h.src_port && back.dst_port == h.dst_port &&
		    back.len == h.len && back.type == h.type && back.op == h.op &&
		    back.flags == h.flags && back.buf_alloc == h.buf_alloc &&
		    back.fwd_cnt == h.fwd_cnt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_encode_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
