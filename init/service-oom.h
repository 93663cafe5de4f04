/* OOM kills in a service's cgroup: memory.events watched through inotify,
 * each rise of its oom_kill count logged, noted in the service's log and
 * posted as an event. Where the count is read is cgroup.c's. */
#pragma once

#include "service.h"

/* The inotify fd, watched in SS's loop; without it OOM kills go unnoticed
 * (said). Returns 0 or -errno. */
int service_oom_start(struct services *ss);

/* Watches SV's memory.events once its cgroup exists (after a start);
 * kills counted before are not reported. */
void service_oom_watch(struct services *ss, struct service *sv);

/* Reads SV's count now and reports a rise: what an inotify event leads to. */
void service_oom_check(struct services *ss, struct service *sv);
