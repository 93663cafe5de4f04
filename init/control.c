/* init's control socket. Replies are made whole (jansson) and written
 * without blocking: what the socket does not take now waits for EPOLLOUT,
 * and the connection's next request waits for it. */
#include "control.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boot-log.h"
#include "cgroup.h"
#include "log.h"
#include "svclog.h"
#include "utf8.h"
#include "util.h"
#include "walltime.h"

struct conn {
	int fd; /* -1: free */
	char in[CONTROL_LINE_MAX + 1];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	uint64_t last_ns;
	bool closing; /* after the reply is out */
};

static struct {
	struct supervisor *sup;
	struct services *ss;
	int listen_fd;
	int sweep_fd; /* a timerfd, armed while a connection is open */
	struct conn conns[CONTROL_CONNS_MAX];
} ctl = { .listen_fd = -1, .sweep_fd = -1 };

static void conn_close(struct conn *c);

static void on_conn(struct supervisor *s, int fd, uint32_t events, void *data);

static bool ctl_full(void)
{
	for (int i = 0; i < CONTROL_CONNS_MAX; i++)
		if (ctl.conns[i].fd < 0)
			return false;
	return true;
}

/* Closes the connections idle for CONTROL_IDLE_S; with REAP, also serves to
 * their end those whose peer has hung up (POLLHUP) but whose end the loop
 * has not read yet: a burst of short clients must not hold the places a
 * live one needs, and what such a client sent (a restart, a shutdown) is
 * still done, through the reader's own path. True when any is left open. */
static bool sweep(uint64_t now, bool reap)
{
	bool open = false;

	for (int i = 0; i < CONTROL_CONNS_MAX; i++) {
		struct conn *c = &ctl.conns[i];
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

		if (c->fd >= 0 && now - c->last_ns > CONTROL_IDLE_S * (uint64_t)NSEC_PER_SEC) {
			log_debug("control: closing a connection idle for %d s", CONTROL_IDLE_S);
			conn_close(c);
		} else if (reap && c->fd >= 0 && poll(&pfd, 1, 0) > 0 &&
			   (pfd.revents & (POLLHUP | POLLERR))) {
			/* bounded: each turn reads up to a line's worth or the end */
			for (int turn = 0; turn < 4 && c->fd >= 0; turn++)
				on_conn(ctl.sup, c->fd, EPOLLIN, c);
			if (c->fd >= 0)
				conn_close(c);
		}
		open |= c->fd >= 0;
	}
	return open;
}

static void arm_sweep(bool on)
{
	struct itimerspec its = { 0 };

	if (ctl.sweep_fd < 0)
		return;
	if (on)
		its.it_value.tv_sec = its.it_interval.tv_sec = CONTROL_IDLE_S / 4;
	timerfd_settime(ctl.sweep_fd, 0, &its, NULL);
}

static void on_sweep(struct supervisor *s, int fd, uint32_t events, void *data)
{
	uint64_t ticks;

	(void)s;
	(void)events;
	(void)data;
	if (read(fd, &ticks, sizeof(ticks)) < 0) {
		/* nothing to read: a spurious wakeup */
	}
	if (!sweep(now_mono_ns(), false))
		arm_sweep(false);
}

static void conn_close(struct conn *c)
{
	supervise_unwatch(ctl.sup, c->fd);
	close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static json_t *error_reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *error_reply(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	utf8_vformat(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:o}", "error", utf8_json_string(msg));
}

static json_t *names(const char (*list)[SERVICE_NAME_MAX], size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, utf8_json_string(list[i]));
	return a;
}

static json_t *or_null(int64_t v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *service_json(const struct services *ss, const struct service *sv)
{
	struct cgroup_stats st = { -1, -1, -1 };
	json_t *exit = json_null(), *o;

	if (ss->cgroups && sv->leaf[0])
		cgroup_stats(sv->cgroup, &st);
	if (sv->has_exit)
		exit = WIFEXITED(sv->exit_status)
			       ? json_pack("{s:i}", "status", WEXITSTATUS(sv->exit_status))
			       : json_pack("{s:i}", "signal", WTERMSIG(sv->exit_status));
	/* a service file's text need not be UTF-8 */
	o = json_pack("{s:o, s:o, s:s, s:o, s:I, s:i, s:o, s:b, s:o}", "name",
		      utf8_json_string(sv->spec.name), "description",
		      utf8_json_string(sv->spec.description), "state",
		      service_state_name(sv->state), "pid",
		      sv->pid > 0 ? json_integer(sv->pid) : json_null(), "since",
		      (json_int_t)sv->since, "restarts", sv->restarts, "last_exit", exit, "ready",
		      sv->state == SVC_RUNNING, "ready_ms",
		      sv->ever_ready ? json_integer((json_int_t)sv->ready_ms) : json_null());
	json_object_set_new(o, "cgroup",
			    ss->cgroups && sv->leaf[0]
				    ? json_string(sv->cgroup + strlen(ss->cgroot))
				    : json_null());
	json_object_set_new(o, "memory_bytes", or_null(st.memory_bytes));
	json_object_set_new(o, "cpu_usec", or_null(st.cpu_usec));
	json_object_set_new(o, "oom_kills", or_null(st.oom_kills));
	json_object_set_new(o, "requires", names(sv->spec.requires, sv->spec.n_requires));
	json_object_set_new(o, "after", names(sv->spec.after, sv->spec.n_after));
	return o;
}

static json_t *op_services(void)
{
	json_t *a = json_array();

	for (size_t i = 0; i < ctl.ss->n; i++)
		json_array_append_new(a, service_json(ctl.ss, &ctl.ss->svc[i]));
	return json_pack("{s:o}", "services", a);
}

static const char *name_arg(json_t *req, json_t **err)
{
	json_t *v = json_object_get(req, "name");

	if (!json_is_string(v)) {
		*err = error_reply("\"name\" must be a service name (a string)");
		return NULL;
	}
	if (!services_find(ctl.ss, json_string_value(v))) {
		*err = error_reply("no service named \"%.*s\"",
				   utf8_prefix(json_string_value(v), 64), json_string_value(v));
		return NULL;
	}
	return json_string_value(v);
}

static json_t *op_restart(json_t *req)
{
	json_t *err = NULL;
	const char *name = name_arg(req, &err);
	int r;

	if (!name)
		return err;
	r = services_restart(ctl.ss, name);
	if (r == -EPERM)
		return error_reply("service \"%s\" is disabled", name);
	if (r < 0)
		return error_reply("restart %s: %s", name, strerror(-r));
	return json_pack("{s:b}", "ok", true);
}

static void add_line(const struct svclog_line *line, void *user)
{
	json_array_append_new(user, json_pack("{s:f, s:s, s:o}", "time",
					      (double)line->time_us / USEC_PER_SEC, "stream",
					      line->stream == SVCLOG_STDOUT ? "stdout" : "stderr",
					      "text", utf8_json_stringn(line->text, line->len)));
}

static json_t *op_logs(json_t *req)
{
	json_t *err = NULL, *lines, *v;
	const char *name = name_arg(req, &err);
	const struct service *sv;
	json_int_t max = 100;
	double since = 0;

	if (!name)
		return err;
	sv = services_find(ctl.ss, name);
	v = json_object_get(req, "lines");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 10000)
			return error_reply("\"lines\" must be an integer from 1 to 10000");
		max = json_integer_value(v);
	}
	v = json_object_get(req, "since");
	if (v) {
		/* checked before it is turned into microseconds */
		if (!json_is_number(v) || !(json_number_value(v) >= 0) ||
		    json_number_value(v) > WALLTIME_QUERY_MAX_S)
			return error_reply("\"since\" must be seconds since the epoch, from 0 to "
					   "%lld (9999-12-31)",
					   WALLTIME_QUERY_MAX_S);
		since = json_number_value(v);
	}
	lines = json_array();
	if (sv->log)
		svclog_each(sv->log, (size_t)max, (int64_t)(since * USEC_PER_SEC), add_line, lines);
	return json_pack("{s:o, s:I}", "lines", lines, "dropped",
			 (json_int_t)(sv->log ? svclog_dropped(sv->log) : 0));
}

static json_t *op_events(json_t *req)
{
	json_t *v = json_object_get(req, "after"), *a;
	const struct services *ss = ctl.ss;
	uint64_t after = 0, first;

	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return error_reply("\"after\" must be a sequence number (an integer)");
		after = (uint64_t)json_integer_value(v);
	}
	/* made once the request is known good: an error reply leaves nothing */
	a = json_array();
	first = ss->next_seq > SERVICE_EVENTS_MAX ? ss->next_seq - SERVICE_EVENTS_MAX + 1 : 1;
	if (after + 1 > first)
		first = after + 1;
	for (uint64_t seq = first; seq <= ss->next_seq; seq++) {
		const struct service_event *e = &ss->events[(seq - 1) % SERVICE_EVENTS_MAX];

		json_array_append_new(a, json_pack("{s:I, s:f, s:o, s:s, s:o}", "seq",
						   (json_int_t)e->seq, "time",
						   (double)e->time_us / USEC_PER_SEC, "service",
						   utf8_json_string(e->service), "type", e->type,
						   "detail", utf8_json_string(e->detail)));
	}
	return json_pack("{s:o, s:I}", "events", a, "next", (json_int_t)ss->next_seq);
}

static json_t *ns_or_null(uint64_t ns)
{
	return ns ? json_integer((json_int_t)ns) : json_null();
}

/* The boot's timeline (boot-log.h): at most BOOT_LOG_MAX entries of a
 * hundred bytes, far under what the agent reads (INITCTL_REPLY_MAX). */
static json_t *op_boot(void)
{
	const struct boot_log *bl = boot_log_get();
	json_t *a = json_array();

	for (size_t i = 0; i < bl->n; i++) {
		const struct boot_log_entry *e = &bl->e[i];

		json_array_append_new(a, json_pack("{s:o, s:s, s:I, s:o, s:o, s:i}", "name",
						   utf8_json_string(e->name), "kind",
						   boot_log_kind_name(e->kind), "start_ns",
						   (json_int_t)e->start_ns, "ready_ns",
						   ns_or_null(e->ready_ns), "end_ns",
						   ns_or_null(e->end_ns), "runs", (int)e->runs));
	}
	return json_pack("{s:o, s:I, s:i}", "boot", a, "now_ns", (json_int_t)now_boot_ns(),
			 "dropped", (int)bl->dropped);
}

static json_t *op_shutdown(json_t *req)
{
	const char *kind = json_string_value(json_object_get(req, "kind"));

	if (!kind)
		kind = "poweroff";
	if (strcmp(kind, "poweroff") == 0)
		ctl.sup->requested = SHUTDOWN_POWEROFF;
	else if (strcmp(kind, "reboot") == 0)
		ctl.sup->requested = SHUTDOWN_REBOOT;
	else if (strcmp(kind, "halt") == 0)
		ctl.sup->requested = SHUTDOWN_HALT;
	else
		return error_reply("\"kind\" must be poweroff, reboot or halt, not \"%.*s\"",
				   utf8_prefix(kind, 32), kind);
	log_info("control: %s requested", kind);
	return json_pack("{s:b}", "ok", true);
}

json_t *control_handle(const char *line)
{
	json_error_t jerr;
	json_t *req = json_loads(line, JSON_REJECT_DUPLICATES, &jerr), *reply;
	const char *op;

	if (!json_is_object(req)) {
		json_decref(req);
		return req ? error_reply("a request is a JSON object")
			   : error_reply("not JSON: %s (column %d)", jerr.text, jerr.column);
	}
	op = json_string_value(json_object_get(req, "op"));
	if (!op)
		reply = error_reply("\"op\" is missing: services, restart, logs, events, boot "
				    "or shutdown");
	else if (strcmp(op, "services") == 0)
		reply = op_services();
	else if (strcmp(op, "restart") == 0)
		reply = op_restart(req);
	else if (strcmp(op, "logs") == 0)
		reply = op_logs(req);
	else if (strcmp(op, "events") == 0)
		reply = op_events(req);
	else if (strcmp(op, "boot") == 0)
		reply = op_boot();
	else if (strcmp(op, "shutdown") == 0)
		reply = op_shutdown(req);
	else
		reply = error_reply("unknown op \"%.*s\": services, restart, logs, events, boot "
				    "or shutdown",
				    utf8_prefix(op, 32), op);
	json_decref(req);
	return reply;
}

static void flush_out(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				supervise_watch_set(ctl.sup, c->fd, EPOLLIN | EPOLLOUT);
				return;
			}
			conn_close(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	if (c->closing) {
		conn_close(c);
		return;
	}
	supervise_watch_set(ctl.sup, c->fd, EPOLLIN);
}

static void reply(struct conn *c, json_t *r)
{
	/* a reply that could not be built (out of memory) is still answered */
	static const char fallback[] = "{\"error\":\"init could not build its reply: out of "
				       "memory\"}";
	char *text = r ? json_dumps(r, JSON_COMPACT) : NULL;
	size_t len;

	json_decref(r);
	if (!text)
		text = strdup(fallback);
	if (!text) {
		conn_close(c);
		return;
	}
	len = strlen(text);
	c->out = realloc(text, len + 2);
	if (!c->out) {
		free(text);
		conn_close(c);
		return;
	}
	c->out[len] = '\n';
	c->out_len = len + 1;
	c->out_off = 0;
	flush_out(c);
}

/* Answers the complete lines in C's buffer, one at a time: the next waits
 * until the reply before it has gone out. */
static void serve_lines(struct conn *c)
{
	while (c->fd >= 0 && !c->out) {
		char *nl = memchr(c->in, '\n', c->in_len);
		size_t used;

		if (!nl) {
			if (c->in_len >= CONTROL_LINE_MAX) {
				c->closing = true;
				reply(c, error_reply("a request is one line of at most %d bytes",
						     CONTROL_LINE_MAX));
			}
			return;
		}
		*nl = '\0';
		used = (size_t)(nl - c->in) + 1;
		reply(c, control_handle(c->in));
		if (c->fd < 0)
			return;
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
	}
}

static void on_conn(struct supervisor *s, int fd, uint32_t events, void *data)
{
	struct conn *c = data;
	ssize_t n;

	(void)s;
	(void)fd;
	c->last_ns = now_mono_ns();
	if (c->out) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			flush_out(c);
		if (c->fd >= 0 && !c->out)
			serve_lines(c);
		return;
	}
	n = recv(c->fd, c->in + c->in_len, CONTROL_LINE_MAX - c->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->in_len += (size_t)n;
	serve_lines(c);
}

static void on_listen(struct supervisor *s, int fd, uint32_t events, void *data)
{
	uint64_t now = now_mono_ns();
	struct conn *free_conn = NULL;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int cfd;

	(void)events;
	(void)data;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0) {
		log_warn("control: a connection from uid %d refused: root only",
			 len == sizeof(cred) ? (int)cred.uid : -1);
		close(cfd);
		return;
	}
	/* the places of peers that have gone, only when one is needed */
	sweep(now, ctl_full());
	for (int i = 0; i < CONTROL_CONNS_MAX && !free_conn; i++)
		if (ctl.conns[i].fd < 0)
			free_conn = &ctl.conns[i];
	if (!free_conn || supervise_watch(s, cfd, on_conn, free_conn) < 0) {
		static const char busy[] = "{\"error\":\"too many connections\"}\n";

		if (send(cfd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* it is closed either way */
		}
		close(cfd);
		return;
	}
	free_conn->fd = cfd;
	free_conn->last_ns = now;
	arm_sweep(true);
}

int control_start(struct supervisor *sup, struct services *ss, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	char *slash;
	int fd;

	ctl.sup = sup;
	ctl.ss = ss;
	for (int i = 0; i < CONTROL_CONNS_MAX; i++)
		ctl.conns[i].fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return log_error_errno(-ENAMETOOLONG, "control: %s", path);
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir_p(dir, 0755);
	}
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_error_errno(-errno, "control: socket");
	/* 0600 from the start: no moment in which another user could connect */
	{
		mode_t old = umask(0177);
		int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));

		umask(old);
		if (r < 0 || listen(fd, CONTROL_CONNS_MAX) < 0) {
			r = -errno;
			close(fd);
			return log_error_errno(r, "control: listen on %s", path);
		}
	}
	if (supervise_watch(sup, fd, on_listen, NULL) < 0) {
		close(fd);
		return log_error_errno(-ENOSPC, "control: watch %s", path);
	}
	ctl.listen_fd = fd;
	ctl.sweep_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ctl.sweep_fd >= 0 && supervise_watch(sup, ctl.sweep_fd, on_sweep, NULL) < 0) {
		close(ctl.sweep_fd);
		ctl.sweep_fd = -1;
	}
	log_debug("control: listening on %s", path);
	return 0;
}
