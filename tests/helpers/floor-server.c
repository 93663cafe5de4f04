/* floor-server: the least a guest agent server can do, for make bench to
 * measure porthole-agent against (scripts/bench-floor). It speaks just enough
 * of the protocol for porthole-loadgen: it frames each JSON object on the
 * stream, answers guest-sync-delimited with its id after a 0xFF, and every
 * other request with a canned {"return": {}, "id": ID}, its own id copied.
 * No JSON library, no command table, no allocation per request.
 *
 *   floor-server [--blocking] PATH
 *     listens on the unix socket PATH until killed.
 *     Default: one epoll set for the listener and every connection, as an
 *     agent that serves several clients at once must have, and per ready
 *     connection one read and one write: epoll_wait + read + write per
 *     request one at a time, the fewest a multiplexing server can make.
 *     --blocking: one connection at a time, blocking read and write, no
 *     epoll: read + write per request, the floor of any server at all.
 *
 * Bounded: a connection keeps at most BUF_MAX bytes of a request it has not
 * framed yet and of replies the client has not read; a request longer than
 * that is dropped to its end, as a resync does. CONNS_MAX connections. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define BUF_MAX 65536
#define CONNS_MAX 64
#define DEPTH_MAX 32

struct conn {
	int fd; /* -1: free */
	/* the framer's state: a request's bytes are kept until it ends */
	char in[BUF_MAX];
	size_t in_len;
	int depth;
	bool in_string, escape, dropping;
	char out[BUF_MAX];
	size_t out_off, out_len;
	uint32_t armed;
};

static struct conn conns[CONNS_MAX];

/* The value of KEY at DEPTH in the object OBJ (LEN bytes, whole), as its
 * bytes (a number or a string with its quotes); NULL when absent. */
static const char *find_value(const char *obj, size_t len, const char *key, int depth,
			      size_t *ret_len)
{
	size_t klen = strlen(key);
	int d = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = obj[i];

		if (ch == '"') {
			size_t start = ++i;

			while (i < len && obj[i] != '"')
				i += obj[i] == '\\' ? 2 : 1;
			if (i >= len)
				return NULL;
			if (d != depth || i - start != klen || memcmp(obj + start, key, klen) != 0)
				continue;
			for (i++; i < len && (obj[i] == ' ' || obj[i] == ':'); i++)
				;
			start = i;
			if (i < len && obj[i] == '"') {
				for (i++; i < len && obj[i] != '"'; i += obj[i] == '\\' ? 2 : 1)
					;
				i++;
			} else {
				while (i < len && !strchr(",} \t\r\n", obj[i]))
					i++;
			}
			if (i > len)
				return NULL;
			*ret_len = i - start;
			return obj + start;
		}
		if (ch == '{' || ch == '[')
			d++;
		else if (ch == '}' || ch == ']')
			d--;
	}
	return NULL;
}

/* Appends REQ's reply to C's output; false when it does not fit. */
static bool answer(struct conn *c, const char *req, size_t len)
{
	size_t id_len = 0, name_len = 0;
	const char *name = find_value(req, len, "execute", 1, &name_len);
	const char *id = find_value(req, len, "id", 1, &id_len);
	char *o = c->out + c->out_len;
	size_t room = sizeof(c->out) - c->out_len;
	int n;

	if (name && name_len == sizeof("\"guest-sync-delimited\"") - 1 &&
	    memcmp(name, "\"guest-sync-delimited\"", name_len) == 0) {
		const char *arg = find_value(req, len, "id", 2, &id_len);

		n = snprintf(o, room, "\xff{\"return\": %.*s}\n", arg ? (int)id_len : 1,
			     arg ? arg : "0");
	} else if (id) {
		n = snprintf(o, room, "{\"return\": {}, \"id\": %.*s}\n", (int)id_len, id);
	} else {
		n = snprintf(o, room, "{\"return\": {}}\n");
	}
	if (n < 0 || (size_t)n >= room)
		return false;
	c->out_len += (size_t)n;
	return true;
}

/* Frames DATA into requests and queues their replies. 0xFF outside a string
 * drops a half request (the client's resync); a request over BUF_MAX, or
 * nested deeper than DEPTH_MAX, is dropped to its end. */
static void feed(struct conn *c, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char ch = data[i];

		if ((unsigned char)ch == 0xFF) {
			c->in_len = 0;
			c->depth = 0;
			c->in_string = c->escape = c->dropping = false;
			continue;
		}
		if (c->depth == 0 && ch != '{')
			continue; /* whitespace between requests; nothing else is asked for */
		if (!c->dropping) {
			if (c->in_len == sizeof(c->in) || c->depth > DEPTH_MAX)
				c->dropping = true;
			else
				c->in[c->in_len++] = ch;
		}
		if (c->in_string) {
			if (c->escape)
				c->escape = false;
			else if (ch == '\\')
				c->escape = true;
			else if (ch == '"')
				c->in_string = false;
			continue;
		}
		if (ch == '"')
			c->in_string = true;
		else if (ch == '{' || ch == '[')
			c->depth++;
		else if ((ch == '}' || ch == ']') && --c->depth == 0) {
			if (!c->dropping && !answer(c, c->in, c->in_len))
				fprintf(stderr, "floor-server: fd %d: output full, reply dropped\n",
					c->fd);
			c->in_len = 0;
			c->dropping = false;
		}
	}
}

static int listen_on(const char *path, int flags)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "floor-server: %s: path too long\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
		fprintf(stderr, "floor-server: listen on %s: %s\n", path, strerror(errno));
		return -1;
	}
	return fd;
}

/* Writes all of C's output, blocking. False when the peer is gone. */
static bool write_all(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return true;
}

static int serve_blocking(int lfd)
{
	static char buf[16384];
	struct conn *c = &conns[0];

	for (;;) {
		c->fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c->fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "floor-server: accept: %s\n", strerror(errno));
			return 1;
		}
		for (;;) {
			ssize_t n = read(c->fd, buf, sizeof(buf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			feed(c, buf, (size_t)n);
			if (!write_all(c))
				break;
		}
		close(c->fd);
		*c = (struct conn){ .fd = -1 };
	}
}

static void conn_close(int epfd, struct conn *c)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	*c = (struct conn){ .fd = -1 };
}

/* Input while output is owed: the connection waits for the client to read
 * (EPOLLOUT only), so that its output stays bounded. The common case, all
 * written at once, never changes what is armed. */
static void conn_arm(int epfd, struct conn *c)
{
	uint32_t ev = c->out_len > c->out_off ? EPOLLOUT : EPOLLIN;
	struct epoll_event e = { .events = ev, .data.ptr = c };

	if (ev != c->armed && epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e) == 0)
		c->armed = ev;
}

/* One read, and the replies in one send; what the socket does not take
 * waits for EPOLLOUT. False when the connection is done. */
static bool conn_event(int epfd, struct conn *c, uint32_t events)
{
	static char buf[16384];

	if (c->out_len > c->out_off) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return false;
		if (n > 0)
			c->out_off += (size_t)n;
		if (c->out_off == c->out_len)
			c->out_off = c->out_len = 0;
		conn_arm(epfd, c);
		return true;
	}
	if (events & EPOLLIN) {
		ssize_t n = read(c->fd, buf, sizeof(buf));

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return false;
		if (n > 0)
			feed(c, buf, (size_t)n);
	} else if (events & (EPOLLHUP | EPOLLERR)) {
		return false;
	}
	if (c->out_len > 0) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return false;
		if (n > 0)
			c->out_off = (size_t)n;
		if (c->out_off == c->out_len)
			c->out_off = c->out_len = 0;
	}
	conn_arm(epfd, c);
	return true;
}

static int serve_epoll(int lfd)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };
	int epfd = epoll_create1(EPOLL_CLOEXEC);

	if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &e) < 0) {
		fprintf(stderr, "floor-server: epoll: %s\n", strerror(errno));
		return 1;
	}
	for (;;) {
		struct epoll_event ev[64];
		int n = epoll_wait(epfd, ev, 64, -1);

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "floor-server: epoll_wait: %s\n", strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;
			int fd;

			if (c) {
				if (!conn_event(epfd, c, ev[i].events))
					conn_close(epfd, c);
				continue;
			}
			fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			for (c = conns; c < conns + CONNS_MAX && c->fd >= 0; c++)
				;
			e = (struct epoll_event){ .events = EPOLLIN, .data.ptr = c };
			if (c == conns + CONNS_MAX || epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
				fprintf(stderr, "floor-server: connection refused: %d open\n",
					CONNS_MAX);
				close(fd);
				continue;
			}
			c->fd = fd;
			c->armed = EPOLLIN;
		}
	}
}

int main(int argc, char **argv)
{
	bool blocking = argc == 3 && strcmp(argv[1], "--blocking") == 0;
	int lfd;

	if (argc != 2 + blocking || argv[argc - 1][0] == '-') {
		fprintf(stderr, "usage: floor-server [--blocking] PATH\n");
		return 2;
	}
	for (size_t i = 0; i < CONNS_MAX; i++)
		conns[i].fd = -1;
	lfd = listen_on(argv[argc - 1], blocking ? 0 : SOCK_NONBLOCK);
	if (lfd < 0)
		return 1;
	return blocking ? serve_blocking(lfd) : serve_epoll(lfd);
}
