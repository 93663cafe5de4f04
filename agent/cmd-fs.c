/* guest-get-fsinfo and guest-fstrim: the file systems mounted on block
 * devices (from /proc/self/mountinfo, as qemu-ga lists them), their use
 * (statvfs(3)), the disks under them (sysfs), and FITRIM on each. Each
 * command's work runs on the agent's workers (worker.c), never in the loop:
 * a FITRIM on a large disk takes seconds, a statvfs on a hung disk longer. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "agent.h"
#include "cmd-fs.h"
#include "cmd-json.h"
#include "command.h"
#include "log.h"
#include "util.h"
#include "worker.h"

/* mountinfo grows with every container's mounts (all major 0, skipped, but
 * read): a few thousand lines fit */
#define MOUNTINFO_MAX (2 << 20)
#define MOUNTS_MAX 256
/* dm and md devices stack: how deep, and how many disks in all */
#define SLAVES_DEPTH_MAX 4
#define DISKS_MAX 16
#define SYSFS_ATTR_MAX 4096

struct mount {
	char *dir;
	char *type;
	char *source;
	unsigned major, minor;
};

struct mounts {
	struct mount m[MOUNTS_MAX];
	size_t n;
	char *text; /* the strings above point into it */
};

static void mounts_free(struct mounts *ms)
{
	free(ms->text);
	free(ms);
}

/* The next space-separated field of *P, NUL-terminated in place. */
static char *field(char **p)
{
	char *s = *p, *e;

	if (!s)
		return NULL;
	while (*s == ' ')
		s++;
	if (!*s)
		return NULL;
	e = strchr(s, ' ');
	if (e) {
		*e = '\0';
		*p = e + 1;
	} else {
		*p = NULL;
	}
	return s;
}

/* The file systems on block devices, as qemu-ga's build_fs_mount_list picks
 * them: a device number with a non-zero major (proc, tmpfs, overlay, nfs,
 * virtiofs and 9p have major 0 and are left out), btrfs (whose st_dev is
 * anonymous) by its source device. A device mounted twice (a bind mount, a
 * second btrfs subvolume) is listed once, at its first mount, as qemu-ga does
 * from 9.2 on: FITRIM twice on one file system is wasted work. */
static int mounts_read(struct mounts **ret)
{
	struct mounts *ms = calloc(1, sizeof(*ms));
	char *line, *next;
	int r;

	if (!ms)
		return -ENOMEM;
	r = read_file("/proc/self/mountinfo", MOUNTINFO_MAX, &ms->text, NULL);
	if (r < 0) {
		free(ms);
		return r;
	}
	for (line = ms->text; line && *line; line = next) {
		char *p = line, *devno, *dir, *type, *source, *f;
		struct mount *m;
		unsigned major, minor;
		bool seen = false;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* proc(5): ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS
		 * [OPTIONAL...] - TYPE SOURCE SUPER-OPTIONS */
		if (!field(&p) || !field(&p) || !(devno = field(&p)) || !field(&p) ||
		    !(dir = field(&p)) || !field(&p))
			continue;
		while ((f = field(&p)) && strcmp(f, "-") != 0)
			;
		if (!f || !(type = field(&p)) || !(source = field(&p)))
			continue;
		if (sscanf(devno, "%u:%u", &major, &minor) != 2)
			continue;
		mountinfo_unescape(dir);
		mountinfo_unescape(source);
		if (major == 0) {
			struct stat st;

			if (strcmp(type, "btrfs") != 0 || stat(source, &st) < 0 ||
			    !S_ISBLK(st.st_mode))
				continue;
			major = major(st.st_rdev);
			minor = minor(st.st_rdev);
		}
		for (size_t i = 0; i < ms->n; i++)
			if (ms->m[i].major == major && ms->m[i].minor == minor)
				seen = true;
		if (seen)
			continue;
		if (ms->n == MOUNTS_MAX) {
			log_warn("more than %d block device mounts, the rest left out", MOUNTS_MAX);
			break;
		}
		m = &ms->m[ms->n++];
		*m = (struct mount){ dir, type, source, major, minor };
	}
	*ret = ms;
	return 0;
}

/* A sysfs attribute's first line, or -errno. */
static int sysfs_read(const char *dir, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	r = read_file(path, SYSFS_ATTR_MAX, &text, &len);
	if (r < 0)
		return r;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
	snprintf(buf, size, "%s", text);
	return 0;
}

/* The PCI function the device hangs off: the last path component of the
 * form DDDD:BB:SS.F before the virtio or block part. qemu-ga takes the first
 * one, which behind a PCIe root port (q35) is the port, not the device. */
static bool pci_address(const char *syspath, const char *end, unsigned pci[4])
{
	bool found = false;

	for (const char *c = strchr(syspath, '/'); c && c < end; c = strchr(c + 1, '/')) {
		unsigned v[4];
		int n = 0;

		if (sscanf(c + 1, "%4x:%2x:%2x.%1x%n", &v[0], &v[1], &v[2], &v[3], &n) == 4 &&
		    (c[1 + n] == '/' || c[1 + n] == '\0')) {
			memcpy(pci, v, sizeof(v));
			found = true;
		}
	}
	return found;
}

/* A GuestDiskAddress for the real (non-virtual) block device at SYSPATH:
 * bus-type "virtio" for virtio-blk (on PCI or not: virtio-mmio, ccw),
 * "scsi" with its numbers for virtio-scsi, "unknown" for anything else;
 * the PCI address when there is one (-1s otherwise, as the schema says);
 * dev from the uevent's DEVNAME; serial from sysfs (what udev's ID_SERIAL,
 * qemu-ga's source, holds for virtio-blk). */
static json_t *disk_json(const char *syspath)
{
	char devname[256] = "", serial[256] = "", disk[PATH_MAX], path[PATH_MAX];
	const char *virtio = strstr(syspath, "/virtio"), *block = strstr(syspath, "/block/");
	const char *target = virtio ? strstr(virtio, "/target") : NULL;
	/* where the PCI path ends and the device's own part begins */
	const char *dev_part = virtio ? virtio : block ? block : syspath + strlen(syspath);
	const char *bus_type = "unknown";
	unsigned pci[4], t[3] = { 0, 0, 0 };
	bool has_pci = pci_address(syspath, dev_part, pci);
	_cleanup_free_ char *uevent = NULL;
	json_t *d;

	/* virtio-scsi: .../virtioN/hostH/targetH:C:T/H:C:T:L/block/sdX */
	if (virtio && target &&
	    sscanf(target, "/target%*u:%*u:%*u/%*u:%u:%u:%u", &t[0], &t[1], &t[2]) == 3)
		bus_type = "scsi";
	else if (virtio)
		bus_type = "virtio";
	/* a partition's serial is its disk's, one directory up */
	snprintf(disk, sizeof(disk), "%s", syspath);
	if ((size_t)snprintf(path, sizeof(path), "%s/partition", syspath) < sizeof(path) &&
	    access(path, F_OK) == 0) {
		char *slash = strrchr(disk, '/');

		if (slash)
			*slash = '\0';
	}
	if (sysfs_read(disk, "serial", serial, sizeof(serial)) < 0)
		sysfs_read(disk, "device/serial", serial, sizeof(serial));
	if ((size_t)snprintf(path, sizeof(path), "%s/uevent", syspath) < sizeof(path) &&
	    read_file(path, SYSFS_ATTR_MAX, &uevent, NULL) == 0) {
		const char *dn = strstr(uevent, "DEVNAME=");

		if (dn && (dn == uevent || dn[-1] == '\n'))
			snprintf(devname, sizeof(devname), "/dev/%.*s", (int)strcspn(dn + 8, "\n"),
				 dn + 8);
	}
	d = json_pack("{s:{s:i,s:i,s:i,s:i},s:s,s:i,s:i,s:i}", "pci-controller", "domain",
		      has_pci ? (int)pci[0] : -1, "bus", has_pci ? (int)pci[1] : -1, "slot",
		      has_pci ? (int)pci[2] : -1, "function", has_pci ? (int)pci[3] : -1,
		      "bus-type", bus_type, "bus", (int)t[0], "target", (int)t[1], "unit",
		      (int)t[2]);
	if (!d)
		return NULL;
	if ((serial[0] && cmd_json_set(d, "serial", utf8_json_string(serial)) < 0) ||
	    (devname[0] && cmd_json_set(d, "dev", utf8_json_string(devname)) < 0)) {
		json_decref(d);
		return NULL;
	}
	return d;
}

/* Adds the disks under the block device at SYSPATH to DISKS: a virtual one
 * (dm, md) through its slaves/, recursively; a real one directly. */
static int add_disks(json_t *disks, const char *syspath, int depth)
{
	char path[PATH_MAX];
	DIR *dir;
	struct dirent *de;
	int r = 0;

	if (!strstr(syspath, "/devices/virtual/block/")) {
		if (json_array_size(disks) >= DISKS_MAX)
			return 0;
		return cmd_json_append(disks, disk_json(syspath));
	}
	if (depth >= SLAVES_DEPTH_MAX)
		return 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/slaves", syspath) >= sizeof(path))
		return 0;
	dir = opendir(path);
	if (!dir)
		return 0; /* loop, zram, ...: no disk underneath */
	while (r == 0 && (de = readdir(dir))) {
		char link[PATH_MAX], *real;

		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(link, sizeof(link), "%s/%s", path, de->d_name) >= sizeof(link))
			continue;
		real = realpath(link, NULL);
		if (!real)
			continue;
		r = add_disks(disks, real, depth + 1);
		free(real);
	}
	closedir(dir);
	return r;
}

/* GuestFilesystemInfo: name (the kernel's name of the device: vda1, dm-0),
 * mountpoint, type, used-bytes and total-bytes as qemu-ga computes them (total
 * is what is usable without root's reserve: used + available), disk. */
static json_t *fs_json(const struct mount *m)
{
	char devpath[64];
	_cleanup_free_ char *syspath = NULL;
	const char *name;
	struct statvfs sv;
	json_t *o = json_object(), *disks = json_array();

	if (!o || !disks)
		goto oom;
	snprintf(devpath, sizeof(devpath), "/sys/dev/block/%u:%u", m->major, m->minor);
	syspath = realpath(devpath, NULL);
	/* without sysfs (a container), the device's name from the mount table */
	name = strrchr(syspath ? syspath : m->source, '/');
	name = name ? name + 1 : m->source;
	if (cmd_json_set(o, "name", utf8_json_string(name)) < 0 ||
	    cmd_json_set(o, "mountpoint", utf8_json_string(m->dir)) < 0 ||
	    cmd_json_set(o, "type", utf8_json_string(m->type)) < 0)
		goto oom;
	if (statvfs(m->dir, &sv) == 0) {
		unsigned long long used = (unsigned long long)(sv.f_blocks - sv.f_bfree);
		unsigned long long total = used + sv.f_bavail;

		used *= sv.f_frsize;
		total *= sv.f_frsize;

		if (cmd_json_set(o, "used-bytes", json_integer((json_int_t)used)) < 0 ||
		    cmd_json_set(o, "total-bytes", json_integer((json_int_t)total)) < 0)
			goto oom;
	}
	if (syspath && add_disks(disks, syspath, 0) < 0)
		goto oom;
	if (cmd_json_set(o, "disk", disks) < 0) {
		disks = NULL;
		goto oom;
	}
	return o;
oom:
	json_decref(disks);
	json_decref(o);
	return NULL;
}

static enum cmd_result fsinfo_work(json_t *args, void *ctx, json_t **result, struct cmd_error *err)
{
	struct mounts *ms;
	json_t *list;
	int r;

	(void)args, (void)ctx;
	r = mounts_read(&ms);
	if (r < 0)
		return cmd_fail_errno(err, r, "read /proc/self/mountinfo");
	list = json_array();
	for (size_t i = 0; list && i < ms->n; i++) {
		if (cmd_json_append(list, fs_json(&ms->m[i])) < 0) {
			json_decref(list);
			list = NULL;
		}
	}
	mounts_free(ms);
	if (!list)
		return cmd_fail(err, "out of memory");
	*result = list;
	return 0;
}

static enum cmd_result get_fsinfo(struct agent *a, json_t *args, json_t **result,
				  struct cmd_error *err)
{
	return worker_cmd(a, "guest-get-fsinfo", fsinfo_work, NULL, args, NULL, result, err);
}

/* FITRIM (linux/fs.h: struct fstrim_range) on one file system, with
 * qemu-ga's result and error texts. The kernel discards the free ranges
 * before it returns, which on virtio-blk takes milliseconds to seconds:
 * qemu-ga runs it in its only thread, porthole on a worker. */
static json_t *trim_one(const struct mount *m, unsigned long long minimum)
{
	struct fstrim_range range = { .start = 0, .len = ULLONG_MAX, .minlen = minimum };
	_cleanup_close_ int fd = open(m->dir, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	char msg[128];

	if (fd < 0) {
		snprintf(msg, sizeof(msg), "failed to open: %s", strerror(errno));
		return json_pack("{s:o,s:s}", "path", utf8_json_string(m->dir), "error", msg);
	}
	if (ioctl(fd, FITRIM, &range) < 0) {
		/* EOPNOTSUPP: the file system cannot; ENOTTY: it has no FITRIM
		 * at all (vfat, a CD-ROM); both are "not supported" to qemu-ga */
		if (errno == EOPNOTSUPP || errno == ENOTTY)
			snprintf(msg, sizeof(msg), "trim not supported");
		else
			snprintf(msg, sizeof(msg), "failed to trim: %s", strerror(errno));
		return json_pack("{s:o,s:s}", "path", utf8_json_string(m->dir), "error", msg);
	}
	/* the kernel returns the bytes trimmed in len and the minimum it used
	 * (raised to the device's discard granularity) in minlen */
	return json_pack("{s:o,s:I,s:I}", "path", utf8_json_string(m->dir), "trimmed",
			 (json_int_t)range.len, "minimum", (json_int_t)range.minlen);
}

/* The host's trims (guest-fstrim, porthole-trim) count as the data disk's
 * last trim too when they trimmed it: what they carry to their after. */
struct request_ctx {
	char data_mount[sizeof(((struct agent_config *)0)->data_mount)];
	uint64_t start_ns;
};

static void *request_ctx(struct agent *a)
{
	struct request_ctx *c = calloc(1, sizeof(*c));

	/* NULL (out of memory) only leaves the trim unrecorded */
	if (c) {
		snprintf(c->data_mount, sizeof(c->data_mount), "%s", a->cfg.data_mount);
		c->start_ns = now_mono_ns();
	}
	return c;
}

static void record(enum fs_trim_reason reason, int r, unsigned long long trimmed,
		   uint64_t duration_ns);

/* On the loop: the data disk's entry of the reply ("paths" with "trimmed"
 * from guest-fstrim, "filesystems" with "trimmed_bytes" from porthole-trim),
 * when it was trimmed. */
static void request_after(void *ctx, json_t *result, const struct cmd_error *err)
{
	struct request_ctx *c = ctx;
	json_t *list, *e, *n;
	size_t i;

	(void)err; /* RESULT is NULL then */
	if (!c || !c->data_mount[0] || !result)
		return;
	list = json_object_get(result, "paths");
	if (!list)
		list = json_object_get(result, "filesystems");
	json_array_foreach(list, i, e)
	{
		const char *path = json_string_value(json_object_get(e, "path"));

		n = json_object_get(e, "trimmed");
		if (!n)
			n = json_object_get(e, "trimmed_bytes");
		if (path && strcmp(path, c->data_mount) == 0 && json_is_integer(n)) {
			record(FS_TRIM_REQUEST, 0, (unsigned long long)json_integer_value(n),
			       now_mono_ns() - c->start_ns);
			return;
		}
	}
}

static enum cmd_result fstrim_work(json_t *args, void *ctx, json_t **result, struct cmd_error *err)
{
	json_t *jmin = json_object_get(args, "minimum"), *paths;
	json_int_t minimum = jmin ? json_integer_value(jmin) : 0;
	struct mounts *ms;
	int r;

	(void)ctx;
	r = mounts_read(&ms);
	if (r < 0)
		return cmd_fail_errno(err, r, "read /proc/self/mountinfo");
	paths = json_array();
	for (size_t i = 0; paths && i < ms->n; i++) {
		if (cmd_json_append(paths, trim_one(&ms->m[i], (unsigned long long)minimum)) < 0) {
			json_decref(paths);
			paths = NULL;
		}
	}
	mounts_free(ms);
	if (!paths)
		return cmd_fail(err, "out of memory");
	*result = json_pack("{s:o}", "paths", paths);
	return *result ? 0 : cmd_fail(err, "out of memory");
}

static enum cmd_result fstrim(struct agent *a, json_t *args, json_t **result, struct cmd_error *err)
{
	json_t *jmin = json_object_get(args, "minimum");
	json_int_t minimum = jmin ? json_integer_value(jmin) : 0;

	if (minimum < 0)
		return cmd_fail(err, "Parameter 'minimum' must be 0 or more bytes, not %lld",
				(long long)minimum);
	return worker_cmd(a, "guest-fstrim", fstrim_work, request_after, args, request_ctx(a),
			  result, err);
}

/* FITRIM on the file system holding PATH; the bytes trimmed, or -errno.
 * The file system is synced first: ext4 (data=ordered) makes a deleted
 * file's blocks free only when the journal commits the transaction that
 * freed them (fs/ext4/mballoc.c, ext4_mb_free_metadata), up to commit=
 * seconds (5) later, and FITRIM passes over blocks that are not free yet:
 * a trim just after docker rmi gave nothing back. syncfs(2) commits. */
static int trim_path(const char *path, unsigned long long *ret)
{
	struct fstrim_range range = { .start = 0, .len = ULLONG_MAX, .minlen = 0 };
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	/* a failure (EIO) leaves less to trim, not nothing: trimmed anyway */
	if (syncfs(fd) < 0)
		log_debug_errno(-errno, "syncfs %s, ignoring", path);
	if (ioctl(fd, FITRIM, &range) < 0)
		return -errno;
	*ret = range.len;
	return 0;
}

/* porthole-trim: guest-fstrim's work with porthole's names, a total, and
 * optionally one file system only. */
static enum cmd_result porthole_trim_work(json_t *args, void *ctx, json_t **result,
					  struct cmd_error *err)
{
	const char *only = json_string_value(json_object_get(args, "path"));
	unsigned long long total = 0;
	struct mounts *ms = NULL;
	json_t *list = json_array();
	int r;

	(void)ctx;
	if (!list)
		return cmd_fail(err, "out of memory");
	if (!only) {
		r = mounts_read(&ms);
		if (r < 0) {
			json_decref(list);
			return cmd_fail_errno(err, r, "read /proc/self/mountinfo");
		}
	}
	for (size_t i = 0; only ? i < 1 : i < ms->n; i++) {
		const char *path = only ? only : ms->m[i].dir;
		unsigned long long n = 0;
		json_t *o;

		r = trim_path(path, &n);
		if (r == 0) {
			total += n;
			o = json_pack("{s:o,s:I}", "path", utf8_json_string(path), "trimmed_bytes",
				      (json_int_t)n);
		} else {
			/* EOPNOTSUPP, ENOTTY: no discard there (tmpfs, vfat, a CD) */
			o = json_pack("{s:o,s:s}", "path", utf8_json_string(path), "error",
				      r == -EOPNOTSUPP || r == -ENOTTY ? "trim not supported"
								       : strerror(-r));
		}
		if (cmd_json_append(list, o) < 0) {
			json_decref(list);
			list = NULL;
			break;
		}
	}
	if (ms)
		mounts_free(ms);
	if (!list)
		return cmd_fail(err, "out of memory");
	if (only && json_object_get(json_array_get(list, 0), "error")) {
		char why[256];

		snprintf(why, sizeof(why), "trim %s: %s", only,
			 json_string_value(json_object_get(json_array_get(list, 0), "error")));
		json_decref(list);
		return cmd_fail(err, "%s", why);
	}
	*result = json_pack("{s:o,s:I}", "filesystems", list, "trimmed_bytes", (json_int_t)total);
	return *result ? 0 : cmd_fail(err, "out of memory");
}

static enum cmd_result porthole_trim(struct agent *a, json_t *args, json_t **result,
				     struct cmd_error *err)
{
	return worker_cmd(a, "porthole-trim", porthole_trim_work, request_after, args,
			  request_ctx(a), result, err);
}

/* The data disk's trims that the agent starts itself (periodic, after
 * deletes): one job at a time, so a trim asked for while one runs (a slow
 * disk, a delete during a trim) is run once more when it ends, never
 * doubled. The path is copied for the worker, the result read on the loop,
 * the last one kept for porthole-health. */
static struct {
	bool running;
	bool again; /* asked for while running: once more when it ends */
	enum fs_trim_reason reason, again_reason;
	struct agent *a;
	char path[sizeof(((struct agent_config *)0)->data_mount)];
	uint64_t start_ns;
	int r;
	unsigned long long trimmed;
	struct fs_trim_record last;
} trim;

static const char *const reason_names[] = {
	[FS_TRIM_PERIODIC] = "periodic",
	[FS_TRIM_AFTER_DELETE] = "after delete",
	[FS_TRIM_REQUEST] = "request",
};

const char *fs_trim_reason_name(enum fs_trim_reason reason)
{
	return (unsigned)reason < ARRAY_SIZE(reason_names) ? reason_names[reason] : "unknown";
}

const struct fs_trim_record *fs_trim_last(void)
{
	return trim.last.time_ns ? &trim.last : NULL;
}

static void record(enum fs_trim_reason reason, int r, unsigned long long trimmed,
		   uint64_t duration_ns)
{
	trim.last = (struct fs_trim_record){ now_clock_ns(CLOCK_REALTIME), trimmed, duration_ns,
					     reason, r };
}

static void trim_run(void *data)
{
	(void)data;
	trim.r = trim_path(trim.path, &trim.trimmed);
}

static void trim_done(void *data, int status)
{
	(void)data;
	/* -ESHUTDOWN: on the worker's thread, the loop gone: nothing to do */
	if (status < 0)
		return;
	trim.running = false;
	/* on tmpfs (no data disk) there is nothing to give back, and nothing
	 * to say */
	if (trim.r == 0)
		log_info("trimmed %llu bytes on %s (%s)", trim.trimmed, trim.path,
			 fs_trim_reason_name(trim.reason));
	else if (trim.r != -EOPNOTSUPP && trim.r != -ENOTTY)
		log_warn_errno(trim.r, "trim %s (%s)", trim.path, fs_trim_reason_name(trim.reason));
	if (trim.r != -EOPNOTSUPP && trim.r != -ENOTTY)
		record(trim.reason, trim.r, trim.r == 0 ? trim.trimmed : 0,
		       now_mono_ns() - trim.start_ns);
	if (trim.again) {
		trim.again = false;
		fs_trim_soon(trim.a, trim.again_reason);
	}
}

int fs_trim_soon(struct agent *a, enum fs_trim_reason reason)
{
	struct worker *w;
	int r;

	/* a sandboxed agent's /var/lib is the host's: not ours to trim */
	if (!a->cfg.data_mount[0] || a->sandbox)
		return -EPERM;
	if (trim.running) {
		if (!trim.again || reason == FS_TRIM_AFTER_DELETE)
			trim.again_reason = reason;
		trim.again = true;
		log_debug("trim %s (%s): after the one running now", trim.path,
			  fs_trim_reason_name(reason));
		return 0;
	}
	w = worker_of(a);
	if (!w)
		return -ENOMEM; /* logged by worker_of */
	trim.a = a;
	trim.reason = reason;
	trim.start_ns = now_mono_ns();
	snprintf(trim.path, sizeof(trim.path), "%s", a->cfg.data_mount);
	r = worker_submit(w, trim_run, trim_done, NULL);
	if (r < 0)
		return log_warn_errno(r, "trim %s (%s): not started, the agent's workers are busy",
				      trim.path, fs_trim_reason_name(reason));
	trim.running = true;
	return 0;
}

static void periodic_trim(struct loop *l, void *data)
{
	struct agent *a = data;

	loop_timer(l, (uint64_t)a->cfg.trim_interval_s * 1000, periodic_trim, a);
	fs_trim_soon(a, FS_TRIM_PERIODIC);
}

void fs_trim_start(struct agent *a)
{
	/* a sandboxed agent's /var/lib is the host's: not ours to trim */
	if (a->cfg.trim_interval_s == 0 || !a->cfg.data_mount[0] || a->sandbox)
		return;
	loop_timer(a->loop, (uint64_t)a->cfg.trim_interval_s * 1000, periodic_trim, a);
}

const struct command cmd_fs_table[] = {
	{ "guest-get-fsinfo", get_fsinfo, { { 0 } }, 0 },
	{ "guest-fstrim", fstrim, { { "minimum", ARG_INT, false } }, 0 },
	{ "porthole-trim", porthole_trim, { { "path", ARG_STRING, false } }, 0 },
	{ 0 },
};
