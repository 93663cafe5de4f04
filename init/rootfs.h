/* Putting the root on a mount of its own, so that pivot_root(2) works for
 * the container runtime (the initial rootfs can never be pivoted away): the
 * initramfs bound over itself, or the overlay of the root disk. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* True when / is the kernel's initial rootfs (ramfs or tmpfs) and has not
 * been moved yet. */
bool rootfs_needs_move(void);

/* Binds / on a directory, moves that over / and chroots into it: the same
 * files, on a mount pivot_root(2) accepts, for this process and what it
 * starts. Returns 0, or -errno with the old root still in use (logged). */
int rootfs_bind_over_self(void);

/* Makes / owned by root and mode 0755: the kernel's initial rootfs is a
 * tmpfs whose root is 1777, and a cpio archive without a "." entry leaves it
 * so, which let any user make /Users or /host before the agent did. */
int rootfs_secure(void);

/* root_disk: loads MODULES, mounts the disk of virtio serial SERIAL under a
 * tmpfs overlay (rootdisk.c), frees the initramfs's files, moves the overlay
 * over / and re-executes ARGV there. Returns only on failure, logged as an
 * emergency, with the initramfs still the root. */
int rootfs_move_to_disk(const char *serial, const char (*modules)[64], size_t n_modules,
			char *const argv[]);

/* With the root on its disk (an overlay) and no data disk: a tmpfs on DIR
 * (data_mount), where overlay2 and the like can work. 1 when mounted, 0 when
 * / is not the overlay, -errno (logged) on failure. */
int rootfs_data_tmpfs(const char *dir);
