/* API file systems from one table, with the options a container host needs
 * (devpts as docker and runc expect it, a shared /), and the reverse at
 * shutdown. */
#include "mount.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "log.h"
#include "util.h"

#define NOSUID MS_NOSUID
#define NODEV MS_NODEV
#define NOEXEC MS_NOEXEC

const struct mount_entry mount_table[] = {
	{ "proc", "/proc", "proc", NOSUID | NODEV | NOEXEC, NULL, 0555, MOUNT_EARLY, true },
	{ "sysfs", "/sys", "sysfs", NOSUID | NODEV | NOEXEC, NULL, 0555, MOUNT_EARLY, true },
	{ "devtmpfs", "/dev", "devtmpfs", NOSUID, "mode=0755", 0755, MOUNT_EARLY, true },
	/* gid 5 is "tty" in Debian: ttys are group-writable by it, as login and
	 * docker expect; ptmxmode=666 so that anyone can open a new pty. */
	{ "devpts", "/dev/pts", "devpts", NOSUID | NOEXEC, "gid=5,mode=620,ptmxmode=666", 0755,
	  MOUNT_EARLY, true },
	{ "shm", "/dev/shm", "tmpfs", NOSUID | NODEV, "mode=1777", 01777, MOUNT_EARLY, true },
	{ "mqueue", "/dev/mqueue", "mqueue", NOSUID | NODEV | NOEXEC, NULL, 0755, MOUNT_EARLY,
	  false },
	{ "tmpfs", "/run", "tmpfs", NOSUID | NODEV, "mode=0755", 0755, MOUNT_EARLY, true },
	{ "tmpfs", "/tmp", "tmpfs", NOSUID | NODEV, "mode=1777", 01777, MOUNT_EARLY, true },
	/* nsdelegate: cgroup namespaces are delegation boundaries (cgroups(7)). */
	{ "cgroup2", "/sys/fs/cgroup", "cgroup2", NOSUID | NODEV | NOEXEC, "nsdelegate", 0555,
	  MOUNT_EARLY, true },
	{ "securityfs", "/sys/kernel/security", "securityfs", NOSUID | NODEV | NOEXEC, NULL, 0755,
	  MOUNT_EARLY, false },
	{ "debugfs", "/sys/kernel/debug", "debugfs", NOSUID | NODEV | NOEXEC, NULL, 0700,
	  MOUNT_EARLY, false },
	{ "tracefs", "/sys/kernel/tracing", "tracefs", NOSUID | NODEV | NOEXEC, NULL, 0700,
	  MOUNT_EARLY, false },
	{ "bpf", "/sys/fs/bpf", "bpf", NOSUID | NODEV | NOEXEC, "mode=0700", 0700, MOUNT_EARLY,
	  false },
	{ "configfs", "/sys/kernel/config", "configfs", NOSUID | NODEV | NOEXEC, NULL, 0755,
	  MOUNT_LATE, false },
	/* fusectl exists once the fuse module is loaded. */
	{ "fusectl", "/sys/fs/fuse/connections", "fusectl", NOSUID | NODEV | NOEXEC, NULL, 0755,
	  MOUNT_LATE, false },
	{ "pstore", "/sys/fs/pstore", "pstore", NOSUID | NODEV | NOEXEC, NULL, 0755, MOUNT_LATE,
	  false },
};

const size_t mount_table_size = ARRAY_SIZE(mount_table);

/* Directories on the fresh tmpfs mounts that programs expect without
 * creating them: Debian's /var/lock is a link to /run/lock. */
static const struct {
	const char *path;
	unsigned mode;
} early_dirs[] = {
	{ "/run/lock", 01777 },
	{ "/run/porthole", 0755 },
};

/* mountinfo fields (proc(5)): id parent major:minor root mountpoint options
 * [optional fields...] - fstype source superoptions */
static bool mountinfo_has(const char *mountinfo, const char *target, const char *fstype)
{
	const char *line = mountinfo;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[1024], *save = NULL, *tok, *mnt = NULL, *type = NULL;
		int field = 0;
		bool after_dash = false;

		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = '\0';
			for (tok = strtok_r(buf, " ", &save); tok;
			     tok = strtok_r(NULL, " ", &save)) {
				if (after_dash) {
					type = tok;
					break;
				}
				if (field == 4)
					mnt = tok;
				if (field >= 6 && strcmp(tok, "-") == 0)
					after_dash = true;
				field++;
			}
			if (mnt && type && strcmp(mnt, target) == 0 && strcmp(type, fstype) == 0)
				return true;
		}
		line = end ? end + 1 : NULL;
	}
	return false;
}

void mount_plan(const struct mount_entry *table, size_t n, const char *mountinfo, bool *skip)
{
	for (size_t i = 0; i < n; i++)
		skip[i] = mountinfo && mountinfo_has(mountinfo, table[i].target, table[i].fstype);
}

void mount_flags_string(unsigned long flags, char *buf, size_t size)
{
	static const struct {
		unsigned long flag;
		const char *name;
	} names[] = {
		{ MS_RDONLY, "ro" },	 { MS_NOSUID, "nosuid" },   { MS_NODEV, "nodev" },
		{ MS_NOEXEC, "noexec" }, { MS_NOATIME, "noatime" }, { MS_RELATIME, "relatime" },
	};
	size_t n = 0;

	buf[0] = '\0';
	if (!(flags & MS_RDONLY))
		n += (size_t)snprintf(buf, size, "rw");
	for (size_t i = 0; i < ARRAY_SIZE(names) && n < size; i++)
		if (flags & names[i].flag)
			n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? "," : "",
					      names[i].name);
}

static char *read_mountinfo(void)
{
	char *text = NULL;

	/* A VM has a few dozen mounts; a host with many containers may have
	 * thousands: 4 MiB is far beyond either. */
	if (read_file("/proc/self/mountinfo", 4 << 20, &text, NULL) < 0)
		return NULL;
	return text;
}

static void make_early_dirs(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(early_dirs); i++) {
		int r = mkdir_p(early_dirs[i].path, early_dirs[i].mode);

		/* mkdir(2) applies the umask: the mode is set as asked */
		if (r >= 0)
			r = chmod(early_dirs[i].path, early_dirs[i].mode) < 0 ? -errno : 0;
		if (r < 0)
			log_warn_errno(r, "mkdir %s, ignoring", early_dirs[i].path);
	}
}

int mount_apply(enum mount_phase phase)
{
	_cleanup_free_ char *mountinfo = read_mountinfo();
	bool skip[ARRAY_SIZE(mount_table)];
	int ret = 0;

	mount_plan(mount_table, mount_table_size, mountinfo, skip);
	for (size_t i = 0; i < mount_table_size; i++) {
		const struct mount_entry *m = &mount_table[i];
		int r;

		if (m->phase != phase)
			continue;
		if (skip[i]) {
			log_debug("%s (%s) already mounted", m->target, m->fstype);
			continue;
		}
		r = mkdir_p(m->target, m->mode);
		if (r < 0 && !m->essential && (r == -EPERM || r == -ENOENT)) {
			/* sysfs makes mount points like /sys/kernel/config itself, when
			 * the file system is there; nobody may create them */
			log_debug("%s (%s): not in this kernel, skipped", m->target, m->fstype);
			continue;
		}
		if (r >= 0 && mount(m->source, m->target, m->fstype, m->flags, m->data) < 0)
			r = -errno;
		if (r >= 0) {
			log_debug("mounted %s (%s)", m->target, m->fstype);
			continue;
		}
		if (m->essential) {
			log_error_errno(r, "mount %s (%s)", m->target, m->fstype);
			if (ret == 0)
				ret = r;
		} else if (r == -ENODEV || r == -ENOENT) {
			/* The kernel lacks this file system: nothing to report. */
			log_debug_errno(r, "mount %s (%s), ignoring", m->target, m->fstype);
		} else {
			log_warn_errno(r, "mount %s (%s), ignoring", m->target, m->fstype);
		}
	}
	if (phase == MOUNT_EARLY && ret == 0)
		make_early_dirs();
	return ret;
}

void mount_describe(int fd)
{
	for (size_t i = 0; i < mount_table_size; i++) {
		const struct mount_entry *m = &mount_table[i];
		char flags[128];

		mount_flags_string(m->flags, flags, sizeof(flags));
		dprintf(fd, "mount %-9s %-26s %s%s%s%s\n", m->fstype, m->target, flags,
			m->data ? "," : "", m->data ? m->data : "",
			m->essential ? "" : " (best effort)");
	}
}

int mount_make_rshared(void)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_SHARED, NULL) < 0)
		return log_error_errno(-errno, "make / rshared");
	return 0;
}

static bool is_api_mount(const char *target)
{
	static const char *const keep[] = { "/proc", "/sys", "/dev" };

	if (strcmp(target, "/") == 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
		size_t len = strlen(keep[i]);

		if (strncmp(target, keep[i], len) == 0 &&
		    (target[len] == '\0' || target[len] == '/'))
			return true;
	}
	return false;
}

/* Cuts LINE of mountinfo after its fifth field, the mount point, and returns
 * that field unescaped; NULL for a line too short. */
static char *mountinfo_target(char *line)
{
	char *p = line;

	for (int f = 0; f < 4 && p; f++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p)
		return NULL;
	p[strcspn(p, " ")] = '\0';
	mountinfo_unescape(p);
	return p;
}

#define UNMOUNT_MAX 1024

int mount_unmount_all(void)
{
	int busy = 0;

	/* Each pass unmounts what it can, last mounted first; a mount stacked on
	 * another frees it for the next pass. Ten passes are more than any
	 * nesting a VM has. */
	for (int pass = 0; pass < 10; pass++) {
		_cleanup_free_ char *info = read_mountinfo();
		char *targets[UNMOUNT_MAX];
		size_t n = 0;
		int progress = 0;

		if (!info)
			return -EIO;
		for (char *line = strtok(info, "\n"); line && n < UNMOUNT_MAX;
		     line = strtok(NULL, "\n")) {
			char *p = mountinfo_target(line);

			if (p && !is_api_mount(p))
				targets[n++] = p;
		}
		busy = 0;
		for (size_t i = n; i-- > 0;) {
			if (umount2(targets[i], UMOUNT_NOFOLLOW) == 0) {
				log_debug("unmounted %s", targets[i]);
				progress++;
			} else if (errno != EINVAL && errno != ENOENT) {
				busy++;
			}
		}
		if (!progress)
			break;
	}
	if (busy == 0)
		return 0;

	/* What stays busy is remounted read-only, so its data is on disk. */
	{
		_cleanup_free_ char *info = read_mountinfo();

		busy = 0;
		for (char *line = info ? strtok(info, "\n") : NULL; line;
		     line = strtok(NULL, "\n")) {
			char *p = mountinfo_target(line);

			if (!p || is_api_mount(p))
				continue;
			busy++;
			if (mount(NULL, p, NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
				log_warn_errno(-errno, "%s busy; remount read-only", p);
			else
				log_warn("%s busy; remounted read-only", p);
		}
	}
	return busy;
}
