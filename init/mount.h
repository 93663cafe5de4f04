/* The API file systems init mounts, from one table, and the unmounting at
 * shutdown. The data disk and shares are left to their own modules. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum mount_phase {
	MOUNT_EARLY, /* before modules: what init itself needs */
	MOUNT_LATE, /* after modules: file systems a module provides */
};

struct mount_entry {
	const char *source;
	const char *target;
	const char *fstype;
	unsigned long flags;
	const char *data;
	unsigned mode; /* of the target directory when init creates it */
	enum mount_phase phase;
	bool essential; /* boot cannot go on without it */
};

extern const struct mount_entry mount_table[];
extern const size_t mount_table_size;

/* Marks in SKIP[i] the table entries whose target MOUNTINFO (the text of
 * /proc/self/mountinfo) already shows mounted with that file system type:
 * the kernel may have mounted devtmpfs, a sandbox may have /proc. */
void mount_plan(const struct mount_entry *table, size_t n, const char *mountinfo, bool *skip);

/* "nosuid,nodev,noexec" for FLAGS; "rw" when none is set. */
void mount_flags_string(unsigned long flags, char *buf, size_t size);

/* Mounts the entries of PHASE that are not already mounted. Errors of
 * best-effort entries are logged and ignored; the first essential failure
 * is returned after the others have been tried. */
int mount_apply(enum mount_phase phase);

/* Prints what mount_apply would do, for --check. */
void mount_describe(int fd);

/* Makes / and all below it shared, as container runtimes expect. */
int mount_make_rshared(void);

/* Shutdown: unmounts everything but the API file systems, last mounted
 * first, repeating while it makes progress; remounts read-only what stays
 * busy. Returns the number of mounts left busy. */
int mount_unmount_all(void);
