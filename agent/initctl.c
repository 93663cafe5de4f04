/* init's control socket, client side: connect, one request line, one reply
 * line, close. The exchange blocks its caller, so the commands make it on
 * the agent's workers (worker.c), never in the loop; whoever calls it, the
 * socket is non-blocking and every step (connect, write, read) polls
 * against one deadline, so the whole call takes INITCTL_TIMEOUT_MS at most
 * whatever init does. init answers from memory in microseconds; the bound
 * is for a hung init. It keeps no state: safe from any thread. */
#include "initctl.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "buf.h"
#include "util.h"

#define CONNECT_RETRY_MS 10

static int failf(char *why, size_t size, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int failf(char *why, size_t size, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return r;
}

/* A unix stream connect never returns EINPROGRESS; EAGAIN means init's
 * listen backlog is full (it takes 8 connections at a time): retried
 * until the deadline. */
static int connect_bounded(int fd, const struct sockaddr_un *sa, uint64_t deadline)
{
	for (;;) {
		struct timespec ts = { 0, CONNECT_RETRY_MS * NSEC_PER_MSEC };

		if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		if (ms_until(deadline) <= CONNECT_RETRY_MS)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
	}
}

/* Reads up to and without the first newline: *RET_LEN bytes in *RET
 * (NUL-terminated, malloc'd). -EMSGSIZE past INITCTL_REPLY_MAX, -EPIPE when
 * init closed before the newline. Anything after the newline is ignored:
 * one request was sent, one reply is owed. */
static int recv_line(int fd, uint64_t deadline, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *nl;

	for (;;) {
		ssize_t n;
		int r;

		if (len + 1 >= cap) {
			r = buf_reserve(&buf, &cap, len + 2, 4096, INITCTL_REPLY_MAX + 2);
			if (r < 0) {
				free(buf);
				return r == -E2BIG ? -EMSGSIZE : r;
			}
		}
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n > 0) {
			nl = memchr(buf + len, '\n', (size_t)n);
			len += (size_t)n;
			if (nl) {
				len = (size_t)(nl - buf);
				break;
			}
			if (len > INITCTL_REPLY_MAX) {
				free(buf);
				return -EMSGSIZE;
			}
			continue;
		}
		if (n == 0) {
			free(buf);
			return -EPIPE;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			r = -errno;
			free(buf);
			return r;
		}
		r = fd_wait(fd, POLLIN, deadline);
		if (r < 0) {
			free(buf);
			return r;
		}
	}
	if (len > INITCTL_REPLY_MAX) {
		free(buf);
		return -EMSGSIZE;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

int initctl_call(const char *path, json_t *request, int timeout_ms, json_t **ret_reply, char *why,
		 size_t why_size)
{
	static const char who[] = "porthole-init's control socket";
	uint64_t deadline =
		now_mono_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * NSEC_PER_MSEC;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *line = NULL, *reply_text = NULL;
	size_t len, reply_len = 0;
	json_error_t jerr;
	json_t *reply, *error;
	int r;

	if (!path || !*path)
		return failf(why, why_size, -ENOENT, "%s is not configured (agent.init_socket)",
			     who);
	if (strlen(path) >= sizeof(sa.sun_path))
		return failf(why, why_size, -ENAMETOOLONG, "%s %s: path too long", who, path);
	memcpy(sa.sun_path, path, strlen(path));
	len = json_dumpb(request, NULL, 0, JSON_COMPACT);
	/* the line is the JSON and its newline */
	if (len == 0 || len + 1 > INITCTL_REQUEST_MAX)
		return failf(why, why_size, -E2BIG,
			     "the request to %s is %zu bytes, more than init takes (%d)", who,
			     len + 1, INITCTL_REQUEST_MAX);
	line = malloc(len + 1);
	if (!line)
		return failf(why, why_size, -ENOMEM, "out of memory");
	json_dumpb(request, line, len, JSON_COMPACT);
	line[len] = '\n';

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return failf(why, why_size, -errno, "%s: socket: %s", who, strerror(errno));
	r = connect_bounded(fd, &sa, deadline);
	if (r == -ETIMEDOUT)
		return failf(why, why_size, r, "%s %s: busy, no connection within %d ms", who, path,
			     timeout_ms);
	if (r < 0)
		return failf(why, why_size, r, "%s %s: %s", who, path, strerror(-r));
	r = send_all_until(fd, line, len + 1, deadline);
	if (r == -ETIMEDOUT)
		return failf(why, why_size, r, "%s %s: the request was not taken within %d ms", who,
			     path, timeout_ms);
	if (r < 0)
		return failf(why, why_size, r, "%s %s: send: %s", who, path, strerror(-r));
	r = recv_line(fd, deadline, &reply_text, &reply_len);
	if (r == -ETIMEDOUT)
		return failf(why, why_size, r, "%s %s: no answer within %d ms", who, path,
			     timeout_ms);
	if (r == -EMSGSIZE)
		return failf(why, why_size, r, "%s %s: the reply is longer than %d bytes", who,
			     path, INITCTL_REPLY_MAX);
	if (r == -EPIPE)
		return failf(why, why_size, r,
			     "%s %s: init closed the connection without answering", who, path);
	if (r < 0)
		return failf(why, why_size, r, "%s %s: receive: %s", who, path, strerror(-r));
	reply = json_loadb(reply_text, reply_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!reply)
		return failf(why, why_size, -EPROTO, "%s %s: the reply is not JSON: %s", who, path,
			     jerr.text);
	if (!json_is_object(reply)) {
		json_decref(reply);
		return failf(why, why_size, -EPROTO, "%s %s: the reply is not a JSON object", who,
			     path);
	}
	error = json_object_get(reply, "error");
	if (error) {
		r = json_is_string(error)
			    ? failf(why, why_size, -EREMOTEIO, "%s", json_string_value(error))
			    : failf(why, why_size, -EPROTO,
				    "%s %s: the reply's \"error\" is not a string", who, path);
		json_decref(reply);
		return r;
	}
	*ret_reply = reply;
	return 0;
}
