/* host/vhost-user.c: every request porthole-vsockd takes, as QEMU sends
 * it, then sizes, fds and fields no front-end may send; and the replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "vhost-user.h"

static uint8_t hdrbuf[VHOST_USER_HDR_SIZE];

static const uint8_t *hdr(uint32_t request, uint32_t flags, uint32_t size)
{
	uint32_t h[3] = { request, flags, size };

	memcpy(hdrbuf, h, sizeof(h));
	return hdrbuf;
}

/* Parses header and payload: the first error, or 0 with *m filled. */
static int parse(uint32_t request, const void *payload, uint32_t size, unsigned n_fds,
		 struct vhost_user_msg *m)
{
	struct vhost_user_hdr h;
	int r = vhost_user_hdr_parse(hdr(request, VHOST_USER_VERSION, size), VHOST_USER_HDR_SIZE,
				     &h);

	if (r < 0)
		return r;
	return vhost_user_msg_parse(&h, payload, size, n_fds, m);
}

static void test_header(void **state)
{
	struct vhost_user_hdr h = { 0 };

	(void)state;
	assert_int_equal(vhost_user_hdr_parse(hdr(VHOST_USER_GET_FEATURES, 1, 0), 12, &h), 0);
	assert_int_equal(h.request, VHOST_USER_GET_FEATURES);
	assert_int_equal(
		vhost_user_hdr_parse(hdr(VHOST_USER_SET_OWNER, 1 | VHOST_USER_FLAG_NEED_REPLY, 0),
				     12, &h),
		0);
	assert_int_equal(h.flags, 1 | VHOST_USER_FLAG_NEED_REPLY);
	/* the wrong version, a reply, unknown flags, a short header */
	assert_int_equal(vhost_user_hdr_parse(hdr(VHOST_USER_SET_OWNER, 0, 0), 12, &h), -EPROTO);
	assert_int_equal(vhost_user_hdr_parse(hdr(VHOST_USER_SET_OWNER, 2, 0), 12, &h), -EPROTO);
	assert_int_equal(vhost_user_hdr_parse(
				 hdr(VHOST_USER_SET_OWNER, 1 | VHOST_USER_FLAG_REPLY, 0), 12, &h),
			 -EPROTO);
	assert_int_equal(vhost_user_hdr_parse(hdr(VHOST_USER_SET_OWNER, 1 | 0x10, 0), 12, &h),
			 -EPROTO);
	assert_int_equal(vhost_user_hdr_parse(hdr(VHOST_USER_SET_OWNER, 1, 0), 11, &h), -EMSGSIZE);
	/* requests we do not implement: GET_QUEUE_NUM, SET_LOG_BASE, 0, huge */
	assert_int_equal(vhost_user_hdr_parse(hdr(17, 1, 0), 12, &h), -EOPNOTSUPP);
	assert_int_equal(vhost_user_hdr_parse(hdr(6, 1, 8), 12, &h), -EOPNOTSUPP);
	assert_int_equal(vhost_user_hdr_parse(hdr(0, 1, 0), 12, &h), -EOPNOTSUPP);
	assert_int_equal(vhost_user_hdr_parse(hdr(UINT32_MAX, 1, 0), 12, &h), -EOPNOTSUPP);
	/* sizes the request's payload cannot have, before any payload is read */
	assert_int_equal(vhost_user_hdr_parse(hdr(VHOST_USER_GET_FEATURES, 1, 8), 12, &h),
			 -EMSGSIZE);
	assert_int_equal(vhost_user_hdr_parse(hdr(VHOST_USER_SET_FEATURES, 1, 4), 12, &h),
			 -EMSGSIZE);
	assert_int_equal(vhost_user_hdr_parse(hdr(VHOST_USER_SET_VRING_ADDR, 1, 39), 12, &h),
			 -EMSGSIZE);
	assert_int_equal(vhost_user_hdr_parse(hdr(VHOST_USER_SET_MEM_TABLE, 1, 8), 12, &h),
			 -EMSGSIZE);
	assert_int_equal(vhost_user_hdr_parse(hdr(VHOST_USER_SET_MEM_TABLE, 1, 8 + 32 * 9), 12, &h),
			 -EMSGSIZE);
	assert_int_equal(vhost_user_hdr_parse(hdr(VHOST_USER_SET_MEM_TABLE, 1, 8 + 33), 12, &h),
			 -EMSGSIZE);
	assert_int_equal(vhost_user_hdr_parse(hdr(VHOST_USER_GET_CONFIG, 1, 11), 12, &h),
			 -EMSGSIZE);
	assert_int_equal(vhost_user_hdr_parse(hdr(VHOST_USER_GET_CONFIG, 1, 12 + 257), 12, &h),
			 -EMSGSIZE);
	assert_int_equal(vhost_user_hdr_parse(hdr(VHOST_USER_SET_OWNER, 1, UINT32_MAX), 12, &h),
			 -EMSGSIZE);
}

static void test_simple_payloads(void **state)
{
	struct vhost_user_msg m;
	uint64_t features = 1ull << VIRTIO_F_VERSION_1 | 1ull << VHOST_USER_F_PROTOCOL_FEATURES;
	uint32_t st[2] = { 1, 256 };
	uint8_t addr[40] = { 0 };
	uint64_t a[4] = { 0x7f0000001000, 0x7f0000003000, 0x7f0000002000, 0 };

	(void)state;
	assert_int_equal(parse(VHOST_USER_SET_FEATURES, &features, 8, 0, &m), 0);
	assert_true(m.u64 == features);
	assert_int_equal(parse(VHOST_USER_SET_PROTOCOL_FEATURES, &features, 8, 0, &m), 0);
	assert_int_equal(parse(VHOST_USER_GET_PROTOCOL_FEATURES, NULL, 0, 0, &m), 0);
	assert_int_equal(parse(VHOST_USER_SET_OWNER, NULL, 0, 0, &m), 0);
	assert_int_equal(parse(VHOST_USER_RESET_OWNER, NULL, 0, 0, &m), 0);
	for (uint32_t r = VHOST_USER_SET_VRING_NUM; r <= VHOST_USER_SET_VRING_ENABLE; r++) {
		if (r != VHOST_USER_SET_VRING_NUM && r != VHOST_USER_SET_VRING_BASE &&
		    r != VHOST_USER_GET_VRING_BASE && r != VHOST_USER_SET_VRING_ENABLE)
			continue;
		assert_int_equal(parse(r, st, 8, 0, &m), 0);
		assert_int_equal(m.state.index, 1);
		assert_int_equal(m.state.num, 256);
	}
	memcpy(addr, st, 4); /* index 1, flags 0 */
	memcpy(addr + 8, a, 32); /* desc, used, avail, log: in that order */
	assert_int_equal(parse(VHOST_USER_SET_VRING_ADDR, addr, 40, 0, &m), 0);
	assert_int_equal(m.addr.index, 1);
	assert_true(m.addr.desc == a[0] && m.addr.used == a[1] && m.addr.avail == a[2]);
	/* an fd with a request that carries none */
	assert_int_equal(parse(VHOST_USER_SET_FEATURES, &features, 8, 1, &m), -EBADF);
	assert_int_equal(parse(VHOST_USER_SET_OWNER, NULL, 0, 1, &m), -EBADF);
	/* the payload shorter than the header said */
	struct vhost_user_hdr h;
	assert_int_equal(vhost_user_hdr_parse(hdr(VHOST_USER_SET_FEATURES, 1, 8), 12, &h), 0);
	assert_int_equal(vhost_user_msg_parse(&h, (const uint8_t *)&features, 4, 0, &m), -EMSGSIZE);
}

static void test_vring_fds(void **state)
{
	struct vhost_user_msg m;
	uint64_t v;

	(void)state;
	for (uint32_t r = VHOST_USER_SET_VRING_KICK; r <= VHOST_USER_SET_VRING_ERR; r++) {
		v = 1;
		assert_int_equal(parse(r, &v, 8, 1, &m), 0);
		assert_int_equal(m.vring_fd.index, 1);
		assert_false(m.vring_fd.nofd);
		assert_int_equal(parse(r, &v, 8, 0, &m), -EBADF);
		assert_int_equal(parse(r, &v, 8, 2, &m), -EBADF);
		v = 1 | VHOST_USER_VRING_NOFD;
		assert_int_equal(parse(r, &v, 8, 0, &m), 0);
		assert_true(m.vring_fd.nofd);
		assert_int_equal(parse(r, &v, 8, 1, &m), -EBADF);
		v = 1ull << 9;
		assert_int_equal(parse(r, &v, 8, 1, &m), -EINVAL);
		v = 1ull << 63;
		assert_int_equal(parse(r, &v, 8, 1, &m), -EINVAL);
	}
}

static void test_mem_table(void **state)
{
	uint8_t p[8 + 32 * VHOST_USER_REGIONS_MAX] = { 0 };
	uint64_t region[4] = { 0, 0x40000000, 0x7f1234000000, 0x1000 };
	struct vhost_user_msg m;
	uint32_t n;

	(void)state;
	for (unsigned i = 0; i < VHOST_USER_REGIONS_MAX; i++) {
		region[0] = 0x100000000ull * i;
		memcpy(p + 8 + 32 * i, region, 32);
	}
	n = 2;
	memcpy(p, &n, 4);
	assert_int_equal(parse(VHOST_USER_SET_MEM_TABLE, p, 8 + 64, 2, &m), 0);
	assert_int_equal(m.mem.n, 2);
	assert_true(m.mem.r[1].guest_addr == 0x100000000ull && m.mem.r[1].size == 0x40000000 &&
		    m.mem.r[1].user_addr == 0x7f1234000000 && m.mem.r[1].mmap_offset == 0x1000);
	/* fds counted against the regions */
	assert_int_equal(parse(VHOST_USER_SET_MEM_TABLE, p, 8 + 64, 1, &m), -EBADF);
	assert_int_equal(parse(VHOST_USER_SET_MEM_TABLE, p, 8 + 64, 3, &m), -EBADF);
	/* the count and the size disagree */
	assert_int_equal(parse(VHOST_USER_SET_MEM_TABLE, p, 8 + 96, 2, &m), -EMSGSIZE);
	n = 0;
	memcpy(p, &n, 4);
	assert_int_equal(parse(VHOST_USER_SET_MEM_TABLE, p, 8 + 32, 0, &m), -EINVAL);
	n = 9;
	memcpy(p, &n, 4);
	assert_int_equal(parse(VHOST_USER_SET_MEM_TABLE, p, 8 + 32 * 8, 9, &m), -EINVAL);
	n = UINT32_MAX;
	memcpy(p, &n, 4);
	assert_int_equal(parse(VHOST_USER_SET_MEM_TABLE, p, 8 + 32 * 8, 8, &m), -EINVAL);
	n = 8;
	memcpy(p, &n, 4);
	assert_int_equal(parse(VHOST_USER_SET_MEM_TABLE, p, 8 + 32 * 8, 8, &m), 0);
	/* a region of size 0 */
	memset(p + 8 + 32 * 7 + 8, 0, 8);
	assert_int_equal(parse(VHOST_USER_SET_MEM_TABLE, p, 8 + 32 * 8, 8, &m), -EINVAL);
}

/* QEMU 7.2 asks for the vsock config space (8 bytes: guest_cid). */
static void test_config(void **state)
{
	uint8_t p[12 + VHOST_USER_CONFIG_MAX] = { 0 };
	uint32_t f[3] = { 0, 8, 0 };
	struct vhost_user_msg m;

	(void)state;
	memcpy(p, f, 12);
	p[12] = 3;
	assert_int_equal(parse(VHOST_USER_GET_CONFIG, p, 20, 0, &m), 0);
	assert_int_equal(m.config.offset, 0);
	assert_int_equal(m.config.size, 8);
	assert_int_equal(m.config.data[0], 3);
	assert_int_equal(parse(VHOST_USER_SET_CONFIG, p, 20, 0, &m), 0);
	assert_int_equal(parse(VHOST_USER_GET_CONFIG, p, 20, 1, &m), -EBADF);
	/* the config's size disagrees with the message's */
	assert_int_equal(parse(VHOST_USER_GET_CONFIG, p, 21, 0, &m), -EMSGSIZE);
	assert_int_equal(parse(VHOST_USER_GET_CONFIG, p, 12, 0, &m), -EMSGSIZE);
	/* beyond the config space, or wrapping */
	f[0] = 250;
	memcpy(p, f, 12);
	assert_int_equal(parse(VHOST_USER_GET_CONFIG, p, 20, 0, &m), -EINVAL);
	f[0] = UINT32_MAX - 2;
	f[1] = 8;
	memcpy(p, f, 12);
	assert_int_equal(parse(VHOST_USER_GET_CONFIG, p, 20, 0, &m), -EINVAL);
	f[0] = 0;
	f[1] = VHOST_USER_CONFIG_MAX;
	memcpy(p, f, 12);
	assert_int_equal(parse(VHOST_USER_GET_CONFIG, p, sizeof(p), 0, &m), 0);
	f[1] = UINT32_MAX;
	memcpy(p, f, 12);
	assert_int_equal(parse(VHOST_USER_GET_CONFIG, p, sizeof(p), 0, &m), -EINVAL);
}

static void test_replies(void **state)
{
	uint8_t buf[12 + VHOST_USER_PAYLOAD_MAX];
	uint32_t h[3], st[2];
	uint64_t v;

	(void)state;
	assert_int_equal(
		vhost_user_reply_u64(VHOST_USER_GET_FEATURES, 0x140000000ull, buf, sizeof(buf)),
		20);
	memcpy(h, buf, 12);
	memcpy(&v, buf + 12, 8);
	assert_int_equal(h[0], VHOST_USER_GET_FEATURES);
	assert_int_equal(h[1], VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY);
	assert_int_equal(h[2], 8);
	assert_true(v == 0x140000000ull);
	assert_int_equal(vhost_user_reply_state(VHOST_USER_GET_VRING_BASE, 1, 77, buf, sizeof(buf)),
			 20);
	memcpy(st, buf + 12, 8);
	assert_int_equal(st[0], 1);
	assert_int_equal(st[1], 77);
	assert_int_equal(vhost_user_reply_u64(VHOST_USER_GET_FEATURES, 0, buf, 19), -ENOSPC);
	assert_int_equal(vhost_user_reply(VHOST_USER_GET_CONFIG, buf, VHOST_USER_PAYLOAD_MAX + 1,
					  buf, sizeof(buf)),
			 -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),	  cmocka_unit_test(test_simple_payloads),
		cmocka_unit_test(test_vring_fds), cmocka_unit_test(test_mem_table),
		cmocka_unit_test(test_config),	  cmocka_unit_test(test_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
