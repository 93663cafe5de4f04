/* The agent's allow-list (seccomp.h): one table, grouped by what needs the
 * calls, derived from `strace -f` of the agent under tests/sandbox/agent.sh,
 * services-agent.sh and shell.sh and from a VM run with agent.seccomp=log
 * (tests/vm/agent.sh, shares.sh, time.sh, disk.sh). What the agent does
 * before the filter (opening its transports, binding, listening, the
 * signalfd) is not here, nor anything that only guest-exec's commands or
 * porthole-shell's sessions do: they run from the launcher (launcher.c),
 * forked before the filter.
 *
 * A refused call fails with EPERM rather than killing: the agent is the
 * host's only way in and init restarts it when it dies, so a kill would be
 * a crash loop the host cannot see into, while EPERM reaches the host as
 * the failed command's error and every other command keeps working
 * (docs/security.md). */
#include "seccomp.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "util.h"

struct allowed_call {
	int nr;
	const char *why; /* the group's purpose, for the reader (and the tests) */
};

#define CALL(name, why)             \
	{                           \
		SCMP_SYS(name), why \
	}

static const struct allowed_call allowed[] = {
	/* the event loop: epoll, its timers, signalfd and eventfds (workers') */
	CALL(epoll_wait, "loop"),
	CALL(epoll_pwait, "loop"),
	CALL(epoll_pwait2, "loop"),
	CALL(epoll_ctl, "loop"),
	CALL(epoll_create1, "loop"),
	CALL(timerfd_create, "loop"),
	CALL(timerfd_settime, "loop"),
	CALL(timerfd_gettime, "loop"),
	CALL(eventfd2, "loop"),
	/* SIGCHLD's, made when guest-exec first runs (loop_watch_children) */
	CALL(signalfd4, "loop"),
	CALL(poll, "loop"),
	CALL(ppoll, "loop"),

	/* bytes in and out of the connections, files, pipes and the log */
	CALL(read, "io"),
	CALL(readv, "io"),
	CALL(pread64, "io"),
	CALL(write, "io"),
	CALL(writev, "io"),
	CALL(pwrite64, "io"),
	CALL(lseek, "io"),
	CALL(close, "io"),
	CALL(close_range, "io"),
	CALL(dup, "io"),
	CALL(dup3, "io"),
	CALL(fcntl, "io"),
	CALL(pipe2, "io"),
	/* FIONREAD, FITRIM (guest-fstrim), the RTC's and PTP clock's
	 * requests, a pty's window size: ioctl is not narrowed by request,
	 * docs/security.md says why */
	CALL(ioctl, "io"),

	/* the transports' and init's sockets, netlink (rtnetlink for the
	 * network commands, sock_diag and the proc connector for
	 * porthole-ports); socket(2) itself is narrowed by family below */
	CALL(accept4, "sockets"),
	CALL(accept, "sockets"),
	CALL(connect, "sockets"),
	CALL(bind, "sockets"),
	CALL(getsockname, "sockets"),
	CALL(getpeername, "sockets"),
	CALL(getsockopt, "sockets"),
	CALL(setsockopt, "sockets"),
	CALL(sendto, "sockets"),
	CALL(sendmsg, "sockets"),
	CALL(recvfrom, "sockets"),
	CALL(recvmsg, "sockets"),
	CALL(shutdown, "sockets"),
	CALL(socketpair, "sockets"),

	/* reading /proc, /sys, /etc and the file systems (health, fsinfo,
	 * osinfo, shares' paths), writing /etc/resolv.conf (porthole-dns-set) */
	CALL(openat, "files"),
	CALL(openat2, "files"),
	CALL(open, "files"),
	CALL(newfstatat, "files"),
	CALL(fstat, "files"),
	CALL(stat, "files"),
	CALL(lstat, "files"),
	CALL(statx, "files"),
	CALL(statfs, "files"),
	CALL(fstatfs, "files"),
	CALL(access, "files"),
	CALL(faccessat, "files"),
	CALL(faccessat2, "files"),
	CALL(readlink, "files"),
	CALL(readlinkat, "files"),
	CALL(getdents64, "files"),
	CALL(getcwd, "files"),
	CALL(mkdir, "files"),
	CALL(mkdirat, "files"),
	CALL(rename, "files"),
	CALL(renameat, "files"),
	CALL(renameat2, "files"),
	CALL(unlink, "files"),
	CALL(unlinkat, "files"),
	CALL(fsync, "files"),
	CALL(fdatasync, "files"),
	/* before a trim: the journal's commit makes deleted files' blocks free */
	CALL(syncfs, "files"),
	CALL(ftruncate, "files"),
	CALL(fchmod, "files"),
	CALL(chmod, "files"),
	CALL(fchmodat, "files"),
	CALL(umask, "files"),

	/* porthole-mount and -unmount: the new mount API (lib/sharemount) */
	CALL(fsopen, "mounts"),
	CALL(fsconfig, "mounts"),
	CALL(fsmount, "mounts"),
	CALL(move_mount, "mounts"),
	CALL(umount2, "mounts"),

	/* reading the clocks; setting them: guest-set-time, porthole-time-adjust
	 * and the PTP sync (the capability, CAP_SYS_TIME, is privilege.c's) */
	CALL(clock_gettime, "time"),
	CALL(clock_getres, "time"),
	CALL(gettimeofday, "time"),
	CALL(time, "time"),
	CALL(nanosleep, "time"),
	CALL(clock_nanosleep, "time"),
	CALL(clock_settime, "time"),
	CALL(clock_adjtime, "time"),
	CALL(adjtimex, "time"),

	/* malloc; mmap and mprotect are narrowed below (never executable) */
	CALL(brk, "memory"),
	CALL(munmap, "memory"),
	CALL(mremap, "memory"),
	CALL(madvise, "memory"),

	/* the workers (pthread_create: clone3, its stack's guard page with
	 * mprotect, robust futexes, rseq), their locks and their end; clone(2)
	 * is allowed below for threads only */
	CALL(clone3, "threads"),
	CALL(futex, "threads"),
	CALL(set_robust_list, "threads"),
	CALL(get_robust_list, "threads"),
	CALL(rseq, "threads"),
	CALL(set_tid_address, "threads"),
	CALL(gettid, "threads"),
	CALL(sched_yield, "threads"),
	CALL(sched_getaffinity, "threads"),
	CALL(membarrier, "threads"),
	CALL(exit, "threads"),

	/* signals: the loop's mask, guest-shutdown's signal to init, a
	 * thread's own abort, sanitizer builds' alternate stack */
	CALL(rt_sigprocmask, "signals"),
	CALL(rt_sigaction, "signals"),
	CALL(rt_sigreturn, "signals"),
	CALL(sigaltstack, "signals"),
	CALL(kill, "signals"),
	CALL(tgkill, "signals"),
	CALL(wait4, "signals"),
	CALL(waitid, "signals"),

	/* who and what this is: guest-info, health, the log's pid and name */
	CALL(getpid, "identity"),
	CALL(getppid, "identity"),
	CALL(getuid, "identity"),
	CALL(geteuid, "identity"),
	CALL(getgid, "identity"),
	CALL(getegid, "identity"),
	CALL(uname, "identity"),
	CALL(sysinfo, "identity"),
	CALL(getrusage, "identity"),
	CALL(prlimit64, "identity"),
	CALL(getrlimit, "identity"),
	CALL(getrandom, "identity"),
	CALL(prctl, "identity"),

	/* the end */
	CALL(exit_group, "exit"),
	CALL(restart_syscall, "exit"),
};

static const int socket_families[] = { AF_UNIX, AF_NETLINK, AF_VSOCK };

int agent_seccomp_mode_from_string(const char *s)
{
	static const char *const names[] = { "enforce", "log", "off" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

const char *agent_seccomp_mode_to_string(enum agent_seccomp_mode m)
{
	return m == AGENT_SECCOMP_ENFORCE ? "enforce" : m == AGENT_SECCOMP_LOG ? "log" : "off";
}

static int add_rules(scmp_filter_ctx ctx)
{
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(allowed) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i].nr, 0);
	for (size_t i = 0; i < ARRAY_SIZE(socket_families) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)socket_families[i]));
	/* malloc's and the workers' stacks: never executable memory */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* clone(2) for a thread only: a fork (lib/sharemount's modprobe, a
	 * guest-exec child) has no CLONE_THREAD and is refused, as execve is */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	return r;
}

int agent_seccomp_apply(enum agent_seccomp_mode mode)
{
	scmp_filter_ctx ctx;
	int r;

	if (mode == AGENT_SECCOMP_OFF)
		return 0;
	ctx = seccomp_init(mode == AGENT_SECCOMP_LOG ? SCMP_ACT_LOG
						     : SCMP_ACT_ERRNO(AGENT_SECCOMP_ERRNO));
	if (!ctx)
		return -ENOMEM;
	/* every thread, the workers that already run included; no_new_privs
	 * is libseccomp's default (SCMP_FLTATR_CTL_NNP) */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r == 0)
		r = add_rules(ctx);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	/* libseccomp returns -errno, or -ECANCELED for the kernel's refusal */
	return r;
}
