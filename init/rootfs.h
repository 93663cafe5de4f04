/* Putting the initramfs root on a mount of its own, so that pivot_root(2)
 * works for the container runtime (the initial rootfs can never be pivoted
 * away). */
#pragma once

#include <stdbool.h>

/* True when / is the kernel's initial rootfs (ramfs or tmpfs) and has not
 * been moved yet. */
bool rootfs_needs_move(void);

/* Binds / on a directory, moves that over /, chroots into it and
 * re-executes ARGV: the same files, on a mount pivot_root(2) accepts.
 * Returns only on failure, with the old root still in use. */
int rootfs_bind_over_self(char *const argv[]);

/* Makes / owned by root and mode 0755: the kernel's initial rootfs is a
 * tmpfs whose root is 1777, and a cpio archive without a "." entry leaves it
 * so, which let any user make /Users or /host before the agent did. */
int rootfs_secure(void);
