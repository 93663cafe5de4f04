/* porthole: the host's command line client for porthole-agent (and any QEMU
 * guest agent). main() parses the options and runs a command from the table;
 * the commands live in host/cli-*.c by group, and ask through the client
 * library (client.h), printing the answer for people or, with --json, for
 * scripts. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli-complete.h"
#include "cli.h"
#include "client.h"
#include "util.h"

struct command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *args; /* the usage after the name */
	const char *help;
	/* the arguments are another program's or command's (exec, call): only
	 * a --help right after the name is porthole's */
	bool passthrough;
	/* the options its parser takes, NULL-ended (OPTIONS()), which args
	 * must name: --complete-bash refuses a usage that leaves one out */
	const struct cli_options *const *options;
};

#define OPTIONS(...) ((const struct cli_options *const[]){ __VA_ARGS__, NULL })

static int cmd_help(struct cli *cli, int argc, char **argv);

static const struct command commands[] = {
	{ "ping", cli_ping, "", "Checks that the agent answers (guest-ping).", false, NULL },
	{ "info", cli_info, "",
	  "The agent's version and the commands it supports, disabled ones marked "
	  "(guest-info).",
	  false, NULL },
	{ "health", cli_health, "",
	  "The VM's health: status and reasons, uptime, load, memory, pressure, disks, "
	  "services (porthole-health; porthole-agent only).",
	  false, NULL },
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
	  "then a guess.",
	  false, OPTIONS(&cli_time_options) },
	{ "network", cli_network, "",
	  "The guest's network: interfaces with state, MAC, MTU and addresses, DHCP leases, "
	  "routes and DNS (porthole-network; guest-network-get-interfaces from qemu-ga).",
	  false, NULL },
	{ "dns", cli_dns, "set SERVER... [--search DOMAIN...]",
	  "Sets the guest's name servers and search domains in /etc/resolv.conf; a DHCP "
	  "renewal keeps them (porthole-dns-set).",
	  false, NULL },
	{ "osinfo", cli_osinfo, "", "The guest's operating system and kernel (guest-get-osinfo).",
	  false, NULL },
	{ "fsinfo", cli_fsinfo, "",
	  "The guest's mounted block-device file systems, their size and use "
	  "(guest-get-fsinfo).",
	  false, NULL },
	{ "mount", cli_mount, "TAG TARGET [--type virtiofs|9p] [--ro] [--option K=V]...",
	  "Mounts the host's shared folder TAG (virtiofs or 9p; found out when --type is not "
	  "given) on TARGET in the guest, under the allowed roots (/mnt, /host, /Users, /home "
	  "unless agent.share_roots says otherwise), creating it; nothing is mounted through a "
	  "symbolic link. --option: 9p's msize=BYTES and cache=MODE, virtiofs's dax[=MODE] "
	  "(porthole-mount).",
	  false, OPTIONS(&cli_mount_options) },
	{ "umount", cli_umount, "TARGET [--lazy]",
	  "Unmounts the share on TARGET; --lazy detaches it even when in use "
	  "(porthole-unmount).",
	  false, OPTIONS(&cli_umount_options) },
	{ "mounts", cli_mounts, "",
	  "The shares mounted in the guest: tag, type, target, health (ok, or stale when the "
	  "host side does not answer within a second), size and options (porthole-mounts).",
	  false, NULL },
	{ "trim", cli_trim, "[PATH]",
	  "Gives the blocks that deleted files freed back to the host (FITRIM): on every "
	  "block-device file system, or the one holding PATH; prints the bytes trimmed "
	  "(porthole-trim).",
	  false, NULL },
	{ "df", cli_df, "[--disk FILE] [--vm-dir DIR]",
	  "The guest's file systems, their size, use and what is available "
	  "(porthole-health's disks), the data disk's last trim, and what the data disk's "
	  "file really takes on the host: its allocated bytes (st_blocks) against its "
	  "apparent size, which trims after deletes bring down. The file is --disk FILE, "
	  "else the one run-vm was given (DIR/disk.path; DIR: --vm-dir, else the agent "
	  "socket's directory, else build/vm).",
	  false, OPTIONS(&cli_df_options) },
	{ "memory", cli_memory,
	  "[--json] [--vm-dir DIR] | reclaim [--full] | target [--engine SIZE|max] "
	  "[--balloon SIZE|max]",
	  "What the VM holds: the guest's memory (total, available, page cache, anon, slab), "
	  "its services' cgroups, the balloon and the reclaim history (porthole-memory), and "
	  "the host's side when run-vm's state directory is known (--vm-dir, else the "
	  "agent socket's directory, else build/vm): QEMU's RSS from /proc/PID/status and the "
	  "balloon's actual size through QMP (DIR/qmp.sock). 'reclaim' asks the guest to drop "
	  "what it can (page cache of each service's cgroup; --full: all caches, then compacts) "
	  "and prints what was freed (porthole-memory-reclaim). 'target' sets the engine "
	  "service's memory.high (porthole-memory-target; max: no limit) and the balloon's "
	  "target through QMP's balloon command (max: all of the guest's memory). SIZE: bytes, "
	  "or with K, M, G.",
	  false, OPTIONS(&cli_memory_options) },
	{ "services", cli_services, "",
	  "init's services: a table of name, state, pid, how long in that state, restarts, "
	  "ready, memory and CPU used (from the service's cgroup), and OOM kills when there "
	  "were any (porthole-services).",
	  false, NULL },
	{ "logs", cli_logs, "NAME [-n|--lines N] [--since TIME]",
	  "The last N lines (100; at most 10000) that service NAME wrote, or the kernel's log "
	  "for NAME kernel, as \"TIME STREAM TEXT\" in local time. --since: only lines from "
	  "then on, in seconds since the epoch or a time ago (90s, 10m, 2h, 1d) "
	  "(porthole-logs).",
	  false, OPTIONS(&cli_logs_options) },
	{ "restart", cli_restart, "NAME",
	  "Asks init to restart service NAME: it is stopped and started again; its dependents "
	  "keep running (porthole-service-restart).",
	  false, NULL },
	{ "events", cli_events, "[--follow]",
	  "The guest's events: its services' (exited, restarted, failed, ready, oom_kill) and "
	  "its clock's, one per line; --follow waits for more until interrupted "
	  "(porthole-events).",
	  false, OPTIONS(&cli_events_options) },
	{ "boot", cli_boot, "[--svg FILE]",
	  "Where the boot's time went: the kernel until init, each of init's steps and each "
	  "service's start, ready and exit, one line each with its start (since the kernel's "
	  "start), how long it took (a service: until ready) and its state (porthole-boot). "
	  "--svg FILE writes it as a chart instead (- for stdout): one bar per line on a time "
	  "axis in seconds, as systemd-analyze plot draws one.",
	  false, OPTIONS(&cli_boot_options) },
	{ "users", cli_users, "", "Users logged in to the guest (guest-get-users).", false, NULL },
	{ "hostname", cli_hostname, "", "The guest's host name (guest-get-host-name).", false,
	  NULL },
	{ "exec", cli_exec,
	  "[--wait S] [--env NAME=VALUE]... [--stdin] [--] CMD [ARG...] | [-t|--tty] "
	  "[-i|--interactive] [--env NAME=VALUE]... [--] CMD [ARG...]",
	  "Runs CMD in the guest (guest-exec with capture-output), waits for it at most S "
	  "seconds (300 by default) polling guest-exec-status, prints its stdout and stderr "
	  "and exits with its status (128+N when killed by signal N). --stdin sends porthole's "
	  "standard input (at most 1 MiB) as the command's. The agent must allow guest-exec. "
	  "With -t (--tty) CMD runs on a pseudo-terminal instead, as in porthole shell, its "
	  "input and output streamed as it runs; with -i (--interactive) and no -t, on pipes: "
	  "stdin streamed until its end, stdout and stderr kept apart, Ctrl-C sent to CMD as "
	  "SIGINT. -t and -i need porthole-shell (agent.shell) and a connection of its own "
	  "(vsock:, hvsock:, or the agent's unix socket; not a virtio-serial port).",
	  true, OPTIONS(&cli_exec_options) },
	{ "shell", cli_shell, "[--env NAME=VALUE]...",
	  "An interactive login shell in the guest, on a pseudo-terminal (porthole-shell): the "
	  "terminal is in raw mode until the shell exits, so every key, Ctrl-C included, goes "
	  "to the guest; the window size follows the terminal's; porthole exits with the "
	  "shell's status. The agent must allow it (agent.shell = 1), over vsock:, hvsock: or "
	  "the agent's unix socket, not a virtio-serial port.",
	  false, OPTIONS(&cli_shell_options) },
	{ "shutdown", cli_shutdown, "[--powerdown | --reboot | --halt]",
	  "Powers the guest off (--powerdown, the default), or reboots or halts it "
	  "(guest-shutdown). The agent sends "
	  "no reply when it accepts: porthole sends guest-sync behind it and takes its reply, "
	  "or the connection closing, as the acceptance.",
	  false, OPTIONS(&cli_shutdown_options) },
	{ "forward", cli_forward,
	  "docker [--socket PATH] [--relay-port N | --relay ADDRESS] [--no-seccomp] | ports "
	  "[--bind ADDR]... [--port [PROTO:]PORT]... [--relay-port N | --relay ADDRESS] "
	  "[--agent-port N] [--udp-idle S] [--no-seccomp]",
	  "Carries host sockets into the guest through its porthole-relay (vsock port N, "
	  "1025), until interrupted. 'docker' serves the guest's /run/docker.sock as the unix "
	  "socket PATH on the host (default: docker.sock beside the VM's vsock socket): then "
	  "DOCKER_HOST=unix://PATH drives the VM's engine with the host's docker CLI. 'ports' "
	  "follows the guest's listening TCP and UDP ports (porthole-ports, long-polled, on "
	  "vsock port --agent-port, 1024) and "
	  "listens on each on the host, on 127.0.0.1 and ::1 unless --bind says where, each "
	  "TCP connection and each UDP peer carried to the guest (a peer's flow ends after "
	  "--udp-idle S, 60, without a datagram); a port the host cannot bind "
	  "is said once; one line per change. --port forwards fixed ports (tcp unless "
	  "udp:PORT) without asking the agent. Needs a vsock address (hvsock: or vsock:); "
	  "--relay names the relay's address itself (unix:PATH: a porthole-relay's "
	  "--listen-unix socket, for tests). Once serving, both run under a seccomp filter "
	  "that refuses starting programs, tracing and mounts (--no-seccomp: without).",
	  false, OPTIONS(&cli_forward_docker_options, &cli_forward_ports_options) },
	{ "call", cli_call_any, "NAME [ARGS-JSON]",
	  "Calls any command NAME with the arguments ARGS-JSON (a JSON object) and prints "
	  "the JSON result (indented; compact with --json).",
	  true, NULL },
	{ "help", cmd_help, "[COMMAND]", "Describes COMMAND, or lists the commands.", false, NULL },
	{ NULL, NULL, NULL, NULL, false, NULL },
};

static void print_usage(FILE *f)
{
	fputs("Usage: porthole [OPTIONS] COMMAND [ARGS...]\n"
	      "Asks porthole-agent (or any QEMU guest agent) in the VM.\n"
	      "\n"
	      "Options:\n"
	      "  -c, --connect ADDRESS  unix:PATH, vsock:CID:PORT, or hvsock:PATH:PORT (the\n"
	      "                         'CONNECT <port>' unix socket of Firecracker, Cloud\n"
	      "                         Hypervisor and vhost-user vsock). Default: unix:" CLI_DEFAULT_SOCKET
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
	      "connect, the connection failed or timed out; exec, shell: the command's status.\n",
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
		return CLI_EXIT_OK;
	}
	if (argc > 2)
		return cli_usage_error("help", "help takes one command");
	c = find_command(argv[1]);
	if (!c)
		return cli_usage_error(NULL, "unknown command '%s'", argv[1]);
	print_command_help(c);
	return CLI_EXIT_OK;
}

/* porthole --complete-bash: bash's completion, read from the table above
 * and the global options GLOBAL (cli-complete.h). Not in --help: a packager
 * runs it once, and docs/cli.md says how. */
static int complete_bash(const struct option *global)
{
	struct cli_complete_command cmds[ARRAY_SIZE(commands)];
	size_t n = 0;

	for (const struct command *c = commands; c->name; c++)
		cmds[n++] = (struct cli_complete_command){ c->name, c->args, c->options };
	if (cli_complete_bash(stdout, global, cmds, n) < 0 || fflush(stdout) != 0)
		return CLI_EXIT_USAGE;
	return CLI_EXIT_OK;
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
	unsigned timeout_ms;
	int c, r;

	if (argc == 2 && strcmp(argv[1], "--complete-bash") == 0)
		return complete_bash(opts);
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
			if (parse_seconds_ms(optarg, 1, CLI_TIMEOUT_MS_MAX, &timeout_ms) < 0)
				return cli_usage_error(
					NULL, "--timeout: seconds from 0.001 to %u, not %s",
					CLI_TIMEOUT_MS_MAX / 1000, optarg);
			cli.timeout_ms = (int)timeout_ms;
			break;
		case 'h':
			print_usage(stdout);
			return CLI_EXIT_OK;
		case 'V':
			printf("porthole %s\n", PORTHOLE_VERSION);
			return CLI_EXIT_OK;
		default:
			print_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error(NULL, "no command");
	cmd = find_command(argv[optind]);
	if (!cmd)
		return cli_usage_error(NULL, "unknown command '%s'", argv[optind]);
	/* "porthole COMMAND --help" is "porthole help COMMAND". */
	for (int i = optind + 1; i < argc && (i == optind + 1 || !cmd->passthrough); i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			print_command_help(cmd);
			return CLI_EXIT_OK;
		}
	r = cmd->run(&cli, argc - optind, argv + optind);
	/* Flush before closing: a full pipe is not the agent's problem. */
	fflush(stdout);
	client_close(cli.c);
	return r;
}
