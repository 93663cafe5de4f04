/* Splitting a byte stream into JSON values, as qemu-ga's JSON streamer does:
 * by brace and bracket balance outside strings, not by newlines. Bounded:
 * a value longer than the limit, or nested deeper, is dropped while it goes
 * by and reported once; 0xFF (never valid in JSON) resets everything. The
 * agent frames requests with it, the host client replies; parsing a value
 * (jansson) and what a value means are theirs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define JSONSTREAM_DEPTH_MAX 1024

enum jsonstream_event {
	JSONSTREAM_VALUE, /* a complete top-level value: DATA, LEN */
	JSONSTREAM_RESYNC, /* 0xFF: the state was reset; PARTIAL tells if input was dropped */
	JSONSTREAM_TOO_LONG, /* a value over the limit went by and was dropped */
	JSONSTREAM_TOO_DEEP, /* a value nested deeper than JSONSTREAM_DEPTH_MAX was dropped */
};

struct jsonstream_item {
	enum jsonstream_event event;
	const char *data; /* JSONSTREAM_VALUE: the value's bytes, valid during the callback */
	size_t len;
	bool partial; /* JSONSTREAM_RESYNC: a value had begun and was dropped */
};

/* Returns false to stop consuming input (the caller resumes with the rest). */
typedef bool (*jsonstream_fn)(void *user, const struct jsonstream_item *item);

struct jsonstream {
	char *buf;
	size_t len, cap, max;
	unsigned depth_max;
	size_t depth; /* counted past depth_max too, while dropping */
	bool in_string;
	bool escape;
	bool scalar; /* a bare top-level scalar (number, literal) is going by */
	bool dropping; /* the value is over a limit: not stored */
	bool too_deep;
	bool recovering; /* after 0xFF: skipping to a structural byte, as qemu-ga's lexer */
};

/* MAX is the longest value kept (bytes). */
int jsonstream_init(struct jsonstream *s, size_t max);
void jsonstream_free(struct jsonstream *s);

/* Feeds N bytes; calls FN for each event. Returns the number of bytes
 * consumed (less than N when FN returned false), or -ENOMEM. */
long jsonstream_feed(struct jsonstream *s, const char *data, size_t n, jsonstream_fn fn,
		     void *user);

/* True when part of a value is buffered (used by idle handling and tests). */
bool jsonstream_pending(const struct jsonstream *s);
/* True while a value over the length limit is going by: it is reported as
 * JSONSTREAM_TOO_LONG only when it ends, and a reader that will not wait for
 * that end (the host, whose peer may never end it) can tell now. */
bool jsonstream_over_limit(const struct jsonstream *s);
/* Drops the value under way, as if it had never begun, without an event.
 * Returns how many of its bytes were kept. */
size_t jsonstream_reset(struct jsonstream *s);
