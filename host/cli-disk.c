/* porthole df: the guest's file systems as porthole-health reports them
 * (the data disk's use and its last trim), beside what the data disk's file
 * really takes on the host (its allocated blocks against its apparent
 * size), when the host side knows the file: --disk, else the path
 * scripts/run-vm records in its state directory. The guest's figures are
 * the agent's; the host's are stat(2)'s. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

/* scripts/run-vm's record of --disk's file, in its state directory */
#define DISK_PATH_FILE "disk.path"

int cli_df_host(const char *path, json_t **ret)
{
	struct stat st;
	json_t *o;

	if (stat(path, &st) < 0) {
		int r = -errno;

		o = json_pack("{s:s,s:s}", "path", path, "error", strerror(-r));
		if (!o)
			return -ENOMEM;
		*ret = o;
		return r;
	}
	/* st_blocks counts 512-byte units whatever the file system's block
	 * size (stat(2)): what the file takes, holes left out */
	o = json_pack("{s:s,s:I,s:I}", "path", path, "allocated_bytes",
		      (json_int_t)st.st_blocks * 512, "apparent_bytes", (json_int_t)st.st_size);
	if (!o)
		return -ENOMEM;
	*ret = o;
	return 0;
}

/* The data disk's file: DISK, else what run-vm wrote in DIR/disk.path;
 * 0, or -ENOENT when neither says (a VM without a data disk, or not
 * run-vm's). */
static int disk_file(const char *disk, const char *dir, char *buf, size_t size)
{
	char path[4096];
	_cleanup_free_ char *text = NULL;
	int r;

	if (disk) {
		snprintf(buf, size, "%s", disk);
		return 0;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, DISK_PATH_FILE) >= sizeof(path))
		return -ENAMETOOLONG;
	r = read_file(path, 4096, &text, NULL);
	if (r < 0)
		return r;
	text[strcspn(text, "\n")] = '\0';
	if (!*text)
		return -ENOENT;
	snprintf(buf, size, "%s", text);
	return 0;
}

static const char *bytes(json_t *v, char *buf, size_t size)
{
	if (!json_is_integer(v))
		return "-";
	return cli_bytes_str((double)json_integer_value(v), buf, size);
}

void cli_df_print(json_t *df)
{
	json_t *disks = json_object_get(df, "disks"), *d, *host = json_object_get(df, "host");
	struct cli_table t = { .ncols = 5 };
	char a[64], b[64], c[64];
	size_t i;

	cli_table_add(&t, "PATH", "SIZE", "USED", "AVAIL", "USE%");
	json_array_foreach(disks, i, d)
	{
		json_t *pct = json_object_get(d, "used_percent");
		char p[16] = "-";

		if (json_is_integer(pct))
			snprintf(p, sizeof(p), "%lld%%", (long long)json_integer_value(pct));
		if (json_is_false(json_object_get(d, "mounted")))
			cli_table_add(&t, cli_str(d, "path"), "-", "-", "-",
				      json_is_string(json_object_get(d, "note"))
					      ? cli_str(d, "note")
					      : "not mounted");
		else
			cli_table_add(&t, cli_str(d, "path"),
				      bytes(json_object_get(d, "total_bytes"), a, sizeof(a)),
				      bytes(json_object_get(d, "used_bytes"), b, sizeof(b)),
				      bytes(json_object_get(d, "available_bytes"), c, sizeof(c)),
				      p);
	}
	cli_table_print_free(&t);
	json_array_foreach(disks, i, d)
	{
		json_t *lt = json_object_get(d, "last_trim");

		if (!json_object_get(d, "last_trim"))
			continue;
		if (!json_is_object(lt)) {
			printf("last trim of %s: none since the agent started\n",
			       cli_str(d, "path"));
			continue;
		}
		printf("last trim of %s: %s, %s trimmed (%s)%s%s\n", cli_str(d, "path"),
		       json_is_integer(json_object_get(lt, "time_ns"))
			       ? cli_time_str(json_integer_value(json_object_get(lt, "time_ns")),
					      false, a, sizeof(a))
			       : "-",
		       bytes(json_object_get(lt, "trimmed_bytes"), b, sizeof(b)),
		       cli_str(lt, "reason"), json_object_get(lt, "error") ? ": " : "",
		       json_object_get(lt, "error") ? cli_str(lt, "error") : "");
	}
	if (!host) {
		printf("host file: not known (porthole df --disk FILE, or run-vm's --disk)\n");
		return;
	}
	if (json_object_get(host, "error")) {
		printf("host file %s: %s\n", cli_str(host, "path"), cli_str(host, "error"));
		return;
	}
	{
		json_t *alloc = json_object_get(host, "allocated_bytes"),
		       *size = json_object_get(host, "apparent_bytes");
		double al = (double)json_integer_value(alloc),
		       sz = (double)json_integer_value(size);

		printf("host file %s: %s allocated, of %s apparent", cli_str(host, "path"),
		       bytes(alloc, a, sizeof(a)), bytes(size, b, sizeof(b)));
		if (sz > 0)
			printf(" (%.0f%%)", 100 * al / sz);
		putchar('\n');
	}
}

static const struct option df_longs[] = {
	{ "disk", required_argument, NULL, 'd' },
	{ "vm-dir", required_argument, NULL, 'v' },
	{ 0 },
};
const struct cli_options cli_df_options = { "+", df_longs };

int cli_df(struct cli *cli, int argc, char **argv)
{
	const char *disk = NULL, *vm_dir = NULL;
	char dir[4096], file[4096];
	json_t *health = NULL, *df, *host = NULL, *disks;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, cli_df_options.shorts, cli_df_options.longs, NULL)) !=
	       -1) {
		switch (c) {
		case 'd':
			disk = optarg;
			break;
		case 'v':
			vm_dir = optarg;
			break;
		default:
			return cli_usage_error(argv[0], "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(argv[0], "df takes no argument '%s'", argv[optind]);
	cli_vm_dir(cli, vm_dir, dir, sizeof(dir));
	if (disk_file(disk, dir, file, sizeof(file)) == 0)
		cli_df_host(file, &host); /* a failure is said in HOST */
	/* the host's figures are shown even when the guest does not answer */
	rc = cli_call(cli, "porthole-health", NULL, &health);
	df = json_object();
	if (!df) {
		json_decref(health);
		json_decref(host);
		cli_error("out of memory");
		return CLI_EXIT_CONNECT;
	}
	disks = rc == CLI_EXIT_OK ? json_incref(json_object_get(health, "disks")) : NULL;
	json_object_set_new(df, "disks", disks ? disks : json_array());
	if (host)
		json_object_set_new(df, "host", host);
	if (cli->json && rc == CLI_EXIT_OK)
		cli_print_json(df, JSON_COMPACT);
	else if (!cli->json && (rc == CLI_EXIT_OK || host))
		cli_df_print(df);
	json_decref(df);
	json_decref(health);
	return rc;
}
