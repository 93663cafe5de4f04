/* Datagrams over a byte stream: each one a 2-byte big-endian length and
 * that many bytes, at most DGRAM_MAX (the largest UDP payload over IPv4).
 * The stream's end of a UDP relay: porthole-relay's udp: targets and the
 * host's `porthole forward ports` carry each flow's datagrams this way
 * (docs/relay.md). The stream fd is registered in the caller's epoll set
 * and read and written here; the datagram socket is the caller's: each
 * datagram read from the stream goes to its callback, and the caller hands
 * those to send to dgram_stream_send. Non-blocking fds; one thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DGRAM_MAX 65507
#define DGRAM_HEADER 2
#define DGRAM_FRAME_MAX (DGRAM_HEADER + DGRAM_MAX)
/* What waits to be written to the stream: two frames of the largest size.
 * What is read from it is at most one frame. */
#define DGRAM_STREAM_OUT_SIZE (2 * DGRAM_FRAME_MAX)

/* Writes the frame of the LEN bytes at BUF (LEN <= DGRAM_MAX) to DST,
 * which has room for DGRAM_HEADER + LEN; returns that size. */
size_t dgram_frame_put(uint8_t *dst, const void *buf, size_t len);
/* The first frame of the LEN bytes at BUF: its size (> 0), with its
 * datagram in *RET_DATA and *RET_LEN; 0 when BUF holds only a beginning;
 * -EMSGSIZE when its length is over DGRAM_MAX. */
int dgram_frame_next(const uint8_t *buf, size_t len, const uint8_t **ret_data, size_t *ret_len);

/* What an epoll registration of the stream points to: its first member is
 * this tag, which the caller's loop uses to tell the stream's events. */
struct dgram_stream_end {
	int tag;
};

struct dgram_stream;

struct dgram_stream_ops {
	/* A datagram read from the stream. 0: taken (sent, or dropped);
	 * -EAGAIN: not now: the stream is not read until dgram_stream_resume,
	 * which offers it again. */
	int (*datagram)(void *data, const uint8_t *buf, size_t len);
	/* There is room for a datagram of any size again, after
	 * dgram_stream_room said there was not. May be NULL. */
	void (*room)(void *data);
	/* Called once when the stream has ended, its fd closed: ERR 0 at its
	 * EOF (what was still to be written is dropped), -EMSGSIZE for a frame
	 * longer than DGRAM_MAX, -EPROTO for one cut short by the EOF,
	 * -ECANCELED from dgram_stream_abort, or the -errno of a failing
	 * call. The stream itself is freed by dgram_stream_reap. */
	void (*done)(void *data, int err);
};

/* Takes the stream FD (non-blocking; closed when the stream ends) and
 * registers it in EPFD with TAG. FIRST, if any, are bytes already read
 * from it (what came with a hand-shake): frames like the rest, delivered
 * at its first event: no callback runs before this returns. -errno, with
 * FD closed, when it cannot. */
int dgram_stream_new(int epfd, int tag, int fd, const void *first, size_t first_len,
		     const struct dgram_stream_ops *ops, void *data, struct dgram_stream **ret);

/* Queues a datagram for the stream. 0; -EMSGSIZE over DGRAM_MAX; -ENOBUFS
 * when the queue has no room for it now (UDP: the caller drops it). Never
 * calls the callbacks. */
int dgram_stream_send(struct dgram_stream *s, const void *buf, size_t len);
/* Whether a datagram of any size fits in the queue now; when it does not,
 * ops->room is called once it does. */
bool dgram_stream_room(struct dgram_stream *s);
/* Offers the datagram the callback refused with -EAGAIN again, and reads
 * the stream on: the callbacks may run, done included. */
void dgram_stream_resume(struct dgram_stream *s);

/* An epoll event for the stream (the dgram_stream_end the event carries). */
void dgram_stream_event(struct dgram_stream_end *end, uint32_t events);
/* Ends it now: the fd closed, DONE called with -ECANCELED. */
void dgram_stream_abort(struct dgram_stream *s);
/* Frees the streams that have ended. Call it after a whole batch of epoll
 * events, never in the middle (lib/relay.h's relay_reap, the same way). */
void dgram_stream_reap(void);
