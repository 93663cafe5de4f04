/* Shutdown, as s6-linux-init and systemd-shutdown do it: supervised children
 * first, so that they stop in order and in time; then kill(-1) for what is
 * left; sync; unmount last-mounted-first; reboot(2). Every wait is bounded,
 * the kernel's included: what touches file systems at the end (sync,
 * unmount) runs in a child with a deadline, so that a share whose server
 * died cannot hold PID 1; such shares are detached (MNT_DETACH). */
#include "shutdown.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "mount.h"
#include "service.h"
#include "util.h"

#define SERVICES_STOP_MAX_MS 120000
/* Writing back a data disk with much dirty data under TCG takes a few
 * seconds: the local file systems get this long, asking no share. */
#define LOCAL_SYNC_MAX_MS 10000
/* With their data written, a healthy share syncs and every file system
 * unmounts in well under a second: past this, a share's server is taken
 * to be gone. */
#define FS_STEP_MAX_MS 5000
/* MNT_DETACH takes the mount out of the tree without asking its server,
 * at once; the child that does it may then wait in the kernel for the
 * share's teardown, which is why the mount table is watched instead */
#define DETACH_MAX_MS 2000
#define SERVED_MAX 64

/* Set once a file system did not answer: sync(2) would not return. */
static bool fs_hung;

static const char *kind_name(enum shutdown_kind kind)
{
	switch (kind) {
	case SHUTDOWN_REBOOT:
		return "reboot";
	case SHUTDOWN_HALT:
		return "halt";
	default:
		return "power-off";
	}
}

static bool children_left(const struct supervisor *s)
{
	for (int i = 0; i < CHILDREN_MAX; i++)
		if (s->children[i].argv && s->children[i].pid > 0)
			return true;
	return false;
}

/* Whether any process but init is left. kill(-1, 0) cannot tell: the kernel
 * counts its own threads in it and answers 0 while they exist. So /proc is
 * read: kernel threads (PF_KTHREAD in stat's flags) and zombies, which are
 * reaped as their parents go, do not count. */
#define PF_KTHREAD 0x00200000u

static bool others_left(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	bool found = false;

	if (!d)
		return kill(-1, 0) == 0;
	while (!found && (de = readdir(d))) {
		char path[64], buf[1024], *p;
		unsigned long flags = 0;
		char state = 0;
		int fd, pid = atoi(de->d_name);
		ssize_t n;

		if (pid <= 1)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* "pid (comm) state ppid pgrp session tty_nr tpgid flags ...": comm
		 * may hold spaces and parentheses, so parse after the last ')' */
		p = strrchr(buf, ')');
		if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &flags) != 2)
			continue;
		if (!(flags & PF_KTHREAD) && state != 'Z')
			found = true;
	}
	closedir(d);
	return found;
}

/* Waits for DONE(s) until DEADLINE, reaping as children exit. */
static bool wait_until(struct supervisor *s, bool (*done)(const struct supervisor *),
		       uint64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = s->sigfd, .events = POLLIN };
		uint64_t now, left_ms;
		char drain[4096];

		supervise_reap(s);
		if (done(s))
			return true;
		now = now_mono_ns();
		if (now >= deadline)
			return false;
		/* Another shutdown signal changes nothing now; only SIGCHLD matters.
		 * Waking every 100 ms also catches orphans whose SIGCHLD was
		 * coalesced with an earlier one. */
		left_ms = (deadline - now) / 1000000 + 1;
		if (poll(&pfd, 1, left_ms > 100 ? 100 : (int)left_ms) > 0 &&
		    read(s->sigfd, drain, sizeof(drain)) < 0) {
			/* drained, or nothing to drain */
		}
	}
}

static bool children_left_not(const struct supervisor *s)
{
	return !children_left(s);
}

static bool no_others(const struct supervisor *s)
{
	(void)s;
	return !others_left();
}

static void signal_children(struct supervisor *s, int sig)
{
	for (int i = 0; i < CHILDREN_MAX; i++) {
		struct child *c = &s->children[i];

		if (!c->argv || c->pid <= 0)
			continue;
		c->respawn = false;
		/* An interactive shell ignores TERM: a hangup is what ends it, as
		 * for a getty when its line goes away. */
		if (c->console && sig == SIGTERM) {
			kill(-c->pid, SIGHUP);
			kill(c->pid, SIGHUP);
		}
		/* Children run in their own session: the group takes what they forked.
		 * CONT, so that a stopped process can act on the signal. */
		kill(-c->pid, sig);
		kill(c->pid, sig);
		if (sig == SIGTERM)
			kill(-c->pid, SIGCONT);
	}
}

/* File systems whose data lives with a server outside the guest's kernel:
 * the host's virtiofsd or 9p server, a FUSE daemon, NFS or SMB. When the
 * server is gone, a sync or the last unmount waits for it in the kernel,
 * uninterruptibly (fuse's request_wait_answer; virtio-fs sends FUSE_SYNCFS
 * on sync and FUSE_DESTROY when its last mount goes): not killable, and
 * forever. */
static bool served_type(const char *type)
{
	static const char *const types[] = {
		"virtiofs", "9p", "fuse", "nfs", "nfs4", "cifs", "smb3"
	};

	if (strncmp(type, "fuse.", 5) == 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (strcmp(type, types[i]) == 0)
			return true;
	return false;
}

struct served {
	char target[256];
	char type[32];
	char source[128];
};

/* The served file systems mounted now, last mounted first, at most MAX;
 * reading mountinfo asks no server. */
static size_t served_mounts(struct served *list, size_t max)
{
	_cleanup_free_ char *info = NULL;
	size_t n = 0;

	if (read_file("/proc/self/mountinfo", 4 << 20, &info, NULL) < 0)
		return 0;
	for (char *line = info, *next; line && *line; line = next) {
		char target[256], type[32], source[128], *sep;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* proc(5): ID PARENT MAJ:MIN ROOT MOUNTPOINT ... - TYPE SOURCE ... */
		sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %255s", target) != 1 ||
		    sscanf(sep + 3, "%31s %127s", type, source) != 2 || !served_type(type))
			continue;
		mountinfo_unescape(target);
		if (n == max)
			memmove(list, list + 1, (max - 1) * sizeof(*list));
		else
			n++;
		/* kept in mount order here, returned reversed below */
		snprintf(list[n - 1].target, sizeof(list[0].target), "%s", target);
		snprintf(list[n - 1].type, sizeof(list[0].type), "%s", type);
		snprintf(list[n - 1].source, sizeof(list[0].source), "%s", source);
	}
	for (size_t i = 0; i < n / 2; i++) {
		struct served t = list[i];

		list[i] = list[n - 1 - i];
		list[n - 1 - i] = t;
	}
	return n;
}

/* Runs FN in a child and waits TIMEOUT_MS at most for what it returns,
 * through a pipe (init's reaping may take the child's status first), or
 * until DONE (when not NULL, asked every 50 ms) says its work is seen done.
 * A child still there then is left to the kernel: in uninterruptible sleep
 * it cannot be killed, and the power-off ends it. Returns FN's result
 * (>= 0; 0 when DONE said so), -ETIMEDOUT, or -errno when it could not be
 * run. */
static int in_child(const char *what, int (*fn)(void), int timeout_ms, bool (*done)(void))
{
	uint64_t deadline = now_mono_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;
	int fds[2], result = -ECHILD;
	bool seen_done = false;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return log_warn_errno(-errno, "shutdown: %s: pipe", what);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return log_warn_errno(-errno, "shutdown: %s: fork", what);
	}
	if (pid == 0) {
		int r;

		close(fds[0]);
		r = fn();
		if (write(fds[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	for (;;) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		uint64_t now = now_mono_ns();
		int n;

		if (now >= deadline) {
			result = -ETIMEDOUT;
			break;
		}
		n = poll(&pfd, 1, done ? 50 : (int)((deadline - now) / NSEC_PER_MSEC) + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && done && done()) {
			result = 0;
			seen_done = true;
			break;
		}
		if (n > 0 && read(fds[0], &result, sizeof(result)) != sizeof(result))
			result = -ECHILD; /* it died before answering */
		if (n != 0)
			break;
	}
	close(fds[0]);
	if (result == -ETIMEDOUT || seen_done)
		kill(pid, SIGKILL); /* takes effect if it ever leaves the kernel */
	else
		waitpid(pid, NULL, WNOHANG);
	return result;
}

/* The local file systems' data, one by one (syncfs(2) asks no other file
 * system), so that it is on disk whatever a share does next. */
static int sync_local(void)
{
	_cleanup_free_ char *info = NULL;

	if (read_file("/proc/self/mountinfo", 4 << 20, &info, NULL) == 0) {
		for (char *line = info, *next; line && *line; line = next) {
			char target[256], type[32], *sep;
			int fd;

			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			sep = strstr(line, " - ");
			if (!sep || sscanf(line, "%*s %*s %*s %*s %255s", target) != 1 ||
			    sscanf(sep + 3, "%31s", type) != 1 || served_type(type))
				continue;
			mountinfo_unescape(target);
			fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			if (fd >= 0) {
				syncfs(fd);
				close(fd);
			}
		}
	}
	return 0;
}

/* Then sync(2) for the rest, the shares included, and every unmount.
 * Returns how many stayed busy. */
static int sync_and_unmount(void)
{
	sync();
	return mount_unmount_all();
}

/* Takes every served file system out of the tree without asking its
 * server; the kernel frees each when its last user goes. */
static int detach_served(void)
{
	struct served list[SERVED_MAX];
	size_t n = served_mounts(list, SERVED_MAX);
	int detached = 0;

	for (size_t i = 0; i < n; i++)
		if (umount2(list[i].target, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
			detached++;
	return detached;
}

static bool no_served(void)
{
	struct served one;

	return served_mounts(&one, 1) == 0;
}

static int unmount_rest(void)
{
	return mount_unmount_all();
}

static int sync_only(void)
{
	sync();
	return 0;
}

/* sync, unmount, and for shares whose server is gone, detach: bounded.
 * Returns how many file systems stayed busy. */
static int file_systems_down(void)
{
	struct served list[SERVED_MAX];
	size_t n;
	int r;

	if (in_child("sync", sync_local, LOCAL_SYNC_MAX_MS, NULL) == -ETIMEDOUT)
		log_warn("shutdown: the local file systems' sync still waiting after %d ms; "
			 "going on",
			 LOCAL_SYNC_MAX_MS);
	r = in_child("sync and unmount", sync_and_unmount, FS_STEP_MAX_MS, NULL);
	if (r != -ETIMEDOUT)
		return r;
	fs_hung = true;
	n = served_mounts(list, SERVED_MAX);
	log_warn("shutdown: sync and unmount still waiting after %d ms; %zu share(s) left, "
		 "detached without their server",
		 FS_STEP_MAX_MS, n);
	for (size_t i = 0; i < n; i++)
		log_warn("shutdown: share %s (%s) on %s detached (lazy unmount): what its server "
			 "did not take is given up",
			 list[i].source, list[i].type, list[i].target);
	r = in_child("detach shares", detach_served, DETACH_MAX_MS, no_served);
	if (r < 0)
		log_warn_errno(r, "shutdown: shares still in the mount table after %d ms, going on",
			       DETACH_MAX_MS);
	/* a share that died after the first child took it out of the tree
	 * holds that child, not this one: the local file systems are next */
	r = in_child("unmount", unmount_rest, FS_STEP_MAX_MS, NULL);
	if (r == -ETIMEDOUT)
		log_warn("shutdown: unmount still waiting after %d ms; powering off anyway",
			 FS_STEP_MAX_MS);
	return r;
}

void shutdown_final(enum shutdown_kind kind, bool sandbox, int status)
{
	static const int cmds[] = {
		[SHUTDOWN_NONE] = RB_POWER_OFF,
		[SHUTDOWN_POWEROFF] = RB_POWER_OFF,
		[SHUTDOWN_REBOOT] = RB_AUTOBOOT,
		[SHUTDOWN_HALT] = RB_HALT_SYSTEM,
	};

	/* a plain sync(2) here could wait forever on a dead share: once one
	 * did not answer, the local file systems were synced one by one */
	if (fs_hung)
		log_warn("shutdown: no final sync: a share's server did not answer");
	else if (in_child("sync", sync_only, FS_STEP_MAX_MS, NULL) == -ETIMEDOUT)
		log_warn("shutdown: sync still waiting after %d ms; going on", FS_STEP_MAX_MS);
	if (sandbox)
		exit(status);
	reboot(cmds[kind]);
	/* reboot(2) returned: nothing is left to do but not exit. */
	log_emerg("reboot(2) for %s failed: %m; halting here", kind_name(kind));
	for (;;)
		pause();
}

/* Long enough for every service to use its whole stop time-out one after
 * the other (the worst a dependency chain can take), and bounded. */
static uint64_t services_deadline(const struct services *ss, uint64_t start)
{
	uint64_t sum = 2000;

	for (size_t i = 0; i < ss->n; i++)
		if (ss->svc[i].pid > 0)
			sum += ss->svc[i].spec.stop_timeout_ms;
	if (sum > SERVICES_STOP_MAX_MS)
		sum = SERVICES_STOP_MAX_MS;
	return start + sum * (uint64_t)NSEC_PER_MSEC;
}

void shutdown_run(struct supervisor *s, struct services *ss, enum shutdown_kind kind,
		  unsigned timeout_s)
{
	uint64_t grace = (uint64_t)timeout_s * NSEC_PER_SEC, start = now_mono_ns(), fs_start;
	int busy, status;

	log_info("shutdown: %s; stopping what init started", kind_name(kind));
	if (ss && ss->n) {
		services_stop_all(ss, services_deadline(ss, start));
		log_info("shutdown: services stopped after %llu ms",
			 (unsigned long long)((now_mono_ns() - start) / 1000000));
	}
	signal_children(s, SIGTERM);
	if (!wait_until(s, children_left_not, start + grace)) {
		log_warn("shutdown: children still running after %u s; killing them", timeout_s);
		signal_children(s, SIGKILL);
		wait_until(s, children_left_not, now_mono_ns() + 2000000000ull);
	}

	/* Everything else: processes init did not start, and what they forked. */
	if (others_left()) {
		log_info("shutdown: sending TERM to all other processes");
		kill(-1, SIGTERM);
		if (!wait_until(s, no_others, now_mono_ns() + grace)) {
			log_warn("shutdown: processes left after %u s; sending KILL", timeout_s);
			kill(-1, SIGKILL);
			if (!wait_until(s, no_others, now_mono_ns() + 5000000000ull))
				log_warn(
					"shutdown: processes still left (in uninterruptible sleep?)");
		}
	}

	fs_start = now_mono_ns();
	busy = file_systems_down();
	log_info("shutdown: file systems synced and unmounted in %llu ms",
		 (unsigned long long)((now_mono_ns() - fs_start) / 1000000));
	if (busy > 0)
		log_warn("shutdown: %d file systems still busy (remounted read-only)", busy);
	log_info("shutdown: %s after %llu ms", kind_name(kind),
		 (unsigned long long)((now_mono_ns() - start) / 1000000));
	status = kind == SHUTDOWN_REBOOT ? EXIT_REBOOT
		 : kind == SHUTDOWN_HALT ? EXIT_HALT
					 : EXIT_POWEROFF;
	shutdown_final(kind, s->sandbox, status);
}
