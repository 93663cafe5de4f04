/* init/storage.c: the data disk and share keys (from init.conf and the
 * kernel command line, through config.c) and the ext superblock reader that
 * finds a disk by label, tells a blank disk, and sizes the file system. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "storage.h"

static void test_keys(void **state)
{
	struct storage_config s;
	const char *expected = "";

	(void)state;
	storage_defaults(&s);
	assert_int_equal(s.n_disk, 2);
	assert_int_equal(s.disk[0].by, DISK_BY_SERIAL);
	assert_string_equal(s.disk[0].value, "porthole-data");
	assert_int_equal(s.disk[1].by, DISK_BY_LABEL);
	assert_string_equal(s.data_mount, "/var/lib");

	assert_int_equal(storage_config_set(&s, "data_disk", "label:engine", false, &expected), 0);
	assert_int_equal(s.n_disk, 1);
	assert_int_equal(s.disk[0].by, DISK_BY_LABEL);
	assert_string_equal(s.disk[0].value, "engine");
	assert_int_equal(storage_config_set(&s, "data_disk", "none", false, &expected), 0);
	assert_int_equal(s.n_disk, 0);
	assert_int_equal(storage_config_set(&s, "data_disk", "uuid:x", false, &expected), -EINVAL);
	assert_int_equal(storage_config_set(&s, "data_disk", "serial:", false, &expected), -EINVAL);
	assert_int_equal(storage_config_set(&s, "data_disk", "serial:a/b", false, &expected),
			 -EINVAL);
	assert_int_equal(storage_config_set(&s, "data_mount", "/srv/data/", false, &expected), 0);
	assert_string_equal(s.data_mount, "/srv/data");
	assert_int_equal(storage_config_set(&s, "data_mount", "/", false, &expected), -EINVAL);
	assert_int_equal(storage_config_set(&s, "data_mount", "rel", false, &expected), -EINVAL);
	assert_int_equal(storage_config_set(&s, "nope", "x", false, &expected), -ENOENT);
}

static void test_shares_keys(void **state)
{
	struct init_config c;

	(void)state;
	log_set_level(LOG_LEVEL_EMERG);
	config_defaults(&c);
	config_parse_ini(&c,
			 "shares = src:/mnt/src home:/Users/me:ro\n"
			 "  data:/host/data:type=9p,msize=262144\n",
			 "init.conf");
	assert_int_equal(c.n_errors, 0);
	assert_int_equal(c.storage.n_shares, 3);
	assert_string_equal(c.storage.shares[1].target, "/Users/me");
	assert_true(c.storage.shares[1].readonly);
	assert_int_equal(c.storage.shares[2].type, SHARE_9P);
	/* the kernel command line adds to them, one porthole.share= each */
	config_parse_cmdline(&c,
			     "console=ttyS0 porthole.share=a:/mnt/a porthole.share=b:/mnt/b:ro");
	assert_int_equal(c.storage.n_shares, 5);
	assert_string_equal(c.storage.shares[4].tag, "b");
	/* a bad one is refused whole and counted */
	config_parse_cmdline(&c, "porthole.share=bad porthole.data_disk=floppy");
	assert_int_equal(c.n_errors, 2);
	assert_int_equal(c.storage.n_shares, 5);
	assert_int_equal(c.n_warnings, 0);
}

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, unsigned long v)
{
	put16(p, (unsigned)(v & 0xffff));
	put16(p + 2, (unsigned)(v >> 16));
}

static void test_superblock(void **state)
{
	unsigned char buf[2048] = { 0 };
	unsigned char *sb = buf + 1024;
	unsigned long long bytes = 0;
	char label[32];

	(void)state;
	assert_false(storage_ext_super(buf, sizeof(buf), label, sizeof(label), &bytes));
	put16(sb + 56, 0xEF53);
	put32(sb + 4, 65536); /* blocks */
	put32(sb + 24, 2); /* 4096-byte blocks */
	memcpy(sb + 120, "porthole-data", 13);
	assert_true(storage_ext_super(buf, sizeof(buf), label, sizeof(label), &bytes));
	assert_string_equal(label, "porthole-data");
	assert_int_equal(bytes, 256ull << 20);
	/* 64-bit: the high half of the block count counts */
	put32(sb + 96, 0x80);
	put32(sb + 0x150, 1);
	assert_true(storage_ext_super(buf, sizeof(buf), NULL, 0, &bytes));
	assert_int_equal(bytes, ((1ull << 32) + 65536) * 4096);
	/* a full 16-byte label has no NUL */
	memcpy(sb + 120, "0123456789abcdef", 16);
	assert_true(storage_ext_super(buf, sizeof(buf), label, sizeof(label), NULL));
	assert_string_equal(label, "0123456789abcdef");
	assert_false(storage_ext_super(buf, 1500, label, sizeof(label), NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_shares_keys),
		cmocka_unit_test(test_superblock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
