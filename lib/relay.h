/* Two stream sockets joined both ways, in the caller's epoll set: what one
 * sends the other receives, each direction through a bounded buffer, and
 * each side's end of sending (EOF) passed on as a shutdown of writing, so
 * that half-closed protocols (an HTTP client that shuts down after its
 * request, docker's attach) work through it. Used by the guest's
 * porthole-relay and the host's forwarders. Non-blocking fds; one thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Each direction's buffer: read only when empty, so a slow reader makes
 * the relay stop reading its writer, never buffer without bound. */
#define RELAY_BUF_SIZE (64 * 1024)

/* What an epoll registration of a relay's fd points to: its first member
 * is this tag, which the caller's loop uses to tell relays' events from
 * its own. */
struct relay_end {
	int tag;
};

struct relay;

struct relay_stats {
	uint64_t bytes[2]; /* from fd A to B, from B to A */
};

/* Called once when the relay has ended (both directions done, or an
 * error: ERR is 0 or -errno of the failing call), after both fds were
 * closed. The relay itself is freed by relay_reap. */
typedef void (*relay_done_fn)(struct relay *r, int err, const struct relay_stats *st, void *data);

/* Joins A and B (taken: closed when the relay ends), registering both in
 * EPFD with TAG in their relay_end. FIRST, if any, is sent to B before
 * anything read from A (bytes that came with a hand-shake). -errno, with A
 * and B closed, when it cannot. */
int relay_new(int epfd, int tag, int a, int b, const void *first, size_t first_len,
	      relay_done_fn done, void *data, struct relay **ret);

/* An epoll event for an fd of a relay (the relay_end the event carries). */
void relay_event(struct relay_end *end, uint32_t events);

/* Ends it now: both fds closed, DONE called with -ECANCELED. */
void relay_abort(struct relay *r);

/* Frees the relays that have ended. Call it after handling a whole batch
 * of epoll events, never in the middle: an event queued for a relay that
 * ended earlier in the batch finds it marked, not freed. */
void relay_reap(void);
