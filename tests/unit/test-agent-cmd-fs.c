/* agent/cmd-fs.c: guest-get-fsinfo against qemu-ga's schema, and
 * guest-fstrim with a minimum that trims nothing on this machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "agent-test.h"

/* The group's table, and the argument specs the schema gives its commands. */
static void test_table(void **state)
{
	(void)state;
	check_table(cmd_fs_table, 3);
	assert_int_equal(find("guest-fstrim")->args[0].type, ARG_INT);
}

static void test_fsinfo(void **state)
{
	static const struct member fs_schema[] = {
		{ "name", T_STR, true },	 { "mountpoint", T_STR, true },
		{ "type", T_STR, true },	 { "used-bytes", T_INT, false },
		{ "total-bytes", T_INT, false }, { "disk", T_ARR, true },
		{ NULL, T_STR, false },
	};
	static const struct member disk_schema[] = {
		{ "pci-controller", T_OBJ, true },
		{ "bus-type", T_STR, true },
		{ "bus", T_INT, true },
		{ "target", T_INT, true },
		{ "unit", T_INT, true },
		{ "serial", T_STR, false },
		{ "dev", T_STR, false },
		{ NULL, T_STR, false },
	};
	static const struct member pci_schema[] = {
		{ "domain", T_INT, true },   { "bus", T_INT, true }, { "slot", T_INT, true },
		{ "function", T_INT, true }, { NULL, T_STR, false },
	};
	static const char *const pseudo[] = { "proc",	"sysfs",   "tmpfs", "devtmpfs", "cgroup2",
					      "devpts", "overlay", "9p",    "virtiofs", NULL };
	json_t *r = call_ok("guest-get-fsinfo", NULL), *fs, *d;
	size_t i, j;

	(void)state;
	assert_true(json_is_array(r));
	json_array_foreach(r, i, fs)
	{
		const char *type = json_string_value(json_object_get(fs, "type"));

		check_struct(fs, fs_schema, "GuestFilesystemInfo");
		for (const char *const *p = pseudo; *p; p++)
			assert_string_not_equal(type, *p);
		if (json_object_get(fs, "total-bytes"))
			assert_true(json_integer_value(json_object_get(fs, "used-bytes")) <=
				    json_integer_value(json_object_get(fs, "total-bytes")));
		json_array_foreach(json_object_get(fs, "disk"), j, d)
		{
			const char *bus = json_string_value(json_object_get(d, "bus-type"));

			check_struct(d, disk_schema, "GuestDiskAddress");
			check_struct(json_object_get(d, "pci-controller"), pci_schema,
				     "GuestPCIAddress");
			assert_true(strcmp(bus, "virtio") == 0 || strcmp(bus, "scsi") == 0 ||
				    strcmp(bus, "unknown") == 0);
			if (json_object_get(d, "dev"))
				assert_memory_equal(json_string_value(json_object_get(d, "dev")),
						    "/dev/", 5);
		}
		/* listed once per device: no mount point twice */
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(
				json_string_value(
					json_object_get(json_array_get(r, k), "mountpoint")),
				json_string_value(json_object_get(fs, "mountpoint")));
	}
	json_decref(r);
}

static void test_fstrim(void **state)
{
	static const struct member schema[] = { { "path", T_STR, true },
						{ "trimmed", T_INT, false },
						{ "minimum", T_INT, false },
						{ "error", T_STR, false },
						{ NULL, T_STR, false } };
	json_t *r, *p;
	size_t i;

	(void)state;
	call_fails("guest-fstrim", "{\"minimum\": -1}", "minimum");
	/* a minimum larger than any free extent: the file systems check it and
	 * trim nothing, so the test discards nothing on this machine */
	r = call_ok("guest-fstrim", "{\"minimum\": 1099511627776}");
	assert_true(json_is_array(json_object_get(r, "paths")));
	assert_int_equal(json_object_size(r), 1);
	json_array_foreach(json_object_get(r, "paths"), i, p)
	{
		check_struct(p, schema, "GuestFilesystemTrimResult");
		/* either a result or an error */
		assert_true(!!json_object_get(p, "error") != !!json_object_get(p, "trimmed"));
	}
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_fsinfo),
		cmocka_unit_test(test_fstrim),
	};

	return cmocka_run_group_tests(tests, agent_test_setup, NULL);
}
