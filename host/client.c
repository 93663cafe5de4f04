/* The call engine (client.h): a connection's requests and replies. It
 * resynchronises, queues and writes requests with increasing ids, reads
 * replies through the reader (client-reader.c) and matches them to the
 * requests; connecting is client-addr.c's. Every wait has a deadline and
 * every buffer a maximum; what the replies mean is left to the callers. */
#include "client.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "client-reader.h"
#include "util.h"

/* Bytes asked of each read(2): replies are small, except guest-info's (3 KiB)
 * and guest-exec-status's captured output. */
#define READ_CHUNK (64 * 1024)
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

static int timeout_or_default(int timeout_ms)
{
	return timeout_ms > 0 ? timeout_ms : CLIENT_TIMEOUT_MS_DEFAULT;
}

static uint64_t deadline_after(int timeout_ms)
{
	return now_mono_ns() + (uint64_t)timeout_or_default(timeout_ms) * 1000000u;
}

int client_reply_result(json_t *reply, json_t **ret_result, struct client_error *err)
{
	json_t *ret, *e, *class, *desc;

	if (!json_is_object(reply))
		return client_fail(err, -EBADMSG, "reply is not a JSON object");
	ret = json_object_get(reply, "return");
	e = json_object_get(reply, "error");
	if (ret && e)
		return client_fail(err, -EBADMSG, "reply has both \"return\" and \"error\"");
	if (ret) {
		if (ret_result)
			*ret_result = ret;
		return 0;
	}
	if (!e)
		return client_fail(err, -EBADMSG, "reply has neither \"return\" nor \"error\"");
	class = json_object_get(e, "class");
	desc = json_object_get(e, "desc");
	if (!json_is_string(class) || !json_is_string(desc))
		return client_fail(err, -EBADMSG,
				   "error reply without string \"class\" and \"desc\"");
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

int client_detach(struct client *c, int *ret_fd, char **ret_buf, size_t *ret_len)
{
	size_t n = c->in.tail - c->in.head;
	char *rest = NULL;

	/* the reader stops right after each reply: what it holds past the
	 * last one is the next protocol's */
	if (n) {
		rest = malloc(n);
		if (!rest)
			return -ENOMEM;
		memcpy(rest, c->in.buf + c->in.head, n);
	}
	*ret_fd = c->fd;
	*ret_buf = rest;
	*ret_len = n;
	c->fd = -1;
	client_close(c);
	return 0;
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
	return client_fail(err, r, "poll %s: %s", c->name, strerror(-r));
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
			return client_fail(err, r, "read from %s: out of memory", c->name);
		n = recv(c->fd, at, room, 0);
		if (n > 0) {
			client_reader_commit(&c->in, (size_t)n);
			return (int)n;
		}
		if (n == 0)
			return client_fail(err, -EPIPE, "%s closed the connection", c->name);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return client_fail(err, -errno, "read from %s: %m", c->name);
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
	if (c->out_cap - c->out_len < len &&
	    buf_reserve(&c->out, &c->out_cap, c->out_len + len, 1024, CLIENT_REQUEST_QUEUE_MAX) < 0)
		return -ENOMEM;
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
		return client_fail(err, r, "write to %s: timed out (the agent does not read)",
				   c->name);
	if (r < 0)
		return client_fail(err, r, "write to %s: %s", c->name, strerror(-r));
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
		return client_fail(err, r, "resync with %s: out of memory", c->name);
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
				return client_fail_in(err, -EPROTO, "resync with %s", c->name);
			if (r < 0) {
				marker = false;
				continue;
			}
		}
		if (seen > CLIENT_SYNC_DISCARD_MAX)
			return client_fail(
				err, -EPROTO,
				"resync with %s: no reply to guest-sync-delimited in %u bytes",
				c->name, CLIENT_SYNC_DISCARD_MAX);
		r = read_more(c, deadline, err);
		if (r == -ETIMEDOUT)
			return client_fail(
				err, r, "resync with %s: no reply to guest-sync-delimited in time",
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
		return client_fail(err, -ENOMEM, "connect: out of memory");
	client_addr_format(a, c->name, sizeof(c->name));
	client_reader_init(&c->in, o.max_reply);
	c->first_id = c->next_id = 1;
	c->fd = client_addr_connect(a, deadline, err);
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
		return client_fail(err, r,
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
		client_addr_close(c->fd, client_pending(c) > 0);
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
		return client_fail(err, -EINVAL, "%s: arguments must be a JSON object", name);
	req = json_pack("{s:s, s:I}", "execute", name, "id", (json_int_t)c->next_id);
	if (!req)
		return client_fail(err, -ENOMEM, "%s: out of memory", name);
	if (args && json_object_set(req, "arguments", args) < 0) {
		json_decref(req);
		return client_fail(err, -ENOMEM, "%s: out of memory", name);
	}
	s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!s)
		return client_fail(err, -ENOMEM, "%s: out of memory", name);
	r = out_append(c, s, strlen(s));
	free(s);
	if (r < 0)
		return client_fail(err, r, "%s: %s", name,
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
			return client_fail_in(err, r, "from %s", c->name);
		if (r == 0) {
			r = read_more(c, deadline, err);
			if (r == -ETIMEDOUT)
				return client_fail(err, r, "%s: no reply in time", c->name);
			if (r < 0)
				return r;
			continue;
		}
		r = client_reply_result(v, NULL, NULL);
		if (r == -EBADMSG) {
			client_reply_result(v, NULL, err);
			json_decref(v);
			return client_fail_in(err, -EBADMSG, "from %s", c->name);
		}
		id = json_object_get(v, "id");
		if (id) {
			if (!json_is_integer(id) || json_integer_value(id) <= 0) {
				json_decref(v);
				return client_fail(err, -EPROTO,
						   "from %s: a reply with an id we never sent",
						   c->name);
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
			return client_fail(err, r, "%s on %s: no reply within %.1f s", name,
					   c->name, timeout_or_default(timeout_ms) / 1000.0);
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
			return client_fail(err, -EPROTO, "%s on %s: a reply without an id", name,
					   c->name);
		}
		json_decref(reply);
		return client_fail(err, -EPROTO,
				   "%s on %s: a reply to id %" PRIu64 ", expected %" PRIu64, name,
				   c->name, got, id);
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
					      "guest-suspend-ram", "guest-suspend-hybrid", NULL };

	return str_in_list(name, silent);
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
		return client_fail(err, -ENOMEM, "out of memory");
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
			return client_fail(err, r,
					   "%s on %s: neither an answer nor a close within %.1f s",
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
			return client_fail(err, -EINVAL, "%s: arguments are not valid JSON: %s",
					   name, jerr.text);
		if (!json_is_object(args)) {
			json_decref(args);
			return client_fail(err, -EINVAL, "%s: arguments must be a JSON object",
					   name);
		}
	}
	r = client_call_json(c, name, args, timeout_ms, ret_result, err);
	json_decref(args);
	return r;
}
