/* Trim after deletes: the container engine's event stream (GET /events on
 * its API socket, agent.engine_socket) watched for the deletes that free
 * space on the data disk (images, containers, volumes, the prunes), and one
 * trim of the data disk asked for a few seconds after the last of a burst
 * (agent.trim_after_delete). The trim itself is cmd-fs.c's (fs_trim_soon);
 * the engine is init's. Exported for the tests: the reply's parser (HTTP
 * status and headers, chunked transfer coding, one JSON object per event)
 * and the burst's arithmetic, both without I/O. docs/memory.md says why. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "jsonstream.h"

/* The reply's status line and headers, all together: dockerd's are ~250
 * bytes */
#define ENGINE_HEADERS_MAX (8 << 10)
/* One chunk-size line (hex digits, extensions): RFC 9112 7.1 lets it be
 * any length; dockerd's are a few bytes */
#define ENGINE_CHUNK_LINE_MAX 256
/* One event's JSON: dockerd's are ~0.5 KiB, more with many labels; a longer
 * one is skipped with a warning and the stream goes on */
#define ENGINE_EVENT_MAX (64 << 10)
/* A burst's trim comes this long after its first delete at the latest, so
 * that a steady stream of deletes still trims (or after
 * agent.trim_after_delete, when that is longer) */
#define ENGINE_TRIM_LATEST_MS 60000
/* Reconnecting while the engine is not there (not started yet, restarting,
 * or an image without one): the wait doubles from the first to the last */
#define ENGINE_RETRY_FIRST_MS 1000
#define ENGINE_RETRY_MAX_MS 60000

/* What the agent asks dockerd for: its deletes and prunes only (the types
 * and actions engine_event_frees knows), so that a busy engine's other
 * events (start, die, exec, network) never wake the agent. Not versioned:
 * every API version since 1.22 has these names. */
#define ENGINE_EVENTS_REQUEST                                                            \
	"GET /events?filters="                                                           \
	"%7B%22type%22%3A%5B%22container%22%2C%22image%22%2C%22volume%22%5D%2C"          \
	"%22event%22%3A%5B%22delete%22%2C%22destroy%22%2C%22prune%22%5D%7D HTTP/1.1\r\n" \
	"Host: docker\r\nUser-Agent: porthole-agent\r\n\r\n"

/* The static text naming what an event with TYPE and ACTION (the event's
 * "Type" and "Action") frees ("image delete"), or NULL when it frees
 * nothing on the disk (an untag that leaves the image, a network prune). */
const char *engine_event_frees(const char *type, const char *action);

enum engine_stream_state {
	ENGINE_STREAM_HEADERS,
	ENGINE_STREAM_CHUNK_SIZE,
	ENGINE_STREAM_CHUNK_DATA,
	ENGINE_STREAM_CHUNK_END, /* the CRLF after a chunk's data */
	ENGINE_STREAM_BODY, /* no chunked coding: the body runs to the end */
	ENGINE_STREAM_DONE,
};

struct engine_stream {
	enum engine_stream_state state;
	char line[ENGINE_CHUNK_LINE_MAX]; /* a header or chunk-size line so far */
	size_t line_len;
	size_t headers_len; /* bytes of the headers so far */
	int status; /* the HTTP status, 0 until read */
	bool chunked;
	uint64_t chunk_left;
	bool long_line; /* a header line over the line buffer is going by */
	struct jsonstream js;
	uint64_t events, frees, skipped; /* counted for the log */
};

/* Called for each event that frees space, with engine_event_frees' text. */
typedef void (*engine_event_fn)(void *user, const char *what);

int engine_stream_init(struct engine_stream *s);
void engine_stream_free(struct engine_stream *s);
/* Feeds N bytes of dockerd's reply, from its first byte; calls FN for each
 * event that frees space (an event over ENGINE_EVENT_MAX, or not JSON, is
 * skipped with a warning). Returns 0 while the stream goes on, 1 when it
 * ended (the last chunk), -EPROTO when it is not an HTTP reply this parser
 * reads (WHY says what), -EREMOTEIO for a status other than 200 (WHY has
 * the status line), -ENOMEM. After an error nothing more may be fed. */
int engine_stream_feed(struct engine_stream *s, const char *data, size_t n, engine_event_fn fn,
		       void *user, char *why, size_t why_size);

/* A burst of deletes: noted as they come, trimmed once when due. */
struct engine_burst {
	bool pending;
	uint64_t first_ns, last_ns; /* CLOCK_MONOTONIC */
	unsigned deletes;
	const char *what; /* the first delete's engine_event_frees text */
};

/* A delete at NOW_NS. */
void engine_burst_note(struct engine_burst *b, uint64_t now_ns, const char *what);
/* When the pending burst's trim is due: DELAY_MS after its last delete, or
 * ENGINE_TRIM_LATEST_MS (DELAY_MS if longer) after its first, whichever
 * comes first. */
uint64_t engine_burst_due_ns(const struct engine_burst *b, unsigned delay_ms);

/* What the watcher calls when a burst is due: fs_trim_soon's reason
 * "after delete" in the agent; the tests' own. */
typedef void (*engine_trim_fn)(struct agent *a, const struct engine_burst *b);

/* Watches agent.engine_socket on A's loop when agent.trim_after_delete,
 * agent.engine_socket and agent.data_mount are all set (not in a sandbox,
 * whose data is the host's): connects, and again on a bounded backoff
 * while the engine is not there. TRIM NULL: fs_trim_soon. */
void engine_events_start(struct agent *a, engine_trim_fn trim);
void engine_events_stop(struct agent *a);
