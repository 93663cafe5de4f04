/* Addresses and connections (client-addr.h): parsing and printing the
 * three address forms, connect(2) bounded by a deadline on each socket
 * family, the hybrid-vsock handshake, and the draining close. */
#include "client-addr.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "util.h"

/* The hybrid-vsock backend answers "OK <hostport>\n": a few bytes. */
#define HVSOCK_LINE_MAX 64
/* How long client_addr_close() waits for replies still on their way. */
#define CLOSE_DRAIN_MS 250
#define CLOSE_DRAIN_MAX (1024 * 1024)

/* Closing a unix socket with unread bytes makes the peer's next read fail
 * with ECONNRESET, and qemu-ga 7.2 exits on that (in unix-listen mode it
 * then serves no one). So read what is there first; when an answer is still
 * due (WAITING), say we are done, which makes the agent close its side, and
 * read until it does, for a bounded time. */
void client_addr_close(int fd, bool waiting)
{
	uint64_t deadline = now_mono_ns() + (uint64_t)CLOSE_DRAIN_MS * 1000000u;
	size_t drained = 0;
	char buf[4096];

	if (waiting)
		shutdown(fd, SHUT_WR);
	while (drained < CLOSE_DRAIN_MAX) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			drained += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && waiting && fd_wait(fd, POLLIN, deadline) == 0)
			continue;
		break;
	}
	close(fd);
}

static int parse_u32(const char *s, uint32_t *ret)
{
	int64_t v;
	int r;

	/* parse_int64 (strtoll) accepts blanks and a sign; an address has neither. */
	if (*s < '0' || *s > '9')
		return -EINVAL;
	r = parse_int64(s, 0, UINT32_MAX, &v);
	if (r < 0)
		return r;
	*ret = (uint32_t)v;
	return 0;
}

static int copy_path(char *dst, size_t size, const char *src, size_t len)
{
	if (len == 0)
		return -EINVAL;
	if (len >= size)
		return -ENAMETOOLONG;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

int client_addr_parse(const char *s, struct client_addr *ret)
{
	struct client_addr a = { 0 };
	const char *colon;
	char num[16];
	int r;

	if (strncmp(s, "unix:", 5) == 0) {
		a.kind = CLIENT_ADDR_UNIX;
		s += 5;
		r = copy_path(a.path, sizeof(a.path), s, strlen(s));
		if (r < 0)
			return r;
	} else if (strncmp(s, "vsock:", 6) == 0) {
		a.kind = CLIENT_ADDR_VSOCK;
		s += 6;
		colon = strchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(num))
			return -EINVAL;
		memcpy(num, s, (size_t)(colon - s));
		num[colon - s] = '\0';
		r = parse_u32(num, &a.cid);
		if (r < 0)
			return r;
		r = parse_u32(colon + 1, &a.port);
		if (r < 0)
			return r;
	} else if (strncmp(s, "hvsock:", 7) == 0) {
		a.kind = CLIENT_ADDR_HVSOCK;
		s += 7;
		/* The port follows the last colon: a path may contain colons. */
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		r = copy_path(a.path, sizeof(a.path), s, (size_t)(colon - s));
		if (r < 0)
			return r;
		r = parse_u32(colon + 1, &a.port);
		if (r < 0)
			return r;
	} else {
		return -EINVAL;
	}
	*ret = a;
	return 0;
}

void client_addr_format(const struct client_addr *a, char *buf, size_t size)
{
	switch (a->kind) {
	case CLIENT_ADDR_UNIX:
		snprintf(buf, size, "unix:%s", a->path);
		break;
	case CLIENT_ADDR_VSOCK:
		snprintf(buf, size, "vsock:%" PRIu32 ":%" PRIu32, a->cid, a->port);
		break;
	case CLIENT_ADDR_HVSOCK:
		snprintf(buf, size, "hvsock:%s:%" PRIu32, a->path, a->port);
		break;
	}
}

static int set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* A unix stream connect() blocks while the listener's queue is full (qemu-ga
 * listens with a backlog of 1 and serves one client at a time), bounded by
 * SO_SNDTIMEO, and then fails with EAGAIN; a non-blocking one fails with
 * EAGAIN at once, never EINPROGRESS (net/unix/af_unix.c,
 * unix_stream_connect). So the blocking form with a send timeout is the one
 * that waits for a turn. */
static int connect_unix(const char *path, uint64_t deadline, const char *name,
			struct client_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return client_fail(err, -ENAMETOOLONG, "connect %s: path too long", name);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return client_fail(err, -errno, "socket for %s: %m", name);
	for (;;) {
		int left = ms_until(deadline);
		struct timeval tv = { .tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000 };

		if (left == 0) {
			r = client_fail(err, -ETIMEDOUT,
					"connect %s: the agent's queue stayed full", name);
			goto fail;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
			r = client_fail(err, -errno, "set SO_SNDTIMEO on %s: %m", name);
			goto fail;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			r = client_fail(err, -ETIMEDOUT,
					"connect %s: the agent's queue stayed full", name);
			goto fail;
		}
		r = client_fail(err, -errno, "connect %s: %m", name);
		goto fail;
	}
	r = set_nonblock(fd);
	if (r < 0) {
		client_fail(err, r, "set O_NONBLOCK on %s: %s", name, strerror(-r));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return r;
}

static int connect_vsock(uint32_t cid, uint32_t port, uint64_t deadline, const char *name,
			 struct client_error *err)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
	int fd, r, soerr = 0;
	socklen_t len = sizeof(soerr);

	fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return client_fail(err, -errno, "socket(AF_VSOCK) for %s: %m", name);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EINTR) {
		r = client_fail(err, -errno, "connect %s: %m", name);
		goto fail;
	}
	r = fd_wait(fd, POLLOUT, deadline);
	if (r < 0) {
		client_fail(err, r, "connect %s: %s", name,
			    r == -ETIMEDOUT ? "timed out" : strerror(-r));
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) {
		r = client_fail(err, -errno, "connect %s: SO_ERROR: %m", name);
		goto fail;
	}
	if (soerr != 0) {
		r = client_fail(err, -soerr, "connect %s: %s", name, strerror(soerr));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return r;
}

/* Firecracker, Cloud Hypervisor and vhost-user vsock backends put a unix
 * socket in front of the guest's vsock ports: the host writes "CONNECT
 * <port>\n" and the backend answers "OK <host port>\n" once the guest
 * accepted, or closes the connection when nothing listens on that port
 * (Firecracker's docs/vsock.md). The answer is read one byte at a time so
 * that nothing after its newline is taken from the stream. */
static int hvsock_handshake(int fd, uint32_t port, uint64_t deadline, const char *name,
			    struct client_error *err)
{
	char line[HVSOCK_LINE_MAX];
	size_t len = 0;
	int r, n;

	n = snprintf(line, sizeof(line), "CONNECT %" PRIu32 "\n", port);
	r = send_all_until(fd, line, (size_t)n, deadline);
	if (r < 0)
		return client_fail(err, r, "%s: send CONNECT: %s", name,
				   r == -ETIMEDOUT ? "timed out" : strerror(-r));
	for (;;) {
		char ch;
		ssize_t got = recv(fd, &ch, 1, 0);

		if (got == 0)
			return client_fail(
				err, -ECONNREFUSED,
				"%s: the vsock backend closed the connection: nothing listens "
				"on port %" PRIu32 "?",
				name, port);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return client_fail(err, -errno, "%s: read the CONNECT answer: %m",
						   name);
			r = fd_wait(fd, POLLIN, deadline);
			if (r < 0)
				return client_fail(
					err, r, "%s: no answer to CONNECT %" PRIu32 ": %s", name,
					port, r == -ETIMEDOUT ? "timed out" : strerror(-r));
			continue;
		}
		if (ch == '\n')
			break;
		if (len + 1 >= sizeof(line))
			return client_fail(err, -EPROTO,
					   "%s: CONNECT %" PRIu32
					   " answered \"%.32s...\", not \"OK <port>\": "
					   "not a hybrid vsock socket?",
					   name, port, line);
		line[len++] = ch;
	}
	line[len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (strncmp(line, "OK ", 3) != 0 && strcmp(line, "OK") != 0)
		return client_fail(err, -EPROTO,
				   "%s: CONNECT %" PRIu32
				   " answered \"%.*s\", not \"OK <port>\": not a "
				   "hybrid vsock socket?",
				   name, port, (int)len, line);
	return 0;
}

static int addr_connect(const struct client_addr *a, uint64_t deadline, const char *name,
			struct client_error *err)
{
	int fd, r;

	switch (a->kind) {
	case CLIENT_ADDR_UNIX:
		return connect_unix(a->path, deadline, name, err);
	case CLIENT_ADDR_VSOCK:
		return connect_vsock(a->cid, a->port, deadline, name, err);
	case CLIENT_ADDR_HVSOCK:
		fd = connect_unix(a->path, deadline, name, err);
		if (fd < 0)
			return fd;
		r = hvsock_handshake(fd, a->port, deadline, name, err);
		if (r < 0) {
			/* Not a vsock backend (perhaps the agent itself, answering
			 * CONNECT with an error): do not leave its answer unread. */
			client_addr_close(fd, true);
			return r;
		}
		return fd;
	}
	return client_fail(err, -EINVAL, "connect: unknown address kind %d", (int)a->kind);
}

int client_addr_connect(const struct client_addr *a, uint64_t deadline, struct client_error *err)
{
	char name[160];

	client_addr_format(a, name, sizeof(name));
	return addr_connect(a, deadline, name, err);
}
