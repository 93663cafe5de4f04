/* porthole: the host's command line client for porthole-agent (and any QEMU
 * guest agent). Parses the command line, asks through the client library,
 * prints the answer for people or, with --json, for scripts. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "cli.h"
#include "client.h"
#include "util.h"
#include "walltime.h"

struct command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *args; /* the usage after the name */
	const char *help;
};

static const struct command commands[];

static int cmd_ping(struct cli *cli, int argc, char **argv)
{
	json_t *result = NULL;
	uint64_t t0;
	int r = no_args(argv[0], argc, argv);

	if (r != EXIT_OK)
		return r;
	r = cli_connect(cli);
	if (r != EXIT_OK)
		return r;
	t0 = now_mono_ns();
	r = cli_call(cli, "guest-ping", NULL, &result);
	if (r != EXIT_OK)
		return r;
	if (cli->json)
		print_json(result, JSON_COMPACT);
	else
		printf("ok (%.3f ms)\n", (double)(now_mono_ns() - t0) / 1e6);
	json_decref(result);
	return EXIT_OK;
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
	       "version:", scalar(json_object_get(result, "version"), buf, sizeof(buf)));
	print_rest(result, known, 9);
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

static int cmd_info(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, "guest-info", print_info);
}

static void print_health(json_t *h)
{
	static const char *const known[] = { "status", "reasons",  "uptime_ns", "boot_id",  "load",
					     "memory", "pressure", "disks",	"services", NULL };
	json_t *v, *m;
	char a[64], b[64];
	size_t i;

	printf("%-9s %s\n", "status:", scalar(json_object_get(h, "status"), a, sizeof(a)));
	json_array_foreach(json_object_get(h, "reasons"), i, v)
		printf("%-9s %s\n", i == 0 ? "reasons:" : "", scalar(v, a, sizeof(a)));
	v = json_object_get(h, "uptime_ns");
	if (json_is_integer(v))
		printf("%-9s %s\n", "uptime:",
		       duration_str((uint64_t)json_integer_value(v) / 1000000000u, a, sizeof(a)));
	v = json_object_get(h, "boot_id");
	if (v)
		printf("%-9s %s\n", "boot id:", scalar(v, a, sizeof(a)));
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
			       "memory:", bytes_str(json_number_value(avail), a, sizeof(a)),
			       bytes_str(json_number_value(total), b, sizeof(b)),
			       100.0 * (1 - json_number_value(avail) / json_number_value(total)));
		else
			print_tree(0, "memory", v);
	}
	v = json_object_get(h, "pressure");
	if (json_is_object(v))
		print_tree(0, "pressure", v);
	v = json_object_get(h, "disks");
	if (json_array_size(v) > 0) {
		struct table t = { .ncols = 4 };

		puts("disks:");
		table_add(&t, "  PATH", "SIZE", "USED", "USE%");
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
			table_add(&t, p, total ? bytes_str(tot, s, sizeof(s)) : "-",
				  us >= 0 ? bytes_str(us, u, sizeof(u)) : "-", pct);
		}
		table_print_free(&t);
	}
	v = json_object_get(h, "services");
	if (json_array_size(v) > 0) {
		static const char *const shown[] = { "name", "state", NULL };
		struct table t = { .ncols = 3 };

		puts("services:");
		table_add(&t, "  NAME", "STATE", "DETAILS");
		json_array_foreach(v, i, m)
		{
			char n[128], details[512] = "", sbuf[128];
			const char *key;
			json_t *f;

			snprintf(n, sizeof(n), "  %s",
				 scalar(json_object_get(m, "name"), a, sizeof(a)));
			json_object_foreach(m, key, f)
			{
				size_t l = strlen(details);

				if (in_list(key, shown))
					continue;
				snprintf(details + l, sizeof(details) - l, "%s%s=%s", l ? " " : "",
					 key, scalar(f, sbuf, sizeof(sbuf)));
			}
			table_add(&t, n, scalar(json_object_get(m, "state"), b, sizeof(b)),
				  details);
		}
		table_print_free(&t);
	}
	print_rest(h, known, 9);
}

static int cmd_health(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, "porthole-health", print_health);
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
		printf("%-16s %s\n", key, scalar(v, buf, sizeof(buf)));
	}
	print_rest(result, known, 16);
}

static int cmd_osinfo(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, "guest-get-osinfo", print_osinfo);
}

static void print_fsinfo(json_t *result)
{
	struct table t = { .ncols = 7 };
	json_t *fs, *disk;
	size_t i, j;

	table_add(&t, "MOUNTPOINT", "TYPE", "NAME", "SIZE", "USED", "USE%", "DEVICES");
	json_array_foreach(result, i, fs)
	{
		json_t *total = json_object_get(fs, "total-bytes");
		json_t *used = json_object_get(fs, "used-bytes");
		char s[32] = "-", u[32] = "-", pct[16] = "-", devs[256] = "";

		if (json_is_number(total))
			bytes_str(json_number_value(total), s, sizeof(s));
		if (json_is_number(used))
			bytes_str(json_number_value(used), u, sizeof(u));
		if (json_is_number(total) && json_is_number(used) && json_number_value(total) > 0)
			snprintf(pct, sizeof(pct), "%.0f%%",
				 100 * json_number_value(used) / json_number_value(total));
		json_array_foreach(json_object_get(fs, "disk"), j, disk)
		{
			const char *dev = json_string_value(json_object_get(disk, "dev"));
			size_t l = strlen(devs);

			snprintf(devs + l, sizeof(devs) - l, "%s%s", l ? "," : "", dev ? dev : "?");
		}
		table_add(&t, json_string_value(json_object_get(fs, "mountpoint")),
			  json_string_value(json_object_get(fs, "type")),
			  json_string_value(json_object_get(fs, "name")), s, u, pct,
			  *devs ? devs : "-");
	}
	table_print_free(&t);
}

static int cmd_fsinfo(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, "guest-get-fsinfo", print_fsinfo);
}

static void print_users(json_t *result)
{
	struct table t = { .ncols = 3 };
	json_t *u;
	size_t i;

	if (json_array_size(result) == 0) {
		puts("no users logged in");
		return;
	}
	table_add(&t, "USER", "LOGIN TIME", "DOMAIN");
	json_array_foreach(result, i, u)
	{
		json_t *login = json_object_get(u, "login-time");
		char when[64] = "-";

		/* the guest's figure: in range before it is converted */
		if (json_is_number(login) && json_number_value(login) >= 0 &&
		    json_number_value(login) <= WALLTIME_QUERY_MAX_S)
			time_str((int64_t)(json_number_value(login) * 1e9), false, when,
				 sizeof(when));
		table_add(&t, json_string_value(json_object_get(u, "user")), when,
			  json_string_value(json_object_get(u, "domain")));
	}
	table_print_free(&t);
}

static int cmd_users(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, "guest-get-users", print_users);
}

static void print_hostname(json_t *result)
{
	char buf[256];

	puts(scalar(json_object_get(result, "host-name"), buf, sizeof(buf)));
}

static int cmd_hostname(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, "guest-get-host-name", print_hostname);
}

/* Reads all of stdin, at most MAX bytes. */
static int read_stdin(size_t max, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb;

			if (cap > max) {
				free(buf);
				return -EFBIG;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = read(STDIN_FILENO, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		free(buf);
		return -EFBIG;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* Writes base64 DATA of an exec status member to F. */
static void write_b64(json_t *data, FILE *f, const char *what)
{
	void *buf;
	size_t len;

	if (!json_is_string(data))
		return;
	if (base64_decode(json_string_value(data), json_string_length(data), 0, &buf, &len) < 0) {
		errorf("guest-exec-status: %s is not base64, ignoring", what);
		return;
	}
	fwrite(buf, 1, len, f);
	fflush(f);
	free(buf);
}

static int exec_args(const char *cmd, int argc, char **argv, json_t *args, double *wait_s)
{
	static const struct option opts[] = {
		{ "wait", required_argument, NULL, 'w' },
		{ "env", required_argument, NULL, 'e' },
		{ "stdin", no_argument, NULL, 'i' },
		{ 0 },
	};
	json_t *env = json_array(), *arg = json_array();
	int c;

	optind = 1;
	/* "+": options end at the command, whose own options are its own. */
	while ((c = getopt_long(argc, argv, "+w:e:i", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (parse_seconds(optarg, wait_s) < 0)
				return usage_error(cmd, "--wait: not a number of seconds: %s",
						   optarg);
			break;
		case 'e':
			if (!strchr(optarg, '='))
				return usage_error(cmd, "--env wants NAME=VALUE, not %s", optarg);
			if (json_array_size(env) >= EXEC_ENV_MAX)
				return usage_error(cmd, "at most %d --env", EXEC_ENV_MAX);
			json_array_append_new(env, json_string(optarg));
			break;
		case 'i': {
			char *data = NULL, *b64 = NULL;
			size_t len = 0;
			int r = read_stdin(EXEC_STDIN_MAX, &data, &len);

			if (r < 0) {
				errorf("read stdin (at most %d bytes): %s", EXEC_STDIN_MAX,
				       strerror(-r));
				return EXIT_USAGE;
			}
			r = base64_encode(data, len, &b64, NULL);
			free(data);
			if (r < 0) {
				errorf("encode stdin: %s", strerror(-r));
				return EXIT_USAGE;
			}
			json_object_set_new(args, "input-data", json_string(b64));
			free(b64);
			break;
		}
		default:
			return usage_error(cmd, "bad option");
		}
	}
	if (optind >= argc)
		return usage_error(cmd, "exec needs a command");
	json_object_set_new(args, "path", json_string(argv[optind]));
	for (int i = optind + 1; i < argc; i++)
		json_array_append_new(arg, json_string(argv[i]));
	if (json_array_size(arg))
		json_object_set(args, "arg", arg);
	if (json_array_size(env))
		json_object_set(args, "env", env);
	json_object_set_new(args, "capture-output", json_true());
	json_decref(env);
	json_decref(arg);
	return EXIT_OK;
}

static int exec_status_code(json_t *st, const char *path)
{
	json_t *code = json_object_get(st, "exitcode");
	json_t *sig = json_object_get(st, "signal");

	if (json_is_true(json_object_get(st, "out-truncated")))
		errorf("%s: the guest truncated the captured stdout", path);
	if (json_is_true(json_object_get(st, "err-truncated")))
		errorf("%s: the guest truncated the captured stderr", path);
	if (json_is_integer(code))
		return (int)(json_integer_value(code) & 0xff);
	if (json_is_integer(sig)) {
		errorf("%s: killed by signal %" JSON_INTEGER_FORMAT, path, json_integer_value(sig));
		return 128 + (int)(json_integer_value(sig) & 0x7f);
	}
	errorf("%s: exited, but the guest gave neither exit code nor signal", path);
	return EXIT_GUEST;
}

static int cmd_exec(struct cli *cli, int argc, char **argv)
{
	json_t *args = json_object(), *result = NULL, *st = NULL, *sargs = NULL;
	double wait_s = EXEC_WAIT_S_DEFAULT;
	unsigned poll_ms = EXEC_POLL_MIN_MS;
	const char *path;
	uint64_t deadline;
	json_int_t pid;
	int r;

	r = exec_args(argv[0], argc, argv, args, &wait_s);
	if (r != EXIT_OK)
		goto out;
	path = json_string_value(json_object_get(args, "path"));
	r = cli_call(cli, "guest-exec", args, &result);
	if (r != EXIT_OK)
		goto out;
	if (!json_is_integer(json_object_get(result, "pid"))) {
		errorf("guest-exec on %s: the result has no pid", cli->address);
		r = EXIT_CONNECT;
		goto out;
	}
	pid = json_integer_value(json_object_get(result, "pid"));
	sargs = json_pack("{s:I}", "pid", pid);
	deadline = now_mono_ns() + (uint64_t)(wait_s * 1e9);
	for (;;) {
		r = cli_call(cli, "guest-exec-status", sargs, &st);
		if (r != EXIT_OK)
			goto out;
		if (json_is_true(json_object_get(st, "exited")))
			break;
		json_decref(st);
		st = NULL;
		if (now_mono_ns() + poll_ms * 1000000ull > deadline) {
			errorf("%s (pid %" JSON_INTEGER_FORMAT
			       ") still runs in the guest after %g s",
			       path, pid, wait_s);
			r = EXIT_CONNECT;
			goto out;
		}
		usleep(poll_ms * 1000);
		poll_ms = poll_ms * 2 > EXEC_POLL_MAX_MS ? EXEC_POLL_MAX_MS : poll_ms * 2;
	}
	if (cli->json) {
		print_json(st, JSON_COMPACT);
	} else {
		/* qemu-ga forgets the process once it reported its exit: this
		 * is the only copy of the output. */
		write_b64(json_object_get(st, "out-data"), stdout, "out-data");
		write_b64(json_object_get(st, "err-data"), stderr, "err-data");
	}
	r = exec_status_code(st, path);
out:
	json_decref(args);
	json_decref(sargs);
	json_decref(result);
	json_decref(st);
	return r;
}

static int cmd_shutdown(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reboot", no_argument, NULL, 'r' },
		{ "halt", no_argument, NULL, 'H' },
		{ "powerdown", no_argument, NULL, 'p' },
		{ 0 },
	};
	const char *mode = "powerdown";
	struct client_error err;
	bool closed;
	json_t *args;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'r')
			mode = "reboot";
		else if (c == 'H')
			mode = "halt";
		else if (c == 'p')
			mode = "powerdown";
		else
			return usage_error(argv[0], "bad option");
	}
	if (optind < argc)
		return usage_error(argv[0], "shutdown takes no arguments but an option");
	r = cli_connect(cli);
	if (r != EXIT_OK)
		return r;
	/* guest-shutdown answers nothing when it succeeds: the library tells
	 * acceptance (a sync's reply, or a close) from refusal (its error) */
	args = json_pack("{s:s}", "mode", mode);
	r = args ? client_call_silent(cli->c, "guest-shutdown", args, cli->timeout_ms, &closed,
				      &err)
		 : -ENOMEM;
	json_decref(args);
	if (r < 0)
		return report(r, &err);
	if (!cli->json && closed) {
		printf("%s requested (the agent closed the connection)\n", mode);
		return EXIT_OK;
	}
	if (!cli->json)
		printf("%s requested\n", mode);
	else
		puts("{}");
	return EXIT_OK;
}

static int cmd_call(struct cli *cli, int argc, char **argv)
{
	json_t *args = NULL, *result = NULL;
	json_error_t jerr;
	int r;

	if (argc < 2 || argc > 3)
		return usage_error(argv[0], "call wants NAME [ARGS-JSON]");
	if (argc == 3) {
		args = json_loads(argv[2], 0, &jerr);
		if (!args)
			return usage_error(argv[0], "ARGS-JSON: %s (at character %d)", jerr.text,
					   jerr.position);
		if (!json_is_object(args)) {
			json_decref(args);
			return usage_error(argv[0], "ARGS-JSON must be a JSON object");
		}
	}
	if (client_command_silent(argv[1])) {
		/* nothing comes back on success: {} once it is known to be taken */
		struct client_error err;
		bool closed;

		r = cli_connect(cli);
		if (r == EXIT_OK) {
			int e = client_call_silent(cli->c, argv[1], args, cli->timeout_ms, &closed,
						   &err);

			if (e < 0)
				r = report(e, &err);
		}
		json_decref(args);
		if (r == EXIT_OK)
			puts("{}");
		return r;
	}
	r = cli_call(cli, argv[1], args, &result);
	json_decref(args);
	if (r != EXIT_OK)
		return r;
	print_json(result, cli->json ? JSON_COMPACT : JSON_INDENT(2));
	json_decref(result);
	return EXIT_OK;
}

static int cmd_help(struct cli *cli, int argc, char **argv);

static const struct command commands[] = {
	{ "ping", cmd_ping, "", "Checks that the agent answers (guest-ping)." },
	{ "info", cmd_info, "",
	  "The agent's version and the commands it supports, disabled ones marked "
	  "(guest-info)." },
	{ "health", cmd_health, "",
	  "The VM's health: status and reasons, uptime, load, memory, pressure, disks, "
	  "services (porthole-health; porthole-agent only)." },
	{ "time", cli_time,
	  "[sync [--samples N] [--mode auto|step|slew] [--rtc] [--set] | watch [--interval S] [--count N]]",
	  "The guest's clock and its offset from the host's, measured NTP's way from "
	  "several guest-get-time round trips (the one with the smallest round trip, good "
	  "to half of it). 'sync' corrects the offset with porthole-time-adjust (a step "
	  "above 100 ms, a slew below, unless --mode says) and measures again; --rtc also "
	  "writes the guest's RTC. 'watch' syncs every --interval (10 s) and at once when "
	  "the host has just resumed from sleep or the guest's clock jumped; --count stops "
	  "after N syncs. --set corrects with guest-set-time and the host's time instead (what "
	  "qemu-ga offers, and what porthole falls back to there): the request's own delay is "
	  "then a guess." },
	{ "network", cli_network, "",
	  "The guest's network: interfaces with state, MAC, MTU and addresses, DHCP leases, "
	  "routes and DNS (porthole-network; guest-network-get-interfaces from qemu-ga)." },
	{ "dns", cli_dns, "set SERVER... [--search DOMAIN...]",
	  "Sets the guest's name servers and search domains in /etc/resolv.conf; a DHCP "
	  "renewal keeps them (porthole-dns-set)." },
	{ "osinfo", cmd_osinfo, "", "The guest's operating system and kernel (guest-get-osinfo)." },
	{ "fsinfo", cmd_fsinfo, "",
	  "The guest's mounted block-device file systems, their size and use "
	  "(guest-get-fsinfo)." },
	{ "mount", cli_mount, "TAG TARGET [--type virtiofs|9p] [--ro] [--option K=V]...",
	  "Mounts the host's shared folder TAG (virtiofs or 9p; found out when --type is not "
	  "given) on TARGET in the guest, under the allowed roots (/mnt, /host, /Users, /home "
	  "unless agent.share_roots says otherwise), creating it; nothing is mounted through a "
	  "symbolic link. --option: 9p's msize=BYTES and cache=MODE, virtiofs's dax[=MODE] "
	  "(porthole-mount)." },
	{ "umount", cli_umount, "TARGET [--lazy]",
	  "Unmounts the share on TARGET; --lazy detaches it even when in use "
	  "(porthole-unmount)." },
	{ "mounts", cli_mounts, "",
	  "The shares mounted in the guest: tag, type, target, health (ok, or stale when the "
	  "host side does not answer within a second), size and options (porthole-mounts)." },
	{ "trim", cli_trim, "[PATH]",
	  "Gives the blocks that deleted files freed back to the host (FITRIM): on every "
	  "block-device file system, or the one holding PATH; prints the bytes trimmed "
	  "(porthole-trim)." },
	{ "services", cli_services, "",
	  "init's services: a table of name, state, pid, how long in that state, restarts, "
	  "ready, memory and CPU used (from the service's cgroup), and OOM kills when there "
	  "were any (porthole-services)." },
	{ "logs", cli_logs, "NAME [-n N] [--since TIME]",
	  "The last N lines (100; at most 10000) that service NAME wrote, or the kernel's log "
	  "for NAME kernel, as \"TIME STREAM TEXT\" in local time. --since: only lines from "
	  "then on, in seconds since the epoch or a time ago (90s, 10m, 2h, 1d) "
	  "(porthole-logs)." },
	{ "restart", cli_restart, "NAME",
	  "Asks init to restart service NAME: it is stopped and started again; its dependents "
	  "keep running (porthole-service-restart)." },
	{ "events", cli_events, "[--follow]",
	  "The guest's events: its services' (exited, restarted, failed, ready, oom_kill) and "
	  "its clock's, one per line; --follow waits for more until interrupted "
	  "(porthole-events)." },
	{ "users", cmd_users, "", "Users logged in to the guest (guest-get-users)." },
	{ "hostname", cmd_hostname, "", "The guest's host name (guest-get-host-name)." },
	{ "exec", cmd_exec, "[--wait S] [--env NAME=VALUE]... [--stdin] [--] CMD [ARG...]",
	  "Runs CMD in the guest (guest-exec with capture-output), waits for it at most S "
	  "seconds (300 by default) polling guest-exec-status, prints its stdout and stderr "
	  "and exits with its status (128+N when killed by signal N). --stdin sends porthole's "
	  "standard input (at most 1 MiB) as the command's. The agent must allow guest-exec." },
	{ "shutdown", cmd_shutdown, "[--reboot | --halt]",
	  "Powers the guest off (or reboots, or halts it) (guest-shutdown). The agent sends "
	  "no reply when it accepts: porthole sends guest-sync behind it and takes its reply, "
	  "or the connection closing, as the acceptance." },
	{ "call", cmd_call, "NAME [ARGS-JSON]",
	  "Calls any command NAME with the arguments ARGS-JSON (a JSON object) and prints "
	  "the JSON result (indented; compact with --json)." },
	{ "help", cmd_help, "[COMMAND]", "Describes COMMAND, or lists the commands." },
	{ NULL, NULL, NULL, NULL },
};

static void print_usage(FILE *f)
{
	fputs("Usage: porthole [OPTIONS] COMMAND [ARGS...]\n"
	      "Asks porthole-agent (or any QEMU guest agent) in the VM.\n"
	      "\n"
	      "Options:\n"
	      "  -c, --connect ADDRESS  unix:PATH, vsock:CID:PORT, or hvsock:PATH:PORT (the\n"
	      "                         'CONNECT <port>' unix socket of Firecracker, Cloud\n"
	      "                         Hypervisor and vhost-user vsock). Default: unix:" DEFAULT_SOCKET
	      "\n"
	      "                         if it exists here, else $PORTHOLE_CONNECT.\n"
	      "  -j, --json             print the command's raw JSON result\n"
	      "  -t, --timeout S        for connecting and for each reply (default 10)\n"
	      "  -h, --help             this text; 'porthole help COMMAND' for one command\n"
	      "  -V, --version          porthole's version\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (const struct command *c = commands; c->name; c++)
		fprintf(f, "  %-9s %s\n", c->name, c->args);
	fputs("\nExit status: 0 ok, 1 the guest answered an error, 2 usage, 3 could not\n"
	      "connect, the connection failed or timed out; exec: the command's status.\n",
	      f);
}

static const struct command *find_command(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void print_command_help(const struct command *c)
{
	printf("Usage: porthole [OPTIONS] %s%s%s\n\n%s\n", c->name, *c->args ? " " : "", c->args,
	       c->help);
}

static int cmd_help(struct cli *cli, int argc, char **argv)
{
	const struct command *c;

	(void)cli;
	if (argc < 2) {
		print_usage(stdout);
		return EXIT_OK;
	}
	if (argc > 2)
		return usage_error("help", "help takes one command");
	c = find_command(argv[1]);
	if (!c)
		return usage_error(NULL, "unknown command '%s'", argv[1]);
	print_command_help(c);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "connect", required_argument, NULL, 'c' }, { "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },	     { 0 },
	};
	struct cli cli = { .timeout_ms = CLIENT_TIMEOUT_MS_DEFAULT };
	const struct command *cmd;
	double timeout_s;
	int c, r;

	/* "+": options after the command are the command's. */
	while ((c = getopt_long(argc, argv, "+c:jt:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cli.address = optarg;
			break;
		case 'j':
			cli.json = true;
			break;
		case 't':
			if (parse_seconds(optarg, &timeout_s) < 0)
				return usage_error(NULL,
						   "--timeout: not a number of seconds in "
						   "(0, %.0f]: %s",
						   TIMEOUT_S_MAX, optarg);
			cli.timeout_ms = (int)(timeout_s * 1000 + 0.999);
			break;
		case 'h':
			print_usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("porthole %s\n", PORTHOLE_VERSION);
			return EXIT_OK;
		default:
			print_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error(NULL, "no command");
	cmd = find_command(argv[optind]);
	if (!cmd)
		return usage_error(NULL, "unknown command '%s'", argv[optind]);
	/* "porthole COMMAND --help" is "porthole help COMMAND". */
	for (int i = optind + 1; i < argc && cmd->run != cmd_exec && cmd->run != cmd_call; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			print_command_help(cmd);
			return EXIT_OK;
		}
	if ((cmd->run == cmd_exec || cmd->run == cmd_call) && optind + 1 < argc &&
	    (strcmp(argv[optind + 1], "--help") == 0 || strcmp(argv[optind + 1], "-h") == 0)) {
		print_command_help(cmd);
		return EXIT_OK;
	}
	r = cmd->run(&cli, argc - optind, argv + optind);
	/* Flush before closing: a full pipe is not the agent's problem. */
	fflush(stdout);
	client_close(cli.c);
	return r;
}
