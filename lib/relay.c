/* Joining two stream sockets (relay.h). Direction 0 carries A's bytes to
 * B, direction 1 B's to A. Each fd's epoll interest is what its two
 * directions can use now: level-triggered epoll would spin on an event
 * nobody acts on, and EPOLLHUP cannot be masked, so an fd that hung up is
 * taken out of the set and the relay ends once nothing more can move. */
#include "relay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

struct dir {
	uint8_t *buf;
	size_t off, len;
	bool eof; /* the source sent EOF (or will send nothing more) */
	bool shut; /* and the destination was told */
};

struct side {
	struct relay_end end;
	struct relay *r;
	int fd;
	unsigned idx;
	uint32_t events; /* registered */
	bool hup; /* out of the epoll set */
};

struct relay {
	int epfd;
	struct side side[2];
	struct dir dir[2]; /* dir[i]: from side[i] to side[1 - i] */
	struct relay_stats st;
	relay_done_fn done;
	void *data;
	bool ended;
	struct relay *next_dead;
};

static struct relay *dead;

static void relay_end(struct relay *r, int err)
{
	if (r->ended)
		return;
	r->ended = true;
	for (unsigned i = 0; i < 2; i++) {
		(void)close(r->side[i].fd); /* sockets: nothing to flush */
		r->side[i].fd = -1;
	}
	r->next_dead = dead;
	dead = r;
	if (r->done)
		r->done(r, err, &r->st, r->data);
}

void relay_abort(struct relay *r)
{
	relay_end(r, -ECANCELED);
}

void relay_reap(void)
{
	while (dead) {
		struct relay *r = dead;

		dead = r->next_dead;
		free(r->dir[0].buf);
		free(r->dir[1].buf);
		free(r);
	}
}

static bool dir_finished(const struct dir *d)
{
	return d->eof && !d->len && d->shut;
}

static void update(struct relay *r)
{
	for (unsigned i = 0; i < 2; i++) {
		struct side *s = &r->side[i];
		uint32_t ev = 0;

		if (s->hup)
			continue;
		if (!r->dir[i].eof && !r->dir[i].len)
			ev |= EPOLLIN;
		if (r->dir[1 - i].len)
			ev |= EPOLLOUT;
		if (ev == s->events)
			continue;
		s->events = ev;
		(void)epoll_ctl(r->epfd, EPOLL_CTL_MOD, s->fd,
				&(struct epoll_event){ .events = ev, .data.ptr = &s->end });
	}
}

/* Moves what direction I can: read its source when its buffer is empty,
 * write its destination. 0, or -errno of a failing call. */
static int pump(struct relay *r, unsigned i)
{
	struct dir *d = &r->dir[i];
	int src = r->side[i].fd, dst = r->side[1 - i].fd;

	for (;;) {
		if (!d->len && !d->eof) {
			ssize_t n = read(src, d->buf, RELAY_BUF_SIZE);

			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n < 0)
				return errno == ECONNRESET ? -ECONNRESET : -errno;
			if (!n)
				d->eof = true;
			d->off = 0;
			d->len = (size_t)n;
		}
		if (d->len) {
			ssize_t w = send(dst, d->buf + d->off, d->len, MSG_NOSIGNAL | MSG_DONTWAIT);

			if (w < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (w < 0)
				return -errno;
			d->off += (size_t)w;
			d->len -= (size_t)w;
			r->st.bytes[i] += (uint64_t)w;
			if (d->len)
				break;
		}
		if (d->eof) {
			if (!d->shut) {
				/* a peer that is gone already shows on the other direction */
				(void)shutdown(dst, SHUT_WR);
				d->shut = true;
			}
			break;
		}
	}
	return 0;
}

static void run(struct relay *r)
{
	for (unsigned i = 0; i < 2 && !r->ended; i++) {
		int err = pump(r, i);

		if (err < 0) {
			relay_end(r, err);
			return;
		}
	}
	if (dir_finished(&r->dir[0]) && dir_finished(&r->dir[1])) {
		relay_end(r, 0);
		return;
	}
	/* a side that hung up takes nothing more: once its bytes are through,
	 * nothing can move the other way either */
	for (unsigned i = 0; i < 2; i++)
		if (r->side[i].hup && r->dir[i].eof && !r->dir[i].len) {
			relay_end(r, 0);
			return;
		}
	update(r);
}

void relay_event(struct relay_end *end, uint32_t events)
{
	struct side *s = (struct side *)end;
	struct relay *r = s->r;

	if (r->ended)
		return;
	if ((events & (EPOLLHUP | EPOLLERR)) && !s->hup) {
		int err = (events & EPOLLERR) ? sock_error(s->fd) : 0;

		if (err < 0) {
			relay_end(r, err);
			return;
		}
		/* what it sent before hanging up is still read, by run() below */
		s->hup = true;
		(void)epoll_ctl(r->epfd, EPOLL_CTL_DEL, s->fd, NULL);
		/* read everything it left: its EOF ends its direction */
		while (!r->ended && !r->dir[s->idx].eof) {
			int e = pump(r, s->idx);

			if (e < 0) {
				relay_end(r, e);
				return;
			}
			if (r->dir[s->idx].len)
				break; /* the other side is slow: its EPOLLOUT goes on */
		}
	}
	run(r);
}

int relay_new(int epfd, int tag, int a, int b, const void *first, size_t first_len,
	      relay_done_fn done, void *data, struct relay **ret)
{
	struct relay *r = calloc(1, sizeof(*r));
	int fds[2] = { a, b };

	if (!r || first_len > RELAY_BUF_SIZE)
		goto fail;
	r->epfd = epfd;
	r->done = done;
	r->data = data;
	for (unsigned i = 0; i < 2; i++) {
		r->dir[i].buf = malloc(RELAY_BUF_SIZE);
		if (!r->dir[i].buf)
			goto fail;
		r->side[i] = (struct side){ .end.tag = tag, .r = r, .fd = fds[i], .idx = i };
	}
	if (first_len) {
		memcpy(r->dir[0].buf, first, first_len);
		r->dir[0].len = first_len;
	}
	for (unsigned i = 0; i < 2; i++) {
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fds[i],
			      &(struct epoll_event){ .data.ptr = &r->side[i].end }) < 0) {
			int err = -errno;

			if (i)
				(void)epoll_ctl(epfd, EPOLL_CTL_DEL, fds[0], NULL);
			free(r->dir[0].buf);
			free(r->dir[1].buf);
			free(r);
			(void)close(a);
			(void)close(b);
			return err;
		}
	}
	run(r);
	*ret = r;
	return 0;

fail:
	if (r) {
		free(r->dir[0].buf);
		free(r->dir[1].buf);
		free(r);
	}
	(void)close(a);
	(void)close(b);
	return -ENOMEM;
}
