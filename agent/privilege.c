/* The agent's capabilities (privilege.h): the table of what each command
 * needs, and the drop with libcap. Which commands are enabled is dispatch.c's
 * (its index, built from agent.exec, agent.shell, allow_rpcs and block_rpcs);
 * the system call filter is seccomp.c's. */
#include "privilege.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "dispatch.h"
#include "log.h"
#include "util.h"

/* What a command needs beyond uid 0, derived from the calls it makes. The
 * agent is uid 0 without CAP_DAC_OVERRIDE: the files it opens (the device
 * nodes, /etc/resolv.conf, init's socket, /proc and /sys) are root's and
 * their owner's bits suffice. docs/security.md lists the same. */
static const struct need {
	const char *command;
	int cap;
} needs[] = {
	/* clock_settime(2); with no time given, the RTC read; rtc=true's
	 * RTC_SET_TIME (rtc(4): CAP_SYS_TIME) */
	{ "guest-set-time", CAP_SYS_TIME },
	/* clock_adjtime(ADJ_SETOFFSET), adjtimex(ADJ_OFFSET_SINGLESHOT) */
	{ "porthole-time-adjust", CAP_SYS_TIME },
	/* FITRIM (fs/ioctl.c: ioctl_fitrim checks CAP_SYS_ADMIN) */
	{ "guest-fstrim", CAP_SYS_ADMIN },
	{ "porthole-trim", CAP_SYS_ADMIN },
	/* fsopen(2), fsmount(2), move_mount(2), umount2(2) */
	{ "porthole-mount", CAP_SYS_ADMIN },
	{ "porthole-unmount", CAP_SYS_ADMIN },
	/* the proc connector: binding NETLINK_CONNECTOR's group and
	 * PROC_CN_MCAST_LISTEN (drivers/connector/cn_proc.c) */
	{ "porthole-ports", CAP_NET_ADMIN },
	/* the kernel's lines: reading /dev/kmsg under kernel.dmesg_restrict=1,
	 * Debian's default (check_syslog_permissions) */
	{ "porthole-logs", CAP_SYSLOG },
};

static bool enabled(const char *command)
{
	const struct dispatch_entry *e = dispatch_find(command);

	return e && e->enabled;
}

privilege_set privilege_needed(const struct agent *a)
{
	privilege_set set = 0;

	/* guest-exec's commands and porthole-shell's sessions come from the
	 * launcher (launcher.c), forked before the drop: nothing here */
	for (size_t i = 0; i < ARRAY_SIZE(needs); i++)
		if (enabled(needs[i].command))
			set |= PRIVILEGE_BIT(needs[i].cap);
	/* what runs without a command: the PTP sync steers the clock, the
	 * periodic trim is FITRIM */
	if (a->cfg.ptp_sync)
		set |= PRIVILEGE_BIT(CAP_SYS_TIME);
	if (a->cfg.trim_interval_s)
		set |= PRIVILEGE_BIT(CAP_SYS_ADMIN);
	return set;
}

void privilege_format(privilege_set set, char *buf, size_t size)
{
	size_t n = 0;

	if (size)
		buf[0] = '\0';
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
		char *name;

		if (!(set & PRIVILEGE_BIT(cap)))
			continue;
		name = cap_to_name(cap);
		if (n < size)
			n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? "," : "",
					      name ? name : "?");
		cap_free(name);
	}
	if (!n && size)
		snprintf(buf, size, "none");
}

/* Capabilities are per thread (capabilities(7)): a thread started before
 * the drop would keep them all. The workers start on first use, after it;
 * this says so if that ever changes. */
static int threads(void)
{
	_cleanup_free_ char *status = NULL;
	const char *p;
	unsigned n;

	if (read_file("/proc/self/status", 1 << 16, &status, NULL) < 0)
		return -ENOENT;
	p = strstr(status, "\nThreads:");
	if (!p || sscanf(p, "\nThreads: %u", &n) != 1)
		return -ENOENT;
	return (int)n;
}

int privilege_drop(privilege_set keep)
{
	cap_t caps = cap_get_proc();
	cap_flag_value_t v;
	privilege_set have = 0;
	bool setpcap = false;
	int r = 0, n;

	if (!caps)
		return log_error_errno(-errno, "capabilities: cap_get_proc");
	n = threads();
	if (n > 1) {
		cap_free(caps);
		log_error("capabilities: %d threads run already: they would keep theirs", n);
		return -EBUSY;
	}
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (cap_get_flag(caps, cap, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
			have |= PRIVILEGE_BIT(cap);
	if (cap_get_flag(caps, CAP_SETPCAP, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET)
		setpcap = true;
	keep &= have;
	/* the bounding set first: dropping from it needs CAP_SETPCAP, which
	 * the next step gives up. An agent started without it (a test's,
	 * not root) has nothing in its bounding set worth keeping out of reach
	 * of an exec it cannot make under the filter. */
	for (int cap = 0; setpcap && cap < (int)cap_max_bits() && r == 0; cap++) {
		if (cap <= CAP_LAST_CAP && (keep & PRIVILEGE_BIT(cap)))
			continue;
		if (CAP_IS_SUPPORTED(cap) && cap_drop_bound(cap) < 0)
			r = log_error_errno(-errno, "capabilities: drop %d from the bounding set",
					    cap);
	}
	if (r == 0 && CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() < 0)
		r = log_error_errno(-errno, "capabilities: clear the ambient set");
	if (r == 0 && cap_clear(caps) < 0)
		r = log_error_errno(-errno, "capabilities: cap_clear");
	for (int cap = 0; cap <= CAP_LAST_CAP && r == 0; cap++) {
		cap_value_t c = cap;

		if (!(keep & PRIVILEGE_BIT(cap)))
			continue;
		if (cap_set_flag(caps, CAP_PERMITTED, 1, &c, CAP_SET) < 0 ||
		    cap_set_flag(caps, CAP_EFFECTIVE, 1, &c, CAP_SET) < 0)
			r = log_error_errno(-errno, "capabilities: cap_set_flag %d", cap);
	}
	if (r == 0 && cap_set_proc(caps) < 0)
		r = log_error_errno(-errno, "capabilities: cap_set_proc");
	cap_free(caps);
	/* no exec can give back what was dropped (setuid or file
	 * capabilities); the seccomp filter needs it too */
	if (r == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		r = log_error_errno(-errno, "capabilities: PR_SET_NO_NEW_PRIVS");
	return r;
}
