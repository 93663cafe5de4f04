/* init/mount.c: the mount table and the plan made from mountinfo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "log.h"
#include "mount.h"
#include "util.h"

static const struct mount_entry *find(const char *target)
{
	for (size_t i = 0; i < mount_table_size; i++)
		if (strcmp(mount_table[i].target, target) == 0)
			return &mount_table[i];
	return NULL;
}

/* What docker, runc and login rely on, written out once more. */
static void test_container_host_options(void **state)
{
	const struct mount_entry *m;

	(void)state;
	m = find("/dev/pts");
	assert_non_null(m);
	assert_string_equal(m->fstype, "devpts");
	assert_non_null(strstr(m->data, "gid=5"));
	assert_non_null(strstr(m->data, "mode=620"));
	assert_non_null(strstr(m->data, "ptmxmode=666"));
	m = find("/sys/fs/cgroup");
	assert_non_null(m);
	assert_string_equal(m->fstype, "cgroup2");
	assert_true(m->essential);
	m = find("/dev/shm");
	assert_non_null(m);
	assert_string_equal(m->data, "mode=1777");
	for (const char *const *t = (const char *const[]){ "/proc", "/sys", "/dev", "/run", "/tmp",
							   "/dev/mqueue", NULL };
	     *t; t++)
		assert_non_null(find(*t));
	for (const char *const *t =
		     (const char *const[]){ "/sys/kernel/security", "/sys/fs/bpf",
					    "/sys/kernel/tracing", "/sys/kernel/debug",
					    "/sys/kernel/config", "/sys/fs/pstore",
					    "/sys/fs/fuse/connections", NULL };
	     *t; t++) {
		m = find(*t);
		assert_non_null(m);
		assert_false(m->essential);
	}
}

/* A mount point lives on its parent's file system: the parent comes first. */
static void test_parents_before_children(void **state)
{
	(void)state;
	for (size_t i = 0; i < mount_table_size; i++) {
		for (size_t j = 0; j < mount_table_size; j++) {
			const char *parent = mount_table[j].target;
			size_t len = strlen(parent);

			if (i == j || strncmp(mount_table[i].target, parent, len) != 0 ||
			    mount_table[i].target[len] != '/')
				continue;
			if (j > i)
				fail_msg("%s is mounted before its parent %s",
					 mount_table[i].target, parent);
			if (mount_table[j].phase > mount_table[i].phase)
				fail_msg("%s is in an earlier phase than its parent %s",
					 mount_table[i].target, parent);
		}
	}
}

/* Everything boot needs is there before the modules are loaded. */
static void test_essential_is_early(void **state)
{
	(void)state;
	for (size_t i = 0; i < mount_table_size; i++) {
		assert_true(mount_table[i].target[0] == '/');
		if (mount_table[i].essential)
			assert_int_equal(mount_table[i].phase, MOUNT_EARLY);
	}
}

static void test_plan_skips_what_is_mounted(void **state)
{
	/* mountinfo as the kernel writes it, with optional fields and an
	 * escaped space in a path */
	static const char info[] =
		"22 1 0:5 / /dev rw,nosuid shared:2 - devtmpfs devtmpfs rw,size=4096k\n"
		"23 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 master:1 - proc proc rw\n"
		"24 1 0:22 / /sys rw - tmpfs none rw\n"
		"25 1 0:23 / /mnt/with\\040space rw - tmpfs none rw\n"
		"garbage line\n"
		"26 1 0:24 / /run\n";
	bool skip[64];

	(void)state;
	assert_true(mount_table_size <= 64);
	mount_plan(mount_table, mount_table_size, info, skip);
	for (size_t i = 0; i < mount_table_size; i++) {
		const char *t = mount_table[i].target;

		if (strcmp(t, "/dev") == 0 || strcmp(t, "/proc") == 0)
			assert_true(skip[i]);
		/* /sys holds a tmpfs there, not sysfs: it is still to be mounted;
		 * /run's line is cut short and says nothing */
		else
			assert_false(skip[i]);
	}
	/* no mountinfo at all: mount everything */
	mount_plan(mount_table, mount_table_size, NULL, skip);
	for (size_t i = 0; i < mount_table_size; i++)
		assert_false(skip[i]);
}

/* proc(5)'s escapes, as init, the agent's fsinfo and shares read them. */
static void test_mountinfo_unescape(void **state)
{
	char a[] = "/mnt/with\\040space\\011tab\\134back", b[] = "\\999 \\04 end\\";

	(void)state;
	mountinfo_unescape(a);
	assert_string_equal(a, "/mnt/with space\ttab\\back");
	/* what is not a three-digit octal escape stays as it is */
	mountinfo_unescape(b);
	assert_string_equal(b, "\\999 \\04 end\\");
}

static void test_flags_string(void **state)
{
	char buf[64];

	(void)state;
	mount_flags_string(0, buf, sizeof(buf));
	assert_string_equal(buf, "rw");
	mount_flags_string(MS_NOSUID | MS_NODEV | MS_NOEXEC, buf, sizeof(buf));
	assert_string_equal(buf, "rw,nosuid,nodev,noexec");
	mount_flags_string(MS_RDONLY | MS_NOSUID, buf, sizeof(buf));
	assert_string_equal(buf, "ro,nosuid");
	mount_flags_string(MS_RDONLY | MS_NOSUID | MS_NODEV, buf, 6);
	assert_string_equal(buf, "ro,no");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_container_host_options),
		cmocka_unit_test(test_parents_before_children),
		cmocka_unit_test(test_essential_is_early),
		cmocka_unit_test(test_plan_skips_what_is_mounted),
		cmocka_unit_test(test_mountinfo_unescape),
		cmocka_unit_test(test_flags_string),
	};

	log_set_level(LOG_LEVEL_EMERG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
