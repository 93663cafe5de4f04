/* Makes the root one that pivot_root(2) accepts (re-executing init on a disk):
 * runc and dockerd need pivot_root, which fails with EINVAL on the initial
 * rootfs mount. Two ways: the initramfs bound over itself (where LinuxKit's
 * init copies the root onto a new tmpfs, this binds it: the same files on a
 * mount of its own), or, with root_disk, the overlay of a read-only disk that
 * rootdisk.c mounts, the initramfs freed as switch_root(8) frees it. */
#include "rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "log.h"
#include "modules.h"
#include "rootdisk.h"
#include "util.h"

#define NEWROOT "/.porthole-root"
#define MOVED_ENV "PORTHOLE_ROOT_MOVED"

static int reexec(char *const argv[]);

int rootfs_secure(void)
{
	struct stat st;

	if (stat("/", &st) < 0)
		return log_error_errno(-errno, "stat /");
	if (st.st_uid == 0 && st.st_gid == 0 && (st.st_mode & 07777) == 0755)
		return 0;
	if (chown("/", 0, 0) < 0 || chmod("/", 0755) < 0)
		return log_error_errno(-errno, "make / root's and 0755 (was %u:%u %04o)",
				       (unsigned)st.st_uid, (unsigned)st.st_gid,
				       (unsigned)(st.st_mode & 07777));
	log_info("/ made root's and 0755 (was %u:%u %04o)", (unsigned)st.st_uid,
		 (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777));
	return 0;
}

bool rootfs_needs_move(void)
{
	struct statfs sf;

	if (getenv(MOVED_ENV))
		return false;
	if (statfs("/", &sf) < 0)
		return false;
	return sf.f_type == RAMFS_MAGIC || sf.f_type == TMPFS_MAGIC;
}

/* The root the kernel unpacked into is kept, not copied: a bind mount of it
 * is moved over / and made the process's root (switch_root's sequence, with
 * the same files). pivot_root(2) refuses only the initial rootfs mount
 * itself, which has no parent; the bind mount has one. No copy means no
 * time spent copying (2.5 s for the engine's 225 MiB under TCG) and no
 * moment with two copies in memory. Called once per exec: rootfs_needs_move
 * is not asked again. */
int rootfs_bind_over_self(void)
{
	if (mkdir(NEWROOT, 0755) < 0 && errno != EEXIST)
		return log_error_errno(-errno, "mkdir " NEWROOT);
	if (mount("/", NEWROOT, NULL, MS_BIND, NULL) < 0)
		return log_error_errno(-errno, "bind / on " NEWROOT);
	if (chdir(NEWROOT) < 0 || mount(NEWROOT, "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0) {
		int r = log_error_errno(-errno, "move the bind mount over /");

		umount2(NEWROOT, MNT_DETACH);
		return r;
	}
	/* the mount point the bind left in itself: an empty directory */
	rmdir(NEWROOT);
	/* No re-exec: the files are the same, so the init running is the one
	 * on the new root already (a re-exec cost 30-50 ms of a boot under TCG) */
	return 0;
}

static int reexec(char *const argv[])
{
	const char *self;

	setenv(MOVED_ENV, "1", 1);
	/* By its own name, so that ps shows porthole-init, not /init. */
	self = access("/sbin/porthole-init", X_OK) == 0 ? "/sbin/porthole-init"
	       : argv[0] && argv[0][0] == '/'		? argv[0]
							: "/init";
	execv(self, argv);
	return log_error_errno(-errno, "re-execute %s on the new root mount", self);
}

/* Removes what DIRFD holds on device DEV, depth first, as switch_root(8)
 * does: the initramfs's pages are its files, freed only by unlinking them.
 * Mount points (another device) are left; so are files still open, freed
 * when closed. Returns the bytes unlinked. */
static unsigned long long remove_tree(int dirfd, dev_t dev, unsigned depth)
{
	unsigned long long bytes = 0;
	DIR *d;
	struct dirent *de;

	/* the initramfs is scripts/image's, a few levels deep: a bound on the
	 * recursion all the same */
	if (depth > 32 || !(d = fdopendir(dirfd))) {
		close(dirfd);
		return 0;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (fd >= 0)
				bytes += remove_tree(fd, dev, depth + 1);
			(void)unlinkat(dirfd, de->d_name, AT_REMOVEDIR);
		} else if (unlinkat(dirfd, de->d_name, 0) == 0) {
			bytes += (unsigned long long)st.st_size;
		}
	}
	closedir(d);
	return bytes;
}

/* The API file systems the disk's discovery needs; unmounted again before
 * the move, mount.c mounts them on the new root */
static const struct {
	const char *source, *target, *type;
} disk_mounts[] = {
	{ "proc", "/proc", "proc" },
	{ "sysfs", "/sys", "sysfs" },
	{ "devtmpfs", "/dev", "devtmpfs" },
};

int rootfs_move_to_disk(const char *serial, const char (*modules)[64], size_t n_modules,
			char *const argv[])
{
	unsigned long long freed;
	struct stat st;
	int r, fd;

	for (size_t i = 0; i < ARRAY_SIZE(disk_mounts); i++) {
		if (mkdir(disk_mounts[i].target, 0755) < 0 && errno != EEXIST)
			return log_errno(LOG_LEVEL_EMERG, -errno, "root disk: mkdir %s",
					 disk_mounts[i].target);
		if (mount(disk_mounts[i].source, disk_mounts[i].target, disk_mounts[i].type, 0,
			  NULL) < 0 &&
		    errno != EBUSY)
			return log_errno(LOG_LEVEL_EMERG, -errno, "root disk: mount %s (%s)",
					 disk_mounts[i].target, disk_mounts[i].type);
	}
	/* the initramfs's init.conf names what reaches the disk (virtio_pci,
	 * virtio_blk, the file system, overlay); a module missing shows as the
	 * disk or the mount failing below, named there */
	(void)modules_load(modules, n_modules);
	r = rootdisk_mount(serial, NEWROOT);
	for (size_t i = ARRAY_SIZE(disk_mounts); i-- > 0;)
		(void)umount2(disk_mounts[i].target, MNT_DETACH);
	if (r < 0)
		return r;
	if (stat("/", &st) < 0)
		return log_errno(LOG_LEVEL_EMERG, -errno, "stat /");
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	freed = fd >= 0 ? remove_tree(fd, st.st_dev, 0) : 0;
	if (chdir(NEWROOT) < 0 || mount(NEWROOT, "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)
		return log_errno(LOG_LEVEL_EMERG, -errno, "root disk: move the overlay over /");
	log_info("root disk: moved to it, %llu KiB of initramfs freed", freed >> 10);
	return reexec(argv);
}

/* Without a data disk, the data's directory (/var/lib) is on the root. On the
 * root disk's overlay that breaks the engine: overlayfs refuses an overlayfs
 * as its upper layer, so dockerd's overlay2 and containerd's snapshotter
 * cannot work there. A tmpfs of its own gives them what the initramfs root
 * gave, gone at power-off the same way; the image's files below it are
 * hidden, as a data disk mounted there hides them. */
int rootfs_data_tmpfs(const char *dir)
{
	struct statfs sf;

	if (statfs("/", &sf) < 0 || sf.f_type != OVERLAYFS_SUPER_MAGIC)
		return 0;
	if (mount("tmpfs", dir, "tmpfs", 0, "mode=0755,size=" ROOTDISK_TMPFS_SIZE) < 0)
		return log_error_errno(-errno,
				       "mount tmpfs on %s: data on the overlay, "
				       "where overlay2 cannot work",
				       dir);
	log_info("data on a tmpfs on %s: the root disk's overlay cannot be overlay2's upper", dir);
	return 1;
}
