/* /run/porthole/init.sock: the agent asks init for service states, logs,
 * events, restarts and shutdown. One JSON object per line each way; root
 * only; bounded in connections, request size and idle time. docs/control.md
 * is the protocol. */
#pragma once

#include <jansson.h>

#include "service.h"
#include "supervise.h"

#define CONTROL_SOCKET "/run/porthole/init.sock"
#define CONTROL_CONNS_MAX 8
#define CONTROL_LINE_MAX 4096
#define CONTROL_IDLE_S 60

/* Listens on PATH (made 0600, its directory 0755); logs and returns a
 * negative errno when it cannot: init runs on without it. */
int control_start(struct supervisor *sup, struct services *ss, const char *path);

/* The reply to one request LINE (without its newline), as the socket sends
 * it but for the newline: a new reference, never NULL but out of memory.
 * After control_start; what the socket does with each line it reads, and
 * what the fuzzer (tests/fuzz/fuzz-control.c) reaches without a socket. */
json_t *control_handle(const char *line);
