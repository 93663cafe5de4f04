/* host/client-addr.c: the address syntax, connecting within a deadline (a
 * full listen queue, a missing socket), the hybrid-vsock handshake against a
 * peer on a unix socket, and the close that reads what is left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client-addr.h"
#include "util.h"

static void test_addr_parse(void **state)
{
	struct client_addr a;
	char buf[200];

	(void)state;
	assert_int_equal(client_addr_parse("unix:/run/agent.sock", &a), 0);
	assert_int_equal(a.kind, CLIENT_ADDR_UNIX);
	assert_string_equal(a.path, "/run/agent.sock");

	assert_int_equal(client_addr_parse("unix:rel/a:b.sock", &a), 0);
	assert_string_equal(a.path, "rel/a:b.sock");

	assert_int_equal(client_addr_parse("vsock:3:1024", &a), 0);
	assert_int_equal(a.kind, CLIENT_ADDR_VSOCK);
	assert_int_equal(a.cid, 3);
	assert_int_equal(a.port, 1024);
	assert_int_equal(client_addr_parse("vsock:4294967295:4294967295", &a), 0);
	assert_int_equal(a.cid, UINT32_MAX);

	/* the port follows the last colon; the path may have colons */
	assert_int_equal(client_addr_parse("hvsock:/tmp/a:b/v.sock:52", &a), 0);
	assert_int_equal(a.kind, CLIENT_ADDR_HVSOCK);
	assert_string_equal(a.path, "/tmp/a:b/v.sock");
	assert_int_equal(a.port, 52);

	client_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "hvsock:/tmp/a:b/v.sock:52");
	assert_int_equal(client_addr_parse("vsock:2:1024", &a), 0);
	client_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "vsock:2:1024");
}

static void test_addr_parse_errors(void **state)
{
	static const char *const bad[] = {
		"",	      "/run/agent.sock", "unix:",	  "tcp:1.2.3.4:5",
		"vsock:3",    "vsock::1024",	 "vsock:3:",	  "vsock:-1:1024",
		"vsock:3:x",  "vsock:3:1024:5",	 "hvsock:/a/b",	  "hvsock::52",
		"hvsock:/a:", "hvsock:/a:+5",	 "vsock: 3:1024", "UNIX:/a",
	};
	struct client_addr a;
	char longpath[200];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = client_addr_parse(bad[i], &a);

		if (r >= 0)
			fail_msg("\"%s\" was accepted", bad[i]);
	}
	assert_int_equal(client_addr_parse("vsock:4294967296:1", &a), -ERANGE);
	memset(longpath, 'x', sizeof(longpath));
	memcpy(longpath, "unix:", 5);
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(client_addr_parse(longpath, &a), -ENAMETOOLONG);
}

/* A unix socket in a fresh directory, listening with BACKLOG. */
struct listener {
	char dir[64];
	char path[108];
	int fd;
};

static void listener_start(struct listener *l, int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(l->dir, sizeof(l->dir), "/tmp/test-host-client-addr.XXXXXX");
	assert_non_null(mkdtemp(l->dir));
	snprintf(l->path, sizeof(l->path), "%s/s.sock", l->dir);
	strcpy(sa.sun_path, l->path);
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(l->fd >= 0);
	assert_int_equal(bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l->fd, backlog), 0);
}

static void listener_stop(struct listener *l)
{
	close(l->fd);
	unlink(l->path);
	rmdir(l->dir);
}

static struct client_addr addr_of(const char *kind, const struct listener *l)
{
	struct client_addr a;
	char s[160];

	snprintf(s, sizeof(s), "%s:%s%s", kind, l->path, strcmp(kind, "hvsock") ? "" : ":52");
	assert_int_equal(client_addr_parse(s, &a), 0);
	return a;
}

static uint64_t after_ms(int ms)
{
	return now_mono_ns() + (uint64_t)ms * 1000000u;
}

static void test_connect_unix(void **state)
{
	struct client_error err;
	struct client_addr a;
	struct listener l;
	int fd;

	(void)state;
	listener_start(&l, 4);
	a = addr_of("unix", &l);
	fd = client_addr_connect(&a, after_ms(5000), &err);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	client_addr_close(fd, false);
	listener_stop(&l);

	/* nothing there: the address is in the message */
	assert_int_equal(client_addr_parse("unix:/nonexistent/agent.sock", &a), 0);
	assert_int_equal(client_addr_connect(&a, after_ms(5000), &err), -ENOENT);
	assert_non_null(strstr(err.desc, "unix:/nonexistent/agent.sock"));
}

static void test_connect_waits_for_a_full_queue(void **state)
{
	struct client_error err;
	struct client_addr a;
	struct listener l;
	int fds[8], n = 0, r = 0;
	uint64_t t0;

	(void)state;
	/* nobody accepts: the queue fills (as qemu-ga's, serving another
	 * client), and then a connect waits until the deadline */
	listener_start(&l, 0);
	a = addr_of("unix", &l);
	while (n < 8) {
		t0 = now_mono_ns();
		r = client_addr_connect(&a, after_ms(200), &err);
		if (r < 0)
			break;
		fds[n++] = r;
	}
	assert_int_equal(r, -ETIMEDOUT);
	assert_true(n >= 1);
	assert_true(now_mono_ns() - t0 >= 150000000u);
	assert_non_null(strstr(err.desc, "queue"));
	while (n > 0)
		client_addr_close(fds[--n], false);
	listener_stop(&l);
}

/* A hybrid-vsock backend: reads the CONNECT line, answers ANSWER (or closes
 * when it is NULL), then waits for the client to close. */
struct backend {
	struct listener l;
	const char *answer;
	char line[64];
	pthread_t thread;
};

static void *backend_run(void *arg)
{
	struct backend *b = arg;
	size_t len = 0;
	char buf[64];
	int fd = accept(b->l.fd, NULL, NULL);

	if (fd < 0)
		return NULL;
	while (len + 1 < sizeof(b->line) && !memchr(b->line, '\n', len)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 5000) <= 0)
			break;
		n = read(fd, b->line + len, sizeof(b->line) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (b->answer && write(fd, b->answer, strlen(b->answer)) >= 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		while (poll(&pfd, 1, 5000) > 0 && read(fd, buf, sizeof(buf)) > 0)
			;
	}
	close(fd);
	return NULL;
}

static int hvsock_connect(struct backend *b, const char *answer, int ms, struct client_error *err)
{
	struct client_addr a;
	int fd;

	memset(b, 0, sizeof(*b));
	b->answer = answer;
	listener_start(&b->l, 1);
	assert_int_equal(pthread_create(&b->thread, NULL, backend_run, b), 0);
	a = addr_of("hvsock", &b->l);
	fd = client_addr_connect(&a, after_ms(ms), err);
	return fd;
}

static void backend_stop(struct backend *b, int fd)
{
	if (fd >= 0)
		client_addr_close(fd, false);
	pthread_join(b->thread, NULL);
	listener_stop(&b->l);
}

static void test_hvsock_handshake(void **state)
{
	struct client_error err;
	struct backend b;
	char buf[16] = "";
	struct pollfd pfd;
	int fd;

	(void)state;
	/* the answer's line is taken, and nothing after it: that is the guest's */
	fd = hvsock_connect(&b, "OK 1073741824\n\xff{", 5000, &err);
	assert_true(fd >= 0);
	assert_string_equal(b.line, "CONNECT 52\n");
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(read(fd, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "\xff{", 2);
	backend_stop(&b, fd);

	/* CRLF, as some backends end lines */
	fd = hvsock_connect(&b, "OK 5\r\n", 5000, &err);
	assert_true(fd >= 0);
	backend_stop(&b, fd);
}

static void test_hvsock_refusals(void **state)
{
	static const struct {
		const char *answer;
		int r;
		const char *says;
	} cases[] = {
		/* the backend closes when nothing listens on the port */
		{ NULL, -ECONNREFUSED, "port 52" },
		/* anything but "OK ..." is not a hybrid vsock socket */
		{ "ERR no\n", -EPROTO, "not a hybrid vsock socket" },
		{ "{\"error\": {\"class\": \"GenericError\"}}\n", -EPROTO, "answered" },
		{ "OKAY\n", -EPROTO, "answered" },
		/* a line that does not end is bounded */
		{ "OK 0123456789012345678901234567890123456789012345678901234567890123456789",
		  -EPROTO, "not \"OK <port>\"" },
		/* an answer that never comes */
		{ "OK", -ETIMEDOUT, "no answer to CONNECT 52" },
	};
	struct client_error err;
	struct backend b;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fd = hvsock_connect(&b, cases[i].answer, 300, &err);

		if (fd != cases[i].r)
			fail_msg("answer %zu: %d, expected %d", i, fd, cases[i].r);
		if (!strstr(err.desc, cases[i].says))
			fail_msg("answer %zu: \"%s\" does not say \"%s\"", i, err.desc,
				 cases[i].says);
		backend_stop(&b, -1);
	}
}

static void test_close_reads_what_is_left(void **state)
{
	char buf[8];
	uint64_t t0;
	int sv[2];

	(void)state;
	/* closing with unread bytes would make the peer's read fail with
	 * ECONNRESET (qemu-ga 7.2 exits on it): the close reads them first */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_int_equal(write(sv[1], "left", 4), 4);
	client_addr_close(sv[0], false);
	assert_int_equal(read(sv[1], buf, sizeof(buf)), 0);
	close(sv[1]);

	/* replies still due: half-close, and wait (bounded) for the peer */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	t0 = now_mono_ns();
	client_addr_close(sv[0], true);
	assert_true(now_mono_ns() - t0 < 2000000000u);
	assert_int_equal(read(sv[1], buf, sizeof(buf)), 0);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_addr_parse_errors),
		cmocka_unit_test(test_connect_unix),
		cmocka_unit_test(test_connect_waits_for_a_full_queue),
		cmocka_unit_test(test_hvsock_handshake),
		cmocka_unit_test(test_hvsock_refusals),
		cmocka_unit_test(test_close_reads_what_is_left),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
