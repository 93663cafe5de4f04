/* porthole mount, umount, mounts, fsinfo and trim: the guest's file
 * systems, its shared folders and its block devices', through
 * porthole-mount, porthole-unmount, porthole-mounts, guest-get-fsinfo and
 * porthole-trim (docs/protocol.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

#define OPTIONS_MAX 8

static const struct option mount_longs[] = {
	{ "type", required_argument, NULL, 't' },
	{ "ro", no_argument, NULL, 'r' },
	{ "option", required_argument, NULL, 'o' },
	{ 0 },
};
const struct cli_options cli_mount_options = { "", mount_longs };

int cli_mount(struct cli *cli, int argc, char **argv)
{
	json_t *args = json_object(), *options = json_object(), *result = NULL;
	const char *cmd = argv[0];
	int c, r;

	if (!args || !options) {
		json_decref(args);
		json_decref(options);
		cli_error("out of memory");
		return CLI_EXIT_CONNECT;
	}
	optind = 0; /* glibc: 0 re-initialises, so the main parser's "+" does not stick */
	while ((c = getopt_long(argc, argv, cli_mount_options.shorts, cli_mount_options.longs,
				NULL)) != -1) {
		const char *eq;

		switch (c) {
		case 't':
			if (strcmp(optarg, "virtiofs") != 0 && strcmp(optarg, "9p") != 0)
				r = cli_usage_error(cmd, "--type: virtiofs or 9p, not '%s'",
						    optarg);
			else {
				json_object_set_new(args, "type", json_string(optarg));
				continue;
			}
			goto out;
		case 'r':
			json_object_set_new(args, "readonly", json_true());
			continue;
		case 'o':
			eq = strchr(optarg, '=');
			if (json_object_size(options) == OPTIONS_MAX) {
				r = cli_usage_error(cmd, "--option: at most %d", OPTIONS_MAX);
				goto out;
			}
			if (!eq) {
				json_object_set_new(options, optarg, json_true());
			} else {
				char key[64];

				snprintf(key, sizeof(key), "%.*s", (int)(eq - optarg), optarg);
				json_object_set_new(options, key, json_string(eq + 1));
			}
			continue;
		default:
			r = cli_usage_error(cmd, "bad option");
			goto out;
		}
	}
	if (argc - optind != 2) {
		r = cli_usage_error(cmd, "mount needs TAG and TARGET");
		goto out;
	}
	json_object_set_new(args, "tag", json_string(argv[optind]));
	json_object_set_new(args, "target", json_string(argv[optind + 1]));
	if (json_object_size(options))
		json_object_set(args, "options", options);
	r = cli_call(cli, "porthole-mount", args, &result);
	if (r != CLI_EXIT_OK)
		goto out;
	if (cli->json)
		cli_print_json(result, JSON_COMPACT);
	else
		printf("%s %s (%s) on %s%s\n",
		       json_is_true(json_object_get(result, "already")) ? "already mounted:"
									: "mounted",
		       cli_str(result, "tag"), cli_str(result, "type"), cli_str(result, "target"),
		       json_is_true(json_object_get(result, "readonly")) ? ", read-only" : "");
out:
	json_decref(result);
	json_decref(options);
	json_decref(args);
	return r;
}

static const struct option umount_longs[] = { { "lazy", no_argument, NULL, 'l' }, { 0 } };
const struct cli_options cli_umount_options = { "", umount_longs };

int cli_umount(struct cli *cli, int argc, char **argv)
{
	json_t *args, *result = NULL;
	bool lazy = false;
	int c, r;

	optind = 0; /* glibc: 0 re-initialises, so the main parser's "+" does not stick */
	while ((c = getopt_long(argc, argv, cli_umount_options.shorts, cli_umount_options.longs,
				NULL)) != -1) {
		if (c != 'l')
			return cli_usage_error(argv[0], "bad option");
		lazy = true;
	}
	if (argc - optind != 1)
		return cli_usage_error(argv[0], "umount needs TARGET");
	args = json_pack("{s:s,s:b}", "target", argv[optind], "lazy", lazy);
	r = cli_call(cli, "porthole-unmount", args, &result);
	json_decref(args);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json)
		cli_print_json(result, JSON_COMPACT);
	else
		printf("unmounted %s\n", cli_str(result, "target"));
	json_decref(result);
	return CLI_EXIT_OK;
}

static void print_mounts(json_t *result)
{
	struct cli_table t = { .ncols = 7 };
	json_t *m;
	size_t i;

	cli_table_add(&t, "TAG", "TYPE", "TARGET", "HEALTH", "SIZE", "AVAIL", "OPTIONS");
	json_array_foreach(json_object_get(result, "mounts"), i, m)
	{
		json_t *st = json_object_get(m, "statfs");
		char size[32] = "-", avail[32] = "-";

		if (st) {
			cli_bytes_str(
				(double)json_integer_value(json_object_get(st, "total_bytes")),
				size, sizeof(size));
			cli_bytes_str(
				(double)json_integer_value(json_object_get(st, "available_bytes")),
				avail, sizeof(avail));
		}
		cli_table_add(&t, json_string_value(json_object_get(m, "tag")),
			      json_string_value(json_object_get(m, "type")),
			      json_string_value(json_object_get(m, "target")),
			      json_string_value(json_object_get(m, "health")), size, avail,
			      json_string_value(json_object_get(m, "options")));
	}
	cli_table_print_free(&t);
}

int cli_mounts(struct cli *cli, int argc, char **argv)
{
	return cli_query(cli, argc, argv, "porthole-mounts", print_mounts);
}

int cli_trim(struct cli *cli, int argc, char **argv)
{
	json_t *args = NULL, *result = NULL, *fs;
	char buf[32];
	size_t i;
	int r;

	if (argc > 2)
		return cli_usage_error(argv[0], "trim takes at most one PATH");
	if (argc == 2)
		args = json_pack("{s:s}", "path", argv[1]);
	r = cli_call(cli, "porthole-trim", args, &result);
	json_decref(args);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json) {
		cli_print_json(result, JSON_COMPACT);
		json_decref(result);
		return CLI_EXIT_OK;
	}
	json_array_foreach(json_object_get(result, "filesystems"), i, fs)
	{
		json_t *e = json_object_get(fs, "error");

		if (e)
			printf("%-20s %s\n", cli_str(fs, "path"),
			       cli_or_dash(json_string_value(e)));
		else
			printf("%-20s %s trimmed\n", cli_str(fs, "path"),
			       cli_bytes_str((double)json_integer_value(
						     json_object_get(fs, "trimmed_bytes")),
					     buf, sizeof(buf)));
	}
	printf("total: %s trimmed\n",
	       cli_bytes_str((double)json_integer_value(json_object_get(result, "trimmed_bytes")),
			     buf, sizeof(buf)));
	json_decref(result);
	return CLI_EXIT_OK;
}

static void print_fsinfo(json_t *result)
{
	struct cli_table t = { .ncols = 7 };
	json_t *fs, *disk;
	size_t i, j;

	cli_table_add(&t, "MOUNTPOINT", "TYPE", "NAME", "SIZE", "USED", "USE%", "DEVICES");
	json_array_foreach(result, i, fs)
	{
		json_t *total = json_object_get(fs, "total-bytes");
		json_t *used = json_object_get(fs, "used-bytes");
		char s[32] = "-", u[32] = "-", pct[16] = "-", devs[256] = "";

		if (json_is_number(total))
			cli_bytes_str(json_number_value(total), s, sizeof(s));
		if (json_is_number(used))
			cli_bytes_str(json_number_value(used), u, sizeof(u));
		if (json_is_number(total) && json_is_number(used) && json_number_value(total) > 0)
			snprintf(pct, sizeof(pct), "%.0f%%",
				 100 * json_number_value(used) / json_number_value(total));
		json_array_foreach(json_object_get(fs, "disk"), j, disk)
		{
			const char *dev = json_string_value(json_object_get(disk, "dev"));
			size_t l = strlen(devs);

			snprintf(devs + l, sizeof(devs) - l, "%s%s", l ? "," : "", dev ? dev : "?");
		}
		cli_table_add(&t, json_string_value(json_object_get(fs, "mountpoint")),
			      json_string_value(json_object_get(fs, "type")),
			      json_string_value(json_object_get(fs, "name")), s, u, pct,
			      *devs ? devs : "-");
	}
	cli_table_print_free(&t);
}

int cli_fsinfo(struct cli *cli, int argc, char **argv)
{
	return cli_query(cli, argc, argv, "guest-get-fsinfo", print_fsinfo);
}
