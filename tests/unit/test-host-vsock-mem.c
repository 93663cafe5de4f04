/* host/vsock-mem.c: the region table and range translation, against
 * ranges that straddle, wrap around 2^64 or fall between regions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "vsock-mem.h"

static uint8_t ram0[4096], ram1[8192];

static void two_regions(struct vmem_table *t)
{
	*t = (struct vmem_table){ 0 };
	assert_int_equal(vmem_table_add(t, &(struct vmem_region){ .guest_addr = 0x1000,
								  .size = sizeof(ram0),
								  .user_addr = 0x7f0000000000,
								  .host = ram0 }),
			 0);
	/* adjacent in guest space: a range across both is still refused */
	assert_int_equal(vmem_table_add(t, &(struct vmem_region){ .guest_addr = 0x2000,
								  .size = sizeof(ram1),
								  .user_addr = 0x7f0000100000,
								  .host = ram1 }),
			 0);
}

static void test_translate_inside(void **state)
{
	struct vmem_table t;
	void *p = NULL;

	(void)state;
	two_regions(&t);
	assert_int_equal(vmem_translate(&t, VMEM_GUEST, 0x1000, 4096, &p), 0);
	assert_ptr_equal(p, ram0);
	assert_int_equal(vmem_translate(&t, VMEM_GUEST, 0x1ffc, 4, &p), 0);
	assert_ptr_equal(p, ram0 + 0xffc);
	assert_int_equal(vmem_translate(&t, VMEM_GUEST, 0x2000 + 8191, 1, &p), 0);
	assert_ptr_equal(p, ram1 + 8191);
	assert_int_equal(vmem_translate(&t, VMEM_GUEST, 0x3000, 0, &p), 0);
	assert_ptr_equal(p, ram1 + 0x1000);
	assert_int_equal(vmem_translate(&t, VMEM_USER, 0x7f0000100010, 16, &p), 0);
	assert_ptr_equal(p, ram1 + 16);
}

static void test_translate_refuses(void **state)
{
	struct vmem_table t;
	void *p = ram0 + 1;

	(void)state;
	two_regions(&t);
	/* across the boundary of two adjacent regions */
	assert_int_equal(vmem_translate(&t, VMEM_GUEST, 0x1ffc, 8, &p), -EFAULT);
	/* one byte past the end, before the start, far away */
	assert_int_equal(vmem_translate(&t, VMEM_GUEST, 0x2000 + 8192, 1, &p), -EFAULT);
	assert_int_equal(vmem_translate(&t, VMEM_GUEST, 0x2000 + 8192, 0, &p), -EFAULT);
	assert_int_equal(vmem_translate(&t, VMEM_GUEST, 0xfff, 2, &p), -EFAULT);
	assert_int_equal(vmem_translate(&t, VMEM_GUEST, 0, 1, &p), -EFAULT);
	/* lengths that wrap the address space */
	assert_int_equal(vmem_translate(&t, VMEM_GUEST, 0x1000, UINT64_MAX, &p), -EFAULT);
	assert_int_equal(vmem_translate(&t, VMEM_GUEST, 0x1001, UINT64_MAX - 0x1000 + 1, &p),
			 -EFAULT);
	assert_int_equal(vmem_translate(&t, VMEM_GUEST, UINT64_MAX, UINT64_MAX, &p), -EFAULT);
	/* a guest address is not a user address */
	assert_int_equal(vmem_translate(&t, VMEM_USER, 0x1000, 1, &p), -EFAULT);
	/* an empty table */
	t.n = 0;
	assert_int_equal(vmem_translate(&t, VMEM_GUEST, 0x1000, 1, &p), -EFAULT);
	/* untouched on failure */
	assert_ptr_equal(p, ram0 + 1);
}

static void test_add_refuses(void **state)
{
	struct vmem_table t;

	(void)state;
	two_regions(&t);
	/* size 0, no mapping, wrapping in guest or user space */
	assert_int_equal(
		vmem_table_add(&t, &(struct vmem_region){ .guest_addr = 0x100000, .host = ram0 }),
		-EINVAL);
	assert_int_equal(
		vmem_table_add(&t, &(struct vmem_region){ .guest_addr = 0x100000, .size = 1 }),
		-EINVAL);
	assert_int_equal(vmem_table_add(&t, &(struct vmem_region){ .guest_addr = UINT64_MAX - 10,
								   .size = 100,
								   .host = ram0 }),
			 -EINVAL);
	assert_int_equal(vmem_table_add(&t, &(struct vmem_region){ .guest_addr = 0x100000,
								   .size = 100,
								   .user_addr = UINT64_MAX,
								   .host = ram0 }),
			 -EINVAL);
	/* overlapping an existing region in guest space, or in user space */
	assert_int_equal(vmem_table_add(&t, &(struct vmem_region){ .guest_addr = 0x2fff,
								   .size = 2,
								   .user_addr = 0x1,
								   .host = ram0 }),
			 -EINVAL);
	assert_int_equal(vmem_table_add(&t, &(struct vmem_region){ .guest_addr = 0x100000,
								   .size = 0x10,
								   .user_addr = 0x7f00000000ff,
								   .host = ram0 }),
			 -EINVAL);
	assert_int_equal(t.n, 2);
	/* full at VMEM_REGIONS_MAX */
	for (unsigned i = 2; i < VMEM_REGIONS_MAX; i++)
		assert_int_equal(
			vmem_table_add(&t, &(struct vmem_region){ .guest_addr = 0x100000 * i,
								  .size = 16,
								  .user_addr = 0x100000 * i,
								  .host = ram0 }),
			0);
	assert_int_equal(vmem_table_add(&t, &(struct vmem_region){ .guest_addr = 0x10000000,
								   .size = 16,
								   .user_addr = 0x10000000,
								   .host = ram0 }),
			 -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_translate_inside),
		cmocka_unit_test(test_translate_refuses),
		cmocka_unit_test(test_add_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
