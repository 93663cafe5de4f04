/* init/boot-log.c, the boot's timeline: what `porthole boot` and its chart
 * rely on. Steps follow one another (a new one ends the last), a service
 * keeps its first start and first ready and shows its last exit, restarts
 * are counted, a step that took no time still has an end, and the table is
 * bounded: what does not fit is counted, never written past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "boot-log.h"

static struct boot_log bl;

static void test_kernel_and_steps(void **state)
{
	(void)state;
	boot_log_reset(&bl);
	boot_log_kernel_at(&bl, 1800);
	boot_log_step_begin_at(&bl, "early", 1850);
	boot_log_step_begin_at(&bl, "modules", 1900);
	boot_log_step_begin_at(&bl, "storage", 2500);
	boot_log_step_end_at(&bl, 2600);
	/* an end with nothing open changes nothing */
	boot_log_step_end_at(&bl, 9999);
	assert_int_equal(bl.n, 4);
	assert_string_equal(bl.e[0].name, "kernel");
	assert_int_equal(bl.e[0].kind, BOOT_LOG_KERNEL);
	assert_int_equal(bl.e[0].start_ns, 0);
	assert_int_equal(bl.e[0].end_ns, 1800);
	assert_string_equal(bl.e[1].name, "early");
	assert_int_equal(bl.e[1].kind, BOOT_LOG_STEP);
	assert_int_equal(bl.e[1].start_ns, 1850);
	assert_int_equal(bl.e[1].end_ns, 1900);
	assert_int_equal(bl.e[2].end_ns, 2500);
	assert_int_equal(bl.e[3].start_ns, 2500);
	assert_int_equal(bl.e[3].end_ns, 2600);
	assert_int_equal(bl.e[3].ready_ns, 0);
	assert_int_equal(bl.open_step, -1);
	assert_string_equal(boot_log_kind_name(BOOT_LOG_STEP), "step");
	assert_string_equal(boot_log_kind_name(BOOT_LOG_SERVICE), "service");
	assert_string_equal(boot_log_kind_name((enum boot_log_kind)42), "?");
}

/* end_ns 0 means "still running": a step that took no measurable time must
 * not look as if it never ended */
static void test_step_of_no_time_ends(void **state)
{
	(void)state;
	boot_log_reset(&bl);
	boot_log_step_begin_at(&bl, "network", 500);
	boot_log_step_end_at(&bl, 500);
	assert_int_equal(bl.e[0].end_ns, 501);
}

static void test_service_runs(void **state)
{
	const struct boot_log_entry *e;

	(void)state;
	boot_log_reset(&bl);
	boot_log_service_start_at(&bl, "dockerd", 3000);
	e = &bl.e[0];
	assert_int_equal(e->kind, BOOT_LOG_SERVICE);
	assert_int_equal(e->runs, 1);
	assert_int_equal(e->ready_ns, 0);
	assert_int_equal(e->end_ns, 0);
	boot_log_service_ready_at(&bl, "dockerd", 9000);
	boot_log_service_exit_at(&bl, "dockerd", 12000);
	assert_int_equal(e->end_ns, 12000);
	/* restarted: the first start and ready stay, it runs again */
	boot_log_service_start_at(&bl, "dockerd", 13000);
	boot_log_service_ready_at(&bl, "dockerd", 14000);
	assert_int_equal(bl.n, 1);
	assert_int_equal(e->runs, 2);
	assert_int_equal(e->start_ns, 3000);
	assert_int_equal(e->ready_ns, 9000);
	assert_int_equal(e->end_ns, 0);
	boot_log_service_exit_at(&bl, "dockerd", 20000);
	assert_int_equal(e->end_ns, 20000);
	/* marks for a service never started are not invented */
	boot_log_service_ready_at(&bl, "ghost", 1);
	boot_log_service_exit_at(&bl, "ghost", 1);
	assert_int_equal(bl.n, 1);
	/* a step and a service of one name are two entries */
	boot_log_step_begin_at(&bl, "dockerd", 21000);
	assert_int_equal(bl.n, 2);
	assert_int_equal(e->runs, 2);
}

static void test_bounded(void **state)
{
	char name[BOOT_LOG_NAME_MAX * 2];

	(void)state;
	boot_log_reset(&bl);
	boot_log_step_begin_at(&bl, "early", 1);
	for (int i = 0; i < BOOT_LOG_MAX + 5; i++) {
		snprintf(name, sizeof(name), "svc-%d", i);
		boot_log_service_start_at(&bl, name, 10 + (uint64_t)i);
	}
	assert_int_equal(bl.n, BOOT_LOG_MAX);
	assert_int_equal(bl.dropped, 6);
	/* the step open before the table filled still ends */
	boot_log_step_end_at(&bl, 100);
	assert_int_equal(bl.e[0].end_ns, 100);
	/* a step that finds no place leaves none open */
	boot_log_step_begin_at(&bl, "late", 200);
	assert_int_equal(bl.open_step, -1);
	assert_int_equal(bl.dropped, 7);
	/* a long name is cut to the table's width, NUL-terminated */
	boot_log_reset(&bl);
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	boot_log_service_start_at(&bl, name, 1);
	assert_int_equal(strlen(bl.e[0].name), BOOT_LOG_NAME_MAX - 1);
	boot_log_service_ready_at(&bl, name, 2);
	assert_int_equal(bl.e[0].ready_ns, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_and_steps),
		cmocka_unit_test(test_step_of_no_time_ends),
		cmocka_unit_test(test_service_runs),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
