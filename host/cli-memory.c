/* porthole memory, memory reclaim and memory target: what the VM holds, from
 * the guest (porthole-memory) and from the host (QEMU's RSS in
 * /proc/PID/status, the balloon through QMP), and giving memory back
 * (porthole-memory-reclaim, porthole-memory-target, QMP's balloon). The
 * guest's numbers are the agent's (docs/protocol.md); QMP is qmp.c's. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "qmp.h"
#include "util.h"

/* /proc/PID/status is 1.5 KiB; qemu.pid a line */
#define STATUS_MAX (64 * 1024)
#define PIDFILE_MAX 64

int cli_parse_size(const char *s, uint64_t *ret)
{
	static const struct {
		char c;
		unsigned shift;
	} units[] = { { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 } };
	uint64_t v;
	unsigned shift = 0;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -ERANGE;
	for (size_t i = 0; *end && i < sizeof(units) / sizeof(units[0]); i++)
		if ((*end & ~0x20) == units[i].c) {
			shift = units[i].shift;
			end++;
			/* K, KB, KiB: all binary, as the kernel's own sizes */
			if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0)
				end += strlen(end);
			break;
		}
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*ret = v << shift;
	return 0;
}

/* ---- the host's side ---- */

/* KEY's value in kB from /proc/PID/status's text, in bytes; -1 if absent. */
static json_int_t status_kb(const char *status, const char *key)
{
	size_t n = strlen(key);

	for (const char *line = status; line && *line; line = strchr(line, '\n'), line += !!line)
		if (strncmp(line, key, n) == 0 && line[n] == ':')
			return (json_int_t)strtoll(line + n + 1, NULL, 10) * 1024;
	return -1;
}

/* QEMU's pid from DIR/qemu.pid, checked to be a live QEMU (a stale file's
 * pid may be anyone's by now), and its memory from /proc/PID/status, into
 * HOST; or why not, as HOST's "error". */
static void host_rss(const char *dir, json_t *host)
{
	char path[4200], *text = NULL, *status = NULL, *name;
	long pid;
	char *end;
	int r;

	snprintf(path, sizeof(path), "%s/qemu.pid", dir);
	r = read_file(path, PIDFILE_MAX, &text, NULL);
	if (r < 0) {
		json_object_set_new(host, "error", json_sprintf("%s: %s", path, strerror(-r)));
		return;
	}
	pid = strtol(text, &end, 10);
	if (end == text || (*end && *end != '\n') || pid <= 0) {
		json_object_set_new(host, "error", json_sprintf("%s: not a pid", path));
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	r = read_file(path, STATUS_MAX, &status, NULL);
	name = status && strncmp(status, "Name:", 5) == 0 ? status + 5 + strspn(status + 5, "\t ")
							  : NULL;
	if (r < 0 || !name || strncmp(name, "qemu", 4) != 0) {
		json_object_set_new(
			host, "error",
			json_sprintf("QEMU (pid %ld from %s/qemu.pid) is not running", pid, dir));
		goto out;
	}
	json_object_set_new(host, "qemu_pid", json_integer(pid));
	json_object_set_new(host, "rss_bytes", json_integer(status_kb(status, "VmRSS")));
	json_object_set_new(host, "rss_anon_bytes", json_integer(status_kb(status, "RssAnon")));
	json_object_set_new(host, "rss_shmem_bytes", json_integer(status_kb(status, "RssShmem")));
out:
	free(status);
	free(text);
}

static int qmp_open_dir(const char *dir, int timeout_ms, struct qmp **ret, struct client_error *err)
{
	char path[200];

	if ((size_t)snprintf(path, sizeof(path), "%s/qmp.sock", dir) >= sizeof(path))
		return client_fail(err, -ENAMETOOLONG, "QMP %s/qmp.sock: path too long", dir);
	return qmp_open(path, timeout_ms, ret, err);
}

/* query-balloon's actual (the guest's memory less the balloon), into HOST. */
static void host_balloon(const char *dir, int timeout_ms, json_t *host)
{
	struct client_error err = { 0 };
	struct qmp *q = NULL;
	json_t *ret = NULL;
	int r;

	r = qmp_open_dir(dir, timeout_ms, &q, &err);
	if (r >= 0)
		r = qmp_execute(q, "query-balloon", NULL, timeout_ms, &ret, &err);
	if (r >= 0 && json_is_integer(json_object_get(ret, "actual")))
		json_object_set(host, "balloon_actual_bytes", json_object_get(ret, "actual"));
	else if (r == -EREMOTEIO)
		json_object_set_new(host, "balloon_error",
				    json_sprintf("%s: %s", err.class, err.desc));
	else if (r < 0)
		json_object_set_new(host, "balloon_error", json_string(err.desc));
	json_decref(ret);
	qmp_close(q);
}

/* ---- porthole memory ---- */

static const char *bytes_of(json_t *o, const char *key, char *buf, size_t size)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return "-";
	return cli_bytes_str((double)json_integer_value(v), buf, size);
}

/* A limit: bytes, or "max" for null (no limit), "-" when absent. */
static const char *limit_of(json_t *o, const char *key, char *buf, size_t size)
{
	json_t *v = json_object_get(o, key);

	if (json_is_null(v))
		return "max";
	return bytes_of(o, key, buf, size);
}

static const char *yes_no(json_t *v)
{
	return json_is_true(v) ? "yes" : json_is_false(v) ? "no" : "-";
}

static void print_guest(json_t *m)
{
	char a[32], b[32], c[32], d[32];
	json_t *psi = json_object_get(m, "pressure");

	printf("guest:    total %s, available %s, free %s\n", bytes_of(m, "total_bytes", a, 32),
	       bytes_of(m, "available_bytes", b, 32), bytes_of(m, "free_bytes", c, 32));
	printf("          page cache %s, anon %s, shmem %s\n",
	       bytes_of(m, "page_cache_bytes", a, 32), bytes_of(m, "anon_bytes", b, 32),
	       bytes_of(m, "shmem_bytes", c, 32));
	printf("          slab %s reclaimable, %s not\n",
	       bytes_of(m, "slab_reclaimable_bytes", d, 32),
	       bytes_of(m, "slab_unreclaimable_bytes", a, 32));
	if (json_is_object(psi))
		printf("pressure: some %.2f%%, full %.2f%% (avg10)\n",
		       json_number_value(json_object_get(psi, "some_avg10")),
		       json_number_value(json_object_get(psi, "full_avg10")));
}

static void print_balloon(json_t *m, json_t *host)
{
	json_t *bl = json_object_get(m, "balloon");
	char a[32], b[32];

	if (json_is_object(bl)) {
		if (!json_is_true(json_object_get(bl, "present")))
			printf("balloon:  no balloon device in the guest\n");
		else
			printf("balloon:  inflated %s, free page reporting %s\n",
			       bytes_of(bl, "inflated_bytes", a, 32),
			       json_is_true(json_object_get(bl, "free_page_reporting")) ? "on"
											: "off");
	}
	if (json_is_integer(json_object_get(host, "balloon_actual_bytes")))
		printf("          actual %s (QMP query-balloon)\n",
		       bytes_of(host, "balloon_actual_bytes", b, 32));
	else if (json_is_string(json_object_get(host, "balloon_error")))
		printf("          actual unknown: %s\n", cli_str(host, "balloon_error"));
}

static void print_cgroups(json_t *cgroups)
{
	struct cli_table t = { .ncols = 8 };
	json_t *g;
	size_t i;

	if (!json_is_array(cgroups) || json_array_size(cgroups) == 0)
		return;
	printf("\n");
	cli_table_add(&t, "CGROUP", "CURRENT", "ANON", "FILE", "KERNEL", "SHMEM", "HIGH", "MAX");
	json_array_foreach(cgroups, i, g)
	{
		char v[7][32];

		cli_table_add(
			&t, cli_str(g, "name"), bytes_of(g, "current_bytes", v[0], 32),
			bytes_of(g, "anon_bytes", v[1], 32), bytes_of(g, "file_bytes", v[2], 32),
			bytes_of(g, "kernel_bytes", v[3], 32), bytes_of(g, "shmem_bytes", v[4], 32),
			limit_of(g, "high_bytes", v[5], 32), limit_of(g, "max_bytes", v[6], 32));
	}
	cli_table_print_free(&t);
}

static void print_reclaim(json_t *rc)
{
	struct cli_table t = { .ncols = 5 };
	json_t *history = json_object_get(rc, "history"), *h;
	char a[32], b[32];
	size_t i;

	if (!json_is_object(rc))
		return;
	printf("\nreclaim:  automatic %s, idle %s (quiet for %s), %" JSON_INTEGER_FORMAT
	       " runs freed %s\n",
	       json_is_true(json_object_get(rc, "auto")) ? "on" : "off",
	       yes_no(json_object_get(rc, "idle")),
	       cli_duration_str((uint64_t)json_integer_value(json_object_get(rc, "idle_for_s")), a,
				sizeof(a)),
	       json_integer_value(json_object_get(rc, "count")),
	       bytes_of(rc, "freed_bytes", b, 32));
	if (!json_is_array(history) || json_array_size(history) == 0)
		return;
	cli_table_add(&t, "TIME", "REASON", "FULL", "FREED", "TOOK");
	json_array_foreach(history, i, h)
	{
		char when[64], freed[32], took[32];

		cli_time_str((int64_t)json_integer_value(json_object_get(h, "time_ns")), false,
			     when, sizeof(when));
		snprintf(took, sizeof(took), "%" JSON_INTEGER_FORMAT " ms",
			 json_integer_value(json_object_get(h, "duration_ms")));
		cli_table_add(&t, when, cli_str(h, "reason"), yes_no(json_object_get(h, "full")),
			      bytes_of(h, "freed_bytes", freed, 32), took);
	}
	cli_table_print_free(&t);
}

static void print_host(json_t *host)
{
	char a[32], b[32], c[32];

	if (!json_is_object(host))
		return;
	if (!json_is_integer(json_object_get(host, "qemu_pid"))) {
		printf("\nhost:     %s\n", cli_str(host, "error"));
		return;
	}
	printf("\nhost:     QEMU (pid %" JSON_INTEGER_FORMAT ") holds %s: anon %s, shmem %s\n",
	       json_integer_value(json_object_get(host, "qemu_pid")),
	       bytes_of(host, "rss_bytes", a, 32), bytes_of(host, "rss_anon_bytes", b, 32),
	       bytes_of(host, "rss_shmem_bytes", c, 32));
}

void cli_memory_print(json_t *m)
{
	json_t *host = json_object_get(m, "host");

	print_guest(m);
	print_balloon(m, host);
	print_cgroups(json_object_get(m, "cgroups"));
	print_reclaim(json_object_get(m, "reclaim"));
	print_host(host);
}

static int memory_show(struct cli *cli, const char *vm_dir_opt)
{
	json_t *result = NULL, *host;
	char dir[4096];
	int r;

	r = cli_call(cli, "porthole-memory", NULL, &result);
	if (r != CLI_EXIT_OK)
		return r;
	if (!json_is_object(result)) {
		json_decref(result);
		cli_error("porthole-memory: the result is not an object");
		return CLI_EXIT_GUEST;
	}
	cli_vm_dir(cli, vm_dir_opt, dir, sizeof(dir));
	host = json_object();
	if (host) {
		json_object_set_new(host, "vm_dir", json_string(dir));
		host_rss(dir, host);
		if (json_is_integer(json_object_get(host, "qemu_pid")))
			host_balloon(dir, cli->timeout_ms, host);
		json_object_set_new(result, "host", host);
	}
	if (cli->json)
		cli_print_json(result, JSON_COMPACT);
	else
		cli_memory_print(result);
	json_decref(result);
	return CLI_EXIT_OK;
}

/* ---- porthole memory reclaim ---- */

static int memory_reclaim(struct cli *cli, bool full)
{
	json_t *args = json_pack("{s:b}", "full", full), *result = NULL, *g;
	char a[32], b[32], c[32], d[32], e[32];
	size_t i;
	int r;

	r = cli_call(cli, "porthole-memory-reclaim", args, &result);
	json_decref(args);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json) {
		cli_print_json(result, JSON_COMPACT);
		json_decref(result);
		return CLI_EXIT_OK;
	}
	printf("freed %s in %" JSON_INTEGER_FORMAT " ms (%s): page cache %s -> %s, available %s -> "
	       "%s\n",
	       bytes_of(result, "freed_bytes", a, 32),
	       json_integer_value(json_object_get(result, "duration_ms")),
	       json_is_true(json_object_get(result, "full")) ? "full" : "gentle",
	       bytes_of(result, "page_cache_before_bytes", b, 32),
	       bytes_of(result, "page_cache_after_bytes", c, 32),
	       bytes_of(result, "available_before_bytes", d, 32),
	       bytes_of(result, "available_after_bytes", e, 32));
	json_array_foreach(json_object_get(result, "cgroups"), i, g)
		printf("  %-16s %s -> %s\n", cli_str(g, "name"), bytes_of(g, "before_bytes", a, 32),
		       bytes_of(g, "after_bytes", b, 32));
	json_decref(result);
	return CLI_EXIT_OK;
}

/* ---- porthole memory target ---- */

/* SIZE or "max" (0: no limit, or all of the guest's memory). */
static int parse_target(const char *cmd, const char *opt, const char *s, uint64_t *ret)
{
	if (strcmp(s, "max") == 0) {
		*ret = 0;
		return CLI_EXIT_OK;
	}
	if (cli_parse_size(s, ret) < 0 || *ret == 0)
		return cli_usage_error(cmd, "%s: a size (bytes, or with K, M, G) or max, not '%s'",
				       opt, s);
	return CLI_EXIT_OK;
}

static int target_engine(struct cli *cli, uint64_t bytes)
{
	json_t *args = json_pack("{s:I}", "engine_high_bytes", (json_int_t)bytes), *result = NULL;
	char a[32];
	int r;

	r = cli_call(cli, "porthole-memory-target", args, &result);
	json_decref(args);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json)
		cli_print_json(result, JSON_COMPACT);
	else
		printf("engine: %s memory.high %s\n", cli_str(result, "service"),
		       limit_of(result, "high_bytes", a, 32));
	json_decref(result);
	return CLI_EXIT_OK;
}

/* The balloon's target through QMP: BYTES, or (0) all of the guest's memory
 * (query-memory-size-summary's base-memory). QEMU lets the guest's driver
 * get there; query-balloon's actual shows how far it got. */
static int target_balloon(struct cli *cli, const char *dir, uint64_t bytes)
{
	struct client_error err = { 0 };
	struct qmp *q = NULL;
	json_t *ret = NULL, *args = NULL;
	char a[32], b[32];
	int r;

	r = qmp_open_dir(dir, cli->timeout_ms, &q, &err);
	if (r >= 0 && bytes == 0) {
		r = qmp_execute(q, "query-memory-size-summary", NULL, cli->timeout_ms, &ret, &err);
		if (r >= 0 && !json_is_integer(json_object_get(ret, "base-memory")))
			r = client_fail(&err, -EBADMSG,
					"QMP query-memory-size-summary: no base-memory");
		if (r >= 0)
			bytes = (uint64_t)json_integer_value(json_object_get(ret, "base-memory"));
		json_decref(ret);
		ret = NULL;
	}
	if (r >= 0) {
		args = json_pack("{s:I}", "value", (json_int_t)bytes);
		r = qmp_execute(q, "balloon", args, cli->timeout_ms, NULL, &err);
	}
	if (r >= 0)
		r = qmp_execute(q, "query-balloon", NULL, cli->timeout_ms, &ret, &err);
	json_decref(args);
	qmp_close(q);
	if (r == -EREMOTEIO) {
		cli_error("balloon: %s: %s", err.class, err.desc);
		return CLI_EXIT_GUEST;
	}
	if (r < 0) {
		cli_error("balloon: %s", err.desc);
		return CLI_EXIT_CONNECT;
	}
	if (cli->json) {
		json_t *out = json_pack("{s:I,s:O?}", "target_bytes", (json_int_t)bytes,
					"actual_bytes", json_object_get(ret, "actual"));

		cli_print_json(out, JSON_COMPACT);
		json_decref(out);
	} else {
		printf("balloon: target %s, actual %s now (the guest's driver gets there over the "
		       "next seconds)\n",
		       cli_bytes_str((double)bytes, a, sizeof(a)), bytes_of(ret, "actual", b, 32));
	}
	json_decref(ret);
	return CLI_EXIT_OK;
}

/* ---- the command ---- */

static const struct option memory_longs[] = {
	{ "json", no_argument, NULL, 'j' },	    { "full", no_argument, NULL, 'f' },
	{ "engine", required_argument, NULL, 'e' }, { "balloon", required_argument, NULL, 'b' },
	{ "vm-dir", required_argument, NULL, 'd' }, { 0 },
};
const struct cli_options cli_memory_options = { "", memory_longs };

int cli_memory(struct cli *cli, int argc, char **argv)
{
	const char *cmd = argv[0], *sub = NULL, *vm_dir_opt = NULL;
	const char *engine = NULL, *balloon = NULL;
	uint64_t engine_bytes = 0, balloon_bytes = 0;
	bool full = false;
	char dir[4096];
	int c, r;

	optind = 0; /* glibc: 0 re-initialises, so the main parser's "+" does not stick */
	while ((c = getopt_long(argc, argv, cli_memory_options.shorts, cli_memory_options.longs,
				NULL)) != -1) {
		switch (c) {
		case 'j':
			cli->json = true;
			break;
		case 'f':
			full = true;
			break;
		case 'e':
			engine = optarg;
			break;
		case 'b':
			balloon = optarg;
			break;
		case 'd':
			vm_dir_opt = optarg;
			break;
		default:
			return cli_usage_error(cmd, "bad option");
		}
	}
	if (optind < argc)
		sub = argv[optind++];
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected '%s'", argv[optind]);
	if (sub && strcmp(sub, "reclaim") != 0 && strcmp(sub, "target") != 0)
		return cli_usage_error(cmd, "reclaim or target, not '%s'", sub);
	if (full && (!sub || strcmp(sub, "reclaim") != 0))
		return cli_usage_error(cmd, "--full is for memory reclaim");
	if ((engine || balloon) && (!sub || strcmp(sub, "target") != 0))
		return cli_usage_error(cmd, "--engine and --balloon are for memory target");
	if (!sub)
		return memory_show(cli, vm_dir_opt);
	if (strcmp(sub, "reclaim") == 0)
		return memory_reclaim(cli, full);
	if (!engine && !balloon)
		return cli_usage_error(cmd, "memory target needs --engine or --balloon");
	if (engine && (r = parse_target(cmd, "--engine", engine, &engine_bytes)) != CLI_EXIT_OK)
		return r;
	if (balloon && (r = parse_target(cmd, "--balloon", balloon, &balloon_bytes)) != CLI_EXIT_OK)
		return r;
	if (engine && (r = target_engine(cli, engine_bytes)) != CLI_EXIT_OK)
		return r;
	if (!balloon)
		return CLI_EXIT_OK;
	cli_vm_dir(cli, vm_dir_opt, dir, sizeof(dir));
	return target_balloon(cli, dir, balloon_bytes);
}
