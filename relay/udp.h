/* porthole-relay's udp: targets: the client's stream and a UDP socket
 * connected to the target, joined through lib/dgramstream: each frame the
 * client sends is one datagram to the target, each datagram the target
 * sends back one frame to the client. The stream's end (its EOF, a bad
 * frame, an error) ends it; an idle time-out is the host's business. The
 * CONNECT line and the sockets' creation are main.c's. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct relay_udp;

struct relay_udp_stats {
	uint64_t to_target, from_target; /* datagrams */
	uint64_t dropped; /* that the target's socket refused, or too long for a frame */
};

/* Called once when it has ended (ERR as dgramstream.h's done says), both
 * fds closed; the relay_udp is freed by relay_udp_reap. */
typedef void (*relay_udp_done_fn)(int err, const struct relay_udp_stats *st, void *data);

/* Joins the client's STREAM and the connected datagram socket UDP (both
 * non-blocking, taken: closed when it ends), in EPFD: the stream with
 * TAG_STREAM (its events go to dgram_stream_event), the UDP socket with
 * TAG_UDP (relay_udp_event). FIRST: bytes that came after the CONNECT
 * line. -errno, both fds closed, when it cannot. */
int relay_udp_new(int epfd, int tag_stream, int tag_udp, int stream, int udp, const void *first,
		  size_t first_len, relay_udp_done_fn done, void *data);

/* An epoll event for the UDP socket: the registration points to the
 * relay_udp, whose first member is TAG_UDP. */
void relay_udp_event(void *tagged, uint32_t events);

/* Frees the ones that have ended: after a whole batch of events, as
 * dgram_stream_reap (which the caller also calls). */
void relay_udp_reap(void);
