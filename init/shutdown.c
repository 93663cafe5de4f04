/* Shutdown, as s6-linux-init and systemd-shutdown do it: supervised children
 * first, so that they stop in order and in time; then kill(-1) for what is
 * left; sync; unmount last-mounted-first; reboot(2). Every wait is bounded. */
#include "shutdown.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/reboot.h>
#include <unistd.h>

#include "log.h"
#include "mount.h"
#include "service.h"
#include "util.h"

#define SERVICES_STOP_MAX_MS 120000

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

void shutdown_final(enum shutdown_kind kind, bool sandbox, int status)
{
	static const int cmds[] = {
		[SHUTDOWN_NONE] = RB_POWER_OFF,
		[SHUTDOWN_POWEROFF] = RB_POWER_OFF,
		[SHUTDOWN_REBOOT] = RB_AUTOBOOT,
		[SHUTDOWN_HALT] = RB_HALT_SYSTEM,
	};

	sync();
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
	uint64_t grace = (uint64_t)timeout_s * NSEC_PER_SEC, start = now_mono_ns();
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

	sync();
	busy = mount_unmount_all();
	if (busy > 0)
		log_warn("shutdown: %d file systems still busy (remounted read-only)", busy);
	log_info("shutdown: %s after %llu ms", kind_name(kind),
		 (unsigned long long)((now_mono_ns() - start) / 1000000));
	status = kind == SHUTDOWN_REBOOT ? EXIT_REBOOT
		 : kind == SHUTDOWN_HALT ? EXIT_HALT
					 : EXIT_POWEROFF;
	shutdown_final(kind, s->sandbox, status);
}
