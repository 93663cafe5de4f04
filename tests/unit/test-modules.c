/* init/modules.c: module list resolution against the image's module tree
 * (the real Debian kernel's modules.dep and modules.softdep, after depmod). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "modules.h"

static const char *dir;
static struct modules_resolved res;

static int pos(const char *name)
{
	for (size_t i = 0; i < res.n; i++)
		if (strcmp(res.names[i], name) == 0)
			return (int)i;
	return -1;
}

static void test_dependencies_come_first(void **state)
{
	const char names[][64] = { "virtio_net" };

	(void)state;
	assert_int_equal(modules_resolve(dir, names, 1, &res), 0);
	assert_true(pos("virtio_net") >= 0);
	assert_true(pos("virtio") >= 0 && pos("virtio") < pos("virtio_net"));
	assert_true(pos("virtio_ring") >= 0 && pos("virtio_ring") < pos("virtio"));
	assert_true(pos("failover") >= 0 && pos("failover") < pos("net_failover"));
	assert_true(pos("net_failover") < pos("virtio_net"));
	/* the module itself is last: nothing else was asked for */
	assert_int_equal(pos("virtio_net"), (int)res.n - 1);
}

static void test_each_module_once(void **state)
{
	const char names[][64] = { "virtio_net", "virtio_console", "virtio_blk", "virtio_net" };

	(void)state;
	assert_int_equal(modules_resolve(dir, names, 4, &res), 0);
	for (size_t i = 0; i < res.n; i++)
		for (size_t j = i + 1; j < res.n; j++)
			assert_string_not_equal(res.names[i], res.names[j]);
	assert_true(pos("virtio_console") >= 0);
	assert_true(pos("virtio_blk") >= 0);
}

static void test_alias_and_dash(void **state)
{
	/* "net-pf-40" is AF_VSOCK's alias, as the kernel asks for it on
	 * socket(AF_VSOCK); '-' and '_' are the same in names */
	const char names[][64] = { "net-pf-40", "vmw-vsock-virtio-transport" };

	(void)state;
	assert_int_equal(modules_resolve(dir, names, 2, &res), 0);
	assert_true(pos("vsock") >= 0);
	assert_true(pos("vmw_vsock_virtio_transport") > pos("vsock"));
}

static void test_softdep_pre_is_loaded_first(void **state)
{
	/* ext4's modinfo says "softdep: pre: crc32c": a crc32c provider first */
	const char names[][64] = { "ext4" };
	int crc = -1;

	(void)state;
	assert_int_equal(modules_resolve(dir, names, 1, &res), 0);
	for (size_t i = 0; i < res.n; i++)
		if (strncmp(res.names[i], "crc32c", 6) == 0 && crc < 0)
			crc = (int)i;
	assert_true(crc >= 0);
	assert_true(crc < pos("ext4"));
}

static void test_unknown_is_reported_others_resolved(void **state)
{
	const char names[][64] = { "no_such_module", "virtio_blk" };

	(void)state;
	assert_int_equal(modules_resolve(dir, names, 2, &res), -ENOENT);
	assert_true(pos("virtio_blk") >= 0);
	assert_int_equal(pos("no_such_module"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dependencies_come_first),
		cmocka_unit_test(test_each_module_once),
		cmocka_unit_test(test_alias_and_dash),
		cmocka_unit_test(test_softdep_pre_is_loaded_first),
		cmocka_unit_test(test_unknown_is_reported_others_resolved),
	};

	log_set_level(LOG_LEVEL_EMERG);
	dir = getenv("PORTHOLE_MODULES_DIR");
	if (!dir || !*dir) {
		/* TAP's skip, as cmocka's TAP output would print it */
		printf("1..1\nok 1 - modules # SKIP PORTHOLE_MODULES_DIR not set (tests/run "
		       "sets it to the image's module tree)\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
