/* agent/kmsg.c: /dev/kmsg's record parser, the bounded ring, and reading
 * records as the kernel hands them out (gaps and overwrites counted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "agent-test.h"
#include "kmsg.h"

static void test_kmsg_parse(void **state)
{
	static const char rec[] = "6,339,5140900,-;NET: Registered protocol family 10\n"
				  " SUBSYSTEM=net\n DEVICE=+net:lo\n";
	struct kmsg_record r;

	(void)state;
	assert_int_equal(kmsg_parse(rec, sizeof(rec) - 1, &r), 0);
	assert_int_equal(r.level, 6);
	assert_int_equal(r.facility, 0);
	assert_int_equal(r.seq, 339);
	assert_int_equal(r.usec, 5140900);
	assert_false(r.continuation);
	assert_int_equal(r.text_len, strlen("NET: Registered protocol family 10"));
	assert_memory_equal(r.text, "NET: Registered protocol family 10", r.text_len);

	/* a user-space writer's facility, the continuation flag, and fields
	 * newer kernels add after the flags */
	assert_int_equal(kmsg_parse("30,7,99,c,caller=T1;porthole-init: up", 37, &r), 0);
	assert_int_equal(r.level, 6);
	assert_int_equal(r.facility, 3);
	assert_true(r.continuation);
	assert_int_equal(r.text_len, strlen("porthole-init: up"));
	/* an empty message */
	assert_int_equal(kmsg_parse("4,1,2,-;\n", 9, &r), 0);
	assert_int_equal(r.text_len, 0);

	for (const char *const *bad =
		     (const char *const[]){ "6,339,5140900,-", "6,339;text", ";text", "x,1,2,-;t",
					    "6,,2,-;t", "6,1,2x,-;t",
					    "6,1,99999999999999999999,-;t", "-6,1,2,-;t", NULL };
	     *bad; bad++)
		if (kmsg_parse(*bad, strlen(*bad), &r) == 0)
			fail_msg("'%s' parsed", *bad);
}

static void test_kmsg_ring(void **state)
{
	struct kmsg_ring ring;
	char text[32];

	(void)state;
	assert_int_equal(kmsg_ring_init(&ring, 3, 1000), 0);
	for (int i = 0; i < 10; i++) {
		snprintf(text, sizeof(text), "line %d", i);
		assert_int_equal(kmsg_ring_push(&ring, i, 6, (uint64_t)i, text, strlen(text)), 0);
	}
	/* the last three, oldest first */
	assert_int_equal(ring.n, 3);
	assert_string_equal(kmsg_ring_get(&ring, 0)->text, "line 7");
	assert_string_equal(kmsg_ring_get(&ring, 2)->text, "line 9");
	assert_null(kmsg_ring_get(&ring, 3));
	assert_int_equal(ring.bytes, 18);
	kmsg_ring_free(&ring);

	/* the byte budget: the oldest go until the new line fits */
	assert_int_equal(kmsg_ring_init(&ring, 100, 20), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(kmsg_ring_push(&ring, i, 6, (uint64_t)i, "0123456789", 8), 0);
	assert_int_equal(ring.n, 2);
	assert_true(ring.bytes <= 20);
	assert_string_equal(kmsg_ring_get(&ring, 0)->text, "01234567");
	/* a line longer than the budget is cut to it, alone */
	assert_int_equal(kmsg_ring_push(&ring, 9, 6, 9, "abcdefghijklmnopqrstuvwxyz", 26), 0);
	assert_int_equal(ring.n, 1);
	assert_int_equal(kmsg_ring_get(&ring, 0)->len, 20);
	kmsg_ring_free(&ring);
	assert_int_equal(kmsg_ring_init(&ring, 0, 20), -EINVAL);
}

static void test_kmsg_read(void **state)
{
	struct kmsg_ring ring;
	int w, fd;

	(void)state;
	fd = kmsg_pair(kernel_records, &w);
	assert_int_equal(kmsg_ring_init(&ring, 2, 1 << 20), 0);
	assert_int_equal(kmsg_read(fd, 0, 1000.0, &ring), 0);
	assert_int_equal(ring.n, 2);
	assert_string_equal(kmsg_ring_get(&ring, 0)->text, "third");
	assert_string_equal(kmsg_ring_get(&ring, 1)->text, "fourth \\xff");
	assert_true(kmsg_ring_get(&ring, 0)->time == 1003.0);
	assert_int_equal(kmsg_ring_get(&ring, 0)->level, 4);
	assert_int_equal(ring.lost, 5);
	kmsg_ring_free(&ring);
	close(fd);
	close(w);

	/* since: only what was logged then or later */
	fd = kmsg_pair(kernel_records, &w);
	assert_int_equal(kmsg_ring_init(&ring, 100, 1 << 20), 0);
	assert_int_equal(kmsg_read(fd, 1002.0, 1000.0, &ring), 0);
	assert_int_equal(ring.n, 3);
	assert_string_equal(kmsg_ring_get(&ring, 0)->text, "second");
	kmsg_ring_free(&ring);
	close(fd);
	close(w);
}

/* The offset that turns the kernel's monotonic stamps into wall time, and
 * a descriptor that cannot be read: an error, not a loop. */
static void test_realtime_and_errors(void **state)
{
	struct timespec rt, mono;
	struct kmsg_ring ring;
	double d, expect;

	(void)state;
	d = kmsg_realtime_minus_mono();
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	expect = (double)(rt.tv_sec - mono.tv_sec) + (double)(rt.tv_nsec - mono.tv_nsec) / 1e9;
	assert_true(d - expect < 0.01 && expect - d < 0.01);
	assert_int_equal(kmsg_ring_init(&ring, 4, 1024), 0);
	assert_int_equal(kmsg_read(-1, 0, d, &ring), -EBADF);
	assert_int_equal(ring.n, 0);
	kmsg_ring_free(&ring);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kmsg_parse),
		cmocka_unit_test(test_kmsg_ring),
		cmocka_unit_test(test_kmsg_read),
		cmocka_unit_test(test_realtime_and_errors),
	};

	return cmocka_run_group_tests(tests, agent_test_setup, NULL);
}
