/* Makes the initramfs root one that pivot_root(2) accepts, and re-executes
 * init there: runc and dockerd need pivot_root, which fails with EINVAL on
 * the initial rootfs mount. Where LinuxKit's init copies the root onto a new
 * tmpfs, this binds it: the same files on a mount of its own. */
#include "rootfs.h"

#include <errno.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define NEWROOT "/.porthole-root"
#define MOVED_ENV "PORTHOLE_ROOT_MOVED"

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
 * moment with two copies in memory. */
int rootfs_bind_over_self(char *const argv[])
{
	const char *self;

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
	setenv(MOVED_ENV, "1", 1);
	/* By its own name, so that ps shows porthole-init, not /init. */
	self = access("/sbin/porthole-init", X_OK) == 0 ? "/sbin/porthole-init"
	       : argv[0] && argv[0][0] == '/'		? argv[0]
							: "/init";
	execv(self, argv);
	return log_error_errno(-errno, "re-execute %s on the new root mount", self);
}
