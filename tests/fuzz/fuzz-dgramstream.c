/* libFuzzer target: datagrams framed over a byte stream (lib/dgramstream),
 * what porthole-relay's udp: targets and `porthole forward ports` read from
 * each other. The input is what the peer wrote before closing: it is read
 * through a real stream end (a socket pair, epoll) whose callback refuses
 * some datagrams for a while (-EAGAIN, then dgram_stream_resume), the way a
 * full socket does; part of it comes as the bytes a hand-shake read first.
 * What is delivered is what dgram_frame_next finds in the input, frame by
 * frame, in order, once each; the end says why: 0 after whole frames,
 * -EPROTO for a frame cut short, -EMSGSIZE for a length over DGRAM_MAX. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dgramstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	const uint8_t *in; /* the input after the control byte */
	size_t len, off; /* where the next expected frame starts */
	uint8_t refuse; /* a bit per datagram: refuse it once */
	unsigned n, refused;
	bool held, done;
	int err;
} st;

static int on_datagram(void *data, const uint8_t *buf, size_t len)
{
	const uint8_t *want;
	size_t want_len;
	int r;

	(void)data;
	if (st.done)
		abort();
	if (!st.held && (st.refuse >> (st.n % 8) & 1)) {
		st.held = true;
		st.refused++;
		return -EAGAIN;
	}
	st.held = false;
	r = dgram_frame_next(st.in + st.off, st.len - st.off, &want, &want_len);
	if (r <= 0 || len != want_len || (len && memcmp(buf, want, len) != 0))
		abort();
	st.off += (size_t)r;
	st.n++;
	return 0;
}

static void on_done(void *data, int err)
{
	(void)data;
	if (st.done)
		abort();
	st.done = true;
	st.err = err;
}

static const struct dgram_stream_ops ops = { .datagram = on_datagram, .done = on_done };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dgram_stream *s;
	struct epoll_event ev;
	const uint8_t *d;
	size_t first, dl, whole = 0;
	int sv[2], epfd, r, want;

	/* a unix stream pair takes this much without a reader */
	if (size < 2 || size > 64 * 1024)
		return 0;
	memset(&st, 0, sizeof(st));
	st.in = data + 2;
	st.len = size - 2;
	st.refuse = data[0];
	first = data[1] < st.len ? data[1] : st.len;
	/* what the stream ends with, from the frames alone */
	want = 0;
	for (size_t off = 0; off < st.len;) {
		r = dgram_frame_next(st.in + off, st.len - off, &d, &dl);
		if (r < 0) {
			want = r;
			break;
		}
		if (r == 0) {
			want = -EPROTO;
			break;
		}
		off += (size_t)r;
		whole = off;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (st.len > first &&
	    write(sv[1], st.in + first, st.len - first) != (ssize_t)(st.len - first))
		abort();
	close(sv[1]);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0 || dgram_stream_new(epfd, 7, sv[0], st.in, first, &ops, NULL, &s) < 0)
		abort();
	/* bounded: every turn delivers a frame, ends, or resumes one held */
	for (unsigned turn = 0; !st.done && turn < 100000; turn++) {
		if (st.held) {
			dgram_stream_resume(s);
			continue;
		}
		r = epoll_wait(epfd, &ev, 1, 1000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != 1)
			abort(); /* the stream has nothing to say and has not ended */
		dgram_stream_event(ev.data.ptr, ev.events);
	}
	if (!st.done || st.err != want)
		abort();
	/* every whole frame before the end was delivered */
	if (st.off != (want == 0 ? st.len : whole))
		abort();
	dgram_stream_reap();
	close(epfd);
	return 0;
}
