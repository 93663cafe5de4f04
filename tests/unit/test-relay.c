/* lib/relay.c: two socketpairs joined through a relay in an epoll loop: the
 * bytes both ways in order, with a reader slower than its writer; each
 * side's EOF passed on while the other direction goes on; a side that
 * hangs up or resets; the hand-shake's leftover bytes first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay.h"

#define TAG 7

struct pair {
	int epfd;
	int a, b; /* the test's ends: a talks to the relay's A, b to its B */
	int ended, err;
	struct relay_stats st;
};

static void done(struct relay *r, int err, const struct relay_stats *st, void *data)
{
	struct pair *p = data;

	(void)r;
	p->ended++;
	p->err = err;
	p->st = *st;
}

static void nonblock(int fd)
{
	assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
}

static void pair_new(struct pair *p, const char *first)
{
	int sa[2], sb[2];
	struct relay *r;

	memset(p, 0, sizeof(*p));
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(p->epfd >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sa), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sb), 0);
	nonblock(sa[1]);
	nonblock(sb[1]);
	p->a = sa[0];
	p->b = sb[0];
	assert_int_equal(relay_new(p->epfd, TAG, sa[1], sb[1], first, first ? strlen(first) : 0,
				   done, p, &r),
			 0);
}

/* Runs the relay's events until nothing happens for TIMEOUT_MS. */
static void spin(struct pair *p, int timeout_ms)
{
	struct epoll_event ev[8];
	int n;

	while ((n = epoll_wait(p->epfd, ev, 8, timeout_ms)) > 0) {
		for (int i = 0; i < n; i++) {
			struct relay_end *e = ev[i].data.ptr;

			assert_int_equal(e->tag, TAG);
			relay_event(e, ev[i].events);
		}
		relay_reap();
	}
}

static void pair_free(struct pair *p)
{
	if (p->a >= 0)
		close(p->a);
	if (p->b >= 0)
		close(p->b);
	close(p->epfd);
	relay_reap();
}

/* The bytes of a stream from OFF on: a different one at every offset. */
static void pattern(uint8_t *buf, size_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((off + i) * 31 + ((off + i) >> 12));
}

static void test_both_ways(void **state)
{
	enum { TOTAL = 4 * 1024 * 1024 };
	static uint8_t buf[65536], want[65536];
	size_t sent[2] = { 0, 0 }, got[2] = { 0, 0 };
	struct pair p;
	int ends[2][2];

	(void)state;
	pair_new(&p, NULL);
	nonblock(p.a);
	nonblock(p.b);
	ends[0][0] = p.a, ends[0][1] = p.b; /* direction 0: a writes, b reads */
	ends[1][0] = p.b, ends[1][1] = p.a;
	while (got[0] < TOTAL || got[1] < TOTAL) {
		for (int d = 0; d < 2; d++) {
			if (sent[d] < TOTAL) {
				size_t k = TOTAL - sent[d] < 8192 ? TOTAL - sent[d] : 8192;
				ssize_t w;

				pattern(buf, sent[d], k);
				w = write(ends[d][0], buf, k);
				if (w > 0)
					sent[d] += (size_t)w;
			}
			spin(&p, 0);
			/* the reader takes 1000 bytes a turn: slower than the writer */
			ssize_t r = read(ends[d][1], buf, 1000);

			if (r > 0) {
				pattern(want, got[d], (size_t)r);
				assert_memory_equal(buf, want, (size_t)r);
				got[d] += (size_t)r;
			}
		}
	}
	assert_int_equal(p.ended, 0);
	/* both EOFs: the relay ends on its own, having counted everything */
	shutdown(p.a, SHUT_WR);
	shutdown(p.b, SHUT_WR);
	spin(&p, 50);
	assert_int_equal(p.ended, 1);
	assert_int_equal(p.err, 0);
	assert_int_equal(p.st.bytes[0], TOTAL);
	assert_int_equal(p.st.bytes[1], TOTAL);
	pair_free(&p);
}

static void test_half_close(void **state)
{
	char buf[64];
	struct pair p;

	(void)state;
	pair_new(&p, "first ");
	assert_int_equal(write(p.a, "request", 7), 7);
	shutdown(p.a, SHUT_WR);
	spin(&p, 50);
	/* B gets the hand-shake's leftover, then A's bytes, then EOF */
	assert_int_equal(read(p.b, buf, sizeof(buf)), 13);
	assert_memory_equal(buf, "first request", 13);
	assert_int_equal(read(p.b, buf, sizeof(buf)), 0);
	/* ...and still answers A, which reads it and then EOF */
	assert_int_equal(write(p.b, "response", 8), 8);
	spin(&p, 50);
	assert_int_equal(p.ended, 0);
	assert_int_equal(read(p.a, buf, sizeof(buf)), 8);
	shutdown(p.b, SHUT_WR);
	spin(&p, 50);
	assert_int_equal(read(p.a, buf, sizeof(buf)), 0);
	assert_int_equal(p.ended, 1);
	assert_int_equal(p.err, 0);
	pair_free(&p);
}

static void test_hangup(void **state)
{
	char buf[64];
	struct pair p;

	(void)state;
	/* A sends and closes entirely: B still gets it all, then EOF, and the
	 * relay ends (nothing can go back to A) */
	pair_new(&p, NULL);
	assert_int_equal(write(p.a, "bye", 3), 3);
	close(p.a);
	p.a = -1;
	spin(&p, 50);
	assert_int_equal(read(p.b, buf, sizeof(buf)), 3);
	assert_int_equal(read(p.b, buf, sizeof(buf)), 0);
	assert_int_equal(p.ended, 1);
	pair_free(&p);

	/* B closes while A sends: ended, B's fd closed (A sees EOF) */
	pair_new(&p, NULL);
	close(p.b);
	p.b = -1;
	assert_int_equal(write(p.a, "x", 1), 1);
	spin(&p, 50);
	assert_int_equal(p.ended, 1);
	assert_int_equal(read(p.a, buf, sizeof(buf)), 0);
	pair_free(&p);
}

static void test_abort(void **state)
{
	struct relay *r;
	int sa[2], sb[2];
	struct pair p = { 0 };

	(void)state;
	p.epfd = epoll_create1(EPOLL_CLOEXEC);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sa), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sb), 0);
	assert_int_equal(relay_new(p.epfd, TAG, sa[1], sb[1], NULL, 0, done, &p, &r), 0);
	relay_abort(r);
	assert_int_equal(p.ended, 1);
	assert_int_equal(p.err, -ECANCELED);
	/* both of the relay's fds closed */
	assert_int_equal(fcntl(sa[1], F_GETFD), -1);
	assert_int_equal(fcntl(sb[1], F_GETFD), -1);
	relay_abort(r); /* again: nothing */
	assert_int_equal(p.ended, 1);
	close(sa[0]);
	close(sb[0]);
	close(p.epfd);
	relay_reap();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_ways),
		cmocka_unit_test(test_half_close),
		cmocka_unit_test(test_hangup),
		cmocka_unit_test(test_abort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
