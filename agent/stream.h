/* Splitting a byte stream into JSON values, as qemu-ga's JSON streamer does:
 * by brace and bracket balance outside strings, not by newlines. Bounded:
 * a value longer than the limit, or nested deeper, is dropped while it goes
 * by and reported once; 0xFF (never valid in JSON) resets everything. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define STREAM_DEPTH_MAX 1024

enum stream_event {
	STREAM_VALUE, /* a complete top-level value: DATA, LEN */
	STREAM_RESYNC, /* 0xFF: the state was reset; PARTIAL tells if input was dropped */
	STREAM_TOO_LONG, /* a value over the limit went by and was dropped */
	STREAM_TOO_DEEP, /* a value nested deeper than STREAM_DEPTH_MAX was dropped */
};

struct stream_item {
	enum stream_event event;
	const char *data; /* STREAM_VALUE: the value's bytes, valid during the callback */
	size_t len;
	bool partial; /* STREAM_RESYNC: a value had begun and was dropped */
};

/* Returns false to stop consuming input (the caller resumes with the rest). */
typedef bool (*stream_fn)(void *user, const struct stream_item *item);

struct stream {
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
int stream_init(struct stream *s, size_t max);
void stream_free(struct stream *s);

/* Feeds N bytes; calls FN for each event. Returns the number of bytes
 * consumed (less than N when FN returned false), or -ENOMEM. */
long stream_feed(struct stream *s, const char *data, size_t n, stream_fn fn, void *user);

/* True when part of a value is buffered (used by idle handling and tests). */
bool stream_pending(const struct stream *s);
