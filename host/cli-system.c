/* porthole ping, info, health, osinfo, users and hostname: what the guest
 * is and how it fares, through guest-ping, guest-info, porthole-health,
 * guest-get-osinfo, guest-get-users and guest-get-host-name. Members the
 * CLI does not know are printed too, so that a newer agent's show. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

int cli_ping(struct cli *cli, int argc, char **argv)
{
	json_t *result = NULL;
	uint64_t t0;
	int r = cli_no_args(argv[0], argc, argv);

	if (r != CLI_EXIT_OK)
		return r;
	r = cli_connect(cli);
	if (r != CLI_EXIT_OK)
		return r;
	t0 = now_mono_ns();
	r = cli_call(cli, "guest-ping", NULL, &result);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json)
		cli_print_json(result, JSON_COMPACT);
	else
		printf("ok (%.3f ms)\n", (double)(now_mono_ns() - t0) / NSEC_PER_MSEC);
	json_decref(result);
	return CLI_EXIT_OK;
}

static int by_name(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const char *p = json_string_value(json_object_get(x, "name"));
	const char *q = json_string_value(json_object_get(y, "name"));

	return strcmp(p ? p : "", q ? q : "");
}

static void print_info(json_t *result)
{
	static const char *const known[] = { "version", "supported_commands", NULL };
	json_t *cmds = json_object_get(result, "supported_commands");
	size_t n = json_array_size(cmds), disabled = 0;
	json_t **sorted = n ? calloc(n, sizeof(*sorted)) : NULL;
	char buf[64];

	printf("%-9s %s\n",
	       "version:", cli_scalar(json_object_get(result, "version"), buf, sizeof(buf)));
	cli_print_rest(result, known, 9);
	for (size_t i = 0; i < n; i++) {
		if (json_is_false(json_object_get(json_array_get(cmds, i), "enabled")))
			disabled++;
		if (sorted)
			sorted[i] = json_array_get(cmds, i);
	}
	printf("%-9s %zu (%zu disabled)\n", "commands:", n, disabled);
	if (!sorted)
		return;
	qsort(sorted, n, sizeof(*sorted), by_name);
	for (size_t i = 0; i < n; i++) {
		json_t *c = sorted[i];
		const char *name = json_string_value(json_object_get(c, "name"));
		bool off = json_is_false(json_object_get(c, "enabled"));
		bool quiet = json_is_false(json_object_get(c, "success-response"));

		printf("  %s%s%s\n", name ? name : "?", off ? "  (disabled)" : "",
		       quiet ? "  (no reply on success)" : "");
	}
	free(sorted);
}

int cli_info(struct cli *cli, int argc, char **argv)
{
	return cli_query(cli, argc, argv, "guest-info", print_info);
}

static void print_health(json_t *h)
{
	static const char *const known[] = { "status", "reasons",  "uptime_ns", "boot_id",  "load",
					     "memory", "pressure", "disks",	"services", NULL };
	json_t *v, *m;
	char a[64], b[64];
	size_t i;

	printf("%-9s %s\n", "status:", cli_scalar(json_object_get(h, "status"), a, sizeof(a)));
	json_array_foreach(json_object_get(h, "reasons"), i, v)
		printf("%-9s %s\n", i == 0 ? "reasons:" : "", cli_scalar(v, a, sizeof(a)));
	v = json_object_get(h, "uptime_ns");
	if (json_is_integer(v))
		printf("%-9s %s\n", "uptime:",
		       cli_duration_str((uint64_t)json_integer_value(v) / NSEC_PER_SEC, a,
					sizeof(a)));
	v = json_object_get(h, "boot_id");
	if (v)
		printf("%-9s %s\n", "boot id:", cli_scalar(v, a, sizeof(a)));
	v = json_object_get(h, "load");
	if (json_array_size(v) > 0) {
		printf("%-9s", "load:");
		json_array_foreach(v, i, m) printf(" %.2f", json_number_value(m));
		putchar('\n');
	}
	v = json_object_get(h, "memory");
	if (json_is_object(v)) {
		json_t *total = json_object_get(v, "total_bytes");
		json_t *avail = json_object_get(v, "available_bytes");

		if (json_is_number(total) && json_is_number(avail) && json_number_value(total) > 0)
			printf("%-9s %s available of %s (%.0f%% used)\n",
			       "memory:", cli_bytes_str(json_number_value(avail), a, sizeof(a)),
			       cli_bytes_str(json_number_value(total), b, sizeof(b)),
			       100.0 * (1 - json_number_value(avail) / json_number_value(total)));
		else
			cli_print_tree(0, "memory", v);
	}
	v = json_object_get(h, "pressure");
	if (json_is_object(v))
		cli_print_tree(0, "pressure", v);
	v = json_object_get(h, "disks");
	if (json_array_size(v) > 0) {
		struct cli_table t = { .ncols = 4 };

		puts("disks:");
		cli_table_add(&t, "  PATH", "SIZE", "USED", "USE%");
		json_array_foreach(v, i, m)
		{
			const char *path = json_string_value(json_object_get(m, "path"));
			json_t *total = json_object_get(m, "total_bytes");
			json_t *used = json_object_get(m, "used_bytes");
			json_t *used_pct = json_object_get(m, "used_percent");
			char p[300], s[32], u[32], pct[16] = "-";
			double tot = json_number_value(total),
			       us = used ? json_number_value(used) : -1;

			if (!path)
				path = json_string_value(json_object_get(m, "mountpoint"));
			/* the agent's figure, the one its reasons quote */
			if (json_is_integer(used_pct))
				snprintf(pct, sizeof(pct), "%lld%%",
					 (long long)json_integer_value(used_pct));
			if (json_is_false(json_object_get(m, "mounted")))
				snprintf(pct, sizeof(pct), "not mounted");
			snprintf(p, sizeof(p), "  %s", path ? path : "?");
			cli_table_add(&t, p, total ? cli_bytes_str(tot, s, sizeof(s)) : "-",
				      us >= 0 ? cli_bytes_str(us, u, sizeof(u)) : "-", pct);
		}
		cli_table_print_free(&t);
	}
	v = json_object_get(h, "services");
	if (json_array_size(v) > 0) {
		static const char *const shown[] = { "name", "state", NULL };
		struct cli_table t = { .ncols = 3 };

		puts("services:");
		cli_table_add(&t, "  NAME", "STATE", "DETAILS");
		json_array_foreach(v, i, m)
		{
			char n[128], details[512] = "", sbuf[128];
			const char *key;
			json_t *f;

			snprintf(n, sizeof(n), "  %s",
				 cli_scalar(json_object_get(m, "name"), a, sizeof(a)));
			json_object_foreach(m, key, f)
			{
				size_t l = strlen(details);

				if (str_in_list(key, shown))
					continue;
				snprintf(details + l, sizeof(details) - l, "%s%s=%s", l ? " " : "",
					 key, cli_scalar(f, sbuf, sizeof(sbuf)));
			}
			cli_table_add(&t, n, cli_scalar(json_object_get(m, "state"), b, sizeof(b)),
				      details);
		}
		cli_table_print_free(&t);
	}
	cli_print_rest(h, known, 9);
}

int cli_health(struct cli *cli, int argc, char **argv)
{
	return cli_query(cli, argc, argv, "porthole-health", print_health);
}

static void print_osinfo(json_t *result)
{
	static const char *const known[] = {
		"pretty-name", "name",		 "version",	   "version-id", "id", "variant",
		"variant-id",  "kernel-release", "kernel-version", "machine",	 NULL
	};
	char buf[256];

	for (size_t i = 0; known[i]; i++) {
		json_t *v = json_object_get(result, known[i]);
		char key[32];

		if (!v)
			continue;
		snprintf(key, sizeof(key), "%s:", known[i]);
		printf("%-16s %s\n", key, cli_scalar(v, buf, sizeof(buf)));
	}
	cli_print_rest(result, known, 16);
}

int cli_osinfo(struct cli *cli, int argc, char **argv)
{
	return cli_query(cli, argc, argv, "guest-get-osinfo", print_osinfo);
}

static void print_users(json_t *result)
{
	struct cli_table t = { .ncols = 3 };
	json_t *u;
	size_t i;

	if (json_array_size(result) == 0) {
		puts("no users logged in");
		return;
	}
	cli_table_add(&t, "USER", "LOGIN TIME", "DOMAIN");
	json_array_foreach(result, i, u)
	{
		char when[64];

		cli_table_add(
			&t, json_string_value(json_object_get(u, "user")),
			cli_guest_time_str(json_object_get(u, "login-time"), when, sizeof(when)),
			json_string_value(json_object_get(u, "domain")));
	}
	cli_table_print_free(&t);
}

int cli_users(struct cli *cli, int argc, char **argv)
{
	return cli_query(cli, argc, argv, "guest-get-users", print_users);
}

static void print_hostname(json_t *result)
{
	char buf[256];

	puts(cli_scalar(json_object_get(result, "host-name"), buf, sizeof(buf)));
}

int cli_hostname(struct cli *cli, int argc, char **argv)
{
	return cli_query(cli, argc, argv, "guest-get-host-name", print_hostname);
}
