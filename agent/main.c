/* porthole-agent: the host's way into the VM. Reads its configuration, opens
 * the transports, runs the loop; init starts it and restarts it. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "initctl.h"
#include "cmd-clock.h"
#include "cmd-events.h"
#include "cmd-ports.h"
#include "cmd-exec.h"
#include "cmd-fs.h"
#include "cmd-memory.h"
#include "cmd-shell.h"
#include "conf.h"
#include "dispatch.h"
#include "engine-events.h"
#include "log.h"
#include "launcher.h"
#include "options.h"
#include "privilege.h"
#include "seccomp.h"
#include "sharemount.h"
#include "transport.h"
#include "util.h"

#ifndef PORTHOLE_VERSION
#define PORTHOLE_VERSION "0"
#endif

#define EXIT_USAGE 100
#define EXIT_SYSTEM 111

static void usage(FILE *f)
{
	fprintf(f,
		"usage: porthole-agent [OPTION...]\n"
		"Answers the host over vsock, virtio-serial and a unix socket, speaking the\n"
		"QEMU guest agent protocol (docs/protocol.md). Options override the [agent]\n"
		"section of " AGENT_CONFIG_PATH " and the kernel's porthole.agent.* words.\n"
		"  --config FILE         read FILE instead of " AGENT_CONFIG_PATH "\n"
		"  --cmdline STRING      use STRING as the kernel command line\n"
		"  --unix PATH           unix socket (default /run/porthole/agent.sock)\n"
		"  --no-unix             no unix socket\n"
		"  --vsock-port N        vsock port (default 1024); --no-vsock: none\n"
		"  --vsock-cids LIST     peers accepted over vsock (default 2, the host)\n"
		"  --no-serial           not the virtio-serial ports\n"
		"  --serial-dir DIR      where the ports are (default /dev/virtio-ports)\n"
		"  --max-request BYTES   longest request (default 65536)\n"
		"  --max-clients N       connections at once (default 64)\n"
		"  --idle-timeout S      close silent clients after S seconds (default 300)\n"
		"  --enable-exec         allow guest-exec and guest-exec-status\n"
		"  --enable-shell        allow porthole-shell (a command with a pty, over vsock\n"
		"                        or the unix socket)\n"
		"  --allow-rpcs LIST     only these commands (qemu-ga's --allow-rpcs)\n"
		"  --block-rpcs LIST     all but these commands (qemu-ga's --block-rpcs)\n"
		"  --init-socket PATH    init's control socket (default /run/porthole/init.sock)\n"
		"  --seccomp MODE        the system call filter: enforce (default), log or off\n"
		"  --log LEVEL           error, warn, info (default) or debug\n"
		"  --version, --help\n");
}

/* Options are the agent's keys: --max-request is agent.max_request. */
static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'f' },
	{ "cmdline", required_argument, NULL, 'k' },
	{ "unix", required_argument, NULL, 'u' },
	{ "no-unix", no_argument, NULL, 'U' },
	{ "vsock-port", required_argument, NULL, 'p' },
	{ "no-vsock", no_argument, NULL, 'P' },
	{ "vsock-cids", required_argument, NULL, 'c' },
	{ "no-serial", no_argument, NULL, 'S' },
	{ "serial-dir", required_argument, NULL, 's' },
	{ "max-request", required_argument, NULL, 'm' },
	{ "max-clients", required_argument, NULL, 'n' },
	{ "idle-timeout", required_argument, NULL, 'i' },
	{ "enable-exec", no_argument, NULL, 'e' },
	{ "enable-shell", no_argument, NULL, 'E' },
	{ "allow-rpcs", required_argument, NULL, 'a' },
	{ "block-rpcs", required_argument, NULL, 'b' },
	{ "init-socket", required_argument, NULL, 'I' },
	{ "seccomp", required_argument, NULL, 'C' },
	{ "log", required_argument, NULL, 'l' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const struct {
	int opt;
	const char *key;
	const char *value; /* fixed value for flags; NULL: the option's argument */
} option_keys[] = {
	{ 'u', "unix_path", NULL },    { 'U', "unix_path", "" },     { 'p', "vsock_port", NULL },
	{ 'P', "vsock_port", "0" },    { 'c', "vsock_cids", NULL },  { 'S', "serial", "0" },
	{ 's', "serial_dir", NULL },   { 'm', "max_request", NULL }, { 'n', "max_clients", NULL },
	{ 'i', "idle_timeout", NULL }, { 'e', "exec", "1" },	     { 'E', "shell", "1" },
	{ 'a', "allow_rpcs", NULL },   { 'b', "block_rpcs", NULL },  { 'I', "init_socket", NULL },
	{ 'C', "seccomp", NULL },
};

static int parse_args(int argc, char **argv, struct agent *a)
{
	const char *file = NULL, *cmdline = NULL;
	_cleanup_free_ char *proc_cmdline = NULL;
	int c, errors = 0;

	/* first pass: where the configuration comes from, and the log level */
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			file = optarg;
			break;
		case 'k':
			cmdline = optarg;
			break;
		case 'l':
			if (log_level_from_string(optarg) < 0) {
				fprintf(stderr, "porthole-agent: --log: unknown level '%s'\n",
					optarg);
				return -EINVAL;
			}
			log_set_level((enum log_level)log_level_from_string(optarg));
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("porthole-agent %s (protocol %d)\n", PORTHOLE_VERSION,
			       AGENT_VERSION_PROTOCOL);
			exit(0);
		case '?':
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "porthole-agent: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	options_defaults(&a->cfg);
	if (!cmdline && read_file("/proc/cmdline", CONF_CMDLINE_MAX, &proc_cmdline, NULL) == 0)
		cmdline = proc_cmdline;
	options_load(&a->cfg, file, cmdline);

	/* second pass: options over the files */
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		for (size_t i = 0; i < ARRAY_SIZE(option_keys); i++) {
			if (option_keys[i].opt != c)
				continue;
			if (options_set(&a->cfg, option_keys[i].key,
					option_keys[i].value ? option_keys[i].value : optarg,
					"command line") < 0)
				errors++;
		}
	}
	return errors ? -EINVAL : 0;
}

/* The launcher's reports (exits) on the loop, for guest-exec and
 * porthole-shell alike. Gone (logged once): no more will come. */
static void on_launcher(struct loop *l, int fd, uint32_t events, void *data)
{
	(void)events;
	if (launcher_dispatch(data) < 0)
		loop_del_fd(l, fd);
}

static bool enabled(const char *command)
{
	const struct dispatch_entry *e = dispatch_find(command);

	return e && e->enabled;
}

/* porthole-mount loads a share's drivers with modprobe on first use, which
 * the agent can no longer do once it has dropped (the filter refuses fork,
 * and CAP_SYS_MODULE is gone): so the drivers of the share devices this VM
 * has are loaded now, and only those (a VM without shares pays nothing). */
static void preload_share_modules(void)
{
	static const enum share_type types[] = { SHARE_VIRTIOFS, SHARE_9P };
	char why[256];

	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (share_devices("/sys", types[i]) > 0 &&
		    share_load_modules(types[i], why, sizeof(why)) < 0)
			log_warn("porthole-mount: %s: %s shares will not mount", why,
				 share_type_name(types[i]));
}

/* Once the transports are open: the capabilities the enabled commands need
 * and nothing else, then the system call filter. guest-exec's commands and
 * porthole-shell's sessions are started by the launcher, forked first with
 * everything (docs/security.md). */
static int drop_privileges(struct agent *a)
{
	privilege_set keep = privilege_needed(a);
	char names[512];
	int r;

	if (enabled("guest-exec") || enabled("porthole-shell")) {
		r = launcher_start(&a->launcher);
		if (r == 0)
			r = loop_add_fd(a->loop, launcher_fd(a->launcher), EPOLLIN, on_launcher,
					a->launcher);
		if (r < 0)
			log_error_errno(r, "starting the launcher (guest-exec and porthole-shell "
					   "will fail)");
	}
	if (enabled("porthole-mount"))
		preload_share_modules();
	r = privilege_drop(keep);
	if (r < 0)
		return r;
	r = agent_seccomp_apply((enum agent_seccomp_mode)a->cfg.seccomp);
	if (r < 0)
		return log_error_errno(r, "seccomp: loading the filter");
	privilege_format(keep, names, sizeof(names));
	log_info("least privilege: capabilities %s; seccomp %s%s", names,
		 agent_seccomp_mode_to_string((enum agent_seccomp_mode)a->cfg.seccomp),
		 a->launcher ? "; guest-exec and porthole-shell through the launcher" : "");
	return 0;
}

/* In its VM, the agent is in the first pid namespace, whose
 * /proc/self/ns/pid is PROC_PID_INIT_INO (include/linux/proc_ns.h, fixed
 * since Linux 3.8), and PID 1 is porthole-init. The sandbox tier runs init
 * and the agent in a pid namespace of their own, and some tests run the
 * agent alone on the host, where PID 1 is the host's init. */
static bool in_its_vm(void)
{
	_cleanup_free_ char *comm = NULL;
	struct stat st;

	return stat("/proc/self/ns/pid", &st) == 0 && st.st_ino == 0xEFFFFFFCu &&
	       read_file("/proc/1/comm", 64, &comm, NULL) == 0 &&
	       strcmp(comm, "porthole-init\n") == 0;
}

static void on_term(struct loop *l, int fd, uint32_t events, void *data)
{
	char buf[512];

	(void)events, (void)data;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	log_info("stopping");
	loop_quit(l);
}

int main(int argc, char **argv)
{
	struct agent a = { 0 };
	sigset_t set;
	int r, sigfd;

	log_setup("porthole-agent");
	if (parse_args(argc, argv, &a) < 0)
		return EXIT_USAGE;
	/* Started by init in the VM: its lines belong in the kernel log too. */
	if (getppid() == 1 && access("/dev/kmsg", W_OK) == 0)
		log_set_target(LOG_TARGET_KMSG);
	a.start_mono_ns = now_mono_ns();
	a.sandbox = !in_its_vm();
	/* a client that vanishes mid-reply must not kill the agent */
	signal(SIGPIPE, SIG_IGN);
	umask(077);

	r = loop_new(&a.loop);
	if (r < 0) {
		log_error_errno(r, "event loop");
		return EXIT_SYSTEM;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0 || loop_add_fd(a.loop, sigfd, EPOLLIN, on_term, NULL) < 0) {
		log_error("signalfd: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	dispatch_init(&a);
	r = transport_start(&a);
	if (r < 0) {
		log_error("no transport could be opened: nothing to answer on");
		return EXIT_SYSTEM;
	}
	/* before anything starts a thread: capabilities are per thread */
	if (drop_privileges(&a) < 0)
		return EXIT_SYSTEM;
	events_start(&a);
	clock_watch_start(&a);
	fs_trim_start(&a);
	memory_start(&a);
	engine_events_start(&a, NULL);
	log_info("porthole-agent %s ready", PORTHOLE_VERSION);
	r = loop_run(a.loop);
	events_stop(&a);
	engine_events_stop(&a);
	ports_stop(&a);
	clock_watch_stop(&a);
	transport_stop(&a);
	cmd_exec_free(&a);
	cmd_shell_free(&a);
	if (a.launcher)
		loop_del_fd(a.loop, launcher_fd(a.launcher));
	launcher_free(a.launcher);
	loop_free(a.loop);
	return r < 0 ? EXIT_SYSTEM : 0;
}
