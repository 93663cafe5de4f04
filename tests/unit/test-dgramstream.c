/* lib/dgramstream.c: datagrams framed over a stream, between a socketpair
 * and a real UDP socket on 127.0.0.1, as porthole-relay joins them: the
 * boundaries kept both ways (empty and largest datagrams included), frames
 * cut across reads, the hand-shake's bytes first, a length over the limit,
 * the stream's EOF (and one in the middle of a frame), a peer that hangs
 * up, a callback that cannot take a datagram yet, and a reader so slow
 * that the queue fills. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dgramstream.h"

enum { TAG_STREAM = 1, TAG_UDP };

struct rig {
	int epfd;
	int peer; /* the test's end of the stream */
	int u; /* the relay's UDP socket, connected to target */
	int target; /* the test's UDP socket on 127.0.0.1 */
	struct dgram_stream *s;
	int ended, err;
	unsigned refuse; /* the callback says -EAGAIN this many times */
	unsigned offered, taken, rooms;
	bool reading_u;
};

static int tag_udp = TAG_UDP;

static int on_datagram(void *data, const uint8_t *buf, size_t len)
{
	struct rig *r = data;

	r->offered++;
	if (r->refuse) {
		r->refuse--;
		return -EAGAIN;
	}
	assert_int_equal(send(r->u, buf, len, 0), (ssize_t)len);
	r->taken++;
	return 0;
}

static void on_room(void *data)
{
	((struct rig *)data)->rooms++;
}

static void on_done(void *data, int err)
{
	struct rig *r = data;

	r->ended++;
	r->err = err;
}

static const struct dgram_stream_ops ops = { on_datagram, on_room, on_done };

static void nonblock(int fd)
{
	assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
}

static void rig_new(struct rig *r, const void *first, size_t first_len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int sp[2];

	memset(r, 0, sizeof(*r));
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(r->epfd >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	nonblock(sp[1]);
	r->peer = sp[0];
	r->target = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind(r->target, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(r->target, (struct sockaddr *)&sa, &len), 0);
	r->u = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_int_equal(connect(r->u, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(
		epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->u,
			  &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &tag_udp }),
		0);
	r->reading_u = true;
	assert_int_equal(
		dgram_stream_new(r->epfd, TAG_STREAM, sp[1], first, first_len, &ops, r, &r->s), 0);
}

static void rig_free(struct rig *r)
{
	if (!r->ended)
		dgram_stream_abort(r->s);
	dgram_stream_reap();
	close(r->peer);
	close(r->u);
	close(r->target);
	close(r->epfd);
}

/* One round of the loop, at most MS: the relay's side of the test. */
static void spin(struct rig *r, int ms)
{
	struct epoll_event ev[8];
	int n = epoll_wait(r->epfd, ev, 8, ms);

	for (int i = 0; i < n; i++) {
		int tag = *(int *)ev[i].data.ptr;

		if (tag == TAG_STREAM) {
			dgram_stream_event(ev[i].data.ptr, ev[i].events);
			continue;
		}
		/* the UDP socket: its datagrams into the stream while there is room */
		while (r->reading_u && !r->ended) {
			uint8_t buf[DGRAM_MAX];
			ssize_t k;

			if (!dgram_stream_room(r->s))
				break;
			k = recv(r->u, buf, sizeof(buf), MSG_DONTWAIT);
			if (k < 0)
				break;
			assert_int_equal(dgram_stream_send(r->s, buf, (size_t)k), 0);
		}
	}
	dgram_stream_reap();
}

static void spin_until(struct rig *r, bool (*cond)(struct rig *r))
{
	for (int i = 0; i < 200 && !cond(r); i++)
		spin(r, 20);
	assert_true(cond(r));
}

static bool ended(struct rig *r)
{
	return r->ended > 0;
}

static void write_frame(int fd, const void *buf, size_t len)
{
	static uint8_t f[DGRAM_FRAME_MAX];
	size_t n = dgram_frame_put(f, buf, len);

	assert_int_equal(write(fd, f, n), (ssize_t)n);
}

/* The next datagram at the target, LEN bytes equal to WANT. */
static void expect_at_target(struct rig *r, const void *want, size_t len)
{
	static uint8_t buf[DGRAM_MAX + 1];
	ssize_t k;

	for (int i = 0; i < 200; i++) {
		k = recv(r->target, buf, sizeof(buf), MSG_DONTWAIT);
		if (k >= 0)
			break;
		spin(r, 20);
	}
	assert_int_equal(k, (ssize_t)len);
	assert_memory_equal(buf, want, len);
}

/* The next frame from the stream, LEN bytes equal to WANT. */
static void expect_frame(struct rig *r, const void *want, size_t len)
{
	static uint8_t buf[DGRAM_FRAME_MAX];
	size_t have = 0, need = DGRAM_HEADER;

	for (int i = 0; i < 400 && have < need; i++) {
		ssize_t k = recv(r->peer, buf + have, need - have, MSG_DONTWAIT);

		if (k > 0)
			have += (size_t)k;
		else
			spin(r, 20);
		if (have == DGRAM_HEADER && need == DGRAM_HEADER)
			need += (size_t)buf[0] << 8 | buf[1];
	}
	assert_int_equal(have, need);
	assert_int_equal(need - DGRAM_HEADER, len);
	assert_memory_equal(buf + DGRAM_HEADER, want, len);
}

static void test_frames(void **state)
{
	uint8_t f[DGRAM_FRAME_MAX + 1];
	const uint8_t *d;
	size_t n;

	(void)state;
	assert_int_equal(dgram_frame_put(f, "abc", 3), 5);
	assert_int_equal(f[0], 0);
	assert_int_equal(f[1], 3);
	assert_int_equal(dgram_frame_next(f, 1, &d, &n), 0);
	assert_int_equal(dgram_frame_next(f, 4, &d, &n), 0);
	assert_int_equal(dgram_frame_next(f, 6, &d, &n), 5);
	assert_int_equal(n, 3);
	assert_memory_equal(d, "abc", 3);
	/* an empty datagram is one */
	assert_int_equal(dgram_frame_put(f, NULL, 0), 2);
	assert_int_equal(dgram_frame_next(f, 2, &d, &n), 2);
	assert_int_equal(n, 0);
	/* the largest, big-endian, and one byte more refused */
	memset(f, 0x5a, sizeof(f));
	assert_int_equal(dgram_frame_put(f, f + 2, DGRAM_MAX), DGRAM_FRAME_MAX);
	assert_int_equal(f[0], 0xff);
	assert_int_equal(f[1], 0xe3);
	assert_int_equal(dgram_frame_next(f, DGRAM_FRAME_MAX, &d, &n), DGRAM_FRAME_MAX);
	f[1] = 0xe4;
	assert_int_equal(dgram_frame_next(f, 2, &d, &n), -EMSGSIZE);
}

static void test_to_udp(void **state)
{
	static uint8_t big[DGRAM_MAX];
	uint8_t two[64];
	size_t n;
	struct rig r;

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	rig_new(&r, NULL, 0);
	/* two frames in one write, each its own datagram */
	n = dgram_frame_put(two, "hello", 5);
	n += dgram_frame_put(two + n, "world!", 6);
	assert_int_equal(write(r.peer, two, n), (ssize_t)n);
	expect_at_target(&r, "hello", 5);
	expect_at_target(&r, "world!", 6);
	write_frame(r.peer, NULL, 0);
	expect_at_target(&r, "", 0);
	/* the largest, across many reads: one byte, then the rest in pieces */
	n = dgram_frame_put(two, NULL, 0);
	two[0] = 0xff;
	two[1] = 0xe3;
	assert_int_equal(write(r.peer, two, 1), 1);
	spin(&r, 20);
	assert_int_equal(write(r.peer, two + 1, 1), 1);
	for (size_t off = 0; off < sizeof(big); off += 10000) {
		size_t k = sizeof(big) - off < 10000 ? sizeof(big) - off : 10000;

		assert_int_equal(write(r.peer, big + off, k), (ssize_t)k);
		spin(&r, 5);
	}
	expect_at_target(&r, big, sizeof(big));
	assert_int_equal(r.ended, 0);
	rig_free(&r);
}

static void test_from_udp(void **state)
{
	static uint8_t big[DGRAM_MAX];
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct rig r;

	(void)state;
	memset(big, 0xa5, sizeof(big));
	rig_new(&r, NULL, 0);
	assert_int_equal(getsockname(r.u, (struct sockaddr *)&sa, &len), 0);
	assert_int_equal(sendto(r.target, "pong", 4, 0, (struct sockaddr *)&sa, len), 4);
	assert_int_equal(sendto(r.target, "", 0, 0, (struct sockaddr *)&sa, len), 0);
	assert_int_equal(sendto(r.target, big, sizeof(big), 0, (struct sockaddr *)&sa, len),
			 sizeof(big));
	expect_frame(&r, "pong", 4);
	expect_frame(&r, "", 0);
	expect_frame(&r, big, sizeof(big));
	rig_free(&r);
}

static void test_first(void **state)
{
	uint8_t first[32];
	size_t n = dgram_frame_put(first, "one", 3);
	struct rig r;

	(void)state;
	n += dgram_frame_put(first + n, "two", 3);
	first[n++] = 0; /* and the beginning of a third */
	rig_new(&r, first, n);
	assert_int_equal(r.offered, 0); /* not before dgram_stream_new returned */
	expect_at_target(&r, "one", 3);
	expect_at_target(&r, "two", 3);
	assert_int_equal(write(r.peer, "\x05three", 6), 6);
	expect_at_target(&r, "three", 5);
	rig_free(&r);
}

static void test_bad_length(void **state)
{
	struct rig r;

	(void)state;
	rig_new(&r, NULL, 0);
	write_frame(r.peer, "ok", 2);
	assert_int_equal(write(r.peer, "\xff\xe4", 2), 2);
	spin_until(&r, ended);
	assert_int_equal(r.err, -EMSGSIZE);
	expect_at_target(&r, "ok", 2); /* what came before it went */
	/* the stream is closed: the peer sees its end */
	assert_int_equal(read(r.peer, (char[4]){ 0 }, 4), 0);
	rig_free(&r);
}

static void test_eof(void **state)
{
	struct rig r;

	(void)state;
	rig_new(&r, NULL, 0);
	write_frame(r.peer, "last", 4);
	assert_int_equal(shutdown(r.peer, SHUT_WR), 0);
	spin_until(&r, ended);
	assert_int_equal(r.err, 0);
	expect_at_target(&r, "last", 4);
	rig_free(&r);

	/* an EOF in the middle of a frame */
	rig_new(&r, NULL, 0);
	assert_int_equal(write(r.peer,
			       "\x00\x05"
			       "ab",
			       4),
			 4);
	assert_int_equal(shutdown(r.peer, SHUT_WR), 0);
	spin_until(&r, ended);
	assert_int_equal(r.err, -EPROTO);
	rig_free(&r);
}

static void test_hangup(void **state)
{
	struct rig r;

	(void)state;
	rig_new(&r, NULL, 0);
	write_frame(r.peer, "a", 1);
	write_frame(r.peer, "b", 1);
	close(r.peer);
	r.peer = -1;
	spin_until(&r, ended);
	assert_int_equal(r.err, 0);
	expect_at_target(&r, "a", 1);
	expect_at_target(&r, "b", 1);
	rig_free(&r);
}

static void test_held(void **state)
{
	struct rig r;

	(void)state;
	rig_new(&r, NULL, 0);
	r.refuse = 1;
	write_frame(r.peer, "first", 5);
	write_frame(r.peer, "second", 6);
	for (int i = 0; i < 5; i++)
		spin(&r, 10);
	/* refused once: held, and nothing after it offered, the stream not read */
	assert_int_equal(r.offered, 1);
	assert_int_equal(r.taken, 0);
	assert_int_equal(r.ended, 0);
	dgram_stream_resume(r.s);
	expect_at_target(&r, "first", 5);
	expect_at_target(&r, "second", 6);
	assert_int_equal(r.taken, 2);

	/* held at the EOF: it ends once the datagram is taken */
	r.refuse = 1;
	write_frame(r.peer, "third", 5);
	assert_int_equal(shutdown(r.peer, SHUT_WR), 0);
	for (int i = 0; i < 5; i++)
		spin(&r, 10);
	assert_int_equal(r.ended, 0);
	dgram_stream_resume(r.s);
	assert_int_equal(r.ended, 1);
	assert_int_equal(r.err, 0);
	expect_at_target(&r, "third", 5);
	rig_free(&r);
}

static void test_slow_reader(void **state)
{
	static uint8_t big[DGRAM_MAX];
	uint8_t sink[65536];
	unsigned sent = 0;
	int k;
	struct rig r;

	(void)state;
	rig_new(&r, NULL, 0);
	r.reading_u = false;
	/* the peer reads nothing: the socket's buffer fills, then the queue */
	while ((k = dgram_stream_send(r.s, big, sizeof(big))) == 0 && sent < 10000)
		sent++;
	assert_int_equal(k, -ENOBUFS);
	assert_false(dgram_stream_room(r.s));
	assert_int_equal(dgram_stream_send(r.s, big, DGRAM_MAX + 1), -EMSGSIZE);
	/* once the peer reads, room again, said once */
	for (int i = 0; i < 200 && !r.rooms; i++) {
		while (recv(r.peer, sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
		spin(&r, 10);
	}
	assert_int_equal(r.rooms, 1);
	assert_true(dgram_stream_room(r.s));
	assert_int_equal(dgram_stream_send(r.s, "x", 1), 0);
	assert_int_equal(r.ended, 0);
	rig_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames),	    cmocka_unit_test(test_to_udp),
		cmocka_unit_test(test_from_udp),    cmocka_unit_test(test_first),
		cmocka_unit_test(test_bad_length),  cmocka_unit_test(test_eof),
		cmocka_unit_test(test_hangup),	    cmocka_unit_test(test_held),
		cmocka_unit_test(test_slow_reader),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
