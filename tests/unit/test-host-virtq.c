/* host/virtq.c: a split virtqueue in a plain buffer standing for guest
 * memory, driven the way a hostile guest could: indices out of range,
 * loops, lengths that overflow, buffers outside memory, an available index
 * far ahead, and headers split across descriptors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "virtq.h"

#define GPA 0x100000ull
#define QSZ 8
#define DESC (GPA + 0x0)
#define AVAIL (GPA + 0x100)
#define USED (GPA + 0x200)
#define DATA (GPA + 0x1000)

static uint8_t ram[0x10000] __attribute__((aligned(16)));
static struct vmem_table mem;
static struct virtq q;

static void put16(uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	memcpy(ram + (gpa - GPA), &v, 2);
}

static uint32_t get32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, ram + (gpa - GPA), 4);
	return le32toh(v);
}

static uint16_t get16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, ram + (gpa - GPA), 2);
	return le16toh(v);
}

static void set_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = ram + (DESC - GPA) + 16 * i;
	uint64_t a = htole64(addr);
	uint32_t l = htole32(len);

	memcpy(d, &a, 8);
	memcpy(d + 8, &l, 4);
	put16(DESC + 16 * i + 12, flags);
	put16(DESC + 16 * i + 14, next);
}

static void offer(uint16_t head)
{
	uint16_t idx = get16(AVAIL + 2);

	put16(AVAIL + 4 + 2 * (idx % QSZ), head);
	put16(AVAIL + 2, idx + 1);
}

static int setup(void **state)
{
	(void)state;
	memset(ram, 0, sizeof(ram));
	mem = (struct vmem_table){ 0 };
	assert_int_equal(vmem_table_add(&mem, &(struct vmem_region){ .guest_addr = GPA,
								     .size = sizeof(ram),
								     .user_addr = 0x5000000,
								     .host = ram }),
			 0);
	assert_int_equal(virtq_setup(&q, &mem, VMEM_GUEST, QSZ, DESC, AVAIL, USED, 0), 0);
	return 0;
}

static void test_setup_refuses(void **state)
{
	struct virtq z = { 0 };

	(void)state;
	assert_int_equal(virtq_setup(&z, &mem, VMEM_GUEST, 0, DESC, AVAIL, USED, 0), -EINVAL);
	assert_int_equal(virtq_setup(&z, &mem, VMEM_GUEST, 6, DESC, AVAIL, USED, 0), -EINVAL);
	assert_int_equal(virtq_setup(&z, &mem, VMEM_GUEST, 65535, DESC, AVAIL, USED, 0), -EINVAL);
	assert_int_equal(virtq_setup(&z, &mem, VMEM_GUEST, QSZ, DESC + 8, AVAIL, USED, 0), -EINVAL);
	assert_int_equal(virtq_setup(&z, &mem, VMEM_GUEST, QSZ, DESC, AVAIL + 1, USED, 0), -EINVAL);
	assert_int_equal(virtq_setup(&z, &mem, VMEM_GUEST, QSZ, DESC, AVAIL, USED + 2, 0), -EINVAL);
	/* the used ring runs past the end of guest memory */
	assert_int_equal(
		virtq_setup(&z, &mem, VMEM_GUEST, QSZ, DESC, AVAIL, GPA + sizeof(ram) - 16, 0),
		-EFAULT);
	/* a descriptor table of 32768 entries does not fit 64 KiB */
	assert_int_equal(virtq_setup(&z, &mem, VMEM_GUEST, 32768, DESC, AVAIL, USED, 0), -EFAULT);
	/* ring addresses as the front-end's user addresses */
	assert_int_equal(virtq_setup(&z, &mem, VMEM_USER, QSZ, 0x5000000, 0x5000100, 0x5000200, 3),
			 0);
	assert_int_equal(z.last_avail, 3);
	assert_ptr_equal(z.desc, ram);
	/* nothing set up: nothing to take, nothing to give back */
	struct virtq none = { 0 };
	struct virtq_chain c;
	assert_int_equal(virtq_pop(&none, &mem, &c), 0);
	assert_int_equal(virtq_push(&none, 0, 0), -EINVAL);
}

/* A 44-byte header split 10 + 34 over two readable descriptors, then a
 * writable one: read across the boundary, lengths summed by kind. */
static void test_chain_read_write(void **state)
{
	struct virtq_chain c;
	uint8_t hdr[44], got[44], out[100];

	(void)state;
	for (int i = 0; i < 44; i++)
		hdr[i] = (uint8_t)(i + 1);
	memcpy(ram + (DATA - GPA), hdr, 10);
	memcpy(ram + (DATA + 0x100 - GPA), hdr + 10, 34);
	set_desc(3, DATA, 10, VIRTQ_DESC_F_NEXT, 5);
	set_desc(5, DATA + 0x100, 34, VIRTQ_DESC_F_NEXT, 0);
	set_desc(0, DATA + 0x200, 100, VIRTQ_DESC_F_WRITE, 0);
	offer(3);

	assert_int_equal(virtq_pop(&q, &mem, &c), 1);
	assert_int_equal(c.head, 3);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.readable, 44);
	assert_int_equal(c.writable, 100);
	assert_int_equal(virtq_chain_read(&c, 0, got, 44), 0);
	assert_memory_equal(got, hdr, 44);
	assert_int_equal(virtq_chain_read(&c, 8, got, 4), 0);
	assert_memory_equal(got, hdr + 8, 4);
	assert_int_equal(virtq_chain_read(&c, 1, got, 44), -EMSGSIZE);
	assert_int_equal(virtq_chain_read(&c, SIZE_MAX, got, 2), -EMSGSIZE);

	memset(out, 0xab, sizeof(out));
	assert_int_equal(virtq_chain_write(&c, 0, out, 100), 0);
	assert_int_equal(ram[DATA + 0x200 - GPA + 99], 0xab);
	/* too long: nothing written */
	assert_int_equal(virtq_chain_write(&c, 1, hdr, 100), -EMSGSIZE);
	assert_int_equal(ram[DATA + 0x200 - GPA + 1], 0xab);
	/* the device must not write into the readable part */
	assert_int_equal(ram[DATA - GPA], 1);

	assert_int_equal(virtq_pop(&q, &mem, &c), 0);
	assert_int_equal(virtq_push(&q, 3, 100), 0);
	assert_int_equal(get16(USED + 2), 1);
	assert_int_equal(get32(USED + 4), 3);
	assert_int_equal(get32(USED + 8), 100);
	assert_int_equal(virtq_push(&q, QSZ, 0), -EINVAL);
	assert_true(virtq_need_call(&q));
	put16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	assert_false(virtq_need_call(&q));
}

static void expect_bad(int err)
{
	struct virtq_chain c;
	uint16_t before = q.last_avail;

	assert_int_equal(virtq_pop(&q, &mem, &c), err);
	/* taken anyway, so that it can be given back */
	assert_int_equal(q.last_avail, (uint16_t)(before + 1));
	assert_int_equal(virtq_push(&q, c.head, 0), 0);
}

static void test_hostile_chains(void **state)
{
	struct virtq_chain c;

	(void)state;
	/* a head out of range */
	offer(QSZ);
	assert_int_equal(virtq_pop(&q, &mem, &c), -EINVAL);
	/* a next out of range */
	set_desc(0, DATA, 8, VIRTQ_DESC_F_NEXT, 9);
	offer(0);
	expect_bad(-EINVAL);
	/* a loop of two, a descriptor pointing at itself */
	set_desc(1, DATA, 8, VIRTQ_DESC_F_NEXT, 2);
	set_desc(2, DATA, 8, VIRTQ_DESC_F_NEXT, 1);
	offer(1);
	expect_bad(-ELOOP);
	set_desc(4, DATA, 0, VIRTQ_DESC_F_NEXT, 4);
	offer(4);
	expect_bad(-ELOOP);
	/* writable lengths whose sum overflows 32 bits */
	set_desc(1, DATA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	set_desc(2, DATA, UINT32_MAX - 4, VIRTQ_DESC_F_WRITE, 0);
	offer(1);
	expect_bad(-EOVERFLOW);
	/* a buffer outside guest memory, one straddling its end, one wrapping */
	set_desc(1, 0x1000, 8, 0, 0);
	offer(1);
	expect_bad(-EFAULT);
	set_desc(1, GPA + sizeof(ram) - 4, 8, 0, 0);
	offer(1);
	expect_bad(-EFAULT);
	set_desc(1, UINT64_MAX - 2, 8, 0, 0);
	offer(1);
	expect_bad(-EFAULT);
	/* indirect descriptors were not negotiated */
	set_desc(1, DATA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(1);
	expect_bad(-EINVAL);
	/* readable after writable (2.7.4.2) */
	set_desc(1, DATA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	set_desc(2, DATA, 8, 0, 0);
	offer(1);
	expect_bad(-EINVAL);
	/* the queue still works after all that */
	set_desc(1, DATA, 8, 0, 0);
	offer(1);
	assert_int_equal(virtq_pop(&q, &mem, &c), 1);
	assert_int_equal(c.readable, 8);
}

/* The available index more than a queue's worth ahead: the driver is
 * broken, and nothing is taken; the index wrapping at 2^16 is fine. */
static void test_avail_index(void **state)
{
	struct virtq_chain c;
	struct virtq w;

	(void)state;
	put16(AVAIL + 2, QSZ + 1);
	assert_int_equal(virtq_pop(&q, &mem, &c), -EPROTO);
	assert_int_equal(q.last_avail, 0);

	set_desc(2, DATA, 4, 0, 0);
	assert_int_equal(virtq_setup(&w, &mem, VMEM_GUEST, QSZ, DESC, AVAIL, USED, 65535), 0);
	put16(AVAIL + 4 + 2 * (65535 % QSZ), 2);
	put16(AVAIL + 2, 0); /* 65535 + 1 */
	assert_int_equal(virtq_pop(&w, &mem, &c), 1);
	assert_int_equal(c.head, 2);
	assert_int_equal(w.last_avail, 0);
	assert_int_equal(virtq_pop(&w, &mem, &c), 0);
}

/* A long chain within the queue size but beyond VIRTQ_CHAIN_MAX, in a
 * queue big enough to hold it. */
static void test_chain_too_long(void **state)
{
	static uint8_t big[0x4000] __attribute__((aligned(16)));
	struct vmem_table m = { 0 };
	struct virtq bq;
	struct virtq_chain c;
	const uint16_t n = 128;

	(void)state;
	assert_int_equal(vmem_table_add(&m, &(struct vmem_region){ .guest_addr = 0,
								   .size = sizeof(big),
								   .host = big }),
			 0);
	/* desc at 0 (2048 bytes), avail at 0x800, used at 0x1000, data at 0x2000 */
	assert_int_equal(virtq_setup(&bq, &m, VMEM_GUEST, n, 0, 0x800, 0x1000, 0), 0);
	for (uint16_t i = 0; i < n; i++) {
		uint64_t a = htole64(0x2000);
		uint32_t l = htole32(1);
		uint16_t f = htole16(i + 1 < n ? VIRTQ_DESC_F_NEXT : 0), nx = htole16(i + 1);

		memcpy(big + 16 * i, &a, 8);
		memcpy(big + 16 * i + 8, &l, 4);
		memcpy(big + 16 * i + 12, &f, 2);
		memcpy(big + 16 * i + 14, &nx, 2);
	}
	big[0x800 + 2] = 1; /* avail idx 1, ring[0] = head 0 */
	assert_int_equal(virtq_pop(&bq, &m, &c), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_setup_refuses, setup),
		cmocka_unit_test_setup(test_chain_read_write, setup),
		cmocka_unit_test_setup(test_hostile_chains, setup),
		cmocka_unit_test_setup(test_avail_index, setup),
		cmocka_unit_test(test_chain_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
