/* Kernel modules with libkmod: the configured list resolved with its
 * dependencies and soft dependencies, then loaded in that order. */
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

/* Loads NAMES with their dependencies; logs each failure with the module's
 * name. Returns the number of modules that could not be loaded, or -errno
 * when the module tree cannot be read at all. */
int modules_load(const char (*names)[64], size_t n);
