/* When a starting service is ready: the probes of its `ready` key (a file
 * that exists, a unix socket that accepts, an HTTP GET answered with 200)
 * at growing intervals, and the notification fd it writes a line to (s6's
 * notification-fd). What being ready changes is service.c's. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "service.h"

#define SERVICE_PROBE_FIRST_MS 5 /* the first probe, after the start; */
#define SERVICE_PROBE_MAX_MS 200 /* the interval doubles up to this */
#define SERVICE_PROBE_HTTP_MS 2000 /* one HTTP probe's time-out */

/* SV started at NOW (the ops' clock): the first probe is due in
 * SERVICE_PROBE_FIRST_MS; notify and none have none. */
void service_ready_begin(struct services *ss, struct service *sv, uint64_t now);

/* Runs SV's probe when it is due at NOW and schedules the next. True when
 * it says ready now; an HTTP answer comes later, through the loop, and
 * calls service_ready itself. */
bool service_ready_poll(struct services *ss, struct service *sv, uint64_t now);

/* Watches FD, the read end of SV's notification pipe: a line on it is
 * ready. FD is SV's (closed with it) from here on, watched or not. */
void service_ready_watch_notify(struct services *ss, struct service *sv, int fd);

/* Ready or gone: the probe in flight and the notification fd are closed. */
void service_ready_end(struct services *ss, struct service *sv);
