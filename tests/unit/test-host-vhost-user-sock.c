/* host/vhost-user-sock.c: messages over a socketpair as QEMU sends them
 * (the fds with the first bytes), in pieces, with too many fds, cut
 * short; no fd that came is ever left open on a refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vhost-user-sock.h"
#include "probe.h"

static int sv[2] = { -1, -1 };

static int setup(void **state)
{
	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return 0;
}

/* After a refusal the backend drops the front-end: a new connection. */
static void reconnect(void)
{
	teardown(NULL);
	setup(NULL);
}

/* Sends LEN bytes with N fds in one sendmsg, as QEMU's vhost_user_write. */
static void send_with_fds(const void *buf, size_t len, const int *fds, unsigned n)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 16)];
	} control;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (n) {
		struct cmsghdr *c;

		mh.msg_control = control.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	assert_int_equal(sendmsg(sv[1], &mh, 0), (ssize_t)len);
}

static size_t build(uint8_t *buf, uint32_t request, const void *payload, uint32_t size)
{
	uint32_t h[3] = { request, VHOST_USER_VERSION, size };

	memcpy(buf, h, 12);
	if (size)
		memcpy(buf + 12, payload, size);
	return 12 + size;
}

/* The number of fds open in this process. */
static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static void test_message_with_fd(void **state)
{
	uint8_t buf[64];
	uint64_t kick = 1;
	int efd = eventfd(0, EFD_CLOEXEC), fds[VHOST_USER_FDS_MAX];
	struct vhost_user_msg m;
	size_t n;

	(void)state;
	n = build(buf, VHOST_USER_SET_VRING_KICK, &kick, 8);
	send_with_fds(buf, n, &efd, 1);
	close(efd);
	assert_int_equal(vhost_user_sock_recv(sv[0], &m, fds), 1);
	assert_int_equal(m.hdr.request, VHOST_USER_SET_VRING_KICK);
	assert_int_equal(m.n_fds, 1);
	assert_int_equal(m.vring_fd.index, 1);
	assert_true(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
	close(fds[0]);

	/* in pieces: 5 bytes, 7, then the payload */
	n = build(buf, VHOST_USER_SET_FEATURES, &kick, 8);
	assert_int_equal(write(sv[1], buf, 5), 5);
	assert_int_equal(write(sv[1], buf + 5, 7), 7);
	assert_int_equal(write(sv[1], buf + 12, 8), 8);
	assert_int_equal(vhost_user_sock_recv(sv[0], &m, fds), 1);
	assert_true(m.u64 == 1);

	/* the front-end goes away between messages */
	close(sv[1]);
	sv[1] = -1;
	assert_int_equal(vhost_user_sock_recv(sv[0], &m, fds), 0);
}

static void test_refusals_close_fds(void **state)
{
	uint8_t buf[64];
	uint64_t v = 0;
	int many[VHOST_USER_FDS_MAX + 1], fds[VHOST_USER_FDS_MAX], before;
	struct vhost_user_msg m;
	size_t n;

	(void)state;
	before = open_fds();
	/* an fd with a request that carries none */
	many[0] = eventfd(0, EFD_CLOEXEC);
	n = build(buf, VHOST_USER_GET_FEATURES, NULL, 0);
	send_with_fds(buf, n, many, 1);
	close(many[0]);
	assert_int_equal(vhost_user_sock_recv(sv[0], &m, fds), -EBADF);
	assert_int_equal(open_fds(), before);
	reconnect();

	/* an unknown request: refused after the header, nothing more read */
	n = build(buf, 6 /* SET_LOG_BASE */, &v, 8);
	assert_int_equal(write(sv[1], buf, n), (ssize_t)n);
	assert_int_equal(vhost_user_sock_recv(sv[0], &m, fds), -EOPNOTSUPP);
	reconnect();

	/* cut short inside the payload, with an fd */
	many[0] = eventfd(0, EFD_CLOEXEC);
	n = build(buf, VHOST_USER_SET_VRING_CALL, &v, 8);
	send_with_fds(buf, n - 3, many, 1);
	close(many[0]);
	close(sv[1]);
	sv[1] = -1;
	assert_int_equal(vhost_user_sock_recv(sv[0], &m, fds), -ECONNRESET);
	assert_int_equal(open_fds(), before - 1); /* sv[1] */
}

/* More fds than any message may carry: the kernel cuts them to the control
 * buffer and says so (MSG_CTRUNC), and the message is refused. */
static void test_too_many_fds(void **state)
{
	uint8_t buf[64];
	uint64_t v = 0;
	int many[VHOST_USER_FDS_MAX + 1], fds[VHOST_USER_FDS_MAX], before;
	struct vhost_user_msg m;
	size_t n;

	(void)state;
	PROBE_SKIP_UNLESS(probe_ctrunc());
	before = open_fds();
	for (int i = 0; i <= VHOST_USER_FDS_MAX; i++)
		many[i] = eventfd(0, EFD_CLOEXEC);
	n = build(buf, VHOST_USER_SET_VRING_CALL, &v, 8);
	send_with_fds(buf, n, many, VHOST_USER_FDS_MAX + 1);
	for (int i = 0; i <= VHOST_USER_FDS_MAX; i++)
		close(many[i]);
	assert_int_equal(vhost_user_sock_recv(sv[0], &m, fds), -EBADMSG);
	assert_int_equal(open_fds(), before);
}

static void test_send(void **state)
{
	uint8_t buf[32], got[32];

	(void)state;
	assert_int_equal(vhost_user_reply_u64(VHOST_USER_GET_FEATURES, 7, buf, sizeof(buf)), 20);
	assert_int_equal(vhost_user_sock_send(sv[0], buf, 20), 0);
	assert_int_equal(read(sv[1], got, sizeof(got)), 20);
	assert_memory_equal(got, buf, 20);
	close(sv[1]);
	sv[1] = -1;
	/* the front-end gone: an error, not SIGPIPE */
	assert_int_equal(vhost_user_sock_send(sv[0], buf, 20), -EPIPE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_message_with_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_close_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
