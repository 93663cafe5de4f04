/* The file-system commands' part the rest of the agent uses: the data
 * disk's trims that the agent starts itself, periodic (agent.trim_interval)
 * and after the engine's deletes (engine-events.c), which give the blocks
 * that files freed back to the host's sparse image file; and the last trim
 * of the data disk, for porthole-health. */
#pragma once

#include <stdint.h>

#include "agent.h"

enum fs_trim_reason {
	FS_TRIM_PERIODIC,
	FS_TRIM_AFTER_DELETE, /* the engine deleted images, containers, volumes */
	FS_TRIM_REQUEST, /* the host's guest-fstrim or porthole-trim */
};

/* "periodic", "after delete", "request": porthole-health's words. */
const char *fs_trim_reason_name(enum fs_trim_reason reason);

/* Arms the timer when agent.trim_interval is not 0: every interval, FITRIM
 * on agent.data_mount when a file system is mounted there. */
void fs_trim_start(struct agent *a);

/* FITRIM on agent.data_mount, on a worker, now; or once more right after
 * the one running now, when one is (many asks while it runs make one
 * trim). Logged when it ends. -EPERM without a data mount or in a sandbox
 * (its /var/lib is the host's), -EBUSY when the workers are (logged). */
int fs_trim_soon(struct agent *a, enum fs_trim_reason reason);

/* The data disk's last trim that ended, by whoever asked for it. */
struct fs_trim_record {
	int64_t time_ns; /* CLOCK_REALTIME when it ended */
	unsigned long long trimmed_bytes; /* what the kernel discarded */
	uint64_t duration_ns;
	enum fs_trim_reason reason;
	int error; /* -errno when FITRIM failed, 0 */
};

/* NULL before the first; valid until the next trim ends (the loop's
 * thread only). A file system without discard (tmpfs) records nothing. */
const struct fs_trim_record *fs_trim_last(void);
