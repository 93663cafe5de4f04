/* Trim after deletes (engine-events.h): one connection to the engine's API
 * socket, non-blocking on the agent's loop, reading GET /events' endless
 * chunked reply; the deletes in it start or extend a burst, and a timer
 * asks for the burst's trim when it is due. While the engine is not there
 * the watcher costs one timer, rarer each time up to once a minute. */
#include "engine-events.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cmd-fs.h"
#include "log.h"
#include "loop.h"
#include "util.h"

/* ---- what frees space --------------------------------------------------- */

/* dockerd's events that give blocks back to the data disk's file system
 * (moby's daemon/images/image_delete.go, daemon/delete.go, volume/service,
 * daemon/prune.go): a removed image's layers come with "delete" (the
 * "untag"s before it free nothing: an image keeps its layers while a tag or
 * a container holds it), a removed container's writable layer with
 * "destroy", a volume's data with "destroy", and each prune ends with one
 * "prune" of its type. A network prune frees nothing on disk. Pruning the
 * build cache (docker builder prune) sends no event in docker.io 20.10
 * (API 1.41): the periodic trim gives that space back. */
static const struct {
	const char *type, *action, *what;
} frees[] = {
	{ "image", "delete", "image delete" },
	{ "image", "prune", "image prune" },
	{ "container", "destroy", "container destroy" },
	{ "container", "prune", "container prune" },
	{ "volume", "destroy", "volume destroy" },
	{ "volume", "prune", "volume prune" },
};

const char *engine_event_frees(const char *type, const char *action)
{
	if (!type || !action)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(frees); i++)
		if (strcmp(type, frees[i].type) == 0 && strcmp(action, frees[i].action) == 0)
			return frees[i].what;
	return NULL;
}

/* ---- the reply's parser -------------------------------------------------- */

int engine_stream_init(struct engine_stream *s)
{
	*s = (struct engine_stream){ .state = ENGINE_STREAM_HEADERS };
	return jsonstream_init(&s->js, ENGINE_EVENT_MAX);
}

void engine_stream_free(struct engine_stream *s)
{
	jsonstream_free(&s->js);
}

struct feed_ctx {
	struct engine_stream *s;
	engine_event_fn fn;
	void *user;
};

/* One JSON value of the body: an event, checked for what it frees. */
static bool on_value(void *user, const struct jsonstream_item *it)
{
	struct feed_ctx *c = user;
	json_t *e;
	const char *what;

	switch (it->event) {
	case JSONSTREAM_VALUE:
		c->s->events++;
		e = json_loadb(it->data, it->len, 0, NULL);
		if (!json_is_object(e)) {
			c->s->skipped++;
			log_warn("engine events: an event that is not a JSON object (%zu bytes) "
				 "skipped",
				 it->len);
			json_decref(e);
			return true;
		}
		what = engine_event_frees(json_string_value(json_object_get(e, "Type")),
					  json_string_value(json_object_get(e, "Action")));
		json_decref(e);
		if (what) {
			c->s->frees++;
			c->fn(c->user, what);
		}
		return true;
	case JSONSTREAM_TOO_LONG:
	case JSONSTREAM_TOO_DEEP:
		c->s->events++;
		c->s->skipped++;
		log_warn("engine events: an event over %d bytes or nested too deep skipped",
			 ENGINE_EVENT_MAX);
		return true;
	case JSONSTREAM_RESYNC:
		/* 0xFF never comes in dockerd's UTF-8: it reset the splitter,
		 * and what follows is read as new events */
		return true;
	}
	return true;
}

static int body(struct engine_stream *s, const char *data, size_t n, engine_event_fn fn, void *user)
{
	struct feed_ctx c = { s, fn, user };

	return jsonstream_feed(&s->js, data, n, on_value, &c) < 0 ? -ENOMEM : 0;
}

__attribute__((format(printf, 4, 5))) static int fail(int r, char *why, size_t size,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return r;
}

/* One header line (without its CRLF): the status line first, then fields,
 * the empty line last. Only Transfer-Encoding matters: dockerd streams
 * events with chunked coding to an HTTP/1.1 client. */
static int header_line(struct engine_stream *s, char *line, char *why, size_t size)
{
	int major, minor, status, n = 0;

	if (s->status == 0) {
		if (sscanf(line, "HTTP/%1d.%1d %3d%n", &major, &minor, &status, &n) != 3 ||
		    major != 1 || (line[n] != ' ' && line[n] != '\0'))
			return fail(-EPROTO, why, size, "not an HTTP/1 reply: %.80s", line);
		s->status = status;
		if (status != 200)
			return fail(-EREMOTEIO, why, size, "%.120s", line);
		return 0;
	}
	if (!*line) {
		s->state = s->chunked ? ENGINE_STREAM_CHUNK_SIZE : ENGINE_STREAM_BODY;
		return 0;
	}
	if (strncasecmp(line, "Transfer-Encoding:", 18) == 0) {
		const char *v = line + 18;

		while (*v == ' ' || *v == '\t')
			v++;
		/* "chunked" is always the last coding (RFC 9112 6.1); no
		 * other coding is asked for, so none other is read */
		if (strcasecmp(v, "chunked") != 0)
			return fail(-EPROTO, why, size, "transfer coding '%.60s' not read", v);
		s->chunked = true;
	}
	return 0;
}

/* A chunk-size line: hex digits, then extensions after ';' (ignored). */
static int chunk_size_line(struct engine_stream *s, const char *line, char *why, size_t size)
{
	uint64_t v = 0;
	const char *p = line;

	if (!isxdigit((unsigned char)*p))
		return fail(-EPROTO, why, size, "bad chunk size line: %.40s", line);
	for (; isxdigit((unsigned char)*p); p++) {
		/* 2^60 bytes is more than any stream will carry */
		if (v >> 60)
			return fail(-EPROTO, why, size, "chunk size too large: %.40s", line);
		v = v * 16 + (uint64_t)(isdigit((unsigned char)*p)
						? *p - '0'
						: tolower((unsigned char)*p) - 'a' + 10);
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p && *p != ';')
		return fail(-EPROTO, why, size, "bad chunk size line: %.40s", line);
	s->chunk_left = v;
	/* the last chunk: the stream ended (trailers, if any, are not read) */
	s->state = v == 0 ? ENGINE_STREAM_DONE : ENGINE_STREAM_CHUNK_DATA;
	return 0;
}

/* Collects a line ending in LF (a CR before it dropped) from DATA: returns
 * how many bytes it took, and sets *DONE when the line is whole in
 * s->line. A header line over the buffer is dropped (its field matters not:
 * the one field read is short), a chunk-size line over it is an error. */
static size_t take_line(struct engine_stream *s, const char *data, size_t n, bool *done)
{
	const char *nl = memchr(data, '\n', n);
	size_t take = nl ? (size_t)(nl - data) + 1 : n, keep = nl ? take - 1 : take;

	*done = nl != NULL;
	if (s->line_len + keep >= sizeof(s->line)) {
		s->long_line = true;
		keep = sizeof(s->line) - 1 - s->line_len;
	}
	memcpy(s->line + s->line_len, data, keep);
	s->line_len += keep;
	s->line[s->line_len] = '\0';
	if (*done && s->line_len > 0 && s->line[s->line_len - 1] == '\r')
		s->line[--s->line_len] = '\0';
	return take;
}

int engine_stream_feed(struct engine_stream *s, const char *data, size_t n, engine_event_fn fn,
		       void *user, char *why, size_t why_size)
{
	size_t take;
	bool done;
	int r = 0;

	while (n > 0 && r == 0) {
		switch (s->state) {
		case ENGINE_STREAM_HEADERS:
		case ENGINE_STREAM_CHUNK_SIZE:
			take = take_line(s, data, n, &done);
			if (s->state == ENGINE_STREAM_HEADERS) {
				s->headers_len += take;
				if (s->headers_len > ENGINE_HEADERS_MAX)
					return fail(-EPROTO, why, why_size, "headers over %d bytes",
						    ENGINE_HEADERS_MAX);
			}
			data += take, n -= take;
			if (!done)
				break;
			if (s->state == ENGINE_STREAM_HEADERS) {
				/* a long field is not one this parser reads;
				 * a long status line is not a status line */
				if (!s->long_line || s->status == 0)
					r = header_line(s, s->line, why, why_size);
			} else if (s->long_line) {
				r = fail(-EPROTO, why, why_size, "chunk size line over %d bytes",
					 ENGINE_CHUNK_LINE_MAX);
			} else {
				r = chunk_size_line(s, s->line, why, why_size);
			}
			s->line_len = 0;
			s->long_line = false;
			break;
		case ENGINE_STREAM_CHUNK_DATA:
			take = s->chunk_left < n ? (size_t)s->chunk_left : n;
			r = body(s, data, take, fn, user);
			data += take, n -= take;
			s->chunk_left -= take;
			if (s->chunk_left == 0)
				s->state = ENGINE_STREAM_CHUNK_END;
			break;
		case ENGINE_STREAM_CHUNK_END:
			/* CRLF (or a bare LF) after the chunk's data */
			if (*data == '\r' && s->line_len == 0) {
				s->line_len = 1;
			} else if (*data == '\n') {
				s->line_len = 0;
				s->state = ENGINE_STREAM_CHUNK_SIZE;
			} else {
				return fail(-EPROTO, why, why_size, "%s", "no CRLF after a chunk");
			}
			data++, n--;
			break;
		case ENGINE_STREAM_BODY:
			r = body(s, data, n, fn, user);
			n = 0;
			break;
		case ENGINE_STREAM_DONE:
			return 1;
		}
	}
	if (r == 0 && s->state == ENGINE_STREAM_DONE)
		return 1;
	return r;
}

/* ---- bursts ---------------------------------------------------------------- */

void engine_burst_note(struct engine_burst *b, uint64_t now_ns, const char *what)
{
	if (!b->pending) {
		*b = (struct engine_burst){ true, now_ns, now_ns, 0, what };
	}
	if (now_ns > b->last_ns)
		b->last_ns = now_ns;
	b->deletes++;
}

uint64_t engine_burst_due_ns(const struct engine_burst *b, unsigned delay_ms)
{
	uint64_t quiet = b->last_ns + (uint64_t)delay_ms * NSEC_PER_MSEC;
	unsigned latest_ms = delay_ms > ENGINE_TRIM_LATEST_MS ? delay_ms : ENGINE_TRIM_LATEST_MS;
	uint64_t latest = b->first_ns + (uint64_t)latest_ms * NSEC_PER_MSEC;

	return quiet < latest ? quiet : latest;
}

/* ---- the watcher ------------------------------------------------------------ */

/* The reply is read this much at a time: a burst of a few hundred events */
#define READ_CHUNK (16 << 10)

static struct {
	struct agent *a; /* NULL: not watching */
	engine_trim_fn trim;
	int fd;
	bool sending; /* the request is not all written yet */
	size_t sent;
	bool streaming; /* dockerd said 200: events flow */
	struct engine_stream stream;
	unsigned retry_ms;
	int64_t retry_timer, trim_timer;
	struct engine_burst burst;
	/* said once a spell: that the engine is not there (or went away),
	 * until it answers again; never once per retry */
	bool said_down;
} w = { .fd = -1 };

static void connect_engine(struct loop *l, void *data);
static void on_engine(struct loop *l, int fd, uint32_t events, void *data);

static void close_conn(void)
{
	if (w.fd >= 0) {
		loop_del_fd(w.a->loop, w.fd);
		close(w.fd);
		w.fd = -1;
	}
	engine_stream_free(&w.stream);
}

/* The connection failed or ended (R, WHY): said once a spell, and tried
 * again after the backoff's next wait. */
static void down(int r, const char *why)
{
	bool was_streaming = w.streaming;

	close_conn();
	w.streaming = false;
	if (was_streaming) {
		/* it ran: the engine restarts, come back soon */
		w.retry_ms = ENGINE_RETRY_FIRST_MS;
		log_info("engine events: %s: %s; reconnecting", w.a->cfg.engine_socket, why);
		w.said_down = true;
	} else if (!w.said_down) {
		if (r == -ENOENT || r == -ECONNREFUSED)
			log_info("engine events: %s: %s (no engine yet, or none in this image); "
				 "trying again, every %d s at most",
				 w.a->cfg.engine_socket, why, ENGINE_RETRY_MAX_MS / 1000);
		else
			log_warn("engine events: %s: %s; trying again, every %d s at most",
				 w.a->cfg.engine_socket, why, ENGINE_RETRY_MAX_MS / 1000);
		w.said_down = true;
	}
	w.retry_timer = loop_timer(w.a->loop, w.retry_ms, connect_engine, NULL);
	w.retry_ms = w.retry_ms * 2 > ENGINE_RETRY_MAX_MS ? ENGINE_RETRY_MAX_MS : w.retry_ms * 2;
}

static void trim_due(struct loop *l, void *data)
{
	uint64_t now = now_mono_ns(),
		 due = engine_burst_due_ns(&w.burst, w.a->cfg.trim_after_delete_s * 1000);

	(void)data;
	w.trim_timer = 0;
	if (!w.burst.pending)
		return;
	/* more deletes came since the timer was set: later, within bounds */
	if (now < due) {
		w.trim_timer = loop_timer(l, (due - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC,
					  trim_due, NULL);
		return;
	}
	w.trim(w.a, &w.burst);
	w.burst.pending = false;
}

static void on_delete(void *user, const char *what)
{
	(void)user;
	log_debug("engine events: %s", what);
	engine_burst_note(&w.burst, now_mono_ns(), what);
	/* the burst's first delete sets the timer; later ones move the due
	 * time, which the timer looks at when it fires */
	if (!w.trim_timer)
		w.trim_timer = loop_timer(w.a->loop, (uint64_t)w.a->cfg.trim_after_delete_s * 1000,
					  trim_due, NULL);
}

static void read_events(void)
{
	char buf[READ_CHUNK], why[160];
	ssize_t n;
	int r;

	/* a bounded number of reads per wakeup: the loop's other clients
	 * are served between bursts */
	for (int i = 0; i < 16; i++) {
		n = read(w.fd, buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			r = -errno;
			down(r, strerror(-r));
			return;
		}
		if (n == 0) {
			down(-ECONNRESET, "the engine closed the stream");
			return;
		}
		r = engine_stream_feed(&w.stream, buf, (size_t)n, on_delete, NULL, why,
				       sizeof(why));
		if (r < 0) {
			down(r, why);
			return;
		}
		if (!w.streaming && w.stream.status == 200) {
			w.streaming = true;
			w.said_down = false;
			w.retry_ms = ENGINE_RETRY_FIRST_MS;
			log_info("engine events: watching %s for deletes; the data disk is trimmed "
				 "%u s after the last of a burst",
				 w.a->cfg.engine_socket, w.a->cfg.trim_after_delete_s);
		}
		if (r == 1) {
			down(-ECONNRESET, "the engine ended the stream");
			return;
		}
	}
}

static void send_request(void)
{
	static const char req[] = ENGINE_EVENTS_REQUEST;
	ssize_t n;

	while (w.sent < sizeof(req) - 1) {
		n = send(w.fd, req + w.sent, sizeof(req) - 1 - w.sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return; /* EPOLLOUT comes back */
		if (n < 0) {
			int r = -errno;

			down(r, strerror(-r));
			return;
		}
		w.sent += (size_t)n;
	}
	w.sending = false;
	loop_mod_fd(w.a->loop, w.fd, EPOLLIN);
}

static void on_engine(struct loop *l, int fd, uint32_t events, void *data)
{
	(void)l, (void)fd, (void)data;
	if (w.sending && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		send_request();
	else if (!w.sending && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		read_events();
}

static void connect_engine(struct loop *l, void *data)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r;

	(void)data;
	w.retry_timer = 0;
	r = engine_stream_init(&w.stream);
	if (r < 0) {
		down(r, strerror(-r));
		return;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", w.a->cfg.engine_socket);
	/* a unix socket's connect finishes or fails at once; EAGAIN (the
	 * listener's backlog is full) is a failure like any other here */
	w.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (w.fd < 0 || connect(w.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		down(r, strerror(-r));
		return;
	}
	r = loop_add_fd(l, w.fd, EPOLLOUT, on_engine, NULL);
	if (r < 0) {
		down(r, strerror(-r));
		return;
	}
	w.sending = true;
	w.sent = 0;
	send_request();
}

/* The agent's trim: on a worker, and said in the log with the burst. */
static void trim_after_delete(struct agent *a, const struct engine_burst *b)
{
	log_info("engine events: %u delete%s (first: %s) in %.1f s: trimming %s", b->deletes,
		 b->deletes == 1 ? "" : "s", b->what,
		 (double)(b->last_ns - b->first_ns) / NSEC_PER_SEC, a->cfg.data_mount);
	fs_trim_soon(a, FS_TRIM_AFTER_DELETE);
}

void engine_events_start(struct agent *a, engine_trim_fn trim)
{
	if (a->cfg.trim_after_delete_s == 0 || !a->cfg.engine_socket[0] || !a->cfg.data_mount[0] ||
	    a->sandbox)
		return;
	w.a = a;
	w.trim = trim ? trim : trim_after_delete;
	w.fd = -1;
	w.retry_ms = ENGINE_RETRY_FIRST_MS;
	w.said_down = false;
	w.streaming = false;
	w.burst.pending = false;
	/* the engine starts after the agent: the first try is the backoff's
	 * first wait away, not now */
	w.retry_timer = loop_timer(a->loop, ENGINE_RETRY_FIRST_MS, connect_engine, NULL);
}

void engine_events_stop(struct agent *a)
{
	(void)a;
	if (!w.a)
		return;
	if (w.fd >= 0)
		close_conn();
	if (w.retry_timer > 0)
		loop_cancel(w.a->loop, w.retry_timer);
	if (w.trim_timer > 0)
		loop_cancel(w.a->loop, w.trim_timer);
	w.retry_timer = w.trim_timer = 0;
	w.a = NULL;
}
