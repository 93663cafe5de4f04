/* Datagrams framed over a stream (dgramstream.h). What is read goes into
 * one frame's worth of buffer and out to the callback frame by frame; what
 * is to be written queues in a bounded buffer. The stream's epoll interest
 * is what can move now: level-triggered epoll would spin on an event
 * nobody acts on, and EPOLLHUP cannot be masked, so a stream that hung up
 * is taken out of the set and read to its end as the callback takes. */
#include "dgramstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

/* Reads of the stream per event: a peer that writes as fast as we read
 * does not keep the caller's loop from its other fds. */
#define READS_PER_EVENT 16

struct dgram_stream {
	struct dgram_stream_end end;
	int epfd, fd;
	uint8_t *in; /* DGRAM_FRAME_MAX bytes: [in_off, in_len) not delivered yet */
	size_t in_off, in_len;
	uint8_t *out; /* DGRAM_STREAM_OUT_SIZE bytes: [out_off, out_off + out_len) to write */
	size_t out_off, out_len;
	const struct dgram_stream_ops *ops;
	void *data;
	uint32_t events; /* registered */
	int err; /* a write that failed in dgram_stream_send, reported by the next event */
	bool held; /* the callback said -EAGAIN to the frame at in_off */
	bool eof, hup, want_room, ended;
	struct dgram_stream *next_dead;
};

static struct dgram_stream *dead;

size_t dgram_frame_put(uint8_t *dst, const void *buf, size_t len)
{
	dst[0] = (uint8_t)(len >> 8);
	dst[1] = (uint8_t)len;
	if (len)
		memcpy(dst + DGRAM_HEADER, buf, len);
	return DGRAM_HEADER + len;
}

int dgram_frame_next(const uint8_t *buf, size_t len, const uint8_t **ret_data, size_t *ret_len)
{
	size_t n;

	if (len < DGRAM_HEADER)
		return 0;
	n = (size_t)buf[0] << 8 | buf[1];
	if (n > DGRAM_MAX)
		return -EMSGSIZE;
	if (len < DGRAM_HEADER + n)
		return 0;
	*ret_data = buf + DGRAM_HEADER;
	*ret_len = n;
	return (int)(DGRAM_HEADER + n);
}

static void end(struct dgram_stream *s, int err)
{
	if (s->ended)
		return;
	s->ended = true;
	(void)close(s->fd); /* a socket: nothing to flush */
	s->fd = -1;
	s->next_dead = dead;
	dead = s;
	s->ops->done(s->data, err);
}

void dgram_stream_abort(struct dgram_stream *s)
{
	end(s, -ECANCELED);
}

void dgram_stream_reap(void)
{
	while (dead) {
		struct dgram_stream *s = dead;

		dead = s->next_dead;
		free(s->in);
		free(s->out);
		free(s);
	}
}

static size_t out_free(const struct dgram_stream *s)
{
	return DGRAM_STREAM_OUT_SIZE - s->out_len;
}

static void update(struct dgram_stream *s)
{
	uint32_t ev = 0;

	if (s->hup || s->ended)
		return;
	if (!s->eof && !s->held)
		ev |= EPOLLIN;
	if (s->out_len || s->err)
		ev |= EPOLLOUT;
	if (ev == s->events)
		return;
	s->events = ev;
	(void)epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->fd,
			&(struct epoll_event){ .events = ev, .data.ptr = &s->end });
}

/* Writes what is queued: 0, or -errno of the failing send. */
static int write_out(struct dgram_stream *s)
{
	while (s->out_len) {
		ssize_t w =
			send(s->fd, s->out + s->out_off, s->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0)
			return -errno;
		s->out_off += (size_t)w;
		s->out_len -= (size_t)w;
	}
	if (!s->out_len)
		s->out_off = 0;
	return 0;
}

/* Hands the whole frames read to the callback, until one is refused. */
static int deliver(struct dgram_stream *s)
{
	while (!s->held && !s->ended) {
		const uint8_t *d;
		size_t n;
		int r = dgram_frame_next(s->in + s->in_off, s->in_len - s->in_off, &d, &n);

		if (r <= 0) {
			if (r < 0)
				return r;
			break;
		}
		if (s->ops->datagram(s->data, d, n) == -EAGAIN) {
			s->held = true;
			break;
		}
		s->in_off += (size_t)r;
	}
	if (s->in_off && !s->held) {
		/* what is left is less than a frame: the buffer holds the rest */
		memmove(s->in, s->in + s->in_off, s->in_len - s->in_off);
		s->in_len -= s->in_off;
		s->in_off = 0;
	}
	return 0;
}

/* Reads and delivers while the callback takes; to the EOF when the stream
 * hung up (no event will come for it again). */
static int read_in(struct dgram_stream *s)
{
	for (unsigned i = 0; (s->hup || i < READS_PER_EVENT) && !s->held && !s->eof && !s->ended;
	     i++) {
		ssize_t n = read(s->fd, s->in + s->in_len, DGRAM_FRAME_MAX - s->in_len);
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			return errno == ECONNRESET ? -ECONNRESET : -errno;
		if (!n) {
			s->eof = true;
			break;
		}
		s->in_len += (size_t)n;
		r = deliver(s);
		if (r < 0)
			return r;
	}
	return 0;
}

static void run(struct dgram_stream *s)
{
	int r;

	if (s->err) {
		end(s, s->err);
		return;
	}
	if (!s->hup) {
		r = write_out(s);
		if (r < 0) {
			end(s, r);
			return;
		}
		if (s->want_room && out_free(s) >= DGRAM_FRAME_MAX) {
			s->want_room = false;
			if (s->ops->room)
				s->ops->room(s->data);
			if (s->ended)
				return;
		}
	}
	/* frames already here (the hand-shake's, or one refused before) */
	r = deliver(s);
	if (r >= 0)
		r = read_in(s);
	if (r < 0) {
		end(s, r);
		return;
	}
	if (s->ended)
		return;
	/* the EOF ends it once the frames before it are taken */
	if (s->eof && !s->held) {
		end(s, s->in_len ? -EPROTO : 0);
		return;
	}
	update(s);
}

void dgram_stream_event(struct dgram_stream_end *e, uint32_t events)
{
	struct dgram_stream *s = (struct dgram_stream *)e;

	if (s->ended)
		return;
	if ((events & (EPOLLHUP | EPOLLERR)) && !s->hup) {
		int err = (events & EPOLLERR) ? sock_error(s->fd) : 0;

		if (err < 0) {
			end(s, err);
			return;
		}
		/* nothing can be written to it; what it sent is still read */
		s->hup = true;
		(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	}
	run(s);
}

void dgram_stream_resume(struct dgram_stream *s)
{
	if (s->ended || !s->held)
		return;
	s->held = false;
	run(s);
}

bool dgram_stream_room(struct dgram_stream *s)
{
	if (out_free(s) >= DGRAM_FRAME_MAX)
		return true;
	s->want_room = true;
	return false;
}

int dgram_stream_send(struct dgram_stream *s, const void *buf, size_t len)
{
	size_t need = DGRAM_HEADER + len;

	if (len > DGRAM_MAX)
		return -EMSGSIZE;
	if (s->ended)
		return -EPIPE;
	if (need > out_free(s)) {
		s->want_room = true;
		return -ENOBUFS;
	}
	if (s->out_off + s->out_len + need > DGRAM_STREAM_OUT_SIZE) {
		memmove(s->out, s->out + s->out_off, s->out_len);
		s->out_off = 0;
	}
	s->out_len += dgram_frame_put(s->out + s->out_off + s->out_len, buf, len);
	/* written now when the stream takes it; a failure is the next event's */
	if (!s->hup && !s->err)
		s->err = write_out(s);
	update(s);
	return 0;
}

int dgram_stream_new(int epfd, int tag, int fd, const void *first, size_t first_len,
		     const struct dgram_stream_ops *ops, void *data, struct dgram_stream **ret)
{
	struct dgram_stream *s = calloc(1, sizeof(*s));
	int r = -ENOMEM;

	if (!s)
		goto fail;
	s->in = malloc(DGRAM_FRAME_MAX);
	s->out = malloc(DGRAM_STREAM_OUT_SIZE);
	if (!s->in || !s->out)
		goto fail;
	if (first_len > DGRAM_FRAME_MAX) {
		r = -E2BIG;
		goto fail;
	}
	s->end.tag = tag;
	s->epfd = epfd;
	s->fd = fd;
	s->ops = ops;
	s->data = data;
	if (first_len)
		memcpy(s->in, first, first_len);
	s->in_len = first_len;
	/* a fresh stream is writable: its first event delivers the frames
	 * that came with the hand-shake, with no callback before we return */
	s->events = EPOLLIN | EPOLLOUT;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd,
		      &(struct epoll_event){ .events = s->events, .data.ptr = &s->end }) < 0) {
		r = -errno;
		goto fail;
	}
	*ret = s;
	return 0;

fail:
	if (s) {
		free(s->in);
		free(s->out);
		free(s);
	}
	(void)close(fd);
	return r;
}
