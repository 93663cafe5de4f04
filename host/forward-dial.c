/* Dialling the relay (forward-dial.h): a small state machine per
 * connection, connect, the hybrid-vsock hand-shake when the address is
 * hvsock:, the relay's CONNECT line, each answer read into a buffer of its
 * own (what follows the relay's "OK\n" is the target's: it is handed on).
 * A failure found at once is reported like the others, from the next
 * forward_dial_timers(), so that DONE never runs inside forward_dial_start. */
#include "forward-dial.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/vm_sockets.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

enum stage {
	STAGE_CONNECT, /* connect(2) under way */
	STAGE_HVSOCK, /* "CONNECT <port>\n" sent to the vsock back-end */
	STAGE_ANSWER, /* "CONNECT <target>\n" sent to the relay */
	STAGE_FAILED, /* reported at the next forward_dial_timers() */
	STAGE_DONE,
};

struct forward_dial {
	struct forward_dial_end end;
	int epfd, fd;
	enum stage stage;
	struct client_addr relay;
	char target[128];
	uint8_t in[FORWARD_DIAL_LINE_MAX];
	size_t in_len;
	uint64_t deadline;
	unsigned timeout_ms;
	int err;
	char why[384];
	forward_dial_fn done;
	void *data;
	struct forward_dial *prev, *next; /* under way */
	struct forward_dial *next_dead;
};

static struct forward_dial *active, *dead;

static void unlink_active(struct forward_dial *d)
{
	if (d->prev)
		d->prev->next = d->next;
	else
		active = d->next;
	if (d->next)
		d->next->prev = d->prev;
	d->prev = d->next = NULL;
}

static void retire(struct forward_dial *d)
{
	if (d->fd >= 0) {
		(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->fd, NULL);
		(void)close(d->fd);
		d->fd = -1;
	}
	unlink_active(d);
	d->stage = STAGE_DONE;
	d->next_dead = dead;
	dead = d;
}

/* Records the failure; the next forward_dial_timers() reports it. */
static void fail(struct forward_dial *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct forward_dial *d, int err, const char *fmt, ...)
{
	va_list ap;
	char name[160];
	int n;

	client_addr_format(&d->relay, name, sizeof(name));
	n = snprintf(d->why, sizeof(d->why), "%s: ", name);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(d->why))
		vsnprintf(d->why + n, sizeof(d->why) - (size_t)n, fmt, ap);
	va_end(ap);
	d->err = err;
	d->stage = STAGE_FAILED;
	if (d->fd >= 0) {
		(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->fd, NULL);
		(void)close(d->fd);
		d->fd = -1;
	}
	d->deadline = 0; /* due now */
}

static void report(struct forward_dial *d)
{
	struct forward_dial_result res = { .fd = d->err, .why = d->why };
	forward_dial_fn done = d->done;
	void *data = d->data;

	retire(d);
	done(&res, data);
}

static void succeed(struct forward_dial *d)
{
	struct forward_dial_result res = { .fd = d->fd, .rest = d->in, .rest_len = d->in_len };
	forward_dial_fn done = d->done;
	void *data = d->data;

	(void)epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->fd, NULL);
	d->fd = -1; /* the caller's now */
	retire(d); /* freed after the batch: REST stays valid through DONE */
	done(&res, data);
}

static void watch(struct forward_dial *d, uint32_t events)
{
	(void)epoll_ctl(d->epfd, EPOLL_CTL_MOD, d->fd,
			&(struct epoll_event){ .events = events, .data.ptr = &d->end });
}

/* A line to the peer: short, on a fresh connection, so its socket buffer
 * takes it whole or the connection is broken. */
static int send_line(struct forward_dial *d, const char *line)
{
	size_t len = strlen(line);
	ssize_t w = send(d->fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (w == (ssize_t)len)
		return 0;
	return w < 0 ? -errno : -EIO;
}

/* The answer's text as it can be shown: printable ASCII, the rest '?'. */
static void printable(char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			*s = '?';
}

static void ask_target(struct forward_dial *d)
{
	char line[sizeof(d->target) + 16];
	int r;

	snprintf(line, sizeof(line), "CONNECT %s\n", d->target);
	r = send_line(d, line);
	if (r < 0) {
		fail(d, r, "sending the CONNECT line: %s", strerror(-r));
		return;
	}
	d->stage = STAGE_ANSWER;
	watch(d, EPOLLIN);
}

static void connected(struct forward_dial *d)
{
	char line[32];
	int r;

	if (d->relay.kind != CLIENT_ADDR_HVSOCK) {
		ask_target(d);
		return;
	}
	snprintf(line, sizeof(line), "CONNECT %" PRIu32 "\n", d->relay.port);
	r = send_line(d, line);
	if (r < 0) {
		fail(d, r, "sending CONNECT %" PRIu32 ": %s", d->relay.port, strerror(-r));
		return;
	}
	d->stage = STAGE_HVSOCK;
	watch(d, EPOLLIN);
}

/* One answer line at the start of IN: handled, and taken off IN. */
static void on_line(struct forward_dial *d, size_t nl)
{
	char line[FORWARD_DIAL_LINE_MAX];
	size_t len = nl;

	memcpy(line, d->in, len);
	if (len && line[len - 1] == '\r')
		len--;
	line[len] = 0;
	d->in_len -= nl + 1;
	memmove(d->in, d->in + nl + 1, d->in_len);
	printable(line);
	if (d->stage == STAGE_HVSOCK) {
		if (strcmp(line, "OK") != 0 && strncmp(line, "OK ", 3) != 0) {
			fail(d, -EPROTO,
			     "CONNECT %" PRIu32 " answered \"%.120s\": not a hybrid vsock socket?",
			     d->relay.port, line);
			return;
		}
		ask_target(d);
		return;
	}
	if (strcmp(line, "OK") == 0) {
		succeed(d);
		return;
	}
	fail(d, strncmp(line, "ERR ", 4) == 0 ? -ECONNREFUSED : -EPROTO,
	     "the relay answered \"%.200s\"", line);
}

static void on_readable(struct forward_dial *d)
{
	for (;;) {
		uint8_t *nl = memchr(d->in, '\n', d->in_len);
		ssize_t n;

		if (nl) {
			enum stage before = d->stage;

			on_line(d, (size_t)(nl - d->in));
			if (d->stage == before || d->stage >= STAGE_FAILED)
				return;
			continue; /* the back-end's OK came with more: the relay's answer */
		}
		if (d->in_len == sizeof(d->in)) {
			fail(d, -EPROTO, "an answer longer than %d bytes", FORWARD_DIAL_LINE_MAX);
			return;
		}
		n = recv(d->fd, d->in + d->in_len, sizeof(d->in) - d->in_len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			fail(d, -errno, "reading the answer: %m");
			return;
		}
		if (!n) {
			if (d->stage == STAGE_HVSOCK)
				fail(d, -ECONNREFUSED,
				     "the vsock back-end closed the connection: nothing listens on "
				     "port %" PRIu32 " in the guest (is porthole-relay running?)",
				     d->relay.port);
			else
				fail(d, -ECONNRESET, "the relay closed the connection unanswered");
			return;
		}
		d->in_len += (size_t)n;
	}
}

void forward_dial_event(struct forward_dial_end *end, uint32_t events)
{
	struct forward_dial *d = (struct forward_dial *)end;

	(void)events;
	if (d->stage == STAGE_CONNECT) {
		int err = sock_error(d->fd);

		if (err < 0) {
			fail(d, err, "connect: %s", strerror(-err));
			return;
		}
		connected(d);
		return;
	}
	if (d->stage == STAGE_HVSOCK || d->stage == STAGE_ANSWER)
		on_readable(d);
}

int forward_dial_timers(void)
{
	uint64_t now = now_mono_ns(), next = UINT64_MAX;
	struct forward_dial *d = active;

	while (d) {
		struct forward_dial *following = d->next;

		if (d->stage == STAGE_FAILED)
			report(d);
		else if (d->deadline <= now) {
			fail(d, -ETIMEDOUT, "no answer within %u s", (d->timeout_ms + 999) / 1000);
			report(d);
		} else if (d->deadline < next)
			next = d->deadline;
		d = following;
	}
	return next == UINT64_MAX ? -1 : (int)((next - now) / NSEC_PER_MSEC + 1);
}

static int open_socket(struct forward_dial *d)
{
	union {
		struct sockaddr sa;
		struct sockaddr_un un;
		struct sockaddr_vm vm;
	} a = { 0 };
	socklen_t len;
	int family;

	if (d->relay.kind == CLIENT_ADDR_VSOCK) {
		family = AF_VSOCK;
		a.vm = (struct sockaddr_vm){ .svm_family = AF_VSOCK,
					     .svm_cid = d->relay.cid,
					     .svm_port = d->relay.port };
		len = sizeof(a.vm);
	} else {
		family = AF_UNIX;
		a.un.sun_family = AF_UNIX;
		/* client_addr_parse made sure it fits */
		snprintf(a.un.sun_path, sizeof(a.un.sun_path), "%s", d->relay.path);
		len = sizeof(a.un);
	}
	d->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd < 0)
		return -errno;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->fd,
		      &(struct epoll_event){ .events = EPOLLOUT, .data.ptr = &d->end }) < 0) {
		int r = -errno;

		(void)close(d->fd);
		d->fd = -1;
		return r;
	}
	if (connect(d->fd, &a.sa, len) == 0) {
		connected(d);
		return 0;
	}
	if (errno == EINPROGRESS) {
		d->stage = STAGE_CONNECT;
		return 0;
	}
	/* a unix socket never waits: EAGAIN is a full listen queue */
	if (errno == EAGAIN)
		fail(d, -EAGAIN, "connect: its listen queue is full");
	else
		fail(d, -errno, "connect: %m");
	return 0;
}

int forward_dial_start(int epfd, int tag, const struct client_addr *relay, const char *target,
		       unsigned timeout_ms, forward_dial_fn done, void *data,
		       struct forward_dial **ret)
{
	struct forward_dial *d;
	int r;

	if (strlen(target) >= sizeof(d->target))
		return -ENAMETOOLONG;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->end.tag = tag;
	d->epfd = epfd;
	d->fd = -1;
	d->relay = *relay;
	strcpy(d->target, target);
	d->timeout_ms = timeout_ms;
	d->deadline = now_mono_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;
	d->done = done;
	d->data = data;
	d->next = active;
	if (active)
		active->prev = d;
	active = d;
	r = open_socket(d);
	if (r < 0) {
		unlink_active(d);
		free(d);
		return r;
	}
	*ret = d;
	return 0;
}

void forward_dial_cancel(struct forward_dial *d)
{
	if (d->stage != STAGE_DONE)
		retire(d);
}

void forward_dial_reap(void)
{
	while (dead) {
		struct forward_dial *d = dead;

		dead = d->next_dead;
		free(d);
	}
}
