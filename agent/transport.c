/* Listeners and connections. A virtio-serial port is a connection that never
 * ends: one byte stream whatever the host does, watched edge-triggered so
 * that a host that is not connected (the port reports POLLHUP until it is)
 * does not spin the loop; the kernel wakes the port's readers when the host
 * opens it. A socket connection may be handed over once answered
 * (porthole-shell's session process takes it), and is then forgotten. */
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "dispatch.h"
#include "jsonstream.h"
#include "log.h"
#include "util.h"

#define READ_CHUNK 16384
#define SWEEP_MS 5000
#define STOP_FLUSH_MS 1000

enum conn_kind {
	CONN_UNIX,
	CONN_VSOCK,
	CONN_SERIAL,
};

struct conn {
	struct agent *a;
	int fd;
	enum conn_kind kind;
	char name[64];
	struct jsonstream st;
	/* read but not yet parsed, kept only while the client's output is full */
	char *in;
	size_t in_off, in_len;
	char *out;
	size_t out_off, out_len, out_cap;
	uint64_t last_active_ns;
	uint32_t armed; /* the epoll events asked for */
	bool awaiting; /* an asynchronous command owes a reply: read nothing more */
	bool resume_pending; /* a conn_resume is scheduled: one is enough */
	/* a command asked for the connection (DISPATCH_UPGRADE): its reply,
	 * and the hand-over, done once parsing has stopped after the request */
	struct dispatch_upgrade *upgrade;
	struct reply upgrade_reply;
	uint64_t id; /* for transport_deliver; never reused */
	struct conn *next;
};

struct listener {
	int fd;
	enum conn_kind kind;
};

/* One read buffer for all: the loop is single-threaded, and a connection
 * keeps bytes of its own only when it must stop parsing (see conn_parse). */
static char read_buf[READ_CHUNK];
static struct conn *conns;
static unsigned n_clients;
static uint64_t n_refused;
static uint64_t n_refused_peers;
static uint64_t next_conn_id;
static struct listener listeners[2];
static size_t n_listeners;
static int64_t sweep_timer;

unsigned transport_clients(void)
{
	return n_clients;
}

uint64_t transport_refused(void)
{
	return n_refused;
}

uint64_t transport_refused_peers(void)
{
	return n_refused_peers;
}

static void conn_close(struct conn *c, const char *why)
{
	struct conn **pp;

	log_debug("%s: closed (%s)", c->name, why);
	loop_del_fd(c->a->loop, c->fd);
	close(c->fd);
	for (pp = &conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->kind != CONN_SERIAL)
		n_clients--;
	jsonstream_free(&c->st);
	dispatch_upgrade_free(c->upgrade);
	free(c->upgrade_reply.data);
	free(c->in);
	free(c->out);
	free(c);
}

/* Output waiting beyond this: stop parsing input until the client reads. */
static bool conn_backlogged(const struct conn *c)
{
	return c->out_len - c->out_off >= 65536;
}

/* What to wait for: output while some waits, and input unless the
 * connection is paused (an asynchronous command owes it a reply, or its
 * replies back up): epoll reports unread input again on every turn, and
 * the loop would spin until the client reads or the command answers. A
 * port is edge-triggered, told of input once: it always waits for it. */
static uint32_t conn_events(const struct conn *c)
{
	uint32_t ev = 0;

	if (c->kind == CONN_SERIAL)
		ev = EPOLLIN | EPOLLET;
	else if (!c->awaiting && !conn_backlogged(c))
		ev = EPOLLIN | EPOLLRDHUP;
	if (c->out_len > c->out_off)
		ev |= EPOLLOUT;
	return ev;
}

static void conn_arm(struct conn *c)
{
	uint32_t ev = conn_events(c);

	if (ev != c->armed) {
		c->armed = ev;
		loop_mod_fd(c->a->loop, c->fd, ev);
	}
}

/* Queues LEN bytes. Returns -ENOBUFS over the client's output limit. */
static int conn_queue(struct conn *c, const char *data, size_t len)
{
	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len - c->out_off + len > c->a->cfg.max_output)
		return -ENOBUFS;
	if (c->out_len + len > c->out_cap) {
		size_t live = c->out_len - c->out_off;

		/* compact first: what was sent is gone */
		if (c->out_off) {
			memmove(c->out, c->out + c->out_off, live);
			c->out_off = 0;
			c->out_len = live;
		}
		if (buf_reserve(&c->out, &c->out_cap, live + len, 4096, c->a->cfg.max_output) < 0)
			return -ENOMEM;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	return 0;
}

/* Writes what it can without blocking. Returns -errno when the peer is gone. */
static int conn_flush(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = c->kind == CONN_SERIAL
				    ? write(c->fd, c->out + c->out_off, c->out_len - c->out_off)
				    : send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
					   MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		/* an idle client keeps no big buffer */
		if (c->out_cap > 65536) {
			free(c->out);
			c->out = NULL;
			c->out_cap = 0;
		}
	}
	return 0;
}

static bool on_item(void *user, const struct jsonstream_item *item)
{
	struct conn *c = user;
	struct reply reply = { 0 };
	char desc[128];
	int r = 0;

	switch (item->event) {
	case JSONSTREAM_VALUE:
		r = dispatch_value_from(c->a, c->id, item->data, item->len, &reply);
		if (r == DISPATCH_LATER) {
			c->awaiting = true;
			return false;
		}
		if (r == DISPATCH_UPGRADE) {
			/* nothing after the request is parsed: it is the new
			 * owner's (conn_upgrade) */
			c->upgrade = dispatch_upgrade_take();
			c->upgrade_reply = reply;
			return false;
		}
		break;
	case JSONSTREAM_RESYNC:
		/* qemu-ga's lexer answers every 0xFF with this error (the byte shown
		 * as U+FFFD); clients expect it before the 0xFF of their sync reply */
		r = dispatch_error("GenericError", "JSON parse error, stray '\uFFFD'", &reply);
		break;
	case JSONSTREAM_TOO_LONG:
		snprintf(desc, sizeof(desc),
			 "JSON parse error, request longer than %zu bytes, discarded",
			 c->a->cfg.max_request);
		r = dispatch_error("GenericError", desc, &reply);
		break;
	case JSONSTREAM_TOO_DEEP:
		snprintf(desc, sizeof(desc),
			 "JSON parse error, request nested deeper than %d levels, discarded",
			 JSONSTREAM_DEPTH_MAX);
		r = dispatch_error("GenericError", desc, &reply);
		break;
	}
	if (r == DISPATCH_REPLY) {
		if (conn_queue(c, reply.data, reply.len) < 0)
			log_warn("%s: reply of %zu bytes dropped: client not reading", c->name,
				 reply.len);
		free(reply.data);
	} else if (r < 0) {
		log_error_errno(r, "%s: reply", c->name);
	}
	return !conn_backlogged(c);
}

/* Parses DATA; what the parser did not take (the client's output is full) is
 * kept in c->in. False when the parser stopped. */
static bool conn_parse_bytes(struct conn *c, const char *data, size_t len)
{
	long n = jsonstream_feed(&c->st, data, len, on_item, c);

	if (n < 0) {
		log_error("%s: out of memory parsing a request", c->name);
		n = (long)len;
	}
	if ((size_t)n == len)
		return true;
	if (data != c->in) {
		c->in = malloc(len - (size_t)n);
		if (!c->in) {
			log_error("%s: out of memory, input dropped", c->name);
			return true;
		}
		memcpy(c->in, data + n, len - (size_t)n);
		c->in_off = 0;
		c->in_len = len - (size_t)n;
	} else {
		c->in_off += (size_t)n;
	}
	return false;
}

/* Parses what an earlier round kept. False when it is still not all taken. */
static bool conn_parse_kept(struct conn *c)
{
	long n;

	if (!c->in)
		return true;
	n = jsonstream_feed(&c->st, c->in + c->in_off, c->in_len - c->in_off, on_item, c);
	if (n >= 0 && c->in_off + (size_t)n < c->in_len) {
		c->in_off += (size_t)n;
		return false;
	}
	free(c->in);
	c->in = NULL;
	c->in_off = c->in_len = 0;
	return true;
}

static void conn_event(struct loop *l, int fd, uint32_t events, void *data);

/* Goes on with a connection on the next turn of the loop: an edge-triggered
 * port stopped by the round limit, or a connection whose late reply came.
 * By id, not pointer: the connection may be gone by then. */
static void conn_resume(struct loop *l, void *data)
{
	uint64_t id = (uint64_t)(uintptr_t)data;

	for (struct conn *c = conns; c; c = c->next)
		if (c->id == id) {
			c->resume_pending = false;
			conn_event(l, c->fd, 0, c);
			return;
		}
}

static void conn_resume_later(struct conn *c)
{
	if (c->resume_pending)
		return;
	/* a timer table full (it holds 1024) is not lost work: the next event
	 * on the connection goes on with it */
	if (loop_timer(c->a->loop, 0, conn_resume, (void *)(uintptr_t)c->id) > 0)
		c->resume_pending = true;
}

/* A command's reply that hands the connection over (porthole-shell): the
 * new owner, a process the command forks, gets the connection with what the
 * client is owed (earlier replies, then this one) and what it sent after
 * the request, and the agent forgets it. A virtio-serial port is one stream
 * that every host client shares for as long as the VM runs: it is never
 * handed over, and the client is told why instead. Returns true when the
 * connection is gone. */
static bool conn_upgrade(struct conn *c)
{
	struct dispatch_upgrade *u = c->upgrade;
	struct reply reply = c->upgrade_reply;
	char why[256] = "";
	int r;

	c->upgrade = NULL;
	c->upgrade_reply = (struct reply){ 0 };
	if (c->kind == CONN_SERIAL) {
		snprintf(why, sizeof(why),
			 "a session needs a connection of its own: %s is a virtio-serial port, one "
			 "stream that every host client shares (connect over vsock, or to the "
			 "agent's unix socket)",
			 c->name);
		r = -EPROTONOSUPPORT;
	} else if ((r = conn_queue(c, reply.data, reply.len)) < 0) {
		snprintf(why, sizeof(why), "the reply could not be queued: %s", strerror(-r));
	} else {
		r = dispatch_upgrade_start(u, c->a, c->fd, c->out + c->out_off,
					   c->out_len - c->out_off,
					   c->in ? c->in + c->in_off : NULL,
					   c->in ? c->in_len - c->in_off : 0, why, sizeof(why));
		/* appended last, taken back: the error goes instead */
		if (r < 0)
			c->out_len -= reply.len;
	}
	free(reply.data);
	if (r >= 0) {
		log_info("%s: handed over to session process %d", c->name, r);
		dispatch_upgrade_free(u);
		conn_close(c, "handed over");
		return true;
	}
	reply = (struct reply){ 0 };
	if (dispatch_upgrade_error(u, why, &reply) == DISPATCH_REPLY &&
	    conn_queue(c, reply.data, reply.len) < 0)
		log_warn("%s: reply of %zu bytes dropped: client not reading", c->name, reply.len);
	free(reply.data);
	dispatch_upgrade_free(u);
	/* parsing stopped at the request: go on with what followed it (an
	 * edge-triggered port says nothing more about what it holds) */
	conn_resume_later(c);
	return false;
}

static void conn_event(struct loop *l, int fd, uint32_t events, void *data)
{
	struct conn *c = data;
	int r;

	(void)l, (void)fd;
	if (events & EPOLLOUT) {
		r = conn_flush(c);
		if (r < 0) {
			if (c->kind == CONN_SERIAL) {
				/* the host went away: its replies go with it */
				c->out_off = c->out_len = 0;
			} else {
				conn_close(c, "write failed");
				return;
			}
		}
	}
	/* Read while there is room for replies; a backlogged client waits,
	 * what it sent before included. */
	for (int rounds = 0;; rounds++) {
		ssize_t n;

		if (c->awaiting || c->upgrade || conn_backlogged(c) || !conn_parse_kept(c) ||
		    c->awaiting || c->upgrade || conn_backlogged(c))
			break;
		if (rounds == 64) {
			if (c->kind == CONN_SERIAL)
				conn_resume_later(c);
			break;
		}
		n = read(c->fd, read_buf, sizeof(read_buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			if (c->kind == CONN_SERIAL)
				break;
			conn_close(c, strerror(errno));
			return;
		}
		if (n == 0) {
			/* a port reads 0 while the host is not connected: wait
			 * for the next edge; a socket is done */
			if (c->kind == CONN_SERIAL)
				break;
			conn_flush(c);
			conn_close(c, "end of stream");
			return;
		}
		c->last_active_ns = now_mono_ns();
		if (!conn_parse_bytes(c, read_buf, (size_t)n))
			break;
		/* A short read drained a socket: epoll (level-triggered) says when
		 * there is more, which saves a read that would say EAGAIN on every
		 * request. A port is edge-triggered and must be read to EAGAIN. */
		if (c->kind != CONN_SERIAL && (size_t)n < sizeof(read_buf))
			break;
	}
	if (c->upgrade && conn_upgrade(c))
		return;
	if (conn_flush(c) < 0 && c->kind != CONN_SERIAL) {
		conn_close(c, "write failed");
		return;
	}
	if (c->kind != CONN_SERIAL && (events & (EPOLLHUP | EPOLLERR)) &&
	    c->out_len == c->out_off) {
		conn_close(c, "hung up");
		return;
	}
	/* Input kept while the output was full, and the output drained in the
	 * same turn: no event will come for it (the client may have nothing
	 * more to send), so go on with it on the next turn. */
	if (c->in && !c->awaiting && !conn_backlogged(c))
		conn_resume_later(c);
	conn_arm(c);
}

static struct conn *conn_new(struct agent *a, int fd, enum conn_kind kind, const char *name)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->a = a;
	c->fd = fd;
	c->kind = kind;
	snprintf(c->name, sizeof(c->name), "%s", name);
	jsonstream_init(&c->st, a->cfg.max_request);
	c->last_active_ns = now_mono_ns();
	c->id = ++next_conn_id;
	c->armed = conn_events(c);
	if (loop_add_fd(a->loop, fd, c->armed, conn_event, c) < 0) {
		free(c);
		return NULL;
	}
	c->next = conns;
	conns = c;
	if (kind != CONN_SERIAL)
		n_clients++;
	return c;
}

/* Connections whose peer has closed both ways (POLLHUP) but whose end of
 * stream the loop has not read yet: a burst of short clients leaves them,
 * and they must not hold places a live client needs. A peer that only
 * shut down its sending side still reads its replies, and stays. */
static void reap_gone(void)
{
	struct pollfd pfd[64];
	struct conn *batch[64], *c = conns;

	while (c) {
		size_t n = 0;
		int r;

		for (; c && n < ARRAY_SIZE(pfd); c = c->next) {
			if (c->kind == CONN_SERIAL)
				continue;
			pfd[n] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
			batch[n++] = c;
		}
		/* C, the next one, is not in this batch: closing those is safe */
		r = poll(pfd, n, 0);
		/* through the reader's own path: what such a peer sent before it
		 * went (a guest-shutdown, say) is still done, then its end is
		 * read and the connection closed; one that is still there after
		 * (a paused one) is closed */
		for (size_t i = 0; r > 0 && i < n; i++)
			if (pfd[i].revents & (POLLHUP | POLLERR)) {
				uint64_t id = batch[i]->id;

				conn_event(batch[i]->a->loop, batch[i]->fd, EPOLLIN | EPOLLHUP,
					   batch[i]);
				for (struct conn *k = conns; k; k = k->next)
					if (k->id == id) {
						conn_close(k, "peer gone");
						break;
					}
			}
	}
}

/* Over the limit: the client is told why before the close, with an error
 * reply it can show, and the refusal is counted (porthole-health) and
 * logged, at most once a minute, with the count so far. */
static void refuse(struct agent *a, int fd, const char *name)
{
	static uint64_t last_log_ns;
	struct reply reply = { 0 };
	char desc[128];

	n_refused++;
	snprintf(desc, sizeof(desc),
		 "too many clients: %u connections are open (agent.max_clients), try again later",
		 a->cfg.max_clients);
	/* a fresh socket's buffer takes it whole; the close follows either way */
	if (dispatch_error("GenericError", desc, &reply) == DISPATCH_REPLY)
		(void)!send(fd, reply.data, reply.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	free(reply.data);
	close(fd);
	if (last_log_ns && now_mono_ns() - last_log_ns < 60 * NSEC_PER_SEC)
		return;
	log_warn("%s: refused, %u clients already (agent.max_clients); %llu refused since "
		 "the agent started",
		 name, n_clients, (unsigned long long)n_refused);
	last_log_ns = now_mono_ns();
}

static bool vsock_cid_allowed(const struct agent_config *cfg, uint32_t cid)
{
	for (size_t i = 0; i < cfg->n_vsock_cids; i++)
		if (cfg->vsock_cids[i] == cid)
			return true;
	return false;
}

/* Root, the agent's own uid, or one of agent.unix_uids. */
static bool unix_uid_allowed(const struct agent_config *cfg, uid_t uid)
{
	if (uid == 0 || uid == geteuid())
		return true;
	for (size_t i = 0; i < cfg->n_unix_uids; i++)
		if (cfg->unix_uids[i] == uid)
			return true;
	return false;
}

/* A peer that is not let in (a CID or a uid not configured) is closed at
 * accept, before a byte is read, and counted (porthole-health's
 * agent.clients.refused_peers). The log line is at most one a minute, with
 * the count so far, so that a peer knocking in a loop cannot fill the log. */
static void refuse_peer(int fd, const char *who, const char *allowed_by)
{
	static uint64_t last_log_ns;

	close(fd);
	n_refused_peers++;
	if (last_log_ns && now_mono_ns() - last_log_ns < 60 * NSEC_PER_SEC)
		return;
	log_warn("%s: refused (not in %s); %llu refused so far", who, allowed_by,
		 (unsigned long long)n_refused_peers);
	last_log_ns = now_mono_ns();
}

static void on_accept(struct loop *l, int lfd, uint32_t events, void *data)
{
	struct agent *a = data;
	enum conn_kind kind = CONN_UNIX;

	(void)l, (void)events;
	for (size_t i = 0; i < n_listeners; i++)
		if (listeners[i].fd == lfd)
			kind = listeners[i].kind;
	/* Bounded per wakeup, so that a flood of connects cannot starve the rest. */
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char name[64];
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn_errno(-errno, "accept");
			return;
		}
		if (kind == CONN_VSOCK) {
			const struct sockaddr_vm *vm = (const struct sockaddr_vm *)&ss;

			if (!vsock_cid_allowed(&a->cfg, vm->svm_cid)) {
				snprintf(name, sizeof(name), "vsock: a connection from CID %u",
					 vm->svm_cid);
				refuse_peer(fd, name, "agent.vsock_cids");
				continue;
			}
			snprintf(name, sizeof(name), "vsock cid %u port %u", vm->svm_cid,
				 vm->svm_port);
		} else {
			struct ucred cred;
			socklen_t cl = sizeof(cred);

			/* root-only unless configured: the socket's mode is the first
			 * fence (0600; 0666 when agent.unix_uids lets others in), the
			 * peer's credentials the second */
			if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
				refuse_peer(fd, "unix: a connection whose peer is unknown",
					    "agent.unix_uids");
				continue;
			}
			if (!unix_uid_allowed(&a->cfg, cred.uid)) {
				snprintf(name, sizeof(name), "unix: a connection from uid %u",
					 (unsigned)cred.uid);
				refuse_peer(fd, name, "agent.unix_uids");
				continue;
			}
			snprintf(name, sizeof(name), "unix pid %d", (int)cred.pid);
		}
		if (n_clients >= a->cfg.max_clients)
			reap_gone();
		if (n_clients >= a->cfg.max_clients) {
			refuse(a, fd, name);
			continue;
		}
		if (!conn_new(a, fd, kind, name)) {
			log_error("%s: out of memory", name);
			close(fd);
		}
	}
}

void transport_deliver(uint64_t origin, const struct reply *reply)
{
	struct conn *c;

	for (c = conns; c && c->id != origin; c = c->next)
		;
	if (!c)
		return;
	c->awaiting = false;
	if (reply && conn_queue(c, reply->data, reply->len) < 0)
		log_warn("%s: reply of %zu bytes dropped: client not reading", c->name, reply->len);
	c->last_active_ns = now_mono_ns();
	/* sends it, then goes on with what the client sent meanwhile */
	conn_resume_later(c);
}

static void sweep(struct loop *l, void *data)
{
	struct agent *a = data;
	uint64_t now = now_mono_ns(), idle = (uint64_t)a->cfg.idle_timeout_s * NSEC_PER_SEC;
	struct conn *c = conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->kind != CONN_SERIAL && !c->awaiting && idle &&
		    now - c->last_active_ns > idle)
			conn_close(c, "idle");
	}
	sweep_timer = loop_timer(l, SWEEP_MS, sweep, a);
}

static int listen_unix(struct agent *a)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(a->cfg.unix_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a->cfg.unix_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(sa.sun_path, a->cfg.unix_mode) < 0 || listen(fd, 128) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int listen_vsock(struct agent *a)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK,
				  .svm_cid = VMADDR_CID_ANY,
				  .svm_port = a->cfg.vsock_port };
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int add_listener(struct agent *a, int fd, enum conn_kind kind)
{
	int r = loop_add_fd(a->loop, fd, EPOLLIN, on_accept, a);

	if (r < 0) {
		close(fd);
		return r;
	}
	listeners[n_listeners++] = (struct listener){ fd, kind };
	return 0;
}

static int open_port(struct agent *a, const char *port)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", a->cfg.serial_dir, port);
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return log_warn_errno(-errno, "open %s, ignoring", path);
	if (!conn_new(a, fd, CONN_SERIAL, port)) {
		close(fd);
		return -ENOMEM;
	}
	log_info("listening on %s", path);
	return 0;
}

int transport_start(struct agent *a)
{
	int opened = 0, fd;

	if (a->cfg.unix_path[0]) {
		fd = listen_unix(a);
		if (fd < 0)
			log_error_errno(fd, "unix socket %s", a->cfg.unix_path);
		else if (add_listener(a, fd, CONN_UNIX) == 0) {
			log_info("listening on %s", a->cfg.unix_path);
			opened++;
		}
	}
	if (a->cfg.vsock_port) {
		fd = listen_vsock(a);
		if (fd < 0)
			log_error_errno(fd, "vsock port %u", a->cfg.vsock_port);
		else if (add_listener(a, fd, CONN_VSOCK) == 0) {
			log_info("listening on vsock port %u", a->cfg.vsock_port);
			opened++;
		}
	}
	if (a->cfg.serial) {
		static const char *const ports[] = { "org.qemu.guest_agent.0",
						     "org.porthole.agent.0" };

		for (size_t i = 0; i < ARRAY_SIZE(ports); i++)
			if (open_port(a, ports[i]) == 0)
				opened++;
	}
	sweep_timer = loop_timer(a->loop, SWEEP_MS, sweep, a);
	dispatch_set_deliver(transport_deliver);
	return opened ? 0 : -ENODEV;
}

/* What is owed goes out before the connections close (a reply queued
 * behind guest-shutdown, a long poll answered at stop), for at most
 * STOP_FLUSH_MS in all: a client that does not read is not waited for. */
static void flush_all(void)
{
	uint64_t deadline = now_mono_ns() + STOP_FLUSH_MS * NSEC_PER_MSEC;

	for (struct conn *c = conns; c; c = c->next) {
		while (c->out_len > c->out_off && conn_flush(c) == 0 && c->out_len > c->out_off)
			if (fd_wait(c->fd, POLLOUT, deadline) < 0)
				break;
	}
}

void transport_stop(struct agent *a)
{
	loop_cancel(a->loop, sweep_timer);
	flush_all();
	while (conns)
		conn_close(conns, "agent stopping");
	for (size_t i = 0; i < n_listeners; i++) {
		loop_del_fd(a->loop, listeners[i].fd);
		close(listeners[i].fd);
	}
	n_listeners = 0;
	if (a->cfg.unix_path[0])
		unlink(a->cfg.unix_path);
}
