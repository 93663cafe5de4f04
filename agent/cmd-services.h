/* What porthole-services, porthole-logs and porthole-events take from init's
 * replies (docs/control.md): each known member checked for its type and
 * copied, unknown ones left out. Exported for the unit tests and for
 * cmd-health.c and cmd-clock.c, which ask init too. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct agent;

#define SERVICES_LOG_LINES_DEFAULT 100
#define SERVICES_LOG_LINES_MAX 10000
/* the kernel's lines in one reply, as init cuts a service's */
#define SERVICES_KERNEL_BYTES_MAX (1 << 20)

/* The "services" array of init's {"op": "services"} reply, checked: a new
 * array in *RET. -EPROTO with WHY ("services[2].pid: expected an integer
 * or null") when a member has the wrong type or a required one is missing. */
int cmd_services_from_init(json_t *reply, json_t **ret, char *why, size_t why_size);
/* {"lines": [{"time", "stream", "text"}], "dropped"} from init's logs reply. */
int logs_from_init(json_t *reply, json_t **ret, char *why, size_t why_size);
/* The events and "next" of init's events reply. */
int events_from_init(json_t *reply, json_t **ret_events, int64_t *ret_next, char *why,
		     size_t why_size);

/* Asks init at INIT_SOCKET (the agent's init_socket) for its services,
 * checked as above; it blocks (initctl's bound), so a worker's job calls
 * it, never the loop. On failure, WHY says what failed: init's socket or
 * its reply. */
int cmd_services_list(const char *init_socket, json_t **ret, char *why, size_t why_size);
/* Asks init at INIT_SOCKET for the events after AFTER (blocking, as
 * cmd_services_list). */
int cmd_services_events(const char *init_socket, int64_t after, json_t **ret_events,
			int64_t *ret_next, char *why, size_t why_size);

/* The kernel's log from FD (/dev/kmsg, non-blocking): the last LINES lines
 * at or after SINCE as {"lines": [{"time", "stream": "kernel", "level",
 * "text"}], "dropped"}. */
int cmd_services_kernel_log(int fd, int64_t lines, double since, json_t **ret, char *why,
			    size_t why_size);
