/* The CLI's shared parts: the connection and call helpers, errors and exit
 * codes, and how results are shown (values, sizes, durations, times, tables,
 * JSON). host/porthole.c has main() and the command table; the commands live
 * in host/cli-*.c by group. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli-complete.h"
#include "client.h"

/* Exit codes (docs/cli.md). exec and shell exit with the command's own status. */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_GUEST = 1, /* the guest answered with an error */
	CLI_EXIT_USAGE = 2, /* the command line is wrong */
	CLI_EXIT_CONNECT = 3, /* could not connect, the connection failed, or timed out */
};

#define CLI_DEFAULT_SOCKET "build/vm/agent.sock"
/* What scripts/run-vm writes: how host programs reach the guest's vsock
 * ports (hvsock:DIR/vsock.sock or vsock:CID, without the port). */
#define CLI_VSOCK_ADDRESS_FILE "build/vm/vsock.address"
/* The agent's vsock port (agent.vsock_port's default). */
#define CLI_AGENT_VSOCK_PORT 1024
/* The longest --timeout and exec --wait: a day. */
#define CLI_TIMEOUT_MS_MAX (86400u * 1000)

struct cli {
	const char *address;
	bool json;
	int timeout_ms;
	struct client *c;
};

/* Messages on stderr, "porthole: " first. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints a usage error naming CMD's help and returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the error behind R and returns the exit code it stands for. */
int cli_report(int r, const struct client_error *err);
/* CLI_EXIT_USAGE, with a message, when CMD was given arguments. */
int cli_no_args(const char *cmd, int argc, char **argv);

/* Connects (once) to --connect, else build/vm/agent.sock when it exists
 * here, else $PORTHOLE_CONNECT. Returns an exit code. */
int cli_connect(struct cli *cli);
/* Calls NAME; on success *RET holds the result. Returns an exit code. */
int cli_call(struct cli *cli, const char *name, json_t *args, json_t **ret);
/* The guest's vsock PORT as run-vm's VM here offers it (CLI_VSOCK_ADDRESS_FILE
 * with ":PORT"), into BUF: 0, or -errno when there is none. */
int cli_vsock_address(uint32_t port, char *buf, size_t size);
/* run-vm's state directory, for the commands that look at the host's side
 * of the VM (memory, df): GIVEN (their --vm-dir); else the directory of the
 * agent's socket when it is run-vm's (unix:DIR/agent.sock,
 * hvsock:DIR/vsock.sock:PORT, with DIR/qemu.pid beside it); else
 * CLI_VM_DIR_DEFAULT. Into BUF. */
#define CLI_VM_DIR_DEFAULT "build/vm"
void cli_vm_dir(const struct cli *cli, const char *given, char *buf, size_t size);
/* Runs a command that takes no arguments: the raw result for --json, else
 * PRINT's rendering of it. Returns an exit code. */
int cli_query(struct cli *cli, int argc, char **argv, const char *name,
	      void (*print)(json_t *result));

/* Values for people, written into BUF and returned: a JSON scalar as text
 * (strings as they are, "-" for none); bytes in B, KiB, MiB...; a duration
 * of S seconds as "2d 3h 4m", "5m 6s"; nanoseconds since the epoch as
 * "2025-11-27 13:09:38[.129112000] UTC". */
const char *cli_scalar(json_t *v, char *buf, size_t size);
/* O's member KEY if it is a string, else "-": what the agent sent is shown,
 * and a member missing or of another type (an older or hostile agent) never
 * reaches printf as NULL. */
const char *cli_str(json_t *o, const char *key);
/* S, or "-" when NULL. */
const char *cli_or_dash(const char *s);
const char *cli_bytes_str(double b, char *buf, size_t size);
const char *cli_duration_str(uint64_t s, char *buf, size_t size);
const char *cli_time_str(int64_t ns, bool fraction, char *buf, size_t size);
/* V, seconds since the epoch as the guest gave them (a JSON number), as
 * cli_time_str(..., false) shows them; "-" for anything else, a time before
 * 1970 or after 2262 (nanoseconds in 64 bits) included. */
const char *cli_guest_time_str(json_t *v, char *buf, size_t size);

/* V as JSON on stdout (jansson's FLAGS). */
void cli_print_json(json_t *v, size_t flags);
/* V as "PATH: key=value ..." lines, one per nested object, whatever its
 * shape: what the agent adds later still shows. */
void cli_print_tree(int indent, const char *path, json_t *v);
/* OBJ's members not in KNOWN (NULL-terminated) as "key: value" lines, the
 * labels WIDTH wide: a newer agent's additions show up. */
void cli_print_rest(json_t *obj, const char *const *known, int width);

/* A text table: columns as wide as their widest cell, two spaces apart. */
#define CLI_TABLE_COLS 10

struct cli_table {
	size_t ncols; /* at most CLI_TABLE_COLS */
	char **cells;
	size_t n, cap;
};

/* Adds a row of NCOLS strings (NULL shows as "-"); a row that does not fit
 * in memory is left out. */
void cli_table_add(struct cli_table *t, ...);
/* Prints the table on stdout and frees it. */
void cli_table_print_free(struct cli_table *t);

/* Commands in host/cli-*.c, listed in porthole.c's table, with the options
 * their parsers take (struct cli_options), which the table hands to
 * --complete-bash to hold the usage to them. */
int cli_ping(struct cli *cli, int argc, char **argv); /* cli-system.c */
int cli_info(struct cli *cli, int argc, char **argv);
int cli_health(struct cli *cli, int argc, char **argv);
int cli_osinfo(struct cli *cli, int argc, char **argv);
int cli_users(struct cli *cli, int argc, char **argv);
int cli_hostname(struct cli *cli, int argc, char **argv);
int cli_exec(struct cli *cli, int argc, char **argv); /* cli-exec.c */
extern const struct cli_options cli_exec_options;
int cli_shell(struct cli *cli, int argc, char **argv); /* cli-shell.c */
extern const struct cli_options cli_shell_options;
/* Runs ARGV (a JSON array of strings; NULL: the login shell) with ENV
 * (NAME=VALUE strings, or NULL) in the guest with porthole-shell, on a pty
 * when TTY, relaying porthole's stdin, stdout and stderr; WHAT names it in
 * messages. Returns the command's exit status (128+N for signal N), or
 * porthole's own. */
int cli_session(struct cli *cli, const char *what, json_t *argv, json_t *env, bool tty);
int cli_shutdown(struct cli *cli, int argc, char **argv); /* cli-power.c */
extern const struct cli_options cli_shutdown_options;
int cli_call_any(struct cli *cli, int argc, char **argv); /* cli-call.c: porthole call */
int cli_time(struct cli *cli, int argc, char **argv); /* cli-time.c */
extern const struct cli_options cli_time_options;
int cli_mount(struct cli *cli, int argc, char **argv); /* cli-shares.c */
extern const struct cli_options cli_mount_options;
int cli_umount(struct cli *cli, int argc, char **argv);
extern const struct cli_options cli_umount_options;
int cli_mounts(struct cli *cli, int argc, char **argv);
int cli_trim(struct cli *cli, int argc, char **argv);
int cli_fsinfo(struct cli *cli, int argc, char **argv);
int cli_df(struct cli *cli, int argc, char **argv); /* cli-disk.c */
extern const struct cli_options cli_df_options;
/* What the file at PATH takes on the host: {"path", "allocated_bytes"
 * (st_blocks * 512), "apparent_bytes" (st_size)}, or {"path", "error"} and
 * -errno when it cannot be stat'ed; -ENOMEM (*RET untouched). */
int cli_df_host(const char *path, json_t **ret);
/* porthole df's rendering of {"disks" (porthole-health's), "host"}. */
void cli_df_print(json_t *df);
int cli_network(struct cli *cli, int argc, char **argv); /* cli-net.c */
int cli_dns(struct cli *cli, int argc, char **argv); /* cli-net.c */
int cli_services(struct cli *cli, int argc, char **argv); /* cli-services.c */
int cli_logs(struct cli *cli, int argc, char **argv);
extern const struct cli_options cli_logs_options;
int cli_restart(struct cli *cli, int argc, char **argv);
int cli_events(struct cli *cli, int argc, char **argv);
extern const struct cli_options cli_events_options;
int cli_boot(struct cli *cli, int argc, char **argv); /* cli-boot.c */
extern const struct cli_options cli_boot_options;
struct boot_chart;
/* porthole-boot's RESULT, checked (every time an integer >= 0, ready and
 * end not before start, at most BOOT_CHART_BARS_MAX entries), into *RET,
 * sorted by start: 0, or -EPROTO with WHY. For the tests and the fuzzer. */
int cli_boot_parse(json_t *result, struct boot_chart *ret, char *why, size_t size);
/* The table: NAME KIND START TOOK READY STATE, one row per entry. */
void cli_boot_table_fill(struct cli_table *t, const struct boot_chart *c);
/* The line under it: the kernel's end, init's steps' end, the last ready. */
void cli_boot_summary(const struct boot_chart *c, char *buf, size_t size);
int cli_forward(struct cli *cli, int argc, char **argv); /* cli-forward.c */
extern const struct cli_options cli_forward_docker_options;
/* The guest's porthole-relay (relay/main.c's default vsock port). */
#define CLI_RELAY_VSOCK_PORT 1025
/* The guest's vsock PORT, for the forwarders: --connect's address, else
 * run-vm's vsock.address here, else $PORTHOLE_CONNECT, with PORT instead of
 * the address's own. Vsock or hybrid vsock only, unless UNIX_OK (a unix:
 * address is taken as it is). Says what is wrong and returns -errno. */
int cli_forward_vsock(struct cli *cli, uint32_t port, bool unix_ok, struct client_addr *ret);
/* The relay's address: RELAY (--relay; unix:PATH is a relay's own socket,
 * for tests) when given, else cli_forward_vsock's with PORT. */
int cli_forward_relay(struct cli *cli, const char *relay, uint32_t port, struct client_addr *ret);
int cli_forward_ports(struct cli *cli, int argc, char **argv); /* cli-forward-ports.c */
extern const struct cli_options cli_forward_ports_options;
int cli_memory(struct cli *cli, int argc, char **argv); /* cli-memory.c */
extern const struct cli_options cli_memory_options;
/* A size: bytes, or with K, M, G or T (binary, optionally followed by B or
 * iB): 768M is 768 MiB. -EINVAL, or -ERANGE over 2^64-1. */
int cli_parse_size(const char *s, uint64_t *ret);
/* porthole memory's rendering of porthole-memory's result M, with the host's
 * side in M's "host" when known. */
void cli_memory_print(json_t *m);

/* cli-services.c's formatting, for the tests. */
/* Seconds since the epoch T as local "2026-11-27 15:20:01.250". */
const char *cli_local_time_str(double t, char *buf, size_t size);
/* The services table (porthole-services' result): NAME STATE PID SINCE
 * (how long ago, from NOW) RESTARTS READY MEMORY CPU, and OOM when any
 * service had an OOM kill. T is empty; cli_table_print_free prints it. */
void cli_services_table_fill(struct cli_table *t, json_t *services, double now);
/* "TIME STREAM TEXT" for one of porthole-logs' lines, the time local. */
void cli_log_line_format(json_t *line, char *buf, size_t size);
/* --since: seconds since the epoch, or a time ago ("90s", "10m", "2h",
 * "1d") counted back from NOW. -EINVAL otherwise. */
int cli_parse_since(const char *s, double now, double *ret);
