/* relay/udp.c: a udp: target joined to the client's stream, with a
 * socketpair for the stream and real UDP sockets on 127.0.0.1: a datagram
 * each way per frame, an ICMP port unreachable (nothing listening yet)
 * that drops a datagram and not the connection, the client's EOF ending
 * it with both fds closed, and a bad length. */
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
#include "udp.h"

enum { TAG_STREAM = 1, TAG_UDP };

struct rig {
	int epfd;
	int peer; /* the test's end of the client's stream */
	int target; /* the test's UDP socket, the target */
	struct sockaddr_in target_addr;
	int ended, err;
	struct relay_udp_stats st;
};

static void done(int err, const struct relay_udp_stats *st, void *data)
{
	struct rig *r = data;

	r->ended++;
	r->err = err;
	r->st = *st;
}

/* A UDP socket bound to 127.0.0.1 on a port of the kernel's choosing. */
static int udp_bound(struct sockaddr_in *ret)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*ret = sa;
	return fd;
}

static void rig_new(struct rig *r, bool listening)
{
	int sp[2], u;

	memset(r, 0, sizeof(*r));
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	r->target = udp_bound(&r->target_addr);
	if (!listening) {
		/* its port, with nothing bound to it any more */
		close(r->target);
		r->target = -1;
	}
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_int_equal(fcntl(sp[1], F_SETFL, O_NONBLOCK), 0);
	r->peer = sp[0];
	u = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_int_equal(connect(u, (struct sockaddr *)&r->target_addr, sizeof(r->target_addr)), 0);
	assert_int_equal(relay_udp_new(r->epfd, TAG_STREAM, TAG_UDP, sp[1], u, NULL, 0, done, r),
			 0);
}

static void spin(struct rig *r, int ms)
{
	struct epoll_event ev[8];
	int n = epoll_wait(r->epfd, ev, 8, ms);

	for (int i = 0; i < n; i++) {
		if (*(int *)ev[i].data.ptr == TAG_STREAM)
			dgram_stream_event(ev[i].data.ptr, ev[i].events);
		else
			relay_udp_event(ev[i].data.ptr, ev[i].events);
	}
	relay_udp_reap();
	dgram_stream_reap();
}

static void rig_free(struct rig *r)
{
	if (!r->ended) {
		close(r->peer);
		r->peer = -1;
		for (int i = 0; i < 100 && !r->ended; i++)
			spin(r, 10);
	}
	assert_int_equal(r->ended, 1);
	close(r->peer);
	if (r->target >= 0)
		close(r->target);
	close(r->epfd);
}

static void send_frame(struct rig *r, const char *s)
{
	uint8_t f[64];
	size_t n = dgram_frame_put(f, s, strlen(s));

	assert_int_equal(write(r->peer, f, n), (ssize_t)n);
}

static void test_both_ways(void **state)
{
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	uint8_t buf[64];
	ssize_t k = -1;
	size_t have = 0;
	struct rig r;

	(void)state;
	rig_new(&r, true);
	send_frame(&r, "query");
	for (int i = 0; i < 100 && k < 0; i++) {
		spin(&r, 10);
		k = recvfrom(r.target, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
			     &len);
	}
	assert_int_equal(k, 5);
	assert_memory_equal(buf, "query", 5);
	/* the answer, to where the query came from, comes back as a frame */
	assert_int_equal(sendto(r.target, "answer", 6, 0, (struct sockaddr *)&from, len), 6);
	for (int i = 0; i < 100 && have < 8; i++) {
		spin(&r, 10);
		k = recv(r.peer, buf + have, sizeof(buf) - have, MSG_DONTWAIT);
		if (k > 0)
			have += (size_t)k;
	}
	assert_int_equal(have, 8);
	assert_memory_equal(buf,
			    "\x00\x06"
			    "answer",
			    8);
	/* the client's EOF ends it */
	assert_int_equal(shutdown(r.peer, SHUT_WR), 0);
	for (int i = 0; i < 100 && !r.ended; i++)
		spin(&r, 10);
	assert_int_equal(r.ended, 1);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.st.to_target, 1);
	assert_int_equal(r.st.from_target, 1);
	assert_int_equal(read(r.peer, buf, 1), 0); /* its stream closed */
	rig_free(&r);
}

static void test_nothing_listening(void **state)
{
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	uint8_t buf[64];
	ssize_t k = -1;
	struct rig r;

	(void)state;
	rig_new(&r, false);
	/* each earns an ICMP port unreachable, which the next send or read
	 * reports and clears: the datagrams are lost, as UDP loses them */
	send_frame(&r, "one");
	send_frame(&r, "two");
	send_frame(&r, "three");
	for (int i = 0; i < 20; i++)
		spin(&r, 5);
	assert_int_equal(r.ended, 0);
	/* something listens there now: the connection still carries */
	r.target = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind(r.target, (struct sockaddr *)&r.target_addr, sizeof(r.target_addr)),
			 0);
	send_frame(&r, "four");
	for (int i = 0; i < 100 && k < 0; i++) {
		spin(&r, 10);
		k = recvfrom(r.target, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
			     &len);
	}
	assert_int_equal(k, 4);
	assert_memory_equal(buf, "four", 4);
	assert_int_equal(r.ended, 0);
	rig_free(&r);
	/* each sent, or dropped when its send met an error twice */
	assert_int_equal(r.st.to_target + r.st.dropped, 4);
}

static void test_bad_length(void **state)
{
	struct rig r;

	(void)state;
	rig_new(&r, true);
	assert_int_equal(write(r.peer, "\xff\xff", 2), 2);
	for (int i = 0; i < 100 && !r.ended; i++)
		spin(&r, 10);
	assert_int_equal(r.ended, 1);
	assert_int_equal(r.err, -EMSGSIZE);
	rig_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_ways),
		cmocka_unit_test(test_nothing_listening),
		cmocka_unit_test(test_bad_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
