/* The guest agent client: connects, resynchronises, frames and checks replies,
 * matches them to requests by id. Every wait has a deadline and every buffer a
 * maximum; what the replies mean is left to the callers. */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <linux/vm_sockets.h>

#include "jsonstream.h"
#include "util.h"

/* Bytes asked of each read(2): replies are small, except guest-info's (3 KiB)
 * and guest-exec-status's captured output. */
#define READ_CHUNK (64 * 1024)
/* The hybrid-vsock backend answers "OK <hostport>\n": a few bytes. */
#define HVSOCK_LINE_MAX 64
/* How long client_close() waits for replies still on their way. */
#define CLOSE_DRAIN_MS 250
#define CLOSE_DRAIN_MAX (1024 * 1024)
/* Bytes of requests queued and not yet written. */
#define CLIENT_REQUEST_QUEUE_MAX (16u * 1024 * 1024)

struct client {
	int fd;
	char name[160]; /* the address, for messages */
	struct client_reader in;
	char *out;
	size_t out_len, out_cap;
	uint64_t first_id; /* ids sent on this connection are [first_id, next_id) */
	uint64_t next_id;
	unsigned pending;
	bool sync_pending; /* a resync was sent and its reply not seen */
	bool just_sent; /* a request went out since the last read */
};

static int fail(struct client_error *err, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fills ERR (when given) with a message and returns R, so that error paths
 * read "return fail(err, -EPIPE, ...)". */
static int fail(struct client_error *err, int r, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return r;
	err->class[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->desc, sizeof(err->desc), fmt, ap);
	va_end(ap);
	return r;
}

static int fail_in(struct client_error *err, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Puts a context (the address, what was under way) before the message a
 * deeper function left in ERR, and returns R. */
static int fail_in(struct client_error *err, int r, const char *fmt, ...)
{
	char desc[sizeof(err->desc)];
	size_t len;
	va_list ap;

	if (!err)
		return r;
	snprintf(desc, sizeof(desc), "%s", err->desc);
	err->class[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->desc, sizeof(err->desc), fmt, ap);
	va_end(ap);
	len = strlen(err->desc);
	snprintf(err->desc + len, sizeof(err->desc) - len, ": %s", desc);
	return r;
}

enum client_status client_status(int r)
{
	if (r >= 0)
		return CLIENT_OK;
	switch (-r) {
	case EREMOTEIO:
		return CLIENT_GUEST_ERROR;
	case ETIMEDOUT:
		return CLIENT_TIMEOUT;
	case EBADMSG:
	case EPROTO:
	case EMSGSIZE:
		return CLIENT_PROTOCOL_ERROR;
	default:
		return CLIENT_IO_ERROR;
	}
}

static int timeout_or_default(int timeout_ms)
{
	return timeout_ms > 0 ? timeout_ms : CLIENT_TIMEOUT_MS_DEFAULT;
}

static uint64_t deadline_after(int timeout_ms)
{
	return now_mono_ns() + (uint64_t)timeout_or_default(timeout_ms) * 1000000u;
}

/* Closing a unix socket with unread bytes makes the peer's next read fail
 * with ECONNRESET, and qemu-ga 7.2 exits on that (in unix-listen mode it
 * then serves no one). So read what is there first; when an answer is still
 * due (WAITING), say we are done, which makes the agent close its side, and
 * read until it does, for a bounded time. */
static void drain_close(int fd, bool waiting)
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
		return fail(err, -ENAMETOOLONG, "connect %s: path too long", name);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, -errno, "socket for %s: %m", name);
	for (;;) {
		int left = ms_until(deadline);
		struct timeval tv = { .tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000 };

		if (left == 0) {
			r = fail(err, -ETIMEDOUT, "connect %s: the agent's queue stayed full",
				 name);
			goto fail;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
			r = fail(err, -errno, "set SO_SNDTIMEO on %s: %m", name);
			goto fail;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			r = fail(err, -ETIMEDOUT, "connect %s: the agent's queue stayed full",
				 name);
			goto fail;
		}
		r = fail(err, -errno, "connect %s: %m", name);
		goto fail;
	}
	r = set_nonblock(fd);
	if (r < 0) {
		fail(err, r, "set O_NONBLOCK on %s: %s", name, strerror(-r));
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
		return fail(err, -errno, "socket(AF_VSOCK) for %s: %m", name);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EINTR) {
		r = fail(err, -errno, "connect %s: %m", name);
		goto fail;
	}
	r = fd_wait(fd, POLLOUT, deadline);
	if (r < 0) {
		fail(err, r, "connect %s: %s", name, r == -ETIMEDOUT ? "timed out" : strerror(-r));
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) {
		r = fail(err, -errno, "connect %s: SO_ERROR: %m", name);
		goto fail;
	}
	if (soerr != 0) {
		r = fail(err, -soerr, "connect %s: %s", name, strerror(soerr));
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
		return fail(err, r, "%s: send CONNECT: %s", name,
			    r == -ETIMEDOUT ? "timed out" : strerror(-r));
	for (;;) {
		char ch;
		ssize_t got = recv(fd, &ch, 1, 0);

		if (got == 0)
			return fail(err, -ECONNREFUSED,
				    "%s: the vsock backend closed the connection: nothing listens "
				    "on port %" PRIu32 "?",
				    name, port);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return fail(err, -errno, "%s: read the CONNECT answer: %m", name);
			r = fd_wait(fd, POLLIN, deadline);
			if (r < 0)
				return fail(err, r, "%s: no answer to CONNECT %" PRIu32 ": %s",
					    name, port,
					    r == -ETIMEDOUT ? "timed out" : strerror(-r));
			continue;
		}
		if (ch == '\n')
			break;
		if (len + 1 >= sizeof(line))
			return fail(err, -EPROTO,
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
		return fail(err, -EPROTO,
			    "%s: CONNECT %" PRIu32 " answered \"%.*s\", not \"OK <port>\": not a "
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
			drain_close(fd, true);
			return r;
		}
		return fd;
	}
	return fail(err, -EINVAL, "connect: unknown address kind %d", (int)a->kind);
}

int client_addr_connect(const struct client_addr *a, int timeout_ms, struct client_error *err)
{
	char name[160];

	client_addr_format(a, name, sizeof(name));
	return addr_connect(a, deadline_after(timeout_ms), name, err);
}

void client_reader_init(struct client_reader *r, size_t max)
{
	*r = (struct client_reader){ .max = max ? max : CLIENT_REPLY_MAX };
	jsonstream_init(&r->js, r->max);
}

void client_reader_free(struct client_reader *r)
{
	jsonstream_free(&r->js);
	free(r->buf);
	client_reader_init(r, r->max);
}

int client_reader_reserve(struct client_reader *r, size_t want, char **ret_buf, size_t *ret_room)
{
	if (r->head == r->tail)
		r->head = r->tail = 0;
	if (r->cap - r->tail < want && r->head > 0) {
		/* Move the bytes not framed yet to the front before growing. */
		size_t n = r->tail - r->head;

		memmove(r->buf, r->buf + r->head, n);
		r->tail = n;
		r->head = 0;
	}
	if (r->cap - r->tail < want) {
		size_t cap = r->cap ? r->cap : 4096;
		char *nb;

		while (cap - r->tail < want)
			cap *= 2;
		nb = realloc(r->buf, cap);
		if (!nb)
			return -ENOMEM;
		r->buf = nb;
		r->cap = cap;
	}
	if (ret_buf)
		*ret_buf = r->buf + r->tail;
	if (ret_room)
		*ret_room = r->cap - r->tail;
	return 0;
}

void client_reader_commit(struct client_reader *r, size_t n)
{
	r->tail += n;
}

int client_reader_push(struct client_reader *r, const void *data, size_t len)
{
	char *at;
	int ret = client_reader_reserve(r, len, &at, NULL);

	if (ret < 0)
		return ret;
	memcpy(at, data, len);
	client_reader_commit(r, len);
	return 0;
}

/* What the framer handed over, for client_reader_next. */
struct take {
	struct client_error *err;
	size_t max;
	int ret; /* 1: V is a reply; < 0: an error; 0: nothing yet */
	json_t *v;
};

/* Takes one event and stops the framer there, but for a 0xFF between
 * replies: it precedes guest-sync-delimited's reply, and is nothing else. */
static bool take_reply(void *user, const struct jsonstream_item *item)
{
	struct take *t = user;
	json_error_t jerr;

	switch (item->event) {
	case JSONSTREAM_VALUE:
		/* a reply is an object; a bare scalar, array or stray closer
		 * is one error, and the reply after it still comes */
		if (item->data[0] != '{') {
			t->ret = fail(t->err, -EBADMSG, "unexpected byte 0x%02x between replies",
				      (unsigned char)item->data[0]);
			break;
		}
		t->v = json_loadb(item->data, item->len, 0, &jerr);
		t->ret =
			t->v ? 1 : fail(t->err, -EBADMSG, "reply is not valid JSON: %s", jerr.text);
		break;
	case JSONSTREAM_RESYNC:
		if (!item->partial)
			return true;
		t->ret = fail(t->err, -EBADMSG, "a reply cut short by a 0xFF byte");
		break;
	case JSONSTREAM_TOO_LONG:
		t->ret = fail(t->err, -EMSGSIZE, "a reply is longer than %zu bytes", t->max);
		break;
	case JSONSTREAM_TOO_DEEP:
		t->ret = fail(t->err, -EBADMSG, "a reply nested deeper than %d levels",
			      JSONSTREAM_DEPTH_MAX);
		break;
	}
	return false;
}

int client_reader_next(struct client_reader *r, json_t **ret, struct client_error *err)
{
	struct take t = { .err = err, .max = r->max };

	if (r->head < r->tail) {
		long n = jsonstream_feed(&r->js, r->buf + r->head, r->tail - r->head, take_reply,
					 &t);

		if (n < 0)
			return fail(err, (int)n, "out of memory framing a reply");
		r->head += (size_t)n;
		if (t.ret == 1)
			*ret = t.v;
		if (t.ret != 0)
			return t.ret;
	}
	/* Everything is framed. A reply over the limit is refused now, not
	 * once it ends: a peer that sends no end would have us wait. */
	if (jsonstream_over_limit(&r->js))
		return fail(err, -EMSGSIZE, "a reply is longer than %zu bytes", r->max);
	return 0;
}

static bool until_resync(void *user, const struct jsonstream_item *item)
{
	bool *found = user;

	if (item->event != JSONSTREAM_RESYNC)
		return true; /* before the marker: not ours */
	*found = true;
	return false;
}

int client_reader_skip_to_sync(struct client_reader *r, size_t *ret_dropped)
{
	bool found = false;
	size_t dropped = 0;
	long n;

	if (r->head < r->tail) {
		n = jsonstream_feed(&r->js, r->buf + r->head, r->tail - r->head, until_resync,
				    &found);
		if (n < 0)
			return (int)n;
		r->head += (size_t)n;
		dropped = (size_t)n;
	}
	/* without a marker, half a reply is as useless as the rest */
	if (!found)
		dropped += jsonstream_reset(&r->js);
	if (ret_dropped)
		*ret_dropped = dropped;
	return found ? 1 : 0;
}

int client_reply_result(json_t *reply, json_t **ret_result, struct client_error *err)
{
	json_t *ret, *e, *class, *desc;

	if (!json_is_object(reply))
		return fail(err, -EBADMSG, "reply is not a JSON object");
	ret = json_object_get(reply, "return");
	e = json_object_get(reply, "error");
	if (ret && e)
		return fail(err, -EBADMSG, "reply has both \"return\" and \"error\"");
	if (ret) {
		if (ret_result)
			*ret_result = ret;
		return 0;
	}
	if (!e)
		return fail(err, -EBADMSG, "reply has neither \"return\" nor \"error\"");
	class = json_object_get(e, "class");
	desc = json_object_get(e, "desc");
	if (!json_is_string(class) || !json_is_string(desc))
		return fail(err, -EBADMSG, "error reply without string \"class\" and \"desc\"");
	if (err) {
		snprintf(err->class, sizeof(err->class), "%s", json_string_value(class));
		snprintf(err->desc, sizeof(err->desc), "%s", json_string_value(desc));
	}
	return -EREMOTEIO;
}

int client_fd(const struct client *c)
{
	return c->fd;
}

unsigned client_pending(const struct client *c)
{
	return c->pending + (c->sync_pending ? 1 : 0);
}

/* A time-out is named by the caller, which knows what it waited for. */
static int wait_failed(struct client *c, int r, struct client_error *err)
{
	if (r == -ETIMEDOUT)
		return r;
	return fail(err, r, "poll %s: %s", c->name, strerror(-r));
}

/* Reads once (waiting until DEADLINE for bytes) into the reader; returns the
 * number of bytes read. */
static int read_more(struct client *c, uint64_t deadline, struct client_error *err)
{
	/* Right after a request the answer cannot be there yet: wait first
	 * rather than spend a recv(2) on EAGAIN (a third of the system calls
	 * of a sequential call). */
	if (c->just_sent) {
		int r = fd_wait(c->fd, POLLIN, deadline);

		c->just_sent = false;
		if (r < 0)
			return wait_failed(c, r, err);
	}
	for (;;) {
		size_t room;
		ssize_t n;
		char *at;
		int r;

		r = client_reader_reserve(&c->in, READ_CHUNK, &at, &room);
		if (r < 0)
			return fail(err, r, "read from %s: out of memory", c->name);
		n = recv(c->fd, at, room, 0);
		if (n > 0) {
			client_reader_commit(&c->in, (size_t)n);
			return (int)n;
		}
		if (n == 0)
			return fail(err, -EPIPE, "%s closed the connection", c->name);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return fail(err, -errno, "read from %s: %m", c->name);
		r = fd_wait(c->fd, POLLIN, deadline);
		if (r < 0)
			return wait_failed(c, r, err);
	}
}

static int out_append(struct client *c, const char *s, size_t len)
{
	/* Requests wait here only until the next flush: a caller that queues
	 * more than this without flushing has a bug. */
	if (len > CLIENT_REQUEST_QUEUE_MAX - c->out_len)
		return -ENOBUFS;
	if (c->out_cap - c->out_len < len) {
		size_t cap = c->out_cap ? c->out_cap : 1024;
		char *nb;

		while (cap - c->out_len < len)
			cap *= 2;
		nb = realloc(c->out, cap);
		if (!nb)
			return -ENOMEM;
		c->out = nb;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, len);
	c->out_len += len;
	return 0;
}

static int flush_until(struct client *c, uint64_t deadline, struct client_error *err)
{
	int r = send_all_until(c->fd, c->out, c->out_len, deadline);

	c->just_sent = c->out_len > 0;
	/* Whatever happened, the buffer is not resent: a partial request on
	 * the stream is the next resync's business. */
	c->out_len = 0;
	if (r == -ETIMEDOUT)
		return fail(err, r, "write to %s: timed out (the agent does not read)", c->name);
	if (r < 0)
		return fail(err, r, "write to %s: %s", c->name, strerror(-r));
	return 0;
}

int client_flush(struct client *c, int timeout_ms, struct client_error *err)
{
	return flush_until(c, deadline_after(timeout_ms), err);
}

static uint64_t random_sync_id(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = now_mono_ns() ^ ((uint64_t)getpid() << 32);
	/* Positive and exact in a double, for peers that parse JSON numbers so. */
	v &= (UINT64_C(1) << 53) - 1;
	return v ? v : 1;
}

static int sync_until(struct client *c, uint64_t deadline, struct client_error *err)
{
	uint64_t id = random_sync_id();
	size_t seen = 0;
	bool marker = false;
	char req[128];
	int n, r;

	/* 0xFF is a lexical error for the agent's JSON parser, which then
	 * drops whatever half-request an earlier client left; the reply to
	 * guest-sync-delimited is preceded by 0xFF, so that the replies to
	 * that earlier client can be told from ours. */
	n = snprintf(req, sizeof(req),
		     "\xff{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":%" PRIu64
		     "}}",
		     id);
	r = out_append(c, req, (size_t)n);
	if (r < 0)
		return fail(err, r, "resync with %s: out of memory", c->name);
	c->sync_pending = true;
	r = flush_until(c, deadline, err);
	if (r < 0)
		return r;
	for (;;) {
		json_t *v = NULL;

		if (!marker)
			marker = client_reader_skip_to_sync(&c->in, NULL) == 1;
		if (marker) {
			/* The object after a 0xFF: ours, or an earlier client's. */
			r = client_reader_next(&c->in, &v, err);
			if (r == 1) {
				json_t *ret = json_object_get(v, "return");
				bool ours = json_is_integer(ret) &&
					    (uint64_t)json_integer_value(ret) == id;

				json_decref(v);
				if (ours) {
					c->sync_pending = false;
					/* Everything sent before is answered or lost. */
					c->pending = 0;
					c->first_id = c->next_id;
					return 0;
				}
				marker = false;
				continue;
			}
			if (r == -EMSGSIZE)
				return fail_in(err, -EPROTO, "resync with %s", c->name);
			if (r < 0) {
				marker = false;
				continue;
			}
		}
		if (seen > CLIENT_SYNC_DISCARD_MAX)
			return fail(err, -EPROTO,
				    "resync with %s: no reply to guest-sync-delimited in %u bytes",
				    c->name, CLIENT_SYNC_DISCARD_MAX);
		r = read_more(c, deadline, err);
		if (r == -ETIMEDOUT)
			return fail(err, r,
				    "resync with %s: no reply to guest-sync-delimited in time",
				    c->name);
		if (r < 0)
			return r;
		seen += (size_t)r;
	}
}

int client_sync(struct client *c, int timeout_ms, struct client_error *err)
{
	return sync_until(c, deadline_after(timeout_ms), err);
}

int client_open_addr(const struct client_addr *a, const struct client_options *opts,
		     struct client **ret, struct client_error *err)
{
	struct client_options o = opts ? *opts : (struct client_options){ 0 };
	uint64_t deadline = deadline_after(o.connect_timeout_ms);
	struct client *c;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return fail(err, -ENOMEM, "connect: out of memory");
	client_addr_format(a, c->name, sizeof(c->name));
	client_reader_init(&c->in, o.max_reply);
	c->first_id = c->next_id = 1;
	c->fd = addr_connect(a, deadline, c->name, err);
	if (c->fd < 0) {
		r = c->fd;
		free(c);
		return r;
	}
	if (!o.no_sync) {
		r = sync_until(c, deadline, err);
		if (r < 0) {
			client_close(c);
			return r;
		}
	}
	*ret = c;
	return 0;
}

int client_open(const char *address, const struct client_options *opts, struct client **ret,
		struct client_error *err)
{
	struct client_addr a;
	int r = client_addr_parse(address, &a);

	if (r < 0)
		return fail(err, r,
			    "bad address \"%s\": expected unix:PATH, vsock:CID:PORT or "
			    "hvsock:PATH:PORT",
			    address);
	return client_open_addr(&a, opts, ret, err);
}

void client_close(struct client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		drain_close(c->fd, client_pending(c) > 0);
	client_reader_free(&c->in);
	free(c->out);
	free(c);
}

int client_queue(struct client *c, const char *name, json_t *args, uint64_t *ret_id,
		 struct client_error *err)
{
	json_t *req;
	char *s;
	int r;

	if (args && !json_is_object(args))
		return fail(err, -EINVAL, "%s: arguments must be a JSON object", name);
	req = json_pack("{s:s, s:I}", "execute", name, "id", (json_int_t)c->next_id);
	if (!req)
		return fail(err, -ENOMEM, "%s: out of memory", name);
	if (args && json_object_set(req, "arguments", args) < 0) {
		json_decref(req);
		return fail(err, -ENOMEM, "%s: out of memory", name);
	}
	s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!s)
		return fail(err, -ENOMEM, "%s: out of memory", name);
	r = out_append(c, s, strlen(s));
	free(s);
	if (r < 0)
		return fail(err, r, "%s: %s", name,
			    r == -ENOBUFS ? "too many requests queued" : "out of memory");
	if (ret_id)
		*ret_id = c->next_id;
	c->next_id++;
	c->pending++;
	return 0;
}

int client_send(struct client *c, const char *name, json_t *args, int timeout_ms, uint64_t *ret_id,
		struct client_error *err)
{
	int r = client_queue(c, name, args, ret_id, err);

	if (r < 0)
		return r;
	return client_flush(c, timeout_ms, err);
}

static int recv_until(struct client *c, uint64_t deadline, json_t **ret_reply, uint64_t *ret_id,
		      struct client_error *err)
{
	for (;;) {
		json_t *v = NULL, *id;
		uint64_t n = 0;
		int r;

		r = client_reader_next(&c->in, &v, err);
		if (r < 0)
			return fail_in(err, r, "from %s", c->name);
		if (r == 0) {
			r = read_more(c, deadline, err);
			if (r == -ETIMEDOUT)
				return fail(err, r, "%s: no reply in time", c->name);
			if (r < 0)
				return r;
			continue;
		}
		r = client_reply_result(v, NULL, NULL);
		if (r == -EBADMSG) {
			client_reply_result(v, NULL, err);
			json_decref(v);
			return fail_in(err, -EBADMSG, "from %s", c->name);
		}
		id = json_object_get(v, "id");
		if (id) {
			if (!json_is_integer(id) || json_integer_value(id) <= 0) {
				json_decref(v);
				return fail(err, -EPROTO,
					    "from %s: a reply with an id we never sent", c->name);
			}
			n = (uint64_t)json_integer_value(id);
			if (n >= c->first_id && n < c->next_id && c->pending > 0)
				c->pending--;
		}
		*ret_reply = v;
		if (ret_id)
			*ret_id = n;
		return 0;
	}
}

int client_recv(struct client *c, int timeout_ms, json_t **ret_reply, uint64_t *ret_id,
		struct client_error *err)
{
	return recv_until(c, deadline_after(timeout_ms), ret_reply, ret_id, err);
}

int client_call_json(struct client *c, const char *name, json_t *args, int timeout_ms,
		     json_t **ret_result, struct client_error *err)
{
	uint64_t deadline = deadline_after(timeout_ms);
	json_t *reply = NULL, *result = NULL;
	uint64_t id, got;
	int r;

	r = client_queue(c, name, args, &id, err);
	if (r < 0)
		return r;
	r = flush_until(c, deadline, err);
	if (r < 0)
		return r;
	for (;;) {
		r = recv_until(c, deadline, &reply, &got, err);
		if (r == -ETIMEDOUT)
			return fail(err, r, "%s on %s: no reply within %.1f s", name, c->name,
				    timeout_or_default(timeout_ms) / 1000.0);
		if (r < 0)
			return r;
		if (got == id)
			break;
		/* A late reply to an earlier call that timed out. */
		if (got >= c->first_id && got < id) {
			json_decref(reply);
			continue;
		}
		if (got == 0) {
			/* an error the agent sends to no request: the refusal of
			 * a client over its limit says why */
			r = client_reply_result(reply, NULL, err);
			json_decref(reply);
			if (r < 0)
				return r;
			return fail(err, -EPROTO, "%s on %s: a reply without an id", name, c->name);
		}
		json_decref(reply);
		return fail(err, -EPROTO, "%s on %s: a reply to id %" PRIu64 ", expected %" PRIu64,
			    name, c->name, got, id);
	}
	r = client_reply_result(reply, &result, err);
	if (r == 0)
		*ret_result = json_incref(result);
	json_decref(reply);
	return r;
}

/* qemu-ga's commands with success-response false (its qapi schema). */
bool client_command_silent(const char *name)
{
	static const char *const silent[] = { "guest-shutdown", "guest-suspend-disk",
					      "guest-suspend-ram", "guest-suspend-hybrid" };

	for (size_t i = 0; i < sizeof(silent) / sizeof(silent[0]); i++)
		if (strcmp(name, silent[i]) == 0)
			return true;
	return false;
}

int client_call_silent(struct client *c, const char *name, json_t *args, int timeout_ms,
		       bool *ret_closed, struct client_error *err)
{
	uint64_t deadline = deadline_after(timeout_ms), id_cmd, id_sync, got;
	json_t *sync_args, *reply = NULL;
	int r;

	*ret_closed = false;
	/* the sync's id is one that the next request would have: unique here */
	sync_args = json_pack("{s:I}", "id", (json_int_t)(c->next_id + 1));
	if (!sync_args)
		return fail(err, -ENOMEM, "out of memory");
	r = client_queue(c, name, args, &id_cmd, err);
	if (r >= 0)
		r = client_queue(c, "guest-sync", sync_args, &id_sync, err);
	json_decref(sync_args);
	if (r >= 0)
		r = flush_until(c, deadline, err);
	if (r < 0)
		return r;
	for (;;) {
		r = recv_until(c, deadline, &reply, &got, err);
		if (r == -EPIPE) {
			/* the agent went down with the guest before the sync's turn */
			*ret_closed = true;
			return 0;
		}
		if (r == -ETIMEDOUT)
			return fail(err, r, "%s on %s: neither an answer nor a close within %.1f s",
				    name, c->name, timeout_or_default(timeout_ms) / 1000.0);
		if (r < 0)
			return r;
		if (got == id_cmd || got == id_sync)
			break;
		json_decref(reply);
	}
	/* the command's own reply is its error; the sync's says it was taken */
	r = client_reply_result(reply, NULL, err);
	json_decref(reply);
	return r;
}

int client_call(struct client *c, const char *name, const char *args_json, int timeout_ms,
		json_t **ret_result, struct client_error *err)
{
	json_error_t jerr;
	json_t *args = NULL;
	int r;

	if (args_json) {
		args = json_loads(args_json, 0, &jerr);
		if (!args)
			return fail(err, -EINVAL, "%s: arguments are not valid JSON: %s", name,
				    jerr.text);
		if (!json_is_object(args)) {
			json_decref(args);
			return fail(err, -EINVAL, "%s: arguments must be a JSON object", name);
		}
	}
	r = client_call_json(c, name, args, timeout_ms, ret_result, err);
	json_decref(args);
	return r;
}
