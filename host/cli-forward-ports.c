/* porthole forward ports: the guest's listening ports on the host, as
 * Docker Desktop publishes a container's ports, with nothing named before
 * boot. The loop keeps the host's sockets in step with the guest's set
 * (which forward-watch.c's thread long-polls from porthole-ports): for each
 * guest port, TCP or UDP, a socket on each --bind address (127.0.0.1 and
 * ::1) with the same number. Each TCP connection is carried to the guest
 * through porthole-relay ("CONNECT tcp:..."); each UDP peer gets a flow of
 * its own ("CONNECT udp:...", datagrams framed by lib/dgramstream), closed
 * when idle. With --port: fixed ports, no agent. What a set means (targets,
 * the diff) is forward-ports.c's; dialling the relay, forward-dial.c's. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "dgramstream.h"
#include "forward-dial.h"
#include "forward-ports.h"
#include "forward-seccomp.h"
#include "forward-watch.h"
#include "relay.h"
#include "util.h"

#define BINDS_MAX 8
/* TCP connections at once, those being dialled included (the relay's own
 * limit is 256, UDP flows included). */
#define TCP_CONNS_MAX 256
/* UDP flows (host peers) at once: a new one closes the least recently
 * used. Half the relay's limit, so that UDP alone never reaches it (a flow
 * closed here ends on the relay a moment later). */
#define FLOWS_MAX 128
/* A flow ends after this long without a datagram either way (--udp-idle). */
#define FLOW_IDLE_MS 60000
/* Datagrams a flow queues while its relay connection is dialled. */
#define FLOW_PENDING_MAX (64 * 1024)
/* A flow whose dial failed drops its peer's datagrams this long, so that a
 * peer that keeps sending is not dialled, and reported, for each. */
#define FLOW_REFUSED_MS 5000
#define DIAL_MS 5000
/* Forwards are kept this long after the agent went away: a restarted agent
 * finds them as they were; a VM that stopped frees the host's ports. */
#define AGENT_GRACE_MS 10000
#define EVENTS_MAX 64
#define PER_EVENT 16 /* accepts, and datagrams x 4, per listener event */

enum tag {
	TAG_SIGNAL,
	TAG_WATCH, /* forward-watch's eventfd */
	TAG_TCP, /* a TCP listener */
	TAG_UDP, /* a UDP socket */
	TAG_DIAL,
	TAG_RELAY,
	TAG_DGRAM,
};

struct fwd;

/* A host socket of a forward, on one --bind address. */
struct listener {
	int tag; /* first: what its epoll registration points to */
	int fd; /* -1 when not bound */
	int err; /* the bind's error last reported; 0 once bound */
	struct fwd *f;
	struct forward_bind *bind;
};

struct fwd {
	struct forward_port p;
	struct listener l[BINDS_MAX];
	bool announced; /* its line printed: one of its sockets is bound */
	struct fwd *next;
};

struct flow {
	struct listener *l; /* the host socket its peer sends to */
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} peer;
	socklen_t peer_len;
	struct forward_dial *dial; /* while the relay is dialled */
	struct dgram_stream *s; /* once it answered */
	uint8_t *pending; /* frames queued while dialling */
	size_t pending_len;
	uint64_t last; /* CLOCK_MONOTONIC ns of its last datagram, either way */
	uint64_t refused_until; /* its dial failed: dropping until then */
	bool closing;
	struct flow *prev, *next; /* most recently used first */
};

struct tcp_conn {
	int cfd;
	char what[32]; /* "tcp 8080" */
};

static struct {
	struct cli *cli;
	int epfd;
	struct client_addr relay;
	char relay_name[160];
	struct forward_bind binds[BINDS_MAX];
	int bind_said[BINDS_MAX]; /* an address-wide error said once (no IPv6) */
	size_t n_binds;
	struct fwd *fwds;
	struct forward_port_set *cur;
	struct flow *flows_head, *flows_tail;
	unsigned n_flows, tcp_open;
	bool said_tcp_full, said_flows_full;
	size_t said_ignored;
	uint64_t idle_ms; /* --udp-idle */
	uint64_t sweep_at; /* no flow's deadline is before it */
	uint64_t grace_at; /* the agent went away: forwards end then (0: none) */
	uint64_t served, failed, flows, dropped;
} S;

/* One line on F, "porthole: forward: " first, written whole: the agent's
 * poller writes too. say(): what changes, on stdout; warn(): what goes
 * wrong, on stderr. */
static void line_to(FILE *f, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void line_to(FILE *f, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(f, "porthole: forward: %s\n", line);
	fflush(f);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line_to(stdout, fmt, ap);
	va_end(ap);
}

static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line_to(stderr, fmt, ap);
	va_end(ap);
}

/* --- UDP flows --- */

static void flow_unlink(struct flow *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		S.flows_head = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		S.flows_tail = f->prev;
	f->prev = f->next = NULL;
}

static void flow_push_front(struct flow *f)
{
	f->next = S.flows_head;
	if (S.flows_head)
		S.flows_head->prev = f;
	S.flows_head = f;
	if (!S.flows_tail)
		S.flows_tail = f;
}

static void flow_touch(struct flow *f)
{
	f->last = now_mono_ns();
	if (S.flows_head != f) {
		flow_unlink(f);
		flow_push_front(f);
	}
}

static void flow_free(struct flow *f)
{
	flow_unlink(f);
	S.n_flows--;
	free(f->pending);
	free(f);
}

/* Ends it: its relay connection closed (the relay then ends its side). */
static void flow_close(struct flow *f)
{
	f->closing = true;
	if (f->dial)
		forward_dial_cancel(f->dial);
	if (f->s)
		dgram_stream_abort(f->s); /* its done sees closing */
	flow_free(f);
}

static const char *peer_str(const struct flow *f, char *buf, size_t size)
{
	char a[FORWARD_ADDR_MAX];
	const void *addr = f->peer.sa.sa_family == AF_INET ? (const void *)&f->peer.in.sin_addr
							   : (const void *)&f->peer.in6.sin6_addr;
	unsigned port = ntohs(f->peer.sa.sa_family == AF_INET ? f->peer.in.sin_port
							      : f->peer.in6.sin6_port);

	if (!inet_ntop(f->peer.sa.sa_family, addr, a, sizeof(a)))
		strcpy(a, "?");
	snprintf(buf, size, f->peer.sa.sa_family == AF_INET ? "%s:%u" : "[%s]:%u", a, port);
	return buf;
}

/* A datagram from the guest: to the flow's peer, from the port it sent to. */
static int flow_datagram(void *data, const uint8_t *buf, size_t len)
{
	struct flow *f = data;

	/* a full socket buffer drops it, as UDP does */
	if (sendto(f->l->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, &f->peer.sa, f->peer_len) < 0)
		S.dropped++;
	flow_touch(f);
	return 0;
}

static void flow_done(void *data, int err)
{
	struct flow *f = data;
	char peer[64];

	if (f->closing)
		return;
	f->s = NULL;
	if (err == -EMSGSIZE || err == -EPROTO)
		warn("udp %u from %s: the relay's frames are broken", f->l->f->p.port,
		     peer_str(f, peer, sizeof(peer)));
	else if (err < 0 && err != -ECONNRESET && err != -EPIPE)
		warn("udp %u from %s: %s", f->l->f->p.port, peer_str(f, peer, sizeof(peer)),
		     strerror(-err));
	flow_free(f);
}

static const struct dgram_stream_ops flow_ops = { flow_datagram, NULL, flow_done };

static void flow_dialled(const struct forward_dial_result *res, void *data)
{
	struct flow *f = data;
	char peer[64];
	size_t off = 0;
	int r;

	f->dial = NULL;
	if (res->fd < 0) {
		warn("udp %u from %s: %s", f->l->f->p.port, peer_str(f, peer, sizeof(peer)),
		     res->why);
		S.failed++;
		f->refused_until = now_mono_ns() + FLOW_REFUSED_MS * NSEC_PER_MSEC;
		if (f->refused_until < S.sweep_at)
			S.sweep_at = f->refused_until;
		free(f->pending);
		f->pending = NULL;
		f->pending_len = 0;
		return;
	}
	r = dgram_stream_new(S.epfd, TAG_DGRAM, res->fd, res->rest, res->rest_len, &flow_ops, f,
			     &f->s);
	if (r < 0) {
		warn("udp %u: %s", f->l->f->p.port, strerror(-r));
		flow_free(f);
		return;
	}
	/* what the peer sent meanwhile, in order */
	while (off < f->pending_len) {
		const uint8_t *d;
		size_t n;
		int k = dgram_frame_next(f->pending + off, f->pending_len - off, &d, &n);

		if (k <= 0)
			break;
		if (dgram_stream_send(f->s, d, n) < 0)
			S.dropped++;
		off += (size_t)k;
	}
	free(f->pending);
	f->pending = NULL;
	f->pending_len = 0;
}

static struct flow *flow_find(struct listener *l, const struct sockaddr *peer, socklen_t len)
{
	for (struct flow *f = S.flows_head; f; f = f->next)
		if (f->l == l && f->peer_len == len && memcmp(&f->peer, peer, len) == 0)
			return f;
	return NULL;
}

static struct flow *flow_new(struct listener *l, const struct sockaddr *peer, socklen_t len)
{
	char target[FORWARD_ADDR_MAX + 16];
	struct flow *f;
	int r;

	if (len > sizeof(f->peer))
		return NULL;
	if (S.n_flows >= FLOWS_MAX) {
		if (!S.said_flows_full)
			say("%d UDP flows: each new one closes the least recently used", FLOWS_MAX);
		S.said_flows_full = true;
		flow_close(S.flows_tail);
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->l = l;
	memcpy(&f->peer, peer, len);
	f->peer_len = len;
	forward_ports_relay_target(&l->f->p, target, sizeof(target));
	r = forward_dial_start(S.epfd, TAG_DIAL, &S.relay, target, DIAL_MS, flow_dialled, f,
			       &f->dial);
	if (r < 0) {
		warn("udp %u: %s: %s", l->f->p.port, S.relay_name, strerror(-r));
		free(f);
		return NULL;
	}
	f->last = now_mono_ns();
	if (f->last + S.idle_ms * NSEC_PER_MSEC < S.sweep_at)
		S.sweep_at = f->last + S.idle_ms * NSEC_PER_MSEC;
	flow_push_front(f);
	S.n_flows++;
	S.flows++;
	return f;
}

static void flow_queue(struct flow *f, const uint8_t *buf, size_t len)
{
	if (f->pending_len + DGRAM_HEADER + len > FLOW_PENDING_MAX) {
		S.dropped++;
		return;
	}
	if (!f->pending) {
		f->pending = malloc(FLOW_PENDING_MAX);
		if (!f->pending) {
			S.dropped++;
			return;
		}
	}
	f->pending_len += dgram_frame_put(f->pending + f->pending_len, buf, len);
}

static void on_udp(struct listener *l)
{
	static uint8_t buf[DGRAM_MAX];

	for (int i = 0; i < 4 * PER_EVENT && l->fd >= 0; i++) {
		union {
			struct sockaddr sa;
			struct sockaddr_in6 in6;
		} peer;
		socklen_t len = sizeof(peer);
		ssize_t n =
			recvfrom(l->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC, &peer.sa, &len);
		struct flow *f;

		if (n < 0)
			return; /* EAGAIN; an unconnected socket has no errors to tell */
		if ((size_t)n > sizeof(buf)) {
			S.dropped++; /* IPv6 carries up to 65527 bytes: no frame holds it */
			continue;
		}
		f = flow_find(l, &peer.sa, len);
		if (!f)
			f = flow_new(l, &peer.sa, len);
		if (!f) {
			S.dropped++;
			continue;
		}
		if (f->refused_until) {
			S.dropped++;
			continue;
		}
		flow_touch(f);
		if (f->s) {
			if (dgram_stream_send(f->s, buf, (size_t)n) < 0)
				S.dropped++; /* the relay is slower: dropped, as UDP does */
		} else
			flow_queue(f, buf, (size_t)n);
	}
}

/* Flows idle for --udp-idle, and refused ones after FLOW_REFUSED_MS,
 * end; the next such time is kept in sweep_at. */
static void flows_sweep(uint64_t now)
{
	uint64_t next = UINT64_MAX;
	struct flow *f = S.flows_head;

	if (now < S.sweep_at)
		return;
	while (f) {
		struct flow *following = f->next;
		uint64_t due =
			f->refused_until ? f->refused_until : f->last + S.idle_ms * NSEC_PER_MSEC;

		if (due <= now)
			flow_close(f);
		else if (due < next)
			next = due;
		f = following;
	}
	S.sweep_at = next;
}

/* --- TCP connections --- */

static void tcp_done(struct relay *r, int err, const struct relay_stats *st, void *data)
{
	(void)r;
	(void)st;
	(void)data;
	if (err < 0 && err != -ECONNRESET && err != -EPIPE)
		warn("a connection ended: %s", strerror(-err));
	S.tcp_open--;
}

static void tcp_dialled(const struct forward_dial_result *res, void *data)
{
	struct tcp_conn *c = data;
	struct relay *r;

	if (res->fd < 0) {
		warn("%s: %s", c->what, res->why);
		(void)close(c->cfd); /* the client sees the connection close */
		S.failed++;
		S.tcp_open--;
	} else if (relay_new(S.epfd, TAG_RELAY, res->fd, c->cfd, res->rest, res->rest_len, tcp_done,
			     NULL, &r) < 0) {
		/* (the relay's side first: what came after its "OK" goes to the client) */
		warn("%s: no memory for a connection", c->what);
		S.failed++;
		S.tcp_open--;
	} else
		S.served++;
	free(c);
}

static void on_tcp(struct listener *l)
{
	for (int i = 0; i < PER_EVENT && l->fd >= 0; i++) {
		char target[FORWARD_ADDR_MAX + 16];
		int cfd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct forward_dial *d;
		struct tcp_conn *c;
		int r;

		if (cfd < 0)
			return;
		if (S.tcp_open >= TCP_CONNS_MAX) {
			if (!S.said_tcp_full)
				warn("%d TCP connections open: more are closed at once",
				     TCP_CONNS_MAX);
			S.said_tcp_full = true;
			S.failed++;
			(void)close(cfd);
			continue;
		}
		S.said_tcp_full = false;
		c = malloc(sizeof(*c));
		if (!c) {
			(void)close(cfd);
			S.failed++;
			continue;
		}
		c->cfd = cfd;
		snprintf(c->what, sizeof(c->what), "tcp %u", l->f->p.port);
		forward_ports_relay_target(&l->f->p, target, sizeof(target));
		r = forward_dial_start(S.epfd, TAG_DIAL, &S.relay, target, DIAL_MS, tcp_dialled, c,
				       &d);
		if (r < 0) {
			warn("%s: %s: %s", c->what, S.relay_name, strerror(-r));
			(void)close(cfd);
			free(c);
			S.failed++;
			continue;
		}
		S.tcp_open++;
	}
}

/* --- forwards: the host's sockets --- */

static const char *bind_hint(int err)
{
	switch (err) {
	case EACCES:
		return " (a port below 1024 needs privileges on the host)";
	case EADDRINUSE:
		return " (another program on the host has it)";
	case EADDRNOTAVAIL:
		return " (the host has no such address)";
	case EAFNOSUPPORT:
		return " (no IPv6 on the host?)";
	default:
		return "";
	}
}

/* Binds L; a failure is said once (again only when its reason changes),
 * and one that is the address's, not the port's, once for all ports. */
static void listener_open(struct listener *l)
{
	const struct forward_bind *b = l->bind;
	bool tcp = l->f->p.proto == FORWARD_TCP;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} a = { 0 };
	socklen_t len;
	int one = 1, fd, err = 0;

	if (b->family == AF_INET) {
		a.in = (struct sockaddr_in){ .sin_family = AF_INET,
					     .sin_port = htons(l->f->p.port),
					     .sin_addr = b->v4 };
		len = sizeof(a.in);
	} else {
		a.in6 = (struct sockaddr_in6){ .sin6_family = AF_INET6,
					       .sin6_port = htons(l->f->p.port),
					       .sin6_addr = b->v6 };
		len = sizeof(a.in6);
	}
	fd = socket(b->family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		err = errno;
	/* TCP: a port this forwarder had a moment ago (TIME_WAIT) binds again;
	 * UDP gets no SO_REUSEADDR, which would let two sockets share a port */
	else if ((tcp && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) ||
		 (b->family == AF_INET6 &&
		  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
		 bind(fd, &a.sa, len) < 0 || (tcp && listen(fd, 128) < 0) ||
		 epoll_ctl(S.epfd, EPOLL_CTL_ADD, fd,
			   &(struct epoll_event){ .events = EPOLLIN, .data.ptr = l }) < 0)
		err = errno;
	if (!err) {
		l->fd = fd;
		l->err = 0;
		return;
	}
	if (fd >= 0)
		(void)close(fd);
	if (err == EADDRNOTAVAIL || err == EAFNOSUPPORT) {
		size_t i = (size_t)(l->bind - S.binds);

		if (S.bind_said[i] != err)
			warn("%s: %s%s: nothing is forwarded there", b->text, strerror(err),
			     bind_hint(err));
		S.bind_said[i] = err;
	} else if (err != l->err)
		warn("%s %u on %s: %s%s", forward_ports_proto_name(l->f->p.proto), l->f->p.port,
		     b->text, strerror(err), bind_hint(err));
	l->err = err;
}

static void fwd_announce(struct fwd *f)
{
	char line[128];
	bool bound = false;

	for (size_t i = 0; i < S.n_binds; i++)
		bound |= f->l[i].fd >= 0;
	if (!bound || f->announced)
		return;
	forward_ports_format(&f->p, line, sizeof(line));
	say("%s", line);
	f->announced = true;
}

static void fwd_start(const struct forward_port *p)
{
	struct fwd *f = calloc(1, sizeof(*f));

	if (!f) {
		warn("%s %u: out of memory", forward_ports_proto_name(p->proto), p->port);
		return;
	}
	f->p = *p;
	for (size_t i = 0; i < S.n_binds; i++) {
		f->l[i] = (struct listener){ .tag = p->proto == FORWARD_TCP ? TAG_TCP : TAG_UDP,
					     .fd = -1,
					     .f = f,
					     .bind = &S.binds[i] };
		listener_open(&f->l[i]);
	}
	fwd_announce(f);
	f->next = S.fwds;
	S.fwds = f;
}

static struct fwd *fwd_find(const struct forward_port *p)
{
	for (struct fwd *f = S.fwds; f; f = f->next)
		if (f->p.proto == p->proto && f->p.port == p->port)
			return f;
	return NULL;
}

/* Its sockets closed and its flows ended; connections already carried go
 * on. Freed after the batch of events, which may still name its sockets. */
static struct fwd *dead_fwds;

static void fwd_stop(struct fwd *f)
{
	char line[128];

	for (struct flow *fl = S.flows_head; fl;) {
		struct flow *following = fl->next;

		if (fl->l->f == f)
			flow_close(fl);
		fl = following;
	}
	for (size_t i = 0; i < S.n_binds; i++)
		if (f->l[i].fd >= 0) {
			(void)close(f->l[i].fd); /* and out of the epoll set */
			f->l[i].fd = -1;
		}
	if (f->announced) {
		forward_ports_format(&f->p, line, sizeof(line));
		say("%s stopped", line);
	}
	for (struct fwd **pp = &S.fwds; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	f->next = dead_fwds;
	dead_fwds = f;
}

static void fwds_reap(void)
{
	while (dead_fwds) {
		struct fwd *f = dead_fwds;

		dead_fwds = f->next;
		free(f);
	}
}

static void on_change(void *data, enum forward_change change, const struct forward_port *before,
		      const struct forward_port *after)
{
	struct fwd *f;
	char line[128];

	(void)data;
	switch (change) {
	case FORWARD_ADDED:
		fwd_start(after);
		break;
	case FORWARD_REMOVED:
		f = fwd_find(before);
		if (f)
			fwd_stop(f);
		break;
	case FORWARD_RETARGETED:
		/* new connections go to the new address; those open go on */
		f = fwd_find(before);
		if (!f)
			break;
		f->p = *after;
		if (f->announced) {
			forward_ports_format(&f->p, line, sizeof(line));
			say("%s", line);
		}
		break;
	}
}

/* The forwards made to match NEXT (taken); sockets that could not be bound
 * are tried again. */
static void apply(struct forward_port_set *next)
{
	forward_ports_diff(S.cur, next, on_change, NULL);
	free(S.cur);
	S.cur = next;
	for (struct fwd *f = S.fwds; f; f = f->next) {
		for (size_t i = 0; i < S.n_binds; i++)
			if (f->l[i].fd < 0 && f->l[i].err)
				listener_open(&f->l[i]);
		fwd_announce(f);
	}
}

/* The poller's news: a new set, and whether the agent went away since. */
static void on_watch(void)
{
	struct forward_port_set *set;
	bool lost;

	forward_watch_take(&set, &lost);
	if (set) {
		/* a set comes only from an agent that answers: it is back */
		S.grace_at = 0;
		if (set->ignored && set->ignored != S.said_ignored)
			warn("%zu of the guest's ports left out (more than %d, or on a link-local "
			     "IPv6 address)",
			     set->ignored, FORWARD_PORTS_MAX);
		S.said_ignored = set->ignored;
		apply(set);
	}
	if (lost && !S.grace_at && S.fwds)
		S.grace_at = now_mono_ns() + AGENT_GRACE_MS * NSEC_PER_MSEC;
}

/* --- the loop --- */

static int min_timeout(int a, uint64_t at, uint64_t now)
{
	int ms;

	if (!at || at == UINT64_MAX)
		return a;
	ms = at <= now ? 0 : (int)((at - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
	return a < 0 || ms < a ? ms : a;
}

static int serve(void)
{
	struct epoll_event ev[EVENTS_MAX];

	for (;;) {
		int timeout = forward_dial_timers(), n;
		uint64_t now = now_mono_ns();

		forward_dial_reap();
		flows_sweep(now);
		if (S.grace_at && now >= S.grace_at) {
			struct forward_port_set *none = calloc(1, sizeof(*none));

			S.grace_at = 0;
			if (none) {
				say("the agent is still away after %d s: the guest's ports are "
				    "forwarded no more",
				    AGENT_GRACE_MS / 1000);
				apply(none);
			}
			fwds_reap();
		}
		timeout = min_timeout(timeout, S.sweep_at, now);
		timeout = min_timeout(timeout, S.grace_at, now);
		n = epoll_wait(S.epfd, ev, EVENTS_MAX, timeout);
		if (n < 0 && errno != EINTR) {
			warn("epoll_wait: %s", strerror(errno));
			return CLI_EXIT_CONNECT;
		}
		for (int i = 0; i < n; i++) {
			int *tag = ev[i].data.ptr;

			switch (*tag) {
			case TAG_SIGNAL:
				return CLI_EXIT_OK;
			case TAG_WATCH:
				on_watch();
				break;
			case TAG_TCP:
				on_tcp((struct listener *)tag);
				break;
			case TAG_UDP:
				on_udp((struct listener *)tag);
				break;
			case TAG_DIAL:
				forward_dial_event((struct forward_dial_end *)tag, ev[i].events);
				break;
			case TAG_RELAY:
				relay_event((struct relay_end *)tag, ev[i].events);
				break;
			case TAG_DGRAM:
				dgram_stream_event((struct dgram_stream_end *)tag, ev[i].events);
				break;
			}
		}
		relay_reap();
		dgram_stream_reap();
		forward_dial_reap();
		fwds_reap();
	}
}

static int ports_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int ports_usage(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cli_usage_error("forward", "%s", msg);
}

static const struct option forward_ports_longs[] = {
	{ "bind", required_argument, NULL, 'b' },
	{ "port", required_argument, NULL, 'P' },
	{ "relay", required_argument, NULL, 'r' },
	{ "relay-port", required_argument, NULL, 'p' },
	{ "agent-port", required_argument, NULL, 'a' },
	{ "udp-idle", required_argument, NULL, 'i' },
	{ "no-seccomp", no_argument, NULL, 'S' },
	{ 0 },
};
const struct cli_options cli_forward_ports_options = { "+", forward_ports_longs };

int cli_forward_ports(struct cli *cli, int argc, char **argv)
{
	static int tag_signal = TAG_SIGNAL, tag_watch = TAG_WATCH;
	struct client_addr agent;
	char agent_name[160];
	int watch_fd;
	unsigned idle_ms;
	struct rlimit nofile;
	struct forward_port_set *fixed = calloc(1, sizeof(*fixed));
	const char *relay = NULL;
	int64_t relay_port = CLI_RELAY_VSOCK_PORT, agent_port = CLI_AGENT_VSOCK_PORT;
	bool port_given = false, seccomp = true;
	struct forward_port p;
	char list[256] = "";
	sigset_t mask;
	int c, sfd, r;

	S.cur = calloc(1, sizeof(*S.cur));
	if (!fixed || !S.cur) {
		warn("out of memory");
		return CLI_EXIT_CONNECT;
	}
	S.cli = cli;
	S.epfd = -1;
	S.sweep_at = UINT64_MAX;
	S.idle_ms = FLOW_IDLE_MS;
	optind = 2;
	while ((c = getopt_long(argc, argv, cli_forward_ports_options.shorts,
				cli_forward_ports_options.longs, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (S.n_binds == BINDS_MAX)
				return ports_usage("at most %d --bind addresses", BINDS_MAX);
			if (forward_ports_parse_bind(optarg, &S.binds[S.n_binds]) < 0)
				return ports_usage("--bind %s: expected an IPv4 or IPv6 address "
						   "(0.0.0.0, ::, 192.168.1.20)",
						   optarg);
			S.n_binds++;
			break;
		case 'P':
			if (forward_ports_parse_spec(optarg, &p) < 0)
				return ports_usage("--port %s: expected [tcp:|udp:]PORT, PORT 1 to "
						   "65535",
						   optarg);
			if (forward_ports_add(fixed, &p) < 0)
				return ports_usage("more than %d --port options",
						   FORWARD_PORTS_MAX);
			break;
		case 'r':
			relay = optarg;
			break;
		case 'p':
			if (parse_int64(optarg, 1, UINT32_MAX - 1, &relay_port) < 0)
				return ports_usage("--relay-port %s: expected a vsock port number",
						   optarg);
			port_given = true;
			break;
		case 'i':
			if (parse_seconds_ms(optarg, 100, CLI_TIMEOUT_MS_MAX, &idle_ms) < 0)
				return ports_usage("--udp-idle %s: expected seconds, 0.1 to 86400",
						   optarg);
			S.idle_ms = idle_ms;
			break;
		case 'a':
			if (parse_int64(optarg, 1, UINT32_MAX - 1, &agent_port) < 0)
				return ports_usage("--agent-port %s: expected a vsock port number",
						   optarg);
			break;
		case 'S':
			seccomp = false;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return ports_usage("unexpected argument %s", argv[optind]);
	if (relay && port_given)
		return ports_usage("--relay names the relay's address, port included: no "
				   "--relay-port with it");
	if (!S.n_binds) {
		(void)forward_ports_parse_bind("127.0.0.1", &S.binds[0]);
		(void)forward_ports_parse_bind("::1", &S.binds[1]);
		S.n_binds = 2;
	}
	if (cli_forward_relay(cli, relay, (uint32_t)relay_port, &S.relay) < 0)
		return CLI_EXIT_CONNECT;
	client_addr_format(&S.relay, S.relay_name, sizeof(S.relay_name));
	/* the agent: only for following the guest's ports; over a unix socket
	 * only with --relay (the agent's own socket, for tests: a virtio-serial
	 * port would be held by the long poll) */
	if (!fixed->n) {
		if (cli_forward_vsock(cli, (uint32_t)agent_port, relay != NULL, &agent) < 0)
			return CLI_EXIT_CONNECT;
		client_addr_format(&agent, agent_name, sizeof(agent_name));
	}

	/* two sockets per guest port (up to 1024 forwards), two per TCP
	 * connection, one per flow: more than the usual soft limit of 1024 */
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &nofile); /* what is left is said per socket */
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	(void)sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	S.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || S.epfd < 0 ||
	    epoll_ctl(S.epfd, EPOLL_CTL_ADD, sfd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &tag_signal }) < 0) {
		warn("setting up the event loop: %s", strerror(errno));
		return CLI_EXIT_CONNECT;
	}
	for (size_t i = 0; i < S.n_binds; i++) {
		size_t len = strlen(list);

		snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", S.binds[i].text);
	}
	if (fixed->n) {
		printf("porthole: forwarding %zu fixed port(s) through %s, on %s\n", fixed->n,
		       S.relay_name, list);
		fflush(stdout);
		apply(fixed);
	} else {
		free(fixed);
		printf("porthole: forwarding the guest's ports (asking %s) through %s, on %s\n",
		       agent_name, S.relay_name, list);
		fflush(stdout);
		r = forward_watch_start(&agent, cli->timeout_ms, &watch_fd);
		if (r == 0 && epoll_ctl(S.epfd, EPOLL_CTL_ADD, watch_fd,
					&(struct epoll_event){ .events = EPOLLIN,
							       .data.ptr = &tag_watch }) < 0)
			r = -errno;
		if (r < 0) {
			warn("starting the agent's poller: %s", strerror(-r));
			return CLI_EXIT_CONNECT;
		}
	}
	/* from here on it moves bytes and opens sockets (forward-seccomp.h) */
	if (seccomp && (r = forward_seccomp_apply()) < 0) {
		warn("loading the seccomp filter (--no-seccomp runs without): %s", strerror(-r));
		forward_watch_stop();
		return CLI_EXIT_CONNECT;
	}
	r = serve();
	forward_watch_stop();
	fprintf(stderr,
		"porthole: forward: stopped: %" PRIu64 " TCP connections served, %" PRIu64
		" failed, %" PRIu64 " UDP flows, %" PRIu64 " datagrams dropped\n",
		S.served, S.failed, S.flows, S.dropped);
	return r;
}
