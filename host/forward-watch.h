/* `porthole forward ports`' view of the guest's ports: a thread that
 * long-polls porthole-ports on a connection of its own (the client library
 * blocks, and the forwarder's loop must not), connecting again with a
 * bounded backoff when the agent goes away (a VM stopped or rebooting), and
 * hands what it learns to the loop through an eventfd. It says on stderr
 * what goes wrong, once per reason, and on stdout each time it (again)
 * follows the guest's ports. What a set means is the loop's. */
#pragma once

#include <stdbool.h>

#include "client-addr.h"
#include "forward-ports.h"

/* One long poll: an idle guest's agent answers this often. */
#define FORWARD_WATCH_POLL_MS 50000
/* Between attempts to reach the agent: doubling from the first, at most
 * the second. */
#define FORWARD_WATCH_BACKOFF_FIRST_MS 500
#define FORWARD_WATCH_BACKOFF_MAX_MS 10000

/* Starts the thread asking AGENT, each connect and reply bounded by
 * TIMEOUT_MS (beyond the long poll's own wait). Block the signals first:
 * the thread inherits the mask. *RET_FD is readable when there is news
 * (forward_watch_take). -errno when it cannot start. */
int forward_watch_start(const struct client_addr *agent, int timeout_ms, int *ret_fd);
/* The news since the last call: the newest set (*RET_SET, the caller's to
 * free; NULL when none came), and whether the agent went away after it. */
void forward_watch_take(struct forward_port_set **ret_set, bool *ret_lost);
/* Stops the thread: its long poll cut short by a shutdown of its socket, a
 * connect under way bounded by TIMEOUT_MS; waited for at most 2 s. */
void forward_watch_stop(void);
