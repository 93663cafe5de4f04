/* host/vsock-device.c: QEMU's start-up sequence against guest RAM in a
 * memfd, as QEMU 7.2 sends it to a vhost-user-vsock backend; then what a
 * front-end may not do: features not offered, a region larger than its
 * file, ring 2, SET_CONFIG; and every fd it sends is closed or kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vsock-device.h"

#define RAM_SIZE 0x10000
#define UADDR 0x7f0000000000ull

static struct vsock_device dev;
static uint8_t reply[VHOST_USER_HDR_SIZE + VHOST_USER_PAYLOAD_MAX];
static int memfd = -1;
static uint8_t *ram;

static int setup(void **state)
{
	(void)state;
	vsock_device_init(&dev, 3);
	memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	assert_true(memfd >= 0);
	assert_int_equal(ftruncate(memfd, RAM_SIZE), 0);
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	assert_true(ram != MAP_FAILED);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vsock_device_free(&dev);
	munmap(ram, RAM_SIZE);
	close(memfd);
	return 0;
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static struct vhost_user_msg msg(uint32_t request, uint32_t flags)
{
	return (struct vhost_user_msg){ .hdr = { .request = request,
						 .flags = VHOST_USER_VERSION | flags } };
}

static int handle(const struct vhost_user_msg *m, const int *fds)
{
	return vsock_device_handle(&dev, m, fds, reply, sizeof(reply));
}

static uint64_t reply_u64(void)
{
	uint64_t v;

	memcpy(&v, reply + VHOST_USER_HDR_SIZE, 8);
	return v;
}

static int set_mem(uint64_t size)
{
	struct vhost_user_msg m = msg(VHOST_USER_SET_MEM_TABLE, VHOST_USER_FLAG_NEED_REPLY);
	int fd = dup(memfd);

	m.n_fds = 1;
	m.mem.n = 1;
	m.mem.r[0] =
		(struct vhost_user_region){ .guest_addr = 0, .size = size, .user_addr = UADDR };
	return handle(&m, &fd);
}

static void test_negotiation(void **state)
{
	struct vhost_user_msg m;
	uint32_t h[3];

	(void)state;
	m = msg(VHOST_USER_GET_FEATURES, 0);
	assert_int_equal(handle(&m, NULL), 20);
	memcpy(h, reply, 12);
	assert_int_equal(h[1], VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY);
	assert_true(reply_u64() == VSOCK_DEVICE_FEATURES);
	/* indirect descriptors were not offered */
	m = msg(VHOST_USER_SET_FEATURES, 0);
	m.u64 = VSOCK_DEVICE_FEATURES | 1ull << 28;
	assert_int_equal(handle(&m, NULL), -EINVAL);
	m.u64 = VSOCK_DEVICE_FEATURES;
	assert_int_equal(handle(&m, NULL), 0);
	m = msg(VHOST_USER_GET_PROTOCOL_FEATURES, 0);
	assert_int_equal(handle(&m, NULL), 20);
	assert_true(reply_u64() == VSOCK_DEVICE_PROTOCOL_FEATURES);
	m = msg(VHOST_USER_SET_PROTOCOL_FEATURES, 0);
	m.u64 = 1ull << VHOST_USER_PROTOCOL_F_MQ;
	assert_int_equal(handle(&m, NULL), -EINVAL);
	m.u64 = VSOCK_DEVICE_PROTOCOL_FEATURES;
	assert_int_equal(handle(&m, NULL), 0);

	/* REPLY_ACK: a request without a reply of its own gets a status */
	m = msg(VHOST_USER_SET_OWNER, VHOST_USER_FLAG_NEED_REPLY);
	assert_int_equal(handle(&m, NULL), 20);
	assert_true(reply_u64() == 0);
	m = msg(VHOST_USER_SET_CONFIG, VHOST_USER_FLAG_NEED_REPLY);
	m.config.size = 8;
	assert_int_equal(handle(&m, NULL), 20);
	assert_true(reply_u64() != 0);
	m.hdr.flags = VHOST_USER_VERSION;
	assert_int_equal(handle(&m, NULL), -EPERM);
}

/* QEMU 7.2 reads the guest CID from the config space, and only there. */
static void test_config(void **state)
{
	struct vhost_user_msg m = msg(VHOST_USER_GET_CONFIG, 0);
	uint32_t h[3], f[3];
	uint64_t cid;

	(void)state;
	m.config.size = 8;
	assert_int_equal(handle(&m, NULL), 12 + 12 + 8);
	memcpy(h, reply, 12);
	memcpy(f, reply + 12, 12);
	memcpy(&cid, reply + 24, 8);
	assert_int_equal(h[2], 20);
	assert_int_equal(f[1], 8);
	assert_true(le64toh(cid) == 3);
	/* a range past the 8 bytes: an empty payload says no */
	m.config.offset = 4;
	assert_int_equal(handle(&m, NULL), 12);
	m.config.offset = 0;
	m.config.size = 16;
	assert_int_equal(handle(&m, NULL), 12);
}

static void test_rings(void **state)
{
	struct vhost_user_msg m;
	struct virtq_chain c;
	struct virtq *q;
	int kick = eventfd(0, EFD_CLOEXEC), call = eventfd(0, EFD_CLOEXEC), bad = dup(kick);
	uint64_t a = htole64(0x3000);
	uint32_t l = htole32(44), h[2];

	(void)state;
	m = msg(VHOST_USER_SET_FEATURES, 0);
	m.u64 = VSOCK_DEVICE_FEATURES;
	assert_int_equal(handle(&m, NULL), 0);
	m = msg(VHOST_USER_SET_PROTOCOL_FEATURES, 0);
	m.u64 = VSOCK_DEVICE_PROTOCOL_FEATURES;
	assert_int_equal(handle(&m, NULL), 0);
	/* a region larger than the file: refused, as a status */
	assert_int_equal(set_mem(RAM_SIZE * 2), 20);
	assert_true(reply_u64() != 0);
	assert_int_equal(dev.mem.n, 0);
	assert_int_equal(set_mem(RAM_SIZE), 20);
	assert_true(reply_u64() == 0);
	assert_int_equal(dev.mem.n, 1);

	m = msg(VHOST_USER_SET_VRING_NUM, 0);
	m.state.index = VSOCK_DEVICE_TX;
	m.state.num = 100;
	assert_int_equal(handle(&m, NULL), -EINVAL);
	m.state.num = 8;
	assert_int_equal(handle(&m, NULL), 0);
	m = msg(VHOST_USER_SET_VRING_ADDR, 0);
	m.addr.index = VSOCK_DEVICE_TX;
	m.addr.desc = UADDR + 0x1000;
	m.addr.avail = UADDR + 0x1100;
	m.addr.used = UADDR + 0x1200;
	assert_int_equal(handle(&m, NULL), 0);
	m = msg(VHOST_USER_SET_VRING_BASE, 0);
	m.state.index = VSOCK_DEVICE_TX;
	assert_int_equal(handle(&m, NULL), 0);
	m = msg(VHOST_USER_SET_VRING_CALL, 0);
	m.vring_fd.index = VSOCK_DEVICE_TX;
	m.n_fds = 1;
	assert_int_equal(handle(&m, &call), 0);
	m = msg(VHOST_USER_SET_VRING_KICK, 0);
	m.vring_fd.index = VSOCK_DEVICE_TX;
	m.n_fds = 1;
	assert_int_equal(handle(&m, &kick), 0);
	/* ring 2 does not exist here (QEMU keeps the event queue): its fd closed */
	m.vring_fd.index = 2;
	assert_int_equal(handle(&m, &bad), -EINVAL);
	assert_false(fd_open(bad));
	/* not enabled yet: protocol features were negotiated */
	assert_null(vsock_device_ring(&dev, VSOCK_DEVICE_TX));
	m = msg(VHOST_USER_SET_VRING_ENABLE, 0);
	m.state.index = VSOCK_DEVICE_TX;
	m.state.num = 1;
	assert_int_equal(handle(&m, NULL), 0);
	q = vsock_device_ring(&dev, VSOCK_DEVICE_TX);
	assert_non_null(q);
	assert_null(vsock_device_ring(&dev, VSOCK_DEVICE_RX));

	/* the guest's descriptor, written through another mapping of its RAM */
	memcpy(ram + 0x1000, &a, 8);
	memcpy(ram + 0x1008, &l, 4);
	ram[0x1100 + 2] = 1; /* avail idx 1, ring[0] = 0 */
	memcpy(ram + 0x3000, "guest bytes", 11);
	assert_int_equal(virtq_pop(q, &dev.mem, &c), 1);
	assert_int_equal(c.readable, 44);
	assert_memory_equal(c.seg[0].p, "guest bytes", 11);
	assert_int_equal(virtq_push(q, c.head, 0), 0);
	assert_int_equal(ram[0x1200 + 2], 1); /* the used index, seen by the guest */

	/* a new memory table: the ring is set up again in the new mapping,
	 * where it was */
	assert_int_equal(set_mem(RAM_SIZE), 20);
	q = vsock_device_ring(&dev, VSOCK_DEVICE_TX);
	assert_non_null(q);
	assert_int_equal(q->last_avail, 1);
	assert_int_equal(q->used_idx, 1);

	/* GET_VRING_BASE stops the ring and says where it stopped */
	m = msg(VHOST_USER_GET_VRING_BASE, 0);
	m.state.index = VSOCK_DEVICE_TX;
	assert_int_equal(handle(&m, NULL), 20);
	memcpy(h, reply + VHOST_USER_HDR_SIZE, 8);
	assert_int_equal(h[0], VSOCK_DEVICE_TX);
	assert_int_equal(h[1], 1);
	assert_null(vsock_device_ring(&dev, VSOCK_DEVICE_TX));
	assert_false(fd_open(kick));
	assert_true(fd_open(call));
	vsock_device_free(&dev);
	assert_false(fd_open(call));
	vsock_device_init(&dev, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_negotiation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rings, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
