/* cgroups v2 for services: the controllers enabled from the root down to
 * /porthole, one cgroup per service under it, limits written there, the
 * whole cgroup killed through cgroup.kill, and the figures porthole-services
 * reports. Documentation/admin-guide/cgroup-v2.rst is the reference. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP_SERVICES "porthole" /* under the root */
#define CGROUP_PATH_MAX 192

struct service_spec;

/* Enables every available controller in ROOT's and ROOT/porthole's
 * cgroup.subtree_control, making ROOT/porthole. Returns 0, or a negative
 * errno when ROOT is not a cgroup2 mount (services then run without). */
int cgroup_setup(const char *root);

/* Makes ROOT/porthole/NAME (and NAME/service for a delegated one), writes
 * SPEC's limits there and returns in LEAF the directory the process joins.
 * A limit that cannot be written is logged; the service still starts. */
int cgroup_service_prepare(const char *root, const struct service_spec *spec, char *leaf,
			   size_t size);

/* ROOT/porthole/NAME: what is reported, limited and killed. */
void cgroup_service_dir(const char *root, const char *name, char *buf, size_t size);

/* Kills every process in DIR and below (cgroup.kill, Linux 5.14; before
 * that, SIGKILL to each pid in cgroup.procs, recursively). */
int cgroup_kill(const char *dir);
/* Whether DIR or a cgroup below it holds a process (cgroup.events). */
bool cgroup_populated(const char *dir);

struct cgroup_stats {
	int64_t memory_bytes; /* -1: no memory controller */
	int64_t cpu_usec; /* -1: no cpu.stat */
	int64_t oom_kills; /* -1: no memory.events */
};
void cgroup_stats(const char *dir, struct cgroup_stats *st);

/* "oom_kill N" from DIR/memory.events; -1 when there is none. */
int64_t cgroup_oom_kills(const char *dir);

/* Writes "0" to LEAF/cgroup.procs: the calling process joins it. For the
 * child between fork and exec; async-signal-safe. */
int cgroup_join_self(const char *leaf);
