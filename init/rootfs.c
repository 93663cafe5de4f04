/* Moves the initramfs root onto a tmpfs and re-executes init there, as
 * LinuxKit's init does: runc and dockerd need pivot_root(2), which fails with
 * EINVAL on the initial rootfs. The old root is emptied only once the copy is
 * complete and in place, so a failed copy leaves the old root as it was (the
 * cost: memory holds both copies for a moment). */
#include "rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define NEWROOT "/.porthole-root"
#define MOVED_ENV "PORTHOLE_ROOT_MOVED"
#define DEPTH_MAX 64
#define HARDLINKS_MAX 4096

struct hardlink {
	dev_t dev;
	ino_t ino;
	char *path;
};

struct copy_state {
	dev_t root_dev;
	struct hardlink links[HARDLINKS_MAX];
	size_t n_links;
	unsigned long files, bytes;
};

bool rootfs_needs_move(void)
{
	struct statfs sf;

	if (getenv(MOVED_ENV))
		return false;
	if (statfs("/", &sf) < 0)
		return false;
	return sf.f_type == RAMFS_MAGIC || sf.f_type == TMPFS_MAGIC;
}

static int copy_data(int src, int dst, off_t size, unsigned long *bytes)
{
	while (size > 0) {
		ssize_t n = sendfile(dst, src, NULL, (size_t)(size > (1 << 30) ? (1 << 30) : size));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		size -= n;
		*bytes += (unsigned long)n;
	}
	return 0;
}

static int copy_meta(int dfd, const char *name, const struct stat *st)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };

	if (fchownat(dfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISLNK(st->st_mode) && fchmodat(dfd, name, st->st_mode & 07777, 0) < 0)
		return -errno;
	if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

static int copy_tree(struct copy_state *cs, int sfd, int dfd, int depth, const char *dirpath);

static int copy_entry(struct copy_state *cs, int sfd, int dfd, const char *name,
		      const struct stat *st, int depth, const char *dirpath)
{
	int r = 0;

	if (S_ISDIR(st->st_mode)) {
		_cleanup_close_ int s = -1, d = -1;
		char path[4096];

		if (mkdirat(dfd, name, 0700) < 0 && errno != EEXIST)
			return -errno;
		s = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		d = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0 || d < 0)
			return -errno;
		snprintf(path, sizeof(path), "%s/%s", dirpath, name);
		r = copy_tree(cs, s, d, depth + 1, path);
		if (r < 0)
			return r;
		return copy_meta(dfd, name, st);
	}

	if (S_ISREG(st->st_mode) && st->st_nlink > 1) {
		for (size_t i = 0; i < cs->n_links; i++) {
			struct hardlink *h = &cs->links[i];

			if (h->dev == st->st_dev && h->ino == st->st_ino &&
			    linkat(AT_FDCWD, h->path, dfd, name, 0) == 0)
				return 0;
		}
	}

	if (S_ISREG(st->st_mode)) {
		_cleanup_close_ int s = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int d = -1;

		if (s < 0)
			return -errno;
		d = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (d < 0)
			return -errno;
		r = copy_data(s, d, st->st_size, &cs->bytes);
		if (r < 0)
			return r;
		cs->files++;
		if (st->st_nlink > 1 && cs->n_links < HARDLINKS_MAX) {
			char path[4096];

			/* the new root's path, to link further names to */
			snprintf(path, sizeof(path), NEWROOT "%s/%s", dirpath, name);
			cs->links[cs->n_links] =
				(struct hardlink){ st->st_dev, st->st_ino, strdup(path) };
			if (cs->links[cs->n_links].path)
				cs->n_links++;
		}
	} else if (S_ISLNK(st->st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(sfd, name, target, sizeof(target) - 1);

		if (n < 0)
			return -errno;
		target[n] = '\0';
		if (symlinkat(target, dfd, name) < 0)
			return -errno;
	} else {
		/* device nodes, fifos, sockets */
		if (mknodat(dfd, name, st->st_mode, st->st_rdev) < 0)
			return -errno;
	}
	return copy_meta(dfd, name, st);
}

static int copy_tree(struct copy_state *cs, int sfd, int dfd, int depth, const char *dirpath)
{
	DIR *dir;
	struct dirent *de;
	int r = 0, dupfd;

	if (depth > DEPTH_MAX)
		return -ELOOP;
	dupfd = dup(sfd);
	if (dupfd < 0)
		return -errno;
	dir = fdopendir(dupfd);
	if (!dir) {
		close(dupfd);
		return -errno;
	}
	while ((de = readdir(dir))) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (depth == 0 && strcmp(de->d_name, &NEWROOT[1]) == 0)
			continue;
		if (fstatat(sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			break;
		}
		/* Another file system mounted below /: not part of the initramfs. */
		if (st.st_dev != cs->root_dev)
			continue;
		r = copy_entry(cs, sfd, dfd, de->d_name, &st, depth, dirpath);
		if (r < 0) {
			log_error_errno(r, "copy %s/%s to the new root", dirpath, de->d_name);
			break;
		}
	}
	closedir(dir);
	return r;
}

/* Empties the old root through SFD once the new one is in place: the initial
 * rootfs cannot be unmounted, but its memory is freed when its files go. */
static void remove_tree(int sfd, dev_t root_dev, int depth)
{
	DIR *dir;
	struct dirent *de;
	int dupfd = dup(sfd);

	if (dupfd < 0 || depth > DEPTH_MAX || !(dir = fdopendir(dupfd))) {
		if (dupfd >= 0)
			close(dupfd);
		return;
	}
	/* a dup shares the file offset: the copy read this directory to its end */
	rewinddir(dir);
	while ((de = readdir(dir))) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		/* never descend into another file system */
		if (st.st_dev != root_dev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int d = openat(
				sfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (d < 0)
				continue;
			remove_tree(d, root_dev, depth + 1);
			unlinkat(sfd, de->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(sfd, de->d_name, 0);
		}
	}
	closedir(dir);
}

int rootfs_move_to_tmpfs(char *const argv[])
{
	struct copy_state *cs;
	_cleanup_close_ int sfd = -1, dfd = -1;
	struct stat st;
	const char *self;
	int r;

	if (mkdir(NEWROOT, 0755) < 0 && errno != EEXIST)
		return log_error_errno(-errno, "mkdir " NEWROOT);
	if (mount("tmpfs", NEWROOT, "tmpfs", 0, "mode=0755") < 0)
		return log_error_errno(-errno, "mount tmpfs on " NEWROOT);

	cs = calloc(1, sizeof(*cs));
	if (!cs)
		return -ENOMEM;
	sfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dfd = open(NEWROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0 || dfd < 0 || fstat(sfd, &st) < 0) {
		r = log_error_errno(-errno, "open the roots");
		goto out;
	}
	cs->root_dev = st.st_dev;
	r = copy_tree(cs, sfd, dfd, 0, "");
	if (r < 0)
		goto out;
	log_debug("root copied to tmpfs: %lu files, %lu KiB", cs->files, cs->bytes / 1024);

	/* switch_root(8)'s sequence: the new root is moved over /, and a chroot
	 * makes it the process's root too. */
	if (chdir(NEWROOT) < 0 || mount(NEWROOT, "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0) {
		r = log_error_errno(-errno, "switch to the tmpfs root");
		goto out;
	}
	remove_tree(sfd, cs->root_dev, 0);
	setenv(MOVED_ENV, "1", 1);
	/* By its own name, so that ps shows porthole-init, not /init. */
	self = access("/sbin/porthole-init", X_OK) == 0 ? "/sbin/porthole-init"
	       : argv[0] && argv[0][0] == '/'		? argv[0]
							: "/init";
	execv(self, argv);
	r = log_error_errno(-errno, "re-execute %s on the tmpfs root", self);
out:
	for (size_t i = 0; i < cs->n_links; i++)
		free(cs->links[i].path);
	free(cs);
	return r;
}
