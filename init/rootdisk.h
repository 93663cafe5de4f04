/* The root on a read-only disk: finding the disk by its virtio serial,
 * telling its file system by its superblock, and mounting it under a tmpfs
 * overlay that init then moves to (rootfs.c). The data disk is storage.c's. */
#pragma once

#include <stddef.h>

/* How long the disk may take to appear after virtio_blk is loaded. Under
 * TCG virtio_blk probes the device before its insmod returns; the wait is
 * for VMMs and kernels that probe asynchronously. */
#define ROOTDISK_WAIT_MS 5000
/* The overlay's writable layer, as the initramfs's own tmpfs is sized by the
 * kernel: half of RAM, and only what is written is held. */
#define ROOTDISK_TMPFS_SIZE "50%"
/* Where the disk and the tmpfs of writes are seen once the overlay is /. */
#define ROOTDISK_RO_DIR "/.porthole/ro"
#define ROOTDISK_RW_DIR "/.porthole/rw"

enum rootdisk_fs {
	ROOTDISK_FS_UNKNOWN,
	ROOTDISK_FS_EROFS,
	ROOTDISK_FS_SQUASHFS,
};

/* The file system whose superblock is in HEAD (the disk's first LEN bytes,
 * at least 1028 for erofs), or ROOTDISK_FS_UNKNOWN. */
enum rootdisk_fs rootdisk_fs_detect(const unsigned char *head, size_t len);
const char *rootdisk_fs_name(enum rootdisk_fs fs);

/* The whole disk below SYS_BLOCK (/sys/block) whose virtio serial is SERIAL:
 * its name (vdb) in RET_NAME. -ENODEV when none has it; then SEEN holds the
 * disks looked at and their serials ("vda (porthole-data)"), for the message
 * that says what was there instead. */
int rootdisk_find(const char *sys_block, const char *serial, char *ret_name, size_t name_size,
		  char *seen, size_t seen_size);

/* Finds the disk of SERIAL (waiting up to ROOTDISK_WAIT_MS), mounts it
 * read-only under an overlay whose writes go to a tmpfs, at NEWROOT, with
 * the disk and the tmpfs moved to ROOTDISK_RO_DIR and ROOTDISK_RW_DIR below
 * it. /sys and /dev must be mounted. Each failure is logged as an emergency
 * that names what was looked for and what was found instead. */
int rootdisk_mount(const char *serial, const char *newroot);
