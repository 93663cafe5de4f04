/* porthole-health's judgement of init's services, exported for the tests. */
#pragma once

#include <jansson.h>

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
