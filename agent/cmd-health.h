/* porthole-health's judgement of init's services and of their cgroups'
 * memory, exported for the tests. */
#pragma once

#include <jansson.h>
#include <stdint.h>

enum health_status {
	HEALTH_OK,
	HEALTH_STARTING, /* the engine has not been ready yet in this boot */
	HEALTH_DEGRADED,
};

/* Judges SERVICES (porthole-services' entries): appends a reason to REASONS
 * for each service that is failed, in backoff, stopped after a failure, or
 * not ready after having been; sets *RET_ENGINE (a new object, or NULL when
 * there is no dockerd) and returns the status the services alone give, or
 * -ENOMEM. */
int health_judge_services(json_t *services, json_t *reasons, json_t **ret_engine);

const char *health_status_name(enum health_status s);

/* A disk's use in percent as df(1) shows it: used over used + available,
 * rounded up. The only place the figure is computed. */
int health_disk_used_percent(unsigned long long used, unsigned long long avail);

/* Where init's services' cgroups are ("cgroup" in porthole-services is
 * relative to it). */
#define HEALTH_CGROUP_ROOT "/sys/fs/cgroup"
/* How long a rise of a cgroup's OOM counters stays a reason. */
#define HEALTH_OOM_RECENT_NS (30ull * 1000000000ull)
/* Services whose OOM counters are remembered; init has fewer (SERVICES_MAX). */
#define HEALTH_OOM_SERVICES_MAX 64

struct health_oom_seen {
	char name[64]; /* "" for a free slot */
	int64_t ooms, kills; /* memory.events' oom and oom_kill when last read */
	int64_t rise_kills; /* kills since the rise that began the current spell */
	uint64_t last_rise_ns; /* CLOCK_MONOTONIC; 0: never rose */
};
struct health_oom_table {
	struct health_oom_seen seen[HEALTH_OOM_SERVICES_MAX];
};

/* Judges service NAME's cgroup DIR: appends a reason to REASONS when its
 * working set (memory.current less memory.stat's inactive_file) is at 90% of
 * memory.max or more, and one when memory.events' oom or oom_kill rose
 * within HEALTH_OOM_RECENT_NS of NOW_NS (T remembers the counters; the first
 * sight of NAME is its baseline). Returns how many reasons it added (0 to 2;
 * 0 also when DIR has no memory files), or -ENOMEM. Reads four small files. */
int health_judge_cgroup(struct health_oom_table *t, const char *name, const char *dir,
			uint64_t now_ns, json_t *reasons);

/* A data disk that init found but did not mount (a failed check, another
 * file system, a failed mount) is recorded by init in this file, one line
 * (init/storage.c). */
#define HEALTH_DATA_DISK_ERROR "/run/porthole/data-disk.error"
/* For a data mount that is not mounted: when PATH holds init's line, sets
 * DISK's "note" to "data disk not mounted: LINE", appends the same to
 * REASONS and returns 1; 0 when there is no such file (no data disk: a way
 * to run, not a fault); -ENOMEM. */
int health_judge_data_disk(const char *path, json_t *disk, json_t *reasons);
