/* The root on a read-only disk (root_disk = serial:NAME): the disk found by
 * its virtio serial, its file system told by its superblock, mounted
 * read-only with a tmpfs overlay for writes. Moving to it and freeing the
 * initramfs are rootfs.c's; the data disk is storage.c's, found by another
 * serial, and a read-only root disk is never one it would format. */
#include "rootdisk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* Mount points in the initramfs, before the overlay is /: the same paths
 * as below the new root, so that the overlay's lowerdir= and upperdir= in
 * /proc/mounts are right once the two are moved there */
#define RO_MNT ROOTDISK_RO_DIR
#define RW_MNT ROOTDISK_RW_DIR
/* erofs: EROFS_SUPER_MAGIC_V1 at EROFS_SUPER_OFFSET (fs/erofs/erofs_fs.h);
 * squashfs: "hsqs" at 0 (SQUASHFS_MAGIC, little-endian) */
#define EROFS_SUPER_OFFSET 1024
#define EROFS_MAGIC 0xE0F5E1E2u
#define SQUASHFS_MAGIC 0x73717368u
#define HEAD_BYTES 4096
/* the disks named in a failure's message: a VM has a handful */
#define SEEN_MAX 8

static uint32_t le32_at(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

enum rootdisk_fs rootdisk_fs_detect(const unsigned char *head, size_t len)
{
	if (len >= 4 && le32_at(head) == SQUASHFS_MAGIC)
		return ROOTDISK_FS_SQUASHFS;
	if (len >= EROFS_SUPER_OFFSET + 4 && le32_at(head + EROFS_SUPER_OFFSET) == EROFS_MAGIC)
		return ROOTDISK_FS_EROFS;
	return ROOTDISK_FS_UNKNOWN;
}

const char *rootdisk_fs_name(enum rootdisk_fs fs)
{
	switch (fs) {
	case ROOTDISK_FS_EROFS:
		return "erofs";
	case ROOTDISK_FS_SQUASHFS:
		return "squashfs";
	case ROOTDISK_FS_UNKNOWN:
		break;
	}
	return "unknown";
}

/* A sysfs attribute's first line, or "" */
static void sysfs_line(const char *path, char *buf, size_t size)
{
	_cleanup_free_ char *text = NULL;

	buf[0] = '\0';
	if (read_file(path, 4096, &text, NULL) < 0)
		return;
	text[strcspn(text, "\n")] = '\0';
	snprintf(buf, size, "%s", text);
}

int rootdisk_find(const char *sys_block, const char *serial, char *ret_name, size_t name_size,
		  char *seen, size_t seen_size)
{
	DIR *d = opendir(sys_block);
	struct dirent *de;
	size_t used = 0;
	unsigned n_seen = 0;
	int r = -ENODEV;

	if (seen_size)
		seen[0] = '\0';
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[PATH_MAX], value[128];

		/* virtio-blk, SCSI and NVMe disks: loop and ram devices have no
		 * serial and would only lengthen the message */
		if (de->d_name[0] == '.' || strncmp(de->d_name, "loop", 4) == 0 ||
		    strncmp(de->d_name, "ram", 3) == 0 || strncmp(de->d_name, "zram", 4) == 0)
			continue;
		/* virtio_blk's attribute is the disk's own; SCSI's is its device's */
		snprintf(path, sizeof(path), "%s/%s/serial", sys_block, de->d_name);
		sysfs_line(path, value, sizeof(value));
		if (!value[0]) {
			snprintf(path, sizeof(path), "%s/%s/device/serial", sys_block, de->d_name);
			sysfs_line(path, value, sizeof(value));
		}
		if (strcmp(value, serial) == 0 && strlen(de->d_name) < name_size) {
			snprintf(ret_name, name_size, "%s", de->d_name);
			r = 0;
			break;
		}
		if (n_seen++ < SEEN_MAX && used < seen_size) {
			int n = snprintf(seen + used, seen_size - used, "%s%s (%s)",
					 used ? ", " : "", de->d_name,
					 value[0] ? value : "no serial");

			used = n < 0 ? seen_size : used + (size_t)n;
		}
	}
	closedir(d);
	return r;
}

static int find_waiting(const char *serial, char *name, size_t size)
{
	uint64_t deadline = now_mono_ns() + (uint64_t)ROOTDISK_WAIT_MS * 1000000ull;
	char seen[512];
	int r;

	for (;;) {
		r = rootdisk_find("/sys/block", serial, name, size, seen, sizeof(seen));
		if (r == 0 || now_mono_ns() >= deadline)
			break;
		nanosleep(&(struct timespec){ 0, 10 * 1000000 }, NULL);
	}
	if (r == -ENODEV)
		log_emerg("root disk: no disk with serial %s in /sys/block after %d s (disks: %s); "
			  "the VMM must attach the image's root.img as a virtio-blk disk with "
			  "serial=%s",
			  serial, ROOTDISK_WAIT_MS / 1000, seen[0] ? seen : "none", serial);
	else if (r < 0)
		log_emerg("root disk: /sys/block: %s", strerror(-r));
	return r;
}

/* mkdir that accepts an existing directory */
static int make_dir(const char *path, unsigned mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return log_errno(LOG_LEVEL_EMERG, -errno, "root disk: mkdir %s", path);
	return 0;
}

/* 0 when ROOT/sbin/porthole-init starts as an ELF file */
static int check_init(const char *root)
{
	char path[PATH_MAX];
	unsigned char elf[4];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/sbin/porthole-init", root);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, elf, sizeof(elf));
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(elf) && memcmp(elf, "\177ELF", 4) == 0 ? 0 : -ENOEXEC;
}

int rootdisk_mount(const char *serial, const char *newroot)
{
	_cleanup_free_ unsigned char *head = malloc(HEAD_BYTES);
	char name[64], dev[80], path[PATH_MAX], opts[256];
	enum rootdisk_fs fs;
	int r;

	if (!head)
		return -ENOMEM;
	r = find_waiting(serial, name, sizeof(name));
	if (r < 0)
		return r;
	snprintf(dev, sizeof(dev), "/dev/%s", name);
	r = read_head_of(dev, head, HEAD_BYTES);
	if (r < 0)
		return log_errno(LOG_LEVEL_EMERG, r, "root disk: read %s (serial %s)", dev, serial);
	fs = rootdisk_fs_detect(head, (size_t)r);
	if (fs == ROOTDISK_FS_UNKNOWN) {
		log_emerg("root disk: %s (serial %s) holds neither erofs nor squashfs "
			  "(no superblock magic at 0 or 1024): not a root image of scripts/image",
			  dev, serial);
		return -EMEDIUMTYPE;
	}
	r = make_dir("/.porthole", 0700);
	if (r >= 0)
		r = make_dir(RO_MNT, 0755);
	if (r >= 0)
		r = make_dir(RW_MNT, 0755);
	if (r >= 0)
		r = make_dir(newroot, 0755);
	if (r < 0)
		return r;
	/* a corrupt image fails here (EINVAL, EUCLEAN) or at its first bad
	 * block; the kernel's own line in the log says what it found */
	if (mount(dev, RO_MNT, rootdisk_fs_name(fs), MS_RDONLY, NULL) < 0)
		return log_errno(
			LOG_LEVEL_EMERG, -errno,
			"root disk: mount %s (serial %s) read-only as %s, a corrupt image?", dev,
			serial, rootdisk_fs_name(fs));
	if (mount("tmpfs", RW_MNT, "tmpfs", 0, "mode=0755,size=" ROOTDISK_TMPFS_SIZE) < 0) {
		r = log_errno(LOG_LEVEL_EMERG, -errno, "root disk: mount tmpfs on " RW_MNT);
		goto fail;
	}
	r = make_dir(RW_MNT "/upper", 0755);
	if (r >= 0)
		r = make_dir(RW_MNT "/work", 0755);
	if (r < 0)
		goto fail;
	snprintf(opts, sizeof(opts),
		 "lowerdir=" RO_MNT ",upperdir=" RW_MNT "/upper,workdir=" RW_MNT "/work");
	if (mount("overlay", newroot, "overlay", 0, opts) < 0) {
		r = log_errno(LOG_LEVEL_EMERG, -errno, "root disk: mount overlay (%s) on %s", opts,
			      newroot);
		goto fail;
	}
	/* erofs reads inodes when they are looked up: a cut or corrupt image
	 * mounts, and fails only when init is looked for on it. Read init's
	 * first bytes now, while the initramfs is still there to fail on. */
	r = check_init(newroot);
	if (r < 0) {
		log_errno(LOG_LEVEL_EMERG, r,
			  "root disk: %s (serial %s, %s): /sbin/porthole-init unreadable, "
			  "a corrupt image?",
			  dev, serial, rootdisk_fs_name(fs));
		umount2(newroot, MNT_DETACH);
		goto fail;
	}
	/* The disk and the writes' tmpfs, moved below the new root so that
	 * /proc/mounts shows them and a person can look at each layer; a mount
	 * left outside the root would be unreachable and unlisted. */
	snprintf(path, sizeof(path), "%s/.porthole", newroot);
	r = make_dir(path, 0700);
	for (int i = 0; i < 2 && r >= 0; i++) {
		const char *from = i ? RW_MNT : RO_MNT, *to = i ? ROOTDISK_RW_DIR : ROOTDISK_RO_DIR;

		snprintf(path, sizeof(path), "%s%s", newroot, to);
		r = make_dir(path, 0755);
		if (r >= 0 && mount(from, path, NULL, MS_MOVE, NULL) < 0)
			r = log_errno(LOG_LEVEL_EMERG, -errno, "root disk: move %s to %s", from,
				      path);
	}
	if (r < 0) {
		umount2(newroot, MNT_DETACH);
		goto fail;
	}
	log_info("root disk %s (serial %s, %s) read-only under a tmpfs overlay", dev, serial,
		 rootdisk_fs_name(fs));
	return 0;
fail:
	umount2(RW_MNT, MNT_DETACH);
	umount2(RO_MNT, MNT_DETACH);
	return r;
}
