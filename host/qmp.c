/* The QMP client (qmp.h): QEMU's monitor protocol, docs/interop/qmp-spec.txt
 * in QEMU's tree. The server speaks first ({"QMP": {...}}), the client
 * leaves negotiation with qmp_capabilities, then each {"execute", "arguments",
 * "id"} gets one {"return"} or {"error": {"class", "desc"}} with the same id,
 * with {"event"} messages in between at any time. Messages are JSON objects
 * on the stream, framed as the agent's replies are (client-reader.c).
 * Connecting is client-addr.c's. */
#include "qmp.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client-addr.h"
#include "client-reader.h"
#include "client.h"
#include "util.h"

/* Bytes asked of each read(2): QMP's messages are small. */
#define QMP_READ_CHUNK 4096

struct qmp {
	int fd;
	char path[108];
	struct client_reader in;
	uint64_t next_id;
};

static uint64_t deadline_after(int timeout_ms)
{
	return now_mono_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 1) * 1000000u;
}

/* The next message from QEMU, waiting until DEADLINE; a new reference. */
static int next_message(struct qmp *q, uint64_t deadline, json_t **ret, struct client_error *err)
{
	for (;;) {
		size_t room;
		ssize_t n;
		char *at;
		int r;

		r = client_reader_next(&q->in, ret, err);
		if (r == -EBADMSG || r == -EMSGSIZE)
			return client_fail_in(err, r, "QMP %s", q->path);
		if (r < 0)
			return client_fail(err, r, "QMP %s: out of memory", q->path);
		if (r > 0)
			return 0;
		r = client_reader_reserve(&q->in, QMP_READ_CHUNK, &at, &room);
		if (r < 0)
			return client_fail(err, r, "QMP %s: out of memory", q->path);
		n = recv(q->fd, at, room, 0);
		if (n > 0) {
			client_reader_commit(&q->in, (size_t)n);
			continue;
		}
		if (n == 0)
			return client_fail(err, -EPIPE, "QMP %s: QEMU closed the connection",
					   q->path);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return client_fail(err, -errno, "QMP %s: read: %m", q->path);
		r = fd_wait(q->fd, POLLIN, deadline);
		if (r == -ETIMEDOUT)
			return client_fail(err, r, "QMP %s: no answer in time", q->path);
		if (r < 0)
			return client_fail(err, r, "QMP %s: poll: %s", q->path, strerror(-r));
	}
}

/* Sends COMMAND and waits for the answer that carries its id. */
static int execute_until(struct qmp *q, const char *command, json_t *args, uint64_t deadline,
			 json_t **ret, struct client_error *err)
{
	json_t *req, *msg = NULL, *result;
	uint64_t id = q->next_id++;
	unsigned events = 0;
	char *text;
	int r;

	if (args && !json_is_object(args))
		return client_fail(err, -EINVAL, "QMP %s: arguments must be an object", command);
	req = json_pack("{s:s,s:I}", "execute", command, "id", (json_int_t)id);
	if (!req || (args && json_object_set(req, "arguments", args) < 0)) {
		json_decref(req);
		return client_fail(err, -ENOMEM, "QMP %s: out of memory", command);
	}
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!text)
		return client_fail(err, -ENOMEM, "QMP %s: out of memory", command);
	r = send_all_until(q->fd, text, strlen(text), deadline);
	if (r >= 0)
		r = send_all_until(q->fd, "\n", 1, deadline);
	free(text);
	if (r < 0)
		return client_fail(err, r, "QMP %s: send %s: %s", q->path, command, strerror(-r));
	for (;;) {
		json_t *got;

		r = next_message(q, deadline, &msg, err);
		if (r < 0)
			return r;
		if (json_object_get(msg, "event")) {
			json_decref(msg);
			if (++events > QMP_EVENTS_MAX)
				return client_fail(err, -EPROTO,
						   "QMP %s: over %d events and no answer to %s",
						   q->path, QMP_EVENTS_MAX, command);
			continue;
		}
		/* QEMU echoes the id; an answer without one is to a request
		 * it could not parse, which with one request out is ours */
		got = json_object_get(msg, "id");
		if (got && !(json_is_integer(got) && (uint64_t)json_integer_value(got) == id)) {
			json_decref(msg);
			return client_fail(err, -EPROTO, "QMP %s: an answer to another request",
					   q->path);
		}
		break;
	}
	r = client_reply_result(msg, &result, err);
	if (r == -EBADMSG)
		r = client_fail_in(err, r, "QMP %s", q->path);
	else if (r >= 0 && ret)
		*ret = json_incref(result);
	json_decref(msg);
	return r;
}

int qmp_open(const char *path, int timeout_ms, struct qmp **ret, struct client_error *err)
{
	uint64_t deadline = deadline_after(timeout_ms);
	struct client_addr a = { .kind = CLIENT_ADDR_UNIX };
	struct qmp *q;
	json_t *greeting = NULL;
	int r;

	if (strlen(path) >= sizeof(a.path))
		return client_fail(err, -ENAMETOOLONG, "QMP %s: path too long", path);
	snprintf(a.path, sizeof(a.path), "%s", path);
	q = calloc(1, sizeof(*q));
	if (!q)
		return client_fail(err, -ENOMEM, "QMP %s: out of memory", path);
	snprintf(q->path, sizeof(q->path), "%s", path);
	q->next_id = 1;
	client_reader_init(&q->in, QMP_MESSAGE_MAX);
	q->fd = client_addr_connect(&a, deadline, err);
	if (q->fd < 0) {
		r = client_fail_in(err, q->fd, "QMP");
		q->fd = -1;
		goto fail;
	}
	r = next_message(q, deadline, &greeting, err);
	if (r < 0)
		goto fail;
	if (!json_is_object(json_object_get(greeting, "QMP"))) {
		r = client_fail(err, -EPROTO, "QMP %s: no greeting: not a QMP server", path);
		goto fail;
	}
	r = execute_until(q, "qmp_capabilities", NULL, deadline, NULL, err);
	if (r < 0)
		goto fail;
	json_decref(greeting);
	*ret = q;
	return 0;
fail:
	json_decref(greeting);
	qmp_close(q);
	return r;
}

int qmp_execute(struct qmp *q, const char *command, json_t *args, int timeout_ms, json_t **ret,
		struct client_error *err)
{
	return execute_until(q, command, args, deadline_after(timeout_ms), ret, err);
}

void qmp_close(struct qmp *q)
{
	if (!q)
		return;
	if (q->fd >= 0)
		close(q->fd);
	client_reader_free(&q->in);
	free(q);
}
