/* Readiness of a starting service: the probes (file, socket, HTTP over a
 * unix socket, reading only the status line) on a doubling interval, and
 * the notification pipe. Every probe is non-blocking: a connect to a unix
 * socket either succeeds or fails at once, and an HTTP answer is read from
 * the loop with a time-out the next probe enforces. */
#include "service-ready.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static struct services *services_of(struct supervisor *s)
{
	return s->hook_data;
}

static void on_notify(struct supervisor *s, int fd, uint32_t events, void *data)
{
	struct service *sv = data;
	struct services *ss = services_of(s);
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)events;
	if (n > 0 && memchr(buf, '\n', (size_t)n)) {
		if (sv->state == SVC_STARTING)
			service_ready(ss, sv);
		else
			supervise_close(ss->sup, &sv->notify_fd);
	} else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		log_warn("%s: closed its notification fd %d without a ready line", sv->spec.name,
			 sv->spec.ready_fd);
		supervise_close(ss->sup, &sv->notify_fd);
	}
}

static void on_probe(struct supervisor *s, int fd, uint32_t events, void *data)
{
	struct service *sv = data;
	struct services *ss = services_of(s);
	size_t room = sizeof(sv->probe_buf) - 1 - sv->probe_len;
	ssize_t n = read(fd, sv->probe_buf + sv->probe_len, room);

	(void)events;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		sv->probe_len += (size_t)n;
	sv->probe_buf[sv->probe_len] = '\0';
	/* "HTTP/1.1 200 OK": the status line is all that is read */
	if (strchr(sv->probe_buf, '\r') || sv->probe_len == sizeof(sv->probe_buf) - 1 || n <= 0) {
		bool ok = strncmp(sv->probe_buf, "HTTP/1.", 7) == 0 &&
			  strncmp(sv->probe_buf + 8, " 200", 4) == 0;

		supervise_close(ss->sup, &sv->probe_fd);
		if (ok && sv->state == SVC_STARTING)
			service_ready(ss, sv);
	}
}

/* One probe; true when it says ready now (HTTP answers later, on_probe). */
static bool probe(struct services *ss, struct service *sv)
{
	const struct service_spec *sp = &sv->spec;
	char req[128];
	int fd;

	switch (sp->ready) {
	case READY_FILE:
		return access(sp->ready_path, F_OK) == 0;
	case READY_SOCKET:
		fd = unix_connect(sp->ready_path);
		if (fd < 0)
			return false;
		close(fd);
		return true;
	case READY_HTTP:
		if (sv->probe_fd >= 0) /* in flight past its time: give up on it */
			supervise_close(ss->sup, &sv->probe_fd);
		fd = unix_connect(sp->ready_path);
		if (fd < 0)
			return false;
		snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n",
			 sp->ready_http_path);
		/* a fresh socket's buffer takes a line this short at once */
		if (write(fd, req, strlen(req)) != (ssize_t)strlen(req) ||
		    supervise_watch(ss->sup, fd, on_probe, sv) < 0) {
			close(fd);
			return false;
		}
		sv->probe_fd = fd;
		sv->probe_len = 0;
		return false;
	default:
		return false;
	}
}

void service_ready_begin(struct services *ss, struct service *sv, uint64_t now)
{
	(void)ss;
	sv->check_ms = SERVICE_PROBE_FIRST_MS;
	switch (sv->spec.ready) {
	case READY_FILE:
	case READY_SOCKET:
	case READY_HTTP:
		sv->next_check_ns = now + SERVICE_PROBE_FIRST_MS * NSEC_PER_MSEC;
		break;
	default:
		sv->next_check_ns = 0;
		break;
	}
}

bool service_ready_poll(struct services *ss, struct service *sv, uint64_t now)
{
	if (!sv->next_check_ns || now < sv->next_check_ns)
		return false;
	if (probe(ss, sv))
		return true;
	sv->next_check_ns =
		now + (sv->probe_fd >= 0 ? SERVICE_PROBE_HTTP_MS : sv->check_ms) * NSEC_PER_MSEC;
	if (sv->check_ms < SERVICE_PROBE_MAX_MS)
		sv->check_ms *= 2;
	return false;
}

void service_ready_watch_notify(struct services *ss, struct service *sv, int fd)
{
	sv->notify_fd = fd;
	if (fd >= 0 && supervise_watch(ss->sup, fd, on_notify, sv) < 0)
		supervise_close(ss->sup, &sv->notify_fd);
}

void service_ready_end(struct services *ss, struct service *sv)
{
	supervise_close(ss->sup, &sv->probe_fd);
	supervise_close(ss->sup, &sv->notify_fd);
}
