/* Where requests come from: a vsock listener, the virtio-serial ports and a
 * unix socket, all in the agent's one event loop. Each connection has its own
 * stream parser and bounded input and output, so a slow, silent or hostile
 * client never holds up another. */
#pragma once

#include <stdint.h>

#include "agent.h"

/* Opens the listeners and ports the configuration asks for. A transport that
 * cannot be opened is logged; -ENODEV when none could be. */
int transport_start(struct agent *a);

/* Connections open now, and those refused over agent.max_clients since
 * the agent started (porthole-health). */
unsigned transport_clients(void);
uint64_t transport_refused(void);
/* Connections refused at accept for who they came from (a vsock CID not in
 * agent.vsock_cids, a unix uid not root nor in agent.unix_uids). */
uint64_t transport_refused_peers(void);

/* Sends what is owed (for a second at most), then closes everything. */
void transport_stop(struct agent *a);

struct reply;
/* Queues REPLY (or nothing, when NULL) on connection ORIGIN, which waited for
 * an asynchronous command, and lets it read its next request. Nothing
 * happens when the connection has gone. */
void transport_deliver(uint64_t origin, const struct reply *reply);
