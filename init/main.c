/* porthole-init: PID 1 of the VM. main() reads as the boot flow; each step
 * is its module's. See docs/boot.md. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "coldplug.h"
#include "config.h"
#include "devices.h"
#include "log.h"
#include "modules.h"
#include "mount.h"
#include "net-setup.h"
#include "rootfs.h"
#include "boot-clock.h"
#include "boot-log.h"
#include "control.h"
#include "cgroup.h"
#include "service.h"
#include "service-graph.h"
#include "service-seccomp.h"
#include "shutdown.h"
#include "storage.h"
#include "supervise.h"
#include "util.h"

#ifndef PORTHOLE_VERSION
#define PORTHOLE_VERSION "0"
#endif

#define START_ENV "PORTHOLE_INIT_START_NS"

/* s6's exit codes: 100 wrong usage, 111 system error. */
#define EXIT_USAGE 100

struct options {
	bool check;
	const char *check_file;
	const char *config; /* instead of /etc/porthole/init.conf */
	const char *cmdline; /* instead of /proc/cmdline */
	const char *modules_dir;
	const char *services_dir;
	bool sandbox;
};

static char *const shell_argv[] = { "/bin/sh", "-l", NULL };
#define AGENT_SERVICE "porthole-agent"
#define SERVICES_LOG_DIR "/var/log/porthole"
/* static: the services outlive main's frame in no way, but they are big */
static struct services services;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: porthole-init                   run as PID 1\n"
		"       porthole-init --sandbox         run as PID 1 of a namespace (tests)\n"
		"       porthole-init --check [FILE]    validate a configuration, print the plan\n"
		"options:\n"
		"  --cmdline STRING     use STRING as the kernel command line\n"
		"  --config FILE        read FILE instead of " CONFIG_PATH "\n"
		"  --modules-dir DIR    resolve modules against DIR (--check)\n"
		"  --services-dir DIR   read service files from DIR (--check)\n"
		"  --version, --help\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'c' },
		{ "sandbox", no_argument, NULL, 's' },
		{ "cmdline", required_argument, NULL, 'k' },
		{ "config", required_argument, NULL, 'f' },
		{ "modules-dir", required_argument, NULL, 'm' },
		{ "services-dir", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* The kernel passes its unknown arguments to init: when run as PID 1 by
	 * the kernel, options are not ours to complain about. */
	if (getpid() == 1 && !getenv("PORTHOLE_SANDBOX")) {
		for (int i = 1; i < argc; i++)
			if (strcmp(argv[i], "--sandbox") == 0)
				o->sandbox = true;
		return 0;
	}
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->check = true;
			break;
		case 's':
			o->sandbox = true;
			break;
		case 'k':
			o->cmdline = optarg;
			break;
		case 'f':
			o->config = optarg;
			break;
		case 'm':
			o->modules_dir = optarg;
			break;
		case 'S':
			o->services_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("porthole-init %s\n", PORTHOLE_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (o->check && optind < argc)
		o->check_file = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "porthole-init: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static void load_config(struct init_config *cfg, const char *file, const char *cmdline)
{
	_cleanup_free_ char *proc_cmdline = NULL;

	config_defaults(cfg);
	/* its errors are logged with file and line, counted in cfg, and the
	 * defaults stand in for the bad values */
	(void)config_load_file(cfg, file ? file : CONFIG_PATH);
	if (!cmdline && read_file("/proc/cmdline", CONFIG_CMDLINE_MAX, &proc_cmdline, NULL) == 0)
		cmdline = proc_cmdline;
	if (cmdline)
		config_parse_cmdline(cfg, cmdline);
}

/* --check's capabilities: as the file would say them, the shorter way. */
static void print_caps(const struct service_spec *sp)
{
	unsigned last = cap_max_bits(), kept = 0;
	bool minus, first = true;

	if (!sp->has_caps) {
		fputs("all", stdout);
		return;
	}
	for (unsigned cap = 0; cap < last && cap < 64; cap++)
		kept += (sp->caps >> cap) & 1;
	if (kept == 0) {
		fputs("none", stdout);
		return;
	}
	/* most kept: all and what is left out; else the names kept */
	minus = kept > last / 2;
	if (minus) {
		fputs("all", stdout);
		first = false;
	}
	for (unsigned cap = 0; cap < last && cap < 64; cap++) {
		bool has = (sp->caps >> cap) & 1;
		char *name;

		if (has == minus)
			continue;
		name = cap_to_name((cap_value_t)cap);
		printf("%s%s%s", first ? "" : " ", minus ? "-" : "", name ? name : "?");
		cap_free(name);
		first = false;
	}
}

/* --check: the services in DIR, in the order they are read, with what they
 * wait for. Returns how many files were refused or disabled. */
static unsigned describe_services(const char *dir, bool agent)
{
	struct service_spec *specs = calloc(SERVICES_MAX, sizeof(*specs));
	unsigned bad = 0, off;
	size_t n;

	if (!specs)
		return 1;
	fflush(stdout);
	n = service_conf_load_dir(dir, specs, SERVICES_MAX, &bad);
	off = service_graph_check(specs, n);
	for (size_t i = 0; i < n; i++) {
		const struct service_spec *sp = &specs[i];

		printf("service %s: %s", sp->name, sp->argv[0]);
		for (size_t j = 0; j < sp->n_requires; j++)
			printf("%s%s", j ? " " : " (requires ", sp->requires[j]);
		printf("%s", sp->n_requires ? ")" : "");
		for (size_t j = 0; j < sp->n_after; j++)
			printf("%s%s", j ? " " : " (after ", sp->after[j]);
		printf("%s", sp->n_after ? ")" : "");
		if (!sp->enabled || (!agent && strcmp(sp->name, AGENT_SERVICE) == 0))
			printf(" disabled");
		/* what it may do, on a line of its own under it */
		printf("\n  capabilities: ");
		print_caps(sp);
		printf("; seccomp: ");
		service_seccomp_print(&sp->seccomp, stdout);
		printf("; no_new_privs: %s\n", sp->no_new_privs ? "yes" : "no");
		service_spec_free(&specs[i]);
	}
	free(specs);
	return bad + off;
}

static int run_check(const struct options *o)
{
	struct init_config cfg;
	struct modules_resolved *res;
	unsigned n_bad;
	int r;

	log_setup("porthole-init");
	/* --check reads no /proc/cmdline unless told: it describes FILE. */
	config_defaults(&cfg);
	/* counted in cfg.n_errors, which the summary and status report */
	(void)config_load_file(&cfg, o->check_file ? o->check_file : CONFIG_PATH);
	if (o->cmdline)
		config_parse_cmdline(&cfg, o->cmdline);

	printf("# configuration\n");
	fflush(stdout);
	config_dump(&cfg, STDOUT_FILENO);
	printf("\n# boot plan\n");
	fflush(stdout);
	mount_describe(STDOUT_FILENO);
	printf("hostname %s\n", cfg.hostname);
	res = calloc(1, sizeof(*res));
	if (!res)
		return 111;
	r = modules_resolve(o->modules_dir, (const char(*)[64])cfg.modules, cfg.n_modules, res);
	if (cfg.n_modules && r < 0 && res->n == 0)
		printf("modules: could not be resolved (%s); asked for %zu\n", strerror(-r),
		       cfg.n_modules);
	for (size_t i = 0; i < res->n; i++)
		printf("load module %s\n", res->names[i]);
	if (res->n_builtin)
		printf("(%zu built into the kernel)\n", res->n_builtin);
	free(res);
	printf("rlimit nofile %llu\n", (unsigned long long)cfg.rlimit_nofile);
	printf("loopback up\n");
	net_config_describe(&cfg.net, STDOUT_FILENO);
	n_bad = describe_services(o->services_dir ? o->services_dir : SERVICES_DIR, cfg.agent);
	if (cfg.shell == SHELL_CONSOLE)
		printf("start a shell on the console\n");
	printf("\n%u errors, %u warnings\n", cfg.n_errors + n_bad, cfg.n_warnings);
	return cfg.n_errors + n_bad ? 1 : 0;
}

/* An essential step failed: say so where it will be seen, open a rescue
 * shell if asked for, and power off. PID 1 never just exits. */
__attribute__((noreturn)) static void emergency(struct supervisor *s, const struct init_config *cfg,
						const char *what)
{
	log_emerg("%s: cannot boot", what);
	if (cfg->rescue && !s->sandbox) {
		int slot;

		log_emerg(
			"porthole.rescue=1: starting a shell on the console; exit it to power off");
		slot = supervise_start(s, "rescue-shell", shell_argv, false, true);
		/* not respawned: its slot is freed when it exits. Waiting on a
		 * person, who was told how to end it: no time-out */
		while (slot >= 0 && s->children[slot].argv) {
			sleep(1);
			supervise_reap(s);
		}
	}
	shutdown_final(SHUTDOWN_POWEROFF, s->sandbox, EXIT_EMERGENCY);
}

static void ensure_stdio(void)
{
	/* Without /dev/console in the initramfs the kernel leaves fds 0-2 closed;
	 * the first open would then become stdin. */
	if (fcntl(STDERR_FILENO, F_GETFD) >= 0)
		return;
	for (int fd = 0; fd < 3; fd++) {
		int nfd;

		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		nfd = open("/dev/console", O_RDWR | O_NOCTTY);
		if (nfd >= 0 && nfd != fd) {
			dup2(nfd, fd);
			close(nfd);
		}
	}
}

static void set_rlimits(const struct init_config *cfg)
{
	const struct {
		int resource;
		const char *name;
		rlim_t value;
	} limits[] = {
		/* dockerd and containerd expect a million files, as their systemd units set */
		{ RLIMIT_NOFILE, "nofile", cfg->rlimit_nofile },
		{ RLIMIT_NPROC, "nproc", RLIM_INFINITY },
		{ RLIMIT_CORE, "core", RLIM_INFINITY },
		{ RLIMIT_MEMLOCK, "memlock", RLIM_INFINITY },
	};

	for (size_t i = 0; i < ARRAY_SIZE(limits); i++) {
		struct rlimit rl = { limits[i].value, limits[i].value };

		if (setrlimit(limits[i].resource, &rl) < 0)
			log_warn_errno(-errno, "set rlimit %s, ignoring", limits[i].name);
	}
}

static uint64_t start_time(void)
{
	const char *env = getenv(START_ENV);
	int64_t v;

	if (env && parse_int64(env, 0, INT64_MAX, &v) == 0)
		return (uint64_t)v;
	return now_mono_ns();
}

/* Step 2's modules: the configured list, then what the devices ask for by
 * their modalias, at boot and on hotplug (coldplug.c, which keeps the
 * context for as long as PID 1 runs). Not essential: what a missing module
 * provides fails later, named; each failure is logged where it happens. */
static struct coldplug coldplug;

static void load_modules(const struct init_config *cfg, struct supervisor *s)
{
	const char(*names)[64] = (const char(*)[64])cfg->modules;
	struct modules_ctx *m;
	uint64_t t = now_mono_ns();
	int r;

	if (modules_open(NULL, NULL, &m) < 0)
		return;
	if (cfg->modalias) {
		/* the configured list loads beside the devices' first round */
		(void)coldplug_boot(&coldplug, m, "/sys/devices", names, cfg->n_modules,
				    cfg->module_threads);
		coldplug_watch(&coldplug, s);
		return;
	}
	r = modules_load_list(m, names, cfg->n_modules);
	if (r > 0)
		log_warn("%d of the configured modules could not be loaded", r);
	/* the figure the boot bench compares with the modalias line's */
	log_info("modules: %zu configured in %llu ms", cfg->n_modules,
		 (unsigned long long)((now_mono_ns() - t) / NSEC_PER_MSEC));
	modules_close(m);
}

/* reboot(2) in a PID namespace other than the first fails with EINVAL for
 * anything but restart and power-off: so this both disables ctrl-alt-del's
 * immediate reboot (the kernel sends init SIGINT instead) and tells a
 * sandbox from a VM. */
static bool detect_sandbox(void)
{
	return reboot(RB_DISABLE_CAD) < 0 && errno == EINVAL;
}

/* Returns -errno only when the root disk asked for could not be used (said
 * there): the initramfs then holds no system to boot. */
static int move_root_if_needed(char **argv)
{
	struct init_config cfg;
	char start[32];
	bool mounted_proc;

	if (!rootfs_needs_move())
		return 0;
	/* Read quietly: the configuration is read again, with its messages,
	 * once the root is settled. */
	mounted_proc = mkdir("/proc", 0555) >= 0 || errno == EEXIST;
	mounted_proc = mounted_proc && mount("proc", "/proc", "proc", 0, NULL) == 0;
	log_set_level(LOG_LEVEL_EMERG);
	load_config(&cfg, NULL, NULL);
	log_set_level(LOG_LEVEL_INFO);
	/* mounted again with the others; one left here is only hidden */
	if (mounted_proc)
		(void)umount2("/proc", MNT_DETACH);
	snprintf(start, sizeof(start), "%llu", (unsigned long long)now_mono_ns());
	setenv(START_ENV, getenv(START_ENV) ? getenv(START_ENV) : start, 1);
	/* root_disk: the initramfs only reaches the disk (docs/boot.md); each
	 * call returns only when it failed, said there */
	if (cfg.root_disk[0])
		return rootfs_move_to_disk(cfg.root_disk, (const char(*)[64])cfg.modules,
					   cfg.n_modules, argv);
	if (!cfg.root_tmpfs)
		return 0;
	if (rootfs_bind_over_self() < 0)
		log_error("staying on the initramfs root: container runtimes cannot pivot_root");
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t t0 = start_time();
	struct options opts = { 0 };
	struct init_config cfg;
	struct supervisor sup;
	enum shutdown_kind kind;
	const char *failed = NULL; /* the first essential step that failed */
	int sigfd, r;

	log_setup("porthole-init");
	if (parse_options(argc, argv, &opts) < 0)
		return EXIT_USAGE;
	if (opts.check)
		return run_check(&opts);
	if (getpid() != 1) {
		fprintf(stderr, "porthole-init: must run as PID 1 (see --check and --sandbox)\n");
		return EXIT_USAGE;
	}
	unsetenv(START_ENV);
	/* The kernel ran /init: by its own name, so that ps, the agent and the
	 * host see porthole-init (a re-exec from a root disk names itself) */
	(void)prctl(PR_SET_NAME, "porthole-init");

	/* 1 early: signals first, so none is lost and none kills PID 1. What
	 * fails before the configuration is read goes to emergency() after it
	 * (porthole.rescue): the first failure is the one named. */
	r = supervise_block_signals(&sigfd);
	if (r < 0) {
		log_emerg("signalfd: %s", strerror(-r));
		sigfd = -1;
		failed = "signals (signalfd)";
	}
	umask(022);
	if (!opts.sandbox)
		opts.sandbox = getenv("PORTHOLE_SANDBOX") || detect_sandbox();
	/* the boot chart (docs/boot.md): the kernel's part, then this step from
	 * init's start; a sandbox's boot clock is the host's, its kernel not ours */
	boot_log_begin(t0, !opts.sandbox);
	if (!opts.sandbox) {
		char start[32];

		snprintf(start, sizeof(start), "%llu", (unsigned long long)t0);
		setenv(START_ENV, start, 1);
		if (move_root_if_needed(argv) < 0 && !failed)
			failed = "the root disk";
		unsetenv(START_ENV);
	}
	/* (logged; with sigfd -1 it fails too, the signals named first) */
	if (supervise_init(&sup, sigfd, opts.sandbox) < 0 && !failed)
		failed = "the event loop";

	if (mount_apply(MOUNT_EARLY) < 0 && !failed)
		failed = "essential file systems";
	ensure_stdio();
	if (!opts.sandbox) {
		/* /dev/kmsg rate-limits writers to 10 lines per 5 s unless told not
		 * to; without it the lines still go, some dropped: ignored */
		(void)write_file("/proc/sys/kernel/printk_devkmsg", "on\n");
		/* falls back to the console by itself */
		(void)log_set_target(LOG_TARGET_KMSG);
		/* a failure is logged; shares are then refused below /, saying why */
		(void)rootfs_secure();
	}
	{
		/* A sandbox's /proc/cmdline is the host's: not ours to read. */
		const char *cmdline = opts.cmdline ? opts.cmdline : getenv("PORTHOLE_CMDLINE");

		const char *file = opts.config ? opts.config : getenv("PORTHOLE_CONFIG");

		load_config(&cfg, file, cmdline || !opts.sandbox ? cmdline : "");
	}
	log_set_level(cfg.log_level);
	log_info("porthole-init %s starting%s", PORTHOLE_VERSION, opts.sandbox ? " (sandbox)" : "");
	if (failed)
		emergency(&sup, &cfg, failed);

	/* 2 host name, limits, modules and devices */
	boot_log_step_begin("modules");
	if (sethostname(cfg.hostname, strlen(cfg.hostname)) < 0)
		log_warn_errno(-errno, "set host name %s, ignoring", cfg.hostname);
	set_rlimits(&cfg);
	if (!opts.sandbox) {
		load_modules(&cfg, &sup);
		/* best effort only: no late mount is essential, and each
		 * failure was logged by mount_apply */
		(void)mount_apply(MOUNT_LATE);
		r = devices_link_virtio_ports("/sys/class/virtio-ports", "/dev");
		if (r < 0)
			log_warn_errno(
				r, "/sys/class/virtio-ports: no /dev/virtio-ports links, ignoring");
		/* 1: set, 0: right already; a failure is logged, the clock runs on */
		(void)boot_clock_from_rtc("/dev/rtc0");
		supervise_init_late(&sup);
	}

	/* 3 storage: the data disk, then the shares (before any service) */
	boot_log_step_begin("storage");
	if (!opts.sandbox) {
		/* each failure is logged where it happens: without its disk the VM
		 * runs on tmpfs, without a share the host's folder is not there */
		if (storage_setup_data_disk(&cfg.storage) < 0)
			(void)rootfs_data_tmpfs(cfg.storage.data_mount);
		(void)storage_mount_shares(&cfg.storage);
	}

	/* 4 network: loopback, sysctls, static and DHCP interfaces, DNS */
	boot_log_step_begin("network");
	net_setup(&sup, &cfg, opts.sandbox);
	/* logged; container runtimes then refuse shared mounts, the VM runs on */
	(void)mount_make_rshared();

	/* 5 cgroups and 6 the services, by dependency; the control socket */
	boot_log_step_begin("services");
	services_load(&services, &sup, SERVICES_DIR, CGROUP_ROOT, SERVICES_LOG_DIR);
	if (!cfg.agent)
		services_disable(&services, AGENT_SERVICE);
	else if (!services_find(&services, AGENT_SERVICE) && !opts.sandbox)
		log_warn("%s/%s.conf: not in the image, the host cannot reach the VM", SERVICES_DIR,
			 AGENT_SERVICE);
	/* logged; init runs on, the agent then reports init unreachable */
	(void)control_start(&sup, &services, CONTROL_SOCKET);
	services_begin(&services);
	/* logged; the VM runs on without a shell on its console */
	if (cfg.shell == SHELL_CONSOLE && !opts.sandbox)
		(void)supervise_start(&sup, "console-shell", shell_argv, true, true);

	boot_log_step_end();
	log_info("ready: %llu ms since kernel start, init %llu ms",
		 (unsigned long long)(now_boot_ns() / NSEC_PER_MSEC),
		 (unsigned long long)((now_mono_ns() - t0) / NSEC_PER_MSEC));

	/* 7 steady state, then 8 shutdown */
	kind = supervise_run(&sup);
	shutdown_run(&sup, &services, kind, cfg.stop_timeout_s);
}
