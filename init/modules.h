/* Kernel modules with libkmod: the configured list resolved with its
 * dependencies and soft dependencies, then loaded in that order; a device's
 * modalias looked up and loaded as modprobe would. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define MODULES_RESOLVED_MAX 512
#define MODULE_NAME_MAX 64

struct modules_resolved {
	char names[MODULES_RESOLVED_MAX][MODULE_NAME_MAX];
	size_t n;
	size_t n_builtin; /* asked for but built into the kernel */
};

/* Resolves NAMES (module names or aliases) against the module tree DIR
 * (NULL: /lib/modules/`uname -r`) into the order they must be loaded in:
 * soft pre-dependencies, dependencies, the module, soft post-dependencies;
 * each name once. Built-in modules are counted, not listed. A name that is
 * not found is logged and skipped; its -ENOENT is returned at the end. */
int modules_resolve(const char *dir, const char (*names)[64], size_t n,
		    struct modules_resolved *ret);

/* A libkmod context on the module tree DIR (NULL: the running kernel's) with
 * modprobe's configuration from CONFIG_DIR (NULL: modprobe's own directories;
 * with DIR set and CONFIG_DIR NULL, none: the host's is not the image's).
 * Kept for the boot and for hotplug after it. */
struct modules_ctx;
int modules_open(const char *dir, const char *config_dir, struct modules_ctx **ret);
void modules_close(struct modules_ctx *m);

/* Loads NAMES with their dependencies; logs each failure with the module's
 * name. Returns the number of modules that could not be loaded. */
int modules_load_list(struct modules_ctx *m, const char (*names)[64], size_t n);

/* modules_load_list() with a context of its own on the running kernel's
 * tree; -errno when it cannot be made. */
int modules_load(const char (*names)[64], size_t n);

/* The modules ALIAS (a device's modalias, "virtio:d00000001v00001AF4")
 * matches, blacklisted ones left out: the first MAX names into RET, and their
 * number returned; 0 when no module matches (most devices need none). */
int modules_lookup_alias(struct modules_ctx *m, const char *alias, char (*ret)[MODULE_NAME_MAX],
			 size_t max);

/* One module to load, by name (a device's alias is looked up first, with
 * modules_lookup_alias, so that each module is one job however many devices
 * name it: the kernel reads and checks a module's file before it finds a
 * twin loaded). */
struct modules_job {
	char name[MODULE_NAME_MAX]; /* or an alias, as modprobe takes */
	const char *why; /* the alias it was found for, or NULL; for the log */
	int r; /* 1 loaded by this job, 0 there already, -errno failed (logged) */
};

/* Runs JOBS on up to THREADS threads at once (as udev's workers load
 * modules: a driver's probe waits on its device, and the kernel takes
 * independent modules side by side), each thread with a libkmod context of
 * its own kept in M. A dependency two jobs share is loaded once: the kernel
 * makes the second wait for the first. Returns the number of threads used. */
unsigned modules_load_jobs(struct modules_ctx *m, struct modules_job *jobs, size_t n,
			   unsigned threads);
