/* UDP targets (udp.h). The target's socket is read only while the stream
 * has room for a datagram of any size (the kernel's receive buffer drops
 * beyond that, as UDP does); a datagram the target's socket cannot take
 * now holds the stream until it can, so a fast client is slowed, not
 * dropped. */
#include "udp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dgramstream.h"
#include "log.h"
#include "util.h"

/* Datagrams read from the target per event, so that one busy target does
 * not keep the loop from the others. */
#define READS_PER_EVENT 64

struct relay_udp {
	int tag; /* first: what the UDP socket's registration points to */
	int epfd, fd;
	struct dgram_stream *s;
	uint32_t events; /* registered for fd */
	bool blocked; /* a datagram for the target waits for EPOLLOUT */
	bool full; /* the stream has no room: fd not read */
	bool ended;
	struct relay_udp_stats st;
	relay_udp_done_fn done;
	void *data;
	struct relay_udp *next_dead;
};

static struct relay_udp *dead;

static void update(struct relay_udp *u)
{
	uint32_t ev = (u->full ? 0 : EPOLLIN) | (u->blocked ? EPOLLOUT : 0);

	if (u->ended || ev == u->events)
		return;
	u->events = ev;
	(void)epoll_ctl(u->epfd, EPOLL_CTL_MOD, u->fd,
			&(struct epoll_event){ .events = ev, .data.ptr = u });
}

/* A frame from the client: one datagram to the target. */
static int on_datagram(void *data, const uint8_t *buf, size_t len)
{
	struct relay_udp *u = data;

	for (int tries = 0; tries < 2; tries++) {
		if (send(u->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
			u->st.to_target++;
			return 0;
		}
		if (errno == EAGAIN || errno == ENOBUFS) {
			u->blocked = true;
			update(u);
			return -EAGAIN;
		}
		/* an ICMP error an earlier datagram earned (nothing listened
		 * there yet) is reported here, once: this one was not sent */
		if (errno != ECONNREFUSED && errno != EINTR)
			break;
	}
	log_debug("udp: a datagram of %zu bytes for the target dropped: %m", len);
	u->st.dropped++;
	return 0;
}

static void on_room(void *data)
{
	struct relay_udp *u = data;

	u->full = false;
	update(u);
}

static void on_done(void *data, int err)
{
	struct relay_udp *u = data;

	u->ended = true;
	(void)close(u->fd);
	u->fd = -1;
	u->next_dead = dead;
	dead = u;
	u->done(err, &u->st, u->data);
}

static const struct dgram_stream_ops ops = { on_datagram, on_room, on_done };

/* The target's datagrams, each a frame to the client, while there is room. */
static void read_target(struct relay_udp *u)
{
	static uint8_t buf[DGRAM_MAX];

	for (int i = 0; i < READS_PER_EVENT && !u->ended; i++) {
		ssize_t n;

		if (!dgram_stream_room(u->s)) {
			u->full = true;
			break;
		}
		/* MSG_TRUNC: the datagram's real length, to tell one too long */
		n = recv(u->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0) {
			/* ECONNREFUSED: an ICMP error for what we sent; it is consumed */
			log_debug("udp: reading the target: %m, ignoring");
			continue;
		}
		if ((size_t)n > sizeof(buf)) {
			u->st.dropped++; /* over IPv6, up to 65527 bytes: no frame holds it */
			continue;
		}
		if (dgram_stream_send(u->s, buf, (size_t)n) == 0)
			u->st.from_target++;
		else
			u->st.dropped++;
	}
	update(u);
}

void relay_udp_event(void *tagged, uint32_t events)
{
	struct relay_udp *u = tagged;

	if (u->ended)
		return;
	/* an ICMP error (port unreachable): read and forgotten; UDP goes on */
	if (events & EPOLLERR)
		(void)sock_error(u->fd);
	if ((events & EPOLLOUT) && u->blocked) {
		u->blocked = false;
		update(u);
		dgram_stream_resume(u->s);
		if (u->ended)
			return;
	}
	if (events & EPOLLIN)
		read_target(u);
}

int relay_udp_new(int epfd, int tag_stream, int tag_udp, int stream, int udp, const void *first,
		  size_t first_len, relay_udp_done_fn done, void *data)
{
	struct relay_udp *u = calloc(1, sizeof(*u));
	int r;

	if (!u) {
		(void)close(stream);
		(void)close(udp);
		return -ENOMEM;
	}
	*u = (struct relay_udp){ .tag = tag_udp,
				 .epfd = epfd,
				 .fd = udp,
				 .events = EPOLLIN,
				 .done = done,
				 .data = data };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, udp,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = u }) < 0) {
		r = -errno;
		(void)close(stream);
		(void)close(udp);
		free(u);
		return r;
	}
	r = dgram_stream_new(epfd, tag_stream, stream, first, first_len, &ops, u, &u->s);
	if (r < 0) {
		(void)close(udp); /* and out of the epoll set with it */
		free(u);
		return r;
	}
	return 0;
}

void relay_udp_reap(void)
{
	while (dead) {
		struct relay_udp *u = dead;

		dead = u->next_dead;
		free(u);
	}
}
