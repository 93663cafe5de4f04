/* Kernel modules with libkmod: the configured list resolved with its
 * dependencies and soft dependencies, then loaded in that order; a device's
 * modalias looked up and loaded as modprobe would. */
#pragma once

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

/* Loads what ALIAS matches (blacklist applied), with dependencies and soft
 * dependencies. Returns the number of modules this call loaded (one already
 * loaded or built in is fine and not counted), the first MAX named in RET;
 * each failure is logged with the module's name and the alias. */
int modules_load_alias(struct modules_ctx *m, const char *alias, char (*ret)[MODULE_NAME_MAX],
		       size_t max);
