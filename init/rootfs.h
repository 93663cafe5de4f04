/* Moving an initramfs root onto a tmpfs, so that pivot_root(2) works for the
 * container runtime (the initial rootfs can never be pivoted away). */
#pragma once

#include <stdbool.h>

/* True when / is the kernel's initial rootfs (ramfs or tmpfs) and has not
 * been moved yet. */
bool rootfs_needs_move(void);

/* Copies / onto a new tmpfs (freeing each file of the old root as it goes),
 * moves that tmpfs onto /, chroots into it and re-executes ARGV. Returns only
 * on failure, with the old root still usable. */
int rootfs_move_to_tmpfs(char *const argv[]);
