/* libFuzzer target: every agent command's argument decoding, the commands
 * that change the machine (set the clock, mount, trim, exec, shut down, write
 * resolv.conf) included. fuzz-agent-requests covers the stream and the
 * envelope with side-effect-free commands only; this one picks a command
 * that takes arguments by name (the input is "NAME ARGUMENTS") and sends
 * the rest as its "arguments", through dispatch_value (the central checks,
 * then the handler), as a client would.
 *
 * The handlers are kept from acting, not stubbed, so that what is fuzzed is
 * the code the agent runs: before the first input the process enters a
 * mount namespace of its own, where /run is an empty tmpfs and /etc an
 * overlay whose writes land in a tmpfs (resolv.conf, the DNS override, the
 * share roots) and /dev/kmsg is /dev/null; and a seccomp filter
 * (libseccomp) makes every call that would reach outside fail with EPERM:
 * setting clocks, mounting, rebooting, exec, creating processes or threads,
 * signals to anyone but itself, host names, FITRIM and RTC_SET_TIME. (So
 * llvm-symbolizer cannot be started either: a report's frames are
 * addresses, symbolized afterwards, tests/fuzz/README.md.) Without the namespace (not root) the
 * commands that write are blocked instead, and that is said once. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/fs.h>
#include <linux/rtc.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-reply.h"
#include "agent.h"
#include "cmd-memory.h"
#include "command.h"
#include "dispatch.h"
#include "log.h"
#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct agent agent;
/* the commands that take arguments, in the dispatcher's order */
static const struct dispatch_entry *cmds[64];
static size_t n_cmds;

/* A private /run and /etc: what the handlers write stays in this process's
 * mount namespace (mount_namespaces(7): MS_PRIVATE keeps our mounts from
 * propagating back). */
static int private_mounts(void)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("fuzz", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "size=16m") < 0)
		return -errno;
	if (mkdir("/run/etc-upper", 0755) < 0 || mkdir("/run/etc-work", 0755) < 0 ||
	    mkdir("/run/fuzz-shares", 0755) < 0)
		return -errno;
	if (mount("fuzz", "/etc", "overlay", 0,
		  "lowerdir=/etc,upperdir=/run/etc-upper,workdir=/run/etc-work") < 0)
		return -errno;
	/* porthole-logs' "kernel" reads the whole kernel log: the host's is
	 * long, and reading it took 4 ms of each such input. Its records are
	 * kmsg's tests' (test-agent-kmsg), not this target's. */
	if (mount("/dev/null", "/dev/kmsg", NULL, MS_BIND, NULL) < 0)
		return -errno;
	return 0;
}

/* Default allow: the handlers' reads (/proc, sysfs, netlink dumps) are
 * what they parse and answer from; what would act is refused. */
static int deny_side_effects(void)
{
	static const int denied[] = {
		SCMP_SYS(clock_settime), SCMP_SYS(settimeofday),  SCMP_SYS(clock_adjtime),
		SCMP_SYS(adjtimex),	 SCMP_SYS(mount),	  SCMP_SYS(umount2),
		SCMP_SYS(fsopen),	 SCMP_SYS(fsconfig),	  SCMP_SYS(fsmount),
		SCMP_SYS(move_mount),	 SCMP_SYS(open_tree),	  SCMP_SYS(fspick),
		SCMP_SYS(mount_setattr), SCMP_SYS(pivot_root),	  SCMP_SYS(reboot),
		SCMP_SYS(execve),	 SCMP_SYS(execveat),	  SCMP_SYS(fork),
		SCMP_SYS(vfork),	 SCMP_SYS(clone3),	  SCMP_SYS(sethostname),
		SCMP_SYS(setdomainname), SCMP_SYS(unshare),	  SCMP_SYS(setns),
		SCMP_SYS(sync),		 SCMP_SYS(syncfs),	  SCMP_SYS(init_module),
		SCMP_SYS(finit_module),	 SCMP_SYS(delete_module),
	};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	pid_t self = getpid();
	int r = ctx ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < sizeof(denied) / sizeof(denied[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0);
	/* signals: only to itself (abort() and the sanitizers' reports) */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(kill), 1,
				     SCMP_A0(SCMP_CMP_NE, (scmp_datum_t)self));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(tgkill), 1,
				     SCMP_A0(SCMP_CMP_NE, (scmp_datum_t)self));
	/* clone(2) only with CLONE_UNTRACED: LeakSanitizer's tracer, which the
	 * leak check needs; glibc's threads and posix_spawn go through clone3,
	 * refused above, and fork has no CLONE_UNTRACED */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_UNTRACED, 0));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)FITRIM));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)RTC_SET_TIME));
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

static void setup(void)
{
	static const char *const writers[] = { "porthole-dns-set", "porthole-mount",
					       "porthole-unmount", "porthole-memory-target" };
	size_t n;
	const struct dispatch_entry *e;
	int r;

	log_set_level(LOG_LEVEL_EMERG);
	options_defaults(&agent.cfg);
	agent.cfg.exec_enabled = true;
	agent.cfg.shell_enabled = true;
	agent.sandbox = true;
	r = private_mounts();
	if (r < 0) {
		fprintf(stderr,
			"fuzz-agent-commands: no private mount namespace (%s): %s, %s, %s and "
			"%s are left out\n",
			strerror(-r), writers[0], writers[1], writers[2], writers[3]);
		for (size_t i = 0; i < sizeof(writers) / sizeof(writers[0]); i++)
			strcpy(agent.cfg.block_rpcs[agent.cfg.n_block_rpcs++], writers[i]);
	} else {
		options_set(&agent.cfg, "share_roots", "/run/fuzz-shares", "fuzz");
		/* porthole-memory-target's memory.high: a made-up cgroup tree in
		 * the private /run (porthole-memory-reclaim refuses: a sandbox) */
		if (mkdir("/run/fuzz-cgroup", 0755) < 0 ||
		    mkdir("/run/fuzz-cgroup/porthole", 0755) < 0 ||
		    mkdir("/run/fuzz-cgroup/porthole/dockerd", 0755) < 0)
			abort();
		memory_set_roots("/proc", "/run/fuzz-cgroup");
	}
	r = deny_side_effects();
	if (r < 0) {
		/* never run the handlers unfenced */
		fprintf(stderr, "fuzz-agent-commands: seccomp: %s\n", strerror(-r));
		abort();
	}
	/* guest-exec and porthole-shell need a loop to start; it never runs,
	 * so nothing scheduled on it (guest-shutdown's power-off) happens */
	if (loop_new(&agent.loop) < 0)
		abort();
	dispatch_init(&agent);
	e = dispatch_commands(&n);
	for (size_t i = 0; i < n; i++)
		if (e[i].cmd->args[0].name && e[i].enabled && n_cmds < 64)
			cmds[n_cmds++] = &e[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct reply r = { 0 };
	const uint8_t *sp, *args;
	const char *cmd = NULL;
	size_t args_len;
	char *req;
	int len, d;

	if (!ready) {
		setup();
		ready = true;
	}
	if (size > 64 * 1024)
		return 0;
	sp = memchr(data, ' ', size);
	for (size_t i = 0; sp && i < n_cmds && !cmd; i++)
		if (strlen(cmds[i]->cmd->name) == (size_t)(sp - data) &&
		    memcmp(cmds[i]->cmd->name, data, (size_t)(sp - data)) == 0)
			cmd = cmds[i]->cmd->name;
	if (!cmd)
		return 0;
	args = sp + 1;
	args_len = size - (size_t)(args - data);
	req = malloc(args_len + 128);
	if (!req)
		return 0;
	/* the arguments as bytes: not always JSON, not always an object */
	len = snprintf(req, 128, "{\"execute\": \"%s\", \"arguments\": ", cmd);
	memcpy(req + len, args, args_len);
	req[(size_t)len + args_len] = '}';
	d = dispatch_value(&agent, req, (size_t)len + args_len + 1, &r);
	free(req);
	/* no connection: nothing can answer later or take the connection over */
	if (d == DISPATCH_REPLY) {
		fuzz_check_reply(&r);
	} else if (d != DISPATCH_NONE) {
		abort();
	}
	/* guest-shutdown once refuses nothing after it: each input starts afresh */
	agent.shutdown_requested = false;
	return 0;
}
