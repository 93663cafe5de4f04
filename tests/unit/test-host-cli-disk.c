/* host/cli-disk.c: porthole df against a scripted agent: the guest's disks
 * and the data disk's last trim as porthole-health gives them, and a
 * sparse file's allocated and apparent sizes as stat(2) gives them, the
 * file named by --disk or by run-vm's DIR/disk.path, or not known. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "host-test.h"

#define HEALTH                                                                                  \
	"{\"return\": {\"status\": \"ok\", \"reasons\": [], \"disks\": [{\"path\": \"/\", "     \
	"\"mounted\": true, \"total_bytes\": 511295488, \"used_bytes\": 237502464, "            \
	"\"available_bytes\": 273793024, \"used_percent\": 47}, {\"path\": \"/var/lib\", "      \
	"\"mounted\": true, \"total_bytes\": 2040373248, \"used_bytes\": 26632192, "            \
	"\"available_bytes\": 1892814848, \"used_percent\": 2, \"last_trim\": {\"time_ns\": "   \
	"1796616729000000000, \"trimmed_bytes\": 210042880, \"duration_ms\": 412, \"reason\": " \
	"\"after delete\"}}]}, \"id\": 1}\n"

static char dir[] = "/tmp/test-cli-disk.XXXXXX";
static char file[64];

/* A 64 MiB sparse file with 1 MiB written: allocated well under apparent
 * on any file system that has holes (ext4, xfs, btrfs, tmpfs). */
static int setup(void **state)
{
	char buf[4096];
	int fd;

	if (cli_run_setup(state) < 0 || !mkdtemp(dir))
		return -1;
	snprintf(file, sizeof(file), "%s/data.img", dir);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 64 << 20) < 0)
		return -1;
	memset(buf, 0x5a, sizeof(buf));
	for (int i = 0; i < 256; i++)
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			return -1;
	fsync(fd);
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	char path[128];

	unlink(file);
	snprintf(path, sizeof(path), "%s/disk.path", dir);
	unlink(path);
	rmdir(dir);
	return cli_run_teardown(state);
}

static void test_df_host(void **state)
{
	struct stat st;
	json_t *h = NULL;

	(void)state;
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(cli_df_host(file, &h), 0);
	assert_string_equal(json_string_value(json_object_get(h, "path")), file);
	assert_int_equal(json_integer_value(json_object_get(h, "apparent_bytes")), 64 << 20);
	assert_int_equal(json_integer_value(json_object_get(h, "allocated_bytes")),
			 (json_int_t)st.st_blocks * 512);
	/* the written MiB is there, the holes are not */
	assert_true(json_integer_value(json_object_get(h, "allocated_bytes")) >= 1 << 20);
	assert_true(json_integer_value(json_object_get(h, "allocated_bytes")) < 32 << 20);
	json_decref(h);

	assert_int_equal(cli_df_host("/nonexistent/data.img", &h), -ENOENT);
	assert_string_equal(json_string_value(json_object_get(h, "error")),
			    "No such file or directory");
	json_decref(h);
}

static void test_df_disk(void **state)
{
	const char *const argv[] = { "df", "--disk", file, NULL };
	struct cli_run *run = *state;
	char expect[512], alloc[32];
	struct stat st;
	json_t *j;

	assert_int_equal(stat(file, &st), 0);
	cli_ask(run, cli_df, false, "porthole-health", HEALTH, argv);
	assert_int_equal(run->code, CLI_EXIT_OK);
	assert_non_null(strstr(run->out, "PATH      SIZE       USED       AVAIL      USE%\n"
					 "/         487.6 MiB  226.5 MiB  261.1 MiB  47%\n"
					 "/var/lib  1.9 GiB    25.4 MiB   1.8 GiB    2%\n"));
	assert_non_null(strstr(run->out, "last trim of /var/lib: "));
	assert_non_null(strstr(run->out, ", 200.3 MiB trimmed (after delete)\n"));
	snprintf(expect, sizeof(expect),
		 "host file %s: %s allocated, of 64.0 MiB apparent (%.0f%%)\n", file,
		 cli_bytes_str((double)st.st_blocks * 512, alloc, sizeof(alloc)),
		 100.0 * (double)st.st_blocks * 512 / (64 << 20));
	assert_non_null(strstr(run->out, expect));

	cli_ask(run, cli_df, true, "porthole-health", HEALTH, argv);
	assert_int_equal(run->code, CLI_EXIT_OK);
	j = json_loads(run->out, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "disks")), 2);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(j, "host"), "allocated_bytes")),
		(json_int_t)st.st_blocks * 512);
	json_decref(j);
}

/* run-vm's record in the state directory; none: not known; a file that is
 * gone: said. */
static void test_df_vm_dir(void **state)
{
	const char *const argv[] = { "df", "--vm-dir", dir, NULL };
	const char *const usage[] = { "df", "extra", NULL };
	struct cli_run *run = *state;
	char path[128], expect[256];
	FILE *f;

	cli_ask(run, cli_df, false, "porthole-health", HEALTH, argv);
	assert_non_null(strstr(run->out, "host file: not known"));

	snprintf(path, sizeof(path), "%s/disk.path", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", file);
	fclose(f);
	cli_ask(run, cli_df, false, "porthole-health", HEALTH, argv);
	snprintf(expect, sizeof(expect), "host file %s: ", file);
	assert_non_null(strstr(run->out, expect));
	assert_non_null(strstr(run->out, "of 64.0 MiB apparent"));

	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s/gone.img\n", dir);
	fclose(f);
	cli_ask(run, cli_df, false, "porthole-health", HEALTH, argv);
	snprintf(expect, sizeof(expect), "host file %s/gone.img: No such file or directory\n", dir);
	assert_non_null(strstr(run->out, expect));
	unlink(path);

	cli_ask(run, cli_df, false, "porthole-", "", usage);
	assert_int_equal(run->code, CLI_EXIT_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_df_host),
		cmocka_unit_test(test_df_disk),
		cmocka_unit_test(test_df_vm_dir),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
