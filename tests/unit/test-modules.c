/* init/modules.c: module list resolution and device alias lookup against the
 * image's module tree (the real Debian kernel's modules.dep, modules.softdep
 * and modules.alias, after depmod). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The aliases QEMU's devices announce (their /sys/devices/.../modalias),
 * and the module each must load: what coldplug.c hands to modules.c. */
static void test_device_aliases(void **state)
{
	static const struct {
		const char *alias, *module;
	} cases[] = {
		{ "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00", "virtio_pci" },
		{ "virtio:d00000001v00001AF4", "virtio_net" },
		{ "virtio:d00000002v00001AF4", "virtio_blk" },
		{ "virtio:d00000003v00001AF4", "virtio_console" },
		{ "virtio:d00000004v00001AF4", "virtio_rng" },
		{ "virtio:d00000005v00001AF4", "virtio_balloon" },
		{ "virtio:d00000013v00001AF4", "vmw_vsock_virtio_transport" },
		{ "acpi:LNXPWRBN:", "button" },
		{ "input:b0019v0000p0001e0000-e0,1,k74,ramlsfw", "evdev" },
	};
	struct modules_ctx *m;
	char names[4][MODULE_NAME_MAX];

	(void)state;
	assert_int_equal(modules_open(dir, NULL, &m), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = modules_lookup_alias(m, cases[i].alias, names, 4);

		if (n != 1)
			fail_msg("%s: %d modules, expected %s", cases[i].alias, n, cases[i].module);
		assert_string_equal(names[0], cases[i].module);
	}
	modules_close(m);
}

static void test_alias_without_module(void **state)
{
	struct modules_ctx *m;
	char names[4][MODULE_NAME_MAX];

	(void)state;
	assert_int_equal(modules_open(dir, NULL, &m), 0);
	/* the q35 host bridge and an ISA bridge: devices that need no module
	 * are the common case, not an error */
	assert_int_equal(
		modules_lookup_alias(m, "pci:v00008086d000029C0sv00001AF4sd00001100bc06sc00i00",
				     names, 4),
		0);
	assert_int_equal(modules_lookup_alias(m, "platform:no-such-device", names, 4), 0);
	assert_int_equal(modules_lookup_alias(m, "", names, 4), 0);
	modules_close(m);
}

static void test_blacklist_applies_to_aliases(void **state)
{
	char cfgdir[] = "/tmp/test-modules.XXXXXX", path[64];
	struct modules_ctx *m;
	char names[4][MODULE_NAME_MAX];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(cfgdir));
	snprintf(path, sizeof(path), "%s/porthole.conf", cfgdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("blacklist virtio_rng\n", f);
	fclose(f);
	/* modprobe.d's "blacklist NAME": never loaded for a device's alias,
	 * still found by its name */
	assert_int_equal(modules_open(dir, cfgdir, &m), 0);
	assert_int_equal(modules_lookup_alias(m, "virtio:d00000004v00001AF4", names, 4), 0);
	assert_int_equal(modules_lookup_alias(m, "virtio:d00000001v00001AF4", names, 4), 1);
	modules_close(m);
	unlink(path);
	rmdir(cfgdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dependencies_come_first),
		cmocka_unit_test(test_each_module_once),
		cmocka_unit_test(test_alias_and_dash),
		cmocka_unit_test(test_softdep_pre_is_loaded_first),
		cmocka_unit_test(test_unknown_is_reported_others_resolved),
		cmocka_unit_test(test_device_aliases),
		cmocka_unit_test(test_alias_without_module),
		cmocka_unit_test(test_blacklist_applies_to_aliases),
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
