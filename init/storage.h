/* Storage at boot: the persistent data disk (found by virtio serial or file
 * system label, made ext4 when blank, checked, grown, mounted) and the host's
 * shared folders named in the configuration. Owns their configuration keys
 * too; resolving and mounting a share is lib/sharemount.c's, unmounting at
 * shutdown mount.c's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "sharemount.h"

#define STORAGE_SHARES_MAX 16
#define STORAGE_DISK_WAYS 2

enum disk_by {
	DISK_BY_NONE,
	DISK_BY_SERIAL, /* /sys/block/NAME/serial (virtio-blk's serial=) */
	DISK_BY_LABEL, /* the ext2/3/4 superblock's volume name */
};

struct disk_way {
	enum disk_by by;
	char value[64];
};

struct storage_config {
	struct disk_way disk[STORAGE_DISK_WAYS]; /* tried in order */
	size_t n_disk;
	char data_mount[SHARE_PATH_MAX];
	struct share_request shares[STORAGE_SHARES_MAX];
	size_t n_shares;
};

void storage_defaults(struct storage_config *s);

/* Applies KEY (data_disk, data_mount, share, shares); APPEND for an indented
 * continuation of shares. -ENOENT when KEY is not storage's; -EINVAL with
 * *EXPECTED set when VALUE is wrong. */
int storage_config_set(struct storage_config *s, const char *key, const char *value, bool append,
		       const char **expected);

/* Prints the keys' values for --check. */
void storage_dump(const struct storage_config *s, int fd);

/* Reads an ext superblock's facts from the first 2 KiB of a device: whether
 * it is one (magic 0xEF53 at 1080), its label and size in bytes. */
bool storage_ext_super(const unsigned char *buf, size_t len, char *label, size_t label_size,
		       unsigned long long *ret_bytes);

/* The data disk: finds it, makes or checks the file system, mounts it on
 * data_mount, grows it to the device. Failures are logged; the VM then runs
 * on tmpfs. Returns 0 when mounted, -errno otherwise. */
int storage_setup_data_disk(const struct storage_config *s);

/* Mounts the configured shares (each failure logged, the others tried).
 * Returns how many failed. */
int storage_mount_shares(const struct storage_config *s);
