/* Reaching the guest's porthole-relay without blocking the forwarder's
 * loop: connect(2) to the relay's address (vsock; the hybrid vsock unix
 * socket and its "CONNECT <port>" hand-shake; or a relay's own unix socket,
 * for tests), then the relay's "CONNECT <target>" line and its answer,
 * within a deadline, driven by the caller's epoll loop. What then flows on
 * the connection is the caller's (lib/relay, lib/dgramstream). Shared by
 * `porthole forward docker` and `porthole forward ports`. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "client-addr.h"

/* The longest answer line read (the relay's "ERR <why>" is shorter). */
#define FORWARD_DIAL_LINE_MAX 256

/* What an epoll registration of a dial points to: its first member is this
 * tag, which the caller's loop uses to tell a dial's events. */
struct forward_dial_end {
	int tag;
};

struct forward_dial;

struct forward_dial_result {
	int fd; /* the connection (non-blocking, the caller's), or -errno */
	const char *why; /* when fd < 0: what went wrong, for a message */
	/* bytes that came after the relay's "OK\n": the target's, first */
	const uint8_t *rest;
	size_t rest_len;
};

/* Called once, unless the dial is cancelled first. */
typedef void (*forward_dial_fn)(const struct forward_dial_result *res, void *data);

/* Starts connecting to RELAY and asking for TARGET ("tcp:127.0.0.1:80"),
 * registering the socket in EPFD with TAG; DONE gets the result within
 * TIMEOUT_MS (checked by forward_dial_timers), never before this returns.
 * -errno when it cannot start (DONE is not called then). */
int forward_dial_start(int epfd, int tag, const struct client_addr *relay, const char *target,
		       unsigned timeout_ms, forward_dial_fn done, void *data,
		       struct forward_dial **ret);
/* An epoll event for a dial's socket. */
void forward_dial_event(struct forward_dial_end *end, uint32_t events);
/* Ends the dials whose time is up (DONE with -ETIMEDOUT); returns the
 * milliseconds until the next deadline, -1 when no dial is under way. */
int forward_dial_timers(void);
/* Gives it up: its socket closed, DONE not called. */
void forward_dial_cancel(struct forward_dial *d);
/* Frees the dials that have ended: after a whole batch of events. */
void forward_dial_reap(void);
