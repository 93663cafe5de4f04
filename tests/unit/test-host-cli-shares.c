/* host/cli-shares.c: the requests porthole mount, umount and trim make of
 * their command lines, and what mount, umount, mounts, trim and fsinfo
 * print of the answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host-test.h"

static void test_mount_and_umount(void **state)
{
	static const char *const mount[] = { "mount",	 "src",	       "/mnt/src", "--type",
					     "9p",	 "--ro",       "--option", "msize=512000",
					     "--option", "cache=mmap", "--option", "posixacl",
					     NULL };
	static const char *const umount[] = { "umount", "--lazy", "/mnt/src", NULL };
	static const char *const bad[][4] = {
		{ "mount", "src", NULL },
		{ "mount", "src", "/mnt/src", "--type=nfs" },
		{ "umount", NULL },
	};
	struct cli_run *run = *state;

	cli_ask(run, cli_mount, false, "porthole-mount",
		"{\"return\": {\"tag\": \"src\", \"type\": \"9p\", \"target\": \"/mnt/src\", "
		"\"readonly\": true, \"already\": false}, \"id\": 1}\n",
		mount);
	assert_int_equal(run->code, CLI_EXIT_OK);
	assert_true(peer_got(&run->peer, "\"arguments\":{\"type\":\"9p\",\"readonly\":true,"
					 "\"tag\":\"src\",\"target\":\"/mnt/src\",\"options\":{"
					 "\"msize\":\"512000\",\"cache\":\"mmap\",\"posixacl\":"
					 "true}}"));
	assert_string_equal(run->out, "mounted src (9p) on /mnt/src, read-only\n");

	cli_ask(run, cli_umount, false, "porthole-unmount",
		"{\"return\": {\"target\": \"/mnt/src\"}, \"id\": 1}\n", umount);
	assert_int_equal(run->code, CLI_EXIT_OK);
	assert_true(peer_got(&run->peer, "\"arguments\":{\"target\":\"/mnt/src\",\"lazy\":true}"));
	assert_string_equal(run->out, "unmounted /mnt/src\n");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[5] = { bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL };

		cli_ask(run, strcmp(argv[0], "mount") == 0 ? cli_mount : cli_umount, false,
			"porthole-", "", argv);
		if (run->code != CLI_EXIT_USAGE)
			fail_msg("command line %zu: exit %d", i, run->code);
		assert_false(peer_got(&run->peer, "porthole-"));
	}
}

static void test_mounts_trim_fsinfo(void **state)
{
	static const char *const mounts[] = { "mounts", NULL };
	static const char *const trim[] = { "trim", "/var/lib/porthole", NULL };
	static const char *const fsinfo[] = { "fsinfo", NULL };
	struct cli_run *run = *state;

	cli_ask(run, cli_mounts, false, "porthole-mounts",
		"{\"return\": {\"mounts\": [{\"tag\": \"src\", \"type\": \"virtiofs\", \"target\": "
		"\"/mnt/src\", \"health\": \"ok\", \"statfs\": {\"total_bytes\": 1073741824, "
		"\"available_bytes\": 536870912}, \"options\": \"rw\"}, {\"tag\": \"old\", \"type\": "
		"\"9p\", \"target\": \"/mnt/old\", \"health\": \"stale\"}]}, \"id\": 1}\n",
		mounts);
	assert_string_equal(run->out,
			    "TAG  TYPE      TARGET    HEALTH  SIZE     AVAIL      OPTIONS\n"
			    "src  virtiofs  /mnt/src  ok      1.0 GiB  512.0 MiB  rw\n"
			    "old  9p        /mnt/old  stale   -        -          -\n");

	cli_ask(run, cli_trim, false, "porthole-trim",
		"{\"return\": {\"filesystems\": [{\"path\": \"/var/lib/porthole\", "
		"\"trimmed_bytes\": 2097152}, {\"path\": \"/boot\", \"error\": \"Operation not "
		"supported\"}], \"trimmed_bytes\": 2097152}, \"id\": 1}\n",
		trim);
	assert_true(peer_got(&run->peer, "\"arguments\":{\"path\":\"/var/lib/porthole\"}"));
	assert_string_equal(run->out, "/var/lib/porthole    2.0 MiB trimmed\n"
				      "/boot                Operation not supported\n"
				      "total: 2.0 MiB trimmed\n");

	cli_ask(run, cli_fsinfo, false, "guest-get-fsinfo",
		"{\"return\": [{\"name\": \"vda\", \"total-bytes\": 10737418240, \"mountpoint\": "
		"\"/\", \"disk\": [{\"dev\": \"/dev/vda\"}], \"used-bytes\": 2684354560, \"type\": "
		"\"ext4\"}, {\"name\": \"vdb\", \"mountpoint\": \"/data\", \"disk\": [], \"type\": "
		"\"ext4\"}], \"id\": 1}\n",
		fsinfo);
	assert_string_equal(run->out, "MOUNTPOINT  TYPE  NAME  SIZE      USED     USE%  DEVICES\n"
				      "/           ext4  vda   10.0 GiB  2.5 GiB  25%   /dev/vda\n"
				      "/data       ext4  vdb   -         -        -     -\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mount_and_umount),
		cmocka_unit_test(test_mounts_trim_fsinfo),
	};

	return cmocka_run_group_tests(tests, cli_run_setup, cli_run_teardown);
}
