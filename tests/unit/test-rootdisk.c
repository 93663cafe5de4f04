/* init/rootdisk.c: the root disk found by its virtio serial in a fake
 * /sys/block (and the data disk's serial never taken for it), its file
 * system told by the superblock, and the root_disk key (config.c). The
 * mount itself is tests/vm/engine.sh's: it needs a kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "rootdisk.h"
#include "tmptree.h"
#include "util.h"

static char tree[64];

static void put(const char *rel, const char *text)
{
	tmptree_put(tree, rel, text);
}

static int setup(void **state)
{
	(void)state;
	tmptree_new(tree, sizeof(tree), "test-rootdisk");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tmptree_remove(tree);
}

static void test_find_by_serial(void **state)
{
	char name[16] = "", seen[256];

	(void)state;
	/* the data disk first, as run-vm attaches it after: order must not matter */
	put("vda/serial", "porthole-data\n");
	put("vdb/serial", "porthole-root\n");
	put("loop0/size", "0\n");
	assert_int_equal(
		rootdisk_find(tree, "porthole-root", name, sizeof(name), seen, sizeof(seen)), 0);
	assert_string_equal(name, "vdb");
	assert_int_equal(
		rootdisk_find(tree, "porthole-data", name, sizeof(name), seen, sizeof(seen)), 0);
	assert_string_equal(name, "vda");
}

/* SCSI disks (virtio-scsi, a VMM without virtio-blk) have it on the device */
static void test_find_scsi_serial(void **state)
{
	char name[16] = "", seen[256];

	(void)state;
	put("sda/device/serial", "porthole-root\n");
	assert_int_equal(
		rootdisk_find(tree, "porthole-root", name, sizeof(name), seen, sizeof(seen)), 0);
	assert_string_equal(name, "sda");
}

/* No disk has the serial: -ENODEV, and the message's list says what was
 * there instead; a serial that only starts like it is not it. */
static void test_not_found_says_what_was_seen(void **state)
{
	char name[16] = "", seen[256];

	(void)state;
	put("vda/serial", "porthole-data\n");
	put("vdb/serial", "porthole-root-old\n");
	put("vdc/size", "8\n");
	assert_int_equal(
		rootdisk_find(tree, "porthole-root", name, sizeof(name), seen, sizeof(seen)),
		-ENODEV);
	assert_string_equal(name, "");
	assert_non_null(strstr(seen, "vda (porthole-data)"));
	assert_non_null(strstr(seen, "vdb (porthole-root-old)"));
	assert_non_null(strstr(seen, "vdc (no serial)"));
}

static void test_no_sys_block(void **state)
{
	char name[16], seen[64];

	(void)state;
	assert_int_equal(rootdisk_find("/nonexistent/sys/block", "porthole-root", name,
				       sizeof(name), seen, sizeof(seen)),
			 -ENOENT);
}

static void test_fs_detect(void **state)
{
	unsigned char head[4096];

	(void)state;
	memset(head, 0, sizeof(head));
	assert_int_equal(rootdisk_fs_detect(head, sizeof(head)), ROOTDISK_FS_UNKNOWN);
	/* erofs: 0xE0F5E1E2 little-endian at 1024 */
	memcpy(head + 1024, "\xe2\xe1\xf5\xe0", 4);
	assert_int_equal(rootdisk_fs_detect(head, sizeof(head)), ROOTDISK_FS_EROFS);
	assert_string_equal(rootdisk_fs_name(ROOTDISK_FS_EROFS), "erofs");
	/* a short read cannot reach the superblock: not taken for one */
	assert_int_equal(rootdisk_fs_detect(head, 1026), ROOTDISK_FS_UNKNOWN);
	memset(head, 0, sizeof(head));
	memcpy(head, "hsqs", 4);
	assert_int_equal(rootdisk_fs_detect(head, sizeof(head)), ROOTDISK_FS_SQUASHFS);
	assert_string_equal(rootdisk_fs_name(ROOTDISK_FS_SQUASHFS), "squashfs");
	/* ext4 (a data disk given the root's serial): magic 0xEF53 at 1080 */
	memset(head, 0, sizeof(head));
	head[1080] = 0x53;
	head[1081] = 0xef;
	assert_int_equal(rootdisk_fs_detect(head, sizeof(head)), ROOTDISK_FS_UNKNOWN);
}

static void test_root_disk_key(void **state)
{
	struct init_config c;

	(void)state;
	config_defaults(&c);
	assert_string_equal(c.root_disk, "");
	config_set(&c, "root_disk", "serial:porthole-root", "test");
	assert_string_equal(c.root_disk, "porthole-root");
	assert_int_equal(c.n_errors, 0);
	/* bad values are refused and leave the value as it was */
	config_set(&c, "root_disk", "label:root", "test");
	config_set(&c, "root_disk", "serial:", "test");
	config_set(&c, "root_disk", "serial:../x", "test");
	assert_int_equal(c.n_errors, 3);
	assert_string_equal(c.root_disk, "porthole-root");
	config_set(&c, "root_disk", "none", "test");
	assert_string_equal(c.root_disk, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_find_by_serial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_scsi_serial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_found_says_what_was_seen, setup, teardown),
		cmocka_unit_test(test_no_sys_block),
		cmocka_unit_test(test_fs_detect),
		cmocka_unit_test(test_root_disk_key),
	};

	log_set_level(LOG_LEVEL_EMERG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
