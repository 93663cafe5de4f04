/* Shared folders, as both init (at boot) and the agent (porthole-mount) mount
 * them: the tags the guest sees, a target confined to allowed roots and
 * reached without following a symlink, and the mount itself through the new
 * mount API onto the target's fd. What to mount and when is the caller's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define SHARE_TAG_MAX 64 /* virtio-9p's and virtiofs's tags are at most 36 bytes */
#define SHARE_TAGS_MAX 32
#define SHARE_ROOTS_MAX 8
#define SHARE_PATH_MAX 256
#define SHARE_OPTIONS_MAX 8
#define SHARE_WHY_MAX 512

enum share_type {
	SHARE_AUTO, /* whichever type has the tag */
	SHARE_VIRTIOFS,
	SHARE_9P,
};

struct share_request {
	char tag[SHARE_TAG_MAX];
	enum share_type type;
	char target[SHARE_PATH_MAX];
	bool readonly;
	char options[SHARE_OPTIONS_MAX][64]; /* "key=value" or "key" */
	size_t n_options;
};

/* "virtiofs", "9p", "auto". */
const char *share_type_name(enum share_type t);
int share_type_parse(const char *s, enum share_type *ret);

/* The tags of TYPE (SHARE_VIRTIOFS or SHARE_9P) under SYSFS ("/sys"):
 * virtiofs's SYSFS/fs/virtiofs/N/tag, 9pnet_virtio's
 * SYSFS/bus/virtio/drivers/9pnet_virtio/virtioN/mount_tag. Returns how many
 * (at most MAX), 0 when the driver is not loaded. */
size_t share_tags(const char *sysfs, enum share_type type, char (*tags)[SHARE_TAG_MAX], size_t max);

/* How many virtio devices of TYPE's (virtio-fs, or 9P transport) the
 * guest has, from their device IDs in sysfs: known without the drivers.
 * Kernels before 6.9 show no virtiofs tag in sysfs (and the tag, in the
 * device's configuration space, sits in a BAR its driver holds): there, a
 * tag not found among 9p's is tried as virtiofs when such a device exists. */
size_t share_devices(const char *sysfs, enum share_type type);

/* Checks an option "key=value" for TYPE: 9p takes msize and cache, virtiofs
 * takes dax. -EINVAL with WHY filled otherwise. */
int share_option_check(enum share_type type, const char *opt, char *why, size_t size);

/* porthole's defaults for what a 9p share does not set, chosen by
 * scripts/bench-shares (docs/shares.md): the largest msize 9pnet_virtio takes
 * in Linux 6.1 (PAGE_SIZE * (VIRTQUEUE_NUM - 3); a larger one is cut to it),
 * and cache=mmap, which reads and writes through to the host like none (so
 * host edits show at once) and gives programs a writable shared mmap(2). */
#define SHARE_9P_MSIZE_DEFAULT "512000"
#define SHARE_9P_CACHE_DEFAULT "mmap"
#define SHARE_MOUNT_OPTIONS_MAX (SHARE_OPTIONS_MAX + 4)

/* The options share_mount_make gives fsconfig(2) for REQ (its type
 * resolved), in order: 9p's transport and protocol, the defaults above for
 * what REQ does not set, then REQ's own. Returns how many, at most MAX. */
size_t share_mount_options(const struct share_request *req, char (*opts)[64], size_t max);

/* Parses TAG:TARGET[:OPTIONS] (porthole.share= and init.conf's shares),
 * OPTIONS separated by commas: ro, type=9p|virtiofs and the type's own. */
int share_spec_parse(const char *spec, struct share_request *ret, char *why, size_t size);

/* Cleans TARGET (absolute; no "." or ".." component; repeated and trailing
 * slashes dropped) into OUT. -EINVAL otherwise. */
int share_path_clean(const char *target, char *out, size_t size);

/* Opens TARGET (cleaned) as an O_PATH directory fd, walking down from the
 * root of ROOTS it is under, one component at a time with openat2(2)'s
 * RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH, creating missing directories (0755,
 * whatever the umask) when CREATE. Every directory above the target, / too,
 * must be owned by root and writable by no one else. Errors: -EXDEV not under
 * a root, -ELOOP a symlink on the way, -EPERM a directory above it that
 * another user owns or may write, -ENOTDIR, -ENOENT (not CREATE); WHY says
 * which and where. */
int share_resolve(const char (*roots)[SHARE_PATH_MAX], size_t n_roots, const char *target,
		  bool create, int *ret_fd, char *why, size_t size);

/* The mount at exactly PATH in MOUNTINFO (the text of /proc/self/mountinfo):
 * its type and source, and whether it is read-only (RET_READONLY may be
 * NULL); the last one mounted there wins. False when none. */
bool share_mount_at(const char *mountinfo, const char *path, char *type, size_t type_size,
		    char *source, size_t source_size, bool *ret_readonly);

/* The mount of REQ (its type resolved, not SHARE_AUTO), not attached
 * anywhere yet: fsopen(2), fsconfig(2) (the tag as source), fsmount(2). */
int share_mount_make(const struct share_request *req, int *ret_fd, char *why, size_t size);

/* Attaches the mount MFD on the directory DIRFD with move_mount(2)'s
 * MOVE_MOUNT_T_EMPTY_PATH: it lands on the directory that was resolved,
 * whatever happened to its path since. */
int share_mount_attach(const struct share_request *req, int mfd, int dirfd, char *why, size_t size);

/* Loads the modules TYPE needs by running /sbin/modprobe (at most 10 s),
 * unless /sys/module shows them loaded. */
int share_load_modules(enum share_type type, char *why, size_t size);

/* The whole of a mount: modules, type from the tags, target, mount. Sets
 * *ALREADY when that tag of that type is mounted there already (success).
 * -ENOENT no such tag (WHY lists those there are), -EMEDIUMTYPE the tag is of
 * the other type, -EXDEV, -ELOOP as share_resolve, -EBUSY something else is
 * mounted there. */
int share_mount(const char *sysfs, const char (*roots)[SHARE_PATH_MAX], size_t n_roots,
		struct share_request *req, bool *already, char *why, size_t size);
