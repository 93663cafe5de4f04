/* The CLI's shared parts: the connection and call helpers, output helpers
 * (tables, sizes, times, JSON), exit codes. host/porthole.c has the command
 * table; groups of commands live in host/cli-*.c. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"

/* Exit codes (docs/cli.md). exec exits with the command's own status. */
enum {
	EXIT_OK = 0,
	EXIT_GUEST = 1, /* the guest answered with an error */
	EXIT_USAGE = 2, /* the command line is wrong */
	EXIT_CONNECT = 3, /* could not connect, the connection failed, or timed out */
};

#define DEFAULT_SOCKET "build/vm/agent.sock"
#define TIMEOUT_S_MAX 86400.0

struct cli {
	const char *address;
	bool json;
	int timeout_ms;
	struct client *c;
};

/* A text table: columns as wide as their widest cell, two spaces apart. */
#define TABLE_COLS 10

struct table {
	size_t ncols;
	char **cells;
	size_t n, cap;
};

void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints a usage error naming CMD's help and returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the error behind R and returns the exit code it stands for. */
int report(int r, const struct client_error *err);
int cli_connect(struct cli *cli);
/* Calls NAME; on success *RET holds the result. Returns an exit code. */
int cli_call(struct cli *cli, const char *name, json_t *args, json_t **ret);
void print_json(json_t *v, size_t flags);
const char *scalar(json_t *v, char *buf, size_t size);
const char *bytes_str(double b, char *buf, size_t size);
const char *duration_str(uint64_t s, char *buf, size_t size);
const char *time_str(int64_t ns, bool fraction, char *buf, size_t size);
void table_add(struct table *t, ...);
void table_print_free(struct table *t);
void print_tree(int indent, const char *path, json_t *v);
void print_rest(json_t *obj, const char *const *known, int width);
bool in_list(const char *s, const char *const *list);
int no_args(const char *cmd, int argc, char **argv);
/* Runs a command without arguments: the raw result for --json, else PRINT. */
int simple(struct cli *cli, int argc, char **argv, const char *name, void (*print)(json_t *result));
int parse_seconds(const char *s, double *ret);

/* Commands in host/cli-*.c, listed in porthole.c's table. */
int cli_ping(struct cli *cli, int argc, char **argv); /* cli-system.c */
int cli_info(struct cli *cli, int argc, char **argv);
int cli_health(struct cli *cli, int argc, char **argv);
int cli_osinfo(struct cli *cli, int argc, char **argv);
int cli_users(struct cli *cli, int argc, char **argv);
int cli_hostname(struct cli *cli, int argc, char **argv);
int cli_exec(struct cli *cli, int argc, char **argv); /* cli-exec.c */
int cli_shutdown(struct cli *cli, int argc, char **argv); /* cli-power.c */
int cli_call_any(struct cli *cli, int argc, char **argv); /* cli-call.c: porthole call */
int cli_time(struct cli *cli, int argc, char **argv); /* cli-time.c */
int cli_mount(struct cli *cli, int argc, char **argv); /* cli-shares.c */
int cli_umount(struct cli *cli, int argc, char **argv);
int cli_mounts(struct cli *cli, int argc, char **argv);
int cli_trim(struct cli *cli, int argc, char **argv);
int cli_fsinfo(struct cli *cli, int argc, char **argv);
int cli_network(struct cli *cli, int argc, char **argv); /* cli-net.c */
int cli_dns(struct cli *cli, int argc, char **argv); /* cli-net.c */
int cli_services(struct cli *cli, int argc, char **argv); /* cli-services.c */
int cli_logs(struct cli *cli, int argc, char **argv);
int cli_restart(struct cli *cli, int argc, char **argv);
int cli_events(struct cli *cli, int argc, char **argv);

/* cli-services.c's formatting, for the tests. */
/* Seconds since the epoch T as local "2026-11-27 15:20:01.250". */
const char *local_time_str(double t, char *buf, size_t size);
/* The services table (porthole-services' result): NAME STATE PID SINCE
 * (how long ago, from NOW) RESTARTS READY MEMORY CPU, and OOM when any
 * service had an OOM kill. T is empty; table_print_free prints it. */
void services_table_fill(struct table *t, json_t *services, double now);
/* "TIME STREAM TEXT" for one of porthole-logs' lines, the time local. */
void log_line_format(json_t *line, char *buf, size_t size);
/* --since: seconds since the epoch, or a time ago ("90s", "10m", "2h",
 * "1d") counted back from NOW. -EINVAL otherwise. */
int parse_since(const char *s, double now, double *ret);
