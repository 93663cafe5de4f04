/* Shared folders: tags from sysfs, targets resolved beneath allowed roots
 * without symlinks (openat2(2)), mounts with the new mount API onto the
 * resolved fd. init mounts boot shares with it, the agent porthole-mount. */
#include "sharemount.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define MOUNTINFO_MAX (2 << 20)
#define MODPROBE "/sbin/modprobe"
#define MODPROBE_TIMEOUT_MS 10000

static int fail(char *why, size_t size, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *why, size_t size, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return r;
}

const char *share_type_name(enum share_type t)
{
	return t == SHARE_VIRTIOFS ? "virtiofs" : t == SHARE_9P ? "9p" : "auto";
}

int share_type_parse(const char *s, enum share_type *ret)
{
	if (strcmp(s, "virtiofs") == 0)
		*ret = SHARE_VIRTIOFS;
	else if (strcmp(s, "9p") == 0)
		*ret = SHARE_9P;
	else if (strcmp(s, "auto") == 0)
		*ret = SHARE_AUTO;
	else
		return -EINVAL;
	return 0;
}

/* Reads a sysfs attribute; strips the trailing newline (virtiofs) or NUL
 * (9pnet_virtio's mount_tag shows the tag with its terminating NUL). */
static int read_tag(const char *path, char *buf, size_t size)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = read_file(path, 4096, &text, &len);

	if (r < 0)
		return r;
	len = strnlen(text, len);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		len--;
	if (len == 0 || len >= size)
		return -EINVAL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	return 0;
}

size_t share_devices(const char *sysfs, enum share_type type)
{
	/* virtio device IDs (virtio spec 5): 9 the 9P transport, 26 the
	 * file system device */
	const char *want = type == SHARE_VIRTIOFS ? "0x001a" : "0x0009";
	char dirpath[SHARE_PATH_MAX], path[SHARE_PATH_MAX * 2], id[16];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(dirpath, sizeof(dirpath), "%s/bus/virtio/devices", sysfs);
	d = opendir(dirpath);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < SHARE_TAGS_MAX) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s/device", dirpath, de->d_name) <
			    sizeof(path) &&
		    read_tag(path, id, sizeof(id)) == 0 && strcmp(id, want) == 0)
			n++;
	}
	closedir(d);
	return n;
}

size_t share_tags(const char *sysfs, enum share_type type, char (*tags)[SHARE_TAG_MAX], size_t max)
{
	char dirpath[SHARE_PATH_MAX], path[SHARE_PATH_MAX * 2];
	const char *sub =
		type == SHARE_VIRTIOFS ? "fs/virtiofs" : "bus/virtio/drivers/9pnet_virtio";
	const char *attr = type == SHARE_VIRTIOFS ? "tag" : "mount_tag";
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(dirpath, sizeof(dirpath), "%s/%s", sysfs, sub);
	d = opendir(dirpath);
	if (!d)
		return 0;
	while (n < max && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		/* 9pnet_virtio's directory also holds bind, unbind, module... */
		if (type == SHARE_9P && strncmp(de->d_name, "virtio", 6) != 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", dirpath, de->d_name, attr) >=
		    sizeof(path))
			continue;
		if (read_tag(path, tags[n], SHARE_TAG_MAX) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static bool valid_value(const char *v, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (strcmp(v, *allowed) == 0)
			return true;
	return false;
}

int share_option_check(enum share_type type, const char *opt, char *why, size_t size)
{
	/* v9fs(5)'s cache modes (Documentation/filesystems/9p.rst) and
	 * virtiofs's dax modes (Documentation/filesystems/dax.rst) */
	static const char *const caches[] = {
		"none", "loose", "fscache", "mmap", "readahead", NULL
	};
	static const char *const dax[] = { "always", "never", "inode", NULL };
	const char *eq = strchr(opt, '=');
	size_t klen = eq ? (size_t)(eq - opt) : strlen(opt);
	const char *v = eq ? eq + 1 : NULL;

	if (type == SHARE_9P && klen == 5 && strncmp(opt, "msize", 5) == 0) {
		int64_t n;

		/* the transport's bounds: 4 KiB, and virtio's 512 KiB in 6.1 */
		if (!v || parse_int64(v, 4096, 512 * 1024, &n) < 0)
			return fail(why, size, -EINVAL,
				    "option msize: bytes from 4096 to 524288, not '%s'",
				    v ? v : "");
		return 0;
	}
	if (type == SHARE_9P && klen == 5 && strncmp(opt, "cache", 5) == 0) {
		if (!v || !valid_value(v, caches))
			return fail(
				why, size, -EINVAL,
				"option cache: none, loose, fscache, mmap or readahead, not '%s'",
				v ? v : "");
		return 0;
	}
	if (type == SHARE_VIRTIOFS && klen == 3 && strncmp(opt, "dax", 3) == 0) {
		if (v && !valid_value(v, dax))
			return fail(why, size, -EINVAL,
				    "option dax: always, never or inode, not '%s'", v);
		return 0;
	}
	return fail(why, size, -EINVAL, "option '%.*s' is not one of %s's (%s)", (int)klen, opt,
		    share_type_name(type),
		    type == SHARE_9P	     ? "msize, cache"
		    : type == SHARE_VIRTIOFS ? "dax"
					     : "9p: msize, cache; virtiofs: dax");
}

int share_spec_parse(const char *spec, struct share_request *ret, char *why, size_t size)
{
	struct share_request req = { .type = SHARE_AUTO };
	const char *c1 = strchr(spec, ':'), *c2;
	size_t len;

	if (!c1 || c1 == spec || (size_t)(c1 - spec) >= sizeof(req.tag))
		return fail(why, size, -EINVAL, "'%s': not TAG:TARGET[:OPTIONS]", spec);
	memcpy(req.tag, spec, (size_t)(c1 - spec));
	c2 = strchr(c1 + 1, ':');
	len = c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1);
	if (len == 0 || len >= sizeof(req.target))
		return fail(why, size, -EINVAL, "'%s': no TARGET, or a too long one", spec);
	memcpy(req.target, c1 + 1, len);
	for (const char *p = c2 ? c2 + 1 : ""; *p;) {
		char opt[64];
		size_t olen = strcspn(p, ",");

		if (olen == 0) {
			p++;
			continue;
		}
		if (olen >= sizeof(opt))
			return fail(why, size, -EINVAL, "'%s': an option too long", spec);
		memcpy(opt, p, olen);
		opt[olen] = '\0';
		p += olen;
		if (strcmp(opt, "ro") == 0) {
			req.readonly = true;
		} else if (strcmp(opt, "rw") == 0) {
			req.readonly = false;
		} else if (strncmp(opt, "type=", 5) == 0) {
			if (share_type_parse(opt + 5, &req.type) < 0)
				return fail(why, size, -EINVAL, "'%s': type is virtiofs or 9p",
					    spec);
		} else {
			if (req.n_options == SHARE_OPTIONS_MAX)
				return fail(why, size, -E2BIG, "'%s': more than %d options", spec,
					    SHARE_OPTIONS_MAX);
			snprintf(req.options[req.n_options++], sizeof(req.options[0]), "%s", opt);
		}
	}
	/* options are checked against the type, which may be known only at
	 * mount time: share_mount checks them again */
	for (size_t i = 0; req.type != SHARE_AUTO && i < req.n_options; i++)
		if (share_option_check(req.type, req.options[i], why, size) < 0)
			return -EINVAL;
	*ret = req;
	return 0;
}

int share_path_clean(const char *target, char *out, size_t size)
{
	size_t o = 0;

	if (target[0] != '/')
		return -EINVAL;
	for (const char *p = target; *p;) {
		size_t len;

		p += strspn(p, "/");
		len = strcspn(p, "/");
		if (len == 0)
			break;
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		if (o + 1 + len + 1 > size)
			return -ENAMETOOLONG;
		out[o++] = '/';
		memcpy(out + o, p, len);
		o += len;
		p += len;
	}
	if (o == 0) {
		if (size < 2)
			return -ENAMETOOLONG;
		out[o++] = '/';
	}
	out[o] = '\0';
	return 0;
}

/* One component NAME below DIRFD: openat2(2) with RESOLVE_NO_SYMLINKS (a
 * symlink anywhere fails with ELOOP) and RESOLVE_BENEATH (no escape through
 * an absolute path or ".."). glibc 2.36 has no wrapper. */
static int open_below(int dirfd, const char *name)
{
	struct open_how how = {
		/* no O_NOFOLLOW: a trailing symlink must fail as ELOOP through
		 * RESOLVE_NO_SYMLINKS, not open as itself and fail O_DIRECTORY */
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH,
	};
	long fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

/* A directory a share may be mounted below: owned by root and writable by
 * no one else. Otherwise another user could have made the next directory
 * (nobody creating /Users in a world-writable /) or could swap it for a
 * link or a directory of theirs between our checks and the mount. */
static int dir_trusted(int fd, const char *path, char *why, size_t size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return fail(why, size, -errno, "%s: %s", path, strerror(errno));
	if (st.st_uid != 0)
		return fail(why, size, -EPERM,
			    "%s is owned by uid %u, not root: shares are mounted only below "
			    "directories that only root can change",
			    path, (unsigned)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return fail(why, size, -EPERM,
			    "%s is writable by %s (mode %04o): shares are mounted only below "
			    "directories that only root can change",
			    path, st.st_mode & S_IWOTH ? "everyone" : "its group",
			    (unsigned)(st.st_mode & 07777));
	return 0;
}

/* Walks REL (clean, relative, may be "") down from DIRFD, each directory it
 * passes through trusted (dir_trusted); BASE is the path of DIRFD for
 * messages. */
static int walk(int dirfd, const char *base, const char *rel, bool create, int *ret_fd, char *why,
		size_t size)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3), r;
	char name[SHARE_PATH_MAX], so_far[SHARE_PATH_MAX], parent[SHARE_PATH_MAX];

	if (fd < 0)
		return fail(why, size, -errno, "%s: %s", base, strerror(errno));
	snprintf(so_far, sizeof(so_far), "%s", base);
	for (const char *p = rel; *p;) {
		size_t len = strcspn(p, "/");
		int nfd;

		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		p += strspn(p, "/");
		memcpy(parent, so_far, sizeof(parent));
		if (strcmp(so_far, "/") != 0 && strlen(so_far) + 1 < sizeof(so_far))
			strcat(so_far, "/");
		if (strlen(so_far) + len < sizeof(so_far))
			strcat(so_far, name);
		r = dir_trusted(fd, parent, why, size);
		if (r < 0) {
			close(fd);
			return r;
		}
		nfd = open_below(fd, name);
		if (nfd == -ENOENT && create) {
			/* 0755 whatever the umask (the agent's is 077): users and
			 * containers that are not root must reach a share. The
			 * parent is trusted, so NAME cannot be swapped meanwhile. */
			if ((mkdirat(fd, name, 0755) < 0 && errno != EEXIST) ||
			    fchmodat(fd, name, 0755, 0) < 0) {
				r = -errno;
				close(fd);
				return fail(why, size, r, "create %s: %s", so_far, strerror(-r));
			}
			nfd = open_below(fd, name);
		}
		if (nfd < 0) {
			struct stat st;

			/* a link also fails with EACCES where fs.protected_symlinks
			 * stops it before RESOLVE_NO_SYMLINKS does */
			if (nfd == -ELOOP || nfd == -EXDEV ||
			    (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			     S_ISLNK(st.st_mode))) {
				close(fd);
				return fail(why, size, -ELOOP,
					    "%s is a symbolic link: shares are not mounted through "
					    "one",
					    so_far);
			}
			close(fd);
			return fail(why, size, nfd, "%s: %s", so_far, strerror(-nfd));
		}
		close(fd);
		fd = nfd;
	}
	*ret_fd = fd;
	return 0;
}

/* The root of ROOTS that CLEAN is under (or is), or -1. */
static int root_of(const char (*roots)[SHARE_PATH_MAX], size_t n_roots, const char *clean)
{
	for (size_t i = 0; i < n_roots; i++) {
		size_t len = strlen(roots[i]);

		if (strncmp(clean, roots[i], len) == 0 && (clean[len] == '/' || clean[len] == '\0'))
			return (int)i;
	}
	return -1;
}

static int outside(const char (*roots)[SHARE_PATH_MAX], size_t n_roots, const char *clean,
		   char *why, size_t size)
{
	char list[SHARE_WHY_MAX / 2] = "";

	for (size_t i = 0; i < n_roots; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 roots[i]);
	return fail(why, size, -EXDEV, "target %s is outside the allowed roots (%s)", clean,
		    n_roots ? list : "none");
}

int share_resolve(const char (*roots)[SHARE_PATH_MAX], size_t n_roots, const char *target,
		  bool create, int *ret_fd, char *why, size_t size)
{
	char clean[SHARE_PATH_MAX];
	_cleanup_close_ int slash = -1, rootfd = -1;
	size_t len;
	int r, i;

	if (share_path_clean(target, clean, sizeof(clean)) < 0)
		return fail(why, size, -EINVAL,
			    "target '%s': not an absolute path without '.' and '..'", target);
	i = root_of(roots, n_roots, clean);
	if (i < 0)
		return outside(roots, n_roots, clean, why, size);
	len = strlen(roots[i]);
	slash = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (slash < 0)
		return fail(why, size, -errno, "open /: %s", strerror(errno));
	/* the root itself: no symlink in it either (/home -> elsewhere would
	 * move every share); created when missing (/host, /Users) */
	r = walk(slash, "/", roots[i] + 1, true, &rootfd, why, size);
	if (r < 0)
		return r;
	return walk(rootfd, roots[i], clean + len + (clean[len] == '/'), create, ret_fd, why, size);
}

/* The next line of mountinfo at *CURSOR, copied into BUF (lines that do not
 * fit are skipped): its mount point (unescaped), type, source (unescaped) and
 * the mount's own options (OPTS may be NULL).
 * proc(5): ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE
 * SOURCE SUPER-OPTIONS. */
static bool mountinfo_next(const char **cursor, char *buf, size_t size, char **mnt, char **type,
			   char **src, char **opts)
{
	while (*cursor && **cursor) {
		const char *line = *cursor, *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *f[6], *save = NULL, *sep;
		int n = 0;

		*cursor = end ? end + 1 : NULL;
		if (len >= size)
			continue;
		memcpy(buf, line, len);
		buf[len] = '\0';
		sep = strstr(buf, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		for (char *t = strtok_r(buf, " ", &save); t && n < 6;
		     t = strtok_r(NULL, " ", &save))
			f[n++] = t;
		*type = strtok_r(sep + 3, " ", &save);
		*src = *type ? strtok_r(NULL, " ", &save) : NULL;
		if (n < 6 || !*src)
			continue;
		mountinfo_unescape(f[4]);
		mountinfo_unescape(*src);
		*mnt = f[4];
		if (opts)
			*opts = f[5];
		return true;
	}
	return false;
}

/* The mount point of the last mount of FSTYPE from TAG in MOUNTINFO. */
static bool share_find_tag(const char *mountinfo, const char *fstype, const char *tag, char *path,
			   size_t size)
{
	const char *cursor = mountinfo;
	char buf[4096], *mnt, *type, *src;
	bool found = false;

	while (mountinfo_next(&cursor, buf, sizeof(buf), &mnt, &type, &src, NULL))
		if (strcmp(type, fstype) == 0 && strcmp(src, tag) == 0) {
			snprintf(path, size, "%s", mnt);
			found = true;
		}
	return found;
}

bool share_mount_at(const char *mountinfo, const char *path, char *type, size_t type_size,
		    char *source, size_t source_size, bool *ret_readonly)
{
	const char *cursor = mountinfo;
	char buf[4096], *mnt, *t, *src, *opts;
	bool found = false;

	while (mountinfo_next(&cursor, buf, sizeof(buf), &mnt, &t, &src, &opts))
		if (strcmp(mnt, path) == 0) {
			snprintf(type, type_size, "%s", t);
			snprintf(source, source_size, "%s", src);
			/* the mount's own options come first: "ro," or "rw," */
			if (ret_readonly)
				*ret_readonly = strncmp(opts, "ro", 2) == 0 &&
						(opts[2] == ',' || opts[2] == '\0');
			found = true;
		}
	return found;
}

/* A share already where it was asked for: the same answer when it is as
 * asked, a refusal that says why when it is read-only and read-write was
 * asked for, or the other way round (a remount would change it under those
 * who use it). */
static int already_there(const struct share_request *req, bool readonly, bool *already, char *why,
			 size_t size)
{
	if (readonly != req->readonly)
		return fail(why, size, -EBUSY,
			    "'%s' is already mounted on %s %s; unmount it first to mount it %s",
			    req->tag, req->target, readonly ? "read-only" : "read-write",
			    req->readonly ? "read-only" : "read-write");
	*already = true;
	return 0;
}

/* fsconfig(2) FSCONFIG_SET_STRING of "key=value" or the flag "key". */
static int set_option(int fsfd, const char *opt, char *why, size_t size)
{
	char key[64];
	const char *eq = strchr(opt, '=');
	size_t klen = eq ? (size_t)(eq - opt) : strlen(opt);
	int r;

	if (klen >= sizeof(key))
		return fail(why, size, -EINVAL, "option '%s': too long", opt);
	memcpy(key, opt, klen);
	key[klen] = '\0';
	r = eq ? fsconfig(fsfd, FSCONFIG_SET_STRING, key, eq + 1, 0)
	       : fsconfig(fsfd, FSCONFIG_SET_FLAG, key, NULL, 0);
	if (r < 0)
		return fail(why, size, -errno, "option %s: %s", opt, strerror(errno));
	return 0;
}

/* Whether REQ sets option KEY itself ("key" or "key=..."). */
static bool has_option(const struct share_request *req, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < req->n_options; i++)
		if (strncmp(req->options[i], key, klen) == 0 &&
		    (req->options[i][klen] == '=' || req->options[i][klen] == '\0'))
			return true;
	return false;
}

size_t share_mount_options(const struct share_request *req, char (*opts)[64], size_t max)
{
	/* 9p needs its transport (Documentation/filesystems/9p.rst:
	 * trans=virtio, 9P2000.L for Linux). Then porthole's defaults: a read
	 * or write is cut into msize pieces, a round trip each, so the
	 * largest msize reads large files several times faster than the
	 * kernel's 128 KiB; cache=mmap stays coherent with host edits
	 * (docs/shares.md has the figures) */
	static const char *const p9[][2] = {
		{ "trans", "virtio" },
		{ "version", "9p2000.L" },
		{ "msize", SHARE_9P_MSIZE_DEFAULT },
		{ "cache", SHARE_9P_CACHE_DEFAULT },
	};
	size_t n = 0;

	for (size_t i = 0; req->type == SHARE_9P && i < sizeof(p9) / sizeof(p9[0]); i++)
		if (n < max && !has_option(req, p9[i][0]))
			snprintf(opts[n++], sizeof(opts[0]), "%s=%s", p9[i][0], p9[i][1]);
	for (size_t i = 0; i < req->n_options && n < max; i++)
		snprintf(opts[n++], sizeof(opts[0]), "%s", req->options[i]);
	return n;
}

int share_mount_make(const struct share_request *req, int *ret_fd, char *why, size_t size)
{
	char opts[SHARE_MOUNT_OPTIONS_MAX][64];
	size_t n_opts = share_mount_options(req, opts, SHARE_MOUNT_OPTIONS_MAX);
	_cleanup_close_ int fsfd = -1;
	/* nodev, nosuid: the host's files are data, not devices or set-id
	 * programs for the guest */
	unsigned attrs =
		MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID | (req->readonly ? MOUNT_ATTR_RDONLY : 0);
	const char *fstype = share_type_name(req->type);
	int r, mfd;

	fsfd = fsopen(fstype, FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return fail(why, size, -errno, "fsopen %s: %s", fstype, strerror(errno));
	/* the source of both is the tag */
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", req->tag, 0) < 0)
		return fail(why, size, -errno, "fsconfig source=%s: %s", req->tag, strerror(errno));
	for (size_t i = 0; i < n_opts; i++) {
		r = set_option(fsfd, opts[i], why, size);
		if (r < 0)
			return r;
	}
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return fail(why, size, -errno, "mount %s (%s): %s", req->tag, fstype,
			    strerror(errno));
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attrs);
	if (mfd < 0)
		return fail(why, size, -errno, "fsmount %s: %s", req->tag, strerror(errno));
	*ret_fd = mfd;
	return 0;
}

int share_mount_attach(const struct share_request *req, int mfd, int dirfd, char *why, size_t size)
{
	if (move_mount(mfd, "", dirfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return fail(why, size, -errno, "move_mount %s to %s: %s", req->tag, req->target,
			    strerror(errno));
	return 0;
}

static bool module_loaded(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return access(path, F_OK) == 0;
}

/* modprobe NAME, bounded: killed after MODPROBE_TIMEOUT_MS. Its output goes
 * where ours goes (the log). */
static int modprobe(const char *name, char *why, size_t size)
{
	char *const argv[] = { (char *)MODPROBE, "-q", (char *)name, NULL };
	char *const envp[] = { (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	uint64_t deadline = now_mono_ns() + (uint64_t)MODPROBE_TIMEOUT_MS * 1000000u;
	int status = 0;
	pid_t pid = fork(), w;

	if (pid < 0)
		return fail(why, size, -errno, "fork for modprobe %s: %s", name, strerror(errno));
	if (pid == 0) {
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		execve(MODPROBE, argv, envp);
		_exit(127);
	}
	/* waitpid(pid) only: other children are their owners' to reap */
	while ((w = waitpid(pid, &status, WNOHANG)) == 0) {
		if (now_mono_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return fail(why, size, -ETIMEDOUT, "modprobe %s: timed out", name);
		}
		poll(NULL, 0, 5);
	}
	if (w < 0)
		return fail(why, size, -errno, "modprobe %s: %s", name, strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail(why, size, -ENOENT, "modprobe %s: failed (status %d)", name,
			    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

int share_load_modules(enum share_type type, char *why, size_t size)
{
	static const char *const vfs[] = { "virtiofs", NULL };
	static const char *const p9[] = { "9p", "9pnet_virtio", NULL };
	const char *const *mods = type == SHARE_VIRTIOFS ? vfs : p9;
	int r;

	for (; *mods; mods++) {
		if (module_loaded(*mods))
			continue;
		r = modprobe(*mods, why, size);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool listed(char (*tags)[SHARE_TAG_MAX], size_t n, const char *tag)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(tags[i], tag) == 0)
			return true;
	return false;
}

int share_mount(const char *sysfs, const char (*roots)[SHARE_PATH_MAX], size_t n_roots,
		struct share_request *req, bool *already, char *why, size_t size)
{
	char vfs[SHARE_TAGS_MAX][SHARE_TAG_MAX], p9[SHARE_TAGS_MAX][SHARE_TAG_MAX];
	char clean[SHARE_PATH_MAX], type[32], source[SHARE_PATH_MAX], list[256] = "",
								      hidden[96] = "";
	_cleanup_free_ char *mountinfo = NULL;
	_cleanup_close_ int fd = -1, mfd = -1;
	size_t n_vfs, n_p9, n_hidden;
	bool in_vfs, in_p9, ro;
	int r;

	*already = false;
	if (share_path_clean(req->target, clean, sizeof(clean)) < 0)
		return fail(why, size, -EINVAL,
			    "target '%s': not an absolute path without '.' and '..'", req->target);
	snprintf(req->target, sizeof(req->target), "%s", clean);
	/* the cheap refusals first: nothing loaded or created for them */
	if (root_of(roots, n_roots, clean) < 0)
		return outside(roots, n_roots, clean, why, size);
	for (size_t i = 0; req->type != SHARE_AUTO && i < req->n_options; i++)
		if (share_option_check(req->type, req->options[i], why, size) < 0)
			return -EINVAL;
	/* both drivers, so that the error can list every tag the guest has;
	 * a type's failure matters only when that type is asked for */
	if (share_load_modules(SHARE_VIRTIOFS, why, size) < 0 && req->type == SHARE_VIRTIOFS)
		return -ENOENT;
	if (share_load_modules(SHARE_9P, why, size) < 0 && req->type == SHARE_9P)
		return -ENOENT;
	n_vfs = share_tags(sysfs, SHARE_VIRTIOFS, vfs, SHARE_TAGS_MAX);
	n_p9 = share_tags(sysfs, SHARE_9P, p9, SHARE_TAGS_MAX);
	n_hidden = share_devices(sysfs, SHARE_VIRTIOFS);
	n_hidden = n_hidden > n_vfs ? n_hidden - n_vfs : 0;
	in_vfs = listed(vfs, n_vfs, req->tag);
	in_p9 = listed(p9, n_p9, req->tag);
	/* The list is cut where it fills; a tag is at most SHARE_TAG_MAX - 1
	 * bytes, said in the precision because gcc for aarch64 cannot tell
	 * (p9[i - n_vfs] could be any byte of the array to it) and warns */
	for (size_t i = 0; i < n_vfs + n_p9; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%.*s (%s)",
			 i ? ", " : "", SHARE_TAG_MAX - 1, i < n_vfs ? vfs[i] : p9[i - n_vfs],
			 i < n_vfs ? "virtiofs" : "9p");
	if (n_hidden)
		snprintf(hidden, sizeof(hidden),
			 "%s%zu virtiofs device(s) whose tag this kernel "
			 "does not show",
			 list[0] ? ", and " : "", n_hidden);
	if (!in_vfs && !in_p9 && (!n_hidden || req->type == SHARE_9P))
		return fail(why, size, -ENOENT, "no %sshare with tag '%s'; the guest has %s%s",
			    req->type == SHARE_9P ? "9p " : "", req->tag,
			    list[0] || hidden[0] ? list : "none", hidden);
	if (req->type == SHARE_AUTO)
		req->type = in_p9 ? SHARE_9P : SHARE_VIRTIOFS;
	if ((req->type == SHARE_VIRTIOFS && in_p9 && !in_vfs) ||
	    (req->type == SHARE_9P && in_vfs && !in_p9))
		return fail(why, size, -EMEDIUMTYPE, "tag '%s' is a %s share, not %s", req->tag,
			    in_vfs ? "virtiofs" : "9p", share_type_name(req->type));
	for (size_t i = 0; i < req->n_options; i++)
		if (share_option_check(req->type, req->options[i], why, size) < 0)
			return -EINVAL;
	/* the file system first, before any directory is made: a tag that
	 * only the mount can check (a hidden virtiofs tag) fails here, and
	 * virtio-fs answers an unknown tag with EINVAL (fs/fuse/virtio_fs.c) */
	r = read_file("/proc/self/mountinfo", MOUNTINFO_MAX, &mountinfo, NULL);
	if (r < 0)
		return fail(why, size, r, "read /proc/self/mountinfo: %s", strerror(-r));
	r = share_mount_make(req, &mfd, why, size);
	if (r == -EBUSY && req->type == SHARE_9P) {
		/* 9pnet_virtio serves one mount per channel (net/9p/trans_virtio.c
		 * p9_virtio_create: "no channels available"): say where it is */
		char where[SHARE_PATH_MAX] = "";

		if (share_mount_at(mountinfo, clean, type, sizeof(type), source, sizeof(source),
				   &ro) &&
		    strcmp(type, "9p") == 0 && strcmp(source, req->tag) == 0)
			return already_there(req, ro, already, why, size);
		share_find_tag(mountinfo, "9p", req->tag, where, sizeof(where));
		return fail(why, size, -EBUSY,
			    "9p share '%s' is already mounted%s%s: virtio-9p serves one mount per "
			    "tag (unmount it first, or use virtiofs)",
			    req->tag, where[0] ? " on " : "", where);
	}
	if (r < 0) {
		if (!in_vfs && !in_p9 && (r == -EINVAL || r == -ENOENT))
			return fail(why, size, -ENOENT,
				    "no share with tag '%s'; the guest has %s%s", req->tag,
				    list[0] || hidden[0] ? list : "none", hidden);
		return r;
	}
	r = share_resolve(roots, n_roots, clean, true, &fd, why, size);
	if (r < 0)
		return r;
	if (share_mount_at(mountinfo, clean, type, sizeof(type), source, sizeof(source), &ro)) {
		if (strcmp(type, share_type_name(req->type)) == 0 && strcmp(source, req->tag) == 0)
			return already_there(req, ro, already, why, size);
		return fail(why, size, -EBUSY, "target %s is busy: %s (%s) is mounted there", clean,
			    source, type);
	}
	return share_mount_attach(req, mfd, fd, why, size);
}
