/* The CLI's shared helpers (cli.h): connecting and calling with exit codes,
 * messages, and the text forms of results. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client-addr.h"
#include "util.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("porthole: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("porthole: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "\n(porthole help %s)\n", cmd);
	else
		fputs("\n(porthole --help)\n", stderr);
	return CLI_EXIT_USAGE;
}

/* Prints the error behind R and returns the exit code it stands for. */
int cli_report(int r, const struct client_error *err)
{
	if (client_status(r) == CLIENT_GUEST_ERROR) {
		cli_error("guest error (%s): %s", err->class, err->desc);
		return CLI_EXIT_GUEST;
	}
	cli_error("%s", err->desc);
	return CLI_EXIT_CONNECT;
}

/* The address: --connect, else build/vm/agent.sock when it exists here
 * (what `make run` starts), else $PORTHOLE_CONNECT. */
static int resolve_address(struct cli *cli, char *buf, size_t size)
{
	const char *env = getenv("PORTHOLE_CONNECT");
	struct stat st;

	if (cli->address)
		return 0;
	if (stat(CLI_DEFAULT_SOCKET, &st) == 0) {
		snprintf(buf, size, "unix:%s", CLI_DEFAULT_SOCKET);
		cli->address = buf;
		return 0;
	}
	if (env && *env) {
		cli->address = env;
		return 0;
	}
	cli_error("no agent to talk to: %s does not exist here and PORTHOLE_CONNECT is not set; "
		  "pass --connect unix:PATH, vsock:CID:PORT or hvsock:PATH:PORT",
		  CLI_DEFAULT_SOCKET);
	return -ENOENT;
}

int cli_connect(struct cli *cli)
{
	struct client_options o = { .connect_timeout_ms = cli->timeout_ms };
	struct client_error err;
	/* cli->address may point here afterwards (the default address) */
	static char buf[128];
	int r;

	if (cli->c)
		return CLI_EXIT_OK;
	if (resolve_address(cli, buf, sizeof(buf)) < 0)
		return CLI_EXIT_CONNECT;
	r = client_open(cli->address, &o, &cli->c, &err);
	if (r < 0)
		return cli_report(r, &err);
	return CLI_EXIT_OK;
}

/* Calls NAME; on success *RET holds the result. Returns an exit code. */
int cli_call(struct cli *cli, const char *name, json_t *args, json_t **ret)
{
	struct client_error err;
	int r;

	r = cli_connect(cli);
	if (r != CLI_EXIT_OK)
		return r;
	r = client_call_json(cli->c, name, args, cli->timeout_ms, ret, &err);
	if (r < 0)
		return cli_report(r, &err);
	return CLI_EXIT_OK;
}

int cli_vsock_address(uint32_t port, char *buf, size_t size)
{
	char *file = NULL;
	int r = read_file(CLI_VSOCK_ADDRESS_FILE, 256, &file, NULL);

	if (r < 0)
		return r;
	file[strcspn(file, "\n")] = '\0';
	r = *file && (size_t)snprintf(buf, size, "%s:%" PRIu32, file, port) < size ? 0 : -EINVAL;
	free(file);
	return r;
}

void cli_vm_dir(const struct cli *cli, const char *given, char *buf, size_t size)
{
	struct client_addr a;
	char pidfile[sizeof(a.path) + 16];
	char *slash;

	if (given) {
		snprintf(buf, size, "%s", given);
		return;
	}
	snprintf(buf, size, "%s", CLI_VM_DIR_DEFAULT);
	if (!cli->address || client_addr_parse(cli->address, &a) < 0 || a.kind == CLIENT_ADDR_VSOCK)
		return;
	slash = strrchr(a.path, '/');
	if (!slash)
		snprintf(a.path, sizeof(a.path), ".");
	else if (slash == a.path)
		slash[1] = '\0';
	else
		*slash = '\0';
	snprintf(pidfile, sizeof(pidfile), "%s/qemu.pid", a.path);
	if (access(pidfile, F_OK) == 0)
		snprintf(buf, size, "%s", a.path);
}

void cli_print_json(json_t *v, size_t flags)
{
	char *s = json_dumps(v, flags | JSON_ENCODE_ANY);

	if (s) {
		puts(s);
		free(s);
	}
}

const char *cli_or_dash(const char *s)
{
	return s ? s : "-";
}

const char *cli_str(json_t *o, const char *key)
{
	return cli_or_dash(json_string_value(json_object_get(o, key)));
}

/* A scalar as text: strings as they are, numbers and the rest as JSON. */
const char *cli_scalar(json_t *v, char *buf, size_t size)
{
	char *s;

	if (!v)
		return "-";
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		snprintf(buf, size, "%.2f", json_real_value(v));
		return buf;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	snprintf(buf, size, "%s", s ? s : "?");
	free(s);
	return buf;
}

const char *cli_bytes_str(double b, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	size_t u = 0;

	while (b >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		b /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%.0f B", b);
	else
		snprintf(buf, size, "%.1f %s", b, units[u]);
	return buf;
}

const char *cli_duration_str(uint64_t s, char *buf, size_t size)
{
	uint64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;

	if (d)
		snprintf(buf, size, "%" PRIu64 "d %" PRIu64 "h %" PRIu64 "m", d, h, m);
	else if (h)
		snprintf(buf, size, "%" PRIu64 "h %" PRIu64 "m %" PRIu64 "s", h, m, s % 60);
	else if (m)
		snprintf(buf, size, "%" PRIu64 "m %" PRIu64 "s", m, s % 60);
	else
		snprintf(buf, size, "%" PRIu64 "s", s);
	return buf;
}

/* Nanoseconds since the epoch as "2025-11-27 13:09:38.129112000 UTC", or
 * without the fraction. */
const char *cli_time_str(int64_t ns, bool fraction, char *buf, size_t size)
{
	time_t s = (time_t)(ns / NSEC_PER_SEC);
	long frac = (long)(ns % NSEC_PER_SEC);
	struct tm tm;
	char day[40];

	if (frac < 0) {
		frac += NSEC_PER_SEC;
		s--;
	}
	if (!gmtime_r(&s, &tm)) {
		snprintf(buf, size, "%" PRId64 " ns", ns);
		return buf;
	}
	strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm);
	if (fraction)
		snprintf(buf, size, "%.32s.%09ld UTC", day, frac);
	else
		snprintf(buf, size, "%.32s UTC", day);
	return buf;
}

const char *cli_guest_time_str(json_t *v, char *buf, size_t size)
{
	double s = json_number_value(v);

	/* in range before it is converted: a double past int64 is undefined */
	if (!json_is_number(v) || !(s >= 0) || s >= (double)(INT64_MAX / NSEC_PER_SEC))
		return "-";
	return cli_time_str((int64_t)(s * NSEC_PER_SEC), false, buf, size);
}

void cli_table_add(struct cli_table *t, ...)
{
	va_list ap;

	if (t->n + t->ncols > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **nc = realloc(t->cells, cap * sizeof(*nc));

		if (!nc)
			return; /* out of memory: the row is left out */
		t->cells = nc;
		t->cap = cap;
	}
	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);

		t->cells[t->n++] = strdup(s ? s : "-");
	}
	va_end(ap);
}

void cli_table_print_free(struct cli_table *t)
{
	size_t width[CLI_TABLE_COLS] = { 0 };

	for (size_t i = 0; i < t->n; i++) {
		size_t l = t->cells[i] ? strlen(t->cells[i]) : 0;

		if (l > width[i % t->ncols])
			width[i % t->ncols] = l;
	}
	for (size_t i = 0; i < t->n; i++) {
		size_t col = i % t->ncols;
		const char *s = t->cells[i] ? t->cells[i] : "";

		if (col + 1 == t->ncols)
			printf("%s\n", s);
		else
			printf("%-*s  ", (int)width[col], s);
		free(t->cells[i]);
	}
	free(t->cells);
	*t = (struct cli_table){ 0 };
}

/* Prints V as "PATH: key=value ..." lines, one per nested object, whatever
 * its shape: what the agent adds later still shows. */
void cli_print_tree(int indent, const char *path, json_t *v)
{
	const char *key;
	json_t *m;
	char buf[128];
	bool any_scalar = false;

	if (!json_is_object(v)) {
		printf("%*s%s: %s\n", indent, "", path, cli_scalar(v, buf, sizeof(buf)));
		return;
	}
	json_object_foreach(v, key, m)
	{
		size_t i;
		json_t *e;

		if (json_is_object(m))
			continue;
		if (!any_scalar)
			printf("%*s%s:", indent, "", path);
		any_scalar = true;
		if (!json_is_array(m)) {
			printf(" %s=%s", key, cli_scalar(m, buf, sizeof(buf)));
			continue;
		}
		printf(" %s=", key);
		json_array_foreach(m, i, e)
			printf("%s%s", i ? "," : "", cli_scalar(e, buf, sizeof(buf)));
	}
	if (any_scalar)
		putchar('\n');
	json_object_foreach(v, key, m)
	{
		char sub[128];

		if (!json_is_object(m))
			continue;
		snprintf(sub, sizeof(sub), "%s %s", path, key);
		cli_print_tree(indent, sub, m);
	}
}

void cli_print_rest(json_t *obj, const char *const *known, int width)
{
	const char *key;
	json_t *m;
	char buf[256];

	json_object_foreach(obj, key, m)
	{
		if (str_in_list(key, known))
			continue;
		char label[64];

		if (json_is_object(m)) {
			cli_print_tree(0, key, m);
			continue;
		}
		snprintf(label, sizeof(label), "%s:", key);
		if (json_is_array(m)) {
			size_t i;
			json_t *e;

			printf("%-*s", width, label);
			json_array_foreach(m, i, e)
				printf("%s%s", i ? ", " : " ", cli_scalar(e, buf, sizeof(buf)));
			putchar('\n');
			continue;
		}
		printf("%-*s %s\n", width, label, cli_scalar(m, buf, sizeof(buf)));
	}
}

int cli_no_args(const char *cmd, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_usage_error(cmd, "%s takes no arguments", cmd);
	return CLI_EXIT_OK;
}

/* Runs a command without arguments and prints the raw result for --json,
 * or calls PRINT. */
int cli_query(struct cli *cli, int argc, char **argv, const char *name,
	      void (*print)(json_t *result))
{
	json_t *result = NULL;
	int r = cli_no_args(argv[0], argc, argv);

	if (r != CLI_EXIT_OK)
		return r;
	r = cli_call(cli, name, NULL, &result);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json)
		cli_print_json(result, JSON_COMPACT);
	else
		print(result);
	json_decref(result);
	return CLI_EXIT_OK;
}
