/* The modules the VM's devices ask for, by their modalias: at boot from the
 * modalias files under /sys/devices (as udev's coldplug), after it from the
 * kernel's "add" uevents (hotplug). Looking an alias up and loading what it
 * names is modules.c's; this module finds the aliases. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modules.h"

struct supervisor;

#define COLDPLUG_ALIASES_MAX 2048 /* distinct aliases remembered */
#define COLDPLUG_ALIAS_MAX 4096 /* a sysfs attribute is at most a page */
#define COLDPLUG_DEPTH_MAX 32 /* directories below the root walked */
#define COLDPLUG_DIRS_MAX 65536 /* directories walked in one scan */
#define COLDPLUG_ROUNDS_MAX 8 /* boot rounds: each may load what makes new devices */
#define COLDPLUG_NAMES_MAX 64 /* modules named in the boot's log line */
#define COLDPLUG_THREADS_MAX 4 /* modules loaded at once at boot */

/* The distinct aliases seen so far, each once (malloc'd). */
struct coldplug_aliases {
	char *v[COLDPLUG_ALIASES_MAX];
	size_t n;
	size_t n_dropped; /* new aliases not remembered: the set was full */
};

/* Adds ALIAS to SET; 1 when it was new, 0 when already there, -ENOMEM, or
 * -E2BIG when the set is full (counted in n_dropped). */
int coldplug_aliases_add(struct coldplug_aliases *set, const char *alias);
void coldplug_aliases_free(struct coldplug_aliases *set);

/* Walks ROOT ("/sys/devices") for files named modalias, never following a
 * symbolic link, at most COLDPLUG_DEPTH_MAX directories deep, and adds each
 * alias not already in SEEN to it. Reads are bounded; an entry that cannot be
 * read is logged and skipped. Returns the number of new aliases (appended to
 * SEEN->v from its former n), or -errno when ROOT cannot be opened. */
int coldplug_scan(const char *root, struct coldplug_aliases *seen);

/* The MODALIAS= of a kernel uevent ("ACTION@DEVPATH\0KEY=VALUE\0...") whose
 * ACTION is "add", pointing into BUF; NULL for any other. Its SEQNUM= into
 * RET_SEQNUM (0 without one). */
const char *coldplug_uevent_modalias(const char *buf, size_t len, uint64_t *ret_seqnum);

struct coldplug {
	struct modules_ctx *mods;
	const char *root;
	int ueventfd;
	uint64_t seqnum; /* the kernel's uevent number when the last walk began */
	unsigned threads; /* modules loaded at once at boot */
	struct coldplug_aliases seen;
	/* the boot's figures, for its log line and the tests */
	unsigned walks, drains;
	size_t n_loaded;
	size_t n_names_failed; /* of the configured names */
	char loaded[COLDPLUG_NAMES_MAX][MODULE_NAME_MAX];
};

/* At boot: opens the uevent socket first, so that a device added during or
 * after the walk is not missed, then walks ROOT and loads what the aliases
 * name; loading makes new devices (virtio_pci makes the virtio devices whose
 * aliases ask for virtio_net, virtio_blk...), whose uevents are then read
 * and their modules loaded, round after round until one loads nothing new,
 * at most COLDPLUG_ROUNDS_MAX (without the socket, each round is a walk).
 * The configured N_NAMES NAMES (what no device announces) load with the
 * first round. A round's modules load THREADS at a time (0: one per CPU,
 * coldplug_threads()).
 * C keeps MODS. Logs one line: what was loaded, for how many aliases, in how
 * long. Returns the number of modules loaded. */
int coldplug_boot(struct coldplug *c, struct modules_ctx *mods, const char *root,
		  const char (*names)[64], size_t n_names, unsigned threads);

/* Threads for a boot round on CPUS processors (module_threads = 0): one
 * each, at most COLDPLUG_THREADS_MAX. */
unsigned coldplug_threads(unsigned cpus);

/* Watches the uevent socket in init's event loop: an "add" uevent with a
 * MODALIAS= gets its modules (a disk or a NIC added later), unless the last
 * walk saw its device already (its SEQNUM= is not past the walk's). */
void coldplug_watch(struct coldplug *c, struct supervisor *s);
